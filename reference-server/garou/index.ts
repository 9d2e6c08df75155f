/**
 * The Garou reference server: the Garou model's server core (core.ts)
 * hosted on QUIC with DATAGRAMs by the generic host
 * (harness/quic/server-host.ts), many connections at once. Everything it
 * does is in suites/garou/SPEC.md; every limit, timer and threshold comes
 * from the profile (a `wirecheck serve garou` flag each).
 */
import { completeProfile, faultByName, type ReferenceImplementation, type ReferenceServerStartOptions } from '../../harness/engine/reference.js';
import type { ServerCore } from '../../harness/engine/server-core.js';
import type { RunningServer } from '../../harness/engine/types.js';
import type { TraceRecorder } from '../../harness/engine/trace.js';
import { startReferenceHost } from '../../harness/quic/reference-host.js';
import { validatePayload } from '../../suites/garou/codec.js';
import { CLOSE_CODES, FRAME_NAMES } from '../../suites/garou/frames.js';
import { checkProfile, defaultProfile, type GarouProfile } from '../../suites/garou/profile.js';
import { GarouServerCore } from './core.js';
import { faults } from './faults.js';

/** Options of {@link startGarouServer}; `fault` names a deliberate fault of faults.ts. */
export type GarouServerOptions = ReferenceServerStartOptions<GarouProfile>;

/** A running Garou server. */
export interface GarouServer extends RunningServer {
  readonly profile: GarouProfile;
  /** What the server saw and did (server's view). */
  readonly trace: TraceRecorder;
}


/**
 * The reference server's Sans-I/O core alone (no sockets), for in-process
 * runs over the memory driver. `epochMs` is the wall-clock origin of
 * RoomMessage `ts` (default 0: in-process runs are on a virtual clock).
 * @throws RangeError for an unknown fault or an inconsistent profile.
 */
export function createReferenceCore(opts: { readonly profile?: Partial<GarouProfile>; readonly fault?: string; readonly epochMs?: number } = {}): ServerCore {
  const profile = completeProfile('garou', defaultProfile, checkProfile, opts.profile, 'core');
  const fault = faultByName(faults, opts.fault);
  return fault ? fault.create(profile) : new GarouServerCore(profile, opts.epochMs !== undefined ? { epochMs: opts.epochMs } : {});
}

/**
 * Starts a Garou server on QUIC with DATAGRAMs (default 127.0.0.1, a free port).
 * @throws RangeError for an unknown fault or an inconsistent profile; errors of the QUIC bind (port in use).
 */
export async function startGarouServer(opts: GarouServerOptions = {}): Promise<GarouServer> {
  const profile = completeProfile('garou', defaultProfile, checkProfile, opts.profile, 'server');
  // Compile every payload schema now, not on the first frames (the first connection's handshake timer runs meanwhile).
  for (const name of FRAME_NAMES) validatePayload(name, {});
  // RoomMessage ts: ms since the epoch (GAROU-1.4); the core reads no clock, so the host's origin is passed in.
  const core = createReferenceCore({ profile, epochMs: Date.now(), ...(opts.fault !== undefined ? { fault: opts.fault } : {}) });
  const { host, certPem } = await startReferenceHost(opts, {
    alpn: [profile.alpn],
    core,
    datagrams: true,
  });
  return {
    host: host.host,
    port: host.port,
    certPem,
    profile,
    trace: host.trace,
    // GAROU-13.5: the core says Goodbye on every connection and closes it with SERVER_SHUTDOWN (ServerCore.shutdown); the host closes any left the same way.
    stop: () => host.stop({ code: CLOSE_CODES.SERVER_SHUTDOWN, reason: 'GAROU-13.5 server shutting down' }),
  };
}

/** The Garou reference implementation (harness/engine/registry.ts `loadReference`). */
export const reference: ReferenceImplementation<GarouProfile> = {
  name: 'garou',
  startServer: startGarouServer,
  createCore: createReferenceCore,
  faults,
  loadClient: async () => (await import('./client/index.js')).runClient,
};
