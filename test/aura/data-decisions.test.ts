/**
 * Values decide data choices (SPEC AURA-16.5, runtime/data.ts
 * `DataDecisions`): in TwoPhaseCommit the Participant's `vote` selects the
 * arm, so a `CommitRequest` after `{"vote":"Abort"}` is a message the
 * choreography does not allow there. The target role machine must see the
 * break (and reset, AURA-16.4); the wire monitor must judge it as the
 * harness's deviation (a reset owed, not a `CommitAck`), and a target that
 * answers the other arm as a violation; the fuzz campaign against the
 * conforming reference roles finds nothing, for choreographies with data
 * decisions (regression: AURA-16.6 "CommitAck; saw nothing" at the first
 * program of every seed).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { createMemoryTarget } from '../../harness/drivers/memory.js';
import { VirtualClock } from '../../harness/engine/clock.js';
import type { TraceEvent } from '../../harness/engine/trace.js';
import { runCampaign } from '../../harness/fuzz/campaign.js';
import { reference } from '../../reference-server/aura/index.js';
import { suite } from '../../suites/aura/index.js';
import { checkAura, type AuraCheck } from '../../suites/aura/language.js';
import { defaultProfile, fastProfile, type AuraProfile } from '../../suites/aura/profile.js';
import { DataDecisions } from '../../suites/aura/runtime/data.js';
import { randomPolicy, scriptedPolicy } from '../../suites/aura/runtime/policy.js';
import { AuraSession } from '../../suites/aura/runtime/session.js';
import { encodeAuraFrame, AURA_PROTOCOL_VIOLATION, type AuraFrame } from '../../suites/aura/runtime/wire.js';
import { AuraWireMonitor } from '../../suites/aura/wire-monitor.js';

const FIX = join(import.meta.dirname, '../../fixtures/aura');
const load = (rel: string): AuraCheck => checkAura(readFileSync(join(FIX, rel), 'utf8'), rel);
const TPC = 'seed/TwoPhaseCommit.aura';

t.test('DataDecisions: after vote Abort the Commit arm contradicts the value; a new value re-decides in a loop', async (t) => {
  const d = new DataDecisions(load(TPC).global);
  d.note({ from: 'Coordinator', to: 'Participant', label: 'PrepareRequest', payload: { transaction_id: 1 } });
  d.note({ from: 'Participant', to: 'Coordinator', label: 'PrepareResponse', payload: { vote: 'Abort' } });
  t.match(d.check({ from: 'Coordinator', to: 'Participant', label: 'CommitRequest' }), { field: 'vote', branch: 'Vote::Abort', expected: ['Coordinator→Participant:AbortRequest'] });
  t.equal(d.check({ from: 'Coordinator', to: 'Participant', label: 'AbortRequest' }), undefined, 'the decided arm is allowed');
  d.note({ from: 'Coordinator', to: 'Participant', label: 'AbortRequest', payload: {} });
  t.equal(d.check({ from: 'Participant', to: 'Coordinator', label: 'AbortAck' }), undefined);

  const s = new DataDecisions(load('seed/DataStreaming.aura').global);
  const chunk = (last: boolean) => ({ from: 'Producer', to: 'Consumer', label: 'DataChunk', payload: { chunk: { is_last: last } } });
  s.note(chunk(false));
  t.equal(s.check(chunk(false)), undefined, 'not the last chunk: another one may come');
  s.note(chunk(true));
  t.ok(s.check(chunk(false)), 'after the last chunk, no other chunk');
});

t.test('role runtime: the Participant that voted Abort breaks the session on CommitRequest (AURA-16.4), not on the arm it voted', async (t) => {
  const c = load(TPC);
  for (const [vote, next, breaks] of [['Vote::Abort', 'CommitRequest', true], ['Vote::Abort', 'AbortRequest', false], ['Vote::Commit', 'CommitRequest', false], ['Vote::Commit', 'AbortRequest', true]] as const) {
    const s = new AuraSession(c, ['Participant'], { policy: scriptedPolicy({ Participant: [vote] }, randomPolicy(1)) });
    t.equal(s.receive({ from: 'Coordinator', to: 'Participant', label: 'PrepareRequest', payload: { transaction_id: 7 } }, 0), undefined);
    const out = s.poll(0);
    t.same(out.map((m) => [m.label, m.payload['vote']]), [['PrepareResponse', vote.split('::')[1]]]);
    const b = s.receive({ from: 'Coordinator', to: 'Participant', label: next, payload: { transaction_id: 7 } }, 0);
    if (breaks) t.match(b, { reason: /Participant received Coordinator→Participant:/ }, `${vote}, then ${next}: a break`);
    else {
      t.equal(b, undefined, `${vote}, then ${next}: kept`);
      t.same(s.poll(0).map((m) => m.label), [next === 'CommitRequest' ? 'CommitAck' : 'AbortAck']);
    }
  }
});

/** Trace events of one session on conn 0 / stream 0: harness frames c2s, target frames s2c, 1 ms apart. */
function events(frames: readonly ['c2s' | 's2c', AuraFrame][]): TraceEvent[] {
  return frames.map(([dir, f], i) => ({ type: 'data', t: i * 1000, conn: 0, stream: 0, dir, hex: Buffer.from(encodeAuraFrame(f)).toString('hex') }) as TraceEvent);
}

