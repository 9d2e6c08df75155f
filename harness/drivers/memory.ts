/**
 * An in-memory target: a {@link Driver} whose connections talk, with no
 * socket, to a Sans-I/O {@link ServerCore} held in the same process. It is
 * the QUIC host (harness/quic/server-host.ts) and the client driver in one,
 * with zero latency: a client action is recorded in the case's trace, fed
 * to the core as the host would feed it (server's view), and whatever the
 * core does in answer is recorded in the case's trace at once.
 *
 * With a {@link VirtualClock} the whole exchange runs in virtual time: the
 * fuzzer's in-process path (thousands of cases per second, deterministic).
 *
 * With `transport: 'tcp'` a connection behaves as drivers/tcp.ts records
 * one and tcp/server-host.ts feeds it to the core: a single byte stream (id
 * 0, the same object from every `openStream()`), `stopSending()` throws
 * (TCP has none), and FINs, RSTs and closes follow tcp/close-semantics.ts
 * with two views of the connection, the client's (recorded in the case's
 * trace, answering the server's FIN with its own) and the server's (fed to
 * the core): a client `reset()` is `stream_reset` then `conn_close` by the
 * client, reason `reset`, the core sees the `conn_close`; a core's `close`
 * is the core's `conn_close`, then its FIN reaches the client (`stream_fin`
 * s2c, the client's answering FIN, `conn_close` by the first FIN's sender,
 * reason `fin`); a client `close()` is the client's `conn_close`, then its
 * FIN reaches the core (`stream_fin` c2s), which ends its side when it
 * likes.
 *
 * Transport contract v2 (QUIC mode): `openStream('uni')` opens client uni
 * streams (2, 6, 10, …); streams the core opens (a `send` on a server id,
 * RFC 9000 §2.1) are recorded (`stream_open` by the server, `dir` for uni)
 * and handed out by `acceptStream`; DATAGRAMs (RFC 9221) are exchanged when
 * the connect asks for them (`datagrams: true`), up to
 * {@link MemoryTargetOptions.maxDatagramSize} bytes. In TCP mode there are
 * no uni streams, no server streams and no datagrams, as drivers/tcp.ts.
 * One core serves every connection of every case, as one server process
 * would: state a faulty core leaks shows in the next case and the probe.
 */
import type { Clock } from '../engine/clock.js';
import { CorePump } from '../engine/core-pump.js';
import type { ServerAction, ServerCore } from '../engine/server-core.js';
import { toHex, type ConnCloseEvent, type NoteEvent, type StreamKind, type TraceEvent, type TraceRecorder } from '../engine/trace.js';
import { TCP_STREAM_ID, applyTcp, tcpView, type TcpApplied, type TcpHappening, type TcpViewHolder } from '../tcp/close-semantics.js';
import { ReceiveBuffer } from '../engine/util.js';
import { ConnectError, DriverError, type ClientConnection, type ClientStream, type CloseInfo, type ConnectOptions, type Driver } from './types.js';

/** Options of {@link createMemoryTarget}. */
export interface MemoryTargetOptions {
  /** The server core (one for the target's whole life). */
  readonly core: ServerCore;
  /** Time source of the core and of the connections' timers (a `VirtualClock` for in-process fuzzing). */
  readonly clock: Clock;
  /** ALPN ids the in-memory server accepts; a connect offering none of them fails (default: accept any). */
  readonly alpn?: readonly string[];
  /** `remote` recorded in `conn_open` (default `memory`). */
  readonly remote?: string;
  /** Transport the driver claims (default `quic`: streams 0, 4, 8, … as RFC 9000 §2.1; `tcp`: one stream 0 per connection, as drivers/tcp.ts, see the module docstring). */
  readonly transport?: 'quic' | 'tcp';
  /**
   * Structured log of the in-memory host (what the QUIC and TCP hosts log):
   * a core that throws, actions a transport cannot do, core `log` actions.
   * Default: none.
   */
  readonly log?: (entry: Record<string, unknown>) => void;
  /**
   * Largest DATAGRAM payload (bytes) either side accepts, when a connect
   * asks for datagrams (`ConnectOptions.datagrams`); default
   * {@link MEMORY_MAX_DATAGRAM_SIZE}; 0: the server does not support them.
   * Ignored in TCP mode.
   */
  readonly maxDatagramSize?: number;
}

