/**
 * A fuzz campaign: the protocol's generators (`suite.fuzz`) drive
 * fast-check's async property runner; each generated program runs as a
 * fixture case (harness/fixtures `fixtureToCase`) through the engine's
 * `runCase`, judged live by the protocol's monitor (the model is the
 * oracle), and is followed by a liveness check (the suite's sanity probe on
 * a fresh connection). A failure is shrunk by fast-check to a minimal
 * program that breaks the same rule, then reported with its seed and path
 * (replayable) and as a fixture (`wirecheck replay`).
 *
 * Seeds: the campaign is a sequence of rounds of `runsPerRound` cases; round
 * `g` uses generator `g mod A` (A generators) and the fast-check seed
 * `roundSeed(seed, g)`. Shard `i/n` runs the rounds `g ≡ i (mod n)`: shards
 * are disjoint, and together they run exactly the unsharded campaign.
 */
import fc from 'fast-check';
import type { ConnectOptions, Driver } from '../drivers/types.js';
import type { VirtualClock } from '../engine/clock.js';
import { runCase, type CaseRunOutcome } from '../engine/case-run.js';
import { toolVersion } from '../engine/runner.js';
import type { CaseResult, ProtocolSuite } from '../engine/types.js';
import { probeCaseResult, runProbe, type ProbeOutcome } from '../engine/probe.js';
import { fixtureToCase } from '../fixtures/case.js';
import type { Fixture } from '../fixtures/format.js';
import { FAILING, programToFixture, ruleSlug } from './program.js';
import type { FuzzProgram, ShardSpec } from './types.js';

/** Where the campaign sends its cases. */
export interface FuzzTarget {
  /** Target URL for reports: `quic://host:port`, or `memory:<protocol>[?fault=NAME]` for an in-process core. */
  readonly url: string;
  readonly driver: Driver;
  /** Connect options (host, port, TLS); the suite's profile-derived options are added. */
  readonly connect: ConnectOptions;
  /** Set for an in-process target (harness/drivers/memory.ts): every case runs in this virtual time. */
  readonly clock?: VirtualClock;
  /** Waits for the driver's background work (overlapped closes, harness/fuzz/overlap.ts) at the end of the campaign. */
  readonly drain?: () => Promise<void>;
}

/** Options of {@link runCampaign}. */
export interface CampaignOptions<P extends object> {
  readonly suite: ProtocolSuite<P>;
  readonly profile: P;
  readonly target: FuzzTarget;
  /** Campaign seed (any integer; each round's fast-check seed is derived from it). */
  readonly seed: number;
  /** Programs to generate over the whole campaign, all shards together (default 100 when no `durationMs`). */
  readonly runs?: number;
  /** Time box (ms, real time): no new program after it; a shrink under way is cut short. */
  readonly durationMs?: number;
  /** This shard of the campaign (default 0/1). */
  readonly shard?: ShardSpec;
  /** Generators to use (default all of `suite.fuzz.arbitraries`), in this order. */
  readonly arbitraries?: readonly string[];
  /** Replays one counterexample: fast-check seed and path of the round that found it (needs exactly one generator). */
  readonly replay?: { readonly seed: number; readonly path: string };
  /** Programs per round (default {@link RUNS_PER_ROUND}). Part of the campaign's identity: keep it when sharding. */
  readonly runsPerRound?: number;
  /** Most cases spent shrinking one failure (default {@link MAX_SHRINK_CASES}); then the smallest so far is reported. */
  readonly maxShrinkCases?: number;
  /** Deadline of one liveness probe (ms; default 10 s). */
  readonly probeDeadlineMs?: number;
  /** Called after every case (generated or shrinking), for progress lines. */
  readonly onProgress?: (p: CampaignProgress) => void;
  /** Called when a finding is complete (shrunk). */
  readonly onFinding?: (f: FuzzFinding) => void;
  /** Called with every program run and its verdict (tests; `--verbose`). */
  readonly onCase?: (program: FuzzProgram, outcome: CaseRunOutcome, shrinking: boolean) => void;
  /** Aborting stops the campaign after the current case; the result is partial (`stopped`). */
  readonly signal?: AbortSignal;
  /**
   * Called once, before the first case, with a function that returns the
   * campaign so far as a result stopped for `why` (cases run, findings,
   * coverage): what the CLI writes as partial reports when the process must
   * end before the campaign does (SIGTERM, an internal error).
   */
  readonly onStart?: (partial: (why: string) => CampaignResult) => void;
}

