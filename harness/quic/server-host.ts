/**
 * A thin QUIC host for any {@link ServerCore} (Sans-I/O, server-core.ts).
 *
 * The host owns the @matrixai/quic server, the sockets and the one timer; the
 * core owns every protocol decision. What the host observes becomes a trace
 * event (server's view: client bytes are `c2s`) that is recorded in the
 * host's own {@link TraceRecorder} and fed to `core.handle`; after every fed
 * event and whenever the core's timer fires the host "pumps": it executes
 * `core.poll(now)` in order and re-arms a single timer for `core.nextTimer()`
 * (aioquic's `transmit()` shape, STYLE.md).
 *
 * Nothing a client sends can crash or wedge the host: every listener is
 * wrapped, every promise is caught, error codes are validated and reasons
 * capped before they reach the library (NOTES.md hazards), and every wait on
 * the library is bounded.
 */
import { randomBytes } from 'node:crypto';
import type { ReadableStreamReadResult, WritableStreamDefaultWriter } from 'node:stream/web';
import type { ReadableStreamDefaultReader } from 'node:stream/web';
import { QUICServer, errors as quicErrors, events as quicEvents } from '@matrixai/quic';
import type { QUICConnection, QUICStream } from '@matrixai/quic';
import type { ServerCore } from '../engine/server-core.js';
import { CorePump, type WireActions } from '../engine/core-pump.js';
import {
  HOST_TRACE_RETAIN_EVENTS,
  TraceRecorder,
  toHex,
  type ConnCloseEvent,
  type ConnOpenEvent,
  type DataEvent,
  type DatagramEvent,
  type StreamFinEvent,
  type StreamKind,
  type StreamOpenEvent,
  type StreamResetEvent,
  type TraceEvent,
} from '../engine/trace.js';
import { MAX_TIMER_MS, errorText, formatAddress, settleWithin } from '../engine/util.js';
import { LocalStreamCode, PeerStreamCode, closeFromError, streamCodeOptions } from './errors.js';
import {
  OUT_OF_RANGE_STREAM_CODE,
  dgramMaxSize,
  dgramSend,
  earlyPeerStreams,
  exactPeerStreamCode,
  guardSocketMessages,
  nativeEnding,
  nativeOf,
  negotiatedAlpn,
  serverSocketOf,
  setSocketBuffers,
  tapDatagrams,
} from './internals.js';
import { checkAlpn, checkIdleAndKeepAlive, dgramConfig } from './options.js';
import { EVENT_ERROR, checkQuicCode, decodeReason, detailOf, encodeReason, quietLogger, safeListener, serverCryptoOps } from './util.js';
import { installSendGuard, onSendGuardEvent } from './send-guard.js';

/** A structured log record of the host: `ts` (ISO 8601), `t` (trace µs), `level`, `msg`, then fields. */
export type HostLogEntry = Record<string, unknown>;

/** Options of {@link startQuicHost}. */
export interface QuicHostOptions {
  /** Address to bind (IPv4 or IPv6 literal, or a resolvable name). Default `'127.0.0.1'`. */
  readonly host?: string;
  /** UDP port to bind; 0 (the default) picks a free port, read it back from {@link QuicHost.port}. */
  readonly port?: number;
  /** ALPN protocol ids offered (RFC 9001 §8.1); a client offering none of them fails its handshake. */
  readonly alpn: readonly string[];
  /** Server certificate chain, PEM. */
  readonly certPem: string;
  /** Private key of the certificate, PEM. */
  readonly keyPem: string;
  /** The protocol core to run. */
  readonly core: ServerCore;
  /**
   * Idle timeout advertised and enforced (ms; RFC 9000 §10.1). 0 disables it.
   * Default 30,000, so that a client that vanishes is eventually reaped.
   */
  readonly idleTimeoutMs?: number;
  /** Interval of keep-alive PINGs (ms); must be smaller than `idleTimeoutMs` unless that is 0. Default none. */
  readonly keepAliveMs?: number;
  /**
   * Advertise QUIC DATAGRAM support (RFC 9221 §3, max_datagram_frame_size).
   * Default false: `dgram` actions are then dropped (logged) and clients
   * cannot send datagrams.
   */
  readonly datagrams?: boolean;
  /** Receives the host's structured log (connection open/close, core `log` actions, anomalies). */
  readonly log?: (entry: HostLogEntry) => void;
}

/** Options of {@link QuicHost.stop}. */
export interface QuicHostStopOptions {
  /** Application error code sent to every live connection (CONNECTION_CLOSE 0x1d). Default 0. */
  readonly code?: number;
  /** Reason phrase sent with it (UTF-8, capped to 256 bytes). Default empty. */
  readonly reason?: string;
}

