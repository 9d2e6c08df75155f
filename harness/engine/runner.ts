/**
 * Runs a protocol's conformance suite against one target: sanity probe,
 * every selected case in order (each leaving the target usable), a probe
 * after every case that did not pass and at the end, and a {@link RunResult}.
 */
import type { ConnectOptions, Driver } from '../drivers/types.js';
import { runCase } from './case-run.js';
import type { Clock } from './clock.js';
import type { CaseResult, ConformanceCase, ProtocolSuite, RunResult, Verdict } from './types.js';
import { runProbe } from './probe.js';

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
  /** Called after each case. */
  readonly onCase?: (result: CaseResult, index: number, total: number) => void;
  /** Called after each probe. */
  readonly onProbe?: (when: string, ok: boolean, message?: string) => void;
  /** Deadline of one probe (ms); default 10 s. */
  readonly probeDeadlineMs?: number;
  /** Aborting it stops the run after the current case; the rest are `skipped`. */
  readonly signal?: AbortSignal;
  /** Time and timers of every case and probe (default the real clock; a `VirtualClock` with an in-memory target, harness/drivers/memory.ts). */
  readonly clock?: Clock;
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

/**
 * Runs the suite. Never rejects for anything a target does: resolves with
 * the full result, partial when the target died or the run was interrupted
 * (later cases `skipped`). When the first sanity probe fails every case is
 * `skipped` and `probes[0].ok` is false (the CLI's exit code 3).
 */
export async function runSuite<P extends object>(opts: RunOptions<P>): Promise<RunResult> {
  const { suite, profile } = opts;
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const connect: ConnectOptions = { ...opts.connect, ...suite.connectOptions(profile), ...stripUndefined(opts.connect) };
  const probes: { when: string; ok: boolean; message?: string }[] = [];
  const probeDeadline = opts.probeDeadlineMs ?? 10_000;
  const clock = opts.clock ? { clock: opts.clock } : {};

  const probe = async (when: string): Promise<boolean> => {
    const { ok, message } = await runProbe({ suite, driver: opts.driver, connect, profile, deadlineMs: probeDeadline, ...clock });
    probes.push({ when, ok, ...(message ? { message } : {}) });
    opts.onProbe?.(when, ok, message);
    return ok;
  };

  const selected = suite.cases.filter((c) => caseFilter(opts.cases)(c.id));
  const results: CaseResult[] = [];
  let skipReason: string | undefined;
  if (!(await probe('before the run'))) skipReason = `the sanity probe failed before the run (${probes[0]?.message ?? ''})`;
  for (const [i, c] of selected.entries()) {
    let result: CaseResult;
    if (skipReason === undefined && opts.signal?.aborted) skipReason = 'the run was interrupted';
    if (skipReason !== undefined) {
      result = { ...caseHeader(c, profile), verdict: 'skipped', message: skipReason, durationMs: 0, trace: [] };
    } else {
      const out = await runCase({ driver: opts.driver, connect, profile, monitor: suite.createMonitor(profile), body: (ctx) => c.run(ctx), deadlineMs: c.deadlineMs(profile), ...clock });
      result = {
        ...caseHeader(c, profile),
        verdict: out.verdict,
        ...(out.rule !== undefined ? { rule: out.rule } : {}),
        ...(out.message !== undefined ? { message: out.message } : {}),
        ...(out.violation !== undefined ? { violation: out.violation } : {}),
        durationMs: out.durationMs,
        trace: out.trace.events,
      };
      if (out.verdict !== 'pass' && out.verdict !== 'non-strict') {
        // A target that died or wedged is reported once, not as a cascade of timeouts.
        if (!(await probe(`after ${c.id}`)) && !(await probe(`after ${c.id} (retry)`))) {
          skipReason = `the target stopped answering the sanity probe after ${c.id}`;
          result = { ...result, targetDiedAfter: true };
        }
      }
    }
    results.push(result);
    opts.onCase?.(result, i, selected.length);
  }
  if (skipReason === undefined) await probe('after the run');

  const summary = { pass: 0, fail: 0, 'non-strict': 0, timeout: 0, error: 0, skipped: 0, total: results.length } satisfies Record<Verdict, number> & { total: number };
  for (const r of results) summary[r.verdict]++;
  return {
    tool: { name: 'wirecheck', version: toolVersion },
    protocol: suite.name,
    specVersion: suite.specVersion,
    target: opts.targetUrl,
    profile,
    startedAt,
    durationMs: Math.round(performance.now() - started),
    probes,
    cases: results,
    summary,
  };
}

function caseHeader<P>(c: ConformanceCase<P>, profile: P) {
  return { id: c.id, section: c.section, rules: c.rules, description: c.description, requirement: c.requirement, expected: c.expected(profile) };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