/** Programs per round. */
export const RUNS_PER_ROUND = 20;
/** Default shrink budget per finding (cases). */
export const MAX_SHRINK_CASES = 300;

/** Counters of a campaign. */
export interface CampaignStats {
  /** Cases run (generated and shrinking). */
  cases: number;
  /** Programs generated (not counting shrink candidates). */
  generated: number;
  /** Cases run while shrinking. */
  shrinkCases: number;
  /** Cases whose verdict was non-strict (a SHOULD missed; not a finding). */
  nonStrict: number;
  /** Cases that ended in a harness or network error (not a finding). */
  errors: number;
  /** Failures of a rule already reported (not shrunk again). */
  duplicates: number;
  /** Liveness probes run, and how many failed. */
  probes: number;
  probeFailures: number;
}

/** Progress of a running campaign. */
export interface CampaignProgress {
  readonly stats: Readonly<CampaignStats>;
  /** Real time since the start (ms). */
  readonly elapsedMs: number;
  readonly findings: number;
  /** Coverage labels reached so far, and all of them. */
  readonly covered: number;
  readonly labels: number;
  /** States / transitions reached (labels `state:…` / `transition:…`). */
  readonly states: { readonly covered: number; readonly total: number };
  readonly transitions: { readonly covered: number; readonly total: number };
  /** Generator of the current round, and whether a failure is being shrunk. */
  readonly arbitrary: string;
  readonly shrinking: boolean;
}

/** A shrunk failure. */
export interface FuzzFinding {
  /** Report case id: `<protocol>/fuzz/<generator>-<rule>`. */
  readonly id: string;
  readonly arbitrary: string;
  /** Rule broken (the monitor's, or the suite's liveness rule). */
  readonly rule: string;
  readonly verdict: 'fail' | 'timeout';
  /** What was expected and seen. */
  readonly message: string;
  /** Round of the campaign, its fast-check seed and the counterexample's path: `--replay SEED:PATH`. */
  readonly round: number;
  readonly seed: number;
  readonly path: string;
  /** Campaign counters when the first failure of this rule was seen: its budget. */
  readonly foundAfter: { readonly generated: number; readonly cases: number; readonly ms: number };
  /** Cases spent shrinking it. */
  readonly shrinkCases: number;
  /** The target failed the liveness check after the counterexample. */
  readonly targetDied: boolean;
  /** The counterexample as text (each step named, with the model's predictions). */
  readonly listing: string;
  /** The counterexample as a fixture (`observed` holds the failure). */
  readonly fixture: Fixture;
  /** The counterexample's run (trace, violation), as reports carry it. */
  readonly result: CaseResult;
}

