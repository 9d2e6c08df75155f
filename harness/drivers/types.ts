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
import type { TraceRecorder, ConnCloseEvent } from '../engine/trace.js';

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

/** A client-side stream (bidirectional, opened by the client). */
export interface ClientStream {
  /** Transport stream id. */
  readonly id: number;
  /** Trace connection index of the owning connection. */
  readonly conn: number;
  /**
   * Writes bytes (recorded as a `data` c2s event before they are sent).
   * Rejects with `DriverError` when the stream or connection is gone.
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
   * Opens a client-initiated bidirectional stream. Nothing is sent until the
   * first write. TCP: always the connection's one stream, id 0 (same object).
   */
  openStream(): ClientStream;
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
