/**
 * The Aura role runtime (suites/aura/runtime/, SPEC §16): the wire codec,
 * payload values, role machines run back to back in memory on every seed
 * choreography and every split of its roles, timeouts, crossing messages,
 * early and impossible messages; and two properties on random well-formed
 * protocols: the runtime's runs are traces of the global protocol, and the
 * parallel composition of the projections allows exactly the global
 * protocol's traces (bounded).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { buildGlobalAutomaton, type GlobalAction } from '../../suites/aura/cfsm.js';
import { checkAura, type AuraCheck } from '../../suites/aura/language.js';
import { createGlobalMonitor, createRoleMonitor, runMonitor } from '../../suites/aura/monitor.js';
import { functionPolicy, randomPolicy, scriptedPolicy } from '../../suites/aura/runtime/policy.js';
import { RoleMachine } from '../../suites/aura/runtime/role.js';
import { simulate, type RoleLogEntry } from '../../suites/aura/runtime/simulate.js';
import { payloadProblem, sampleValue, typeAllows, wrongValue } from '../../suites/aura/runtime/values.js';
import { AuraFrameDecoder, AuraFrameError, encodeAuraFrame } from '../../suites/aura/runtime/wire.js';
import { wellFormed } from './_random.js';

const FIX = join(import.meta.dirname, '../../fixtures/aura');
const load = (rel: string): AuraCheck => checkAura(readFileSync(join(FIX, rel), 'utf8'), rel);
/** The seed choreographies, the corrected version where the seed is ill-formed (SPEC §14). */
const PLAYABLE = ['TwoPhaseCommit', 'SecureDataTransfer.fixed', 'DistributedConsensus', 'AdaptiveSync.fixed', 'RobustRequest.fixed', 'CompensatingTransaction', 'DistributedAuction', 'DataStreaming', 'HierarchicalConsensus.fixed'];

t.test('wire: frames round-trip; malformed frames are errors naming the problem (AURA-16.1)', async (t) => {
  const d = new AuraFrameDecoder();
  const start = { start: 'P', session: 's1', roles: { A: 'you' as const, B: 'peer' as const }, params: { n: 2 } };
  const msg = { from: 'B', to: 'A', label: 'Hi', payload: { x: 1 } };
  const bytes = Buffer.concat([encodeAuraFrame(start), encodeAuraFrame(msg)]);
  t.same(d.push(bytes.subarray(0, 7)), [], 'a partial frame waits');
  t.same(d.push(bytes.subarray(7)), [start, msg]);
  t.throws(() => new AuraFrameDecoder().push(new Uint8Array([0, 0, 0, 2, 0x7b, 0x7b])), AuraFrameError, 'not JSON');
  t.throws(() => new AuraFrameDecoder(true, 4).push(new Uint8Array([0, 0, 0, 9])), /exceeds the limit 4/);
  t.throws(() => new AuraFrameDecoder().push(encodeAuraFrame({ start: 'P', roles: { A: 'me' } })), /roles.A must be "you" or "peer"/);
  t.throws(() => new AuraFrameDecoder(false).push(encodeAuraFrame({ from: 'A', label: 'x' })), /field "to" must be a string/);
});

t.test('values: types allow what they should, samples fit, wrong values do not (AURA-16.5)', async (t) => {
  for (const ty of ['u64', 'i32', 'f64', 'String', 'bool', 'Vec<u8>', 'Option<String>', '(u8, bool)', '[u16]', 'Vote', undefined]) {
    for (let n = 0; n < 3; n++) t.ok(typeAllows(ty, sampleValue(ty, n)), `sample ${n} of ${ty}`);
    const w = wrongValue(ty);
    if (w !== undefined) t.notOk(typeAllows(ty, w), `wrong value of ${ty}`);
  }
  t.notOk(typeAllows('u64', -1));
  t.notOk(typeAllows('u64', 1.5));
  t.equal(payloadProblem([{ name: 'a', type: 'u64', pos: { line: 1, col: 1 } }], {}), 'field "a" is missing');
  t.match(payloadProblem([{ name: 'a', type: 'u64', pos: { line: 1, col: 1 } }], { a: 'x' }), /not a u64/);
});

