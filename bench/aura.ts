/**
 * Aura benches (`npm run bench:aura`):
 * 1. global monitor throughput (suites/aura/monitor.ts) on long two-phase
 *    commit and streaming traces, against a bare automaton step on the same
 *    automaton (the same-run baseline); target ≥ 1,000,000 messages/s;
 * 2. memory: heap after feeding traces of growing length (flat = the
 *    monitor keeps no history);
 * 3. runtime overhead of a monitored role vs an unmonitored one, target ≤ 5 %
 *    (the figure Discourje reports), measured twice, as medians of paired
 *    ratios over many short alternating rounds:
 *    a. in memory (suites/aura/runtime/simulate.ts, every wire message fed to
 *       the global monitor); the share of time inside the monitor comes from
 *       separate runs timed around each feed (that timing alone costs ~20 %,
 *       so those runs are never compared);
 *    b. over QUIC on loopback: the harness plays Producer with playSession
 *       against the reference Consumer (reference-server/aura), monitored =
 *       the engine's AuraWireMonitor judging every trace event (TraceJudge).
 *    The target is judged on (b), what a monitored role costs in practice.
 * Options: --messages N (default 1,000,000), --rounds R (default 7), --sessions S
 * (in memory, default 300), --quic-sessions Q (default 20), --pairs P (paired rounds, default 21).
 */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { buildGlobalAutomaton, type GlobalAction } from '../suites/aura/cfsm.js';
import { checkAura, type AuraCheck } from '../suites/aura/language.js';
import { createGlobalMonitor, globalMonitorOf, type AuraMessage } from '../suites/aura/monitor.js';
import { randomPolicy } from '../suites/aura/runtime/policy.js';
import { simulate } from '../suites/aura/runtime/simulate.js';
import { playSession, type PlayContext } from '../suites/aura/runtime/play.js';
import { profileChoreography } from '../suites/aura/choreography.js';
import { fastProfile, sessionParams, type AuraProfile } from '../suites/aura/profile.js';
import { AuraWireMonitor } from '../suites/aura/wire-monitor.js';
import { reference } from '../reference-server/aura/index.js';
import { quicDriver } from '../harness/drivers/quic.js';
import { TraceJudge, violationText } from '../harness/engine/judge.js';
import { TraceRecorder } from '../harness/engine/trace.js';
import type { TraceEvent } from '../harness/engine/trace.js';
import { intArg, median, quantile } from './_stats.js';

/** Median and quartiles of the paired ratios monitored / unmonitored, as overhead percentages. */
const overhead = (ratios: readonly number[]): string => {
  const pc = (q: number) => ((quantile(ratios, q) - 1) * 100).toFixed(1);
  return `overhead (median of ${ratios.length} paired ratios) ${pc(0.5)} % (quartiles ${pc(0.25)} % to ${pc(0.75)} %)`;
};

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MESSAGES = intArg('messages', 1_000_000);
const ROUNDS = intArg('rounds', 7);
const SESSIONS = intArg('sessions', 300);
const QUIC_SESSIONS = intArg('quic-sessions', 20);
/** Paired rounds of the runtime comparisons: many short pairs, so that load on a shared machine hits both sides alike. */
const PAIRS = intArg('pairs', 21);
let inMemory: { lines: string; verdict: string } | undefined;

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

/** Wall and CPU time (user + system, this process, every thread) of one run, ms. */
interface Cost { readonly wall: number; readonly cpu: number }
const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;
async function cost(f: () => unknown): Promise<Cost> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await f();
  return { wall: Number(process.hrtime.bigint() - t0) / 1e6, cpu: cpuMs(process.cpuUsage(c0)) };
}

/**
 * One line per clock: medians, the median and quartiles of the paired ratios; and the verdict on
 * ≤ 5 % of the CPU-time ratios (other agents' load on a shared machine stretches wall time, not CPU time):
 * met when the upper quartile is within, not met when the lower quartile is above, else undecided.
 */
