/**
 * The thin driver of the Garou client: one {@link GarouClientState} over one
 * connection of the harness's transport driver (QUIC by default, transport
 * contract v2: uni streams, server-opened streams, DATAGRAMs). Everything
 * received is read from the connection's trace events (the driver records
 * every byte before anyone sees it) and fed to the state machine; what the
 * machine asks to write is written on the right stream. Every wait has a
 * deadline; target behaviour never throws out of a wait, it resolves with
 * what happened.
 */
import { ConnectError, type ClientConnection, type ClientStream, type CloseInfo, type ConnectOptions, type Driver } from '../../harness/drivers/types.js';
import { quicDriver } from '../../harness/drivers/quic.js';
import { TraceRecorder, type TraceEvent } from '../../harness/engine/trace.js';
import { errorMessage } from '../../harness/engine/util.js';
import type { DatagramName, Payloads } from './frames.js';
import { closeCodeName } from './frames.js';
import {
  GarouClientState,
  type ChatCommandName,
  type ClientCarrier,
  type ClientEvent,
  type ClientWrite,
  type CommandArgs,
  type CommandAnswer,
  type GarouClientOptions,
  type Step,
  type UploadFrameName,
} from './client-state.js';

/** Options of {@link GarouConnection.open}. */
export interface GarouConnectionOptions {
  /** Where and how to connect; `alpn` defaults to `garou`, datagrams are advertised (GAROU-1.1, 11.1). */
  readonly connect: ConnectOptions;
  /** Auth `username` (GAROU-4.4). */
  readonly username: string;
  /** Auth `token`, when the server wants one. */
  readonly token?: string;
  /** How long the Garou handshake (Hello … ShardAssignment) may take after the QUIC handshake (ms). */
  readonly handshakeTimeoutMs: number;
  /** Options of the state machine (shard count assumed, checking, live view, frame limit). */
  readonly state?: GarouClientOptions;
  /** Transport driver (default QUIC). */
  readonly driver?: Driver;
  /** Trace to record into (shared by many connections in the load tool); default a new one. */
  readonly trace?: TraceRecorder;
  /** Clock for event times (ms; default `performance.timeOrigin + performance.now()`, ms since the Unix epoch). */
  readonly clock?: () => number;
  /** Called with every event of the state machine, in order (violations, room frames, answers …). */
  readonly onEvent?: (ev: ClientEvent, conn: GarouConnection) => void;
}

/** How a bounded wait ended. */
export type WaitOutcome<T> =
  | { readonly kind: 'ok'; readonly value: T }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'closed'; readonly info: CloseInfo };

/** The handshake failed: refused (AuthFailed), closed, or too slow. */
export class GarouHandshakeError extends Error {
  constructor(
    message: string,
    /** The close, when the connection ended. */
    readonly close?: CloseInfo,
  ) {
    super(message);
    this.name = 'GarouHandshakeError';
  }
}

/** Milliseconds since the Unix epoch, sub-millisecond. */
export const epochMs = (): number => performance.timeOrigin + performance.now();

/**
 * Routes one trace's events to the connections recorded in it: one listener
 * per trace, a map lookup per event. Events of a connection not registered
 * yet (recorded while its connect was under way) are kept until it is.
 */
class TraceRouter {
  private static readonly routers = new WeakMap<TraceRecorder, TraceRouter>();
  private readonly byConn = new Map<number, (ev: TraceEvent) => void>();
  private readonly early = new Map<number, TraceEvent[]>();

  static of(trace: TraceRecorder): TraceRouter {
    let r = TraceRouter.routers.get(trace);
    if (!r) {
      const router = new TraceRouter();
      trace.listen((ev) => router.route(ev));
      TraceRouter.routers.set(trace, router);
      r = router;
    }
    return r;
  }

  private route(ev: TraceEvent): void {
    const conn = (ev as { conn?: number }).conn;
    if (conn === undefined || ev.type === 'conn_fail') return;
    const fn = this.byConn.get(conn);
    if (fn) return fn(ev);
    if (ev.type === 'conn_close') return void this.early.delete(conn);
    const list = this.early.get(conn);
    if (list) list.push(ev);
    else this.early.set(conn, [ev]);
  }

