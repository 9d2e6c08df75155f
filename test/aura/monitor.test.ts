/**
 * Global and per-role trace monitors (suites/aura/monitor.ts, SPEC §3), and the
 * property that on random well-formed protocols the global monitor and the
 * composition of the per-role monitors give the same verdict on random valid
 * and mutated traces.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { buildGlobalAutomaton } from '../../suites/aura/cfsm.js';
import { checkAura } from '../../suites/aura/language.js';
import { createComposedMonitor, createGlobalMonitor, runMonitor, type AuraMessage } from '../../suites/aura/monitor.js';

const SEED_DIR = join(import.meta.dirname, '../../fixtures/aura/seed');
const seed = (n: string) => checkAura(readFileSync(join(SEED_DIR, `${n}.aura`), 'utf8'), `${n}.aura`);
const msg = (s: string): AuraMessage => {
  const m = /^(\w+)->(\w+):(\S+)$/.exec(s);
  if (!m) throw new Error(`bad message ${s}`);
  return { from: m[1]!, to: m[2]!, label: m[3]! };
};
const trace = (s: string) => s.split(/\s+/).filter(Boolean).map(msg);

t.test('global monitor: TwoPhaseCommit, valid and wrong traces', async (t) => {
  const r = seed('TwoPhaseCommit');
  const ok = runMonitor(createGlobalMonitor(r.global), trace('Coordinator->Participant:PrepareRequest Participant->Coordinator:PrepareResponse Coordinator->Participant:AbortRequest Participant->Coordinator:AbortAck'));
  t.same(ok, { complete: true });
  const partial = runMonitor(createGlobalMonitor(r.global), trace('Coordinator->Participant:PrepareRequest'));
  t.same(partial, { complete: false }, 'a prefix is fine but not complete');
  const bad = runMonitor(createGlobalMonitor(r.global), trace('Coordinator->Participant:PrepareRequest Participant->Coordinator:PrepareResponse Coordinator->Participant:CommitRequest Participant->Coordinator:AbortAck'));
  t.match(bad.violation, { index: 3, message: { label: 'AbortAck' }, allowed: ['Participant→Coordinator:CommitAck'] });
  t.equal(bad.violation!.states.length, 1);
});

t.test('global monitor: parallel interleavings and weak sequencing', async (t) => {
  const r = seed('DistributedConsensus');
  const props = ['Node3->Node2:Proposal', 'Node1->Node3:Proposal', 'Node2->Node1:Proposal', 'Node3->Node1:Proposal', 'Node1->Node2:Proposal', 'Node2->Node3:Proposal'];
  const full = [...props, 'Node1->Node2:Decision', 'Node1->Node3:Decision'].join(' ');
  t.same(runMonitor(createGlobalMonitor(r.global), trace(full)), { complete: true });
  // Node1 -> Node2: Decision may overtake Node2 -> Node3: Proposal? No: both involve Node2.
  const early = [...props.slice(0, 5), 'Node1->Node2:Decision', props[5]!, 'Node1->Node3:Decision'].join(' ');
  t.match(runMonitor(createGlobalMonitor(r.global), trace(early)).violation, { index: 5, message: { label: 'Decision' } });
  // Roles that do not interact are not ordered by `;` (SPEC §3).
  const w = checkAura('protocol W { roles: A, B, C, D; A -> B: X; C -> D: Y; B -> C: Z; }', 'w.aura');
  t.same(runMonitor(createGlobalMonitor(w.global), trace('C->D:Y A->B:X B->C:Z')), { complete: true });
  t.match(runMonitor(createGlobalMonitor(w.global), trace('A->B:X B->C:Z C->D:Y')).violation, { index: 1 });
  t.match(runMonitor(createComposedMonitor([...w.projections.values()].map((p) => p.cfsm)), trace('A->B:X B->C:Z C->D:Y')).violation, { index: 1, states: ['C:s0'], allowed: ['D!Y'] });
});

t.test('per-role monitors: DataStreaming loop', async (t) => {
  const r = seed('DataStreaming');
  const cfsms = [...r.projections.values()].map((p) => p.cfsm);
  const run = 'Producer->Consumer:StreamInit Consumer->Producer:StreamAck Producer->Consumer:DataChunk Consumer->Producer:ChunkAck Producer->Consumer:DataChunk Consumer->Producer:ChunkAck Producer->Consumer:StreamEnd Consumer->Producer:StreamComplete';
  t.same(runMonitor(createComposedMonitor(cfsms), trace(run)), { complete: true });
  t.same(runMonitor(createGlobalMonitor(r.global), trace(run)), { complete: true });
  const skip = 'Producer->Consumer:StreamInit Consumer->Producer:StreamAck Producer->Consumer:StreamEnd';
  t.match(runMonitor(createComposedMonitor(cfsms), trace(skip)).violation, { index: 2, allowed: ['Consumer!DataChunk'] });
  t.match(runMonitor(createGlobalMonitor(r.global), trace(skip)).violation, { index: 2, allowed: ['Producer→Consumer:DataChunk'] });
});

// --- property: global monitor ≡ composition of per-role monitors -------------

import { pair, wellFormed } from './_random.js';

/** A trace from a random walk of the global automaton, then random swaps of adjacent independent messages. */
function walk(r: ReturnType<typeof checkAura>, picks: readonly number[], swaps: readonly number[]): AuraMessage[] {
  const a = buildGlobalAutomaton(r.global);
  const out: AuraMessage[] = [];
  let q = 0;
  for (const p of picks) {
    const ts = a.transitions.filter((x) => x.from === q);
    if (ts.length === 0) break;
    const tr = ts[p % ts.length]!;
    out.push(tr.action);
    q = tr.to;
  }
  for (const s of swaps) {
    if (out.length < 2) break;
    const i = s % (out.length - 1);
    const [x, y] = [out[i]!, out[i + 1]!];
    if (x.from !== y.from && x.from !== y.to && x.to !== y.from && x.to !== y.to) [out[i], out[i + 1]] = [y, x];
  }
  return out;
}

