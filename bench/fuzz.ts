/**
 * wirecheck fuzz benchmark: how fast a fuzz campaign runs, and what limits
 * it. Run: `npm run bench:fuzz [-- options]` (everything on 127.0.0.1, one
 * process, one run). Prints:
 *
 * 1. **QUIC**: one campaign (seed, N programs, all Proton generators)
 *    against the Proton reference server over QUIC (`startProtonServer`,
 *    the tests' short timers), with the liveness probe after every case:
 *      - overlapped closes (harness/fuzz/overlap.ts, what `wirecheck fuzz`
 *        does): a close resolves once CONNECTION_CLOSE is sent, the QUIC
 *        closing period runs in the background;
 *      - awaited closes (the plain driver), the same campaign;
 *    with the time the programs spent in the protocol's own waits (steps
 *    `wait` around the timers: identification, receive timeout, commit
 *    delay) against the rest (connection set-up, exchanges, teardown,
 *    probes).
 * 2. **In-process**: the same campaign against the reference server's
 *    Sans-I/O core (`createReferenceCore`) over the in-memory driver in
 *    virtual time (no sockets, harness/drivers/memory.ts); then a campaign
 *    of `--mem-runs` programs for a steadier rate. It checks that the QUIC
 *    and in-process campaigns generated the same programs.
 * 3. **Bare handshakes**: connections per second of bare @matrixai/quic
 *    (`QUICClient.createQUICClient` to a bare echo server, bench/bare-quic.ts)
 *    opened and closed one after the other, awaiting `destroy()` and not:
 *    the physical limit of connection-per-case fuzzing.
 * 4. **Budgets**, for every protocol with fuzz generators and a reference
 *    core with deliberate faults (reference-server/<p>/faults.ts): per
 *    fault, the programs a campaign (all the protocol's generators, in
 *    campaign order, 20 programs a round) generated until it first failed
 *    (its `foundAfter`), in-process, seeds 1…K. The programs are the same
 *    over a real transport (section 1 checks it for Proton), so a campaign
 *    there needs the same count; its time is that count over the rate.
 *    A fault no seed finds is printed as what catches it instead: the
 *    liveness probe before the first program, a SHOULD (a missed SHOULD is
 *    a non-strict case, never a finding: the first such program is given),
 *    or "not reachable by bounded programs (caught by cases: …)", the
 *    cases of the suite that fail against it (run in process).
 *
 * 5. **Moonpool** (TCP): the same seed's campaign against the Moonpool
 *    reference server over TCP (`startMoonpoolServer`, the Moonpool tests'
 *    profile) and in-process (`--mem-runs` programs).
 *
 * Options: --runs N (QUIC and TCP campaign programs, default 60), --mem-runs M
 * (2000), --handshakes H (100), --seed S (1), --skip-awaited,
 * --budget-seeds K (5), --budget B (300, programs per budget campaign),
 * --protocols a,b (protocols of section 4, default all), --budgets-only
 * (section 4 alone).
 */
import { availableParallelism, cpus, loadavg, platform, arch } from 'node:os';
import { parseArgs } from 'node:util';
import { quicDriver } from '../harness/drivers/quic.js';
import { createMemoryTarget } from '../harness/drivers/memory.js';
import { VirtualClock } from '../harness/engine/clock.js';
import { evalDuration } from '../harness/fixtures/format.js';
import { runCampaign, type CampaignResult, type FuzzTarget } from '../harness/fuzz/campaign.js';
import { overlapCloses } from '../harness/fuzz/overlap.js';
import type { FuzzProgram } from '../harness/fuzz/types.js';
import { generateSelfSigned } from '../harness/tls/cert.js';
import { createReferenceCore, startProtonServer } from '../reference-server/proton/index.js';
import { suite } from '../suites/proton/index.js';
import { fastProfile, type ProtonProfile } from '../suites/proton/profile.js';
import { bareClose, bareConnect, startEchoServer } from './bare-quic.js';
import { tcpDriver } from '../harness/drivers/tcp.js';
import { createReferenceCore as createMoonpoolCore, startMoonpoolServer } from '../reference-server/moonpool/index.js';
import { suite as moonpool } from '../suites/moonpool/index.js';
import { fastProfile as moonpoolFast, type MoonpoolProfile } from '../suites/moonpool/profile.js';
import { listProtocols, loadReference, loadSuite } from '../harness/engine/registry.js';
import { runSuiteInProcess } from '../test/_support/in-process.js';