/** A finished (or stopped) campaign: what `<protocol>.fuzz.json` holds and reports are made from. */
export interface CampaignResult {
  readonly format: 'wirecheck-fuzz';
  readonly version: 1;
  readonly tool: { readonly name: 'wirecheck'; readonly version: string };
  readonly protocol: string;
  readonly specVersion: string;
  readonly target: string;
  readonly profile: object;
  readonly seed: number;
  readonly shard: ShardSpec;
  /** Set on a merged campaign (`wirecheck fuzz merge`): the shards it is made of. */
  readonly shards?: readonly ShardSpec[];
  readonly arbitraries: readonly string[];
  readonly budget: { readonly runs?: number; readonly durationMs?: number; readonly runsPerRound: number };
  readonly startedAt: string;
  readonly durationMs: number;
  /** Rounds run (indices into the campaign). */
  readonly rounds: readonly number[];
  readonly stats: CampaignStats;
  /** Per generator: programs generated, cases, findings. */
  readonly perArbitrary: Readonly<Record<string, { generated: number; cases: number; findings: number; duplicates: number }>>;
  /** Coverage: every label of the protocol, and how many cases reached each (absent: never). */
  readonly coverage: { readonly labels: readonly string[]; readonly hits: Readonly<Record<string, number>> };
  readonly findings: readonly FuzzFinding[];
  /** Why the campaign ended before its budget (interrupted, target unreachable or dead); absent when it ran out its budget. */
  readonly stopped?: string;
  /** False when the liveness probe failed before the first case (the target is unreachable, silent, or answers wrongly). */
  readonly firstProbeOk: boolean;
  /**
   * The first probe's exchange as a failing case (`<protocol>/sanity-probe`,
   * engine/probe.ts) when the target was reached and answered wrongly: a
   * conformance failure found before any program ran (the CLI exits 1, as
   * `run` does), not an unreachable target.
   */
  readonly probeFailure?: CaseResult;
  /** Set when the campaign replayed one counterexample. */
  readonly replay?: { readonly arbitrary: string; readonly seed: number; readonly path: string };
}

/** fast-check seed of round `g` of a campaign seeded `seed` (a 32-bit mix). */
export function roundSeed(seed: number, g: number): number {
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(g + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) | 0;
}


/** Raised inside the property for a failure (fast-check keeps it as the counterexample's error). */
class FuzzFailure extends Error {
  constructor(readonly signature: string, message: string) {
    super(message);
    this.name = 'FuzzFailure';
  }
}

