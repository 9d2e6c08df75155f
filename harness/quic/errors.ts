/**
 * The QUIC error vocabulary of wirecheck, shared by the client driver
 * (drivers/quic.ts) and the server host (quic/server-host.ts): transport
 * error codes, the TLS alert table, how a library connection error becomes
 * a recorded close, how a connect failure is explained, and the reason
 * objects that carry stream error codes through @matrixai/quic.
 */
import { errors as quicErrors } from '@matrixai/quic';
import { errorMessage } from '../engine/util.js';

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

/** QUIC transport error code INTERNAL_ERROR (RFC 9000 §20.1). */
export const INTERNAL_ERROR = 0x1;
/** First QUIC transport error code carrying a TLS alert (CRYPTO_ERROR, RFC 9001 §4.8). */
export const CRYPTO_ERROR_BASE = 0x100;
/** TLS alert `bad_certificate` (RFC 8446 §6.2). */
export const ALERT_BAD_CERTIFICATE = 42;
/** TLS alert `no_application_protocol` (RFC 7301 §3.2). */
export const ALERT_NO_APPLICATION_PROTOCOL = 120;

/** Names of the TLS alerts (RFC 8446 §6) a QUIC handshake can end with. */
export const TLS_ALERTS: Readonly<Record<number, string>> = {
  0: 'close_notify',
  10: 'unexpected_message',
  20: 'bad_record_mac',
  22: 'record_overflow',
  40: 'handshake_failure',
  42: 'bad_certificate',
  43: 'unsupported_certificate',
  44: 'certificate_revoked',
  45: 'certificate_expired',
  46: 'certificate_unknown',
  47: 'illegal_parameter',
  48: 'unknown_ca',
  49: 'access_denied',
  50: 'decode_error',
  51: 'decrypt_error',
  70: 'protocol_version',
  71: 'insufficient_security',
  80: 'internal_error',
  86: 'inappropriate_fallback',
  90: 'user_canceled',
  109: 'missing_extension',
  110: 'unsupported_extension',
  112: 'unrecognized_name',
  113: 'bad_certificate_status_response',
  115: 'unknown_psk_identity',
  116: 'certificate_required',
  120: 'no_application_protocol',
};

/** A CONNECTION_CLOSE as the library reports it (`err.data`: `{ isApp, errorCode, reason }`), reason decoded. */
export interface WireClose {
  readonly isApp: boolean;
  readonly code: number;
  readonly reason: string;
}

/** Reads a library connection error's `.data` defensively; undefined when it carries no code. */
export function readWireClose(data: unknown): WireClose | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const d = data as { isApp?: unknown; errorCode?: unknown; reason?: unknown };
  if (typeof d.errorCode !== 'number') return undefined;
  return {
    isApp: d.isApp === true,
    code: d.errorCode,
    reason: d.reason instanceof Uint8Array ? decodeReason(d.reason) : '',
  };
}

/** `TLS alert 120 (no_application_protocol), transport code 0x178` for a CRYPTO_ERROR code. */
export function describeAlert(code: number): string {
  const alert = code - CRYPTO_ERROR_BASE;
  return `TLS alert ${alert} (${TLS_ALERTS[alert] ?? 'unknown'}), transport code 0x${code.toString(16)}`;
}

/** `application code 7 (0x7) reason "bye"`. */
export function describeWireClose(w: WireClose): string {
  const kind = w.isApp ? 'application' : 'transport';
  const reason = w.reason === '' ? '' : ` reason ${JSON.stringify(w.reason)}`;
  return `${kind} code ${w.code} (0x${w.code.toString(16)})${reason}`;
}

/** True for a transport close carrying a TLS alert (RFC 9001 §4.8). */
export function isCryptoCode(w: WireClose | undefined): w is WireClose {
  return w !== undefined && !w.isApp && w.code >= CRYPTO_ERROR_BASE && w.code < CRYPTO_ERROR_BASE + 0x100;
}

/** How a connection ended, in trace terms (`conn_close` fields but `conn`). */
export interface ClosedBy {
  readonly by: 'client' | 'server' | 'transport';
  readonly isApp: boolean;
  readonly code: number;
  readonly reason: string;
}

/**
 * The close a library connection error means, seen from one end (`peer`
 * names the other end's role): the peer's CONNECTION_CLOSE (also a TLS alert
 * it sent: `ErrorQUICConnectionPeerTLS` extends `...Local`, NOTES.md) is by
 * the peer; an idle timeout (RFC 9000 §10.1) and anything our own stack
 * decided (protocol violation, TLS failure) are by `'transport'`.
 * Returns undefined for `ErrorQUICConnectionInternal` (a library bug, not a
 * close: the caller decides).
 */
export function closeFromError(err: unknown, peer: 'client' | 'server'): ClosedBy | undefined {
  if (err instanceof quicErrors.ErrorQUICConnectionInternal) return undefined;
  const w = readWireClose((err as { data?: unknown } | null)?.data);
  if (err instanceof quicErrors.ErrorQUICConnectionPeer || err instanceof quicErrors.ErrorQUICConnectionPeerTLS) {
    return { by: peer, isApp: w?.isApp ?? false, code: w?.code ?? 0, reason: w?.reason ?? '' };
  }
  if (err instanceof quicErrors.ErrorQUICConnectionIdleTimeout) {
    return { by: 'transport', isApp: false, code: 0, reason: 'idle timeout' };
  }
  return { by: 'transport', isApp: w?.isApp ?? false, code: w?.code ?? 0, reason: w?.reason ?? errorMessage(err) };
}