/** Default largest DATAGRAM payload of an in-memory connection (bytes): what fits a 1,280-byte QUIC packet, roughly. */
export const MEMORY_MAX_DATAGRAM_SIZE = 1_200;

/** A running in-memory target. */
export interface MemoryTarget {
  /** Connects to the core; use it wherever a {@link Driver} is taken (runCase, runSuite). */
  readonly driver: Driver;
  /** Connect options for it (host and port are placeholders). */
  readonly connect: ConnectOptions;
  /** Connections open right now (the core's view of the slots in use). */
  liveConnections(): number;
  /** Closes every live connection (by the server, with `code`) and clears the core's timer. Idempotent. */
  stop(code?: number, reason?: string): void;
}

/** One connection: the client's handle and the host's state. */
class MemoryConnection implements ClientConnection {
  readonly closed: Promise<CloseInfo>;
  private resolveClosed!: (info: CloseInfo) => void;
  private ended = false;
  readonly streams = new Map<number, MemoryStream>();
  private nextClientBidi = 0;
  private nextClientUni = 2;
  /** Server-opened streams, in the order they became known; `accepted` of them handed out. */
  private readonly fromServer: MemoryStream[] = [];
  private accepted = 0;
  /** Waiters of {@link acceptStream}, woken by a new server stream or the close. */
  private readonly acceptWaiters = new Set<() => void>();
  private readonly rxDatagrams: Uint8Array[] = [];
  /** Largest DATAGRAM payload (bytes), when datagrams were negotiated. */
  readonly maxDatagramSize: number | undefined;

  constructor(
    readonly host: MemoryHost,
    readonly trace: TraceRecorder,
    /** Trace connection index (client's view). */
    readonly conn: number,
    /** The core's connection id (unique over the target's life). */
    readonly serverConn: number,
    maxDatagramSize: number | undefined,
  ) {
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.maxDatagramSize = maxDatagramSize;
  }

  get isClosed(): boolean {
    return this.ended;
  }

  openStream(kind: StreamKind = 'bidi'): ClientStream {
    if (kind !== 'bidi' && kind !== 'uni') throw new DriverError(`openStream: kind must be 'bidi' or 'uni', got ${JSON.stringify(kind)}`);
    let id: number;
    if (kind === 'uni') {
      id = this.nextClientUni;
      this.nextClientUni += 4;
    } else {
      id = this.nextClientBidi;
      this.nextClientBidi += 4;
    }
    const s = new MemoryStream(this, id, 'client', kind);
    this.streams.set(id, s);
    return s;
  }

  /** A stream the core opened (first action on a server id): recorded, kept for {@link acceptStream}. */
  serverOpened(id: number): MemoryStream {
    const s = new MemoryStream(this, id, 'server', (id & 2) === 2 ? 'uni' : 'bidi');
    this.streams.set(id, s);
    this.fromServer.push(s);
    for (const w of [...this.acceptWaiters]) w();
    return s;
  }

  acceptStream(timeoutMs: number): Promise<ClientStream | undefined> {
    const next = (): MemoryStream | undefined => (this.accepted < this.fromServer.length ? this.fromServer[this.accepted++] : undefined);
    const now = next();
    if (now || this.ended) return Promise.resolve(now);
    const { clock } = this.host;
    return new Promise((resolve) => {
      const done = (s: MemoryStream | undefined) => {
        clock.clearTimeout(timer);
        this.acceptWaiters.delete(wake);
        resolve(s);
      };
      const wake = () => {
        const s = next();
        if (s || this.ended) done(s);
      };
      const timer = clock.setTimeout(() => done(undefined), Math.max(0, timeoutMs));
      this.acceptWaiters.add(wake);
    });
  }

  serverStreams(): readonly ClientStream[] {
    return [...this.fromServer];
  }

