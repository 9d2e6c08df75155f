/**
 * Runs a protocol's conformance suite against one target: sanity probe,
 * every selected case in order (each leaving the target usable), a probe
 * after every case that did not pass and at the end, and a {@link RunResult}.
 */
import type { ConnectOptions, Driver } from '../drivers/types.js';
import { runCase } from './case-run.js';
import type { Clock } from './clock.js';
import type { CaseResult, ConformanceCase, ProbeResult, ProtocolSuite, RunResult, Verdict } from './types.js';
import { probeCaseResult, runProbe, type ProbeOutcome } from './probe.js';
import { DEFAULT_CASE_TRACE_BYTES } from './trace.js';

/** Default byte budget of all the traces of one run (64 MiB): `--max-run-trace-bytes`. */
export const DEFAULT_RUN_TRACE_BYTES = 64 * 1024 * 1024;

/** Smallest budget a case gets once the run's budget is spent (64 KiB): enough for its evidence. */
export const MIN_CASE_TRACE_BYTES = 64 * 1024;

/** What {@link runSuite} needs. */
export interface RunOptions<P extends object> {
  readonly suite: ProtocolSuite<P>;
  readonly driver: Driver;
  /** Target URL as shown in reports. */
  readonly targetUrl: string;
  /** Connect options (host, port, TLS); the suite's profile-derived options are added. */
  readonly connect: ConnectOptions;
  readonly profile: P;
  /** Case id filter: glob with `*` (any run of characters), several separated by commas. */
  readonly cases?: string;
  /**
   * Called (and awaited) after each case; a returned result replaces the
   * case's in the run (e.g. with `traceFile` set once its trace was written).
   */
  readonly onCase?: (result: CaseResult, index: number, total: number) => void | CaseResult | Promise<void | CaseResult>;
  /** Called after each probe. */
  readonly onProbe?: (when: string, ok: boolean, message?: string, probe?: ProbeResult) => void;
  /** Byte budget of one case's trace (default {@link DEFAULT_CASE_TRACE_BYTES}). */
  readonly traceMaxBytes?: number;
  /** Byte budget of all traces of the run (default {@link DEFAULT_RUN_TRACE_BYTES}); past it each case gets {@link MIN_CASE_TRACE_BYTES}. */
  readonly runTraceMaxBytes?: number;
  /** Deadline of one probe (ms); default 10 s. */
  readonly probeDeadlineMs?: number;
  /** Aborting it stops the run after the current case; the rest are `skipped`. */
  readonly signal?: AbortSignal;
  /** Time and timers of every case and probe (default the real clock; a `VirtualClock` with an in-memory target, harness/drivers/memory.ts). */
  readonly clock?: Clock;
}

/** The cases of a suite for a profile: `casesFor(profile)` when the suite has it, else its static `cases`. */
export async function suiteCases<P extends object>(suite: ProtocolSuite<P>, profile: P): Promise<readonly ConformanceCase<P>[]> {
  return suite.casesFor ? suite.casesFor(profile) : suite.cases;
}

/** Version of wirecheck, for reports. */
export const toolVersion = '0.1.0';

