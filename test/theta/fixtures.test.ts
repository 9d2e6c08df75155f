/**
 * Theta fixtures (fixtures/theta/*.json): their frames encode as the codec
 * says; each gets its expected verdict from the conforming reference core
 * (in process, virtual time) and from the reference server over QUIC; the
 * faulty cores fail the fixtures that cover their rule.
 */
import t from 'tap';
import { meets } from '../../harness/cli/replay.js';
import { defaultFixtureDir, fixtureToCase, loadFixtures, type LoadedFixture } from '../../harness/fixtures/index.js';
import { decodeControl } from '../../suites/theta/messages.js';
import { decodeFixtureFrames, encodeFixtureFrame } from '../../suites/theta/frames.js';
import { suite } from '../../suites/theta/index.js';
import { fastProfile } from '../../suites/theta/profile.js';
import { schemaHash } from '../../suites/theta/codec.js';
import { runInMemory } from './_run.js';

const loaded: LoadedFixture[] = await loadFixtures(defaultFixtureDir('theta'), suite);
const fixtureSuite = { ...suite, cases: loaded.map((l) => fixtureToCase(l, suite)) };

t.test('fixture frames: a hello with the defaults, a heartbeat, raw data; decoded server frames', async (t) => {
  const hello = encodeFixtureFrame({ hello: { capabilities: [2] } });
  const d = decodeControl(hello.subarray(4));
  t.ok(d.ok && d.msg.type === 'SessionHello' && d.msg.protocolVersion === 1 && d.msg.schemaHash === schemaHash('theta-components-v1') && d.msg.clientNonce.length === 24 && d.msg.publicKey.length === 32, 'hello defaults: version 1, the manifest hash, 24-byte nonce, 32-byte key');
  t.equal(new DataView(hello.buffer).getUint32(0, false), hello.length - 4, 'length-prefixed');
  t.equal(Buffer.from(encodeFixtureFrame({ data: '00ff' })).toString('hex'), '0000000200ff');
  const hb = encodeFixtureFrame({ heartbeat: { seq: 7, sentAtUs: '18446744073709551615' } });
  const h = decodeControl(hb.subarray(4));
  t.ok(h.ok && h.msg.type === 'Heartbeat' && h.msg.seq === 7 && h.msg.sentAtUs === 2n ** 64n - 1n, 'heartbeat with a u64 time');
  const frames = decodeFixtureFrames(new Uint8Array([...hb, ...encodeFixtureFrame({ data: 'abcd' }), 0, 0]));
  t.same(frames.map((f) => [f.bytes, f.frame.message?.['type'] ?? f.frame.data]), [[hb.length, 'Heartbeat'], [6, 'abcd']], 'whole frames, control messages decoded; the trailing partial one left out');
  t.throws(() => encodeFixtureFrame('x'), TypeError);
});

t.test('every fixture gets its expected verdict from the conforming core (in process)', async (t) => {
  t.ok(loaded.length >= 10, `${loaded.length} fixtures`);
  const run = await runInMemory({ suite: fixtureSuite, profile: fastProfile });
  for (const l of loaded) {
    const r = run.cases.find((c) => c.id === l.fixture.id);
    t.ok(r && meets(r, l.fixture.expect), `${l.fixture.id}: ${r?.verdict ?? 'missing'}${r?.message ? ` (${r.message})` : ''}`);
  }
});

t.test('fixtures catch faulty cores', async (t) => {
  const expectations: Record<string, Record<string, string>> = {
    'accept-version-mismatch': { 'theta/fixture/version-mismatch': 'THETA-3.2' },
    'accept-31-byte-key': { 'theta/fixture/bad-key': 'THETA-3.4' },
    'no-heartbeat': { 'theta/fixture/heartbeats': 'THETA-5.1' },
    'never-time-out': { 'theta/fixture/handshake-timeout': 'THETA-3.7', 'theta/fixture/heartbeat-timeout': 'THETA-5.6' },
    'hash-all-but-last': { 'theta/fixture/asset-hash': 'THETA-7.1' },
    'reorder-replication': { 'theta/fixture/replication-echo': 'THETA-6.1' },
    'accept-data-before-hello': { 'theta/fixture/replication-before-hello': 'THETA-3.8' },
    'wrong-close-code': { 'theta/fixture/malformed-buffer': 'THETA-2.3' },
  };
  for (const [fault, want] of Object.entries(expectations)) {
    const run = await runInMemory({ suite: fixtureSuite, profile: fastProfile, fault, cases: Object.keys(want).join(',') });
    for (const [id, rule] of Object.entries(want)) {
      const r = run.cases.find((c) => c.id === id);
      t.ok(r && (r.verdict === 'fail' || r.verdict === 'timeout') && r.rule === rule, `${fault}: ${id} fails with ${rule} (${r?.verdict ?? 'missing'} ${r?.rule ?? ''} ${r?.message ?? ''})`);
    }
  }
});