t.test('wire monitor: CommitRequest after vote Abort is the harness\u2019s deviation (a reset owed); a target answering the other arm breaks AURA-16.5', async (t) => {
  const profile: AuraProfile = { ...fastProfile, choreography: `fixtures/aura/${TPC}`, roles: 'Participant' };
  const start = (target: string): AuraFrame => ({ start: 'TwoPhaseCommit', session: 's', roles: { Coordinator: target === 'Coordinator' ? 'you' : 'peer', Participant: target === 'Participant' ? 'you' : 'peer' }, params: {} });
  const run = (m: AuraWireMonitor, evs: TraceEvent[]) => evs.flatMap((e, i) => m.feed(e, i));

  const m1 = new AuraWireMonitor(profile);
  const evs = events([
    ['c2s', start('Participant')],
    ['c2s', { from: 'Coordinator', to: 'Participant', label: 'PrepareRequest', payload: { transaction_id: 1 } }],
    ['s2c', { from: 'Participant', to: 'Coordinator', label: 'PrepareResponse', payload: { vote: 'Abort' } }],
    ['c2s', { from: 'Coordinator', to: 'Participant', label: 'CommitRequest', payload: { transaction_id: 1 } }],
  ]);
  t.same(run(m1, evs), []);
  t.match(m1.describe(), /harness deviated .*CommitRequest.*Vote::Abort.*reset owed/, m1.describe());
  t.notOk(m1.settled(), 'the target owes the reset');
  const late = m1.advance(10_000_000);
  t.match(late, [{ rule: 'AURA-16.4', expected: /RESET_STREAM 0x1/ }], 'no reset: AURA-16.4, not a CommitAck owed');
  const m2 = new AuraWireMonitor(profile);
  t.same(run(m2, [...evs, { type: 'stream_reset', t: 5000, conn: 0, stream: 0, dir: 's2c', kind: 'reset', code: AURA_PROTOCOL_VIOLATION } as TraceEvent]), []);
  t.ok(m2.settled(), 'the reset is what was owed');

  // CommitRequest sent early (before the vote; the Participant may take it later), then the vote says Abort.
  const m4 = new AuraWireMonitor(profile);
  const early = events([
    ['c2s', start('Participant')],
    ['c2s', { from: 'Coordinator', to: 'Participant', label: 'PrepareRequest', payload: { transaction_id: 1 } }],
    ['c2s', { from: 'Coordinator', to: 'Participant', label: 'CommitRequest', payload: { transaction_id: 1 } }],
    ['s2c', { from: 'Participant', to: 'Coordinator', label: 'PrepareResponse', payload: { vote: 'Abort' } }],
  ]);
  t.same(run(m4, [...early, { type: 'stream_reset', t: 5000, conn: 0, stream: 0, dir: 's2c', kind: 'reset', code: AURA_PROTOCOL_VIOLATION } as TraceEvent]), [], 'the early CommitRequest became a deviation once the vote said Abort: the reset is right');
  const s = new AuraSession(load(TPC), ['Participant'], { policy: scriptedPolicy({ Participant: ['Vote::Abort'] }, randomPolicy(1)) });
  t.equal(s.receive({ from: 'Coordinator', to: 'Participant', label: 'PrepareRequest', payload: { transaction_id: 1 } }, 0), undefined);
  t.equal(s.receive({ from: 'Coordinator', to: 'Participant', label: 'CommitRequest', payload: { transaction_id: 1 } }, 0), undefined, 'early: queued');
  s.poll(0);
  t.match(s.breakage, { reason: /Participant holds a message it can never take; expected Coordinator\?AbortRequest/ }, 'after voting Abort the queued CommitRequest can never be taken: the session breaks');

  const m3 = new AuraWireMonitor({ ...profile, roles: 'Coordinator' });
  const v = run(m3, events([
    ['c2s', start('Coordinator')],
    ['s2c', { from: 'Coordinator', to: 'Participant', label: 'PrepareRequest', payload: { transaction_id: 1 } }],
    ['c2s', { from: 'Participant', to: 'Coordinator', label: 'PrepareResponse', payload: { vote: 'Commit' } }],
    ['s2c', { from: 'Coordinator', to: 'Participant', label: 'AbortRequest', payload: { transaction_id: 1 } }],
  ]));
  t.match(v, [{ rule: 'AURA-16.5', seen: /AbortRequest/, expected: /Vote::Commit.*CommitRequest/ }]);
});

/** A fuzz campaign in process (virtual clock) against the reference roles, optionally with a fault. */
async function fuzz(profile: AuraProfile, seed: number, runs: number, fault?: string) {
  const clock = new VirtualClock();
  const m = createMemoryTarget({ core: reference.createCore({ profile, ...(fault ? { fault } : {}) }), clock, transport: 'quic' });
  return runCampaign({ suite, profile, target: { url: 'memory:aura', driver: m.driver, connect: m.connect, clock }, seed, runs });
}

t.test('fuzz in process: the conforming reference roles give no finding on choreographies with data decisions; a fault is still found', async (t) => {
  for (const [file, roles] of [[TPC, 'Participant'], [TPC, 'Coordinator'], ['seed/DataStreaming.aura', 'Consumer']] as const) {
    const profile: AuraProfile = { ...defaultProfile, choreography: `fixtures/aura/${file}`, roles };
    for (const seed of [1, 2]) {
      const r = await fuzz(profile, seed, 40);
      t.same(r.findings.map((f) => `${f.rule}: ${f.message}`), [], `${file} (target ${roles}), seed ${seed}`);
      // A program's writes after the target rightly reset the session are skipped (harness/fixtures/case.ts), not harness errors.
      t.equal(r.stats.errors, 0, `${file} (target ${roles}), seed ${seed}: no case ends in a harness error`);
    }
  }
  for (const fault of ['wrong-label', 'skip-message']) {
    const bad = await fuzz({ ...defaultProfile, choreography: `fixtures/aura/${TPC}`, roles: 'Participant' }, 1, 40, fault);
    t.ok(!bad.firstProbeOk || bad.findings.length > 0, `fault ${fault} is found (${bad.stopped ?? bad.findings.map((f) => f.rule).join(', ')})`);
  }
});
