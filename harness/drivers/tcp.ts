/**
 * TCP client driver (node:net): opens connections to a target and records
 * every wire event the harness sees into a {@link TraceRecorder} (the
 * harness is the client, so what it sends is `c2s`).
 *
 * TCP has one byte stream each way per connection (RFC 9293). It is modelled
 * as **stream 0**: `openStream()` always returns the same object, and every
 * stream event of the connection names stream 0. The stream is announced
 * (`stream_open` by `'client'`, who opened the connection) right before its
 * first event in either direction. What maps to what (decided by
 * tcp/close-semantics.ts, the one place for TCP FIN/RST/close semantics):
 *
 * | on the wire                        | recorded |
 * |---|---|
 * | bytes written / read               | `data` c2s (before the write) / s2c (each chunk read) |
 * | our FIN (`end()`)                  | `stream_fin` c2s |
 * | the server's FIN                   | `stream_fin` s2c; the driver answers with its own FIN (`stream_fin` c2s) |
 * | both FINs exchanged                | `conn_close` by whoever sent the first FIN, code 0, reason `'fin'` |
 * | our RST (`reset(code)`)            | `stream_reset` c2s kind `'reset'` with `code`, then `conn_close` by `'client'`, reason `'reset'` |
 * | the server's RST                   | `conn_close` by `'server'`, reason `'reset'` |
 * | `close(code, reason)`              | `conn_close` by `'client'` with that code and reason (not on the wire), then FIN |
 * | other socket error / local idle    | `conn_close` by `'transport'` |
 *
 * Transport contract v2: TCP has no unidirectional streams, no streams the
 * server opens and no datagrams: `openStream('uni')` and `sendDatagram()`
 * throw `DriverError`, `acceptStream()` resolves `undefined` at once,
 * `serverStreams()` and `datagrams()` are empty, `maxDatagramSize` is
 * undefined.
 *
 * Every `conn_close` has `isApp: false` (TCP has no application close) and
 * there is exactly one per connection; nothing is recorded after it. Like
 * Node's default `allowHalfOpen: false`, a server's FIN ends the connection:
 * the driver FINs back at once, and writes after that reject.
 *
 * Hazards closed here: every listener is guarded, no promise is left
 * unhandled, the connect is bounded by `connectTimeoutMs`, and a close never
 * waits longer than {@link TCP_CLOSE_DEADLINE_MS}. TLS over TCP is not
 * supported (`alpn`, `ca`, `insecure`, `serverName` are ignored).
 */
import { Socket } from 'node:net';
import { ReceiveBuffer, noop } from '../engine/util.js';
import { toHex, type ConnFailEvent, type ConnOpenEvent, type StreamKind, type TraceEvent, type TraceRecorder } from '../engine/trace.js';
import { TCP_STREAM_ID, applyTcp, tcpView, type TcpApplied, type TcpHappening, type TcpViewHolder } from '../tcp/close-semantics.js';
import {
  MAX_TIMER_MS,
  capReason,
  checkCode,
  describeConnectFailure,
  errorMessage,
  formatAddress,
  isResetError,
  netErrorCode,
  resetSocket,
  socketClosed,
  settleWithin,
} from '../tcp/util.js';
import {
  ConnectError,
  checkTarget,
  DriverError,
  type ClientConnection,
  type ClientStream,
  type CloseInfo,
  type ConnectOptions,
  type Driver,
} from './types.js';

/**
 * Longest a local {@link ClientConnection.close} may take (ms): the FIN is
 * flushed within this, then the socket is destroyed; the release of the
 * socket after any close is bounded by it too.
 */
export const TCP_CLOSE_DEADLINE_MS = 2_000;

export { TCP_STREAM_ID };

