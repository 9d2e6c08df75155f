/**
 * Runs the Theta suite against the reference server: in this process (the
 * reference core over the in-memory driver, virtual time: the fault matrix
 * and whole-suite checks) or over QUIC on loopback (the smoke run).
 */
import type { ProtocolSuite, RunResult } from '../../harness/engine/types.js';
import { suite } from '../../suites/theta/index.js';
import { fastProfile, type ThetaProfile } from '../../suites/theta/profile.js';
import { runSuiteInProcess, runSuiteOverSockets } from '../_support/in-process.js';

/** Profile over sockets: the short timers with room for a loaded 2-core machine (SHOULD windows are wall time). */
export const socketProfile: ThetaProfile = { ...fastProfile, heartbeatIntervalMs: 200, heartbeatTimeoutMs: 1_500, handshakeTimeoutMs: 1_000, answerDeadlineMs: 800, toleranceMs: 150 };

/** What to run: a fault of the reference server, a case filter (`runSuite` globs), a profile. */
export interface RunOpts {
  readonly fault?: string;
  readonly cases?: string;
  readonly profile?: ThetaProfile;
}

/** Runs the suite (or the cases `cases` selects) in process, in virtual time, against a fresh reference core (default profile: the fast one). */
export function runInProcess(opts: RunOpts = {}): Promise<RunResult> {
  return runSuiteInProcess({ suite, profile: opts.profile ?? fastProfile, ...(opts.fault !== undefined ? { fault: opts.fault } : {}), ...(opts.cases !== undefined ? { cases: opts.cases } : {}) });
}

/** Starts a reference server on loopback (QUIC), runs the suite (or `cases`) against it, verifying its certificate, stops it. */
export function runAgainstReference(opts: RunOpts = {}): Promise<RunResult> {
  return runSuiteOverSockets({ suite, profile: opts.profile ?? socketProfile, ...(opts.fault !== undefined ? { fault: opts.fault } : {}), ...(opts.cases !== undefined ? { cases: opts.cases } : {}) });
}

/** What {@link runInMemory} runs. */
export interface MemoryRunOpts {
  /** The suite (default Theta's; e.g. with fixtures as its cases). */
  readonly suite?: ProtocolSuite<ThetaProfile>;
  /** The profile the suite judges by. */
  readonly profile: ThetaProfile;
  /** The profile the reference core serves with (default `profile`). */
  readonly coreProfile?: ThetaProfile;
  readonly fault?: string;
  readonly cases?: string;
}

/**
 * Runs a suite in process (virtual time) against a reference core that may
 * read the profile otherwise (`coreProfile`: its cases of that reading must
 * fail) or carry a fault.
 */
export function runInMemory(o: MemoryRunOpts): Promise<RunResult> {
  return runSuiteInProcess({ suite: o.suite ?? suite, profile: o.profile, ...(o.coreProfile !== undefined ? { serverProfile: o.coreProfile } : {}), ...(o.fault !== undefined ? { fault: o.fault } : {}), ...(o.cases !== undefined ? { cases: o.cases } : {}) });
}
