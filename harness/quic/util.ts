/**
 * Small guards shared by every QUIC client and server in wirecheck, each
 * closing one hazard of @matrixai/quic listed in shared/NOTES.md.
 */
import { createHmac, randomFillSync, timingSafeEqual } from 'node:crypto';
import Logger, { LogLevel, StreamHandler } from '@matrixai/logger';
import { installSendGuard } from './send-guard.js';

// quiche 0.18 can loop forever in send() after an application close (send-guard.ts, NOTES.md).
// Every module that talks QUIC imports this file, so the guard is in place before any connection exists.
installSendGuard();

/**
 * Longest close reason we send, in bytes. Reasons of about 1,300 bytes make
 * `stop()` hang (NOTES.md); RFC 9000 §19.19 leaves the length to the sender.
 */
export const MAX_REASON_BYTES = 256;

/**
 * Checks an application error code before it reaches the library: a code
 * that is negative, not an integer, or ≥ 2^62 aborts the process (NOTES.md);
 * QUIC varints (RFC 9000 §16) stop at 2^62, we accept safe integers only.
 * @throws RangeError naming `what` and the value.
 */
export function checkQuicCode(code: number, what: string): number {
  if (!Number.isSafeInteger(code) || code < 0) {
    throw new RangeError(`${what}: error code must be an integer in [0, 2^53), got ${String(code)}`);
  }
  return code;
}

/** Encodes a reason phrase as UTF-8, truncated to {@link MAX_REASON_BYTES} on a character boundary. */
export function encodeReason(reason: string): Uint8Array {
  let bytes = new TextEncoder().encode(reason);
  if (bytes.length <= MAX_REASON_BYTES) return bytes;
  bytes = bytes.subarray(0, MAX_REASON_BYTES);
  // Drop a partial UTF-8 sequence at the end.
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1]! & 0xc0) === 0x80) end--;
  if (end > 0 && bytes[end - 1]! >= 0xc0) end--;
  return bytes.subarray(0, end === 0 ? bytes.length : end);
}

/** Decodes a reason phrase leniently (invalid UTF-8 becomes U+FFFD). */
export function decodeReason(reason: Uint8Array | undefined): string {
  if (reason === undefined) return '';
  return new TextDecoder('utf-8', { fatal: false }).decode(reason);
}

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
