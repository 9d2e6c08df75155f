/**
 * Transport-neutral client driver interfaces. A driver opens connections to
 * a target and records every wire event into a {@link TraceRecorder}; cases
 * and probes only ever see these interfaces.
 *
 * TCP (drivers/tcp.ts) has one byte stream per connection, modelled as
 * stream 0: `openStream()` returns that same stream every time, `end()` is a
 * half-close (FIN), `reset()` an RST that ends the connection, and
 * `stopSending()` throws (TCP has no such thing); close codes and reasons
 * are recorded but not on the wire, and TLS options are ignored.
 */
import type { TraceRecorder, ConnCloseEvent, StreamKind } from '../engine/trace.js';
import { MAX_TIMER_MS } from '../engine/util.js';

/** Where and how to connect; built from the target URL and CLI options. */
export interface ConnectOptions {
  /** Host name or IP literal of the target. */
  readonly host: string;
  /** UDP (QUIC) or TCP port. */
  readonly port: number;
  /** ALPN protocol ids to offer (QUIC only). */
  readonly alpn?: readonly string[];
  /**
   * TLS server name (SNI). When unset and `host` is an IP literal, no SNI is
   * sent: RFC 6066 §3 forbids IP literals in SNI.
   */
  readonly serverName?: string;
  /**
   * Advertise QUIC DATAGRAM support (RFC 9221 max_datagram_frame_size); only
   * when the protocol asks for it. Ignored by TCP.
   */
  readonly datagrams?: boolean;
  /** PEM CA bundle to verify the server certificate with. */
  readonly ca?: string;
  /** Skip certificate verification. */
  readonly insecure?: boolean;
  /** Deadline for the handshake (ms). Always set: a connect never waits forever. */
  readonly connectTimeoutMs: number;
  /** QUIC max_idle_timeout (ms, RFC 9000 §10.1); 0 disables. */
  readonly idleTimeoutMs?: number;
  /** QUIC keep-alive (PING) interval (ms); must be below `idleTimeoutMs`. */
  readonly keepAliveMs?: number;
}

/** How a connection ended, as recorded in the trace. */
export type CloseInfo = Omit<ConnCloseEvent, 'type' | 't'>;

/**
 * A stream as the client sees it: one it opened (bidi or uni), or one the
 * server opened (bidi or uni), accepted with {@link ClientConnection.acceptStream}.
 * On a server-opened uni stream the client can only read: `write`, `end`
 * and `reset` reject/throw `DriverError`. On a client-opened uni stream it
 * can only write: `stopSending` throws `DriverError` and `received()` is empty.
 */
export interface ClientStream {
  /** Transport stream id (RFC 9000 §2.1 numbering for QUIC; 0 for TCP). */
  readonly id: number;
  /** Trace connection index of the owning connection. */
  readonly conn: number;
  /** Who opened the stream. */
  readonly by: 'client' | 'server';
  /** Bidirectional or unidirectional. */
  readonly kind: StreamKind;
  /**
   * Writes bytes (recorded as a `data` c2s event before they are sent).
   * Rejects with `DriverError` when the stream or connection is gone, or
   * the stream is a server-opened uni stream.
   */
  write(bytes: Uint8Array): Promise<void>;
  /** Ends the sending side (FIN), recorded as `stream_fin` c2s. */
  end(): Promise<void>;
  /** Sends RESET_STREAM with an application error code (0 ≤ code < 2^62). */
  reset(code: number): void;
  /** Sends STOP_SENDING with an application error code (0 ≤ code < 2^62). */
  stopSending(code: number): void;
  /** Everything received on this stream so far (a copy). */
  received(): Uint8Array;
  /** Number of bytes received so far (cheap: no copy). */
  readonly receivedLength: number;
  /** True once the server's side ended (FIN or reset) or the connection closed. */
  readonly readEnded: boolean;
}

/** A client connection to the target. */
export interface ClientConnection {
  /** Trace connection index. */
  readonly conn: number;
  /**
   * Opens a client-initiated stream, bidirectional by default. Nothing is
   * sent until the first write. TCP: always the connection's one stream, id
   * 0 (same object); `uni` throws `DriverError`.
   */
  openStream(kind?: StreamKind): ClientStream;
  /**
   * The next stream the server opened (bidi or uni) that has not been
   * accepted yet, in the order the server's streams became known; waits up
   * to `timeoutMs` (ms) for one. Resolves `undefined` at the deadline or when
   * the connection closed first. Bytes a server stream carried before it was
   * accepted are kept (`received()`), so nothing is lost.
   */
  acceptStream(timeoutMs: number): Promise<ClientStream | undefined>;
  /** Every stream the server opened so far, accepted or not, in order. */
  serverStreams(): readonly ClientStream[];
  /**
   * Largest DATAGRAM payload (bytes) the peer accepts (RFC 9221 §3), or
   * undefined when datagrams were not negotiated (or the transport is TCP).
   */
  readonly maxDatagramSize: number | undefined;
  /**
   * Sends one QUIC DATAGRAM (recorded as a `dgram` c2s event). Best effort:
   * it may be lost. Throws `DriverError` when datagrams were not negotiated,
   * the payload exceeds {@link maxDatagramSize}, or the connection is closed.
   */
  sendDatagram(bytes: Uint8Array): void;
  /** Payloads of every DATAGRAM received so far, in arrival order (copies). */
  datagrams(): readonly Uint8Array[];
  /**
   * Closes the connection with an application error code and reason
   * (reason capped to 256 bytes, code checked < 2^62). Resolves when closed;
   * never waits longer than the driver's close deadline. Idempotent.
   */
  close(code?: number, reason?: string): Promise<void>;
  /** Resolves (never rejects) when the connection has closed, by anyone. */
  readonly closed: Promise<CloseInfo>;
  /** True once closed. */
  readonly isClosed: boolean;
}

/** A transport driver: `quic` or `tcp`. */
export interface Driver {
  readonly transport: 'quic' | 'tcp';
  /**
   * Opens a connection and records `conn_open` (or `conn_fail`).
   * Rejects with `ConnectError` on failure or when `connectTimeoutMs` passes.
   */
  connect(trace: TraceRecorder, opts: ConnectOptions): Promise<ClientConnection>;
}

/**
 * Checks what every transport needs of {@link ConnectOptions}: a host, a
 * port in [1, 65535], a connect deadline in (0, 2^31) ms. Returns the host
 * without the brackets of an IPv6 literal.
 * @throws Error whose message names the option and the value.
 */
export function checkTarget(opts: ConnectOptions): string {
  if (typeof opts.host !== 'string' || opts.host === '') throw new Error('host must be a non-empty string');
  if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) {
    throw new Error(`port must be an integer in [1, 65535], got ${String(opts.port)}`);
  }
  if (!Number.isFinite(opts.connectTimeoutMs) || opts.connectTimeoutMs <= 0 || opts.connectTimeoutMs > MAX_TIMER_MS) {
    throw new Error(`connectTimeoutMs must be a number of ms in (0, 2^31), got ${String(opts.connectTimeoutMs)}`);
  }
  return opts.host.startsWith('[') && opts.host.endsWith(']') ? opts.host.slice(1, -1) : opts.host;
}

/** A driver operation failed (stream or connection already gone, bad argument). */
export class DriverError extends Error {
  readonly code = 'DRIVER' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DriverError';
  }
}

/** A connection could not be opened (refused, TLS/ALPN failure, handshake timeout). */
export class ConnectError extends Error {
  readonly code = 'CONNECT' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConnectError';
  }
}
