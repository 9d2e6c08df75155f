/**
 * Theta's trace corpus (fixtures/theta/traces/*.jsonl, written by
 * test/theta/make-corpus.ts from in-process runs) validates offline with the
 * verdict, rule and first-violation index each header expects, through the
 * library and through `wirecheck validate --expect`.
 */
import t from 'tap';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateTraceFile } from '../../harness/traces/validate.js';
import { cli } from '../_support/cli.js';

const corpus = fileURLToPath(new URL('../../fixtures/theta/traces/', import.meta.url));
const files = (await readdir(corpus)).filter((f) => f.endsWith('.jsonl')).sort();

t.test('every trace validates as its header expects', async (t) => {
  t.ok(files.filter((f) => f.startsWith('bad-')).length >= 10 && files.filter((f) => f.startsWith('ok-')).length >= 8, `${files.length} traces`);
  for (const f of files) {
    const r = await validateTraceFile(path.join(corpus, f), { expect: true });
    t.ok(r.expectation?.ok, `${f}: ${r.verdict} ${r.violation?.rule ?? ''} — ${r.expectation?.message ?? ''}`);
    t.equal(r.verdict === 'pass', f.startsWith('ok-'), `${f}: ok- traces pass, bad- traces do not`);
  }
});

t.test('wirecheck validate --expect agrees (exit 0)', async (t) => {
  const r = await cli('validate', '--expect', ...files.map((f) => path.join(corpus, f)));
  t.equal(r.code, 0, (r.out + r.err).slice(0, 2000));
});