/** A running host. */
export interface QuicHost {
  /** Bound address. */
  readonly host: string;
  /** Bound UDP port. */
  readonly port: number;
  /** What the server saw and did, server's view (`c2s` = client bytes): the last {@link HOST_TRACE_RETAIN_EVENTS} events or so. */
  readonly trace: TraceRecorder;
  /**
   * Closes every live connection with the given application code (recorded as
   * `conn_close` by `'server'`), stops the QUIC server and clears the timer.
   * Bounded (a few seconds at worst); idempotent: later calls return the
   * first call's promise. After it resolves the host holds no socket or timer.
   * @throws RangeError (rejection) when `code` is not a valid error code; the host keeps running.
   */
  stop(opts?: QuicHostStopOptions): Promise<void>;
}

/** Default idle timeout (ms). */
const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
/** A handshake not finished by then is abandoned (ms); `minIdleTimeout` of the library. */
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Longest wait for one connection's close, or for the server's stop (ms). */
const CLOSE_DEADLINE_MS = 2_000;
/** Kernel UDP buffers asked for (bytes; capped by net.core.rmem_max / wmem_max): the one socket takes every client's packets. */
const SOCKET_BUFFER_BYTES = 8 * 1024 * 1024;
/** Most streams opened implicitly to reach a server stream id the core names. */
const MAX_IMPLICIT_STREAMS = 1_000;

/** Per-stream state of the host. */
interface StreamState {
  readonly id: number;
  readonly stream: QUICStream;
  /** Whether `stream_open` was recorded (server streams are announced on first use). */
  announced: boolean;
  writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  /** The read loop's reader (for STOP_SENDING), once it runs. */
  reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  /** The server's sending side ended (FIN, reset, or peer STOP_SENDING). */
  writeEnded: boolean;
  /** The server's receiving side ended (client FIN or reset, or local cancel). */
  readEnded: boolean;
  /** The host aborted the stream itself (so abort errors are not the client's doing). */
  localAbort: boolean;
  /** Writes handed to the library and not yet completed. */
  pendingWrites: number;
  /**
   * When each pending write was handed to the library (trace µs), oldest
   * first: a stream's writes complete in order (WHATWG WritableStream), so
   * a completion removes the first.
   */
  readonly writeStarts: number[];
  /** Leading entries of {@link writeStarts} whose send timeout already passed (and was judged). */
  overdueWrites: number;
  /** The stream's one stall timer: armed at or before the send deadline of its oldest write not yet judged. */
  stallTimer: NodeJS.Timeout | undefined;
  /** Settles a write handed to the library (made once per stream: no closures per write). */
  onWritten: (() => void) | undefined;
  onWriteFailed: ((err: unknown) => void) | undefined;
  /** A stall was reported for the current run of pending writes. */
  stallReported: boolean;
}

/** Per-connection state of the host. */
interface ConnState {
  readonly id: number;
  readonly qc: QUICConnection;
  readonly peer: string;
  /** Streams with a side still in use. */
  readonly streams: Map<number, StreamState>;
  /** Ids of streams finished both ways (pruned from `streams`, so long connections stay small). */
  readonly ended: Set<number>;
  /** `conn_close` was recorded: nothing more is recorded or fed for this connection. */
  closed: boolean;
  /** DATAGRAM support was negotiated (both ends advertised it). */
  datagrams: boolean;
}

/** True for a client-initiated stream id (RFC 9000 §2.1). */
function isClientStream(id: number): boolean {
  return (id & 1) === 0;
}
/** True for a unidirectional stream id (RFC 9000 §2.1). */
function isUniStream(id: number): boolean {
  return (id & 2) !== 0;
}

/** `{ dir: 'uni' }` for a uni stream id, nothing for bidi (trace v2: absent means bidi). */
function dirOf(id: number): { dir?: StreamKind } {
  return isUniStream(id) ? { dir: 'uni' } : {};
}

/**
 * Validates the options of {@link startQuicHost}.
 * @throws RangeError / TypeError naming the bad option.
 */
function checkOptions(opts: QuicHostOptions): void {
  checkAlpn(opts.alpn, 'startQuicHost: ');
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`startQuicHost: port must be an integer in [0, 65535], got ${String(port)}`);
  }
  checkIdleAndKeepAlive(opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, opts.keepAliveMs, 'startQuicHost: ');
  if (typeof opts.certPem !== 'string' || typeof opts.keyPem !== 'string') {
    throw new TypeError('startQuicHost: certPem and keyPem must be PEM strings');
  }
}