/** The Moonpool tests' profile (test/moonpool/_run.ts). */
const mpProfile: MoonpoolProfile = { ...moonpoolFast, replyDeadlineMs: 800, toleranceMs: 300 };

/** Section 5: Moonpool over TCP and in-process (rate). */
async function moonpoolFigures(): Promise<string[]> {
  const mem = (): FuzzTarget => {
    const clock = new VirtualClock();
    const m = createMemoryTarget({ core: createMoonpoolCore({ profile: mpProfile }), clock, transport: 'tcp' });
    return { url: 'memory:moonpool', driver: m.driver, connect: m.connect, clock };
  };
  const row = async (label: string, target: FuzzTarget, n: number): Promise<string> => {
    let waitsMs = 0;
    const t0 = performance.now();
    const r = await runCampaign({
      suite: moonpool, profile: mpProfile, target, seed, runs: n,
      onCase: (p) => {
        for (const st of p.steps) if ('do' in st && st.do === 'wait') waitsMs += evalDuration(st.ms, mpProfile);
      },
    });
    const ms = performance.now() - t0;
    const waits = target.clock ? '-' : f1((100 * waitsMs) / ms);
    return `${label.padEnd(33)} ${String(r.stats.generated).padStart(8)} ${String(r.stats.cases).padStart(6)} ${(ms / 1000).toFixed(2).padStart(9)} ${f1(rate(r.stats.cases, ms)).padStart(8)} ${waits.padStart(8)}  ${r.findings.length}`;
  };
  const out = [`Moonpool (TCP), the tests' profile (replyDeadlineMs ${mpProfile.replyDeadlineMs}, stallMs ${mpProfile.stallMs}, toleranceMs ${mpProfile.toleranceMs}, maxPayloadBytes ${mpProfile.maxPayloadBytes}); seed ${seed}`];
  out.push('campaign                          programs  cases  wall (s)  cases/s  waits %  findings');
  const server = await startMoonpoolServer({ profile: mpProfile });
  try {
    const ov = overlapCloses(tcpDriver);
    out.push(await row('TCP, overlapped closes', { url: `tcp://127.0.0.1:${server.port}`, driver: ov.driver, connect: { host: server.host, port: server.port, connectTimeoutMs: 3000 }, drain: () => ov.drain() }, runs));
  } finally {
    await server.stop();
  }
  out.push(await row(`in-process (${memRuns} programs)`, mem(), memRuns));
  return out;
}

/** Median of numbers (Infinity counts as the largest). */
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const count = (x: number): string => (Number.isFinite(x) ? String(x) : '-');

/**
 * Section 4: the budget table of one protocol (see the module docstring):
 * per fault, programs until the first finding over seeds 1…K, or what
 * catches the fault when no bounded program does.
 */
