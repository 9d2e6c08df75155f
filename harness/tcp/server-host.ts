/**
 * A thin TCP host (node:net) for any {@link ServerCore} (Sans-I/O,
 * engine/server-core.ts): the TCP twin of quic/server-host.ts.
 *
 * The host owns the listening socket, the connections and one timer; the
 * core owns every protocol decision. What the host observes becomes a trace
 * event (server's view: client bytes are `c2s`) that is recorded in the
 * host's own {@link TraceRecorder} and fed to `core.handle`; after every fed
 * event and whenever the core's timer fires the host "pumps": it executes
 * `core.poll(now)` in order and re-arms a single timer for `core.nextTimer()`.
 *
 * A TCP connection has one byte stream each way, modelled as **stream 0**
 * (as in drivers/tcp.ts). The first FIN decides who closed the connection:
 * once both FINs are exchanged, `conn_close` names whoever sent the first.
 * Those semantics (FIN, RST, who closed) are decided by
 * tcp/close-semantics.ts, shared with the client driver and the in-memory
 * target; this host keeps the connection half-open after the client's FIN.
 *
 * Nothing a client sends can crash or wedge the host: every listener is
 * guarded, the core's exceptions are caught and logged, every close is
 * bounded, and stop() releases every socket and timer.
 */
import net from 'node:net';
import type { ServerCore } from '../engine/server-core.js';
import { CorePump, type WireActions } from '../engine/core-pump.js';
import { errorText } from '../engine/util.js';
import { HOST_TRACE_RETAIN_EVENTS, TraceRecorder, toHex, type ConnOpenEvent, type TraceEvent } from '../engine/trace.js';
import { TCP_STREAM_ID, applyTcp, tcpView, type TcpApplied, type TcpHappening, type TcpViewHolder } from './close-semantics.js';
import {
  MAX_TIMER_MS,
  capReason,
  checkCode,
  formatAddress,
  isResetError,
  netErrorCode,
  resetSocket,
  socketClosed,
  settleWithin,
} from './util.js';

/** A structured log record of the host: `ts` (ISO 8601), `t` (trace µs), `level`, `msg`, then fields. */
export type HostLogEntry = Record<string, unknown>;

/** Options of {@link startTcpHost}. */
export interface TcpHostOptions {
  /** Address to bind (IPv4 or IPv6 literal, or a resolvable name). Default `'127.0.0.1'`. */
  readonly host?: string;
  /** TCP port to bind; 0 (the default) picks a free port, read it back from {@link TcpHost.port}. */
  readonly port?: number;
  /** The protocol core to run. */
  readonly core: ServerCore;
  /** Receives the host's structured log (connection open/close, core `log` actions, anomalies). */
  readonly log?: (entry: HostLogEntry) => void;
}

/** Options of {@link TcpHost.stop}. */
export interface TcpHostStopOptions {
  /** Code recorded in each live connection's `conn_close` (not on the wire in TCP). Default 0. */
  readonly code?: number;
  /** Reason recorded with it (capped to 256 bytes of UTF-8). Default empty. */
  readonly reason?: string;
}

/** A running TCP host. */
export interface TcpHost {
  /** Bound address. */
  readonly host: string;
  /** Bound TCP port. */
  readonly port: number;
  /** What the server saw and did, server's view (`c2s` = client bytes): the last {@link HOST_TRACE_RETAIN_EVENTS} events or so. */
  readonly trace: TraceRecorder;
  /**
   * Closes every live connection (recorded as `conn_close` by `'server'` with
   * the given code and reason; FIN, then destroy after at most
   * {@link TCP_HOST_CLOSE_DEADLINE_MS}), stops listening and clears every
   * timer. Idempotent: later calls return the first call's promise. After it
   * resolves the host holds no socket or timer.
   * @throws RangeError (rejection) for an invalid code; the host keeps running.
   */
  stop(opts?: TcpHostStopOptions): Promise<void>;
}

/** Longest wait for one connection's graceful close, and for the listener's close (ms). */
export const TCP_HOST_CLOSE_DEADLINE_MS = 2_000;
/** The one stream of a TCP connection. */
const STREAM = TCP_STREAM_ID;

/** Per-connection state of the host. */
interface ConnState extends TcpViewHolder {
  readonly id: number;
  readonly socket: net.Socket;
  readonly peer: string;
  /** Start times (performance.now(), ms) of writes not yet flushed to the kernel, oldest first. */
  readonly pending: number[];
  /** The send-stall timer (watching the oldest pending write). */
  stallTimer: NodeJS.Timeout | undefined;
  /** A stall was reported for the current run of pending writes. */
  stallReported: boolean;
}

