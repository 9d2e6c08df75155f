/**
 * QUIC client driver: opens connections to a target with @matrixai/quic and
 * records every wire event the harness sees into a {@link TraceRecorder}
 * (RFC 9000 roles: the harness is the client, so what it sends is `c2s`).
 *
 * This file is the driver proper: connect, event wiring, close. The
 * adaptation to the library lives beside the server host in harness/quic/:
 * errors.ts (error vocabulary, TLS alerts, error → close), options.ts
 * (option checks and the library config), identity.ts (certificate check
 * without SNI), stream.ts (the stream class), internals.ts (every reach into
 * the library's internals: the connection is built directly rather than
 * through `QUICClient`, which always sends an SNI, even an IP literal that
 * RFC 6066 §3 forbids, and hands out its connection only after the
 * handshake, missing 0.5-RTT server streams and reporting a TLS alert only
 * after the ~3 s draining period).
 *
 * Every hazard listed for the library in shared/NOTES.md is closed: codes
 * are checked before they reach it, close reasons are capped, every listener
 * is wrapped, every promise is caught, every wait is bounded, and peer
 * stream codes the library cannot parse are shielded (internals.ts).
 */
import { lookup } from 'node:dns/promises';
import { QUICSocket, QUICStream, errors as quicErrors, events as quicEvents } from '@matrixai/quic';
import type { QUICConnection } from '@matrixai/quic';
import type Logger from '@matrixai/logger';
import {
  type ConnCloseEvent,
  type ConnFailEvent,
  type ConnOpenEvent,
  type DistributiveOmit,
  type StreamKind,
  type TraceEvent,
  type TraceRecorder,
} from '../engine/trace.js';
import { errorMessage, formatAddress, nextMacrotask, noop, settleWithin } from '../engine/util.js';
import {
  ALERT_BAD_CERTIFICATE,
  CRYPTO_ERROR_BASE,
  ConnectTimeout,
  INTERNAL_ERROR,
  IdentityMismatch,
  closeFromError,
  describeConnectError,
} from '../quic/errors.js';
import { certificateCovers } from '../quic/identity.js';
import { closeNativelyFirst, createClientConnection, forgetClientConnection, guardSocketMessages, negotiatedAlpn } from '../quic/internals.js';
import { planConnect, type ConnectPlan } from '../quic/options.js';
import { DatagramChannel } from '../quic/datagrams.js';
import { StreamInbox } from '../quic/inbox.js';
import { QuicDriverStream, type StreamOwner } from '../quic/stream.js';
import { checkQuicCode, decodeReason, detailOf, encodeReason, EVENT_ERROR, isIpLiteral, quietLogger, safeListener } from '../quic/util.js';
import { ConnectError, DriverError, type ClientConnection, type ClientStream, type CloseInfo, type ConnectOptions, type Driver } from './types.js';

/**
 * Longest a local {@link ClientConnection.close} (and the release of the
 * connection's socket after any close) may take, in ms. The library's own
 * close normally takes 15–20 ms on loopback (NOTES.md).
 */
export const QUIC_CLOSE_DEADLINE_MS = 2_000;

let libraryLogger: Logger | undefined;
/** One quiet logger for the library, shared by all connections. */
function logger(): Logger {
  libraryLogger ??= quietLogger('wirecheck.quic');
  return libraryLogger;
}

/** Something with `addEventListener`, as every @matrixai/quic object is. */
interface LibraryEventTarget {
  addEventListener(type: string, listener: (ev: Event) => void): void;
}

/**
 * One QUIC connection of the harness (client side). Created by
 * {@link quicDriver}`.connect`; implements {@link ClientConnection}.
 */
class QuicClientConnection implements ClientConnection, StreamOwner {
  readonly conn: number;
  readonly closed: Promise<CloseInfo>;
  private resolveClosed: (info: CloseInfo) => void = noop;
  private phase: 'connecting' | 'open' | 'failed' | 'closed' = 'connecting';
  /** Who is ending the connection, once known: our `close()`, or anything else. */
  private ending: 'local' | 'remote' | undefined;
  private localCloseP: Promise<void> | undefined;
  /** The peer's close, when it arrived while our own close was starting. */
  private peerCloseDuringLocal: CloseInfo | undefined;
  private teardownP: Promise<void> | undefined;
  /** Events seen before `conn_open` was recorded (0.5-RTT streams, datagrams), flushed after it. */
  private early: Array<DistributiveOmit<TraceEvent, 't'>> = [];
  private readonly streams = new Map<number, QuicDriverStream>();
  private readonly inbox = new StreamInbox<QuicDriverStream>();
  private dgrams = new DatagramChannel(this, false);
  connection: QUICConnection | undefined;
  private socket: QUICSocket | undefined;
  private socketStopped = false;
  /** Set while connecting: fails the connect at once (TLS alert, send error ...). */
  private failConnect: ((err: unknown) => void) | undefined;

