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
 * one: a single byte stream (id 0, the same object from every
 * `openStream()`), a client `reset()` is an RST that ends the connection
 * (`stream_reset`, then `conn_close` by the client, reason `reset`; the core
 * sees the `conn_close`, as the TCP host feeds it), a core's `reset` action ends
 * it too (`conn_close` by the server, reason `reset`), and `stopSending()`
 * throws (TCP has none).
 * One core serves every connection of every case, as one server process
 * would: state a faulty core leaks shows in the next case and the probe.
 */
import type { Clock, ClockTimer } from '../engine/clock.js';
import type { ServerAction, ServerCore } from '../engine/server-core.js';
import { toHex, type ConnCloseEvent, type NoteEvent, type TraceEvent, type TraceRecorder } from '../engine/trace.js';
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
}

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

  constructor(
    readonly host: MemoryHost,
    readonly trace: TraceRecorder,
    /** Trace connection index (client's view). */
    readonly conn: number,
    /** The core's connection id (unique over the target's life). */
    readonly serverConn: number,
  ) {
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  get isClosed(): boolean {
    return this.ended;
  }

  openStream(): ClientStream {
    if (this.host.tcp) {
      // TCP: one byte stream per connection, stream 0 (drivers/tcp.ts).
      const one = this.streams.get(0) ?? new MemoryStream(this, 0, 'client');
      this.streams.set(0, one);
      return one;
    }
    const id = this.nextClientBidi;
    this.nextClientBidi += 4;
    const s = new MemoryStream(this, id, 'client');
    this.streams.set(id, s);
    return s;
  }

  async close(code = 0, reason = ''): Promise<void> {
    if (!Number.isSafeInteger(code) || code < 0) throw new RangeError(`close: code must be an integer ≥ 0, got ${String(code)}`);
    if (this.ended) return;
    this.end({ conn: this.conn, by: 'client', isApp: true, code, reason: reason.slice(0, 256) });
  }

  /** Records `conn_close`, ends every stream, tells the core (whoever closed). */
  end(info: CloseInfo): void {
    if (this.ended) return;
    this.ended = true;
    this.trace.record<ConnCloseEvent>({ type: 'conn_close', ...info });
    for (const s of this.streams.values()) s.connectionClosed();
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
  private rx = new Uint8Array(64);
  private rxLen = 0;
  private opened: boolean;
  private writeOpen = true;
  private readOpen = true;

  constructor(
    private readonly owner: MemoryConnection,
    readonly id: number,
    by: 'client' | 'server',
  ) {
    this.opened = by === 'server';
    if (by === 'server') owner.trace.record({ type: 'stream_open', conn: owner.conn, stream: id, by: 'server' });
  }

  get conn(): number {
    return this.owner.conn;
  }

  get readEnded(): boolean {
    return !this.readOpen;
  }

  get receivedLength(): number {
    return this.rxLen;
  }

  received(): Uint8Array {
    return this.rx.slice(0, this.rxLen);
  }

  private check(op: string): void {
    if (this.owner.isClosed) throw new DriverError(`${op} on stream ${this.id}: connection closed`);
    if (!this.writeOpen) throw new DriverError(`${op} on stream ${this.id}: sending side already closed`);
  }

  private recordOpen(): void {
    if (this.opened) return;
    this.opened = true;
    this.owner.emit({ type: 'stream_open', t: 0, conn: this.owner.conn, stream: this.id, by: 'client' });
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
    if (this.owner.isClosed || !this.writeOpen) {
      this.owner.trace.note(`memory conn ${this.owner.conn}: reset(${code}) on stream ${this.id} not sent: sending side already closed`);
      return;
    }
    this.recordOpen();
    this.writeOpen = false;
    if (this.owner.host.tcp) {
      // TCP: an RST ends the connection (drivers/tcp.ts records both events); the server sees only the end (tcp/server-host.ts).
      this.owner.trace.record({ type: 'stream_reset', conn: this.owner.conn, stream: this.id, dir: 'c2s', kind: 'reset', code });
      this.owner.end({ conn: this.owner.conn, by: 'client', isApp: false, code: 0, reason: 'reset' });
      return;
    }
    this.owner.emit({ type: 'stream_reset', t: 0, conn: this.owner.conn, stream: this.id, dir: 'c2s', kind: 'reset', code });
  }

  stopSending(code: number): void {
    if (this.owner.host.tcp) throw new DriverError(`stopSending(${String(code)}): TCP has no STOP_SENDING (one byte stream per connection); use reset() or close()`);
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
    if (this.rxLen + bytes.byteLength > this.rx.length) {
      const grown = new Uint8Array(Math.max(this.rx.length * 2, this.rxLen + bytes.byteLength));
      grown.set(this.rx.subarray(0, this.rxLen));
      this.rx = grown;
    }
    this.rx.set(bytes, this.rxLen);
    this.rxLen += bytes.byteLength;
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

  connectionClosed(): void {
    this.readOpen = false;
    this.writeOpen = false;
  }
}

/** The host side: feeds the core, executes its actions, keeps its one timer. */
class MemoryHost {
  readonly conns = new Map<number, MemoryConnection>();
  private nextServerConn = 0;
  private timer: ClockTimer | undefined;
  private pumping = false;
  private again = false;
  private stopped = false;

  /** The driver claims TCP: connections behave as drivers/tcp.ts records them (module docstring). */
  readonly tcp: boolean;

  constructor(private readonly opts: MemoryTargetOptions) {
    this.tcp = opts.transport === 'tcp';
  }

  allocServerConn(): number {
    return this.nextServerConn++;
  }

  register(c: MemoryConnection): void {
    this.conns.set(c.serverConn, c);
  }

  forget(c: MemoryConnection): void {
    this.conns.delete(c.serverConn);
  }

  /** Feeds one event (server's view; `t` is replaced by the clock's time) and pumps. */
  feed(ev: TraceEvent): void {
    if (this.stopped) return;
    this.opts.core.handle({ ...ev, t: this.opts.clock.nowUs() } as TraceEvent);
    this.pump();
  }

  /** Polls the core and executes its actions until it has none, then re-arms the timer. */
  pump(): void {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        for (const act of this.opts.core.poll(this.opts.clock.nowUs())) this.execute(act);
      } while (this.again);
    } finally {
      this.pumping = false;
    }
    this.arm();
  }

  private arm(): void {
    const { clock, core } = this.opts;
    if (this.timer !== undefined) clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stopped) return;
    const next = core.nextTimer();
    if (next === undefined || !Number.isFinite(next)) return;
    const delayMs = Math.max(0, Math.ceil((next - clock.nowUs()) / 1000));
    this.timer = clock.setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, delayMs);
  }

  private execute(act: ServerAction): void {
    if (act.type === 'log') return;
    const c = this.conns.get(act.conn);
    if (!c || c.isClosed) return;
    switch (act.type) {
      case 'send': {
        let s = c.streams.get(act.stream);
        if (!s) {
          if ((act.stream & 1) === 0) return; // A client stream the client never opened: nothing to deliver to.
          s = new MemoryStream(c, act.stream, 'server');
          c.streams.set(act.stream, s);
        }
        s.deliver(act.bytes);
        return;
      }
      case 'fin':
        c.streams.get(act.stream)?.serverFin();
        return;
      case 'reset':
        if (this.tcp) c.end({ conn: c.conn, by: 'server', isApp: false, code: 0, reason: 'reset' });
        else c.streams.get(act.stream)?.serverReset(act.code);
        return;
      case 'close':
        c.end({ conn: c.conn, by: 'server', isApp: true, code: act.code, reason: act.reason.slice(0, 256) });
        return;
    }
  }

  stop(code: number, reason: string): void {
    for (const c of [...this.conns.values()]) c.end({ conn: c.conn, by: 'server', isApp: true, code, reason });
    this.stopped = true;
    if (this.timer !== undefined) this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
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
      const c = new MemoryConnection(host, trace, conn, host.allocServerConn());
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
