/**
 * Aura benches (`npm run bench:aura`):
 * 1. global monitor throughput (suites/aura/monitor.ts) on long two-phase
 *    commit and streaming traces, against a bare automaton step on the same
 *    automaton (the same-run baseline); target ≥ 1,000,000 messages/s;
 * 2. memory: heap after feeding traces of growing length (flat = the
 *    monitor keeps no history);
 * 3. runtime overhead of monitored roles (every wire message fed to the
 *    global monitor) vs unmonitored ones, on in-memory sessions
 *    (suites/aura/runtime/simulate.ts); target ≤ 5 %.
 * Options: --messages N (default 1,000,000), --rounds R (default 7), --sessions S (default 300).
 */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { buildGlobalAutomaton, type GlobalAction } from '../suites/aura/cfsm.js';
import { checkAura, type AuraCheck } from '../suites/aura/language.js';
import { createGlobalMonitor, globalMonitorOf, type AuraMessage } from '../suites/aura/monitor.js';
import { randomPolicy } from '../suites/aura/runtime/policy.js';
import { simulate } from '../suites/aura/runtime/simulate.js';
import { intArg, median } from './_stats.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MESSAGES = intArg('messages', 1_000_000);
const ROUNDS = intArg('rounds', 7);
const SESSIONS = intArg('sessions', 300);

/** Two-phase commit repeated: one transaction per iteration, the Coordinator decides when to stop. */
const LONG_2PC = `protocol LongTwoPhaseCommit {
  roles: Coordinator, Participant;
  loop {
    Coordinator -> Participant: PrepareRequest(transaction_id: u64);
    Participant -> Coordinator: PrepareResponse(vote: Vote);
    match vote {
      Vote::Commit => { Coordinator -> Participant: CommitRequest(transaction_id: u64); Participant -> Coordinator: CommitAck; }
      Vote::Abort => { Coordinator -> Participant: AbortRequest(transaction_id: u64); Participant -> Coordinator: AbortAck; }
    }
    choice at Coordinator { Coordinator -> Participant: Next; } or { Coordinator -> Participant: Done; break; }
  }
}`;

const seed = (n: string): AuraCheck => checkAura(readFileSync(new URL(`../fixtures/aura/seed/${n}.aura`, import.meta.url), 'utf8'), `${n}.aura`);

/** A trace of about `n` messages: a random walk that never takes an exit (`Done`, `StreamEnd`) until the end. */
function longTrace(c: AuraCheck, n: number, exit: string): AuraMessage[] {
  const a = buildGlobalAutomaton(c.global);
  const out: AuraMessage[] = [];
  let q = 0;
  let x = 12345;
  while (out.length < n) {
    const ts = a.transitions.filter((t) => t.from === q && t.action.label !== exit);
    if (ts.length === 0) break;
    x = (x * 1103515245 + 12345) >>> 0;
    const t = ts[x % ts.length]!;
    out.push(t.action);
    q = t.to;
  }
  return out;
}

/** A bare automaton step per message (Map lookups, no set of configurations): the baseline. */
function bareRun(c: AuraCheck, trace: readonly AuraMessage[]): number {
  const a = buildGlobalAutomaton(c.global);
  const next = new Map<number, Map<string, number>>();
  for (const t of a.transitions) {
    let m = next.get(t.from);
    if (!m) next.set(t.from, (m = new Map()));
    m.set(`${t.action.from}>${t.action.to}:${t.action.label}`, t.to);
  }
  let q = 0;
  for (const m of trace) q = next.get(q)?.get(`${m.from}>${m.to}:${m.label}`) ?? -1;
  return q;
}

