/**
 * Small helpers shared by the TCP client driver (drivers/tcp.ts), the TCP
 * server host (tcp/server-host.ts) and the chaos proxy (proxy/): error codes
 * of node:net, address formatting, bounded waits. No protocol knowledge.
 */
import type { Socket } from 'node:net';

import { errorMessage } from '../engine/util.js';

export { MAX_TIMER_MS, errorMessage, formatAddress, settleWithin } from '../engine/util.js';

/** Longest reason phrase recorded for a close (bytes of UTF-8), as for QUIC. */
export const MAX_REASON_BYTES = 256;

/** Socket error codes that mean the peer aborted the connection (a TCP RST, RFC 9293 §3.10.7). */
const RESET_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/** The `code` of a node:net error (`'ECONNREFUSED'` ...), looking into an `AggregateError` (happy eyeballs). */
export function netErrorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  const inner = (err as { errors?: unknown }).errors;
  if (Array.isArray(inner)) {
    for (const e of inner) {
      const c = netErrorCode(e);
      if (c !== undefined) return c;
    }
  }
  return undefined;
}

/** True when `err` is the peer's RST (ECONNRESET, EPIPE, ECONNABORTED). */
export function isResetError(err: unknown): boolean {
  const code = netErrorCode(err);
  return code !== undefined && RESET_CODES.has(code);
}

/**
 * Checks an error code given to a close or reset. TCP carries no codes on
 * the wire; they are only recorded, so any integer in [0, 2^53) is fine.
 * @throws RangeError naming `what` and the value.
 */
export function checkCode(code: number, what: string): number {
  if (!Number.isSafeInteger(code) || code < 0) {
    throw new RangeError(`${what}: error code must be an integer in [0, 2^53), got ${String(code)}`);
  }
  return code;
}

/** Caps a reason phrase to {@link MAX_REASON_BYTES} of UTF-8 on a character boundary. */
export function capReason(reason: string): string {
  const bytes = Buffer.from(reason, 'utf8');
  if (bytes.length <= MAX_REASON_BYTES) return reason;
  // Decoding a cut sequence yields U+FFFD at the end; drop it.
  return bytes.subarray(0, MAX_REASON_BYTES).toString('utf8').replace(/\uFFFD+$/, '');
}

/** Resolves once `socket` has emitted `'close'` (at once if it already has). Never rejects. */
export function socketClosed(socket: Socket): Promise<void> {
  if (socket.closed) return Promise.resolve();
  return new Promise((resolve) => socket.once('close', () => resolve()));
}

/**
 * Aborts a connection with a TCP RST (`SO_LINGER` 0, RFC 9293 §3.6) via
 * `socket.resetAndDestroy()`; falls back to a plain `destroy()` (FIN) when
 * the socket cannot reset (not connected yet, or already gone).
 * Returns true when an RST was requested.
 */
export function resetSocket(socket: Socket): boolean {
  if (socket.destroyed) return false;
  try {
    socket.resetAndDestroy();
    return true;
  } catch {
    socket.destroy();
    return false;
  }
}

/** One line describing a failed connect, from its node:net error. */
export function describeConnectFailure(err: unknown): string {
  const code = netErrorCode(err);
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (nothing listening on that TCP port)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve host (${code})`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to host (${code})`;
    case 'ECONNRESET':
      return 'connection reset during connect (ECONNRESET)';
    case undefined:
      return errorMessage(err);
    default:
      return `network error ${code}: ${errorMessage(err)}`;
  }
}
