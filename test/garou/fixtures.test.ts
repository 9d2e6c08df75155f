/**
 * Garou fixtures (fixtures/garou/*.json) against the reference core (in
 * process) and faulty ones, the fixture frame objects, and the trace corpus
 * (fixtures/garou/traces/*.jsonl) validated offline with its expected
 * verdicts, rules and indices (`wirecheck validate --expect`).
 */
import t from 'tap';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../harness/cli.js';
import { meets } from '../../harness/cli/replay.js';
import type { RunResult } from '../../harness/engine/types.js';
import { defaultFixtureDir, fixtureToCase, loadFixtures, type LoadedFixture } from '../../harness/fixtures/index.js';
import { validateTraceFile } from '../../harness/traces/validate.js';
import { decodeFrames, encodeFixtureFrame } from '../../suites/garou/fixture-frames.js';
import { suite } from '../../suites/garou/index.js';
import { runSuiteInProcess } from '../_support/in-process.js';

const loaded: LoadedFixture[] = await loadFixtures(defaultFixtureDir('garou'), suite);
const runFixtures = (fault?: string): Promise<RunResult> =>
  runSuiteInProcess({ suite: { ...suite, cases: loaded.map((l) => fixtureToCase(l, suite)) }, profile: suite.fastProfile, ...(fault ? { fault } : {}) });

t.test('fixture frames: encode and decode', async (t) => {
  t.equal(Buffer.from(encodeFixtureFrame({ name: 'Ping', payload: { nonce: 1 } })).toString('hex'), '050000000b' + Buffer.from('{"nonce":1}').toString('hex'));
  t.equal(Buffer.from(encodeFixtureFrame({ streamType: 'acks' })).toString('hex'), '02', 'a stream-type byte alone');
  t.equal(Buffer.from(encodeFixtureFrame({ type: 0x2f, raw: 'x', len: 9 })).toString('hex'), '2f0000000978', 'any type code, a lying length');
  t.same(decodeFrames(Uint8Array.from([0x10, 3, ...encodeFixtureFrame({ name: 'RoomClose', payload: { room_id: 3, seq: 1, reason: 'r' } }), 0x30, 0])), [
    { frame: { stream: 'shard', shard: 3 }, bytes: 2 },
    { frame: { name: 'RoomClose', payload: { room_id: 3, seq: 1, reason: 'r' } }, bytes: 5 + 34 },
  ], 'a shard header, a whole frame; the partial one is left out');
  t.throws(() => encodeFixtureFrame('Ping'), TypeError);
  t.throws(() => encodeFixtureFrame({ payload: {} }), TypeError);
});

t.test('every fixture gets its expected verdict from the conforming core', async (t) => {
  t.ok(loaded.length >= 12, `${loaded.length} fixtures`);
  const run = await runFixtures();
  for (const l of loaded) {
    const r = run.cases.find((c) => c.id === l.fixture.id);
    t.ok(r && meets(r, l.fixture.expect), `${l.fixture.id}: ${r?.verdict ?? 'missing'}${r?.message ? ` (${r.message})` : ''}`);
  }
});

t.test('fixtures catch faulty cores', async (t) => {
  const expectations: Record<string, Record<string, string>> = {
    'ignore-stream-type': { 'garou/fixture/unknown-stream-type': 'GAROU-3.3', 'garou/fixture/wrong-frame-on-acks': 'GAROU-3.3' },
    'ignore-frame-limit': { 'garou/fixture/too-large': 'GAROU-2.3' },
    'no-handshake-timeout': { 'garou/fixture/handshake-timeout': 'GAROU-4.5' },
    'no-pong': { 'garou/fixture/ping-pong': 'GAROU-12.1' },
    'wrong-close-code': { 'garou/fixture/frame-before-auth': 'GAROU-13.2', 'garou/fixture/truncated-then-fin': 'GAROU-13.2' },
  };
  for (const [fault, want] of Object.entries(expectations)) {
    const run = await runFixtures(fault);
    for (const [id, rule] of Object.entries(want)) {
      const r = run.cases.find((c) => c.id === id);
      t.ok(r && (r.verdict === 'fail' || r.verdict === 'timeout') && r.rule === rule, `${fault}: ${id} fails with ${rule} (${r?.verdict ?? 'missing'} ${r?.rule ?? ''})`);
    }
  }
});

t.test('the trace corpus validates offline with the expected verdicts', async (t) => {
  const corpus = fileURLToPath(new URL('../../fixtures/garou/traces/', import.meta.url));
  const files = (await readdir(corpus)).filter((f) => f.endsWith('.jsonl')).sort();
  t.ok(files.filter((f) => f.startsWith('bad-')).length >= 6 && files.filter((f) => f.startsWith('good-')).length >= 4, `${files.length} traces`);
  for (const f of files) {
    const r = await validateTraceFile(path.join(corpus, f), { expect: true });
    const want = r.header.expect!;
    t.equal(r.verdict, want.verdict, `${f}: verdict`);
    if (want.rule) t.equal(r.violation?.rule, want.rule, `${f}: rule`);
    if (want.index !== undefined) t.equal(r.violation?.index, want.index, `${f}: index`);
  }
  const quiet = { out: () => undefined, err: () => undefined };
  t.equal(await main(['validate', '--expect', ...files.map((f) => path.join(corpus, f))], quiet), 0, 'wirecheck validate --expect: exit 0');
});
