/**
 * The Theta reference server: the Theta model's server core (core.ts)
 * hosted on QUIC by the generic host (harness/quic/server-host.ts).
 * Everything it does is in suites/theta/SPEC.md; identity values, timers
 * and readings come from a profile (defaults: PROTOCOLS.md's and the seed's).
 */
import { completeProfile, faultByName, type ReferenceImplementation, type ReferenceServerStartOptions } from '../../harness/engine/reference.js';
import type { RunningServer } from '../../harness/engine/types.js';
import type { ServerCore } from '../../harness/engine/server-core.js';
import type { TraceRecorder } from '../../harness/engine/trace.js';
import { startReferenceHost } from '../../harness/quic/reference-host.js';
import { CloseCode } from '../../suites/theta/codec.js';
import { checkProfile, defaultProfile, type ThetaProfile } from '../../suites/theta/profile.js';
import { quicIdleTimeoutMs } from '../../suites/theta/transport.js';
import { ThetaServerCore } from './core.js';
import { faults } from './faults.js';

/** Options of {@link startThetaServer}; `fault` names a deliberate fault of faults.ts. */
export type ThetaServerOptions = ReferenceServerStartOptions<ThetaProfile>;

/** A running Theta server. */
export interface ThetaServer extends RunningServer {
  readonly profile: ThetaProfile;
  /** What the server saw and did (server's view). */
  readonly trace: TraceRecorder;
}

/**
 * Starts a Theta server on QUIC (default 127.0.0.1, a free port). The QUIC
 * idle timeout is kept above the handshake and heartbeat timeouts, so those
 * (THETA-3.7, 5.6) end quiet sessions, with their codes.
 * @throws RangeError for an unknown fault or an inconsistent profile; errors of the QUIC bind (port in use).
 */
export async function startThetaServer(opts: ThetaServerOptions = {}): Promise<ThetaServer> {
  const profile = completeProfile('theta', defaultProfile, checkProfile, opts.profile, 'server');
  const core = createReferenceCore({ profile, ...(opts.fault !== undefined ? { fault: opts.fault } : {}) });
  const { host, certPem } = await startReferenceHost(opts, {
    alpn: [profile.alpn],
    core,
    idleTimeoutMs: quicIdleTimeoutMs(profile),
  });
  return {
    host: host.host,
    port: host.port,
    certPem,
    profile,
    trace: host.trace,
    stop: () => host.stop({ code: CloseCode.NO_ERROR, reason: 'THETA-8.1 server shutting down' }),
  };
}


/**
 * The reference server's Sans-I/O core alone (no sockets), for in-process
 * runs over `harness/drivers/memory.ts` (`wirecheck fuzz --in-process`,
 * tests). Missing profile fields take the defaults.
 * @throws RangeError for an unknown fault or an inconsistent profile.
 */
export function createReferenceCore(opts: { readonly profile?: Partial<ThetaProfile>; readonly fault?: string } = {}): ServerCore {
  const profile = completeProfile('theta', defaultProfile, checkProfile, opts.profile, 'core');
  const fault = faultByName(faults, opts.fault);
  return fault ? fault.create(profile) : new ThetaServerCore(profile);
}

/** The Theta reference implementation (harness/engine/registry.ts `loadReference`). */
export const reference: ReferenceImplementation<ThetaProfile> = {
  name: 'theta',
  startServer: startThetaServer,
  createCore: createReferenceCore,
  faults,
  loadClient: async () => (await import('./client/index.js')).runClient,
};