/**
 * Validates the options of {@link startTcpHost}.
 * @throws RangeError / TypeError naming the bad option.
 */
function checkOptions(opts: TcpHostOptions): void {
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`startTcpHost: port must be an integer in [0, 65535], got ${String(port)}`);
  }
  if (opts.host !== undefined && (typeof opts.host !== 'string' || opts.host === '')) {
    throw new TypeError('startTcpHost: host must be a non-empty string');
  }
  const core = opts.core as Partial<ServerCore> | undefined;
  if (!core || typeof core.handle !== 'function' || typeof core.poll !== 'function' || typeof core.nextTimer !== 'function') {
    throw new TypeError('startTcpHost: core must be a ServerCore (handle, poll, nextTimer, sendStalled)');
  }
}

/**
 * Starts a TCP server that runs `opts.core` and records what it sees.
 *
 * Events fed to `core.handle` (each also appended to {@link TcpHost.trace}):
 * - `conn_open` when a connection is accepted (`remote` is the host's own
 *   `host:port`; the core refuses a connection by answering with `close`);
 * - `stream_open` of stream 0 by `'client'` before its first event: the
 *   client's first byte or FIN (or the server's first send or FIN);
 * - `data` `c2s` for each chunk read (the socket is read continuously);
 * - `stream_fin` `c2s` on the client's FIN (half-close: the server may still send);
 * - `conn_close` when the connection ends: by `'client'` on its RST (reason
 *   `'reset'`); by the first FIN's sender, reason `'fin'`, once both FINs
 *   are exchanged; by `'transport'` on another socket error; by `'server'`
 *   for a `close` or `reset` action or {@link TcpHost.stop}. Always
 *   `isApp: false`, code 0 unless a close action or stop gave one.
 *
 * Actions (what the host does is recorded, but only `conn_close` and
 * `stream_open` are fed back):
 * - `send`: the bytes go to the connection's socket (the action's stream id
 *   is ignored: there is one stream), recorded as `data` s2c stream 0.
 *   Writes keep their order; Node buffers what the kernel does not take. When
 *   the oldest unflushed write is older than `core.sendTimeoutMs`, the host
 *   calls `core.sendStalled(conn, 0, t)` once per run of pending writes;
 * - `fin`: `socket.end()` after the queued bytes, recorded as `stream_fin` s2c;
 * - `reset`: an RST (`socket.resetAndDestroy()`), recorded as `stream_reset`
 *   s2c kind `'reset'` with the code, then `conn_close` by `'server'`, reason `'reset'`;
 * - `close`: `conn_close` by `'server'` with the action's code and reason
 *   (recorded only: TCP carries neither), then FIN after the queued bytes and
 *   destroy once it is out (at most {@link TCP_HOST_CLOSE_DEADLINE_MS}).
 * Actions on a closed or unknown connection, or a send / fin after the
 * server's FIN, are ignored (logged at debug); invalid codes are ignored
 * (logged at warn).
 *
 * @throws RangeError / TypeError on bad options; the node:net error
 *   (`EADDRINUSE`, `EACCES` ...) when the port cannot be bound.
 */
