/**
 * Theta target profile (SPEC.md § 10): the server's identity values, its
 * timers (ms), limits (bytes) and its reading of every open choice. The
 * defaults are PROTOCOLS.md's and the seed's where they name a value, the
 * reference server's otherwise.
 */
import schema from './profile.schema.json' with { type: 'json' };

/** Timers, limits and readings of a Theta server. */
export interface ThetaProfile {
  /** ALPN id (PROTOCOLS.md: `theta`). */
  readonly alpn: string;
  /** The server's protocol version (THETA-3.2). */
  readonly protocolVersion: number;
  /** The component manifest whose SipHash-2-4 the server expects (THETA-3.3). */
  readonly manifest: string;
  /** The server's capability ids (THETA-4.5; seed: [1, 2, 3]). */
  readonly serverCapabilities: readonly number[];
  /** The role the server assigns, when fixed (THETA-4.4). */
  readonly role?: number;
  /** THETA-3.5 / 4.2: nonces of exactly 24 bytes, or any non-empty nonce. */
  readonly nonceRule: 'exactly-24' | 'non-empty';
  /** THETA-3.9: a SessionError before a handshake-failure close. */
  readonly sessionError: 'optional' | 'required' | 'never';
  /** THETA-3.10: a second SessionHello. */
  readonly secondHello: 'violation' | 'ignored';
  /** THETA-4.5: duplicate capability ids in the request. */
  readonly duplicateCapabilities: 'dedupe' | 'violation';
  /** THETA-7.2: an asset of no frames. */
  readonly emptyAsset: 'hash' | 'violation';
  /** THETA-8.2: a client FIN on the control stream after the handshake. */
  readonly controlFin: 'ends-session' | 'ignored';
  /** THETA-5.1 (ms; seed 500). */
  readonly heartbeatIntervalMs: number;
  /** THETA-5.6 (ms; seed 5,000). */
  readonly heartbeatTimeoutMs: number;
  /** THETA-3.7 (ms; PROTOCOLS.md 5,000). */
  readonly handshakeTimeoutMs: number;
  /** THETA-2.2: largest frame payload (bytes; PROTOCOLS.md 16 MiB). */
  readonly maxFrameBytes: number;
  /** Answers (acknowledgement, echo, asset hash) and owed closes must come within this (ms). */
  readonly answerDeadlineMs: number;
  /** SHOULD windows of timed rules (ms). */
  readonly toleranceMs: number;
  /** THETA-5.4, 5.5: how far the server's clock may be from the harness's (ms). */
  readonly clockSkewMs: number;
}

/** The defaults: PROTOCOLS.md's and the seed's values, the reference server's readings. */
export const defaultProfile: ThetaProfile = {
  alpn: 'theta',
  protocolVersion: 1,
  manifest: 'theta-components-v1',
  serverCapabilities: [1, 2, 3],
  nonceRule: 'exactly-24',
  sessionError: 'optional',
  secondHello: 'violation',
  duplicateCapabilities: 'dedupe',
  emptyAsset: 'hash',
  controlFin: 'ends-session',
  heartbeatIntervalMs: 500,
  heartbeatTimeoutMs: 5_000,
  handshakeTimeoutMs: 5_000,
  maxFrameBytes: 16 * 1024 * 1024,
  answerDeadlineMs: 1_000,
  toleranceMs: 100,
  clockSkewMs: 1_000,
};

/** Short timers for in-process runs and CI (`npm start`): heartbeats every 100 ms, 600 ms timeouts. */
export const fastProfile: ThetaProfile = {
  ...defaultProfile,
  heartbeatIntervalMs: 100,
  heartbeatTimeoutMs: 600,
  handshakeTimeoutMs: 600,
  // Answers over loopback QUIC on a loaded CI machine (2 MiB assets share the connection with heartbeats): the default.
  answerDeadlineMs: 1_000,
  toleranceMs: 50,
};

/** JSON Schema (2020-12) of a profile file (profile.schema.json). */
export const profileSchema: object = schema;

/** Largest u16 (protocol version, capability ids). */
const U16 = 0xffff;

/**
 * Cross-field checks a JSON Schema cannot express (and the ranges, for
 * profiles built in code): returns messages naming the fields (JSON pointers), empty when sound.
 */
export function checkProfile(p: ThetaProfile): string[] {
  const errs: string[] = [];
  if (!Number.isInteger(p.protocolVersion) || p.protocolVersion < 0 || p.protocolVersion > U16) errs.push(`/protocolVersion (${p.protocolVersion}) must be a u16 (THETA-3.2)`);
  const bad = p.serverCapabilities.filter((c) => !Number.isInteger(c) || c < 0 || c > U16);
  if (bad.length > 0) errs.push(`/serverCapabilities: ${bad.join(', ')} not u16 ids (THETA-4.5)`);
  if (p.role !== undefined && (!Number.isInteger(p.role) || p.role < 0 || p.role > 0xffff_ffff)) errs.push(`/role (${p.role}) must be a u32 (THETA-4.4)`);
  for (const f of ['heartbeatIntervalMs', 'heartbeatTimeoutMs', 'handshakeTimeoutMs', 'answerDeadlineMs'] as const) {
    if (!(p[f] > 0)) errs.push(`/${f} (${p[f]}) must be positive`);
  }
  if (p.heartbeatIntervalMs >= p.heartbeatTimeoutMs) {
    errs.push(`/heartbeatIntervalMs (${p.heartbeatIntervalMs}) must be below /heartbeatTimeoutMs (${p.heartbeatTimeoutMs}): a session whose heartbeats flow would time out (THETA-5.1, 5.6)`);
  }
  if (p.toleranceMs >= p.heartbeatIntervalMs) errs.push(`/toleranceMs (${p.toleranceMs}) must be below /heartbeatIntervalMs (${p.heartbeatIntervalMs}) (THETA-5.1)`);
  if (!Number.isInteger(p.maxFrameBytes) || p.maxFrameBytes < 32 || p.maxFrameBytes > 0xffff_ffff) errs.push(`/maxFrameBytes (${p.maxFrameBytes}) must be in [32, 2^32 - 1]: an asset answer is 32 bytes (THETA-2.2, 7.1)`);
  return errs;
}