const mutation = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.record({ kind: fc.constant('label' as const), at: fc.nat(), label: fc.constantFrom('M1', 'M2', 'B0', 'B1', 'Go', 'Stop', 'Zz') }),
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), m: fc.tuple(pair, fc.constantFrom('M1', 'B0', 'Go')) }),
);

t.test('property: global monitor and composed per-role monitors agree (random well-formed protocols, valid and mutated traces)', async (t) => {
  let checked = 0;
  let rejected = 0;
  fc.assert(
    fc.property(wellFormed, fc.array(fc.nat(), { maxLength: 14 }), fc.array(fc.nat(), { maxLength: 10 }), mutation, (r, picks, swaps, mut) => {
      const tr = walk(r, picks, swaps);
      if (tr.length > 0 && mut.kind !== 'none') {
        const i = mut.at % tr.length;
        if (mut.kind === 'label') tr[i] = { ...tr[i]!, label: mut.label };
        if (mut.kind === 'drop') tr.splice(i, 1);
        if (mut.kind === 'swap' && i + 1 < tr.length) [tr[i], tr[i + 1]] = [tr[i + 1]!, tr[i]!];
        if (mut.kind === 'insert') tr.splice(i, 0, { from: mut.m[0][0], to: mut.m[0][1], label: mut.m[1] });
      }
      const g = runMonitor(createGlobalMonitor(r.global), tr);
      const c = runMonitor(createComposedMonitor([...r.projections.values()].map((p) => p.cfsm)), tr);
      checked++;
      if (g.violation) rejected++;
      const verdict = (x: typeof g) => ({ firstViolation: x.violation?.index ?? -1, complete: x.complete });
      if (JSON.stringify(verdict(g)) !== JSON.stringify(verdict(c))) {
        throw new Error(`disagree on ${JSON.stringify(tr.map((m) => `${m.from}->${m.to}:${m.label}`))}\nprotocol: ${r.src}\nglobal ${JSON.stringify(verdict(g))} composed ${JSON.stringify(verdict(c))}\nprojections: ${[...r.projections.values()].map((p) => `${p.role}: ${p.text}`).join(' / ')}`);
      }
    }),
    { numRuns: 200, seed: 4242 },
  );
  t.ok(checked >= 200, `${checked} traces checked`);
  t.ok(rejected > 20 && rejected < checked - 20, `both verdicts exercised (${rejected} rejected of ${checked})`);
});