/**
 * Judges a run: each role's own log (sends and takes in its order) against
 * its projection's CFSM, and whether every role ended in a final state.
 * (The projection property below shows the CFSMs compose to the global protocol.)
 */
function judge(c: AuraCheck, logs: ReadonlyMap<string, readonly RoleLogEntry[]>): { violation?: string; complete: boolean } {
  let complete = true;
  for (const [role, log] of logs) {
    const m = createRoleMonitor(c.projections.get(role)!.cfsm);
    for (const e of log) {
      if (e.dir === 'drop') continue;
      const v = m.feed(e.m);
      if (v) return { violation: `${role}: ${e.dir}${e.m.from}->${e.m.to}:${e.m.label} not allowed (allowed ${v.allowed.join(', ')})`, complete: false };
    }
    complete &&= m.complete();
  }
  return { complete };
}

t.test('every seed choreography runs to completion for every split of its roles, and every role keeps to its projection', async (t) => {
  for (const name of PLAYABLE) {
    const c = load(`seed/${name}.aura`);
    t.ok(c.wellFormed, `${name} well-formed`);
    // Every single role on the target's side, and every single role on the harness's side.
    const splits = [...c.roles.map((r) => c.roles.filter((x) => x !== r)), ...c.roles.map((r) => [r])];
    for (const harness of splits) {
      for (const seed of [1, 2, 3]) {
        const r = simulate(c, { harnessRoles: harness, harnessPolicy: randomPolicy(seed), targetPolicy: randomPolicy(seed * 31), params: { max_rounds: 3 }, timeoutMs: 5 });
        const mon = judge(c, r.logs);
        if (r.broken || mon.violation || !mon.complete || !r.harnessDone || !r.targetDone) {
          t.fail(`${name} harness=${harness.join(',')} seed ${seed}: ${r.broken ?? mon.violation ?? 'incomplete'}`);
        }
      }
    }
    t.pass(`${name}: ${splits.length} splits × 3 seeds`);
  }
});

t.test('data decides: the vote a Participant sends selects the branch both sides take (SPEC §6, runtime/data.ts)', async (t) => {
  const c = load('seed/TwoPhaseCommit.aura');
  for (const vote of ['Vote::Commit', 'Vote::Abort']) {
    const r = simulate(c, { harnessRoles: ['Coordinator'], harnessPolicy: randomPolicy(5), targetPolicy: scriptedPolicy({ Participant: [vote] }) });
    const labels = r.wire.map((m) => m.label);
    t.same(r.wire[1]!.payload['vote'], vote.split('::')[1], `${vote}: the value on the wire`);
    t.same(labels.slice(2), vote.endsWith('Commit') ? ['CommitRequest', 'CommitAck'] : ['AbortRequest', 'AbortAck'], `${vote}: the Coordinator follows the value`);
  }
});

t.test('a `for` over a parameter runs as many rounds as the session params say', async (t) => {
  const c = load('seed/DistributedAuction.aura');
  for (const rounds of [1, 3]) {
    const r = simulate(c, { harnessRoles: ['Bidder1', 'Bidder2', 'Bidder3'], harnessPolicy: randomPolicy(1), targetPolicy: randomPolicy(2), params: { max_rounds: rounds + 1 } });
    t.equal(r.wire.filter((m) => m.label === 'Bid').length, 3 * rounds, `1..${rounds + 1}: ${rounds} round(s) of three bids`);
    t.notOk(r.broken);
  }
});

t.test('timeouts: the observer gives up after the duration and the handler runs; a crossing reply is dropped (AURA-9.1, 9.2)', async (t) => {
  const c = load('seed/RobustRequest.fixed.aura');
  // The Server stays silent: the Client waits 40 ms, then sends $fail.
  const silent = simulate(c, { harnessRoles: ['Client'], harnessPolicy: randomPolicy(1), targetPolicy: scriptedPolicy({ Server: ['silent'] }), timeoutMs: 40 });
  t.same(silent.wire.map((m) => m.label), ['Request', '$fail']);
  t.equal(silent.wire[1]!.t, 40_000, '$fail at the timeout (µs)');
  t.ok(silent.harnessDone && silent.targetDone);
  // The Client gives up at once while the Server answers: both messages cross, each side drops the other's.
  const crossing = simulate(c, { harnessRoles: ['Client'], harnessPolicy: scriptedPolicy({ Client: ['give-up'] }), targetPolicy: scriptedPolicy({ Server: ['send'] }), timeoutMs: 40 });
  t.same(crossing.wire.map((m) => m.label).sort(), ['$fail', 'Request', 'Response']);
  t.notOk(crossing.broken, 'no side sees a break');
  t.ok(crossing.harnessDone && crossing.targetDone);
});