  /** Registers a connection's handler and hands it the events already recorded. */
  add(conn: number, fn: (ev: TraceEvent) => void): void {
    this.byConn.set(conn, fn);
    const early = this.early.get(conn);
    this.early.delete(conn);
    for (const ev of early ?? []) fn(ev);
  }

  remove(conn: number): void {
    this.byConn.delete(conn);
    this.early.delete(conn);
  }
}

/** Describes how a connection ended: `closed by server: 0x1 PROTOCOL_VIOLATION (GAROU-3.3 …)`. */
export function describeClose(info: CloseInfo): string {
  const reason = info.reason !== '' ? ` (${info.reason})` : '';
  const code = info.isApp ? closeCodeName(info.code) : `transport code 0x${info.code.toString(16)}`;
  if (info.by === 'client') return `closed by this client${info.code !== 0 ? ` with code ${code}` : ''}${reason}`;
  return `closed by ${info.by === 'server' ? 'server' : 'the transport'}: ${code}${reason}`;
}

/**
 * One authenticated Garou connection. Open with {@link GarouConnection.open};
 * send commands with {@link request} (awaits the answer) or {@link send}
 * (does not); the live view is {@link state}.
 */
export class GarouConnection {
  /** The state machine (phase, user, pending commands, live view of rooms, gaps). */
  readonly state: GarouClientState;
  private readonly streams = new Map<ClientCarrier, ClientStream>();
  private readonly waiters = new Set<() => void>();
  private readonly clock: () => number;
  private closeInfo: CloseInfo | undefined;
  private controlId: number | undefined;
  /** Answers not yet taken by {@link request}, by cmd_id. */
  private readonly answers = new Map<number, CommandAnswer>();
  private readonly awaited = new Set<number>();
  /** Write failures (a stream gone): the connection is going down. */
  private writeError: string | undefined;
  /** ShardAssignment arrived (the handshake's last frame, GAROU-4.6). */
  private assigned = false;
  /** AuthFailed's reason. */
  private authFailure: string | undefined;
  /** One-off listeners of {@link uploadFrame} and {@link ping}. */
  private readonly watchers = new Set<(ev: ClientEvent) => void>();

  private constructor(
    readonly conn: ClientConnection,
    private readonly trace: TraceRecorder,
    private readonly opts: GarouConnectionOptions,
  ) {
    this.clock = opts.clock ?? epochMs;
    this.state = new GarouClientState(opts.state);
  }

  /**
   * Connects (QUIC handshake bounded by `connect.connectTimeoutMs`), sends
   * Hello and Auth at once (GAROU-4.3), and waits for AuthOk and
   * ShardAssignment within `handshakeTimeoutMs`.
   * @throws ConnectError when the QUIC connection fails; GarouHandshakeError
   *   when the server refuses (AuthFailed), closes, or is too slow (the
   *   connection is closed first).
   */
  static async open(opts: GarouConnectionOptions): Promise<GarouConnection> {
    const trace = opts.trace ?? new TraceRecorder();
    const driver = opts.driver ?? quicDriver;
    const connect: ConnectOptions = { alpn: ['garou'], datagrams: true, ...opts.connect };
    // Events recorded before the handler is registered are kept by the router and handed over.
    const router = TraceRouter.of(trace);
    const conn = await driver.connect(trace, connect).catch((err: unknown) => {
      throw err instanceof ConnectError ? err : new ConnectError(errorMessage(err), { cause: err });
    });
    const self = new GarouConnection(conn, trace, opts);
    router.add(conn.conn, (ev) => self.onTrace(ev));
    conn.closed.then((info) => self.onClosed(info)).catch(() => undefined);
    try {
      await self.handshake();
    } catch (err) {
      await conn.close(0, 'handshake failed').catch(() => undefined);
      throw err;
    }
    return self;
  }

  private async handshake(): Promise<void> {
    const control = this.conn.openStream('bidi');
    this.controlId = control.id;
    this.streams.set('control', control);
    this.write(this.state.hello());
    this.write(this.state.auth(this.opts.username, this.opts.token));
    const r = await this.waitFor(() => {
      const p = this.state.phase;
      if (p === 'failed') return 'failed';
      return p === 'authenticated' && this.assigned ? 'ok' : undefined;
    }, this.opts.handshakeTimeoutMs);
    if (r.kind === 'ok' && r.value === 'ok') return;
    if (r.kind === 'ok') throw new GarouHandshakeError(`Auth refused: AuthFailed (${this.authFailure ?? 'no reason'})`, this.closeInfo);
    if (r.kind === 'closed') throw new GarouHandshakeError(`connection ${describeClose(r.info)} during the Garou handshake`, r.info);
    throw new GarouHandshakeError(`no AuthOk and ShardAssignment within ${this.opts.handshakeTimeoutMs} ms (GAROU-4.1, 4.6)`);
  }