async function budgetTable(name: string): Promise<string[]> {
  const suite = await loadSuite(name);
  const ref = await loadReference(name);
  const fuzz = suite.fuzz;
  if (!fuzz || !ref || Object.keys(ref.faults).length === 0) return [`${name}: no fuzz generators or no deliberate faults`];
  const profile = budgetProfiles[name] ?? suite.fastProfile;
  const generators = Object.keys(await fuzz.arbitraries(profile));
  const target = (fault: string): FuzzTarget => {
    const clock = new VirtualClock();
    const alpn = suite.connectOptions(profile).alpn;
    const m = createMemoryTarget({ core: ref.createCore({ profile, fault }), clock, transport: suite.transport, ...(alpn ? { alpn } : {}) });
    return { url: `memory:${name}?fault=${fault}`, driver: m.driver, connect: m.connect, clock };
  };
  const out = [`${name}: generators ${generators.join(', ')} (in campaign order)`, `${'fault'.padEnd(30)} median   max  per seed                 first rule found, by`];
  for (const fault of Object.keys(ref.faults)) {
    const found: number[] = [];
    const nonStrict: number[] = [];
    const rules = new Set<string>();
    let probe: string | undefined;
    for (let s = 1; s <= budgetSeeds; s++) {
      let generated = 0;
      let firstNonStrict = Infinity;
      const r = await runCampaign({
        suite, profile, target: target(fault), seed: s, runs: budget,
        onCase: (_p, o, shrinking) => {
          if (shrinking) return;
          generated++;
          if (o.verdict === 'non-strict' && !Number.isFinite(firstNonStrict)) firstNonStrict = generated;
        },
      });
      if (!r.firstProbeOk) probe = r.stopped;
      const first = [...r.findings].sort((a, b) => a.foundAfter.generated - b.foundAfter.generated)[0];
      found.push(first ? first.foundAfter.generated : Infinity);
      nonStrict.push(firstNonStrict);
      if (first) rules.add(`${first.rule} by ${first.arbitrary}`);
    }
    const label = fault.padEnd(30);
    if (found.some(Number.isFinite)) {
      out.push(`${label} ${(Number.isFinite(median(found)) ? String(median(found)) : `>${budget}`).padStart(6)} ${(Number.isFinite(Math.max(...found)) ? String(Math.max(...found)) : `>${budget}`).padStart(5)}  ${found.map(count).join(', ').padEnd(24)} ${[...rules].join('; ')}`);
    } else if (probe !== undefined) {
      out.push(`${label} caught by the liveness probe before the first program (${probe.replace(/^the target did not pass the liveness probe before the first case \(/, '').slice(0, 100)}…)`);
    } else if (nonStrict.some(Number.isFinite)) {
      out.push(`${label} a SHOULD: never a finding (a non-strict case); first non-strict program: median ${count(median(nonStrict))}, max ${count(Math.max(...nonStrict))} (${nonStrict.map(count).join(', ')})`);
    } else {
      const run = await runSuiteInProcess({ suite, profile, fault });
      const caught = run.cases.filter((c) => c.verdict !== 'pass' && c.verdict !== 'skipped').map((c) => `${c.id.replace(`${name}/`, '')}${c.rule ? ` ${c.rule}` : ''}`);
      out.push(`${label} not reachable by bounded programs (${budget} a seed; caught by cases: ${caught.join(', ') || 'none'})`);
    }
  }
  return out;
}

/** The tests' profile: the short timers, with room for a loaded 2-core machine (test/suite/_run.ts). */
const profile: ProtonProfile = { ...fastProfile, toleranceMs: 300 };

/** Profiles of the budget campaigns (section 4): Proton's and Moonpool's tests' profiles (as sections 1 and 5); every other protocol's fast profile. */
const budgetProfiles: Readonly<Record<string, object>> = { proton: profile, moonpool: mpProfile };

const { values } = parseArgs({
  options: {
    runs: { type: 'string' },
    'mem-runs': { type: 'string' },
    handshakes: { type: 'string' },
    seed: { type: 'string' },
    'skip-awaited': { type: 'boolean' },
    'budget-seeds': { type: 'string' },
    budget: { type: 'string' },
    protocols: { type: 'string' },
    'budgets-only': { type: 'boolean' },
  },
});
const int = (v: string | undefined, d: number): number => (v === undefined ? d : Math.max(1, Math.trunc(Number(v)) || d));
const runs = int(values.runs, 60);
const memRuns = int(values['mem-runs'], 2000);
const handshakes = int(values.handshakes, 100);
const seed = values.seed === undefined ? 1 : Math.trunc(Number(values.seed));
const budgetSeeds = int(values['budget-seeds'], 5);
const budget = int(values.budget, 300);
const budgetProtocols = values.protocols ? values.protocols.split(',').map((x) => x.trim()).filter(Boolean) : listProtocols();

const log = (s: string) => process.stderr.write(`${s}\n`);

