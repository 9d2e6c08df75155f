/**
 * Proton target profile: the timers and open choices of a server under test
 * (SPEC.md §2–§7). Defaults are the seed's (shared/seeds/000_…, "My design
 * for the protocol") and match the reference server's defaults.
 */
import schema from './profile.schema.json' with { type: 'json' };

/** Timers (ms) and choices of a Proton target. */
export interface ProtonProfile {
  /** ALPN id (PROTON-2.1). */
  readonly alpn: string;
  /** Identification timeout (PROTON-3.4). Seed: 1 s. */
  readonly identTimeoutMs: number;
  /**
   * What the identification timeout is measured on (PROTON-3.4).
   * `connection` (default, the reference's): from handshake completion, until
   * the first stream of the connection is identified; a connection that
   * identifies no stream within `identTimeoutMs` is closed with 0x3.
   * `stream`: per stream, from the moment the server first sees it (any
   * byte, FIN or RESET_STREAM of it, or of a higher-numbered stream of the
   * same initiator and direction, RFC 9000 §3.2); one visible stream left
   * unidentified for `identTimeoutMs` closes the connection with 0x3 even when
   * another stream is identified; a connection that opened no stream is
   * never closed for it.
   */
  readonly identTimeoutScope: 'connection' | 'stream';
  /** Send/receive timeout (PROTON-7.1, 7.2). Seed: 5 min. */
  readonly ioTimeoutMs: number;
  /**
   * What the receive timeout measures on a covered stream (PROTON-7.1).
   * `partial-item` (default): a request item begun (1–3 of its 4 bytes
   * received), from its first byte; a stream with no partial item is never
   * timed out. `idle-request-stream`: the time since the later of the last
   * byte received on the stream and the server's last answer on it, while
   * the client has not ended the stream and the server owes nothing on it (a
   * partial item counts from its last byte).
   */
  readonly ioTimeoutScope: 'partial-item' | 'idle-request-stream';
  /**
   * Which client request streams the receive timeout covers (PROTON-7.1):
   * `event`, `commit`, or both (default, the reference's). Empty: none.
   */
  readonly ioTimeoutStreams: readonly ('event' | 'commit')[];
  /**
   * What a client RESET_STREAM on an identified stream is (PROTON-8.3).
   * `violation` (default): connection-fatal, close 0x1. `ends-stream`: the
   * end of the client's side of that stream: a partial item is dropped, the
   * whole items received are still answered, then the server ends its side
   * with FIN (on the Action stream at once, no further item, PROTON-8.7); the
   * connection lives on.
   */
  readonly resetStream: 'violation' | 'ends-stream';
  /**
   * What a client STOP_SENDING on an identified stream is (PROTON-8.6).
   * `violation` (default): connection-fatal, close 0x1. `ends-stream`: "stop
   * sending on this stream": the server sends nothing more on it (no item,
   * ack or answer) and ends its side (RESET_STREAM, as RFC 9000 §3.5 asks,
   * or FIN; PROTON-8.7); the connection lives on.
   */
  readonly stopSending: 'violation' | 'ends-stream';
  /** StateCommit processing delay (PROTON-5.3). Seed: 3–4 min; default 3 min. */
  readonly commitDelayMs: number;
  /** Interval between Action items (PROTON-6.3). Default 1 s (the heartbeat). */
  readonly actionIntervalMs: number;
  /** QUIC keep-alive interval (PROTON-2.4). Seed: 1 s. */
  readonly heartbeatMs: number;
  /** QUIC max_idle_timeout (PROTON-2.4). Seed: 5 s. */
  readonly idleTimeoutMs: number;
  /** Client-side startup delay (PROTON-2.5). Seed: 2 × idle timeout. */
  readonly startupDelayMs: number;
  /** May a stream type be reopened after its stream ended both ways (PROTON-3.3)? */
  readonly reopenStreamType: boolean;
  /** Timing tolerance around every deadline the harness checks. */
  readonly toleranceMs: number;
}

/** The seed's defaults (and the reference server's). */
export const defaultProfile: ProtonProfile = {
  alpn: 'proton',
  identTimeoutMs: 1_000,
  identTimeoutScope: 'connection',
  ioTimeoutMs: 300_000,
  ioTimeoutScope: 'partial-item',
  ioTimeoutStreams: ['event', 'commit'],
  resetStream: 'violation',
  stopSending: 'violation',
  commitDelayMs: 180_000,
  actionIntervalMs: 1_000,
  heartbeatMs: 1_000,
  idleTimeoutMs: 5_000,
  startupDelayMs: 10_000,
  reopenStreamType: false,
  toleranceMs: 250,
};

/** Short timers for in-process runs and CI: the whole suite in seconds. */
export const fastProfile: ProtonProfile = {
  ...defaultProfile,
  identTimeoutMs: 400,
  ioTimeoutMs: 800,
  commitDelayMs: 250,
  actionIntervalMs: 50,
  heartbeatMs: 300,
  idleTimeoutMs: 1_500,
  startupDelayMs: 0,
  toleranceMs: 200,
};

/** JSON Schema (2020-12) of a profile file. */
export const profileSchema: object = schema;

/**
 * Checks relations between fields that a JSON Schema cannot express.
 * @returns messages naming each field that is wrong (empty when consistent).
 */
export function checkProfile(p: ProtonProfile): string[] {
  const errs: string[] = [];
  if (p.commitDelayMs >= p.ioTimeoutMs) {
    errs.push(`/commitDelayMs (${p.commitDelayMs}) must be below /ioTimeoutMs (${p.ioTimeoutMs}): the answer is a send bounded by the send timeout (PROTON-5.3)`);
  }
  if (p.heartbeatMs >= p.idleTimeoutMs) {
    errs.push(`/heartbeatMs (${p.heartbeatMs}) must be below /idleTimeoutMs (${p.idleTimeoutMs}) (PROTON-2.4)`);
  }
  return errs;
}