function compare(plain: readonly Cost[], watched: readonly Cost[]): { lines: string; verdict: string } {
  const lines = (['cpu', 'wall'] as const).map((k) => {
    const ratios = watched.map((w, i) => w[k] / plain[i]![k]);
    return `${k === 'cpu' ? 'CPU time' : 'wall time'}: unmonitored ${median(plain.map((x) => x[k])).toFixed(1)} ms, monitored ${median(watched.map((x) => x[k])).toFixed(1)} ms; ${overhead(ratios)}`;
  });
  const r = watched.map((w, i) => w.cpu / plain[i]!.cpu);
  const verdict = quantile(r, 0.75) <= 1.05 ? 'met' : quantile(r, 0.25) > 1.05 ? 'NOT met' : 'undecided (the quartiles straddle 5 %: too noisy, run on a quieter machine or with more --pairs)';
  return { lines: lines.join('\n      '), verdict };
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
  for (const len of [...[10_000, 100_000].filter((x) => x < trace.length), trace.length]) {
    for (; fed < len; fed++) m.feed(trace[fed]!);
    gc();
    heaps.push(`${fmt(len)}: ${((process.memoryUsage().heapUsed - before) / 1024).toFixed(0)} KiB`);
  }
  console.log(`    heap growth while monitoring (vs before): ${heaps.join(', ')}`);
}

// Runtime overhead: sessions of DataStreaming (10 chunks) run in memory, with and without a monitor on the wire.
// The paired comparison runs the monitored sessions without any instrumentation: timing each feed
// (two hrtime.bigint() calls and BigInt arithmetic per message) cost about 20 % by itself, more than
// the monitor. The share of time inside the monitor is measured in separate, instrumented runs.
const c = seed('DataStreaming');
{
  // The automaton is built once per choreography (as the wire monitor caches it); each session gets a fresh monitor.
  const automaton = buildGlobalAutomaton(c.global);
  let feedNs = 0n;
  const run = (mode: 'plain' | 'monitored' | 'timed'): Promise<Cost> => cost(() => {
    for (let s = 0; s < SESSIONS; s++) {
      const m = mode !== 'plain' ? globalMonitorOf(automaton) : undefined;
      let chunks = 0;
      const onWire = !m ? undefined
        : mode === 'timed' ? (x: GlobalAction) => { const t0 = process.hrtime.bigint(); m.feed(x); feedNs += process.hrtime.bigint() - t0; }
        : (x: GlobalAction) => { if (m.feed(x)) throw new Error(`monitor rejected ${x.label}`); };
      simulate(c, {
        harnessRoles: ['Producer'],
        harnessPolicy: { decide: (d) => (d.tags?.includes('then') ? (++chunks >= 10 ? d.tags.indexOf('then') : d.tags.indexOf('else')) : 0), payload: randomPolicy(s).payload },
        targetPolicy: randomPolicy(s + 1),
        ...(onWire ? { onWire } : {}),
      });
    }
  });
  const plain: Cost[] = [];
  const watched: Cost[] = [];
  const timed: Cost[] = [];
  await run('plain'); // warm-up (JIT) of every path
  await run('monitored');
  await run('timed');
  feedNs = 0n;
  for (let r = 0; r < PAIRS; r++) {
    // Alternate which goes first, so that neither pays the other's garbage collection more often.
    if (r % 2 === 0) { plain.push(await run('plain')); watched.push(await run('monitored')); }
    else { watched.push(await run('monitored')); plain.push(await run('plain')); }
    if (r < ROUNDS) timed.push(await run('timed'));
  }
  // The median of the paired per-round ratios is robust to a shared, noisy machine.
  const share = Number(feedNs) / 1e6 / timed.reduce((a, b) => a + b.wall, 0);
  console.log(`  runtime, ${SESSIONS} DataStreaming sessions in memory: time inside the monitor ${(share * 100).toFixed(2)} % of separate instrumented runs (hrtime around each feed; those runs are not compared)`);
  inMemory = compare(plain, watched);
  console.log(`  runtime, ${SESSIONS} DataStreaming sessions in memory (${PAIRS} paired rounds):\n      ${inMemory.lines}`);
}