  /** How the connection ended, once it did. */
  get closed(): CloseInfo | undefined {
    return this.closeInfo;
  }

  /** The authenticated user id. */
  get userId(): string {
    return this.state.userId ?? '';
  }

  // ---- input -------------------------------------------------------------

  private onTrace(ev: TraceEvent): void {
    const now = this.clock();
    let step: Step | undefined;
    switch (ev.type) {
      case 'stream_open':
        if (ev.by === 'server' && ev.dir === 'uni') this.state.openServerStream(String(ev.stream));
        break;
      case 'data':
        if (ev.dir !== 's2c') break;
        step = ev.stream === this.controlId ? this.state.receiveControl(Buffer.from(ev.hex, 'hex'), now) : this.state.receiveStream(String(ev.stream), Buffer.from(ev.hex, 'hex'), now);
        break;
      case 'stream_fin':
        if (ev.dir !== 's2c') break;
        step = ev.stream === this.controlId ? this.state.controlEnded(now) : this.state.streamEnded(String(ev.stream), now);
        break;
      case 'dgram':
        if (ev.dir === 's2c') step = this.state.receiveDatagram(Buffer.from(ev.hex, 'hex'), now);
        break;
      case 'conn_close':
        this.onClosed({ conn: ev.conn, by: ev.by, isApp: ev.isApp, code: ev.code, reason: ev.reason });
        break;
      default:
        break;
    }
    if (step) this.apply(step);
    this.kick();
  }

  private apply(step: Step): void {
    for (const w of step.writes) this.write(w);
    for (const ev of step.events) {
      if (ev.kind === 'handshake') {
        if (ev.frame.name === 'ShardAssignment') this.assigned = true;
        if (ev.frame.name === 'AuthFailed') this.authFailure = ev.frame.payload.reason;
      } else if (ev.kind === 'answer' && this.awaited.has(ev.command.cmdId)) {
        this.answers.set(ev.command.cmdId, ev.answer);
      }
      for (const w of this.watchers) w(ev);
      try {
        this.opts.onEvent?.(ev, this);
      } catch {
        /* a listener's trouble is not the target's */
      }
    }
  }

  private onClosed(info: CloseInfo): void {
    if (this.closeInfo) return;
    this.closeInfo = info;
    this.state.closed();
    TraceRouter.of(this.trace).remove(this.conn.conn);
    this.kick();
  }

  private kick(): void {
    for (const w of [...this.waiters]) w();
  }