  sendDatagram(bytes: Uint8Array): void {
    if (this.ended) throw new DriverError(`sendDatagram: connection ${this.conn} is closed`);
    if (this.maxDatagramSize === undefined) throw new DriverError(`sendDatagram: datagrams were not negotiated on connection ${this.conn} (connect with datagrams: true)`);
    if (bytes.byteLength > this.maxDatagramSize) throw new DriverError(`sendDatagram: ${bytes.byteLength} bytes exceed the peer's maximum DATAGRAM payload of ${this.maxDatagramSize} bytes (RFC 9221 §3)`);
    this.emit({ type: 'dgram', t: 0, conn: this.conn, dir: 'c2s', hex: toHex(bytes) });
  }

  datagrams(): readonly Uint8Array[] {
    return this.rxDatagrams.map((d) => d.slice());
  }

  /** A DATAGRAM from the core: recorded and kept, or dropped (noted) when not negotiated or too large, as a QUIC stack would. */
  deliverDatagram(bytes: Uint8Array): void {
    if (this.ended) return;
    if (this.maxDatagramSize === undefined || bytes.byteLength > this.maxDatagramSize) {
      this.trace.note(`memory conn ${this.conn}: server DATAGRAM of ${bytes.byteLength} bytes dropped (${this.maxDatagramSize === undefined ? 'datagrams not negotiated' : `over ${this.maxDatagramSize} bytes`})`);
      return;
    }
    this.rxDatagrams.push(bytes.slice());
    this.trace.record({ type: 'dgram', conn: this.conn, dir: 's2c', hex: toHex(bytes) });
  }

  async close(code = 0, reason = ''): Promise<void> {
    if (!Number.isSafeInteger(code) || code < 0) throw new RangeError(`close: code must be an integer ≥ 0, got ${String(code)}`);
    if (this.ended) return;
    this.end({ conn: this.conn, by: 'client', isApp: true, code, reason: reason.slice(0, 256) });
  }

  /** The core's action on this connection (QUIC mode). */
  serverAction(act: Exclude<ServerAction, { readonly type: 'log' }>): void {
    if (this.ended) return;
    switch (act.type) {
      case 'send': {
        let s = this.streams.get(act.stream);
        if (!s) {
          if ((act.stream & 1) === 0) return; // A client stream the client never opened: nothing to deliver to.
          s = this.serverOpened(act.stream);
        }
        s.deliver(act.bytes);
        return;
      }
      case 'fin': {
        let s = this.streams.get(act.stream);
        if (!s && (act.stream & 1) === 1) s = this.serverOpened(act.stream);
        s?.serverFin();
        return;
      }
      case 'stop_sending':
        this.streams.get(act.stream)?.serverStopSending(act.code);
        return;
      case 'dgram':
        this.deliverDatagram(act.bytes);
        return;
      case 'reset':
        this.streams.get(act.stream)?.serverReset(act.code);
        return;
      case 'close':
        this.serverClose(act.code, act.reason);
        return;
    }
  }

  /** The server closes the connection (a `close` action, or the target's stop). */
  serverClose(code: number, reason: string): void {
    this.end({ conn: this.conn, by: 'server', isApp: true, code, reason: reason.slice(0, 256) });
  }

  /** True once the core's side is gone (no more actions for it). */
  get serverGone(): boolean {
    return this.ended;
  }

  /** Records `conn_close`, ends every stream, tells the core (whoever closed). */
  end(info: CloseInfo): void {
    if (this.ended) return;
    this.ended = true;
    this.trace.record<ConnCloseEvent>({ type: 'conn_close', ...info });
    for (const s of this.streams.values()) s.connectionClosed();
    for (const w of [...this.acceptWaiters]) w();
    this.host.feed({ type: 'conn_close', t: 0, conn: this.serverConn, by: info.by, isApp: info.isApp, code: info.code, reason: info.reason });
    this.host.forget(this);
    this.resolveClosed(info);
  }

  /** Records a client event and feeds the core the same event (server's view). */
  emit(ev: Exclude<TraceEvent, NoteEvent>): void {
    this.trace.record(ev);
    this.host.feed({ ...ev, conn: this.serverConn });
  }
}

/** One stream of a {@link MemoryConnection}. */
class MemoryStream implements ClientStream {
  private readonly rx = new ReceiveBuffer();
  private opened: boolean;
  private writeOpen: boolean;
  private readOpen: boolean;