function time(f: () => unknown): number {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

console.log(`Aura benches: ${fmt(MESSAGES)} messages per trace, ${ROUNDS} rounds (medians)`);
for (const [name, c, exit] of [['two-phase commit (repeated)', checkAura(LONG_2PC, 'long2pc.aura'), 'Done'], ['DataStreaming', seed('DataStreaming'), 'StreamEnd']] as const) {
  const trace = longTrace(c, MESSAGES, exit);
  const mon: number[] = [];
  const bare: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    bare.push(time(() => bareRun(c, trace)));
    mon.push(time(() => {
      const m = createGlobalMonitor(c.global);
      for (const x of trace) if (m.feed(x)) throw new Error(`monitor rejected the bench trace at ${x.label}`);
    }));
  }
  const rate = trace.length / (median(mon) / 1000);
  const base = trace.length / (median(bare) / 1000);
  console.log(`  global monitor, ${name}: ${fmt(rate)} msgs/s (median ${median(mon).toFixed(1)} ms); bare automaton step ${fmt(base)} msgs/s; ratio ${(rate / base).toFixed(2)}; target ≥ 1,000,000: ${rate >= 1_000_000 ? 'met' : 'NOT met'}`);
  // Memory: heap after feeding growing prefixes to a live monitor.
  const heaps: string[] = [];
  const m = createGlobalMonitor(c.global);
  let fed = 0;
  gc();
  const before = process.memoryUsage().heapUsed;
  for (const len of [10_000, 100_000, trace.length]) {
    for (; fed < len; fed++) m.feed(trace[fed]!);
    gc();
    heaps.push(`${fmt(len)}: ${((process.memoryUsage().heapUsed - before) / 1024).toFixed(0)} KiB`);
  }
  console.log(`    heap growth while monitoring (vs before): ${heaps.join(', ')}`);
}

// Runtime overhead: sessions of DataStreaming (10 chunks) run in memory, with and without a monitor on the wire.
{
  const c = seed('DataStreaming');
  // The automaton is built once per choreography (as the wire monitor caches it); each session gets a fresh monitor.
  const automaton = buildGlobalAutomaton(c.global);
  let feedNs = 0n;
  const run = (monitored: boolean): number => time(() => {
    for (let s = 0; s < SESSIONS; s++) {
      const m = monitored ? globalMonitorOf(automaton) : undefined;
      let chunks = 0;
      simulate(c, {
        harnessRoles: ['Producer'],
        harnessPolicy: { decide: (d) => (d.tags?.includes('then') ? (++chunks >= 10 ? d.tags.indexOf('then') : d.tags.indexOf('else')) : 0), payload: randomPolicy(s).payload },
        targetPolicy: randomPolicy(s + 1),
        ...(m ? { onWire: (x: GlobalAction) => { const t0 = process.hrtime.bigint(); m.feed(x); feedNs += process.hrtime.bigint() - t0; } } : {}),
      });
    }
  });
  const plain: number[] = [];
  const watched: number[] = [];
  run(false); // warm-up (JIT) of both paths
  run(true);
  feedNs = 0n;
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which goes first, so that neither pays the other's garbage collection more often.
    if (r % 2 === 0) { plain.push(run(false)); watched.push(run(true)); }
    else { watched.push(run(true)); plain.push(run(false)); }
  }
  // The median of the paired per-round ratios is robust to a shared, noisy machine.
  const ratio = median(watched.map((w, i) => w / plain[i]!));
  const share = Number(feedNs) / 1e6 / watched.reduce((a, b) => a + b, 0);
  console.log(`  runtime, ${SESSIONS} DataStreaming sessions in memory: time inside the monitor ${(share * 100).toFixed(2)} % of the monitored runs (hrtime around each feed)`);
  console.log(`  runtime, ${SESSIONS} DataStreaming sessions in memory: unmonitored ${median(plain).toFixed(1)} ms, monitored ${median(watched).toFixed(1)} ms (medians of ${ROUNDS}); overhead (median of paired ratios) ${((ratio - 1) * 100).toFixed(1)} % (target ≤ 5 %: ${ratio <= 1.05 ? 'met' : 'NOT met'})`);
}
