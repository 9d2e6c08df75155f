/**
 * The stream class of the QUIC client driver: one QUIC stream (RFC 9000 §2)
 * as a {@link ClientStream}, opened by the client or the server, bidi or
 * uni. It records what it sends and receives through its owner (the
 * connection), reads continuously (never leaving the peer flow-controlled by
 * us) and keeps every received byte from the start.
 */
import type { QUICConnection, QUICStream } from '@matrixai/quic';
import { errors as quicErrors, events as quicEvents } from '@matrixai/quic';
import {
  toHex,
  type DataEvent,
  type DistributiveOmit,
  type StreamFinEvent,
  type StreamKind,
  type StreamOpenEvent,
  type StreamResetEvent,
  type TraceEvent,
} from '../engine/trace.js';
import { ReceiveBuffer, errorMessage, noop } from '../engine/util.js';
import { DriverError, type ClientStream } from '../drivers/types.js';
import { LocalStreamCode, PeerStreamCode } from './errors.js';
import { OUT_OF_RANGE_STREAM_CODE, abortWritableNow, exactPeerStreamCode } from './internals.js';
import { EVENT_ERROR, checkQuicCode, detailOf, safeListener } from './util.js';

/** What a stream needs of the connection that owns it. */
export interface StreamOwner {
  /** Trace connection index. */
  readonly conn: number;
  /** The library connection (for the exact peer codes of the shield). */
  readonly connection: QUICConnection | undefined;
  readonly isClosed: boolean;
  /** True once the connection ended other than by our `close()`. */
  readonly endedRemotely: boolean;
  /** Records an event (after `conn_open` while still connecting). Never throws. */
  emit<E extends TraceEvent>(ev: DistributiveOmit<E, 't'>): void;
  /** Adds a harness annotation about the connection. */
  note(text: string): void;
}

/**
 * The code of a peer RESET_STREAM / STOP_SENDING as a trace number: exact
 * up to 2^53 − 1; above, the nearest double, and a note gives the exact
 * decimal (the trace holds JSON numbers; issue 13).
 */
export function peerCodeOf(owner: StreamOwner, stream: number, type: 'read' | 'write', reported: number): number {
  if (reported !== OUT_OF_RANGE_STREAM_CODE) return reported;
  const exact = exactPeerStreamCode(owner.connection, stream, type);
  if (exact === undefined) return reported;
  owner.note(
    `stream ${String(stream)}: peer ${type === 'read' ? 'RESET_STREAM' : 'STOP_SENDING'} code ${exact.toString()} ` +
      'is above 2^53 - 1 (out of the QUIC library\'s range); recorded as the nearest double',
  );
  return Number(exact);
}

/** State of one direction of a stream, as the driver last saw it. */
type SideState = 'open' | 'ended' | 'reset' | 'stopped' | 'gone';

/**
 * One stream of a QUIC client connection (drivers/quic.ts), as a
 * {@link ClientStream}. `qs` undefined means the stream could not be
 * created (`goneWhy` says why): every operation then rejects or notes that.
 */
export class QuicDriverStream implements ClientStream {
  readonly id: number;
  readonly conn: number;
  readonly by: 'client' | 'server';
  readonly kind: StreamKind;
  /** Received bytes. */
  private readonly rx = new ReceiveBuffer();
  private opened: boolean;
  private writeState: SideState;
  private readState: SideState;
  private peerStopSeen = false;
  private chain: Promise<void> = Promise.resolve();
  private writeInFlight = false;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array> | undefined;

