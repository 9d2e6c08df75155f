/**
 * Runs the Proton suite against the reference server: in this process (the
 * reference core over the in-memory driver, virtual time: what the fault
 * matrix and whole-suite checks use) or over QUIC on loopback (the smoke run).
 */
import { quicDriver } from '../../harness/drivers/quic.js';
import { runSuite } from '../../harness/engine/runner.js';
import type { RunResult } from '../../harness/engine/types.js';
import { startProtonServer } from '../../reference-server/proton/index.js';
import { suite } from '../../suites/proton/index.js';
import { fastProfile, type ProtonProfile } from '../../suites/proton/profile.js';
import { runSuiteInProcess } from '../_support/in-process.js';

export { byVerdict } from '../_support/in-process.js';

/** Profile of the project's tests: the short timers, with room for a loaded 2-core CI machine (over sockets). */
export const testProfile: ProtonProfile = { ...fastProfile, toleranceMs: 300 };

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
export async function runAgainstReference(opts: RunOpts = {}): Promise<RunResult> {
  const profile = opts.profile ?? testProfile;
  const server = await startProtonServer({ profile, ...(opts.fault ? { fault: opts.fault } : {}) });
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
