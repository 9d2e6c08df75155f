/**
 * Runs the Moonpool suite against the reference server: in this process (the
 * reference core over the in-memory driver, virtual time: what the fault
 * matrix and whole-suite checks use) or over TCP on loopback (the smoke run,
 * and the cases that need a real network).
 */
import { caseFilter } from '../../harness/engine/runner.js';
import type { RunResult } from '../../harness/engine/types.js';
import { suite } from '../../suites/moonpool/index.js';
import { fastProfile, type MoonpoolProfile } from '../../suites/moonpool/profile.js';
import { runSuiteInProcess, runSuiteOverSockets } from '../_support/in-process.js';

export { byVerdict } from '../_support/in-process.js';

/** Profile of the project's tests: the short timers, with room for a loaded 2-core CI machine (over sockets). */
export const testProfile: MoonpoolProfile = { ...fastProfile, replyDeadlineMs: 800, toleranceMs: 300 };

/**
 * Cases that start a chaos proxy (harness/proxy, real TCP) in front of the
 * target: they impair a real network path, which the in-memory driver does
 * not have (its connections reach the core whatever host they name, so the
 * proxy would be bypassed). They run over TCP only; every other case runs in
 * process. test/moonpool/suite.test.ts checks this list against the smoke
 * run's traces (the cases whose trace notes a chaos proxy).
 */
export const networkOnlyCases: readonly string[] = [
  'moonpool/stall/stall-then-restore',
  'moonpool/stall/stall-mid-frame',
  'moonpool/stall/replies-held',
  'moonpool/stall/slow-link',
  'moonpool/reconnect/reset-then-reconnect',
  'moonpool/reconnect/lost-mid-frame',
];

/** `runSuite` case filter: every case of the suite that runs in process (all but {@link networkOnlyCases}). */
export const inProcessCases: string = suite.cases
  .map((c) => c.id)
  .filter((id) => !networkOnlyCases.includes(id))
  .join(',');

/** What to run: a fault of the reference server, a case filter (`runSuite` globs), a profile (default {@link testProfile}). */
export interface RunOpts {
  readonly fault?: string;
  readonly cases?: string;
  readonly profile?: MoonpoolProfile;
}

/**
 * Runs the cases `cases` selects (default: every case but {@link networkOnlyCases})
 * in process, in virtual time, against a fresh reference core.
 * @throws Error when `cases` selects a network-only case.
 */
export async function runInProcess(opts: RunOpts = {}): Promise<RunResult> {
  const cases = opts.cases ?? inProcessCases;
  const bad = networkOnlyCases.filter(caseFilter(cases));
  if (bad.length) throw new Error(`runInProcess: ${bad.join(', ')} need a real network (a chaos proxy); run them with runAgainstReference`);
  return runSuiteInProcess({ suite, profile: opts.profile ?? testProfile, cases, ...(opts.fault !== undefined ? { fault: opts.fault } : {}) });
}

/** Starts a reference server on loopback (TCP), with `fault` if given, runs the suite (or the cases matching `cases`) against it, stops it. */
export function runAgainstReference(opts: RunOpts = {}): Promise<RunResult> {
  return runSuiteOverSockets({ suite, profile: opts.profile ?? testProfile, ...(opts.fault !== undefined ? { fault: opts.fault } : {}), ...(opts.cases !== undefined ? { cases: opts.cases } : {}) });
}
