/**
 * QUIC client driver: opens connections to a target with @matrixai/quic and
 * records every wire event the harness sees into a {@link TraceRecorder}
 * (RFC 9000 roles: the harness is the client, so what it sends is `c2s`).
 *
 * Built from the library's public `QUICSocket` and `QUICConnection` rather
 * than `QUICClient`, for two reasons found in the library's source
 * (`dist/QUICClient.js`):
 *  - `QUICClient.createQUICClient` passes `serverName ?? host` to the
 *    connection, so it always sends an SNI (an IP literal when the target is
 *    an IP, which RFC 6066 §3 forbids), and an empty name fails with
 *    `TlsFail`. `QUICConnection` itself accepts `serverName: null`, which
 *    reaches quiche as `None`: no SNI extension at all.
 *  - `QUICClient` hands out its connection only after the handshake, so
 *    streams opened by the server in the handshake's last flight (0.5-RTT)
 *    would be missed, and a TLS alert is reported only after the ~3 s
 *    draining period. Owning the connection, the driver listens from the
 *    first packet and fails a connect as soon as the alert arrives.
 *
 * Every hazard listed for the library in shared/NOTES.md is closed here:
 * codes are checked before they reach it, close reasons are capped, every
 * listener is wrapped, every promise is caught, and every wait is bounded.
 */
import { X509Certificate, randomFillSync } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import {
  QUICConnection,
  QUICConnectionId,
  QUICSocket,
  QUICStream,
  errors as quicErrors,
  events as quicEvents,
  native as quicNative,
  utils as quicUtils,
} from '@matrixai/quic';
import type { Host, Port, QUICConfig } from '@matrixai/quic';
import { clientDefault } from '@matrixai/quic/config.js';
import type Logger from '@matrixai/logger';
import {
  toHex,
  type ConnCloseEvent,
  type ConnFailEvent,
  type ConnOpenEvent,
  type DataEvent,
  type DistributiveOmit,
  type StreamFinEvent,
  type StreamOpenEvent,
  type StreamResetEvent,
  type TraceEvent,
  type TraceRecorder,
} from '../engine/trace.js';
import {
  checkQuicCode,
  decodeReason,
  encodeReason,
  isIpLiteral,
  quietLogger,
  safeListener,
} from '../quic/util.js';
import {
  ConnectError,
  DriverError,
  type ClientConnection,
  type ClientStream,
  type CloseInfo,
  type ConnectOptions,
  type Driver,
} from './types.js';

/**
 * Longest a local {@link ClientConnection.close} (and the release of the
 * connection's socket after any close) may take, in ms. The library's own
 * close normally takes 15–20 ms on loopback (NOTES.md).
 */
export const QUIC_CLOSE_DEADLINE_MS = 2_000;

/** Longest delay a Node timer takes (ms); a longer one fires after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** QUIC transport error code INTERNAL_ERROR (RFC 9000 §20.1). */
const INTERNAL_ERROR = 0x1;
/** First QUIC transport error code carrying a TLS alert (CRYPTO_ERROR, RFC 9001 §4.8). */
const CRYPTO_ERROR_BASE = 0x100;
/** TLS alert `bad_certificate` (RFC 8446 §6.2). */
const ALERT_BAD_CERTIFICATE = 42;
/** TLS alert `no_application_protocol` (RFC 7301 §3.2). */
const ALERT_NO_APPLICATION_PROTOCOL = 120;

/** Names of the TLS alerts (RFC 8446 §6) a QUIC handshake can end with. */
const TLS_ALERTS: Readonly<Record<number, string>> = {
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

/** Name of the library's error event (`EventError` of @matrixai/events). */
const EVENT_ERROR = 'EventError';

let libraryLogger: Logger | undefined;
/** One quiet logger for the library, shared by all connections. */
function logger(): Logger {
  libraryLogger ??= quietLogger('wirecheck.quic');
  return libraryLogger;
}

function noop(): void {
  /* deliberately empty */
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message || err.name : String(err);
}

/** Something with `addEventListener`, as every @matrixai/quic object is. */
interface LibraryEventTarget {
  addEventListener(type: string, listener: (ev: Event) => void): void;
}

/** The `detail` of a library event (all of them extend `CustomEvent`-like `AbstractEvent`). */
function detailOf(ev: Event): unknown {
  return (ev as Event & { detail?: unknown }).detail;
}

/**
 * Resolves with `p`, or with `undefined` after `ms` (the timer is cleared
 * either way, so it never keeps the process alive). Rejects if `p` rejects
 * first; a later rejection of `p` is handled (the race subscribes to it).
 */
function withDeadline<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

/** Resolves after the current macrotask, once pending microtasks (stream reads) have run. */
function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** `{ isApp, errorCode, reason }` of a library connection error (`.data`), read defensively. */
interface WireClose {
  readonly isApp: boolean;
  readonly code: number;
  readonly reason: string;
}

function readWireClose(data: unknown): WireClose | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const d = data as { isApp?: unknown; errorCode?: unknown; reason?: unknown };
  if (typeof d.errorCode !== 'number') return undefined;
  return {
    isApp: d.isApp === true,
    code: d.errorCode,
    reason: d.reason instanceof Uint8Array ? decodeReason(d.reason) : '',
  };
}