  constructor(
    private readonly owner: MemoryConnection,
    readonly id: number,
    readonly by: 'client' | 'server',
    readonly kind: StreamKind,
  ) {
    this.opened = by === 'server';
    // A uni stream carries data from its opener only (RFC 9000 §2.1).
    this.writeOpen = kind === 'bidi' || by === 'client';
    this.readOpen = kind === 'bidi' || by === 'server';
    if (by === 'server') owner.trace.record({ type: 'stream_open', conn: owner.conn, stream: id, by: 'server', ...(kind === 'uni' ? { dir: 'uni' as const } : {}) });
  }

  get conn(): number {
    return this.owner.conn;
  }

  get readEnded(): boolean {
    return !this.readOpen;
  }

  get receivedLength(): number {
    return this.rx.length;
  }

  received(): Uint8Array {
    return this.rx.copy();
  }

  private check(op: string): void {
    if (this.owner.isClosed) throw new DriverError(`${op} on stream ${this.id}: connection closed`);
    if (this.kind === 'uni' && this.by === 'server') throw new DriverError(`${op} on stream ${this.id}: a server-opened unidirectional stream carries no client data (RFC 9000 §2.1)`);
    if (!this.writeOpen) throw new DriverError(`${op} on stream ${this.id}: sending side already closed`);
  }

  private recordOpen(): void {
    if (this.opened) return;
    this.opened = true;
    this.owner.emit({ type: 'stream_open', t: 0, conn: this.owner.conn, stream: this.id, by: 'client', ...(this.kind === 'uni' ? { dir: 'uni' as const } : {}) });
  }

  async write(bytes: Uint8Array): Promise<void> {
    this.check('write');
    if (bytes.byteLength === 0) return;
    this.recordOpen();
    this.owner.emit({ type: 'data', t: 0, conn: this.owner.conn, stream: this.id, dir: 'c2s', hex: toHex(bytes) });
  }

  async end(): Promise<void> {
    this.check('end');
    this.recordOpen();
    this.writeOpen = false;
    this.owner.emit({ type: 'stream_fin', t: 0, conn: this.owner.conn, stream: this.id, dir: 'c2s' });
  }

  reset(code: number): void {
    if (this.kind === 'uni' && this.by === 'server') throw new DriverError(`reset(${String(code)}) on stream ${this.id}: a server-opened unidirectional stream has no client sending side (RFC 9000 §2.1)`);
    if (this.owner.isClosed || !this.writeOpen) {
      this.owner.trace.note(`memory conn ${this.owner.conn}: reset(${code}) on stream ${this.id} not sent: sending side already closed`);
      return;
    }
    this.recordOpen();
    this.writeOpen = false;
    this.owner.emit({ type: 'stream_reset', t: 0, conn: this.owner.conn, stream: this.id, dir: 'c2s', kind: 'reset', code });
  }

  stopSending(code: number): void {
    if (this.kind === 'uni' && this.by === 'client') throw new DriverError(`stopSending(${String(code)}) on stream ${this.id}: a client-opened unidirectional stream has no receiving side (RFC 9000 §2.1)`);
    if (this.owner.isClosed || !this.readOpen) {
      this.owner.trace.note(`memory conn ${this.owner.conn}: stopSending(${code}) on stream ${this.id} not sent: receiving side already closed`);
      return;
    }
    this.recordOpen();
    this.readOpen = false;
    this.owner.emit({ type: 'stream_reset', t: 0, conn: this.owner.conn, stream: this.id, dir: 's2c', kind: 'stop_sending', code });
  }

  /** Bytes from the core. */
  deliver(bytes: Uint8Array): void {
    if (!this.readOpen || this.owner.isClosed) return;
    this.rx.append(bytes);
    this.owner.trace.record({ type: 'data', conn: this.owner.conn, stream: this.id, dir: 's2c', hex: toHex(bytes) });
  }

  /** The core ended its side (FIN). */
  serverFin(): void {
    if (!this.readOpen || this.owner.isClosed) return;
    this.readOpen = false;
    this.owner.trace.record({ type: 'stream_fin', conn: this.owner.conn, stream: this.id, dir: 's2c' });
  }

