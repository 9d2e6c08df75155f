/**
 * The Moonpool reference server: the Moonpool model's server core
 * (core.ts) hosted on TCP by the generic host (harness/tcp/server-host.ts).
 * Ping-pong: every `PING` request is answered `PONG` at once (MOONPOOL-4.1),
 * other payloads are ignored (or echoed, profile `otherPayloads`), a
 * malformed or oversized frame closes its connection and nothing else
 * (MOONPOOL-5), a stall is never taken for a loss (MOONPOOL-7). Everything
 * it does is in suites/moonpool/SPEC.md.
 */
import { completeProfile, faultByName, type ReferenceImplementation, type ReferenceServerStartOptions } from '../../harness/engine/reference.js';
import type { RunningServer } from '../../harness/engine/types.js';
import type { ServerCore } from '../../harness/engine/server-core.js';
import type { TraceRecorder } from '../../harness/engine/trace.js';
import { startTcpHost } from '../../harness/tcp/server-host.js';
import { BindFailedError } from '../../suites/moonpool/errors.js';
import { checkProfile, defaultProfile, type MoonpoolProfile } from '../../suites/moonpool/profile.js';
import { MoonpoolServerCore } from './core.js';
import { faults, variants } from './faults.js';

/** Options of {@link startMoonpoolServer}; `fault` names a deliberate fault of faults.ts (tests and demonstrations). */
export type MoonpoolServerOptions = ReferenceServerStartOptions<MoonpoolProfile>;

/** A running Moonpool server. */
export interface MoonpoolServer extends RunningServer {
  readonly profile: MoonpoolProfile;
  /** What the server saw and did (server's view). */
  readonly trace: TraceRecorder;
}

/**
 * Starts a Moonpool server on TCP (default 127.0.0.1, a free port).
 * @throws RangeError for an unknown fault or an inconsistent profile;
 *   BindFailedError (MOONPOOL-9.3) when the address cannot be bound, naming it and the cause.
 */
export async function startMoonpoolServer(opts: MoonpoolServerOptions = {}): Promise<MoonpoolServer> {
  const profile = completeProfile('moonpool', defaultProfile, checkProfile, opts.profile, 'server');
  const core = createReferenceCore({ profile, ...(opts.fault !== undefined ? { fault: opts.fault } : {}) });
  const address = `${opts.host ?? '127.0.0.1'}:${opts.port ?? 0}`;
  let host;
  try {
    host = await startTcpHost({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0, core, ...(opts.log ? { log: opts.log } : {}) });
  } catch (err) {
    if (err instanceof RangeError || err instanceof TypeError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new BindFailedError(`moonpool server: cannot listen on ${address}: ${code ?? (err as Error).message}`, { cause: err });
  }
  return {
    host: host.host,
    port: host.port,
    profile,
    trace: host.trace,
    stop: () => host.stop({ code: 0, reason: 'server shutting down' }),
  };
}


/**
 * The reference server's Sans-I/O core alone (no sockets), for in-process
 * runs over `harness/drivers/memory.ts` (`wirecheck fuzz --in-process`,
 * bench/fuzz.ts, tests): the conforming core, or a faulty one (faults.ts).
 * Missing profile fields take the defaults.
 * @throws RangeError for an unknown fault or an inconsistent profile.
 */
export function createReferenceCore(opts: { readonly profile?: Partial<MoonpoolProfile>; readonly fault?: string } = {}): ServerCore {
  const profile = completeProfile('moonpool', defaultProfile, checkProfile, opts.profile, 'core');
  const fault = faultByName({ ...faults, ...variants }, opts.fault);
  return fault ? fault.create(profile) : new MoonpoolServerCore(profile);
}

/** The Moonpool reference implementation (harness/engine/registry.ts `loadReference`). */
export const reference: ReferenceImplementation<MoonpoolProfile> = {
  name: 'moonpool',
  startServer: startMoonpoolServer,
  createCore: createReferenceCore,
  faults,
  loadClient: async () => (await import('./client/index.js')).runClient,
};