/** Options checked and turned into what the connection needs. */
interface ConnectPlan {
  /** Host without IPv6 brackets. */
  readonly host: string;
  readonly port: number;
  /** `host:port` as recorded. */
  readonly remote: string;
  readonly connectTimeoutMs: number;
  /** Local idle timeout (ms); 0: none. */
  readonly idleTimeoutMs: number;
  /** SO_KEEPALIVE initial delay (ms), when set. */
  readonly keepAliveMs: number | undefined;
}

/** Validates `opts`; throws an `Error` whose message says what is wrong. */
function planConnect(opts: ConnectOptions): ConnectPlan {
  const host = checkTarget(opts);
  const idle = opts.idleTimeoutMs ?? 0;
  if (!Number.isSafeInteger(idle) || idle < 0 || idle > MAX_TIMER_MS) {
    throw new Error(`idleTimeoutMs must be an integer in [0, 2^31), got ${String(opts.idleTimeoutMs)}`);
  }
  const keepAlive = opts.keepAliveMs;
  if (keepAlive !== undefined && (!Number.isSafeInteger(keepAlive) || keepAlive <= 0 || keepAlive > MAX_TIMER_MS)) {
    throw new Error(`keepAliveMs must be an integer in [1, 2^31), got ${String(keepAlive)}`);
  }
  return {
    host,
    port: opts.port,
    remote: formatAddress(host, opts.port),
    connectTimeoutMs: opts.connectTimeoutMs,
    idleTimeoutMs: idle,
    keepAliveMs: keepAlive,
  };
}

/** The connect deadline passed. */
class ConnectTimeout extends Error {
  constructor(plan: ConnectPlan) {
    super(
      `timeout: no TCP connection to ${plan.remote} within ${String(plan.connectTimeoutMs)} ms ` +
        '(SYN unanswered: host down, port filtered, or the listen backlog is full)',
    );
    this.name = 'ConnectTimeout';
  }
}

/**
 * One TCP connection of the harness (client side), created by
 * {@link tcpDriver}`.connect`; implements {@link ClientConnection} and, for
 * its single stream 0, {@link ClientStream}.
 */
class TcpClientConnection implements ClientConnection {
  readonly conn: number;
  readonly closed: Promise<CloseInfo>;
  private resolveClosed: (info: CloseInfo) => void = noop;
  /** The connection as the client sees it (tcp/close-semantics.ts): FINs, RST, who closed. */
  private readonly tcp: TcpViewHolder;
  private localCloseP: Promise<void> | undefined;
  /** Received bytes. */
  private readonly rx = new ReceiveBuffer();
  private readonly stream: TcpClientStream;
  private readonly socketGone: Promise<void>;

  constructor(
    private readonly trace: TraceRecorder,
    conn: number,
    private readonly socket: Socket,
    plan: ConnectPlan,
  ) {
    this.conn = conn;
    this.tcp = { view: tcpView(conn, 'client', { answerPeerFin: true }) };
    this.closed = new Promise<CloseInfo>((resolve) => {
      this.resolveClosed = resolve;
    });
    this.stream = new TcpClientStream(this);
    this.socketGone = socketClosed(socket);
    socket.on('data', (chunk: Buffer) => this.guard(() => this.onData(chunk)));
    socket.on('end', () => this.guard(() => this.onPeerFin()));
    socket.on('error', (err: Error) => this.guard(() => this.onError(err)));
    socket.on('close', () => this.guard(() => this.onSocketClose()));
    if (plan.idleTimeoutMs > 0) {
      socket.setTimeout(plan.idleTimeoutMs, () => this.guard(() => this.onIdle(plan.idleTimeoutMs)));
    }
    if (plan.keepAliveMs !== undefined) socket.setKeepAlive(true, plan.keepAliveMs);
  }

  get isClosed(): boolean {
    return this.tcp.view.closed;
  }

  /** True once the server's side ended (FIN or RST) or the connection closed. */
  get readEnded(): boolean {
    return !this.tcp.view.receiving;
  }

  get receivedLength(): number {
    return this.rx.length;
  }

  received(): Uint8Array {
    return this.rx.copy();
  }

