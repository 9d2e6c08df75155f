/**
 * Runs the Theta suite against the reference server: in this process (the
 * reference core over the in-memory driver, virtual time: the fault matrix
 * and whole-suite checks) or over QUIC on loopback (the smoke run).
 */
import { quicDriver } from '../../harness/drivers/quic.js';
import { runSuite } from '../../harness/engine/runner.js';
import type { ProtocolSuite, RunResult } from '../../harness/engine/types.js';
import { startThetaServer } from '../../reference-server/theta/index.js';
import { suite } from '../../suites/theta/index.js';
import { fastProfile, type ThetaProfile } from '../../suites/theta/profile.js';
import { createMemoryTarget } from '../../harness/drivers/memory.js';
import { VirtualClock } from '../../harness/engine/clock.js';
import { createReferenceCore } from '../../reference-server/theta/index.js';
import { runSuiteInProcess } from '../_support/in-process.js';

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
export async function runAgainstReference(opts: RunOpts = {}): Promise<RunResult> {
  const profile = opts.profile ?? socketProfile;
  const server = await startThetaServer({ profile, ...(opts.fault ? { fault: opts.fault } : {}) });
  try {
    return await runSuite({
      suite,
      driver: quicDriver,
      targetUrl: `quic://127.0.0.1:${server.port}`,
      connect: { host: server.host, port: server.port, connectTimeoutMs: 3000, ca: server.certPem!, serverName: 'localhost' },
      profile,
      ...(opts.cases ? { cases: opts.cases } : {}),
    });
  } finally {
    await server.stop();
  }
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
export async function runInMemory(o: MemoryRunOpts): Promise<RunResult> {
  const clock = new VirtualClock();
  const core = createReferenceCore({ profile: o.coreProfile ?? o.profile, ...(o.fault !== undefined ? { fault: o.fault } : {}) });
  const mem = createMemoryTarget({ core, clock, transport: 'quic', alpn: [o.profile.alpn] });
  try {
    return await clock.run(runSuite({ suite: o.suite ?? suite, driver: mem.driver, targetUrl: 'memory:theta', connect: mem.connect, profile: o.profile, clock, ...(o.cases !== undefined ? { cases: o.cases } : {}) }));
  } finally {
    mem.stop();
  }
}
