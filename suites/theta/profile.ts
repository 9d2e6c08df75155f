/**
 * Theta target profile (SPEC.md § 10): the server's identity values, its
 * timers (ms), limits (bytes) and its reading of every open choice. The
 * defaults are PROTOCOLS.md's and the seed's where they name a value, the
 * reference server's otherwise.
 */

/** Timers, limits and readings of a Theta server. */
export interface ThetaProfile {
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

export const defaultProfile: ThetaProfile = {
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

/** Short timers for in-process runs and CI. */
export const fastProfile: ThetaProfile = {
  ...defaultProfile,
  heartbeatIntervalMs: 100,
  heartbeatTimeoutMs: 600,
  handshakeTimeoutMs: 600,
  answerDeadlineMs: 300,
  toleranceMs: 50,
};