  constructor(
    private readonly trace: TraceRecorder,
    conn: number,
  ) {
    this.conn = conn;
    this.closed = new Promise<CloseInfo>((resolve) => {
      this.resolveClosed = resolve;
    });
  }

  get endedRemotely(): boolean {
    return this.ending === 'remote';
  }

  get isClosed(): boolean {
    return this.ending !== undefined || this.phase === 'closed' || this.phase === 'failed';
  }

  emit<E extends TraceEvent>(ev: DistributiveOmit<E, 't'>): void {
    if (this.phase === 'failed' || this.phase === 'closed') return;
    if (this.phase === 'connecting') {
      this.early.push(ev as DistributiveOmit<TraceEvent, 't'>);
      return;
    }
    this.trace.record<E>(ev);
  }

  note(text: string): void {
    if (this.phase === 'failed') return;
    this.trace.note(`quic conn ${String(this.conn)}: ${text}`);
  }

  /** Reports an error caught in a listener or a background task (never throws). */
  private readonly onListenerError = (err: unknown): void => {
    this.note(`driver error: ${errorMessage(err)}`);
  };

  private listen(target: LibraryEventTarget, type: string, fn: (ev: Event) => void): void {
    target.addEventListener(type, safeListener(fn, this.onListenerError));
  }

  /** Connects as planned: resolves once the handshake is done (and the certificate checked), rejects on failure or deadline. */
  async open(plan: ConnectPlan): Promise<void> {
    this.dgrams = new DatagramChannel(this, plan.datagrams);
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const failure = new Promise<never>((_, reject) => {
      this.failConnect = reject;
      timer = setTimeout(() => reject(new ConnectTimeout(plan.remote, plan.connectTimeoutMs)), plan.connectTimeoutMs);
    });
    let started = false;
    const work = this.establish(plan, abort.signal).then(() => {
      started = true;
    });
    try {
      await Promise.race([work, failure]);
      if (plan.identityCheck !== undefined && !certificateCovers(this.connection?.getRemoteCertsChain()[0], plan.identityCheck)) {
        throw new IdentityMismatch(plan.identityCheck);
      }
    } catch (err) {
      abort.abort(err);
      this.phase = 'failed';
      this.early = [];
      const stopCode = err instanceof IdentityMismatch ? CRYPTO_ERROR_BASE + ALERT_BAD_CERTIFICATE : INTERNAL_ERROR;
      this.cleanupFailedConnect(work, () => started, stopCode).catch(noop);
      throw err;
    } finally {
      clearTimeout(timer);
      this.failConnect = undefined;
      failure.catch(noop);
    }
    this.phase = 'open';
    const alpn = negotiatedAlpn(this.connection) ?? (plan.alpn.length === 1 ? plan.alpn[0] : undefined);
    this.trace.record<ConnOpenEvent>({ type: 'conn_open', conn: this.conn, remote: plan.remote, ...(alpn === undefined ? {} : { alpn }) });
    const early = this.early;
    this.early = [];
    for (const ev of early) this.trace.record(ev);
  }

  /** Socket, DNS, connection, handshake; `signal` aborts at the connect deadline. */
  private async establish(plan: ConnectPlan, signal: AbortSignal): Promise<void> {
    let address = plan.host;
    let family: 4 | 6 = plan.host.includes(':') ? 6 : 4;
    if (!isIpLiteral(plan.host)) {
      const found = await lookup(plan.host, { verbatim: true });
      address = found.address;
      family = found.family === 6 ? 6 : 4;
    }
    signal.throwIfAborted();
    const socket = new QUICSocket({ logger: logger().getChild('socket') });
    this.socket = socket;
    this.listen(socket, EVENT_ERROR, (ev) => this.note(`socket error: ${errorMessage(detailOf(ev))}`));
    // Late packets for a stopped connection must not become unhandled rejections (issue 13).
    guardSocketMessages(socket, (err) => {
      if (!this.isClosed) this.note(`late packet: ${errorMessage(err)}`);
    });
    await socket.start({ host: family === 6 ? '::' : '0.0.0.0', port: 0 });
    signal.throwIfAborted();
    const connection = createClientConnection({
      socket,
      serverName: plan.sni,
      address,
      port: plan.port,
      config: plan.config,
      logger: logger().getChild(`conn ${String(this.conn)}`),
    });
    this.connection = connection;
    this.wire(connection, socket);
    // The library's own timer backs up ours; started later, it fires later.
    await connection.start(undefined, { timer: plan.connectTimeoutMs, signal });
  }

