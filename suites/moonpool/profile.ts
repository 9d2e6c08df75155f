/**
 * Moonpool target profile: the limits, timers and open choices of a server
 * under test (SPEC.md "Profile fields and defaults"). Defaults are the
 * seed's where it names a value (reconnection 50 ms / ×1.2 / 500 ms) and the
 * reference server's otherwise.
 */
import schema from './profile.schema.json' with { type: 'json' };

/** Limits (bytes), timers (ms) and choices of a Moonpool target. */
export interface MoonpoolProfile {
  /** Largest payload accepted (MOONPOOL-2.4); a larger length is a ParseError (5.1). */
  readonly maxPayloadBytes: number;
  /** What the server does with a payload other than PING (MOONPOOL-4.3). */
  readonly otherPayloads: 'ignore' | 'reply';
  /** A reply, or an owed close, must come within this (MOONPOOL-4.2, 5.1, 5.2, 6.2). */
  readonly replyDeadlineMs: number;
  /** Server idle timeout; 0 for none (MOONPOOL-7.4). */
  readonly idleTimeoutMs: number;
  /** How long resilience cases stall a connection (MOONPOOL-7.1, 7.2). */
  readonly stallMs: number;
  /** Does the server serve several connections at once (MOONPOOL-6.1)? */
  readonly concurrentConnections: boolean;
  /** Request timeout of the harness and the reference client (MOONPOOL-8.2). */
  readonly requestTimeoutMs: number;
  /** First reconnection delay (MOONPOOL-8.4). Seed: 50 ms. */
  readonly reconnectInitialMs: number;
  /** Largest reconnection delay (MOONPOOL-8.4). Seed: 500 ms. */
  readonly reconnectMaxMs: number;
  /** Growth factor of the reconnection delay (MOONPOOL-8.4). Seed: 1.2. */
  readonly reconnectGrowth: number;
  /** Timing tolerance (MOONPOOL-7.4). */
  readonly toleranceMs: number;
}

/** The defaults (seed and reference server). */
export const defaultProfile: MoonpoolProfile = {
  maxPayloadBytes: 1_048_576,
  otherPayloads: 'ignore',
  replyDeadlineMs: 1_000,
  idleTimeoutMs: 0,
  stallMs: 1_000,
  concurrentConnections: true,
  requestTimeoutMs: 5_000,
  reconnectInitialMs: 50,
  reconnectMaxMs: 500,
  reconnectGrowth: 1.2,
  toleranceMs: 250,
};

/** Short timers and a small frame limit for in-process runs and CI: the whole suite in seconds. */
export const fastProfile: MoonpoolProfile = {
  ...defaultProfile,
  maxPayloadBytes: 65_536,
  replyDeadlineMs: 500,
  stallMs: 400,
  requestTimeoutMs: 2_000,
  toleranceMs: 200,
};

/** JSON Schema (2020-12) of a profile file. */
export const profileSchema: object = schema;

/**
 * Checks relations between fields that a JSON Schema cannot express.
 * @returns messages naming each field that is wrong (empty when consistent).
 */
export function checkProfile(p: MoonpoolProfile): string[] {
  const errs: string[] = [];
  if (p.idleTimeoutMs > 0 && p.stallMs + p.toleranceMs >= p.idleTimeoutMs) {
    errs.push(`/stallMs (${p.stallMs}) plus /toleranceMs (${p.toleranceMs}) must be below /idleTimeoutMs (${p.idleTimeoutMs}): a stall is not an idle connection (MOONPOOL-7.1, 7.4)`);
  }
  if (p.replyDeadlineMs >= p.requestTimeoutMs) {
    errs.push(`/replyDeadlineMs (${p.replyDeadlineMs}) must be below /requestTimeoutMs (${p.requestTimeoutMs}) (MOONPOOL-4.2, 8.2)`);
  }
  if (p.reconnectInitialMs > p.reconnectMaxMs) {
    errs.push(`/reconnectInitialMs (${p.reconnectInitialMs}) must not exceed /reconnectMaxMs (${p.reconnectMaxMs}) (MOONPOOL-8.4)`);
  }
  return errs;
}
