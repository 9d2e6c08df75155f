/**
 * Runs the Proton suite against the reference server: in this process (the
 * reference core over the in-memory driver, virtual time: what the fault
 * matrix and whole-suite checks use) or over QUIC on loopback (the smoke run).
 */
import type { RunResult } from '../../harness/engine/types.js';
import { suite } from '../../suites/proton/index.js';
import { fastProfile, type ProtonProfile } from '../../suites/proton/profile.js';
import { runSuiteInProcess, runSuiteOverSockets } from '../_support/in-process.js';

export { byVerdict } from '../_support/in-process.js';

/** Profile of the project's tests: the short timers, tolerance 300 ms (in process and the fault matrices; the whole-suite smoke run over sockets uses {@link smokeProfile}). */
export const testProfile: ProtonProfile = { ...fastProfile, toleranceMs: 300 };

/**
 * Profile of the smoke runs over real sockets ({@link runAgainstReference}
 * with the whole suite; test/cli.test.ts's live run): {@link testProfile}
 * with a tolerance of 1 s. Over sockets the ack of an event id (PROTON-4.3,
 * a MUST "within toleranceMs"), the next action item (PROTON-6.3) and the
 * closes (PROTON-3.4, 7.1) are judged in wall time, and harness and server
 * share one event loop: a loaded 2-core machine stalled both for more than
 * 300 ms (`proton/event/long-session: timeout … ack 00000047 … saw nothing`).
 * `ioTimeoutMs` grows with it: PROTON-5.3's band (commit delay ± tolerance)
 * must stay inside the send timeout. The fault matrix keeps
 * {@link testProfile}: a wider tolerance would let a late-answering fault pass.
 */
export const smokeProfile: ProtonProfile = { ...testProfile, toleranceMs: 1_000, ioTimeoutMs: 1_500 };

/** What to run: a fault of the reference server, a case filter (`runSuite` globs), a profile (default {@link testProfile}). */
export interface RunOpts {
  readonly fault?: string;
  readonly cases?: string;
  readonly profile?: ProtonProfile;
}

/** Runs the suite (or the cases `cases` selects) in process, in virtual time, against a fresh reference core. */
export function runInProcess(opts: RunOpts = {}): Promise<RunResult> {
  return runSuiteInProcess({ suite, profile: opts.profile ?? testProfile, ...(opts.fault !== undefined ? { fault: opts.fault } : {}), ...(opts.cases !== undefined ? { cases: opts.cases } : {}) });
}

/** Starts a reference server on loopback (QUIC), runs the suite against it, stops it. */
export function runAgainstReference(opts: RunOpts = {}): Promise<RunResult> {
  return runSuiteOverSockets({ suite, profile: opts.profile ?? testProfile, ...(opts.fault !== undefined ? { fault: opts.fault } : {}), ...(opts.cases !== undefined ? { cases: opts.cases } : {}) });
}