/**
 * Reason object for a stream code we send: `reasonToCode` turns it into the
 * RESET_STREAM / STOP_SENDING code (anything else maps to 0).
 */
export class LocalStreamCode {
  constructor(readonly code: number) {}
}

/**
 * Reason object the library builds (through `codeToReason`) from a code the
 * peer sent: a read rejects with it after RESET_STREAM (`type: 'read'`), a
 * write after STOP_SENDING (`type: 'write'`). Codes the library cannot parse
 * exactly arrive as {@link OUT_OF_RANGE_STREAM_CODE} (internals.ts).
 */
export class PeerStreamCode extends Error {
  constructor(
    readonly type: 'read' | 'write',
    readonly code: number,
  ) {
    super(`peer sent ${type === 'read' ? 'RESET_STREAM' : 'STOP_SENDING'} with code ${code}`);
    this.name = 'PeerStreamCode';
  }
}

/** The `reasonToCode` / `codeToReason` options every wirecheck client and server passes to the library. */
export const streamCodeOptions = {
  reasonToCode(_type: 'read' | 'write', reason?: unknown): number {
    return reason instanceof LocalStreamCode ? reason.code : 0;
  },
  codeToReason(type: 'read' | 'write', code: number): PeerStreamCode {
    return new PeerStreamCode(type, code);
  },
};

/** The connect deadline passed. */
export class ConnectTimeout extends Error {
  constructor(remote: string, timeoutMs: number) {
    super(
      `timeout: no QUIC handshake with ${remote} within ${String(timeoutMs)} ms ` +
        '(nothing listening on that UDP port, packets dropped, or not a QUIC server; UDP reports no "refused")',
    );
    this.name = 'ConnectTimeout';
  }
}

/** The server's certificate does not cover the name or IP connected to (checked without SNI). */
export class IdentityMismatch extends Error {
  constructor(name: string) {
    super(
      `server certificate does not cover ${JSON.stringify(name)} ` +
        `(closed with ${describeAlert(CRYPTO_ERROR_BASE + ALERT_BAD_CERTIFICATE)}; no SNI was sent, RFC 6066 §3)`,
    );
    this.name = 'IdentityMismatch';
  }
}

/** What {@link describeConnectError} knows of the attempt. */
export interface ConnectContext {
  readonly remote: string;
  readonly alpn: readonly string[];
  readonly connectTimeoutMs: number;
}

/** Explains a failed client connect in one line (timeout, TLS alert, ALPN mismatch, ...). */
export function describeConnectError(err: unknown, ctx: ConnectContext | undefined): string {
  if (err instanceof ConnectTimeout || err instanceof IdentityMismatch) return err.message;
  const timeout = ctx ? new ConnectTimeout(ctx.remote, ctx.connectTimeoutMs).message : undefined;
  if (err instanceof quicErrors.ErrorQUICConnectionPeerTLS) {
    const w = readWireClose(err.data);
    if (isCryptoCode(w)) {
      if (w.code - CRYPTO_ERROR_BASE === ALERT_NO_APPLICATION_PROTOCOL) {
        return `ALPN mismatch: the server accepts none of ${JSON.stringify(ctx?.alpn ?? [])} (${describeAlert(w.code)})`;
      }
      return `server refused the TLS handshake: ${describeAlert(w.code)}`;
    }
    return `server refused the TLS handshake: ${w ? describeWireClose(w) : errorMessage(err)}`;
  }
  if (err instanceof quicErrors.ErrorQUICConnectionLocalTLS) {
    const w = readWireClose(err.data);
    const what = isCryptoCode(w) ? describeAlert(w.code) : w ? describeWireClose(w) : errorMessage(err);
    return `server certificate rejected: ${what} (untrusted or wrong name; pass a CA, or insecure)`;
  }
  if (err instanceof quicErrors.ErrorQUICConnectionPeer) {
    const w = readWireClose(err.data);
    return `server closed the connection during the handshake: ${w ? describeWireClose(w) : errorMessage(err)}`;
  }
  if (err instanceof quicErrors.ErrorQUICConnectionIdleTimeout) {
    return 'handshake idle timeout (max_idle_timeout passed without an answer)';
  }
  if (err instanceof quicErrors.ErrorQUICConnectionLocal) {
    // The library closes with APPLICATION_ERROR (0xc) when its start timer fires.
    if (err.cause instanceof quicErrors.ErrorQUICConnectionStartTimeout && timeout) return timeout;
    const w = readWireClose(err.data);
    return `handshake failed locally: ${w ? describeWireClose(w) : errorMessage(err)}`;
  }
  if (err instanceof quicErrors.ErrorQUICConnectionStartTimeout && timeout) return timeout;
  if (err instanceof quicErrors.ErrorQUICSocketInvalidBindAddress) {
    return `cannot bind a local UDP socket: ${errorMessage(err.cause ?? err)}`;
  }
  if (err instanceof quicErrors.ErrorQUICConnectionConfigInvalid || err instanceof quicErrors.ErrorQUICConfig) {
    return `invalid QUIC configuration: ${errorMessage(err)}`;
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot resolve host: ${errorMessage(err)}`;
  if (typeof code === 'string') return `network error ${code}: ${errorMessage(err)}`;
  return errorMessage(err);
}