  /** After a failed connect: close what was opened, in the background, bounded. */
  private async cleanupFailedConnect(work: Promise<void>, started: () => boolean, stopCode: number): Promise<void> {
    // A failed handshake closes itself (start() waits out the draining period).
    await settleWithin(work, QUIC_CLOSE_DEADLINE_MS);
    const connection = this.connection;
    if (connection !== undefined && started()) {
      await settleWithin(connection.stop({ isApp: false, errorCode: stopCode, force: true }), QUIC_CLOSE_DEADLINE_MS);
    }
    await this.stopSocket();
  }

  /** Attaches every listener the driver needs to a new connection. */
  private wire(connection: QUICConnection, socket: QUICSocket): void {
    this.listen(connection, quicEvents.EventQUICConnectionSend.name, (ev) => {
      if (!(ev instanceof quicEvents.EventQUICConnectionSend) || this.socketStopped) return;
      const { msg, port, address } = ev.detail;
      socket.send_(msg, 0, msg.byteLength, port, address).catch((err: unknown) => this.onSendError(err));
    });
    this.listen(connection, quicEvents.EventQUICConnectionError.name, (ev) => this.onConnectionError(detailOf(ev)));
    this.listen(connection, quicEvents.EventQUICConnectionStream.name, (ev) => {
      const qs = detailOf(ev);
      if (qs instanceof QUICStream) this.onPeerStream(qs);
    });
    // The library throws its internal errors from its own listeners; with a
    // listener here they arrive as this event instead of crashing the process.
    this.listen(connection, EVENT_ERROR, (ev) => this.onInternalError(detailOf(ev)));
    connection.closedP.then(() => this.onQuicheClosed(), this.onListenerError);
    this.dgrams.attach(connection);
  }

  private onSendError(err: unknown): void {
    if (this.socketStopped) return;
    if (this.phase === 'connecting') {
      this.failConnect?.(err);
      return;
    }
    const code = (err as { code?: unknown } | null)?.code;
    this.note(`UDP send failed: ${typeof code === 'string' ? code : errorMessage(err)}`);
  }

  private onConnectionError(err: unknown): void {
    if (this.phase === 'connecting') {
      this.failConnect?.(err);
      return;
    }
    if (this.phase !== 'open' || this.ending === 'remote') return;
    const closed = closeFromError(err, 'server');
    if (closed === undefined) {
      this.onInternalError(err);
      return;
    }
    const info: CloseInfo = { conn: this.conn, ...closed };
    if (this.ending === 'local') {
      // Our close is starting (or under way: then this is its own local error, ignored).
      if (info.by === 'server') this.peerCloseDuringLocal ??= info;
      return;
    }
    this.endRemotely(info);
  }

  private onInternalError(err: unknown): void {
    this.note(`library internal error: ${errorMessage(err)}`);
    if (this.phase === 'connecting') {
      this.failConnect?.(err);
      return;
    }
    if (this.phase !== 'open' || this.ending !== undefined) return;
    this.endRemotely(
      { conn: this.conn, by: 'transport', isApp: false, code: INTERNAL_ERROR, reason: 'internal error' },
      { isApp: false, errorCode: INTERNAL_ERROR, force: true },
    );
  }

  /** quiche closed without an error event (a stateless reset, RFC 9000 §10.3). */
  private onQuicheClosed(): void {
    setImmediate(() => {
      if (this.phase !== 'open' || this.ending !== undefined) return;
      this.endRemotely({ conn: this.conn, by: 'transport', isApp: false, code: 0, reason: 'closed without CONNECTION_CLOSE (stateless reset?)' });
    });
  }

  /**
   * The connection ended without our asking: records `conn_close` after the
   * reads already delivered by the library (so that data the peer sent before
   * its CONNECTION_CLOSE comes first), then releases everything.
   */
  private endRemotely(info: CloseInfo, stopOpts: Parameters<QUICConnection['stop']>[0] = { force: true }): void {
    this.ending = 'remote';
    void (async () => {
      await nextMacrotask();
      this.recordClose(info);
      await this.teardown(stopOpts);
      this.resolveClosed(info);
    })().catch(this.onListenerError);
  }