/** What one campaign run measured. */
interface Measured {
  readonly label: string;
  readonly result: CampaignResult;
  readonly wallMs: number;
  /** Listings of the generated programs, in order (to compare campaigns). */
  readonly programs: string[];
  /** Sum of the programs' planned waits (ms, generated and shrinking cases). */
  readonly waitsMs: number;
  /** Sum of the case durations (ms, without the liveness probes). */
  readonly caseMs: number;
  /** Durations of the cases whose program has no wait step (ms). */
  readonly noWaitMs: number[];
}

async function measure(label: string, target: FuzzTarget, n: number): Promise<Measured> {
  const programs: string[] = [];
  let waitsMs = 0;
  let caseMs = 0;
  const noWaitMs: number[] = [];
  const t0 = performance.now();
  const result = await runCampaign({
    suite,
    profile,
    target,
    seed,
    runs: n,
    onCase: (p: FuzzProgram, out, shrinking) => {
      if (!shrinking) programs.push(String(p));
      caseMs += out.durationMs;
      let w = 0;
      for (const s of p.steps) if ('do' in s && s.do === 'wait') w += evalDuration(s.ms, profile);
      waitsMs += w;
      if (w === 0) noWaitMs.push(out.durationMs);
    },
  });
  return { label, result, wallMs: performance.now() - t0, programs, waitsMs, caseMs, noWaitMs };
}

function memoryTarget(fault?: string): FuzzTarget {
  const clock = new VirtualClock();
  const mem = createMemoryTarget({ core: createReferenceCore({ profile, ...(fault ? { fault } : {}) }), clock, alpn: [profile.alpn] });
  return { url: 'memory:proton', driver: mem.driver, connect: mem.connect, clock };
}

const rate = (n: number, ms: number) => (ms > 0 ? (n * 1000) / ms : 0);
const f1 = (x: number) => x.toFixed(1);

/** Section 4 for every protocol of `--protocols`. */
async function budgetSection(): Promise<string[]> {
  log('4. budgets per fault …');
  const out = [`budget per fault: programs generated until the first finding (all generators, 20 a round), in-process, seeds 1..${budgetSeeds} (of ${budget}; - = not found)`];
  for (const name of budgetProtocols) {
    log(`   ${name} …`);
    out.push('', ...(await budgetTable(name)));
  }
  return out;
}

