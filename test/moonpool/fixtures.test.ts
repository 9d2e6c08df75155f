/**
 * Moonpool fixtures (fixtures/moonpool/*.json) against the reference server
 * and faulty ones, and the trace corpus (fixtures/moonpool/traces/*.jsonl)
 * validated offline with its expected verdicts, rules and indices.
 */
import t from 'tap';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../harness/cli.js';
import { meets } from '../../harness/cli/replay.js';
import { tcpDriver } from '../../harness/drivers/tcp.js';
import { runSuite } from '../../harness/engine/runner.js';
import type { RunResult } from '../../harness/engine/types.js';
import { defaultFixtureDir, fixtureToCase, loadFixtures, type LoadedFixture } from '../../harness/fixtures/index.js';
import { validateTraceFile } from '../../harness/traces/validate.js';
import { startMoonpoolServer } from '../../reference-server/moonpool/index.js';
import { decodeFrames, encodeFrame } from '../../suites/moonpool/frames.js';
import { suite } from '../../suites/moonpool/index.js';
import { runSuiteInProcess } from '../_support/in-process.js';
import { testProfile as profile } from './_run.js';

const loaded: LoadedFixture[] = await loadFixtures(defaultFixtureDir('moonpool'), suite);

async function runFixtures(fault?: string): Promise<RunResult> {
  const server = await startMoonpoolServer({ profile, ...(fault ? { fault } : {}) });
  try {
    return await runSuite({
      suite: { ...suite, cases: loaded.map((l) => fixtureToCase(l, suite)) },
      driver: tcpDriver,
      targetUrl: `tcp://127.0.0.1:${server.port}`,
      connect: { host: server.host, port: server.port, connectTimeoutMs: 3000 },
      profile,
    });
  } finally {
    await server.stop();
  }
}

t.test('frames: encode and decode', async (t) => {
  t.equal(Buffer.from(encodeFrame({ id: 1, payload: 'PING' })).toString('hex'), '010000000000000004000000' + '50494e47');
  t.equal(Buffer.from(encodeFrame({ id: '18446744073709551615', length: 9 })).toString('hex'), 'ffffffffffffffff09000000', 'a header alone, with a length field of our choice');
  t.same(decodeFrames(new Uint8Array([...encodeFrame({ id: 7, payload: 'PONG' }), ...encodeFrame({ id: 8, payloadHex: '00ff' }), 1, 2])), [
    { frame: { id: 7, payload: 'PONG' }, bytes: 16 },
    { frame: { id: 8, payloadHex: '00ff' }, bytes: 14 },
  ], 'whole envelopes; the trailing partial one is left out');
  t.throws(() => encodeFrame({ id: -1 }), RangeError);
  t.throws(() => encodeFrame('PING'), TypeError);
});

t.test('every fixture gets its expected verdict from the conforming server', async (t) => {
  t.ok(loaded.length >= 8, `${loaded.length} fixtures`);
  const run = await runFixtures();
  for (const l of loaded) {
    const r = run.cases.find((c) => c.id === l.fixture.id);
    t.ok(r && meets(r, l.fixture.expect), `${l.fixture.id}: ${r?.verdict ?? 'missing'}${r?.message ? ` (${r.message})` : ''}`);
  }
});

t.test('every fixture derives its verdict from the profile: each reading of the reference core passes with the matching profile (in process)', async (t) => {
  const suiteOfFixtures = { ...suite, cases: loaded.map((l) => fixtureToCase(l, suite)) };
  for (const reading of [{ otherPayloads: 'reply' as const }, { concurrentConnections: false }, { idleTimeoutMs: profile.stallMs + profile.toleranceMs + 500 }]) {
    const run = await runSuiteInProcess({ suite: suiteOfFixtures, profile: { ...profile, ...reading } });
    const wrong = loaded.filter((l) => {
      const r = run.cases.find((c) => c.id === l.fixture.id);
      return !r || !meets(r, l.fixture.expect);
    });
    t.same(wrong.map((l) => l.fixture.id), [], `${JSON.stringify(reading)}: every fixture gets its expected verdict`);
  }
});

t.test('fixtures catch faulty servers', async (t) => {
  const expectations: Record<string, Record<string, string>> = {
    'accept-oversized': { 'moonpool/fixture/oversized-closes': 'MOONPOOL-5.1' },
    'wrong-pong-payload': { 'moonpool/fixture/ping': 'MOONPOOL-4.1', 'moonpool/fixture/max-id': 'MOONPOOL-4.1' },
    'close-stalled-connection': { 'moonpool/fixture/idle-kept-open': 'MOONPOOL-6.4' },
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
  const corpus = fileURLToPath(new URL('../../fixtures/moonpool/traces/', import.meta.url));
  const files = (await readdir(corpus)).filter((f) => f.endsWith('.jsonl')).sort();
  t.ok(files.filter((f) => f.startsWith('bad-')).length >= 10 && files.filter((f) => f.startsWith('ok-')).length >= 6, `${files.length} traces`);
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