  /**
   * The single stream (id 0); the same object on every call. Nothing is sent until its first write.
   * @throws DriverError for `kind` `'uni'` (TCP has no unidirectional streams).
   */
  openStream(kind: StreamKind = 'bidi'): ClientStream {
    if (kind !== 'bidi') throw new DriverError(`openStream(${JSON.stringify(kind)}): TCP has no unidirectional streams (one byte stream per connection)`);
    return this.stream;
  }

  /** TCP: the server never opens a stream; resolves `undefined` at once. */
  acceptStream(_timeoutMs: number): Promise<ClientStream | undefined> {
    return Promise.resolve(undefined);
  }

  /** TCP: always empty (the server never opens a stream). */
  serverStreams(): readonly ClientStream[] {
    return [];
  }

  /** TCP has no datagrams. */
  readonly maxDatagramSize: number | undefined = undefined;

  /**
   * TCP has no datagrams.
   * @throws DriverError always.
   */
  sendDatagram(bytes: Uint8Array): void {
    throw new DriverError(`sendDatagram(${String(bytes.byteLength)} bytes): TCP has no datagrams (RFC 9221 is QUIC only)`);
  }

  /** TCP: always empty. */
  datagrams(): readonly Uint8Array[] {
    return [];
  }

  /** Adds a harness annotation about this connection. */
  note(text: string): void {
    this.trace.note(`tcp conn ${String(this.conn)}: ${text}`);
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      try {
        this.note(`driver error: ${errorMessage(err)}`);
      } catch {
        /* nothing more to do */
      }
    }
  }

  /**
   * Applies a happening (tcp/close-semantics.ts) and records its events; a
   * `conn_close` among them starts the release of the socket.
   * @returns the decision (`refused` when a local operation is not allowed).
   */
  private step(h: TcpHappening): TcpApplied {
    return applyTcp(this.tcp, h, (ev) => {
      const recorded = this.trace.record<TraceEvent>(ev);
      if (recorded.type === 'conn_close') this.released({ conn: recorded.conn, by: recorded.by, isApp: recorded.isApp, code: recorded.code, reason: recorded.reason });
    });
  }

  // ---- stream operations (called by TcpClientStream) ----------------------

  write(bytes: Uint8Array): Promise<void> {
    if (!(bytes instanceof Uint8Array)) {
      return Promise.reject(new DriverError('write on stream 0: bytes must be a Uint8Array'));
    }
    const copy = Buffer.from(bytes);
    const d = this.step({ type: 'send', hex: toHex(copy) });
    if (d.refused !== undefined) return Promise.reject(new DriverError(d.refused));
    if (bytes.byteLength === 0) return Promise.resolve();
    let accepted: boolean;
    try {
      accepted = this.socket.write(copy);
    } catch (err) {
      return Promise.reject(new DriverError(`write on stream 0: ${errorMessage(err)}`, { cause: err }));
    }
    if (accepted) return Promise.resolve();
    // Backpressure: Node buffered past its high-water mark; wait for 'drain'.
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        this.socket.off('drain', onDrain);
        this.socket.off('close', onClose);
      };
      const onDrain = (): void => {
        done();
        resolve();
      };
      const onClose = (): void => {
        done();
        reject(new DriverError('write on stream 0: connection closed before the data was sent'));
      };
      this.socket.on('drain', onDrain);
      this.socket.on('close', onClose);
    });
  }

  end(): Promise<void> {
    const d = this.step({ type: 'local_fin' });
    if (d.refused !== undefined) return Promise.reject(new DriverError(d.refused));
    return new Promise<void>((resolve) => {
      const onClose = (): void => resolve();
      this.socket.once('close', onClose);
      this.socket.end(() => {
        this.socket.off('close', onClose);
        resolve();
      });
    });
  }

  reset(code: number): void {
    checkCode(code, 'reset');
    if (this.tcp.view.closed) {
      this.note(`reset(${String(code)}) not sent: connection already closed`);
      return;
    }
    const sent = resetSocket(this.socket);
    this.step({ type: 'local_reset', code, sent });
  }

  // ---- socket events ------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (!this.tcp.view.receiving || chunk.byteLength === 0) return;
    this.rx.append(chunk);
    this.step({ type: 'receive', hex: toHex(chunk) });
  }

  private onPeerFin(): void {
    // Node's default (allowHalfOpen false): the server's FIN ends the connection; the view answers with our FIN.
    if (this.step({ type: 'peer_fin' }).sendFin) this.socket.end();
  }

  private onError(err: Error): void {
    if (this.tcp.view.closed) return;
    if (isResetError(err)) {
      this.step({ type: 'peer_reset' });
    } else {
      const code = netErrorCode(err);
      this.step({ type: 'socket_error', reason: code !== undefined ? `socket error ${code}` : `socket error: ${errorMessage(err)}` });
    }
    this.socket.destroy();
  }

  private onSocketClose(): void {
    this.step({ type: 'socket_closed' });
  }

  private onIdle(ms: number): void {
    if (this.tcp.view.closed) return;
    this.step({ type: 'local_close', by: 'transport', code: 0, reason: `idle timeout (${String(ms)} ms, local)` });
    this.socket.destroy();
  }

  /** After the one `conn_close`: resolves `closed` once the socket is released (bounded). */
  private released(info: CloseInfo): void {
    this.socket.setTimeout(0);
    void settleWithin(this.socketGone, TCP_CLOSE_DEADLINE_MS).then((outcome) => {
      if (outcome === 'timeout') this.socket.destroy();
      this.resolveClosed(info);
    });
  }

  /**
   * Closes the connection: records `conn_close` by `'client'` with `code`
   * and `reason` (neither is on the wire in TCP; reason capped to 256 bytes
   * of UTF-8), sends FIN after the queued bytes, and destroys the socket once
   * the FIN is out, or after {@link TCP_CLOSE_DEADLINE_MS}. When the
   * connection had already ended, waits (bounded) for its release.
   * Idempotent: later calls return the first call's promise.
   * @throws RangeError / TypeError (as a rejection) for an invalid code or reason.
   */
  close(code = 0, reason = ''): Promise<void> {
    try {
      checkCode(code, 'close');
      if (typeof reason !== 'string') throw new TypeError('close: reason must be a string');
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.localCloseP === undefined) {
      if (!this.tcp.view.closed) {
        this.step({ type: 'local_close', code, reason: capReason(reason) });
        this.localCloseP = this.closeLocally();
      } else {
        this.localCloseP = settleWithin(this.closed, TCP_CLOSE_DEADLINE_MS * 2).then(noop);
      }
    }
    return this.localCloseP;
  }

  private async closeLocally(): Promise<void> {
    const socket = this.socket;
    if (!socket.destroyed && !socket.writableEnded) {
      const finished = new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.end(() => resolve());
      });
      await settleWithin(finished, TCP_CLOSE_DEADLINE_MS);
    }
    socket.destroy();
    await settleWithin(this.closed, TCP_CLOSE_DEADLINE_MS * 2);
  }
}

