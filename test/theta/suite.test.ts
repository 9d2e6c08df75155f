/**
 * The Theta suite against the reference server: under every reading of
 * each open choice (SPEC § 10) in process; against a server of the other
 * reading, the cases of that choice fail under its rule; and a sample of
 * cases over QUIC on loopback (a real server, certificate verified), the
 * conforming server passing and a faulty one caught.
 */
import t from 'tap';
import { suite } from '../../suites/theta/index.js';
import { fastProfile, type ThetaProfile } from '../../suites/theta/profile.js';
import { outcomes } from '../_support/in-process.js';
import { checkFaultRun } from '../_support/faults.js';
import { runAgainstReference, runInMemory, runInProcess, socketProfile } from './_run.js';

/**
 * Each non-default reading; the cases that depend on it; the servers whose
 * reading differs (judged by `judge` against a server of `server`), and the
 * rules those cases fail under.
 */
const readings: readonly {
  readonly over: Partial<ThetaProfile>;
  readonly cases: readonly string[];
  readonly mismatches: readonly { readonly judge: Partial<ThetaProfile>; readonly server: Partial<ThetaProfile>; readonly rules: readonly string[] }[];
}[] = [
  {
    over: { nonceRule: 'non-empty' }, cases: ['theta/handshake/nonce-23-bytes', 'theta/handshake/nonce-25-bytes'],
    mismatches: [{ judge: { nonceRule: 'non-empty' }, server: {}, rules: ['THETA-8.1'] }, { judge: {}, server: { nonceRule: 'non-empty' }, rules: ['THETA-3.5'] }],
  },
  {
    over: { sessionError: 'never' }, cases: ['theta/handshake/version-plus-one', 'theta/handshake/key-0-bytes'],
    mismatches: [{ judge: { sessionError: 'never' }, server: {}, rules: ['THETA-3.9'] }, { judge: { sessionError: 'required' }, server: { sessionError: 'never' }, rules: ['THETA-3.9'] }],
  },
  { over: { sessionError: 'required' }, cases: ['theta/handshake/version-plus-one'], mismatches: [] },
  {
    over: { secondHello: 'ignored' }, cases: ['theta/handshake/second-hello'],
    mismatches: [{ judge: { secondHello: 'ignored' }, server: {}, rules: ['THETA-8.1'] }, { judge: {}, server: { secondHello: 'ignored' }, rules: ['THETA-3.10'] }],
  },
  {
    over: { duplicateCapabilities: 'violation' }, cases: ['theta/ack/capabilities-duplicates'],
    mismatches: [{ judge: { duplicateCapabilities: 'violation' }, server: {}, rules: ['THETA-4.5'] }, { judge: {}, server: { duplicateCapabilities: 'violation' }, rules: ['THETA-8.1'] }],
  },
  {
    over: { emptyAsset: 'violation' }, cases: ['theta/assets/no-frames'],
    mismatches: [{ judge: { emptyAsset: 'violation' }, server: {}, rules: ['THETA-7.2'] }, { judge: {}, server: { emptyAsset: 'violation' }, rules: ['THETA-8.1'] }],
  },
  {
    over: { controlFin: 'ignored' }, cases: ['theta/closing/control-fin'],
    mismatches: [{ judge: { controlFin: 'ignored' }, server: {}, rules: ['THETA-8.1'] }, { judge: {}, server: { controlFin: 'ignored' }, rules: ['THETA-8.2'] }],
  },
];

for (const r of readings) {
  const name = JSON.stringify(r.over);
  t.test(`reading ${name}: every case passes against a server of that reading; its cases fail against a server that reads it otherwise`, async (t) => {
    const run = await runInProcess({ profile: { ...fastProfile, ...r.over } });
    t.same(run.cases.filter((c) => c.verdict !== 'pass').map((c) => `${c.id}: ${c.verdict} ${c.rule ?? ''} ${c.message ?? ''}`), [], 'all pass');
    for (const m of r.mismatches) {
      const o = outcomes(await runInMemory({ profile: { ...fastProfile, ...m.judge }, coreProfile: { ...fastProfile, ...m.server }, cases: r.cases.join(',') }));
      for (const id of r.cases) {
        const got = o[id] ?? 'not run';
        t.ok(/^(fail|timeout) /.test(got) && m.rules.some((rule) => got.endsWith(` ${rule}`)), `${id} judged by ${JSON.stringify(m.judge)} against a server of ${JSON.stringify(m.server)}: ${got} (want ${m.rules.join(' or ')})`);
      }
    }
  });
}

/**
 * The sample's profile: the socket profile with the seed's 5 s heartbeat
 * timeout (THETA-5.6) and a 2 s answer deadline (the MUST bound of the
 * asset hash, THETA-7.1, and, with the interval, of the server's heartbeats,
 * THETA-5.1). During `theta/assets/2-mib` (12-16 s on a loaded 2-core
 * machine) heartbeats share the connection and its flow control with 2 MiB
 * of asset, and harness and server share this event loop: the server went
 * 1.5 s without a client heartbeat and ended the session with 0x6
 * HEARTBEAT_TIMEOUT mid-asset (the case an error), and its own heartbeats
 * came up to 660 ms late against a MUST bound of 1 s.
 */
const sampleProfile: ThetaProfile = { ...socketProfile, heartbeatTimeoutMs: 5_000, answerDeadlineMs: 2_000 };

/** A sample over QUIC: one case of each section, the 2 MiB asset and the timeouts. */
const sample = [
  'theta/streams/fourth-bidi-stream',
  'theta/frames/malformed-string-without-nul',
  'theta/frames/over-limit-replication',
  'theta/handshake/accepted',
  'theta/handshake/key-31-bytes',
  'theta/handshake/timeout',
  'theta/ack/capabilities-unsorted',
  'theta/ack/concurrent-sessions',
  'theta/heartbeat/rate',
  'theta/heartbeat/future-echo',
  'theta/heartbeat/timeout',
  'theta/replication/pipelined',
  'theta/assets/odd-frame-sizes',
  'theta/assets/2-mib',
  'theta/closing/control-fin',
];

if (process.env['THETA_SKIP_QUIC'] === undefined) t.test('over QUIC: the reference server passes a sample of every section (non-strict allowed: SHOULD windows are wall time)', async (t) => {
  t.ok(sample.every((id) => suite.cases.some((c) => c.id === id)), 'the sample names cases of the suite');
  const run = await runAgainstReference({ cases: sample.join(','), profile: sampleProfile });
  t.equal(run.cases.length, sample.length, 'every sampled case ran');
  // Each bad case with its verdict, rule and why, so that a failure on a loaded CI machine says what happened.
  const bad = run.cases.filter((c) => c.verdict !== 'pass' && c.verdict !== 'non-strict').map((c) => `${c.id}: ${c.verdict} ${c.rule ?? ''} ${c.message ?? ''}`);
  t.same(bad, [], 'no failure, timeout, error or skip');
  t.ok(run.probes.every((p) => p.ok), 'every probe passed');
});

if (process.env['THETA_SKIP_QUIC'] === undefined) t.test('over QUIC: a faulty server is caught (reorder-replication)', async (t) => {
  const run = await runAgainstReference({ fault: 'reorder-replication', cases: 'theta/replication/*,theta/handshake/accepted' });
  checkFaultRun(t, run, { targets: ['theta/replication/one-at-a-time', 'theta/replication/pipelined', 'theta/replication/split-bytes'], rules: ['THETA-6.1'] }, { nonStrictAllowed: true });
});