export async function startTcpHost(opts: TcpHostOptions): Promise<TcpHost> {
  checkOptions(opts);
  const core = opts.core;
  // The last events only: the host lives as long as the server, every event is fed to the core as it happens.
  const trace = new TraceRecorder(undefined, undefined, undefined, HOST_TRACE_RETAIN_EVENTS);
  const conns = new Map<number, ConnState>();
  /** Set synchronously when stop() begins: from then on only `log` actions run and no timer is armed. */
  let stopRequested = false;
  let stopCode = 0;
  let stopReason = '';
  let stopP: Promise<void> | undefined;
  const closing = new Set<Promise<void>>();

  const log = (level: 'debug' | 'info' | 'warn', msg: string, data: Record<string, unknown> = {}): void => {
    if (!opts.log) return;
    try {
      opts.log({ ts: new Date().toISOString(), t: trace.now(), level, msg, ...data });
    } catch {
      /* a failing log sink must not break the host */
    }
  };

  // ---- feeding the core ---------------------------------------------------

  /** Feeds the core, polls it, executes its actions, keeps its one timer (engine/core-pump.ts). */
  const pumper = new CorePump({ core, now: () => trace.now(), wire: { send: (a) => wire.send(a), fin: (a) => wire.fin(a), reset: (a) => wire.reset(a), close: (a) => wire.close(a) }, log });
  const feed = (ev: TraceEvent): void => pumper.feed(ev);

  // ---- recording ----------------------------------------------------------

  const clearStall = (cs: ConnState): void => {
    if (cs.stallTimer !== undefined) clearTimeout(cs.stallTimer);
    cs.stallTimer = undefined;
  };

  /**
   * Applies a happening (tcp/close-semantics.ts): records its events, feeds
   * the core those of the client's view (stream_open, c2s bytes and FIN,
   * conn_close; not the server's own s2c events), logs the close.
   */
  const step = (cs: ConnState, h: TcpHappening): TcpApplied =>
    applyTcp(cs, h, (e) => {
      const ev = trace.record<TraceEvent>(e);
      if (ev.type === 'conn_close') {
        clearStall(cs);
        log('info', 'conn close', { conn: cs.id, peer: cs.peer, by: ev.by, code: ev.code, reason: ev.reason });
      }
      if (!('dir' in ev) || ev.dir === 'c2s') feed(ev);
    });

  // ---- send stalls ----------------------------------------------------------

  /** (Re-)arms the stall timer for the oldest pending write. */
  const armStall = (cs: ConnState): void => {
    clearStall(cs);
    const timeoutMs = core.sendTimeoutMs;
    const oldest = cs.pending[0];
    if (oldest === undefined || cs.view.closed || cs.stallReported || stopRequested) return;
    if (timeoutMs === undefined || !Number.isFinite(timeoutMs) || timeoutMs < 0) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, Math.ceil(oldest + timeoutMs - performance.now())));
    cs.stallTimer = setTimeout(() => {
      cs.stallTimer = undefined;
      if (cs.view.closed || cs.stallReported || stopRequested || cs.pending.length === 0) return;
      cs.stallReported = true;
      log('debug', 'send stalled', { conn: cs.id, pending: cs.pending.length });
      pumper.sendStalled(cs.id, STREAM);
    }, delay);
  };

  // ---- actions --------------------------------------------------------------

  const liveConn = (conn: number, action: string): ConnState | undefined => {
    const cs = conns.get(conn);
    if (!cs || cs.view.closed) {
      log('debug', 'action on closed or unknown connection ignored', { action, conn });
      return undefined;
    }
    return cs;
  };

  const doSend = (cs: ConnState, stream: number, bytes: Uint8Array): void => {
    if (stream !== STREAM) log('debug', 'send names a stream other than 0; TCP has one', { conn: cs.id, stream });
    if (!cs.view.sending) {
      log('debug', 'send after the server FIN ignored', { conn: cs.id });
      return;
    }
    if (!(bytes instanceof Uint8Array) || bytes.byteLength === 0) return;
    const copy = Buffer.from(bytes);
    if (!step(cs, { type: 'send', hex: toHex(copy) }).complete) return; // the core closed it while seeing stream_open
    cs.pending.push(performance.now());
    if (cs.pending.length === 1) armStall(cs);
    cs.socket.write(copy, (err?: Error | null) => {
      cs.pending.shift();
      if (err) {
        cs.pending.length = 0;
        clearStall(cs);
        return;
      }
      cs.stallReported = false;
      armStall(cs);
    });
  };

  const doFin = (cs: ConnState): void => {
    const d = step(cs, { type: 'local_fin' });
    if (d.refused !== undefined) log('debug', 'fin on ended side ignored', { conn: cs.id });
    else if (d.complete && d.sendFin) cs.socket.end();
  };

  const doReset = (cs: ConnState, code: number): void => {
    try {
      checkCode(code, 'reset action');
    } catch (err) {
      log('warn', 'reset action with invalid code ignored', { conn: cs.id, error: errorText(err) });
      return;
    }
    if (!step(cs, { type: 'announce' }).complete || cs.view.closed) return; // the core closed it while seeing stream_open
    const sent = resetSocket(cs.socket);
    step(cs, { type: 'local_reset', code, sent });
  };

  /** Records `conn_close` by 'server', then FIN and destroy (bounded). Never rejects. */
  const closeConn = (cs: ConnState, code: number, reason: string): Promise<void> => {
    step(cs, { type: 'local_close', code, reason: capReason(reason) });
    const socket = cs.socket;
    const p = (async () => {
      if (!socket.destroyed && !socket.writableEnded) {
        const finished = new Promise<void>((resolve) => {
          socket.once('close', () => resolve());
          socket.end(() => resolve());
        });
        const outcome = await settleWithin(finished, TCP_HOST_CLOSE_DEADLINE_MS);
        if (outcome === 'timeout') log('warn', 'graceful close timed out; destroying', { conn: cs.id });
      }
      socket.destroy();
      await settleWithin(socketClosed(socket), TCP_HOST_CLOSE_DEADLINE_MS);
    })().catch((err: unknown) => log('warn', 'close failed', { conn: cs.id, error: errorText(err) }));
    closing.add(p);
    void p.finally(() => closing.delete(p));
    return p;
  };

  /** How each action of the core is performed on the wire (the pump skips them after stop). */
  const wire: WireActions = {
    send(act) {
      const cs = liveConn(act.conn, act.type);
      if (cs) doSend(cs, act.stream, act.bytes);
    },
    fin(act) {
      const cs = liveConn(act.conn, act.type);
      if (cs) doFin(cs);
    },
    reset(act) {
      const cs = liveConn(act.conn, act.type);
      if (cs) doReset(cs, act.code);
    },
    close(act) {
      const cs = liveConn(act.conn, act.type);
      if (!cs) return;
      try {
        checkCode(act.code, 'close action');
      } catch (err) {
        log('warn', 'close action with invalid code ignored', { conn: act.conn, error: errorText(err) });
        return;
      }
      void closeConn(cs, act.code, typeof act.reason === 'string' ? act.reason : '');
    },
  };

  // ---- connections ----------------------------------------------------------

  const guard = (where: string, fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      log('warn', 'listener error', { where, error: errorText(err) });
    }
  };

  const onConnection = (socket: net.Socket): void => {
    const id = trace.allocConn();
    const peer = socket.remoteAddress !== undefined && socket.remotePort !== undefined
      ? formatAddress(socket.remoteAddress, socket.remotePort)
      : '?';
    const cs: ConnState = {
      id, socket, peer, view: tcpView(id, 'server', { answerPeerFin: false }),
      pending: [], stallTimer: undefined, stallReported: false,
    };
    conns.set(id, cs);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => guard('data', () => {
      if (chunk.byteLength > 0) step(cs, { type: 'receive', hex: toHex(chunk) });
    }));
    socket.on('end', () => guard('end', () => void step(cs, { type: 'peer_fin' })));
    socket.on('error', (err: Error) => guard('error', () => {
      if (isResetError(err)) step(cs, { type: 'peer_reset' });
      else step(cs, { type: 'socket_error', reason: `socket error ${netErrorCode(err) ?? err.message}` });
      socket.destroy();
    }));
    socket.on('close', () => guard('close', () => {
      step(cs, { type: 'socket_closed' });
      clearStall(cs);
      conns.delete(id);
    }));
    const ev = trace.record<ConnOpenEvent>({ type: 'conn_open', conn: id, remote: formatAddress(boundHost, boundPort) });
    log('info', 'conn open', { conn: id, peer });
    feed(ev);
    if (stopRequested && !cs.view.closed) void closeConn(cs, stopCode, stopReason);
  };

  // ---- the server -------------------------------------------------------------

  const server = net.createServer({ allowHalfOpen: true }, (socket) => guard('connection', () => onConnection(socket)));
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err: Error) => log('warn', 'server error', { error: errorText(err) }));
  const address = server.address() as net.AddressInfo;
  const boundHost = address.address;
  const boundPort = address.port;
  log('info', 'host started', { host: boundHost, port: boundPort });

  const stop = (stopOpts: TcpHostStopOptions = {}): Promise<void> => {
    if (stopP) return stopP;
    const code = stopOpts.code ?? 0;
    const reason = stopOpts.reason ?? '';
    try {
      checkCode(code, 'TcpHost.stop');
      if (typeof reason !== 'string') throw new TypeError('TcpHost.stop: reason must be a string');
    } catch (err) {
      return Promise.reject(err);
    }
    stopRequested = true;
    stopCode = code;
    stopReason = reason;
    stopP = (async () => {
      pumper.stop();
      const listenerClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const cs of [...conns.values()]) {
        if (!cs.view.closed) void closeConn(cs, code, reason);
      }
      await Promise.all([...closing]);
      for (const cs of [...conns.values()]) {
        clearStall(cs);
        cs.socket.destroy();
      }
      const outcome = await settleWithin(listenerClosed, TCP_HOST_CLOSE_DEADLINE_MS);
      if (outcome !== 'done') log('warn', 'listener close did not complete');
      pumper.stop();
      conns.clear();
      log('info', 'host stopped', { host: boundHost, port: boundPort });
    })();
    return stopP;
  };
  return { host: boundHost, port: boundPort, trace, stop };
}