/** Stream 0 of a {@link TcpClientConnection}. */
class TcpClientStream implements ClientStream {
  readonly id = TCP_STREAM_ID;
  readonly conn: number;
  /** The client opened the connection, so its stream. */
  readonly by = 'client' as const;
  readonly kind = 'bidi' as const;

  constructor(private readonly owner: TcpClientConnection) {
    this.conn = owner.conn;
  }

  /**
   * Sends `bytes` (copied at call time), recorded as `data` c2s before they
   * go to the socket. Zero bytes send and record nothing. Resolves at once
   * while Node's send buffer is below its high-water mark, else on `'drain'`.
   * @throws DriverError (as a rejection) after FIN or when the connection is
   *   gone (also when it closes while the write waits for `'drain'`).
   */
  write(bytes: Uint8Array): Promise<void> {
    return this.owner.write(bytes);
  }

  /**
   * Half-closes the connection (our FIN, after the queued bytes), recorded as
   * `stream_fin` c2s. Resolves once the FIN is handed to the kernel, or the
   * connection closes.
   * @throws DriverError (as a rejection) after FIN or when the connection is gone.
   */
  end(): Promise<void> {
    return this.owner.end();
  }

  /**
   * Aborts the connection with a TCP RST (`socket.resetAndDestroy()`):
   * records `stream_reset` c2s kind `'reset'` with `code` (not on the wire),
   * then `conn_close` by `'client'`, reason `'reset'`. Nothing is sent (a
   * note says so) when the connection is already closed.
   * @throws RangeError for a code outside [0, 2^53).
   */
  reset(code: number): void {
    this.owner.reset(code);
  }