  private recordClose(info: CloseInfo): void {
    if (this.phase === 'closed') return;
    this.trace.record<ConnCloseEvent>({ type: 'conn_close', ...info });
    this.phase = 'closed';
    for (const s of this.streams.values()) s.connectionClosed();
    this.inbox.close();
  }

  /** Stops the connection (bounded) and releases its socket (bounded). Idempotent. */
  private teardown(stopOpts: Parameters<QUICConnection['stop']>[0]): Promise<void> {
    this.teardownP ??= (async () => {
      const connection = this.connection;
      if (connection !== undefined) {
        const stopped = connection.stop(stopOpts).catch((err: unknown) => this.note(`close: ${errorMessage(err)}`));
        await settleWithin(stopped, QUIC_CLOSE_DEADLINE_MS);
      }
      await this.stopSocket();
    })();
    return this.teardownP;
  }

  private async stopSocket(): Promise<void> {
    if (this.socketStopped) return;
    this.socketStopped = true;
    const socket = this.socket;
    if (socket === undefined) return;
    if (this.connection !== undefined) forgetClientConnection(socket, this.connection);
    await settleWithin(socket.stop({ force: true }), QUIC_CLOSE_DEADLINE_MS);
  }

  // ---- streams ------------------------------------------------------------

  private onPeerStream(qs: QUICStream): void {
    if (this.phase !== 'connecting' && this.phase !== 'open') return;
    const s = new QuicDriverStream(this, qs.streamId, 'server', qs.type, qs);
    this.streams.set(s.id, s);
    this.inbox.push(s);
  }

  /**
   * Opens a client-initiated stream, bidirectional by default (RFC 9000
   * §2.1: ids 0, 4, 8 … bidi; 2, 6, 10 … uni). Nothing is sent, and nothing
   * recorded, until its first write, end, reset or stop-sending. Never
   * throws for a closed connection or the peer's stream limit: the stream's
   * operations then reject with `DriverError` and a note says why.
   * @throws DriverError for a `kind` other than 'bidi' or 'uni'.
   */
  openStream(kind: StreamKind = 'bidi'): ClientStream {
    if (kind !== 'bidi' && kind !== 'uni') throw new DriverError(`openStream: kind must be 'bidi' or 'uni', got ${JSON.stringify(kind)}`);
    let qs: QUICStream | undefined;
    let why = 'connection closed';
    if (!this.isClosed && this.connection !== undefined) {
      try {
        qs = this.connection.newStream(kind);
      } catch (err) {
        why = err instanceof quicErrors.ErrorQUICStreamLimit
          ? 'stream limit reached (peer has not granted more streams, RFC 9000 §4.6)'
          : errorMessage(err);
        this.note(`openStream failed: ${why}`);
      }
    }
    // Without a library stream the id is only a label: the next id of its kind.
    const s = new QuicDriverStream(this, qs?.streamId ?? this.nextLocalId(kind), 'client', kind, qs, why);
    if (qs !== undefined) this.streams.set(s.id, s);
    return s;
  }

  private nextLocalId(kind: StreamKind): number {
    let next = kind === 'uni' ? 2 : 0;
    for (const id of this.streams.keys()) if ((id & 3) === next % 4 && id >= next) next = id + 4;
    return next;
  }

  /** The next server-opened stream not yet accepted (in the order they became known); waits up to `timeoutMs` (ms). */
  acceptStream(timeoutMs: number): Promise<ClientStream | undefined> {
    return this.inbox.accept(timeoutMs);
  }

  serverStreams(): readonly ClientStream[] {
    return this.inbox.all();
  }

  // ---- datagrams (RFC 9221, quic/datagrams.ts) ---------------------------

  get maxDatagramSize(): number | undefined {
    return this.dgrams.maxSize;
  }

  sendDatagram(bytes: Uint8Array): void {
    this.dgrams.send(bytes);
  }

  datagrams(): readonly Uint8Array[] {
    return this.dgrams.received();
  }

  // ---- closing --------------------------------------------------------------

