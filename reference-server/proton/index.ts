/**
 * The Proton reference server: the Proton model's server core
 * (core.ts) hosted on QUIC by the generic host (harness/quic/server-host.ts).
 * Everything it does is in suites/proton/SPEC.md; timers come from a
 * profile (defaults: the seed's).
 */
import type { ReferenceServerOptions, RunningServer } from '../../harness/engine/types.js';
import type { ServerCore } from '../../harness/engine/server-core.js';
import type { TraceRecorder } from '../../harness/engine/trace.js';
import { startQuicHost } from '../../harness/quic/server-host.js';
import { generateSelfSigned } from '../../harness/tls/cert.js';
import { CloseCode } from '../../suites/proton/codec.js';
import { checkProfile, defaultProfile, type ProtonProfile } from '../../suites/proton/profile.js';
import { ProtonServerCore } from './core.js';
import { faults } from './faults.js';

/** Options of {@link startProtonServer}. */
export interface ProtonServerOptions extends ReferenceServerOptions<ProtonProfile> {
  /** Name of a deliberate fault (faults.ts), for tests and demonstrations. */
  readonly fault?: string;
}

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
  const profile: ProtonProfile = { ...defaultProfile, ...opts.profile };
  const problems = checkProfile(profile);
  if (problems.length) throw new RangeError(`proton server profile: ${problems.join('; ')}`);
  const fault = opts.fault === undefined ? undefined : faults[opts.fault];
  if (opts.fault !== undefined && !fault) throw new RangeError(`unknown fault ${JSON.stringify(opts.fault)}; known: ${Object.keys(faults).join(', ')}`);
  let certPem = opts.cert;
  let keyPem = opts.key;
  if (certPem === undefined || keyPem === undefined) ({ certPem, keyPem } = await generateSelfSigned());
  const core = new ProtonServerCore(profile, fault?.apply);
  const host = await startQuicHost({
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
    alpn: [profile.alpn],
    certPem,
    keyPem,
    core,
    idleTimeoutMs: profile.idleTimeoutMs,
    keepAliveMs: profile.heartbeatMs,
    ...(opts.log ? { log: opts.log } : {}),
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

/** The engine's entry (harness/engine/registry.ts). */
export const startReferenceServer = (opts: ReferenceServerOptions<object>): Promise<RunningServer> =>
  startProtonServer(opts as ProtonServerOptions);

/**
 * The reference server's Sans-I/O core alone (no sockets), for in-process
 * runs over `harness/drivers/memory.ts` (`wirecheck fuzz --in-process`,
 * bench/fuzz.ts, tests). Missing profile fields take the seed's defaults.
 * @throws RangeError for an unknown fault or an inconsistent profile.
 */
export function createReferenceCore(opts: { readonly profile?: Partial<object>; readonly fault?: string } = {}): ServerCore {
  const profile: ProtonProfile = { ...defaultProfile, ...(opts.profile as Partial<ProtonProfile> | undefined) };
  const problems = checkProfile(profile);
  if (problems.length) throw new RangeError(`proton core profile: ${problems.join('; ')}`);
  const fault = opts.fault === undefined ? undefined : faults[opts.fault];
  if (opts.fault !== undefined && !fault) throw new RangeError(`unknown fault ${JSON.stringify(opts.fault)}; known: ${Object.keys(faults).join(', ')}`);
  return new ProtonServerCore(profile, fault?.apply);
}