  /**
   * Waits until `check()` returns a value (checked now and after every
   * event of this connection), the connection closes, or `ms` passes.
   */
  waitFor<T>(check: () => T | undefined, ms: number): Promise<WaitOutcome<T>> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const poll = (): void => {
        const v = check();
        if (v !== undefined) return finish({ kind: 'ok', value: v });
        if (this.closeInfo) finish({ kind: 'closed', info: this.closeInfo });
      };
      const finish = (r: WaitOutcome<T>): void => {
        this.waiters.delete(poll);
        clearTimeout(timer);
        resolve(r);
      };
      this.waiters.add(poll);
      timer = setTimeout(() => {
        if (this.waiters.has(poll)) finish({ kind: 'timeout' });
      }, ms);
      poll();
    });
  }

  // ---- output ------------------------------------------------------------

  private write(w: ClientWrite): void {
    let s = this.streams.get(w.carrier);
    if (!s) {
      s = this.conn.openStream('uni');
      this.streams.set(w.carrier, s);
    }
    s.write(w.bytes).catch((err: unknown) => {
      this.writeError ??= errorMessage(err);
    });
  }

  /** The first write failure, if any (the connection is usually closing). */
  get lastWriteError(): string | undefined {
    return this.writeError;
  }

  /**
   * Sends a chat command without waiting (its answer comes as an `answer`
   * event). Returns the `cmd_id`.
   * @throws RangeError when the payload breaks its schema; Error when not authenticated.
   */
  send<K extends ChatCommandName>(name: K, args: CommandArgs<K>): number {
    const { cmdId, write } = this.state.command(name, args, this.clock());
    this.write(write);
    return cmdId;
  }

  /**
   * Sends a chat command and waits up to `ms` for its answer (GAROU-5.2).
   * Resolves `closed` (cmd_id 0, nothing sent) when the connection has already ended.
   * @throws RangeError when the payload breaks its schema.
   */
  async request<K extends ChatCommandName>(name: K, args: CommandArgs<K>, ms: number): Promise<WaitOutcome<CommandAnswer> & { readonly cmdId: number }> {
    if (this.closeInfo) return { kind: 'closed', info: this.closeInfo, cmdId: 0 };
    const { cmdId, write } = this.state.command(name, args, this.clock());
    this.awaited.add(cmdId);
    this.write(write);
    const r = await this.waitFor(() => this.answers.get(cmdId), ms);
    this.awaited.delete(cmdId);
    this.answers.delete(cmdId);
    return { ...r, cmdId };
  }

  /**
   * Sends an upload frame and waits up to `ms` for its answer (GAROU-10.1).
   * @throws RangeError when the payload breaks its schema; Error when not authenticated.
   */
  async uploadFrame<K extends UploadFrameName>(name: K, payload: Payloads[K], ms: number): Promise<WaitOutcome<Extract<ClientEvent, { kind: 'upload-answer' }>['answer']>> {
    let answer: Extract<ClientEvent, { kind: 'upload-answer' }>['answer'] | undefined;
    const pendingBefore = this.state.pendingUploadFrames.length;
    this.write(this.state.upload(name, payload, this.clock()));
    const target = this.state.pendingUploadFrames[pendingBefore]!;
    // Watch for the answer to this frame (the machine matches answers in order).
    const watch = (ev: ClientEvent): void => {
      if (ev.kind === 'upload-answer' && ev.upload === target) answer = ev.answer;
    };
    this.watchers.add(watch);
    const r = await this.waitFor(() => answer, ms);
    this.watchers.delete(watch);
    return r;
  }

  /** Sends MessageDelivered / MessageRead (no answer, GAROU-9.1). */
  ack(name: 'MessageDelivered' | 'MessageRead', roomId: number, seq: number): void {
    this.write(this.state.ack(name, roomId, seq));
  }

  /**
   * Sends a datagram frame (GAROU-11.1; best effort).
   * @throws DriverError when datagrams were not negotiated or the connection is closed.
   */
  datagram<K extends DatagramName>(name: K, payload: Payloads[K]): void {
    this.conn.sendDatagram(this.state.datagram(name, payload));
  }

  /** Sends Ping and waits up to `ms` for the Pong with its nonce (GAROU-12.1); resolves with the round trip (ms). */
  async ping(ms: number): Promise<WaitOutcome<number>> {
    const { nonce, write } = this.state.ping();
    const start = this.clock();
    let rtt: number | undefined;
    const watch = (ev: ClientEvent): void => {
      if (ev.kind === 'control' && ev.frame.name === 'Pong' && ev.frame.payload.nonce === nonce) rtt = ev.at - start;
    };
    this.watchers.add(watch);
    this.write(write);
    const r = await this.waitFor(() => rtt, ms);
    this.watchers.delete(watch);
    return r;
  }

  /**
   * Ends the connection: Goodbye `{reason}` (GAROU-13.4) when `goodbye` is
   * set, waiting up to `ms` for the server's close, then a close with
   * `0x0 NO_ERROR` if it is still open. Idempotent; never throws.
   */
  async close(opts: { readonly goodbye?: string; readonly ms?: number } = {}): Promise<CloseInfo> {
    if (!this.closeInfo && opts.goodbye !== undefined && this.state.phase === 'authenticated') {
      this.write(this.state.goodbye(opts.goodbye));
      await this.waitFor(() => undefined, opts.ms ?? 1_000);
    }
    if (!this.conn.isClosed) await this.conn.close(0, opts.goodbye ?? '').catch(() => undefined);
    return this.closeInfo ?? (await this.conn.closed);
  }
}