  constructor(
    private readonly owner: StreamOwner,
    id: number,
    by: 'client' | 'server',
    kind: StreamKind,
    private readonly qs: QUICStream | undefined,
    private readonly goneWhy = 'connection closed',
  ) {
    this.id = id;
    this.conn = owner.conn;
    this.by = by;
    this.kind = kind;
    this.opened = by === 'server';
    const localUni = by === 'client' && kind === 'uni';
    const peerUni = by === 'server' && kind === 'uni';
    this.writeState = qs === undefined ? 'gone' : peerUni ? 'ended' : 'open';
    this.readState = qs === undefined ? 'gone' : localUni ? 'ended' : 'open';
    if (qs === undefined) return;
    if (by === 'server') {
      owner.emit<StreamOpenEvent>({ type: 'stream_open', conn: this.conn, stream: id, by: 'server', ...dirField(kind) });
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
    return this.rx.copy();
  }

  /** Number of bytes received so far (no copy). */
  get receivedLength(): number {
    return this.rx.length;
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
   * @throws RangeError for a code outside [0, 2^53) (checked before the library sees it);
   *   DriverError on a server uni stream (receive-only).
   */
  reset(code: number): void {
    checkQuicCode(code, 'reset');
    if (this.by === 'server' && this.kind === 'uni') throw new DriverError(`reset on stream ${String(this.id)}: a server uni stream is receive-only`);
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
      if (this.writeInFlight) abortWritableNow(this.qs, reason);
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
   * @throws RangeError for a code outside [0, 2^53) (checked before the library sees it);
   *   DriverError on a client uni stream (send-only).
   */
  stopSending(code: number): void {
    checkQuicCode(code, 'stopSending');
    if (this.by === 'client' && this.kind === 'uni') throw new DriverError(`stopSending on stream ${String(this.id)}: a client uni stream is send-only`);
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
      throw new DriverError(`${op} on stream ${String(this.id)}: ${this.qs === undefined ? this.goneWhy : 'a server uni stream is receive-only'}`);
    }
    if (this.owner.isClosed) throw new DriverError(`${op} on stream ${String(this.id)}: connection closed`);
    if (this.writeState !== 'open') {
      throw new DriverError(`${op} on stream ${String(this.id)}: sending side ${this.sideWhy(this.writeState)}`);
    }
  }

  private writeFailure(op: string, err: unknown): DriverError {
    let why: string;
    if (err instanceof PeerStreamCode) why = `peer sent STOP_SENDING with code ${String(peerCodeOf(this.owner, this.id, 'write', err.code))}`;
    else if (err instanceof LocalStreamCode) why = `stream was reset locally with code ${String(err.code)}`;
    else if (this.owner.isClosed) why = 'connection closed';
    else why = errorMessage(err);
    return new DriverError(`${op} on stream ${String(this.id)}: ${why}`, { cause: err });
  }

  /** `stream_open` by 'client' at the first frame the stream causes (RFC 9000 §3.1). */
  private recordOpen(): void {
    if (this.opened) return;
    this.opened = true;
    this.owner.emit<StreamOpenEvent>({ type: 'stream_open', conn: this.conn, stream: this.id, by: 'client', ...dirField(this.kind) });
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
          const code = peerCodeOf(this.owner, this.id, 'read', err.code);
          this.owner.emit<StreamResetEvent>({
            type: 'stream_reset', conn: this.conn, stream: this.id, dir: 's2c', kind: 'reset', code,
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
      this.rx.append(chunk);
      this.owner.emit<DataEvent>({ type: 'data', conn: this.conn, stream: this.id, dir: 's2c', hex: toHex(chunk) });
    }
  }

  private onStreamError(err: unknown): void {
    if (err instanceof quicErrors.ErrorQUICStreamPeerWrite) {
      // STOP_SENDING from the peer (RFC 9000 §3.5); reads record RESET_STREAM themselves.
      const code = (err.data as { code?: unknown } | undefined)?.code;
      if (this.peerStopSeen) return;
      this.peerStopSeen = true;
      const stopCode = typeof code === 'number' ? peerCodeOf(this.owner, this.id, 'write', code) : 0;
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


/** `{ dir: 'uni' }` for a uni stream; nothing for bidi (trace v2: absent means bidi). */
function dirField(kind: StreamKind): { dir?: StreamKind } {
  return kind === 'uni' ? { dir: 'uni' } : {};
}