/**
 * Starts a QUIC server that runs `opts.core` and records what it sees.
 *
 * Events fed to `core.handle` (each also appended to {@link QuicHost.trace}):
 * - `conn_open` when a handshake completes (a connection can only be refused
 *   after that: the core answers `conn_open` with a `close` action);
 * - `stream_open` by `'client'` when the client's first frame on a new stream arrives (RFC 9000 §2.1, §3.2),
 *   with `dir: 'uni'` for a unidirectional one (ids 2, 6, 10 …);
 * - `data` `c2s` for each chunk read (every stream is read continuously, the
 *   server's own bidi streams included);
 * - `dgram` `c2s` for each client DATAGRAM (RFC 9221), when `opts.datagrams`;
 * - `stream_fin` `c2s` on the client's FIN;
 * - `stream_reset` `c2s` kind `'reset'` on the client's RESET_STREAM (§19.4),
 *   `stream_reset` `s2c` kind `'stop_sending'` on its STOP_SENDING (§19.5): `dir` names the
 *   direction of the data aborted, as trace.ts defines it;
 * - `conn_close` when a connection ends: by `'client'` (its CONNECTION_CLOSE, §19.19),
 *   `'transport'` (idle timeout §10.1, protocol error, TLS failure), or `'server'`
 *   (a core `close` action or {@link QuicHost.stop}).
 *
 * What the host does on the core's behalf is recorded but not fed back:
 * `data` / `stream_fin` / `stream_reset` `s2c`, `stream_open` by `'server'`
 * (with `dir`), `dgram` `s2c`, and a `stop_sending` action as `stream_reset`
 * `c2s` kind `'stop_sending'` (STOP_SENDING, RFC 9000 §19.5, only while the
 * client's side is being read). A `dgram` action is dropped (logged at warn)
 * when datagrams were not negotiated or it exceeds the client's maximum.
 * A `reset` action records two events, kind `'reset'` (RESET_STREAM) and kind
 * `'stop_sending'` (STOP_SENDING), each only for a stream side still open.
 * Actions naming a connection or stream that no longer exists, or a stream
 * side the server cannot use, are ignored (logged at debug); an invalid error
 * code in an action is ignored (logged at warn). A `send` on a new
 * server-initiated stream id opens it (and any lower unused ids of its kind):
 * the core's ids (1, 5, 9 … bidi; 3, 7, 11 … uni, RFC 9000 §2.1) are the
 * library's, which numbers its streams in the same order. A stream the host
 * opens but never writes stays unknown to the client (nothing is sent).
 *
 * @throws RangeError / TypeError on bad options; the library's errors when
 *   the socket cannot be bound or the certificate or key is unusable.
 */