async function main(): Promise<void> {
  if (values['budgets-only']) {
    process.stdout.write(`${(await budgetSection()).join('\n')}\n`);
    return;
  }
  log(`bench/fuzz: seed ${seed}, ${runs} programs over QUIC, ${memRuns} in-process, ${handshakes} bare handshakes`);
  const { certPem, keyPem } = await generateSelfSigned();
  const server = await startProtonServer({ profile, cert: certPem, key: keyPem });
  const connect = { host: server.host, port: server.port, connectTimeoutMs: 3000, ca: certPem, serverName: 'localhost' };
  const rows: Measured[] = [];
  try {
    log('1. QUIC campaign, overlapped closes …');
    const ov = overlapCloses(quicDriver);
    rows.push(await measure('QUIC, overlapped closes', { url: `quic://127.0.0.1:${server.port}`, driver: ov.driver, connect, drain: () => ov.drain() }, runs));
    if (!values['skip-awaited']) {
      log('1. QUIC campaign, awaited closes …');
      rows.push(await measure('QUIC, awaited closes', { url: `quic://127.0.0.1:${server.port}`, driver: quicDriver, connect }, runs));
    }
  } finally {
    await server.stop();
  }
  log('2. in-process campaigns …');
  const memSame = await measure('in-process (same campaign)', memoryTarget(), runs);
  const memBig = await measure(`in-process (${memRuns} programs)`, memoryTarget(), memRuns);

  log('3. bare handshakes …');
  const echo = await startEchoServer({ host: '127.0.0.1', alpn: 'bench', certPem, keyPem, timers: { idleTimeoutMs: 5000, keepAliveMs: 1000 } });
  const hs = async (awaitClose: boolean): Promise<number> => {
    const closing: Promise<boolean>[] = [];
    const t0 = performance.now();
    for (let i = 0; i < handshakes; i++) {
      const c = await bareConnect({ host: '127.0.0.1', port: echo.port, alpn: 'bench', serverName: 'localhost', ca: certPem, timers: { idleTimeoutMs: 5000, keepAliveMs: 1000 }, timerMs: 3000 });
      if (awaitClose) await bareClose(c);
      else closing.push(bareClose(c));
    }
    const ms = performance.now() - t0;
    await Promise.all(closing);
    return rate(handshakes, ms);
  };
  let hsAwait = 0;
  let hsOverlap = 0;
  try {
    await hs(true); // warm-up
    hsAwait = await hs(true);
    hsOverlap = await hs(false);
  } finally {
    await echo.stop();
  }

  const budgets = await budgetSection();

  log('5. Moonpool …');
  const mp = await moonpoolFigures();

  const out: string[] = [];
  out.push(`wirecheck fuzz bench — ${platform()} ${arch()}, ${availableParallelism()} CPUs (${cpus()[0]?.model.trim() ?? '?'}), load ${loadavg().map((x) => x.toFixed(2)).join(' ')}, Node ${process.version}`);
  out.push(`profile: tests' short timers (identTimeoutMs ${profile.identTimeoutMs}, ioTimeoutMs ${profile.ioTimeoutMs}, commitDelayMs ${profile.commitDelayMs}, actionIntervalMs ${profile.actionIntervalMs}, toleranceMs ${profile.toleranceMs}); seed ${seed}`);
  out.push('');
  out.push('campaign                          programs  cases  wall (s)  cases/s  waits %  case-waits/case  probe+engine/case  no-wait case p50  findings');
  for (const m of [...rows, memSame, memBig]) {
    const s = m.result.stats;
    const virtual = m.result.target.startsWith('memory');
    const ms = (x: number) => (virtual ? '(virtual)' : `${f1(x)} ms`);
    const sorted = [...m.noWaitMs].sort((a, b) => a - b);
    const p50 = sorted.length ? sorted[sorted.length >> 1]! : NaN;
    out.push(
      `${m.label.padEnd(33)} ${String(s.generated).padStart(8)} ${String(s.cases).padStart(6)} ${(m.wallMs / 1000).toFixed(2).padStart(9)} ${f1(rate(s.cases, m.wallMs)).padStart(8)} ` +
        `${(virtual ? '-' : f1((100 * m.waitsMs) / m.wallMs)).padStart(8)} ${ms((m.caseMs - m.waitsMs) / s.cases).padStart(16)} ${ms((m.wallMs - m.caseMs) / s.cases).padStart(18)} ${(virtual ? '(virtual)' : `${p50} ms (${sorted.length})`).padStart(17)}  ${m.result.findings.length}`,
    );
  }
  out.push('waits %: the programs\u2019 wait steps (around the profile\u2019s timers) as a share of the wall time; case-waits/case: the rest of a case (connect, exchanges, the drain until the model owes nothing, close);');
  out.push('probe+engine/case: the liveness probe (a fresh connection and one exchange) and the engine; no-wait case p50: median case (without probe) of programs with no wait step.');
  const same = memSame.programs.length === rows[0]!.programs.length && memSame.programs.every((p, i) => p === rows[0]!.programs[i]);
  out.push(`same programs over QUIC and in-process: ${same ? 'yes' : 'NO'} (${rows[0]!.programs.length} generated)`);
  out.push(`in-process speed-up over QUIC (overlapped): ×${f1(rate(memBig.result.stats.cases, memBig.wallMs) / rate(rows[0]!.result.stats.cases, rows[0]!.wallMs))}`);
  out.push('');
  out.push(`bare @matrixai/quic connections/s (connect + close, ${handshakes} sequential): ${f1(hsAwait)} awaiting destroy(), ${f1(hsOverlap)} not awaiting`);
  out.push(`physical limit of connection-per-case fuzzing with a liveness probe (2 connections per case): about ${f1(hsOverlap / 2)} cases/s`);
  out.push('');
  out.push(...budgets);
  out.push('', ...mp);
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/fuzz: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
