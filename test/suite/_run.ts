/** Runs the Proton suite against an in-process reference server (optionally faulty). */
import { quicDriver } from '../../harness/drivers/quic.js';
import { runSuite } from '../../harness/engine/runner.js';
import type { RunResult } from '../../harness/engine/types.js';
import { startProtonServer } from '../../reference-server/proton/index.js';
import { suite } from '../../suites/proton/index.js';
import { fastProfile, type ProtonProfile } from '../../suites/proton/profile.js';

/** Profile of the project's tests: the short timers, with room for a loaded 2-core CI machine. */
export const testProfile: ProtonProfile = { ...fastProfile, toleranceMs: 300 };

export async function runAgainstReference(opts: { fault?: string; cases?: string; profile?: ProtonProfile } = {}): Promise<RunResult> {
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

/** Case ids by verdict, for readable assertions. */
export function byVerdict(run: RunResult): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const c of run.cases) (out[c.verdict] ??= []).push(c.id);
  return out;
}