/** Turns a `--cases` pattern into a predicate on case ids. */
export function caseFilter(pattern: string | undefined): (id: string) => boolean {
  if (!pattern) return () => true;
  const res = pattern
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\/]/g, '\\$&')).join('.*')}$`));
  return (id) => res.some((re) => re.test(id) || re.test(id.replace(/^[^/]+\//, '')));
}

/** Id of the case a run reports when its first sanity probe got a wrong or no answer: `<protocol>/sanity-probe`. */
export const probeCaseId = (protocol: string): string => `${protocol}/sanity-probe`;

/** Counts verdicts. */
export function summarize(results: readonly CaseResult[]): RunResult['summary'] {
  const summary = { pass: 0, fail: 0, 'non-strict': 0, timeout: 0, error: 0, skipped: 0, total: results.length } satisfies Record<Verdict, number> & { total: number };
  for (const r of results) summary[r.verdict]++;
  return summary;
}

/**
 * A {@link RunResult} from what a run has gathered so far (used for the
 * final result and for partial reports after an interruption or an internal error).
 */
export function assembleRun(o: {
  suite: ProtocolSuite<object>;
  targetUrl: string;
  profile: object;
  startedAt: string;
  durationMs: number;
  probes: readonly ProbeResult[];
  cases: readonly CaseResult[];
}): RunResult {
  return {
    tool: { name: 'wirecheck', version: toolVersion },
    protocol: o.suite.name,
    specVersion: o.suite.specVersion,
    target: o.targetUrl,
    profile: o.profile,
    startedAt: o.startedAt,
    durationMs: Math.max(0, Math.round(o.durationMs)),
    probes: [...o.probes],
    cases: [...o.cases],
    summary: summarize(o.cases),
  };
}

/**
 * Runs the suite. Never rejects for anything a target does: resolves with
 * the full result, partial when the target died or the run was interrupted
 * (later cases `skipped`). When the first sanity probe fails every case is
 * `skipped` and `probes[0].ok` is false: its `verdict` says whether the
 * target was `unreachable` (the CLI's exit code 3) or `silent` (3; a first
 * case `<protocol>/sanity-probe` with verdict timeout carries the trace).
 * A target that answered `wrong` is alive: a first case
 * `<protocol>/sanity-probe` (verdict fail: rule, bytes, trace) is reported
 * and the cases run; probes after cases count the target alive when the
 * exchange completed, even with an answer the model flags.
 */
export async function runSuite<P extends object>(opts: RunOptions<P>): Promise<RunResult> {
  const { suite, profile } = opts;
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const connect: ConnectOptions = { ...opts.connect, ...suite.connectOptions(profile), ...stripUndefined(opts.connect) };
  const probes: ProbeResult[] = [];
  const probeDeadline = opts.probeDeadlineMs ?? 10_000;
  const clock = opts.clock ? { clock: opts.clock } : {};
  const caseBudget = opts.traceMaxBytes ?? DEFAULT_CASE_TRACE_BYTES;
  let runBudgetLeft = opts.runTraceMaxBytes ?? DEFAULT_RUN_TRACE_BYTES;
  const budget = () => Math.min(caseBudget, Math.max(MIN_CASE_TRACE_BYTES, runBudgetLeft));
  let firstProbe: ProbeOutcome | undefined;

  /** Runs a probe; true when the target is alive (served the exchange, even with a wrong answer: the cases judge it). */
  const probe = async (when: string): Promise<boolean> => {
    const r = await runProbe({ suite, driver: opts.driver, connect, profile, deadlineMs: probeDeadline, ...clock });
    const passed = r.verdict === 'ok';
    const entry: ProbeResult = { when, ok: passed, verdict: r.verdict, ...(r.rule !== undefined ? { rule: r.rule } : {}), ...(r.message ? { message: r.message } : {}) };
    if (probes.length === 0) firstProbe = r;
    probes.push(entry);
    opts.onProbe?.(when, passed, r.message, entry);
    // Alive: the probe's exchange completed, even if the model flags the answer (engine/probe.ts ProbeOutcome.ok).
    return r.ok;
  };

  const selected = (await suiteCases(suite, profile)).filter((c) => caseFilter(opts.cases)(c.id));
  const results: CaseResult[] = [];
  let skipReason: string | undefined;
  await probe('before the run');
  if (!probes[0]!.ok) {
    const p = probes[0]!;
    if (p.verdict !== 'wrong') skipReason = `the sanity probe failed before the run (${p.message ?? ''})`;
    if (p.verdict === 'wrong' || p.verdict === 'silent') {
      const probeCase = probeCaseResult(suite.name, firstProbe!);
      results.push((await opts.onCase?.(probeCase, 0, selected.length + 1)) || probeCase);
    }
  }
  for (const [i, c] of selected.entries()) {
    let result: CaseResult;
    if (skipReason === undefined && opts.signal?.aborted) skipReason = 'the run was interrupted';
    if (skipReason !== undefined) {
      result = { ...caseHeader(c, profile), verdict: 'skipped', message: skipReason, durationMs: 0, trace: [] };
    } else {
      const out = await runCase({ driver: opts.driver, connect, profile, monitor: suite.createMonitor(profile), body: (ctx) => c.run(ctx), deadlineMs: c.deadlineMs(profile), traceMaxBytes: budget(), ...clock });
      runBudgetLeft -= out.trace.recordedBytes;
      result = {
        ...caseHeader(c, profile),
        verdict: out.verdict,
        ...(out.rule !== undefined ? { rule: out.rule } : {}),
        ...(out.message !== undefined ? { message: out.message } : {}),
        ...(out.violation !== undefined ? { violation: out.violation } : {}),
        durationMs: out.durationMs,
        trace: out.trace.events,
        ...(out.trace.truncation ? { traceTruncated: out.trace.truncation } : {}),
      };
      if (out.verdict !== 'pass' && out.verdict !== 'non-strict') {
        // A target that died or wedged is reported once, not as a cascade of timeouts.
        if (!(await probe(`after ${c.id}`)) && !(await probe(`after ${c.id} (retry)`))) {
          skipReason = `the target stopped answering the sanity probe after ${c.id}`;
          result = { ...result, targetDiedAfter: true };
        }
      }
    }
    results.push((await opts.onCase?.(result, i, selected.length)) || result);
  }
  if (skipReason === undefined) await probe('after the run');

  return assembleRun({ suite: suite as unknown as ProtocolSuite<object>, targetUrl: opts.targetUrl, profile, startedAt, durationMs: performance.now() - started, probes, cases: results });
}

function caseHeader<P>(c: ConformanceCase<P>, profile: P) {
  return { id: c.id, section: c.section, rules: c.rules, description: c.description, requirement: c.requirement, expected: c.expected(profile) };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
