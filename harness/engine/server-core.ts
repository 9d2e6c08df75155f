/**
 * The Sans-I/O contract between a reference server's protocol core and the
 * thin transport host that runs it (QUIC today, TCP later). The host turns
 * socket happenings into trace events (server's view, `t` in µs since the
 * server's origin) and executes the actions the core returns; the core reads
 * no clock and does no I/O (aioquic's `receive_datagram` / `datagrams_to_send`
 * shape, STYLE.md).
 */
import { toHex, type TraceEvent } from './trace.js';

/** An action a core asks its host to perform. */
export type ServerAction =
  /**
   * Write bytes on a stream. Opened by the client, or by the server: the
   * host opens it on first use, its kind (bidi/uni) and opener read from
   * the id's low bits (RFC 9000 §2.1). Cores number their own streams in
   * order per kind (1, 5, 9 … bidi; 3, 7, 11 … uni), as QUIC does.
   */
  | { readonly type: 'send'; readonly conn: number; readonly stream: number; readonly bytes: Uint8Array }
  /** End the server's sending side of a stream (FIN). */
  | { readonly type: 'fin'; readonly conn: number; readonly stream: number }
  /** Abort a stream both ways (RESET_STREAM + STOP_SENDING) with an application error code. */
  | { readonly type: 'reset'; readonly conn: number; readonly stream: number; readonly code: number }
  /** Ask the peer to stop sending on a stream (STOP_SENDING, RFC 9000 §19.5) with an application error code. */
  | { readonly type: 'stop_sending'; readonly conn: number; readonly stream: number; readonly code: number }
  /** Send one QUIC DATAGRAM (RFC 9221); best effort, dropped when too large or not negotiated (logged). */
  | { readonly type: 'dgram'; readonly conn: number; readonly bytes: Uint8Array }
  /** Close the connection with an application error code (CONNECTION_CLOSE 0x1d) and reason. */
  | { readonly type: 'close'; readonly conn: number; readonly code: number; readonly reason: string; /** Rule id that requires the close, for logs and faults. */ readonly rule?: string }
  /** A structured log record. */
  | { readonly type: 'log'; readonly level: 'debug' | 'info' | 'warn'; readonly msg: string; readonly data?: Record<string, unknown> };

/**
 * A protocol's server core. Inputs are trace events as the server sees them
 * (`c2s` data, client FIN/reset, connection open/close); `t` only ever grows.
 */
export interface ServerCore {
  /** Feeds one event the host observed. */
  handle(ev: TraceEvent): void;
  /**
   * The host could not complete a write within its send timeout (ms, the
   * core's `sendTimeoutMs`); the core decides what that means.
   */
  sendStalled(conn: number, stream: number, t: number): void;
  /** Returns (and forgets) the actions due at time `t` (µs), in order. */
  poll(t: number): ServerAction[];
  /** Absolute time (µs) at which `poll` must next be called, if any timer is armed. */
  nextTimer(): number | undefined;
  /** Send timeout the host applies to each write (ms); undefined for none. */
  readonly sendTimeoutMs: number | undefined;
  /**
   * Optional: the server is shutting down at time `t` (µs). The core queues
   * what it sends before going (e.g. a farewell frame on each connection,
   * then its close); the host polls it once and performs those actions
   * before it closes the connections left (with its own stop code).
   */
  shutdown?(t: number): void;
}

/**
 * The trace event (server's view) that performing `act` at time `t` (µs)
 * produces, or undefined for a log record.
 */
export function actionToEvent(act: ServerAction, t: number): TraceEvent | undefined {
  switch (act.type) {
    case 'send':
      return { type: 'data', t, conn: act.conn, stream: act.stream, dir: 's2c', hex: toHex(act.bytes) };
    case 'fin':
      return { type: 'stream_fin', t, conn: act.conn, stream: act.stream, dir: 's2c' };
    case 'reset':
      return { type: 'stream_reset', t, conn: act.conn, stream: act.stream, dir: 's2c', kind: 'reset', code: act.code };
    case 'stop_sending':
      return { type: 'stream_reset', t, conn: act.conn, stream: act.stream, dir: 'c2s', kind: 'stop_sending', code: act.code };
    case 'dgram':
      return { type: 'dgram', t, conn: act.conn, dir: 's2c', hex: toHex(act.bytes) };
    case 'close':
      return { type: 'conn_close', t, conn: act.conn, by: 'server', isApp: true, code: act.code, reason: act.reason };
    case 'log':
      return undefined;
  }
}

/** A protocol model in server mode: what the reference cores and the fuzz program builders drive. */
export interface ServerModel {
  /** Feeds one event (client input, or the server's own action fed back). */
  input(ev: TraceEvent, index: number): readonly unknown[];
  /** What a conforming server does at `t` (µs). */
  due(t: number): ServerAction[];
  /** When `due` next has something (µs). */
  nextDue(): number | undefined;
}

/**
 * The plain conforming core of a model: what is due is done and fed back, so
 * the model sees its own output. No send timeout, no logs, no faults (the
 * reference servers' cores add those).
 */
export function modelCore(model: ServerModel): ServerCore {
  return {
    sendTimeoutMs: undefined,
    handle: (ev) => void model.input(ev, -1),
    sendStalled: () => undefined,
    poll(t) {
      const acts = model.due(t);
      for (const act of acts) {
        const ev = actionToEvent(act, t);
        if (ev) model.input(ev, -1);
      }
      return acts;
    },
    nextTimer: () => model.nextDue(),
  };
}
