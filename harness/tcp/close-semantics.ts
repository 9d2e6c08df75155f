/**
 * TCP FIN/RST/close semantics, once (Sans-I/O: events in, decisions out).
 *
 * A TCP connection carries one byte stream each way (RFC 9293), recorded as
 * **stream 0**, announced (`stream_open` by `'client'`, who opened the
 * connection) right before its first event in either direction. One
 * {@link TcpView} is one side's view of a connection: the client driver
 * (drivers/tcp.ts), the server host (tcp/server-host.ts) and the in-memory
 * target (drivers/memory.ts, which runs both views) feed it what happened
 * and record the trace events it returns, in order:
 *
 * | happening                          | recorded (this side's view) |
 * |---|---|
 * | bytes sent / received              | `data` in the sender's direction |
 * | our FIN                            | `stream_fin` our direction (refused after our FIN) |
 * | the peer's FIN                     | `stream_fin` its direction; with `answerPeerFin` (the driver: Node's `allowHalfOpen: false`) our own FIN follows at once |
 * | both FINs exchanged, socket closed | `conn_close` by whoever sent the **first** FIN, reason `'fin'` |
 * | socket closed with no peer FIN     | `conn_close` by the first FIN's sender, else the peer, reason `'closed'` |
 * | our RST                            | `stream_reset` our direction kind `'reset'` with the code, then `conn_close` by us, reason `'reset'` (`'reset (sent as FIN)'` when the RST could not be sent) |
 * | the peer's RST                     | `conn_close` by the peer, reason `'reset'` |
 * | our close / local transport end    | `conn_close` by us (or `'transport'`) with the code and reason given (not on the wire) |
 * | another socket error               | `conn_close` by `'transport'` |
 *
 * Every `conn_close` has `isApp: false` (TCP has no application close),
 * there is exactly one per connection, and nothing is recorded after it.
 * No I/O and no clock here: the caller sends the FIN / RST the decision
 * asks for and stamps the events with its time.
 */
import type { ConnCloseEvent, Direction, DistributiveOmit, TraceEvent } from '../engine/trace.js';

/** The one stream id of a TCP connection. */
export const TCP_STREAM_ID = 0;

/** A role in a TCP connection: who connected (`client`) and who accepted (`server`). */
export type TcpRole = 'client' | 'server';

/** One side's view of a TCP connection (immutable; {@link tcpStep} returns the next). */
export interface TcpView {
  /** Trace connection index. */
  readonly conn: number;
  /** Whose view: the events' directions follow from it. */
  readonly local: TcpRole;
  /** On the peer's FIN, send our FIN at once (the client driver, like Node's `allowHalfOpen: false`). */
  readonly answerPeerFin: boolean;
  /** `stream_open` of stream 0 was recorded. */
  readonly announced: boolean;
  /** Our sending side is open (no FIN, RST or close yet). */
  readonly sending: boolean;
  /** The peer's sending side is open (no FIN from it yet, connection not ended). */
  readonly receiving: boolean;
  /** Who sent the first FIN: the close is theirs once both are exchanged. */
  readonly firstFin: TcpRole | undefined;
  /** The peer's FIN arrived. */
  readonly peerFinned: boolean;
  /** `conn_close` was recorded. */
  readonly closed: boolean;
}

/** What happened on a connection, from the view's side ("local" is us, "peer" the other end). */
export type TcpHappening =
  /** Stream 0 is about to be used: `stream_open` when not recorded yet (also done by every happening below that uses it). */
  | { readonly type: 'announce' }
  /** We send bytes (lower-case hex; empty records nothing). */
  | { readonly type: 'send'; readonly hex: string }
  /** Bytes from the peer. */
  | { readonly type: 'receive'; readonly hex: string }
  /** We half-close (FIN). */
  | { readonly type: 'local_fin' }
  /** The peer's FIN. */
  | { readonly type: 'peer_fin' }
  /** We abort with an RST (`code` is recorded only); `sent` false when it went out as a FIN. */
  | { readonly type: 'local_reset'; readonly code: number; readonly sent: boolean }
  /** The peer's RST (ECONNRESET, EPIPE, ECONNABORTED). */
  | { readonly type: 'peer_reset' }
  /** We end the connection (a close, a stop, a local idle timeout: `by` `'transport'`); `code`, `reason` recorded only. */
  | { readonly type: 'local_close'; readonly by?: 'transport'; readonly code: number; readonly reason: string }
  /** A socket error other than an RST. */
  | { readonly type: 'socket_error'; readonly reason: string }
  /** The socket is gone (Node's `'close'`). */
  | { readonly type: 'socket_closed' };

/** A trace event to record (the caller stamps `t`). */
export type TcpTraceEvent = DistributiveOmit<TraceEvent, 't'>;

/** The decision on one happening. */
export interface TcpDecision {
  readonly view: TcpView;
  /** Events to record, in order (possibly none). */
  readonly events: readonly TcpTraceEvent[];
  /** The caller must send our FIN (after queued bytes): our side just ended by `local_fin` or by answering the peer's FIN. */
  readonly sendFin: boolean;
  /** Why a local operation (`send`, `local_fin`, `local_reset`) was refused; nothing was recorded. */
  readonly refused?: string;
}

/** A fresh view of a just-opened connection. */
export function tcpView(conn: number, local: TcpRole, opts: { readonly answerPeerFin: boolean }): TcpView {
  return { conn, local, answerPeerFin: opts.answerPeerFin, announced: false, sending: true, receiving: true, firstFin: undefined, peerFinned: false, closed: false };
}

