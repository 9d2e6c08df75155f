/**
 * readTrace's one reused read buffer (harness/traces/file.ts): lines across
 * read boundaries, a line longer than the buffer (it grows), CRLF endings,
 * blank lines and a last line with no newline are read as JSON.parse reads them.
 */
import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readTrace } from '../../harness/traces/file.js';

const dir = await mkdtemp(path.join(tmpdir(), 'wirecheck-readbuf-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

t.test('events across read boundaries and a line longer than the buffer', async (t) => {
  const header = { type: 'header', format: 'wirecheck-trace', version: 2, protocol: 'proton' };
  const events: object[] = [];
  for (let i = 0; i < 30_000; i++) events.push({ type: 'data', t: i, conn: 0, stream: 0, dir: i % 2 ? 's2c' : 'c2s', hex: '00'.repeat(i % 7) });
  events.splice(12_345, 0, { type: 'note', t: 12_344, text: 'x'.repeat(700_000) }, { type: 'note', t: 12_344, text: 'h\u00f6st \u2014 "quoted"' });
  const lines = [header, ...events].map((o, i) => JSON.stringify(o) + (i % 3 === 0 ? '\r\n' : i % 101 === 0 ? '\n\n' : '\n'));
  const file = path.join(dir, 'a.jsonl');
  await writeFile(file, lines.join('').replace(/\r?\n+$/, '')); // the last line has no newline
  const got: object[] = [];
  const n = await readTrace(file, () => undefined, (ev) => void got.push(ev));
  t.equal(n, events.length, 'every event');
  t.strictSame(got, events, 'each as JSON.parse reads it');
});

t.test('reading stops when onEvent returns false', async (t) => {
  const file = path.join(dir, 'b.jsonl');
  await writeFile(file, `${JSON.stringify({ type: 'header', format: 'wirecheck-trace', version: 2, protocol: 'proton' })}\n${'{"type":"note","t":1,"text":"a"}\n'.repeat(100)}`);
  let seen = 0;
  t.equal(await readTrace(file, () => undefined, () => ++seen < 10), 10);
  t.equal(seen, 10);
});