t.test('compensation: a $fail at a failure point runs the compensation in reverse order (AURA-10.2, 10.4)', async (t) => {
  const c = load('seed/CompensatingTransaction.aura');
  const r = simulate(c, { harnessRoles: ['ServiceA', 'ServiceB'], harnessPolicy: scriptedPolicy({ ServiceB: ['$fail'] }), targetPolicy: randomPolicy(3) });
  t.same(r.wire.map((m) => `${m.from}->${m.to}:${m.label}`), [
    'Coordinator->ServiceA:ReserveResource', 'ServiceA->Coordinator:ReservationConfirmed', 'Coordinator->ServiceB:AllocateResource',
    'ServiceB->Coordinator:$fail', 'Coordinator->ServiceB:ReleaseAllocation', 'Coordinator->ServiceA:ReleaseReservation',
  ]);
});

t.test('queues: an early message waits for its turn; a message that can never be taken breaks the role', async (t) => {
  const c = checkAura('protocol Q { roles: A, B, C; A -> B: X; C -> B: Y; B -> A: Z; }', 'q.aura');
  const b = new RoleMachine('B', c.projections.get('B')!.local, randomPolicy(1), { cfsm: c.projections.get('B')!.cfsm });
  t.same(b.receive({ from: 'C', to: 'B', label: 'Y', payload: {} }, 0), { ok: true }, 'Y from C before X from A: queued');
  t.same(b.poll(0), [], 'nothing to send yet');
  t.same(b.receive({ from: 'A', to: 'B', label: 'X', payload: {} }, 0), { ok: true });
  t.same(b.poll(0).map((m) => m.label), ['Z'], 'both taken, Z sent');
  t.ok(b.done);
  const b2 = new RoleMachine('B', c.projections.get('B')!.local, randomPolicy(1), { cfsm: c.projections.get('B')!.cfsm });
  const bad = b2.receive({ from: 'A', to: 'B', label: 'Z', payload: {} }, 0);
  t.equal(bad.ok, false, 'A can never send Z to B');
  t.match(bad, { expected: ['A?X'] });
});

t.test('policies: a user function decides; a scripted choice by label, index or tag', async (t) => {
  const c = load('runtime/Negotiation.aura');
  const seen: string[][] = [];
  const r = simulate(c, { harnessRoles: ['Buyer'], harnessPolicy: functionPolicy((d) => (seen.push([...d.options]), 1)), targetPolicy: randomPolicy(1) });
  t.same(seen, [['Seller!Accept', 'Seller!Reject']]);
  t.same(r.wire.map((m) => m.label), ['Quote', 'Price', 'Reject', 'Bye']);
  for (const s of ['Accept', 0, 'Seller!Accept'] as const) {
    const x = simulate(c, { harnessRoles: ['Buyer'], harnessPolicy: scriptedPolicy({ Buyer: [s] }), targetPolicy: randomPolicy(1) });
    t.equal(x.wire[2]!.label, 'Accept', `scripted ${JSON.stringify(s)}`);
  }
});

t.test('property: on random well-formed protocols, every run of the runtime (any split of the roles, random decisions) keeps every role to its projection, and ends complete', async (t) => {
  let runs = 0;
  fc.assert(
    fc.property(wellFormed, fc.subarray(['A', 'B', 'C'], { minLength: 1, maxLength: 2 }), fc.nat(), (r, harness, seed) => {
      const roles = r.roles.filter((x) => harness.includes(x));
      if (roles.length === 0 || roles.length === r.roles.length) return;
      const sim = simulate(r, { harnessRoles: roles, harnessPolicy: randomPolicy(seed), targetPolicy: randomPolicy(seed + 1), maxSteps: 500 });
      // A loop may run on for the whole step budget: judge what ran.
      const mon = judge(r, sim.logs);
      runs++;
      if (sim.broken || mon.violation) throw new Error(`${r.src}\nharness ${roles.join(',')} seed ${seed}: ${sim.broken ?? mon.violation}\n${sim.all.map((m) => `${m.from}->${m.to}:${m.label}`).join(' ')}`);
      if (sim.harnessDone && sim.targetDone && !mon.complete) throw new Error(`${r.src}: both sides done but the trace is incomplete`);
    }),
    { numRuns: 150, seed: 7 },
  );
  t.ok(runs > 50, `${runs} runs`);
});

