/**
 * Small guards shared by every QUIC client and server in wirecheck, each
 * closing one hazard of @matrixai/quic listed in shared/NOTES.md.
 */
import { createHmac, randomFillSync, timingSafeEqual } from 'node:crypto';
import Logger, { LogLevel, StreamHandler } from '@matrixai/logger';
import { installSendGuard } from './send-guard.js';
import { installStreamCodeShield } from './internals.js';

// quiche 0.18 can loop forever in send() after an application close (send-guard.ts, NOTES.md), and
// the library crashes on peer stream codes above 16 digits (internals.ts). Every module that talks
// QUIC imports this file, so both guards are in place before any connection exists.
installSendGuard();
installStreamCodeShield();

// Codes and reasons are part of the error vocabulary (errors.ts); re-exported for existing users.
export { MAX_REASON_BYTES, checkQuicCode, decodeReason, encodeReason } from './errors.js';

/**
 * A logger for the library at WARN (without one it prints ~37 INFO lines per
 * connection). Records go to stderr only when `WIRECHECK_QUIC_DEBUG` is set.
 */
export function quietLogger(name: string): Logger {
  const level = process.env['WIRECHECK_QUIC_DEBUG'] ? LogLevel.DEBUG : LogLevel.ERROR;
  return new Logger(name, level, [new StreamHandler()]);
}

/** Client crypto ops for @matrixai/quic: fills buffers from `node:crypto`. */
export const clientCryptoOps = {
  async randomBytes(data: ArrayBuffer): Promise<void> {
    randomFillSync(new Uint8Array(data));
  },
};

/** Server crypto ops for @matrixai/quic (retry tokens): HMAC-SHA256 sign and verify. */
export const serverCryptoOps = {
  async sign(key: ArrayBuffer, data: ArrayBuffer): Promise<ArrayBuffer> {
    const mac = createHmac('sha256', Buffer.from(key)).update(Buffer.from(data)).digest();
    return mac.buffer.slice(mac.byteOffset, mac.byteOffset + mac.byteLength);
  },
  async verify(key: ArrayBuffer, data: ArrayBuffer, sig: ArrayBuffer): Promise<boolean> {
    const mac = createHmac('sha256', Buffer.from(key)).update(Buffer.from(data)).digest();
    const given = Buffer.from(sig);
    return given.length === mac.length && timingSafeEqual(given, mac);
  },
};

/** Name of the library's error event (`EventError` of @matrixai/events): errors thrown by
 * the library's own listeners arrive as this event, and crash the process when nobody listens. */
export const EVENT_ERROR = 'EventError';

/** The `detail` of a library event (all of them extend `CustomEvent`-like `AbstractEvent`). */
export function detailOf(ev: Event): unknown {
  return (ev as Event & { detail?: unknown }).detail;
}

/**
 * Wraps an event listener so that an exception cannot crash the process
 * (the library rethrows listener errors asynchronously, NOTES.md).
 * The error goes to `onError`.
 */
export function safeListener<E extends Event>(
  fn: (ev: E) => void,
  onError: (err: unknown) => void,
): (ev: E) => void {
  return (ev: E) => {
    try {
      fn(ev);
    } catch (err) {
      try {
        onError(err);
      } catch {
        /* nothing left to tell */
      }
    }
  };
}

/** True for an IPv4 or IPv6 literal (which must not be sent as SNI, RFC 6066 §3). */
export function isIpLiteral(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}