/** The direction of bytes sent by `role`. */
export function tcpDirection(role: TcpRole): Direction {
  return role === 'client' ? 'c2s' : 's2c';
}

/** The other end. */
function other(role: TcpRole): TcpRole {
  return role === 'client' ? 'server' : 'client';
}

/**
 * The decision on `h` in `view` (see the module docstring). Pure.
 */
export function tcpStep(view: TcpView, h: TcpHappening): TcpDecision {
  const events: TcpTraceEvent[] = [];
  let v = view;
  const conn = view.conn;
  const mine = tcpDirection(view.local);
  const theirs = tcpDirection(other(view.local));
  const done = (sendFin = false): TcpDecision => ({ view: v, events, sendFin });
  const refuse = (why: string): TcpDecision => ({ view, events: [], sendFin: false, refused: why });
  const announce = () => {
    if (v.announced) return;
    v = { ...v, announced: true };
    events.push({ type: 'stream_open', conn, stream: TCP_STREAM_ID, by: 'client' });
  };
  const close = (by: ConnCloseEvent['by'], code: number, reason: string) => {
    v = { ...v, closed: true, sending: false, receiving: false };
    events.push({ type: 'conn_close', conn, by, isApp: false, code, reason });
  };
  const localEnded = (op: string): string | undefined => {
    if (view.closed) return `${op} on stream 0: connection closed`;
    if (!view.sending) {
      const why = view.peerFinned && view.firstFin !== view.local && view.answerPeerFin ? `the ${other(view.local)} sent FIN, the driver answered with FIN` : 'FIN sent';
      return `${op} on stream 0: sending side already ended (${why})`;
    }
    return undefined;
  };

  switch (h.type) {
    case 'announce':
      if (!view.closed) announce();
      return done();
    case 'send': {
      const why = localEnded('write');
      if (why) return refuse(why);
      if (h.hex.length === 0) return done();
      announce();
      events.push({ type: 'data', conn, stream: TCP_STREAM_ID, dir: mine, hex: h.hex });
      return done();
    }
    case 'receive':
      if (view.closed || !view.receiving || h.hex.length === 0) return done();
      announce();
      events.push({ type: 'data', conn, stream: TCP_STREAM_ID, dir: theirs, hex: h.hex });
      return done();
    case 'local_fin': {
      const why = localEnded('end');
      if (why) return refuse(why);
      announce();
      events.push({ type: 'stream_fin', conn, stream: TCP_STREAM_ID, dir: mine });
      v = { ...v, sending: false, firstFin: v.firstFin ?? view.local };
      return done(true);
    }
    case 'peer_fin': {
      if (view.closed || !view.receiving) return done();
      announce();
      events.push({ type: 'stream_fin', conn, stream: TCP_STREAM_ID, dir: theirs });
      v = { ...v, receiving: false, peerFinned: true, firstFin: v.firstFin ?? other(view.local) };
      if (v.answerPeerFin && v.sending) {
        events.push({ type: 'stream_fin', conn, stream: TCP_STREAM_ID, dir: mine });
        v = { ...v, sending: false };
        return done(true);
      }
      return done();
    }
    case 'local_reset':
      if (view.closed) return refuse(`reset(${String(h.code)}) not sent: connection already closed`);
      announce();
      events.push({ type: 'stream_reset', conn, stream: TCP_STREAM_ID, dir: mine, kind: 'reset', code: h.code });
      close(view.local, 0, h.sent ? 'reset' : 'reset (sent as FIN)');
      return done();
    case 'peer_reset':
      if (view.closed) return done();
      close(other(view.local), 0, 'reset');
      return done();
    case 'local_close':
      if (view.closed) return done();
      close(h.by ?? view.local, h.code, h.reason);
      return done();
    case 'socket_error':
      if (view.closed) return done();
      close('transport', 0, h.reason);
      return done();
    case 'socket_closed':
      if (view.closed) return done();
      close(view.firstFin ?? other(view.local), 0, view.peerFinned ? 'fin' : 'closed');
      return done();
  }
}

/** Who holds a {@link TcpView} of a connection (a driver's or host's connection state). */
export interface TcpViewHolder {
  view: TcpView;
}

/** What {@link applyTcp} did. */
export interface TcpApplied extends TcpDecision {
  /** False when recording an event let the connection close meanwhile (a core answering `stream_open` with a close): the rest was dropped, and no FIN is to be sent. */
  readonly complete: boolean;
}

/**
 * Applies a happening to `holder.view` and records its events in order with
 * `record`, which may re-enter (record another happening of the same
 * connection, e.g. a server core fed `stream_open` closing at once). The
 * stream is announced first on its own, so that a close made while
 * `stream_open` is recorded drops the operation, as if it came after the
 * close; events left when the view changed meanwhile are dropped.
 */
export function applyTcp(holder: TcpViewHolder, h: TcpHappening, record: (ev: TcpTraceEvent) => void): TcpApplied {
  let d = tcpStep(holder.view, h);
  if (d.refused !== undefined) return { ...d, complete: true };
  if (h.type !== 'announce' && d.events[0]?.type === 'stream_open' && d.events.length > 1) {
    const a = tcpStep(holder.view, { type: 'announce' });
    holder.view = a.view;
    for (const ev of a.events) record(ev);
    if (holder.view !== a.view) return { view: holder.view, events: a.events, sendFin: false, complete: false };
    d = tcpStep(holder.view, h);
  }
  holder.view = d.view;
  for (const [i, ev] of d.events.entries()) {
    if (holder.view !== d.view) return { ...d, view: holder.view, events: d.events.slice(0, i), sendFin: false, complete: false };
    record(ev);
  }
  return { ...d, complete: true };
}