  /**
   * Closes the connection with CONNECTION_CLOSE type 0x1d (RFC 9000 §19.19):
   * application `code` (0 ≤ code < 2^53, checked) and `reason` (UTF-8,
   * capped to 256 bytes), sent before anything else so that open streams
   * simply end with the connection (no RESET_STREAM / STOP_SENDING). Records
   * `conn_close` by 'client' unless the connection had already ended.
   * Resolves within about {@link QUIC_CLOSE_DEADLINE_MS}; idempotent.
   * @throws RangeError (as a rejection) for an invalid code.
   */
  async close(code = 0, reason = ''): Promise<void> {
    checkQuicCode(code, 'close');
    if (typeof reason !== 'string') throw new TypeError('close: reason must be a string');
    if (this.localCloseP === undefined) {
      if (this.ending === undefined && this.phase === 'open') {
        this.ending = 'local';
        this.localCloseP = this.closeLocally(code, reason);
      } else {
        this.localCloseP = settleWithin(this.closed, QUIC_CLOSE_DEADLINE_MS * 2).then(noop);
      }
    }
    return this.localCloseP;
  }

  private async closeLocally(code: number, reason: string): Promise<void> {
    // Let the library deliver what it already received, so that it is recorded before the close.
    await nextMacrotask();
    const peer = this.peerCloseDuringLocal;
    if (peer !== undefined) {
      // The server closed first: ours was never sent.
      this.recordClose(peer);
      await this.teardown({ force: true });
      this.resolveClosed(peer);
      return;
    }
    const bytes = encodeReason(reason);
    const info: CloseInfo = { conn: this.conn, by: 'client', isApp: true, code, reason: decodeReason(bytes) };
    // CONNECTION_CLOSE ends every stream (RFC 9000 §10.2). The library's stop()
    // would first abort each open stream side (RESET_STREAM / STOP_SENDING 0),
    // which a protocol may treat as an error of its own (e.g. PROTON-8.3).
    if (!closeNativelyFirst(this.connection, true, code, bytes)) {
      for (const s of this.streams.values()) s.abortedByClose();
    }
    this.recordClose(info);
    await this.teardown({ isApp: true, errorCode: code, reason: bytes, force: true });
    this.resolveClosed(info);
  }
}

/**
 * Opens a QUIC connection (RFC 9000) to `opts.host:opts.port` and records
 * `conn_open` (`conn` from `trace.allocConn()`, `remote` as `host:port`,
 * `alpn` negotiated).
 *
 * - ALPN ids from `opts.alpn` (at least one, RFC 9001 §8.1).
 * - The certificate is verified unless `opts.insecure`, against `opts.ca`
 *   (PEM) or the system CAs.
 * - SNI is `opts.serverName`, else `opts.host`, but never an IP literal
 *   (RFC 6066 §3): then no SNI is sent and, when verifying, the certificate
 *   must cover that IP (checked after the handshake, closing with TLS alert
 *   42 bad_certificate when it does not).
 * - `opts.idleTimeoutMs` becomes max_idle_timeout (ms, RFC 9000 §10.1),
 *   `opts.keepAliveMs` the PING interval (ms).
 * - `opts.datagrams` advertises DATAGRAM support (RFC 9221 §3).
 * - The whole attempt (DNS, socket, handshake, check) is bounded by
 *   `opts.connectTimeoutMs` (ms).
 *
 * @throws ConnectError (as a rejection) for invalid options, timeout,
 *   refused handshake (TLS alert, ALPN mismatch), certificate problems or
 *   network errors; `conn_fail` is recorded with the same message.
 */
async function connect(trace: TraceRecorder, opts: ConnectOptions): Promise<ClientConnection> {
  const conn = trace.allocConn();
  let plan: ConnectPlan | undefined;
  const c = new QuicClientConnection(trace, conn);
  try {
    plan = planConnect(opts);
    await c.open(plan);
    return c;
  } catch (err) {
    const remote = plan?.remote ?? formatAddress(String(opts.host), Number(opts.port));
    const message = describeConnectError(err, plan);
    trace.record<ConnFailEvent>({ type: 'conn_fail', conn, message });
    throw new ConnectError(`QUIC connect to ${remote} failed: ${message}`, { cause: err });
  }
}

/**
 * The QUIC driver (transport `'quic'`): see {@link Driver}. Connections
 * record `conn_open`/`conn_fail`, `stream_open` (with `dir: 'uni'` for uni
 * streams), `data`, `stream_fin`, `stream_reset`, `dgram` and exactly one
 * `conn_close`; streams the server opens are read to their end, kept, and
 * handed out by `acceptStream`. Local stream ids follow RFC 9000 §2.1.
 */
export const quicDriver: Driver = {
  transport: 'quic',
  connect,
};