// The same comparison over real QUIC on loopback: the harness plays Producer with the role runtime
// (playSession, as `wirecheck run` and `wirecheck client aura` do) against the reference Consumer;
// monitored = the engine's Aura monitor (AuraWireMonitor through TraceJudge) judges every trace event
// as it is recorded, unmonitored = the same sessions with nothing listening to the trace.
{
  const p: AuraProfile = { ...fastProfile, choreography: 'fixtures/aura/seed/DataStreaming.aura', roles: 'Consumer' };
  const { check, harness } = profileChoreography(p);
  const server = await reference.startServer({ host: '127.0.0.1', port: 0, profile: p });
  const ac = new AbortController();
  const sessions = async (monitored: boolean, n: number, keep?: TraceEvent[]): Promise<Cost> => {
    const trace = new TraceRecorder();
    if (keep) trace.listen((e) => keep.push(e));
    const judge = monitored ? new TraceJudge(trace, new AuraWireMonitor(p, check)) : undefined;
    const conn = await quicDriver.connect(trace, { host: '127.0.0.1', port: server.port, alpn: [p.alpn], insecure: true, connectTimeoutMs: 5_000 });
    const ctx: PlayContext = {
      trace, signal: ac.signal, note: (text) => trace.note(text),
      violated: () => judge?.violations.some((v) => v.severity === 'must') ?? false,
      // As the reference client's: wait for the trace to move until `pred` holds, at most `ms`.
      until: (pred, ms) => new Promise<boolean>((resolve) => {
        if (pred()) return resolve(true);
        const stop = trace.listen(() => { if (pred()) { clearTimeout(timer); stop(); resolve(true); } });
        const timer = setTimeout(() => { stop(); resolve(pred()); }, ms);
      }),
    };
    try {
      return await cost(async () => { for (let s = 0; s < n; s++) {
        const mark = judge?.mark() ?? 0;
        const out = await playSession(ctx, conn, {
          check, harnessRoles: harness, policy: randomPolicy(s), params: sessionParams(p), session: `bench-${s}`,
          quietMs: p.replyDeadlineMs + (p.timeoutMs || 0) + p.toleranceMs, timeoutMs: p.timeoutMs,
        });
        if (!out.done) throw new Error(`QUIC session ${s} did not complete${out.broken ? ` (${out.broken})` : ''}`);
        const v = judge?.verdict(mark);
        if (v) throw new Error(`QUIC session ${s}: ${violationText(v)}`);
      } });
    } finally {
      await conn.close(0).catch(() => undefined);
    }
  };
  const plain: Cost[] = [];
  const watched: Cost[] = [];
  const recorded: TraceEvent[] = [];
  try {
    await sessions(false, QUIC_SESSIONS, recorded); // warm-up; its trace is replayed below
    await sessions(true, QUIC_SESSIONS);
    for (let r = 0; r < PAIRS; r++) {
      if (r % 2 === 0) { plain.push(await sessions(false, QUIC_SESSIONS)); watched.push(await sessions(true, QUIC_SESSIONS)); }
      else { watched.push(await sessions(true, QUIC_SESSIONS)); plain.push(await sessions(false, QUIC_SESSIONS)); }
    }
  } finally {
    ac.abort();
    await server.stop();
  }
  // The monitor's own cost, free of the machine's noise on whole sessions: the recorded trace of one
  // unmonitored run replayed through a fresh wire monitor, CPU time per replay (median of many).
  const replays: number[] = [];
  for (let r = 0; r < 50 * ROUNDS; r++) {
    const mon = new AuraWireMonitor(p, check);
    const c0 = process.cpuUsage();
    let found = 0;
    recorded.forEach((e, i) => { found += mon.feed(e, i).length; });
    replays.push(cpuMs(process.cpuUsage(c0)));
    if (found) throw new Error('the wire monitor found a violation in the recorded bench trace');
  }
  const replay = median(replays);
  const quic = compare(plain, watched);
  console.log(`  wire monitor alone, replaying the trace of ${QUIC_SESSIONS} QUIC sessions (${recorded.length} events): ${replay.toFixed(2)} ms CPU (median of ${replays.length}) = ${(replay * 1000 / recorded.length).toFixed(2)} µs/event, ${(replay / median(plain.map((x) => x.cpu)) * 100).toFixed(2)} % of an unmonitored run's CPU time`);
  console.log(`  runtime, ${QUIC_SESSIONS} DataStreaming sessions over QUIC on loopback (one connection per run, reference Consumer in process; ${PAIRS} paired rounds):\n      ${quic.lines}`);
  console.log(`  runtime overhead target ≤ 5 %, judged on the QUIC CPU-time ratios (what a monitored role costs in practice): ${quic.verdict}; in memory: ${inMemory?.verdict}; the wire monitor's own share, without the noise: ${(replay / median(plain.map((x) => x.cpu)) * 100).toFixed(2)} %`);
}