  /**
   * TCP has no STOP_SENDING.
   * @throws DriverError always.
   */
  stopSending(code: number): void {
    throw new DriverError(`stopSending(${String(code)}): TCP has no STOP_SENDING (one byte stream per connection); use reset() or close()`);
  }

  received(): Uint8Array {
    return this.owner.received();
  }

  get receivedLength(): number {
    return this.owner.receivedLength;
  }

  get readEnded(): boolean {
    return this.owner.readEnded;
  }
}

/**
 * Opens a TCP connection to `opts.host:opts.port` (Nagle off) and records
 * `conn_open` (`conn` from `trace.allocConn()`, `remote` as `host:port`, no
 * `alpn`). The whole attempt (DNS, SYN) is bounded by `opts.connectTimeoutMs`
 * (ms). `opts.idleTimeoutMs` (> 0) closes the connection locally after that
 * many ms without a byte either way (`conn_close` by `'transport'`);
 * `opts.keepAliveMs` turns on SO_KEEPALIVE with that initial delay (ms).
 * TLS options are ignored.
 *
 * @throws ConnectError (as a rejection) for invalid options, refused
 *   connection, timeout, unresolvable host or network errors; `conn_fail`
 *   is recorded with the same message.
 */
async function connect(trace: TraceRecorder, opts: ConnectOptions): Promise<ClientConnection> {
  const conn = trace.allocConn();
  let plan: ConnectPlan;
  try {
    plan = planConnect(opts);
  } catch (err) {
    const message = errorMessage(err);
    trace.record<ConnFailEvent>({ type: 'conn_fail', conn, message });
    throw new ConnectError(`TCP connect to ${formatAddress(String(opts.host), Number(opts.port))} failed: ${message}`, { cause: err });
  }
  const socket = new Socket({ allowHalfOpen: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new ConnectTimeout(plan));
      }, plan.connectTimeoutMs);
      const onConnect = (): void => {
        cleanup();
        resolve();
      };
      const onError = (err: Error): void => {
        cleanup();
        reject(err);
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        socket.off('connect', onConnect);
        socket.off('error', onError);
      };
      socket.once('connect', onConnect);
      socket.once('error', onError);
      socket.connect({ host: plan.host, port: plan.port });
    });
  } catch (err) {
    socket.on('error', noop);
    socket.destroy();
    const message = err instanceof ConnectTimeout ? err.message : describeConnectFailure(err);
    trace.record<ConnFailEvent>({ type: 'conn_fail', conn, message });
    throw new ConnectError(`TCP connect to ${plan.remote} failed: ${message}`, { cause: err });
  }
  socket.setNoDelay(true);
  trace.record<ConnOpenEvent>({ type: 'conn_open', conn, remote: plan.remote });
  return new TcpClientConnection(trace, conn, socket, plan);
}

/**
 * The TCP driver (transport `'tcp'`): see {@link Driver} and the module
 * comment for how TCP maps onto the trace (one stream, id 0).
 */
export const tcpDriver: Driver = {
  transport: 'tcp',
  connect,
};