  /** The core aborted the stream (RESET_STREAM + STOP_SENDING), as the QUIC host does. */
  serverReset(code: number): void {
    if (this.owner.isClosed) return;
    if (this.readOpen) {
      this.readOpen = false;
      this.owner.trace.record({ type: 'stream_reset', conn: this.owner.conn, stream: this.id, dir: 's2c', kind: 'reset', code });
    }
    if (this.writeOpen) {
      this.writeOpen = false;
      this.owner.trace.record({ type: 'stream_reset', conn: this.owner.conn, stream: this.id, dir: 'c2s', kind: 'stop_sending', code });
    }
  }

  /** The core asked the client to stop sending (STOP_SENDING, RFC 9000 §19.5): the client's side is closed from here. */
  serverStopSending(code: number): void {
    if (this.owner.isClosed || !this.writeOpen) return;
    this.writeOpen = false;
    this.owner.trace.record({ type: 'stream_reset', conn: this.owner.conn, stream: this.id, dir: 'c2s', kind: 'stop_sending', code });
  }

  connectionClosed(): void {
    this.readOpen = false;
    this.writeOpen = false;
  }
}

/**
 * One connection in TCP mode (module docstring): two views of it
 * (tcp/close-semantics.ts), the client's recorded in the case's trace, the
 * server's fed to the core; its one stream 0 is the connection itself.
 */
class MemoryTcpConnection implements ClientConnection, ClientStream {
  readonly closed: Promise<CloseInfo>;
  private resolveClosed!: (info: CloseInfo) => void;
  /** The client's view (what drivers/tcp.ts records) and the server's (what tcp/server-host.ts feeds its core). */
  private readonly client: TcpViewHolder;
  private readonly server: TcpViewHolder;
  private readonly rx = new ReceiveBuffer();
  readonly id = TCP_STREAM_ID;
  readonly by = 'client' as const;
  readonly kind = 'bidi' as const;
  readonly maxDatagramSize: number | undefined = undefined;

  constructor(
    readonly host: MemoryHost,
    readonly trace: TraceRecorder,
    /** Trace connection index (client's view). */
    readonly conn: number,
    /** The core's connection id (unique over the target's life). */
    readonly serverConn: number,
  ) {
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.client = { view: tcpView(conn, 'client', { answerPeerFin: true }) };
    this.server = { view: tcpView(serverConn, 'server', { answerPeerFin: false }) };
  }

  get isClosed(): boolean {
    return this.client.view.closed;
  }

  get serverGone(): boolean {
    return this.server.view.closed;
  }

  get readEnded(): boolean {
    return !this.client.view.receiving;
  }

  get receivedLength(): number {
    return this.rx.length;
  }

  received(): Uint8Array {
    return this.rx.copy();
  }

  /** A happening on the client's side, recorded in the case's trace. */
  private onClient(h: TcpHappening): TcpApplied {
    return applyTcp(this.client, h, (ev) => {
      const rec = this.trace.record<TraceEvent>(ev);
      if (rec.type === 'conn_close') this.resolveClosed({ conn: rec.conn, by: rec.by, isApp: rec.isApp, code: rec.code, reason: rec.reason });
    });
  }

  /** A happening on the server's side: the core is fed what the TCP host feeds it (not the server's own s2c events). */
  private onServer(h: TcpHappening): TcpApplied {
    return applyTcp(this.server, h, (ev) => {
      if (ev.type === 'conn_close') this.host.forget(this);
      if (!('dir' in ev) || ev.dir === 'c2s') this.host.feed({ ...ev, t: 0 } as TraceEvent);
    });
  }

  /** Both sides have sent their FIN (or are gone): the socket closes on both ends. */
  private settleSockets(): void {
    const c = this.client.view;
    const sv = this.server.view;
    if ((c.closed || !c.sending) && (sv.closed || !sv.sending)) {
      this.onClient({ type: 'socket_closed' });
      this.onServer({ type: 'socket_closed' });
    }
  }

  /** A FIN from the client reaches the server (and the sockets close once both FINs are out). */
  private clientFinToServer(): void {
    this.onServer({ type: 'peer_fin' });
    this.settleSockets();
  }