/** Traces (as text) of length ≤ n of an automaton over global actions, with whether each ends in a final state. */
function boundedLanguage(step: (q: string) => readonly { a: GlobalAction; to: string }[], isFinal: (q: string) => boolean, start: string, n: number): Map<string, boolean> {
  const out = new Map<string, boolean>();
  let frontier: { q: string; w: string }[] = [{ q: start, w: '' }];
  out.set('', isFinal(start));
  for (let i = 0; i < n && frontier.length && out.size < 20_000; i++) {
    const next: { q: string; w: string }[] = [];
    for (const { q, w } of frontier) {
      for (const { a, to } of step(q)) {
        const w2 = `${w}${a.from}>${a.to}:${a.label};`;
        out.set(w2, (out.get(w2) ?? false) || isFinal(to));
        next.push({ q: to, w: w2 });
      }
    }
    frontier = next;
  }
  return out;
}

t.test('property (projection): the parallel composition of the projections allows exactly the global protocol\u2019s traces, up to 6 messages', async (t) => {
  let checked = 0;
  fc.assert(
    fc.property(wellFormed, (r) => {
      const N = 6;
      // The composition: each role's CFSM; a message happens when its sender can send it and its receiver can receive it.
      const cfsms = r.roles.map((x) => r.projections.get(x)!.cfsm);
      const comp = boundedLanguage(
        (q) => {
          const st = q.split(',').map(Number);
          const moves: { a: GlobalAction; to: string }[] = [];
          cfsms.forEach((c, i) => {
            for (const tr of c.transitions) {
              if (tr.from !== st[i] || tr.action.dir !== '!') continue;
              const j = r.roles.indexOf(tr.action.peer);
              const rv = cfsms[j]!.transitions.find((x) => x.from === st[j] && x.action.dir === '?' && x.action.peer === c.role && x.action.label === tr.action.label);
              if (!rv) continue;
              const nst = [...st];
              nst[i] = tr.to;
              nst[j] = rv.to;
              moves.push({ a: { from: c.role, to: tr.action.peer, label: tr.action.label }, to: nst.join(',') });
            }
          });
          return moves;
        },
        (q) => q.split(',').every((s, i) => cfsms[i]!.finals.includes(Number(s))),
        r.roles.map(() => 0).join(','),
        N,
      );
      const g = buildGlobalAutomaton(r.global);
      const glob = boundedLanguage((q) => g.transitions.filter((x) => x.from === Number(q)).map((x) => ({ a: x.action, to: String(x.to) })), (q) => g.finals.includes(Number(q)), '0', N);
      // Every global trace is a composition trace; every composition trace is a global trace up to
      // swapping messages with no role in common (weak sequencing, SPEC §3), which the global monitor decides.
      for (const [w, fin] of glob) if (!comp.has(w)) throw new Error(`${r.src}\nglobal trace not allowed by the projections: ${w}`);
      else if (fin && !comp.get(w)) throw new Error(`${r.src}\ncomplete global trace ${w} leaves a role unfinished`);
      for (const [w, fin] of comp) {
        const msgs = w.split(';').filter(Boolean).map((x) => { const [fr, rest] = x.split('>'); const [to, label] = rest!.split(':'); return { from: fr!, to: to!, label: label! }; });
        const v = runMonitor(createGlobalMonitor(r.global), msgs);
        if (v.violation) throw new Error(`${r.src}\nthe projections allow ${w}, the global protocol does not (${JSON.stringify(v.violation)})`);
        if (fin !== v.complete) throw new Error(`${r.src}\n${w}: complete for the projections ${fin}, for the global protocol ${v.complete}`);
      }
      checked++;
    }),
    { numRuns: 120, seed: 11 },
  );
  t.ok(checked >= 120, `${checked} protocols compared`);
});
