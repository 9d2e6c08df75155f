/**
 * The Proton reference server: the Proton model's server core
 * (core.ts) hosted on QUIC by the generic host (harness/quic/server-host.ts).
 * Everything it does is in suites/proton/SPEC.md; timers come from a
 * profile (defaults: the seed's).
 */
import { completeProfile, faultByName, type ReferenceImplementation, type ReferenceServerStartOptions } from '../../harness/engine/reference.js';
import type { RunningServer } from '../../harness/engine/types.js';
import type { ServerCore } from '../../harness/engine/server-core.js';
import type { TraceRecorder } from '../../harness/engine/trace.js';
import { startReferenceHost } from '../../harness/quic/reference-host.js';
import { CloseCode } from '../../suites/proton/codec.js';
import { checkProfile, defaultProfile, type ProtonProfile } from '../../suites/proton/profile.js';
import { ProtonServerCore } from './core.js';
import { faults } from './faults.js';

/** Options of {@link startProtonServer}; `fault` names a deliberate fault of faults.ts (tests and demonstrations). */
export type ProtonServerOptions = ReferenceServerStartOptions<ProtonProfile>;

/** A running Proton server. */
export interface ProtonServer extends RunningServer {
  readonly profile: ProtonProfile;
  /** What the server saw and did (server's view). */
  readonly trace: TraceRecorder;
}

/**
 * Starts a Proton server on QUIC (default 127.0.0.1, a free port).
 * @throws RangeError for an unknown fault or an inconsistent profile; errors of the QUIC bind (port in use).
 */
export async function startProtonServer(opts: ProtonServerOptions = {}): Promise<ProtonServer> {
  const profile = completeProfile('proton', defaultProfile, checkProfile, opts.profile, 'server');
  const core = createReferenceCore({ profile, ...(opts.fault !== undefined ? { fault: opts.fault } : {}) });
  const { host, certPem } = await startReferenceHost(opts, {
    alpn: [profile.alpn],
    core,
    idleTimeoutMs: profile.idleTimeoutMs,
    keepAliveMs: profile.heartbeatMs,
  });
  return {
    host: host.host,
    port: host.port,
    certPem,
    profile,
    trace: host.trace,
    // PROTON-2.8: a server that shuts down closes live connections with NOT_READY.
    stop: () => host.stop({ code: CloseCode.NOT_READY, reason: 'PROTON-2.8 server shutting down' }),
  };
}


/**
 * The reference server's Sans-I/O core alone (no sockets), for in-process
 * runs over `harness/drivers/memory.ts` (`wirecheck fuzz --in-process`,
 * bench/fuzz.ts, tests). Missing profile fields take the seed's defaults.
 * @throws RangeError for an unknown fault or an inconsistent profile.
 */
export function createReferenceCore(opts: { readonly profile?: Partial<ProtonProfile>; readonly fault?: string } = {}): ServerCore {
  const profile = completeProfile('proton', defaultProfile, checkProfile, opts.profile, 'core');
  const fault = faultByName(faults, opts.fault);
  return fault ? fault.create(profile) : new ProtonServerCore(profile);
}

/** The Proton reference implementation (harness/engine/registry.ts `loadReference`). */
export const reference: ReferenceImplementation<ProtonProfile> = {
  name: 'proton',
  startServer: startProtonServer,
  createCore: createReferenceCore,
  faults,
  loadClient: async () => (await import('./client/index.js')).runClient,
};