  openStream(kind: StreamKind = 'bidi'): ClientStream {
    if (kind === 'uni') throw new DriverError('openStream(\'uni\'): TCP has no unidirectional streams (one byte stream per connection)');
    return this;
  }

  acceptStream(): Promise<ClientStream | undefined> {
    return Promise.resolve(undefined);
  }

  serverStreams(): readonly ClientStream[] {
    return [];
  }

  sendDatagram(bytes: Uint8Array): void {
    throw new DriverError(`sendDatagram(${String(bytes.byteLength)} bytes): datagrams were not negotiated on connection ${this.conn} (TCP has none)`);
  }

  datagrams(): readonly Uint8Array[] {
    return [];
  }

  async write(bytes: Uint8Array): Promise<void> {
    const hex = toHex(bytes);
    const d = this.onClient({ type: 'send', hex });
    if (d.refused !== undefined) throw new DriverError(d.refused);
    if (bytes.byteLength > 0 && d.complete) this.onServer({ type: 'receive', hex });
  }

  async end(): Promise<void> {
    const d = this.onClient({ type: 'local_fin' });
    if (d.refused !== undefined) throw new DriverError(d.refused);
    if (d.sendFin) this.clientFinToServer();
  }

  reset(code: number): void {
    if (this.client.view.closed) {
      this.trace.note(`memory conn ${this.conn}: reset(${code}) not sent: connection already closed`);
      return;
    }
    this.onClient({ type: 'local_reset', code, sent: true });
    this.onServer({ type: 'peer_reset' });
  }

  stopSending(code: number): void {
    throw new DriverError(`stopSending(${String(code)}): TCP has no STOP_SENDING (one byte stream per connection); use reset() or close()`);
  }

  async close(code = 0, reason = ''): Promise<void> {
    if (!Number.isSafeInteger(code) || code < 0) throw new RangeError(`close: code must be an integer ≥ 0, got ${String(code)}`);
    if (this.client.view.closed) return;
    const wasSending = this.client.view.sending;
    this.onClient({ type: 'local_close', code, reason: reason.slice(0, 256) });
    // The close sends our FIN after the queued bytes (drivers/tcp.ts).
    if (wasSending) this.clientFinToServer();
    else this.settleSockets();
  }

  /** The core's action on this connection (one stream: stream ids are ignored; no STOP_SENDING, no datagrams). */
  serverAction(act: Exclude<ServerAction, { readonly type: 'log' }>): void {
    switch (act.type) {
      case 'send': {
        const hex = toHex(act.bytes);
        if (act.bytes.byteLength === 0 || !this.onServer({ type: 'send', hex }).complete || this.server.view.closed) return;
        if (!this.client.view.receiving) return;
        this.deliver(act.bytes);
        this.onClient({ type: 'receive', hex });
        return;
      }
      case 'fin': {
        const d = this.onServer({ type: 'local_fin' });
        if (d.sendFin && d.complete) this.serverFinToClient();
        return;
      }
      case 'reset':
        if (!this.onServer({ type: 'announce' }).complete || this.server.view.closed) return;
        this.onServer({ type: 'local_reset', code: act.code, sent: true });
        this.onClient({ type: 'peer_reset' });
        return;
      case 'close':
        this.serverClose(act.code, act.reason);
        return;
      case 'stop_sending':
      case 'dgram':
        return;
    }
  }

  /** The server closes (a `close` action, or the target's stop): its `conn_close`, then its FIN reaches the client. */
  serverClose(code: number, reason: string): void {
    if (this.server.view.closed) return;
    const wasSending = this.server.view.sending;
    this.onServer({ type: 'local_close', code, reason: reason.slice(0, 256) });
    if (wasSending) this.serverFinToClient();
    else this.settleSockets();
  }

  /** A FIN from the server reaches the client, which answers with its own (drivers/tcp.ts). */
  private serverFinToClient(): void {
    const d = this.onClient({ type: 'peer_fin' });
    if (d.sendFin) this.onServer({ type: 'peer_fin' });
    this.settleSockets();
  }

  private deliver(bytes: Uint8Array): void {
    this.rx.append(bytes);
  }
}