t.test('monitors on the compensation and timeout seeds', async (t) => {
  const comp = seed('CompensatingTransaction');
  const cfsms = [...comp.projections.values()].map((p) => p.cfsm);
  // ServiceB fails: $fail to the Coordinator, then the compensation in reverse order.
  const failB = trace('Coordinator->ServiceA:ReserveResource ServiceA->Coordinator:ReservationConfirmed Coordinator->ServiceB:AllocateResource ServiceB->Coordinator:$fail Coordinator->ServiceB:ReleaseAllocation Coordinator->ServiceA:ReleaseReservation');
  t.same(runMonitor(createGlobalMonitor(comp.global), failB), { complete: true });
  t.same(runMonitor(createComposedMonitor(cfsms), failB), { complete: true });
  // The compensation not run: the Coordinator commits after a $fail.
  const noComp = trace('Coordinator->ServiceA:ReserveResource ServiceA->Coordinator:$fail Coordinator->ServiceB:AllocateResource');
  t.match(runMonitor(createGlobalMonitor(comp.global), noComp).violation, { index: 2, allowed: ['Coordinator→ServiceB:ReleaseAllocation'] });
  t.match(runMonitor(createComposedMonitor(cfsms), noComp).violation, { index: 2 });
  // The compensation in the wrong order: both releases come from the Coordinator, so their order is fixed.
  const swapped = [...failB.slice(0, 4), failB[5]!, failB[4]!];
  t.match(runMonitor(createGlobalMonitor(comp.global), swapped).violation, { index: 4, allowed: ['Coordinator→ServiceB:ReleaseAllocation'] });
  t.match(runMonitor(createComposedMonitor(cfsms), swapped).violation, { index: 4 });
  const rr = seed('RobustRequest.fixed');
  t.same(runMonitor(createGlobalMonitor(rr.global), trace('Client->Server:Request Client->Server:$fail')), { complete: true });
  t.same(runMonitor(createGlobalMonitor(rr.global), trace('Client->Server:Request Server->Client:Response')), { complete: true });
  t.match(runMonitor(createGlobalMonitor(rr.global), trace('Client->Server:Request Client->Server:$fail Server->Client:Response')).violation, { index: 2 });
});

t.test('two deciders on the same data: only the global monitor sees them take different branches (SPEC AURA-13.2)', async (t) => {
  const r = checkAura('protocol M { roles: A, B, C, D; A -> B: V(x: u8); match x { 1 => { A -> C: P; B -> D: R; } _ => { A -> C: P2; B -> D: R2; } } }', 'm.aura');
  t.equal(r.wellFormed, true);
  const tr = trace('A->B:V A->C:P B->D:R2');
  t.match(runMonitor(createGlobalMonitor(r.global), tr).violation, { index: 2, allowed: ['B→D:R'] });
  t.same(runMonitor(createComposedMonitor([...r.projections.values()].map((p) => p.cfsm)), tr), { complete: true });
});

t.test('property: allows(m) agrees with allowed() on every prefix (random well-formed protocols, valid and mutated traces)', async (t) => {
  let yes = 0;
  let no = 0;
  const same = (a: AuraMessage, b: AuraMessage) => a.from === b.from && a.to === b.to && a.label === b.label;
  fc.assert(
    fc.property(wellFormed, fc.array(fc.nat(), { maxLength: 14 }), fc.array(fc.nat(), { maxLength: 10 }), mutation, (r, picks, swaps, mut) => {
      const tr = walk(r, picks, swaps);
      if (tr.length > 0 && mut.kind === 'swap') {
        const i = mut.at % tr.length;
        if (i + 1 < tr.length) [tr[i], tr[i + 1]] = [tr[i + 1]!, tr[i]!];
      }
      const m = createGlobalMonitor(r.global);
      for (const x of tr) {
        const allowed = m.allowed!();
        for (const y of [x, ...tr, ...allowed]) {
          const want = allowed.some((a) => same(a, y));
          if (m.allows!(y) !== want) throw new Error(`allows(${y.from}->${y.to}:${y.label}) is ${!want} but allowed() says ${want}; trace ${JSON.stringify(tr)}; protocol: ${r.src}`);
          if (want) yes++;
          else no++;
        }
        if (m.feed(x)) break;
      }
    }),
    { numRuns: 200, seed: 4243 },
  );
  t.ok(yes > 100 && no > 100, `both answers exercised (${yes} allowed, ${no} not)`);
});