function describeAlert(code: number): string {
  const alert = code - CRYPTO_ERROR_BASE;
  return `TLS alert ${alert} (${TLS_ALERTS[alert] ?? 'unknown'}), transport code 0x${code.toString(16)}`;
}

function describeWireClose(w: WireClose): string {
  const kind = w.isApp ? 'application' : 'transport';
  const reason = w.reason === '' ? '' : ` reason ${JSON.stringify(w.reason)}`;
  return `${kind} code ${w.code} (0x${w.code.toString(16)})${reason}`;
}

function isCryptoCode(w: WireClose | undefined): w is WireClose {
  return w !== undefined && !w.isApp && w.code >= CRYPTO_ERROR_BASE && w.code < CRYPTO_ERROR_BASE + 0x100;
}

/**
 * Reason object for a stream code the driver sends: `reasonToCode` turns it
 * into the RESET_STREAM / STOP_SENDING code (anything else maps to 0).
 */
class LocalStreamCode {
  constructor(readonly code: number) {}
}

/**
 * Reason object the library builds (through `codeToReason`) from a code the
 * peer sent: a read rejects with it after RESET_STREAM (`type: 'read'`), a
 * write after STOP_SENDING (`type: 'write'`).
 */
class PeerStreamCode extends Error {
  constructor(
    readonly type: 'read' | 'write',
    readonly code: number,
  ) {
    super(`peer sent ${type === 'read' ? 'RESET_STREAM' : 'STOP_SENDING'} with code ${code}`);
    this.name = 'PeerStreamCode';
  }
}

function reasonToCode(_type: 'read' | 'write', reason?: unknown): number {
  return reason instanceof LocalStreamCode ? reason.code : 0;
}

function codeToReason(type: 'read' | 'write', code: number): PeerStreamCode {
  return new PeerStreamCode(type, code);
}

/** Options checked and turned into what the connection needs. */
interface ConnectPlan {
  /** Host without IPv6 brackets. */
  readonly host: string;
  readonly port: number;
  /** `host:port` as recorded (IPv6 in brackets). */
  readonly remote: string;
  /** SNI to send, or `null` for none. */
  readonly sni: string | null;
  /** Name or IP the certificate must cover when no SNI carries it (checked after the handshake). */
  readonly identityCheck: string | undefined;
  readonly alpn: readonly string[];
  readonly config: QUICConfig;
  readonly connectTimeoutMs: number;
}

