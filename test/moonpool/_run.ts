/** Runs the Moonpool suite against an in-process reference server (optionally faulty). */
import { tcpDriver } from '../../harness/drivers/tcp.js';
import { runSuite } from '../../harness/engine/runner.js';
import type { RunResult } from '../../harness/engine/types.js';
import { startMoonpoolServer } from '../../reference-server/moonpool/index.js';
import { suite } from '../../suites/moonpool/index.js';
import { fastProfile, type MoonpoolProfile } from '../../suites/moonpool/profile.js';

/** Profile of the project's tests: the short timers, with room for a loaded 2-core CI machine. */
export const testProfile: MoonpoolProfile = { ...fastProfile, replyDeadlineMs: 800, toleranceMs: 300 };

/** Starts a reference server (with `fault`, if given), runs the suite (or the cases matching `cases`) against it, stops it. */
export async function runAgainstReference(opts: { fault?: string; cases?: string; profile?: MoonpoolProfile } = {}): Promise<RunResult> {
  const profile = opts.profile ?? testProfile;
  const server = await startMoonpoolServer({ profile, ...(opts.fault ? { fault: opts.fault } : {}) });
  try {
    return await runSuite({
      suite,
      driver: tcpDriver,
      targetUrl: `tcp://127.0.0.1:${server.port}`,
      connect: { host: server.host, port: server.port, connectTimeoutMs: 3000 },
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
