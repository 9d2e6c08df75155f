/**
 * What Theta asks of QUIC beyond its streams: an idle timeout long enough
 * that the protocol's own timers (THETA-3.7 handshake, 5.6 heartbeat) end
 * a quiet session with their close codes before QUIC's idle timeout
 * (RFC 9000 §10.1) ends it silently. Shared by the suite's connect
 * options and the reference server.
 */
import type { ThetaProfile } from './profile.js';

/** QUIC max_idle_timeout for a Theta profile (ms): twice the longest protocol timer, plus the answer deadline and 1 s. */
export function quicIdleTimeoutMs(p: ThetaProfile): number {
  return 2 * Math.max(p.handshakeTimeoutMs, p.heartbeatTimeoutMs) + p.answerDeadlineMs + 1_000;
}