function formatRemote(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${String(port)}`;
}

/** Validates `opts`; throws an `Error` whose message says what is wrong. */
function planConnect(opts: ConnectOptions): ConnectPlan {
  if (typeof opts.host !== 'string' || opts.host === '') throw new Error('host must be a non-empty string');
  const host = opts.host.startsWith('[') && opts.host.endsWith(']') ? opts.host.slice(1, -1) : opts.host;
  if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) {
    throw new Error(`port must be an integer in [1, 65535], got ${String(opts.port)}`);
  }
  if (!Number.isFinite(opts.connectTimeoutMs) || opts.connectTimeoutMs <= 0 || opts.connectTimeoutMs > MAX_TIMER_MS) {
    throw new Error(`connectTimeoutMs must be a number of ms in (0, 2^31), got ${String(opts.connectTimeoutMs)}`);
  }
  const alpn = opts.alpn ?? [];
  if (alpn.length === 0) throw new Error('QUIC needs at least one ALPN protocol id (RFC 9001 §8.1)');
  for (const id of alpn) {
    const len = typeof id === 'string' ? Buffer.byteLength(id) : 0;
    if (len < 1 || len > 255) throw new Error(`ALPN id must be 1-255 bytes, got ${JSON.stringify(id)}`);
  }
  const idle = opts.idleTimeoutMs ?? 0;
  if (!Number.isSafeInteger(idle) || idle < 0) {
    throw new Error(`idleTimeoutMs must be an integer ≥ 0, got ${String(opts.idleTimeoutMs)}`);
  }
  const keepAlive = opts.keepAliveMs;
  if (keepAlive !== undefined) {
    if (!Number.isSafeInteger(keepAlive) || keepAlive <= 0 || keepAlive > MAX_TIMER_MS) {
      throw new Error(`keepAliveMs must be an integer in [1, 2^31), got ${String(keepAlive)}`);
    }
    if (idle > 0 && keepAlive >= idle) {
      throw new Error(`keepAliveMs (${String(keepAlive)}) must be below idleTimeoutMs (${String(idle)})`);
    }
  }
  const verifyPeer = opts.insecure !== true;
  // SNI (RFC 6066 §3): a DNS name only, never an IP literal. An empty
  // serverName also means "send none".
  const identity = opts.serverName !== undefined && opts.serverName !== '' ? opts.serverName : host;
  const sni = opts.serverName === '' || isIpLiteral(identity) ? null : identity;
  const config: QUICConfig = {
    ...clientDefault,
    applicationProtos: [...alpn],
    verifyPeer,
    maxIdleTimeout: idle,
  };
  if (keepAlive !== undefined) config.keepAliveIntervalTime = keepAlive;
  if (opts.ca !== undefined) config.ca = opts.ca;
  return {
    host,
    port: opts.port,
    remote: formatRemote(host, opts.port),
    sni,
    identityCheck: verifyPeer && sni === null ? identity : undefined,
    alpn,
    config,
    connectTimeoutMs: opts.connectTimeoutMs,
  };
}

/** Explains a connect failure in one line (timeout, TLS alert, ALPN mismatch, ...). */
function describeConnectError(err: unknown, plan: ConnectPlan | undefined): string {
  if (err instanceof ConnectTimeout || err instanceof IdentityMismatch) return err.message;
  if (err instanceof quicErrors.ErrorQUICConnectionPeerTLS) {
    const w = readWireClose(err.data);
    if (isCryptoCode(w)) {
      if (w.code - CRYPTO_ERROR_BASE === ALERT_NO_APPLICATION_PROTOCOL) {
        return `ALPN mismatch: the server accepts none of ${JSON.stringify(plan?.alpn ?? [])} (${describeAlert(w.code)})`;
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
    if (err.cause instanceof quicErrors.ErrorQUICConnectionStartTimeout && plan) return new ConnectTimeout(plan).message;
    const w = readWireClose(err.data);
    return `handshake failed locally: ${w ? describeWireClose(w) : errorMessage(err)}`;
  }
  if (err instanceof quicErrors.ErrorQUICConnectionStartTimeout && plan) {
    return new ConnectTimeout(plan).message;
  }
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

/** The server's certificate does not cover the name or IP connected to. */
class IdentityMismatch extends Error {
  constructor(name: string) {
    super(
      `server certificate does not cover ${JSON.stringify(name)} ` +
        `(closed with ${describeAlert(CRYPTO_ERROR_BASE + ALERT_BAD_CERTIFICATE)}; no SNI was sent, RFC 6066 §3)`,
    );
    this.name = 'IdentityMismatch';
  }
}

/** The connect deadline passed. */
class ConnectTimeout extends Error {
  constructor(plan: ConnectPlan) {
    super(
      `timeout: no QUIC handshake with ${plan.remote} within ${String(plan.connectTimeoutMs)} ms ` +
        '(nothing listening on that UDP port, packets dropped, or not a QUIC server; UDP reports no "refused")',
    );
    this.name = 'ConnectTimeout';
  }
}

/** Who is ending the connection, once known: our `close()`, or anything else. */
type Ending = 'local' | 'remote';

/**
 * One QUIC connection of the harness (client side). Created by
 * {@link quicDriver}`.connect`; implements {@link ClientConnection}.
 */
class QuicClientConnection implements ClientConnection {
  readonly conn: number;
  readonly closed: Promise<CloseInfo>;
  private resolveClosed: (info: CloseInfo) => void = noop;
  private phase: 'connecting' | 'open' | 'failed' | 'closed' = 'connecting';
  private ending: Ending | undefined;
  private localCloseP: Promise<void> | undefined;
  /** The peer's close, when it arrived while our own close was starting. */
  private peerCloseDuringLocal: CloseInfo | undefined;
  private teardownP: Promise<void> | undefined;
  /** Events seen before `conn_open` was recorded (0.5-RTT streams), flushed after it. */
  private early: Array<DistributiveOmit<TraceEvent, 't'>> = [];
  private readonly streams = new Map<number, QuicDriverStream>();
  private nextClientBidi = 0;
  private connection: QUICConnection | undefined;
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

  /** True once the connection ended other than by our `close()` (the peer, quiche, idle timeout). */
  get endedRemotely(): boolean {
    return this.ending === 'remote';
  }

  get isClosed(): boolean {
    return this.ending !== undefined || this.phase === 'closed' || this.phase === 'failed';
  }

  /** Records an event now, or after `conn_open` while still connecting. Never throws. */
  emit<E extends TraceEvent>(ev: DistributiveOmit<E, 't'>): void {
    if (this.phase === 'failed' || this.phase === 'closed') return;
    if (this.phase === 'connecting') {
      this.early.push(ev as DistributiveOmit<TraceEvent, 't'>);
      return;
    }
    this.trace.record<E>(ev);
  }

  /** Adds a harness annotation about this connection. */
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

  /**
   * Connects as planned: resolves once the handshake is done (and the
   * certificate checked), rejects on failure, timeout or deadline.
   */
  async open(plan: ConnectPlan): Promise<void> {
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const failure = new Promise<never>((_, reject) => {
      this.failConnect = reject;
      timer = setTimeout(() => reject(new ConnectTimeout(plan)), plan.connectTimeoutMs);
    });
    let started = false;
    const work = this.establish(plan, abort.signal).then(() => {
      started = true;
    });
    try {
      await Promise.race([work, failure]);
      await this.checkIdentity(plan);
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
    this.trace.record<ConnOpenEvent>({
      type: 'conn_open',
      conn: this.conn,
      remote: plan.remote,
      ...this.negotiatedAlpn(plan),
    });
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
    await socket.start({ host: family === 6 ? '::' : '0.0.0.0', port: 0 });
    signal.throwIfAborted();
    const scid = new Uint8Array(quicNative.quiche.MAX_CONN_ID_LEN);
    randomFillSync(scid);
    const connection = new QUICConnection({
      type: 'client',
      scid: new QUICConnectionId(scid.buffer),
      serverName: plan.sni,
      socket,
      remoteInfo: {
        host: quicUtils.resolvesZeroIP(address as Host),
        port: plan.port as Port,
      },
      config: plan.config,
      reasonToCode,
      codeToReason,
      logger: logger().getChild(`conn ${String(this.conn)}`),
    });
    this.connection = connection;
    this.wire(connection, socket);
    connectionMapOf(socket).set(connection.connectionId, connection);
    // The library's own timer backs up ours; started later, it fires later.
    await connection.start(undefined, { timer: plan.connectTimeoutMs, signal });
  }

  /**
   * With no SNI there is no name for the TLS stack to check (quiche checks
   * the certificate against the SNI it sent), so the chain is verified by
   * quiche and the name or IP here (RFC 6125 / RFC 5280 §4.2.1.6).
   */
  private async checkIdentity(plan: ConnectPlan): Promise<void> {
    if (plan.identityCheck === undefined || this.connection === undefined) return;
    const name = plan.identityCheck;
    const der = this.connection.getRemoteCertsChain()[0];
    let ok = false;
    if (der !== undefined) {
      const cert = new X509Certificate(Buffer.from(der));
      ok = isIpLiteral(name) ? cert.checkIP(name) !== undefined : cert.checkHost(name) !== undefined;
    }
    if (!ok) throw new IdentityMismatch(name);
  }

  private negotiatedAlpn(plan: ConnectPlan): { alpn?: string } {
    try {
      const proto = (this.connection as unknown as { conn?: { applicationProto?: () => Uint8Array } }).conn
        ?.applicationProto?.();
      if (proto !== undefined && proto.byteLength > 0) return { alpn: decodeReason(proto) };
    } catch {
      /* fall through */
    }
    return plan.alpn.length === 1 ? { alpn: plan.alpn[0]! } : {};
  }

  /** After a failed connect: close what was opened, in the background, bounded. */
  private async cleanupFailedConnect(work: Promise<void>, started: () => boolean, stopCode: number): Promise<void> {
    try {
      // A failed handshake closes itself (start() waits out the draining period).
      await withDeadline(work.catch(noop), QUIC_CLOSE_DEADLINE_MS);
      const connection = this.connection;
      if (connection !== undefined && started()) {
        await withDeadline(
          connection.stop({ isApp: false, errorCode: stopCode as quicNative.ConnectionErrorCode, force: true }),
          QUIC_CLOSE_DEADLINE_MS,
        );
      }
    } catch {
      /* nothing more to do: the socket goes below */
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
    this.listen(connection, quicEvents.EventQUICConnectionError.name, (ev) => {
      this.onConnectionError(detailOf(ev));
    });
    this.listen(connection, quicEvents.EventQUICConnectionStream.name, (ev) => {
      const qs = detailOf(ev);
      if (qs instanceof QUICStream) this.onPeerStream(qs);
    });
    // The library throws its internal errors from its own listeners; with a
    // listener here they arrive as this event instead of crashing the process.
    this.listen(connection, EVENT_ERROR, (ev) => this.onInternalError(detailOf(ev)));
    connection.closedP.then(
      () => this.onQuicheClosed(),
      (err: unknown) => this.onListenerError(err),
    );
  }

  private onSendError(err: unknown): void {
    if (this.socketStopped) return;
    const code = (err as { code?: unknown } | null)?.code;
    if (this.phase === 'connecting') {
      this.failConnect?.(err);
      return;
    }
    this.note(`UDP send failed: ${typeof code === 'string' ? code : errorMessage(err)}`);
  }

  private onConnectionError(err: unknown): void {
    if (this.phase === 'connecting') {
      this.failConnect?.(err);
      return;
    }
    if (this.phase !== 'open' || this.ending === 'remote') return;
    let info: CloseInfo;
    const w = readWireClose((err as { data?: unknown } | null)?.data);
    if (err instanceof quicErrors.ErrorQUICConnectionPeer || err instanceof quicErrors.ErrorQUICConnectionPeerTLS) {
      info = { conn: this.conn, by: 'server', isApp: w?.isApp ?? false, code: w?.code ?? 0, reason: w?.reason ?? '' };
    } else if (err instanceof quicErrors.ErrorQUICConnectionIdleTimeout) {
      info = { conn: this.conn, by: 'transport', isApp: false, code: 0, reason: 'idle timeout' };
    } else if (err instanceof quicErrors.ErrorQUICConnectionInternal) {
      this.onInternalError(err);
      return;
    } else {
      // quiche closed the connection itself (the peer broke the protocol).
      info = { conn: this.conn, by: 'transport', isApp: w?.isApp ?? false, code: w?.code ?? 0, reason: w?.reason ?? errorMessage(err) };
    }
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
      { isApp: false, errorCode: INTERNAL_ERROR as quicNative.ConnectionErrorCode, force: true },
    );
  }

  /** quiche closed without an error event (a stateless reset, RFC 9000 §10.3). */
  private onQuicheClosed(): void {
    setImmediate(() => {
      if (this.phase !== 'open' || this.ending !== undefined) return;
      this.endRemotely({
        conn: this.conn,
        by: 'transport',
        isApp: false,
        code: 0,
        reason: 'closed without CONNECTION_CLOSE (stateless reset?)',
      });
    });
  }

  /**
   * The connection ended without our asking: records `conn_close` after
   * the reads already delivered by the library (so that data the peer sent
   * before its CONNECTION_CLOSE comes first), then releases everything.
   */
  private endRemotely(
    info: CloseInfo,
    stopOpts: Parameters<QUICConnection['stop']>[0] = { force: true },
  ): void {
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
  }

  /** Stops the connection (bounded) and releases its socket (bounded). Idempotent. */
  private teardown(stopOpts: Parameters<QUICConnection['stop']>[0]): Promise<void> {
    this.teardownP ??= (async () => {
      const connection = this.connection;
      if (connection !== undefined) {
        try {
          await withDeadline(connection.stop(stopOpts), QUIC_CLOSE_DEADLINE_MS);
        } catch (err) {
          this.note(`close: ${errorMessage(err)}`);
        }
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
    try {
      if (this.connection !== undefined) connectionMapOf(socket).delete(this.connection.connectionId);
      await withDeadline(socket.stop({ force: true }), QUIC_CLOSE_DEADLINE_MS);
    } catch {
      /* the socket may never have started */
    }
  }

  private onPeerStream(qs: QUICStream): void {
    if (this.phase !== 'connecting' && this.phase !== 'open') return;
    const s = new QuicDriverStream(this, qs.streamId, 'server', qs);
    this.streams.set(s.id, s);
  }

  /**
   * Opens a client-initiated bidirectional stream (RFC 9000 §2.1: ids 0, 4,
   * 8, ...). Nothing is sent, and nothing recorded, until its first write,
   * end, reset or stop-sending. Never throws: when the stream cannot be
   * created (connection closed, peer's stream limit reached), its
   * operations reject with `DriverError` and a note says why.
   */
  openStream(): ClientStream {
    const id = this.nextClientBidi;
    let qs: QUICStream | undefined;
    let why = 'connection closed';
    if (!this.isClosed && this.connection !== undefined) {
      try {
        qs = this.connection.newStream('bidi');
      } catch (err) {
        why = err instanceof quicErrors.ErrorQUICStreamLimit
          ? 'stream limit reached (peer has not granted more streams, RFC 9000 §4.6)'
          : errorMessage(err);
        this.note(`openStream failed: ${why}`);
      }
    }
    if (qs !== undefined) this.nextClientBidi = qs.streamId + 4;
    const s = new QuicDriverStream(this, qs?.streamId ?? id, 'client', qs, why);
    if (qs !== undefined) this.streams.set(s.id, s);
    return s;
  }

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
        this.localCloseP = withDeadline(this.closed, QUIC_CLOSE_DEADLINE_MS * 2).then(noop);
      }
    }
    return this.localCloseP;
  }

  /**
   * Sends CONNECTION_CLOSE through the native connection before the
   * library's stop() runs. Returns false when that was not possible (the
   * library then aborts the open streams first, and the trace says so).
   */
  private closeNatively(code: number, reason: Uint8Array): boolean {
    const connection = this.connection;
    const native = (connection as unknown as { conn?: NativeConnection } | undefined)?.conn;
    if (connection === undefined || native === undefined || typeof native.close !== 'function') return false;
    try {
      if (native.isClosed() || native.isDraining()) return false;
      native.close(true, code, reason);
      void (connection as unknown as { send(): Promise<void> }).send().catch(noop);
      return true;
    } catch {
      return false;
    }
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
    // which a protocol may treat as an error of its own (e.g. PROTON-8.3); so
    // close the native connection and flush first: once it is closing, quiche
    // puts nothing but the CONNECTION_CLOSE on the wire.
    if (!this.closeNatively(code, bytes)) {
      for (const s of this.streams.values()) s.abortedByClose();
    }
    this.recordClose(info);
    await this.teardown({ isApp: true, errorCode: code, reason: bytes, force: true });
    this.resolveClosed(info);
  }
}

/** The native (quiche) connection inside a `QUICConnection` (internal to the library). */
interface NativeConnection {
  close(app: boolean, err: number, reason: Uint8Array): void;
  isClosed(): boolean;
  isDraining(): boolean;
}

/** What the driver uses of a socket's connection map. */
interface ConnectionMap {
  set(id: QUICConnectionId, c: QUICConnection): unknown;
  delete(id: QUICConnectionId): boolean;
}

/**
 * The connection map of a socket, through which it routes datagrams by
 * connection id (marked internal in the library's typings; `QUICClient`
 * registers its connection the same way).
 */
function connectionMapOf(socket: QUICSocket): ConnectionMap {
  return (socket as unknown as { connectionMap: ConnectionMap }).connectionMap;
}

/** The library's internal, immediate writable abort (see {@link QuicDriverStream.reset}). */
interface InternalAbort {
  writableAbort?: (reason?: unknown) => void;
}

/** State of one direction of a stream, as the driver last saw it. */
type SideState = 'open' | 'ended' | 'reset' | 'stopped' | 'gone';

/** One stream of a {@link QuicClientConnection}; client-opened ones are handed out as {@link ClientStream}. */
class QuicDriverStream implements ClientStream {
  readonly id: number;
  readonly conn: number;
  /** Received bytes: `rx[0, rxLen)`, grown by doubling. */
  private rx = new Uint8Array(64);
  private rxLen = 0;
  private opened: boolean;
  private writeState: SideState;
  private readState: SideState;
  private peerStopSeen = false;
  private chain: Promise<void> = Promise.resolve();
  private writeInFlight = false;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array> | undefined;

  constructor(
    private readonly owner: QuicClientConnection,
    id: number,
    by: 'client' | 'server',
    private readonly qs: QUICStream | undefined,
    private readonly goneWhy = 'connection closed',
  ) {
    this.id = id;
    this.conn = owner.conn;
    this.opened = by === 'server';
    const localUni = by === 'client' && qs?.type === 'uni';
    const peerUni = by === 'server' && qs?.type === 'uni';
    this.writeState = qs === undefined ? 'gone' : peerUni ? 'ended' : 'open';
    this.readState = qs === undefined ? 'gone' : localUni ? 'ended' : 'open';
    if (qs === undefined) return;
    if (by === 'server') {
      owner.emit<StreamOpenEvent>({ type: 'stream_open', conn: this.conn, stream: id, by: 'server' });
    }
    const onError = (err: unknown): void => owner.note(`stream ${String(id)}: ${errorMessage(err)}`);
    qs.addEventListener(
      quicEvents.EventQUICStreamError.name,
      safeListener((ev: Event) => this.onStreamError(detailOf(ev)), onError),
    );
    qs.addEventListener(
      EVENT_ERROR,
      safeListener((ev: Event) => onError(detailOf(ev)), onError),
    );
    if (this.writeState === 'open') this.writer = qs.writable.getWriter();
    if (this.readState === 'open') {
      this.reader = qs.readable.getReader();
      void this.readLoop().catch(onError);
    }
  }

  /** True once the server's side ended (FIN or RESET_STREAM), we sent STOP_SENDING, or the connection closed. */
  get readEnded(): boolean {
    return this.readState !== 'open';
  }

  /** Everything received on this stream so far (a copy). */
  received(): Uint8Array {
    return this.rx.slice(0, this.rxLen);
  }

  /** Number of bytes received so far (no copy). */
  get receivedLength(): number {
    return this.rxLen;
  }

  /**
   * Queues `bytes` (copied at call time) for sending, recorded as `data`
   * c2s right before the library gets them. Zero bytes send and record
   * nothing. Resolves when the library accepted them (flow control,
   * RFC 9000 §4.1, may delay that).
   * @throws DriverError (as a rejection) when the sending side or the connection is gone.
   */
  write(bytes: Uint8Array): Promise<void> {
    if (!(bytes instanceof Uint8Array)) {
      return Promise.reject(new DriverError(`write on stream ${String(this.id)}: bytes must be a Uint8Array`));
    }
    const copy = new Uint8Array(bytes);
    return this.enqueue(async () => {
      this.checkWritable('write');
      if (copy.byteLength === 0) return;
      this.recordOpen();
      this.owner.emit<DataEvent>({ type: 'data', conn: this.conn, stream: this.id, dir: 'c2s', hex: toHex(copy) });
      this.writeInFlight = true;
      try {
        await this.writer!.write(copy);
      } catch (err) {
        throw this.writeFailure('write', err);
      } finally {
        this.writeInFlight = false;
      }
    });
  }

  /**
   * Ends the sending side (STREAM frame with FIN, RFC 9000 §3.1), recorded
   * as `stream_fin` c2s, after queued writes.
   * @throws DriverError (as a rejection) when the sending side or the connection is gone.
   */
  end(): Promise<void> {
    return this.enqueue(async () => {
      this.checkWritable('end');
      this.recordOpen();
      this.owner.emit<StreamFinEvent>({ type: 'stream_fin', conn: this.conn, stream: this.id, dir: 'c2s' });
      this.writeState = 'ended';
      try {
        await this.writer!.close();
      } catch (err) {
        throw this.writeFailure('end', err);
      }
    });
  }

  /**
   * Sends RESET_STREAM (RFC 9000 §19.4) with `code` at once (queued writes
   * then reject), recorded as `stream_reset` c2s kind 'reset'. When the
   * sending side is already over (FIN sent, reset, peer's STOP_SENDING,
   * connection closed) nothing is sent and a note says so.
   * @throws RangeError for a code outside [0, 2^53) (checked before the library sees it).
   */
  reset(code: number): void {
    checkQuicCode(code, 'reset');
    if (this.qs === undefined || this.writer === undefined || this.owner.isClosed || this.writeState !== 'open' || this.qs.writeClosed) {
      this.owner.note(`reset(${String(code)}) on stream ${String(this.id)} not sent: sending side ${this.sideWhy(this.writeState)}`);
      return;
    }
    this.recordOpen();
    this.owner.emit<StreamResetEvent>({
      type: 'stream_reset', conn: this.conn, stream: this.id, dir: 'c2s', kind: 'reset', code,
    });
    this.writeState = 'reset';
    const reason = new LocalStreamCode(code);
    try {
      // A write blocked on flow control delays `writer.abort` until it ends
      // (WHATWG streams): the library's own abort acts at once.
      const internal = this.qs as unknown as InternalAbort;
      if (this.writeInFlight && typeof internal.writableAbort === 'function') internal.writableAbort.call(this.qs, reason);
    } catch (err) {
      this.owner.note(`reset on stream ${String(this.id)}: ${errorMessage(err)}`);
    }
    this.writer.abort(reason).catch(noop);
  }

  /**
   * Sends STOP_SENDING (RFC 9000 §19.5) with `code`, recorded as
   * `stream_reset` s2c kind 'stop_sending'; reading stops (`readEnded`
   * becomes true, and the peer's answering RESET_STREAM is not observed).
   * When the receiving side is already over, nothing is sent and a note says so.
   * @throws RangeError for a code outside [0, 2^53) (checked before the library sees it).
   */
  stopSending(code: number): void {
    checkQuicCode(code, 'stopSending');
    if (this.qs === undefined || this.reader === undefined || this.owner.isClosed || this.readState !== 'open' || this.qs.readClosed) {
      this.owner.note(`stopSending(${String(code)}) on stream ${String(this.id)} not sent: receiving side ${this.sideWhy(this.readState)}`);
      return;
    }
    this.recordOpen();
    this.owner.emit<StreamResetEvent>({
      type: 'stream_reset', conn: this.conn, stream: this.id, dir: 's2c', kind: 'stop_sending', code,
    });
    this.readState = 'stopped';
    this.reader.cancel(new LocalStreamCode(code)).catch(noop);
  }

  /** The connection is closing by our hand: record the stream aborts the library sends (code 0). */
  abortedByClose(): void {
    const qs = this.qs;
    if (qs === undefined) return;
    const writeOpen = this.writer !== undefined && !qs.writeClosed && this.writeState !== 'reset';
    const readOpen = this.reader !== undefined && !qs.readClosed && this.readState === 'open';
    if (writeOpen || readOpen) this.recordOpen();
    if (writeOpen) {
      this.owner.emit<StreamResetEvent>({
        type: 'stream_reset', conn: this.conn, stream: this.id, dir: 'c2s', kind: 'reset', code: 0,
      });
    }
    if (readOpen) {
      this.owner.emit<StreamResetEvent>({
        type: 'stream_reset', conn: this.conn, stream: this.id, dir: 's2c', kind: 'stop_sending', code: 0,
      });
    }
  }

  /** The connection closed (conn_close recorded): nothing more will be sent or received. */
  connectionClosed(): void {
    if (this.readState === 'open') this.readState = 'gone';
    if (this.writeState === 'open') this.writeState = 'gone';
  }

  private sideWhy(state: SideState): string {
    if (this.qs === undefined) return `unavailable (${this.goneWhy})`;
    if (this.owner.isClosed) return 'closed with the connection';
    return state === 'open' ? 'already closed' : `already ${state}`;
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const p = this.chain.then(task);
    this.chain = p.catch(noop);
    return p;
  }

  private checkWritable(op: string): void {
    if (this.qs === undefined || this.writer === undefined) {
      throw new DriverError(`${op} on stream ${String(this.id)}: ${this.qs === undefined ? this.goneWhy : 'stream is receive-only'}`);
    }
    if (this.owner.isClosed) throw new DriverError(`${op} on stream ${String(this.id)}: connection closed`);
    if (this.writeState !== 'open') {
      throw new DriverError(`${op} on stream ${String(this.id)}: sending side ${this.sideWhy(this.writeState)}`);
    }
  }

  private writeFailure(op: string, err: unknown): DriverError {
    let why: string;
    if (err instanceof PeerStreamCode) why = `peer sent STOP_SENDING with code ${String(err.code)}`;
    else if (err instanceof LocalStreamCode) why = `stream was reset locally with code ${String(err.code)}`;
    else if (this.owner.isClosed) why = 'connection closed';
    else why = errorMessage(err);
    return new DriverError(`${op} on stream ${String(this.id)}: ${why}`, { cause: err });
  }

  /** `stream_open` by 'client' at the first frame the stream causes (RFC 9000 §3.1). */
  private recordOpen(): void {
    if (this.opened) return;
    this.opened = true;
    this.owner.emit<StreamOpenEvent>({ type: 'stream_open', conn: this.conn, stream: this.id, by: 'client' });
  }

  /** Reads continuously (never leaving the peer flow-controlled by us), recording as it goes. */
  private async readLoop(): Promise<void> {
    const reader = this.reader!;
    for (;;) {
      let r: Awaited<ReturnType<typeof reader.read>>;
      try {
        r = await reader.read();
      } catch (err) {
        if (err instanceof PeerStreamCode && this.readState === 'open') {
          this.owner.emit<StreamResetEvent>({
            type: 'stream_reset', conn: this.conn, stream: this.id, dir: 's2c', kind: 'reset', code: err.code,
          });
          this.readState = 'reset';
        } else if (this.readState === 'open') {
          this.readState = 'gone';
        }
        return;
      }
      if (r.done) {
        if (this.readState === 'open') {
          this.readState = 'ended';
          this.owner.emit<StreamFinEvent>({ type: 'stream_fin', conn: this.conn, stream: this.id, dir: 's2c' });
        }
        return;
      }
      const chunk = r.value;
      if (chunk.byteLength === 0 || this.readState !== 'open') continue;
      if (this.rxLen + chunk.byteLength > this.rx.length) {
        const grown = new Uint8Array(Math.max(this.rx.length * 2, this.rxLen + chunk.byteLength));
        grown.set(this.rx.subarray(0, this.rxLen));
        this.rx = grown;
      }
      this.rx.set(chunk, this.rxLen);
      this.rxLen += chunk.byteLength;
      this.owner.emit<DataEvent>({ type: 'data', conn: this.conn, stream: this.id, dir: 's2c', hex: toHex(chunk) });
    }
  }

  private onStreamError(err: unknown): void {
    if (err instanceof quicErrors.ErrorQUICStreamPeerWrite) {
      // STOP_SENDING from the peer (RFC 9000 §3.5); reads record RESET_STREAM themselves.
      const code = (err.data as { code?: unknown } | undefined)?.code;
      if (this.peerStopSeen) return;
      this.peerStopSeen = true;
      const stopCode = typeof code === 'number' ? code : 0;
      this.owner.emit<StreamResetEvent>({
        type: 'stream_reset', conn: this.conn, stream: this.id, dir: 'c2s', kind: 'stop_sending', code: stopCode,
      });
      if (this.writeState === 'open') {
        // quiche answers on its own with RESET_STREAM carrying the same code
        // (RFC 9000 §3.5: MUST, in the "Ready" and "Send" states), unless
        // the same datagram also closed the connection: the library reports
        // that close synchronously after this event, so look a microtask later.
        this.writeState = 'stopped';
        queueMicrotask(() => {
          if (this.owner.endedRemotely) return;
          this.owner.emit<StreamResetEvent>({
            type: 'stream_reset', conn: this.conn, stream: this.id, dir: 'c2s', kind: 'reset', code: stopCode,
          });
        });
      }
    } else if (err instanceof quicErrors.ErrorQUICStreamInternal) {
      this.owner.note(`stream ${String(this.id)}: library internal error: ${errorMessage(err)}`);
    }
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
    const remote = plan?.remote ?? formatRemote(String(opts.host), Number(opts.port));
    const message = describeConnectError(err, plan);
    trace.record<ConnFailEvent>({ type: 'conn_fail', conn, message });
    throw new ConnectError(`QUIC connect to ${remote} failed: ${message}`, { cause: err });
  }
}

/**
 * The QUIC driver (transport `'quic'`): see {@link Driver}. Connections
 * record `conn_open`/`conn_fail`, `stream_open`, `data`, `stream_fin`,
 * `stream_reset` and exactly one `conn_close`; streams the server opens are
 * accepted and read to their end. Local stream ids follow RFC 9000 §2.1.
 */
export const quicDriver: Driver = {
  transport: 'quic',
  connect,
};