/** The host side: feeds the core, executes its actions, keeps its one timer. */
class MemoryHost {
  readonly conns = new Map<number, MemoryConnection | MemoryTcpConnection>();
  private nextServerConn = 0;
  private stopped = false;
  /** The target's clock (timers of `acceptStream`, and the core's). */
  readonly clock: Clock;
  /** Feeds the core, polls it, executes its actions, keeps its one timer: the same loop as the QUIC and TCP hosts (engine/core-pump.ts), on the target's clock. */
  private readonly pumper: CorePump;

  /** The driver claims TCP: connections behave as drivers/tcp.ts records them (module docstring). */
  readonly tcp: boolean;

  constructor(opts: MemoryTargetOptions) {
    this.tcp = opts.transport === 'tcp';
    this.clock = opts.clock;
    const act = (a: Exclude<ServerAction, { readonly type: 'log' }>): void => {
      const c = this.conns.get(a.conn);
      if (c && !c.serverGone) c.serverAction(a);
    };
    const log = opts.log;
    this.pumper = new CorePump({
      core: opts.core,
      now: () => opts.clock.nowUs(),
      clock: opts.clock,
      wire: { send: act, fin: act, reset: act, close: act, stopSending: act, dgram: act },
      log: log ? (level, msg, data) => log({ level, msg, ...data }) : () => undefined,
    });
  }

  allocServerConn(): number {
    return this.nextServerConn++;
  }

  register(c: MemoryConnection | MemoryTcpConnection): void {
    this.conns.set(c.serverConn, c);
  }

  forget(c: MemoryConnection | MemoryTcpConnection): void {
    this.conns.delete(c.serverConn);
  }

  /** Feeds one event (server's view; `t` is replaced by the clock's time) and pumps. */
  feed(ev: TraceEvent): void {
    if (this.stopped) return;
    this.pumper.feed({ ...ev, t: this.clock.nowUs() } as TraceEvent);
  }

  stop(code: number, reason: string): void {
    for (const c of [...this.conns.values()]) c.serverClose(code, reason);
    this.stopped = true;
    this.pumper.stop();
  }

  get isStopped(): boolean {
    return this.stopped;
  }
}

/**
 * Creates an in-memory target around `opts.core`. Connections open at once
 * (no handshake time); a stopped target refuses connects (`ConnectError`).
 */
export function createMemoryTarget(opts: MemoryTargetOptions): MemoryTarget {
  const host = new MemoryHost(opts);
  const remote = opts.remote ?? 'memory';
  const driver: Driver = {
    transport: opts.transport ?? 'quic',
    async connect(trace: TraceRecorder, co: ConnectOptions): Promise<ClientConnection> {
      const conn = trace.allocConn();
      const offered = co.alpn ?? [];
      const accepted = opts.alpn;
      const alpn = accepted === undefined ? offered[0] : offered.find((a) => accepted.includes(a));
      const fail = (message: string): never => {
        trace.record({ type: 'conn_fail', conn, message });
        throw new ConnectError(`memory connect failed: ${message}`);
      };
      if (host.isStopped) fail('the in-memory server is stopped');
      if (accepted !== undefined && alpn === undefined) fail(`ALPN mismatch: the server accepts none of ${JSON.stringify(offered)}`);
      const maxDgram = opts.maxDatagramSize ?? MEMORY_MAX_DATAGRAM_SIZE;
      const c = host.tcp ? new MemoryTcpConnection(host, trace, conn, host.allocServerConn()) : new MemoryConnection(host, trace, conn, host.allocServerConn(), co.datagrams === true && maxDgram > 0 ? maxDgram : undefined);
      host.register(c);
      trace.record({ type: 'conn_open', conn, remote, ...(alpn !== undefined ? { alpn } : {}) });
      host.feed({ type: 'conn_open', t: 0, conn: c.serverConn, remote: 'client', ...(alpn !== undefined ? { alpn } : {}) });
      return c;
    },
  };
  return {
    driver,
    connect: { host: remote, port: 1, connectTimeoutMs: 3000, ...(opts.alpn ? { alpn: opts.alpn } : {}) },
    liveConnections: () => host.conns.size,
    stop: (code = 0, reason = '') => host.stop(code, reason),
  };
}