export async function startQuicHost(opts: QuicHostOptions): Promise<QuicHost> {
  checkOptions(opts);
  // util.ts installs it on load already; explicit, since the host's liveness depends on it.
  installSendGuard();
  const core = opts.core;
  // The last events only: the host lives as long as the server, every event is fed to the core as it happens.
  const trace = new TraceRecorder(undefined, undefined, undefined, HOST_TRACE_RETAIN_EVENTS);
  const idleTimeoutMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const conns = new Map<number, ConnState>();
  const stallTimers = new Set<NodeJS.Timeout>();
  /** Set synchronously when stop() begins: from then on only `log` actions run and no timer is armed. */
  let stopRequested = false;
  let stopCode = 0;
  let stopReason = '';
  let stopP: Promise<void> | undefined;

  const log = (level: 'debug' | 'info' | 'warn', msg: string, data: Record<string, unknown> = {}): void => {
    if (!opts.log) return;
    try {
      opts.log({ ts: new Date().toISOString(), t: trace.now(), level, msg, ...data });
    } catch {
      /* a failing log sink must not break the host */
    }
  };
  const onListenerError = (where: string) => (err: unknown) => log('warn', 'listener error', { where, error: errorText(err) });

  /** Native quiche connection → our connection id, to log what the send guard did to ours. */
  const nativeIds = new WeakMap<object, number>();

  // ---- feeding the core -------------------------------------------------

  /** Feeds the core, polls it, executes its actions, keeps its one timer (engine/core-pump.ts). */
  const pumper = new CorePump({
    core,
    now: () => trace.now(),
    wire: {
      send: (a) => wire.send(a),
      fin: (a) => wire.fin(a),
      reset: (a) => wire.reset(a),
      close: (a) => wire.close(a),
      stopSending: (a) => wire.stopSending?.(a),
      dgram: (a) => wire.dgram?.(a),
    },
    log,
    coreLogs: opts.log !== undefined,
  });
  const feed = (ev: TraceEvent): void => pumper.feed(ev);

  // ---- recording ----------------------------------------------------------

  const recordConnClose = (
    cs: ConnState,
    by: ConnCloseEvent['by'],
    isApp: boolean,
    code: number,
    reason: string,
  ): void => {
    if (cs.closed) return;
    cs.closed = true;
    // Nothing is judged on a closed connection (onStallTimer): its streams' stall timers go now.
    for (const st of cs.streams.values()) disarmStall(st);
    const ev = trace.record<ConnCloseEvent>({ type: 'conn_close', conn: cs.id, by, isApp, code, reason });
    log('info', 'conn close', { conn: cs.id, peer: cs.peer, by, isApp, code, reason });
    feed(ev);
  };

  const recordClientReset = (cs: ConnState, st: StreamState, kind: StreamResetEvent['kind'], reported: number): void => {
    if (cs.closed || st.localAbort) return;
    let code = reported;
    if (reported === OUT_OF_RANGE_STREAM_CODE) {
      // Above 2^53 - 1 (the library cannot parse it; internals.ts): the nearest double, and the exact code logged.
      const exact = exactPeerStreamCode(cs.qc, st.id, kind === 'reset' ? 'read' : 'write');
      if (exact !== undefined) {
        code = Number(exact);
        log('warn', 'client stream code above 2^53 - 1 recorded as the nearest double', { conn: cs.id, stream: st.id, kind, exact: exact.toString() });
      }
    }
    if (kind === 'reset') {
      if (st.readEnded) return;
      st.readEnded = true;
    } else {
      if (st.writeEnded) return;
      st.writeEnded = true;
    }
    // `dir` is the direction of the data aborted (trace.ts): the client's STOP_SENDING stops s2c.
    feed(trace.record<StreamResetEvent>({ type: 'stream_reset', conn: cs.id, stream: st.id, dir: kind === 'reset' ? 'c2s' : 's2c', kind, code }));
    maybePrune(cs, st);
  };

  // ---- streams ------------------------------------------------------------

  /** Clears a stream's stall timer, if armed. */
  const disarmStall = (st: StreamState): void => {
    if (st.stallTimer === undefined) return;
    clearTimeout(st.stallTimer);
    stallTimers.delete(st.stallTimer);
    st.stallTimer = undefined;
  };

  /** Forgets a stream once both of its sides are done and no write is pending. */
  const maybePrune = (cs: ConnState, st: StreamState): void => {
    if (st.readEnded && st.writeEnded && st.pendingWrites === 0 && cs.streams.get(st.id) === st) {
      cs.streams.delete(st.id);
      cs.ended.add(st.id);
      disarmStall(st);
    }
  };

  /** Reads a stream until it ends, recording each chunk, the FIN, or the client's reset. */
  const readLoop = async (cs: ConnState, st: StreamState): Promise<void> => {
    try {
      await readAll(cs, st);
    } finally {
      st.readEnded = true;
      maybePrune(cs, st);
    }
  };

  const readAll = async (cs: ConnState, st: StreamState): Promise<void> => {
    const reader = st.stream.readable.getReader();
    st.reader = reader;
    for (;;) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (err) {
        if (err instanceof PeerStreamCode) recordClientReset(cs, st, 'reset', err.code);
        st.readEnded = true;
        return;
      }
      if (cs.closed || st.localAbort) {
        // The connection ended or we aborted: keep draining so the library is never blocked on us.
        if (r.done) return;
        continue;
      }
      if (r.done) {
        if (!st.readEnded) {
          st.readEnded = true;
          feed(trace.record<StreamFinEvent>({ type: 'stream_fin', conn: cs.id, stream: st.id, dir: 'c2s' }));
        }
        return;
      }
      if (r.value.byteLength === 0) continue;
      feed(trace.record<DataEvent>({ type: 'data', conn: cs.id, stream: st.id, dir: 'c2s', hex: toHex(r.value) }));
    }
  };

  /** Takes a library stream under the host's management. */
  const adoptStream = (cs: ConnState, stream: QUICStream, by: 'client' | 'server'): StreamState => {
    const id = stream.streamId as number;
    const existing = cs.streams.get(id);
    if (existing) return existing;
    const serverCanRead = !(isUniStream(id) && !isClientStream(id));
    const serverCanWrite = !(isUniStream(id) && isClientStream(id));
    const st: StreamState = {
      id,
      stream,
      announced: false,
      writer: undefined,
      reader: undefined,
      writeEnded: !serverCanWrite,
      readEnded: !serverCanRead,
      localAbort: false,
      pendingWrites: 0,
      writeStarts: [],
      overdueWrites: 0,
      stallTimer: undefined,
      onWritten: undefined,
      onWriteFailed: undefined,
      stallReported: false,
    };
    cs.streams.set(id, st);
    // The library rethrows errors of its own listeners as this event (uncaught without a listener).
    stream.addEventListener(EVENT_ERROR, safeListener((evt: Event) => log('warn', 'library stream error', { conn: cs.id, stream: id, error: errorText(detailOf(evt)) }), onListenerError('stream EventError')));
    stream.addEventListener(
      quicEvents.EventQUICStreamError.name,
      safeListener((evt: Event) => {
        const detail = (evt as quicEvents.EventQUICStreamError).detail;
        // STOP_SENDING from the client surfaces only here (and as a failed write), RFC 9000 §19.5.
        // RESET_STREAM is taken from the reader's rejection instead, so it is ordered after the data read.
        if (detail instanceof quicErrors.ErrorQUICStreamPeerWrite) {
          recordClientReset(cs, st, 'stop_sending', detail.data.code);
        }
      }, onListenerError('stream error')),
    );
    if (by === 'client') {
      st.announced = true;
      feed(trace.record<StreamOpenEvent>({ type: 'stream_open', conn: cs.id, stream: id, by: 'client', ...dirOf(id) }));
    }
    if (serverCanRead) {
      readLoop(cs, st).catch((err: unknown) => log('warn', 'read loop failed', { conn: cs.id, stream: id, error: errorText(err) }));
    }
    return st;
  };

  /** Finds the stream an action names, opening a server-initiated one on first use. */
  const streamFor = (cs: ConnState, id: number, action: string): StreamState | undefined => {
    if (!Number.isSafeInteger(id) || id < 0) {
      log('warn', 'action names an invalid stream id', { action, conn: cs.id, stream: id });
      return undefined;
    }
    if (cs.ended.has(id)) {
      log('debug', 'action on ended stream ignored', { action, conn: cs.id, stream: id });
      return undefined;
    }
    let st = cs.streams.get(id);
    if (!st && !isClientStream(id)) {
      const kind = isUniStream(id) ? 'uni' : 'bidi';
      for (let i = 0; i < MAX_IMPLICIT_STREAMS && !cs.streams.has(id); i++) {
        let s: QUICStream;
        try {
          s = cs.qc.newStream(kind);
        } catch (err) {
          log('warn', 'cannot open server stream', { action, conn: cs.id, stream: id, error: errorText(err) });
          return undefined;
        }
        adoptStream(cs, s, 'server');
        if ((s.streamId as number) > id) break;
      }
      st = cs.streams.get(id);
    }
    if (!st) {
      log('debug', 'action on unknown stream ignored', { action, conn: cs.id, stream: id });
      return undefined;
    }
    if (!st.announced) {
      st.announced = true;
      trace.record<StreamOpenEvent>({ type: 'stream_open', conn: cs.id, stream: id, by: 'server', ...dirOf(id) });
    }
    return st;
  };

  const writerOf = (st: StreamState): WritableStreamDefaultWriter<Uint8Array> => {
    if (!st.writer) st.writer = st.stream.writable.getWriter();
    return st.writer;
  };

  // ---- actions ------------------------------------------------------------

  const liveConn = (conn: number, action: string): ConnState | undefined => {
    const cs = conns.get(conn);
    if (!cs || cs.closed) {
      log('debug', 'action on closed or unknown connection ignored', { action, conn });
      return undefined;
    }
    return cs;
  };

  /**
   * The send timeout of a stream's writes (`core.sendTimeoutMs`): a write
   * not completed that long after it was handed to the library is a stall,
   * reported once per run of pending writes (until a write completes). One
   * lazy timer per stream, not one per write: it is armed when a write
   * finds none, left to run when writes complete, and on firing judges the
   * writes whose deadline passed, then re-arms for the next pending one.
   */
  const sendTimeoutUs = (): number | undefined => {
    const ms = core.sendTimeoutMs;
    return ms !== undefined && Number.isFinite(ms) && ms >= 0 ? Math.min(MAX_TIMER_MS, Math.ceil(ms)) * 1000 : undefined;
  };

  const armStall = (cs: ConnState, st: StreamState, atUs: number): void => {
    const delayMs = Math.max(0, Math.ceil((atUs - trace.now()) / 1000));
    const timer = setTimeout(() => {
      stallTimers.delete(timer);
      st.stallTimer = undefined;
      onStallTimer(cs, st);
    }, delayMs);
    st.stallTimer = timer;
    stallTimers.add(timer);
  };

  const onStallTimer = (cs: ConnState, st: StreamState): void => {
    const timeoutUs = sendTimeoutUs();
    if (timeoutUs === undefined || cs.closed || stopRequested) return;
    const now = trace.now();
    const starts = st.writeStarts;
    let due = false;
    while (st.overdueWrites < starts.length && starts[st.overdueWrites]! + timeoutUs <= now) {
      st.overdueWrites++;
      due = true;
    }
    if (st.overdueWrites < starts.length) armStall(cs, st, starts[st.overdueWrites]! + timeoutUs);
    if (!due || st.stallReported) return;
    st.stallReported = true;
    log('debug', 'send stalled', { conn: cs.id, stream: st.id });
    pumper.sendStalled(cs.id, st.id);
  };

  /** A write of `st` completed (`ok`) or failed: the oldest pending one, writes complete in order. */
  const settleWrite = (cs: ConnState, st: StreamState, ok: boolean): void => {
    st.pendingWrites--;
    st.writeStarts.shift();
    if (st.overdueWrites > 0) st.overdueWrites--;
    if (ok) st.stallReported = false;
    maybePrune(cs, st);
  };

  const doSend = (cs: ConnState, stream: number, bytes: Uint8Array): void => {
    const st = streamFor(cs, stream, 'send');
    if (!st) return;
    if (st.writeEnded) {
      log('debug', 'send on ended stream side ignored', { conn: cs.id, stream });
      return;
    }
    if (bytes.byteLength === 0) return; // a zero-length write sends nothing (NOTES.md)
    const copy = new Uint8Array(bytes);
    const ev = trace.record<DataEvent>({ type: 'data', conn: cs.id, stream, dir: 's2c', hex: toHex(copy) });
    st.pendingWrites++;
    st.writeStarts.push(ev.t);
    st.onWritten ??= () => settleWrite(cs, st, true);
    st.onWriteFailed ??= (err: unknown) => {
      settleWrite(cs, st, false);
      log('debug', 'write failed', { conn: cs.id, stream: st.id, error: errorText(err) });
    };
    // The write first (the library sends synchronously from here), the stall timer after it: off the answer's path.
    // Its callbacks run later (a promise), so a write cannot settle before its start is queued.
    writerOf(st).write(copy).then(st.onWritten, st.onWriteFailed);
    if (st.stallTimer === undefined && !stopRequested) {
      const timeoutUs = sendTimeoutUs();
      if (timeoutUs !== undefined) armStall(cs, st, ev.t + timeoutUs);
    }
  };

  const doFin = (cs: ConnState, stream: number): void => {
    const st = streamFor(cs, stream, 'fin');
    if (!st) return;
    if (st.writeEnded) {
      log('debug', 'fin on ended stream side ignored', { conn: cs.id, stream });
      return;
    }
    st.writeEnded = true;
    trace.record<StreamFinEvent>({ type: 'stream_fin', conn: cs.id, stream, dir: 's2c' });
    writerOf(st)
      .close()
      .catch((err: unknown) => log('debug', 'fin failed', { conn: cs.id, stream, error: errorText(err) }));
    maybePrune(cs, st);
  };

  const doReset = (cs: ConnState, stream: number, code: number): void => {
    try {
      checkQuicCode(code, 'reset action');
    } catch (err) {
      log('warn', 'reset action with invalid code ignored', { conn: cs.id, stream, error: errorText(err) });
      return;
    }
    const st = cs.streams.get(stream);
    if (!st) {
      log('debug', 'reset on unknown or ended stream ignored', { conn: cs.id, stream });
      return;
    }
    if (st.writeEnded && st.readEnded) {
      log('debug', 'reset on ended stream ignored', { conn: cs.id, stream });
      return;
    }
    const wasWriting = !st.writeEnded;
    const wasReading = !st.readEnded;
    st.localAbort = true;
    st.writeEnded = true;
    st.readEnded = true;
    if (wasWriting) trace.record<StreamResetEvent>({ type: 'stream_reset', conn: cs.id, stream, dir: 's2c', kind: 'reset', code });
    if (wasReading) {
      trace.record<StreamResetEvent>({ type: 'stream_reset', conn: cs.id, stream, dir: 'c2s', kind: 'stop_sending', code });
    }
    maybePrune(cs, st);
    // `cancel` sends RESET_STREAM and STOP_SENDING at once, without waiting for a blocked write.
    st.stream.cancel(new LocalStreamCode(code));
  };

  const doStopSending = (cs: ConnState, stream: number, code: number): void => {
    try {
      checkQuicCode(code, 'stop_sending action');
    } catch (err) {
      log('warn', 'stop_sending action with invalid code ignored', { conn: cs.id, stream, error: errorText(err) });
      return;
    }
    const st = cs.streams.get(stream);
    if (!st || st.readEnded || st.reader === undefined) {
      log('debug', 'stop_sending on a stream not being read ignored', { conn: cs.id, stream });
      return;
    }
    st.readEnded = true;
    // `dir` is the direction of the data stopped (trace.ts): the client's.
    trace.record<StreamResetEvent>({ type: 'stream_reset', conn: cs.id, stream, dir: 'c2s', kind: 'stop_sending', code });
    maybePrune(cs, st);
    // Cancelling the reader sends STOP_SENDING (RFC 9000 §19.5); the pending read then ends as done.
    st.reader.cancel(new LocalStreamCode(code)).catch((err: unknown) => log('debug', 'stop_sending failed', { conn: cs.id, stream, error: errorText(err) }));
  };

  const doDgram = (cs: ConnState, bytes: Uint8Array): void => {
    const max = cs.datagrams ? dgramMaxSize(cs.qc) : undefined;
    if (max === undefined) {
      log('warn', 'dgram action dropped: datagrams not negotiated', { conn: cs.id, bytes: bytes.byteLength });
      return;
    }
    if (bytes.byteLength > max) {
      log('warn', 'dgram action dropped: larger than the peer accepts', { conn: cs.id, bytes: bytes.byteLength, max });
      return;
    }
    const copy = Uint8Array.from(bytes);
    const outcome = dgramSend(cs.qc, copy);
    if (outcome !== 'sent') {
      log('warn', 'dgram action dropped', { conn: cs.id, bytes: copy.byteLength, outcome });
      return;
    }
    trace.record<DatagramEvent>({ type: 'dgram', conn: cs.id, dir: 's2c', hex: toHex(copy) });
  };

  /** Closes a connection with an application code; records first, never waits unboundedly. */
  const closeConn = (cs: ConnState, code: number, reason: string): Promise<void> => {
    const bytes = encodeReason(reason);
    recordConnClose(cs, 'server', true, code, decodeReason(bytes));
    const p = cs.qc.stop({ isApp: true, errorCode: code, reason: bytes, force: true });
    return settleWithin(p, CLOSE_DEADLINE_MS).then((outcome) => {
      if (outcome !== 'done') log('warn', 'connection close did not complete', { conn: cs.id, outcome });
    });
  };

  /** How each action of the core is performed on the wire (the pump skips them after stop). */
  const wire: WireActions = {
    send(act) {
      const cs = liveConn(act.conn, act.type);
      if (cs) doSend(cs, act.stream, act.bytes);
    },
    fin(act) {
      const cs = liveConn(act.conn, act.type);
      if (cs) doFin(cs, act.stream);
    },
    reset(act) {
      const cs = liveConn(act.conn, act.type);
      if (cs) doReset(cs, act.stream, act.code);
    },
    stopSending(act) {
      const cs = liveConn(act.conn, act.type);
      if (cs) doStopSending(cs, act.stream, act.code);
    },
    dgram(act) {
      const cs = liveConn(act.conn, act.type);
      if (cs) doDgram(cs, act.bytes);
    },
    close(act) {
      const cs = liveConn(act.conn, act.type);
      if (!cs) return;
      try {
        checkQuicCode(act.code, 'close action');
      } catch (err) {
        log('warn', 'close action with invalid code ignored', { conn: act.conn, error: errorText(err) });
        return;
      }
      void closeConn(cs, act.code, typeof act.reason === 'string' ? act.reason : '');
    },
  };

  // ---- connections --------------------------------------------------------

  const onConnectionError = (cs: ConnState, detail: unknown): void => {
    if (cs.closed) return;
    const c = closeFromError(detail, 'client') ?? { by: 'transport', isApp: false, code: 0, reason: errorText(detail) };
    recordConnClose(cs, c.by, c.isApp, c.code, c.reason);
  };

  const onServerConnection = (qc: QUICConnection): void => {
    const id = trace.allocConn();
    let peer = '?';
    try {
      peer = formatAddress(qc.remoteHost as string, qc.remotePort as number);
    } catch {
      /* keep '?' */
    }
    const cs: ConnState = { id, qc, peer, streams: new Map(), ended: new Set(), closed: false, datagrams: false };
    conns.set(id, cs);
    const native = nativeOf(qc);
    if (native !== undefined) nativeIds.set(native, id);

    qc.addEventListener(
      quicEvents.EventQUICConnectionStream.name,
      safeListener((evt: Event) => {
        const stream = (evt as quicEvents.EventQUICConnectionStream).detail;
        if (cs.closed || cs.ended.has(stream.streamId as number)) return;
        adoptStream(cs, stream, 'client');
      }, onListenerError('connection stream')),
    );
    qc.addEventListener(EVENT_ERROR, safeListener((evt: Event) => log('warn', 'library connection error', { conn: id, error: errorText(detailOf(evt)) }), onListenerError('connection EventError')));
    qc.addEventListener(
      quicEvents.EventQUICConnectionError.name,
      safeListener((evt: Event) => {
        onConnectionError(cs, (evt as quicEvents.EventQUICConnectionError).detail);
      }, onListenerError('connection error')),
    );
    qc.addEventListener(
      quicEvents.EventQUICConnectionStopped.name,
      safeListener(() => {
        if (!cs.closed) recordConnClose(cs, 'transport', false, 0, 'connection stopped');
        conns.delete(id);
      }, onListenerError('connection stopped')),
      { once: true },
    );

    const alpn = negotiatedAlpn(qc);
    const remote = formatAddress(server.host as string, server.port as number);
    const ev = trace.record<ConnOpenEvent>(
      alpn === undefined ? { type: 'conn_open', conn: id, remote } : { type: 'conn_open', conn: id, remote, alpn },
    );
    log('info', 'conn open', { conn: id, peer, ...(alpn === undefined ? {} : { alpn }) });
    feed(ev);

    // Streams the library created before this event fired (data coalesced with the handshake).
    for (const s of earlyPeerStreams(qc)) {
      if (cs.closed) break;
      if (!cs.ended.has(s.streamId)) adoptStream(cs, s, 'client');
    }
    // Client DATAGRAMs (RFC 9221), those queued during the handshake first.
    cs.datagrams = opts.datagrams === true && dgramMaxSize(qc) !== undefined;
    if (opts.datagrams === true) {
      tapDatagrams(qc, (payload) => {
        if (cs.closed) return;
        feed(trace.record<DatagramEvent>({ type: 'dgram', conn: cs.id, dir: 'c2s', hex: toHex(payload) }));
      }, (err) => log('warn', 'datagram receive error', { conn: cs.id, error: errorText(err) }));
    }
    // A close that happened before our listeners were attached (a tiny window).
    const early = cs.closed ? undefined : nativeEnding(qc);
    if (early === 'idle') recordConnClose(cs, 'transport', false, 0, 'idle timeout');
    else if (early) recordConnClose(cs, early.by === 'peer' ? 'client' : 'transport', early.isApp, early.code, decodeReason(early.reason));
    if (stopRequested && !cs.closed) void closeConn(cs, stopCode, stopReason);
  };

  // ---- the server ---------------------------------------------------------

  const cryptoKey = randomBytes(32);
  const server = new QUICServer({
    crypto: {
      key: cryptoKey.buffer.slice(cryptoKey.byteOffset, cryptoKey.byteOffset + cryptoKey.byteLength),
      ops: serverCryptoOps,
    },
    config: {
      key: opts.keyPem,
      cert: opts.certPem,
      applicationProtos: [...opts.alpn],
      verifyPeer: false,
      maxIdleTimeout: idleTimeoutMs,
      enableDgram: dgramConfig(opts.datagrams === true),
      ...(opts.keepAliveMs === undefined ? {} : { keepAliveIntervalTime: opts.keepAliveMs }),
    },
    minIdleTimeout: HANDSHAKE_TIMEOUT_MS,
    // Arbitrary stream codes round-trip: the code rides in the reason object.
    ...streamCodeOptions,
    logger: quietLogger('wirecheck-quic-host'),
  });
  server.addEventListener(
    quicEvents.EventQUICServerConnection.name,
    safeListener((evt: Event) => {
      onServerConnection((evt as quicEvents.EventQUICServerConnection).detail);
    }, onListenerError('server connection')),
  );
  server.addEventListener(EVENT_ERROR, safeListener((evt: Event) => log('warn', 'library server error', { error: errorText(detailOf(evt)) }), onListenerError('server EventError')));
  server.addEventListener(
    quicEvents.EventQUICServerError.name,
    safeListener((evt: Event) => {
      log('warn', 'server error', { error: errorText((evt as quicEvents.EventQUICServerError).detail) });
    }, onListenerError('server error')),
  );

  // The send guard (send-guard.ts) reports on every connection of the process; log ours.
  const offSendGuard = onSendGuardEvent((ev) => {
    const conn = nativeIds.get(ev.conn);
    if (conn === undefined) return; // another connection of this process (a client, another host)
    log('warn', ev.kind === 'abandoned' ? 'library send loop on close cut; connection abandoned' : 'library send burst cut', {
      conn,
      packets: ev.packets,
    });
  });

  // Late packets for a stopped connection must not become unhandled rejections (issue 13).
  const socket = serverSocketOf(server);
  if (socket) guardSocketMessages(socket, (err) => log('debug', 'late packet', { error: errorText(err) }));
  try {
    await server.start({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 });
  } catch (err) {
    offSendGuard();
    throw err;
  }
  const boundHost = server.host as string;
  const boundPort = server.port as number;
  const recvBuffer = socket ? setSocketBuffers(socket, SOCKET_BUFFER_BYTES) : undefined;
  log('info', 'host started', { host: boundHost, port: boundPort, alpn: [...opts.alpn], ...(recvBuffer === undefined ? {} : { recvBuffer }) });
  if (recvBuffer === undefined) log('warn', 'UDP socket buffers not enlarged (the library socket or the kernel refused): hundreds of connections may overflow the default buffer', { askedBytes: SOCKET_BUFFER_BYTES });

  const stop = (stopOpts: QuicHostStopOptions = {}): Promise<void> => {
    if (stopP) return stopP;
    const code = stopOpts.code ?? 0;
    try {
      checkQuicCode(code, 'QuicHost.stop');
    } catch (err) {
      return Promise.reject(err);
    }
    const reason = stopOpts.reason ?? '';
    // The core's farewell (ServerCore.shutdown), written before any close.
    if (core.shutdown) {
      try {
        core.shutdown(trace.now());
      } catch (err) {
        log('warn', 'core.shutdown threw', { error: errorText(err) });
      }
      pumper.pump();
    }
    stopRequested = true;
    stopCode = code;
    stopReason = reason;
    stopP = (async () => {
      pumper.stop();
      const closes: Promise<void>[] = [];
      for (const cs of [...conns.values()]) {
        if (!cs.closed) closes.push(closeConn(cs, code, reason));
      }
      await Promise.all(closes);
      const outcome = await settleWithin(
        server.stop({ isApp: true, errorCode: code, reason: encodeReason(reason), force: true }),
        CLOSE_DEADLINE_MS,
      );
      if (outcome !== 'done') log('warn', 'server stop did not complete', { outcome });
      for (const s of stallTimers) clearTimeout(s);
      stallTimers.clear();
      pumper.stop();
      conns.clear();
      log('info', 'host stopped', { host: boundHost, port: boundPort });
      offSendGuard();
    })();
    return stopP;
  };
  return { host: boundHost, port: boundPort, trace, stop };
}