interface Execution {
  readonly program: FuzzProgram;
  readonly out: CaseRunOutcome;
  readonly alive: boolean;
  readonly probeMessage?: string;
  readonly fixture: Fixture;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Runs a campaign. Never rejects for anything the target does: findings,
 * a dead target (`stopped`) and an unreachable one (`firstProbeOk: false`)
 * are results.
 * @throws Error when the suite has no `fuzz` support, or a generator name is unknown (messages list the known ones).
 */
export async function runCampaign<P extends object>(o: CampaignOptions<P>): Promise<CampaignResult> {
  const { suite, profile, target } = o;
  const fuzz = suite.fuzz;
  if (!fuzz) throw new Error(`protocol ${suite.name} has no fuzz generators (suite.fuzz)`);
  const all = await fuzz.arbitraries(profile);
  const names = o.arbitraries && o.arbitraries.length > 0 ? [...o.arbitraries] : Object.keys(all);
  for (const n of names) if (!all[n]) throw new Error(`unknown generator ${JSON.stringify(n)} for ${suite.name}; known: ${Object.keys(all).join(', ')}`);
  if (o.replay && names.length !== 1) throw new Error(`a replay needs exactly one generator (the one that found it); got ${names.join(', ')}`);
  const shard = o.shard ?? { index: 0, count: 1 };
  const perRound = o.runsPerRound ?? RUNS_PER_ROUND;
  const maxShrink = o.maxShrinkCases ?? MAX_SHRINK_CASES;
  const runs = o.runs ?? (o.durationMs === undefined ? 100 : undefined);
  const connect: ConnectOptions = { ...target.connect, ...suite.connectOptions(profile), ...stripUndefined(target.connect) };
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const deadline = o.durationMs !== undefined ? started + o.durationMs : Infinity;
  const exec = <T>(p: Promise<T>): Promise<T> => (target.clock ? target.clock.run(p) : p);

  const stats: CampaignStats = { cases: 0, generated: 0, shrinkCases: 0, nonStrict: 0, errors: 0, duplicates: 0, probes: 0, probeFailures: 0 };
  const perArbitrary: Record<string, { generated: number; cases: number; findings: number; duplicates: number }> = {};
  for (const n of names) perArbitrary[n] = { generated: 0, cases: 0, findings: 0, duplicates: 0 };
  const hits = new Map<string, number>();
  const labels = fuzz.coverageLabels;
  const stateTotal = labels.filter((l) => l.startsWith('state:')).length;
  const findings: FuzzFinding[] = [];
  const known = new Set<string>();
  const rounds: number[] = [];
  let stopped: string | undefined;
  let dead = false;
  let current = names[0]!;
  let shrinking = false;
  let firstOk = false;
  let probeFailure: CaseResult | undefined;
  o.onStart?.((why) => {
    const r = finish(why, firstOk);
    // A copy of the counters: the campaign may go on while the partial reports are written.
    return { ...r, stats: { ...r.stats }, perArbitrary: Object.fromEntries(Object.entries(r.perArbitrary).map(([k, v]) => [k, { ...v }])), findings: [...r.findings], rounds: [...r.rounds] };
  });

  const progress = () => {
    if (!o.onProgress) return;
    let covered = 0;
    let states = 0;
    for (const l of labels) {
      if (!hits.has(l)) continue;
      covered++;
      if (l.startsWith('state:')) states++;
    }
    o.onProgress({
      stats,
      elapsedMs: performance.now() - started,
      findings: findings.length,
      covered,
      labels: labels.length,
      states: { covered: states, total: stateTotal },
      transitions: { covered: covered - states, total: labels.length - stateTotal },
      arbitrary: current,
      shrinking,
    });
  };

  /**
   * A liveness check: the suite's probe on a fresh connection, `attempts`
   * times until it passes. After a case it runs once: a target must serve
   * the next connection at once; a second one only decides whether the
   * target is dead for good (the campaign stops).
   */
  const alive = async (attempts = 1): Promise<{ ok: boolean; message?: string; last?: ProbeOutcome }> => {
    let last: ProbeOutcome | undefined;
    for (let attempt = 0; attempt < attempts; attempt++) {
      stats.probes++;
      last = await exec(runProbe({ suite, driver: target.driver, connect, profile, deadlineMs: o.probeDeadlineMs ?? 10_000, ...(target.clock ? { clock: target.clock } : {}) }));
      if (last.ok) return { ok: true };
      stats.probeFailures++;
    }
    return { ok: false, message: last?.message ?? '', ...(last ? { last } : {}) };
  };

  const runProgram = async (program: FuzzProgram): Promise<Execution> => {
    const fixture = programToFixture(program, { protocol: suite.name, id: `${suite.name}/fuzz/${program.arbitrary}` });
    const kase = fixtureToCase(fixture, suite);
    const monitor = suite.createMonitor(profile);
    const out = await exec(runCase({ driver: target.driver, connect, profile, monitor, body: (ctx) => kase.run(ctx), deadlineMs: kase.deadlineMs(profile), ...(target.clock ? { clock: target.clock } : {}) }));
    for (const l of monitor.coverage?.() ?? []) hits.set(l, (hits.get(l) ?? 0) + 1);
    const live = await alive();
    return { program, out, alive: live.ok, ...(live.message !== undefined ? { probeMessage: live.message } : {}), fixture };
  };

  /** The failure signature of an execution (the rule), or undefined when it passed. */
  const signature = (e: Execution): string | undefined => {
    if (FAILING.has(e.out.verdict) && e.out.rule !== undefined) return e.out.rule;
    if (!e.alive) return fuzz.livenessRule;
    return undefined;
  };

  const first = await alive(2);
  if (!first.ok) {
    await target.drain?.();
    if (first.last?.verdict === 'wrong') probeFailure = probeCaseResult(suite.name, first.last);
    return finish(`the target did not pass the liveness probe before the first case (${first.message ?? ''})`, false);
  }
  firstOk = true;

  /**
   * Runs a round: its `numRuns` programs, whatever is found. A new failure
   * ends fast-check's run (it shrinks it); the round then goes on from the
   * program after the failing one (fast-check's `path` with one segment
   * starts at that run), so a round generates the same programs whatever
   * earlier rounds found: shards together run exactly the unsharded campaign.
   */
  const runRound = async (g: number, arbName: string, seed: number, numRuns: number, path?: string): Promise<void> => {
    let start = 0;
    while (start < numRuns && !dead && !o.signal?.aborted && performance.now() < deadline && stopped === undefined) {
      const next = await checkFrom(g, arbName, seed, numRuns, start, path);
      if (next === undefined || path !== undefined) return;
      start = next;
    }
  };

  /** One fast-check run of a round from its program `start`; returns where to resume after a finding (undefined: done). */
  const checkFrom = async (g: number, arbName: string, seed: number, numRuns: number, start: number, path?: string): Promise<number | undefined> => {
    current = arbName;
    const stat = perArbitrary[arbName]!;
    let hunting: string | undefined;
    let huntStart = { generated: 0, cases: 0, ms: 0 };
    let shrinkCases = 0;
    let last: Execution | undefined;
    shrinking = false;
    const prop = fc.asyncProperty(all[arbName]!, async (program) => {
      if (dead || o.signal?.aborted) {
        fc.pre(false);
      }
      if (hunting !== undefined) {
        if (shrinkCases >= maxShrink || performance.now() > deadline + 30_000) return true;
        shrinkCases++;
        stats.shrinkCases++;
      } else {
        stats.generated++;
        stat.generated++;
      }
      stats.cases++;
      stat.cases++;
      const e = await runProgram(program);
      if (e.out.verdict === 'non-strict') stats.nonStrict++;
      if (e.out.verdict === 'error') stats.errors++;
      o.onCase?.(program, e.out, hunting !== undefined);
      progress();
      const sig = signature(e);
      if (!e.alive && sig === fuzz.livenessRule) {
        // Is it dead for good? One more probe after a pause decides whether going on makes sense.
        const again = await alive();
        if (!again.ok) dead = true;
      }
      if (sig === undefined) return true;
      if (hunting === undefined) {
        if (known.has(sig) && !path) {
          stats.duplicates++;
          stat.duplicates++;
          return true;
        }
        hunting = sig;
        shrinking = true;
        huntStart = { generated: stats.generated, cases: stats.cases, ms: Math.round(performance.now() - started) };
      } else if (sig !== hunting) {
        return true;
      }
      last = e;
      throw new FuzzFailure(sig, `${e.out.verdict} ${sig}: ${e.out.message ?? e.probeMessage ?? ''}`);
    });
    const remaining = deadline - performance.now();
    const details = await fc.check(prop, {
      seed,
      numRuns: numRuns - start,
      ...(path !== undefined ? { path, endOnFailure: true } : start > 0 ? { path: String(start) } : {}),
      ...(Number.isFinite(remaining) && path === undefined ? { interruptAfterTimeLimit: Math.max(1, Math.round(remaining)) } : {}),
    });
    shrinking = false;
    if (!details.failed || hunting === undefined || last === undefined) {
      // (A dead target or an interrupt skips the remaining programs with fc.pre, which fast-check may report as a failure: not the generator's.)
      if (details.failed && !dead && !o.signal?.aborted && !(details.errorInstance instanceof FuzzFailure) && details.errorInstance !== null) {
        // Not ours: a generator or the engine threw. Report it as a campaign stop, not a finding.
        stopped = `generator ${arbName} failed: ${details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance)}`;
      }
      return undefined;
    }
    const e: Execution = last;
    const sig = hunting;
    known.add(sig);
    stat.findings++;
    const cePath = details.counterexamplePath ?? '';
    const replayToken = `${seed}:${cePath}`;
    // The last failing run is fast-check's final counterexample (shrinking keeps the last failure).
    const listing = String(e.program);
    const verdict: 'fail' | 'timeout' = e.out.verdict === 'timeout' ? 'timeout' : 'fail';
    const baseMessage = FAILING.has(e.out.verdict) ? (e.out.message ?? '') : `after this case the target did not accept a fresh connection and serve a valid exchange (${e.probeMessage ?? ''})`;
    const id = `${suite.name}/fuzz/${arbName}-${ruleSlug(sig)}`;
    const fixture = programToFixture(e.program, {
      protocol: suite.name,
      id,
      rule: sig,
      observed: { verdict, rule: sig, message: baseMessage, target: target.url, date: new Date().toISOString(), case: `${suite.name}/fuzz/${arbName} --replay ${replayToken}` },
    });
    const result: CaseResult = {
      id,
      section: 'fuzz',
      rules: fixture.rules,
      description: e.program.description,
      requirement: fixture.requirement,
      expected: [`the ${suite.name} monitor accepts the whole trace`, 'then the liveness probe passes on a fresh connection'],
      verdict,
      rule: sig,
      message: `${baseMessage} [replay: --arbitraries ${arbName} --replay ${replayToken}]`,
      ...(FAILING.has(e.out.verdict) && e.out.violation !== undefined ? { violation: e.out.violation } : {}),
      durationMs: e.out.durationMs,
      trace: e.out.trace.events,
      ...(!e.alive ? { targetDiedAfter: true } : {}),
    };
    const finding: FuzzFinding = {
      id,
      arbitrary: arbName,
      rule: sig,
      verdict,
      message: baseMessage,
      round: g,
      seed,
      path: cePath,
      foundAfter: huntStart,
      shrinkCases,
      targetDied: !e.alive,
      listing,
      fixture,
      result,
    };
    findings.push(finding);
    o.onFinding?.(finding);
    // The first segment of the path is the failing program's run index in the round.
    const failed = Number(cePath.split(':')[0]);
    return Number.isInteger(failed) ? failed + 1 : undefined;
  };

  if (o.replay) {
    await runRound(-1, names[0]!, o.replay.seed, 1, o.replay.path);
    rounds.push(-1);
  } else {
    const totalRounds = runs !== undefined ? Math.ceil(runs / perRound) : Infinity;
    for (let g = shard.index; g < totalRounds; g += shard.count) {
      if (o.signal?.aborted) {
        stopped = 'interrupted';
        break;
      }
      if (dead) {
        stopped = 'the target stopped passing the liveness probe';
        break;
      }
      if (performance.now() >= deadline) break;
      if (stopped !== undefined) break;
      const numRuns = runs !== undefined ? Math.min(perRound, runs - g * perRound) : perRound;
      rounds.push(g);
      await runRound(g, names[g % names.length]!, roundSeed(o.seed, g), numRuns);
    }
  }
  if (o.signal?.aborted) stopped ??= 'interrupted';
  if (dead) stopped ??= 'the target stopped passing the liveness probe';
  await target.drain?.();
  return finish(stopped, true);

  function finish(why: string | undefined, firstProbeOk: boolean): CampaignResult {
    return {
      format: 'wirecheck-fuzz',
      version: 1,
      tool: { name: 'wirecheck', version: toolVersion },
      protocol: suite.name,
      specVersion: suite.specVersion,
      target: target.url,
      profile,
      seed: o.seed,
      shard,
      arbitraries: names,
      budget: { ...(runs !== undefined ? { runs } : {}), ...(o.durationMs !== undefined ? { durationMs: o.durationMs } : {}), runsPerRound: perRound },
      startedAt,
      durationMs: Math.round(performance.now() - started),
      rounds,
      stats,
      perArbitrary,
      coverage: { labels: [...labels], hits: Object.fromEntries([...hits].sort(([a], [b]) => a.localeCompare(b))) },
      findings,
      ...(why !== undefined ? { stopped: why } : {}),
      firstProbeOk,
      ...(probeFailure ? { probeFailure } : {}),
      ...(o.replay ? { replay: { arbitrary: names[0]!, seed: o.replay.seed, path: o.replay.path } } : {}),
    };
  }
}
