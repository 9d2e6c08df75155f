/**
 * The Moonpool client (the reference client's engine, and the suite's cases'): the pure {@link TransportProtocol}
 * (transport.ts) driven by a thin, self-driving driver —
 * the seed's `ClientTransport` with `request()`, `request()` with a timeout,
 * many requests in flight matched by correlation id, a `messages()` stream
 * of results and errors, and automatic reconnection with the seed's backoff
 * (SPEC §8, §9).
 *
 * The driver is everything this file does: it executes the protocol's
 * transmits on a {@link Connector} (node:net: reference-server/moonpool/client/connector.ts; the
 * harness's trace-recording driver in the suite's cases), feeds back what
 * the network does, and keeps one timer at `nextTimeout()`. All decisions
 * are the protocol's.
 */
import type { ClientConnection } from '../../harness/drivers/types.js';
import { fromHex, type TraceRecorder } from '../../harness/engine/trace.js';
import { MAX_TIMER_MS } from '../../harness/engine/util.js';
import { PONG, bytesEqual, describePayload, type Envelope } from './codec.js';
import { ClientClosedError, type RequestError, type TransportError } from './errors.js';
import { TransportProtocol, type LossPolicy, type TransportEvent, type TransportOptions } from './transport.js';
import type { MoonpoolProfile } from './profile.js';

/** What a connection reports to the driver. Each link reports at most one of `end` / `error`. */
export interface LinkEvents {
  /** Bytes arrived. */
  data(bytes: Uint8Array): void;
  /** The peer ended the stream (FIN) or closed the connection. */
  end(): void;
  /** The connection failed (reset, broken pipe). */
  error(message: string): void;
}

/** An open byte pipe to the server. */
export interface Link {
  /** Writes bytes (in order; errors are reported through {@link LinkEvents.error}). */
  write(bytes: Uint8Array): void;
  /** Closes the connection; no event is reported after it. */
  close(): void;
}

/** Opens links. */
export interface Connector {
  /** Where it connects, for messages (`tcp://127.0.0.1:4433`). */
  readonly description: string;
  /**
   * Opens a connection. Resolves once connected; rejects (with an Error
   * whose message says why) when it cannot connect. The protocol bounds the
   * attempt with its own connect timeout.
   */
  connect(events: LinkEvents): Promise<Link>;
}

/** Options of {@link MoonpoolClient}. */
export interface MoonpoolClientOptions {
  /** How to reach the server. */
  readonly connector: Connector;
  /** Limits and timers (requestTimeoutMs, reconnect*, maxPayloadBytes); defaults: the seed's. */
  readonly profile?: Partial<MoonpoolProfile>;
  /** Requests written on a lost connection: fail with ConnectionLost (default) or resend (MOONPOOL-8.3). */
  readonly onConnectionLoss?: LossPolicy;
  /** Deadline of one connect attempt (ms). Default 3000. */
  readonly connectTimeoutMs?: number;
  /** First correlation id (default 1). */
  readonly firstCorrelationId?: bigint;
  /** Clock in ms (default `performance.now()`); tests may pass their own. */
  readonly now?: () => number;
}

/** Options of one request. */
export interface RequestOptions {
  /** Request timeout (ms, MOONPOOL-8.2); default the profile's `requestTimeoutMs`; `Infinity` for none. */
  readonly timeoutMs?: number;
  /** Aborting it rejects the request with {@link RequestAbortedError}; a reply that still comes is stray. */
  readonly signal?: AbortSignal;
}

/** What {@link MoonpoolClient.messages} yields (MOONPOOL-9.2). */
export type ClientMessage =
  /** A request completed. */
  | { readonly type: 'reply'; readonly correlationId: bigint; readonly payload: Uint8Array; readonly rttMs: number }
  /** A request failed. */
  | { readonly type: 'failed'; readonly correlationId: bigint; readonly error: RequestError }
  /** A connection-level error (connect failure, loss, parse error); the client goes on. */
  | { readonly type: 'error'; readonly error: TransportError }
  /** A reply that matched no pending request (MOONPOOL-8.6). */
  | { readonly type: 'stray'; readonly correlationId: bigint; readonly payload: Uint8Array; readonly late: boolean }
  /** A connection is up / ended. */
  | { readonly type: 'connected'; readonly generation: number }
  | { readonly type: 'disconnected'; readonly generation: number; readonly error: TransportError; readonly retryAt: number | undefined };

/** The request was aborted through its signal. */
export class RequestAbortedError extends Error {
  readonly code = 'Aborted' as const;
  constructor(id: bigint) {
    super(`moonpool request #${id}: aborted`);
    this.name = 'RequestAbortedError';
  }
}

/** The server answered PING with something other than PONG. */
export class UnexpectedReplyError extends Error {
  readonly code = 'UnexpectedReply' as const;
  constructor(readonly payload: Uint8Array) {
    super(`moonpool ping: expected PONG, got ${describePayload(payload)}`);
    this.name = 'UnexpectedReplyError';
  }
}

/** Counters of a client's life. */
export interface ClientStats {
  readonly requests: number;
  readonly replies: number;
  readonly failures: number;
  readonly strays: number;
  readonly connects: number;
  readonly disconnects: number;
}

interface Waiter {
  resolve(payload: Uint8Array): void;
  reject(err: Error): void;
}

/** A subscriber of {@link MoonpoolClient.messages}. */
interface Subscriber {
  readonly queue: ClientMessage[];
  wake: (() => void) | undefined;
}


/**
 * A self-driving Moonpool client (see the module docstring). Connects on
 * the first request (or {@link connect}), reconnects by itself after a loss,
 * until {@link close}.
 */
export class MoonpoolClient {
  private readonly proto: TransportProtocol;
  private readonly connector: Connector;
  private readonly now: () => number;
  private readonly requestTimeoutMs: number;
  private readonly links = new Map<number, Link>();
  private readonly waiters = new Map<bigint, Waiter>();
  private readonly subscribers = new Set<Subscriber>();
  private readonly connectWaiters: { resolve(): void; reject(err: Error): void }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerAt: number | undefined;
  private pumping = false;
  private readonly outgoing = new Map<number, Uint8Array[]>();
  private flushQueued = false;
  private again = false;
  private closedFlag = false;
  private counts = { requests: 0, replies: 0, failures: 0, strays: 0, connects: 0, disconnects: 0 };

  constructor(opts: MoonpoolClientOptions) {
    const p = opts.profile ?? {};
    const protoOpts: TransportOptions = {
      ...(p.maxPayloadBytes !== undefined ? { maxPayloadBytes: p.maxPayloadBytes } : {}),
      backoff: { initialMs: p.reconnectInitialMs ?? 50, maxMs: p.reconnectMaxMs ?? 500, growth: p.reconnectGrowth ?? 1.2 },
      onConnectionLoss: opts.onConnectionLoss ?? 'fail',
      connectTimeoutMs: opts.connectTimeoutMs ?? 3_000,
      ...(opts.firstCorrelationId !== undefined ? { firstCorrelationId: opts.firstCorrelationId } : {}),
    };
    this.proto = new TransportProtocol(protoOpts);
    this.connector = opts.connector;
    this.now = opts.now ?? (() => performance.now());
    this.requestTimeoutMs = p.requestTimeoutMs ?? 5_000;
  }

  /**
   * Sends `payload` and resolves with the reply's payload (MOONPOOL-8.1).
   * @throws (rejects) TimeoutError, ConnectionLostError, ReadError, ParseError (§9),
   *   ClientClosedError, RequestAbortedError; RangeError for a payload over the limit.
   */
  request(payload: Uint8Array | string, opts: RequestOptions = {}): Promise<Uint8Array> {
    if (this.closedFlag) return Promise.reject(new ClientClosedError('moonpool request: the client is closed'));
    const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
    const timeoutMs = opts.timeoutMs ?? this.requestTimeoutMs;
    if (opts.signal?.aborted) return Promise.reject(new Error('moonpool request: aborted before it started'));
    let id: bigint;
    try {
      id = this.proto.request(bytes, this.now(), timeoutMs);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    this.counts.requests++;
    const promise = new Promise<Uint8Array>((resolve, reject) => {
      const onAbort = () => {
        if (!this.waiters.delete(id)) return;
        this.proto.cancel(id);
        this.pump();
        reject(new RequestAbortedError(id));
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.set(id, {
        resolve: (p) => {
          opts.signal?.removeEventListener('abort', onAbort);
          resolve(p);
        },
        reject: (e) => {
          opts.signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      });
    });
    this.pump();
    return promise;
  }

  /** `request()` with an explicit timeout (the seed's `get_reply_with_timeout`). */
  requestWithTimeout(payload: Uint8Array | string, timeoutMs: number): Promise<Uint8Array> {
    return this.request(payload, { timeoutMs });
  }

  /**
   * Sends PING and checks the reply is PONG (MOONPOOL-4.1).
   * @throws (rejects) what {@link request} does, or UnexpectedReplyError.
   */
  async ping(opts: RequestOptions = {}): Promise<void> {
    const reply = await this.request(new Uint8Array([0x50, 0x49, 0x4e, 0x47]), opts);
    if (!bytesEqual(reply, PONG)) throw new UnexpectedReplyError(reply);
  }

  /** Sends an envelope with no reply tracking (a reply to it is `stray`). */
  send(envelope: Envelope): void {
    this.proto.send(envelope, this.now());
    this.pump();
  }

  /**
   * Connects now (instead of on the first request) and resolves once a
   * connection is up; rejects with ClientClosedError if closed first. Keeps
   * retrying with backoff meanwhile; bound it with your own timeout.
   */
  connect(): Promise<void> {
    if (this.closedFlag) return Promise.reject(new ClientClosedError());
    if (this.proto.state === 'connected') return Promise.resolve();
    const p = new Promise<void>((resolve, reject) => this.connectWaiters.push({ resolve, reject }));
    this.proto.connect(this.now());
    this.pump();
    return p;
  }

  /**
   * Every reply, failure, stray reply and connection event from now on, in
   * order (MOONPOOL-9.2). The iterator goes on after recoverable errors and
   * ends when the client is closed.
   */
  messages(): AsyncIterableIterator<ClientMessage> {
    const sub: Subscriber = { queue: [], wake: undefined };
    this.subscribers.add(sub);
    const self = this;
    return {
      [Symbol.asyncIterator]() {
        return this;
      },
      async next(): Promise<IteratorResult<ClientMessage>> {
        for (;;) {
          const m = sub.queue.shift();
          if (m) return { value: m, done: false };
          if (self.closedFlag) {
            self.subscribers.delete(sub);
            return { value: undefined, done: true };
          }
          await new Promise<void>((r) => (sub.wake = r));
          sub.wake = undefined;
        }
      },
      async return(): Promise<IteratorResult<ClientMessage>> {
        self.subscribers.delete(sub);
        sub.wake?.();
        return { value: undefined, done: true };
      },
    };
  }

  /** Closes the connection; pending requests fail with ClientClosedError; message streams end. Idempotent. */
  async close(): Promise<void> {
    if (this.closedFlag) return;
    this.proto.close(this.now());
    this.pump();
    this.closedFlag = true;
    for (const l of this.links.values()) l.close();
    this.links.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.connectWaiters.splice(0)) w.reject(new ClientClosedError());
    for (const s of this.subscribers) s.wake?.();
  }

  /** Connection state of the protocol. */
  get state(): TransportProtocol['state'] {
    return this.proto.state;
  }

  /** Requests not yet completed. */
  get pendingCount(): number {
    return this.proto.pendingCount;
  }

  /** Counters. */
  get stats(): ClientStats {
    return { ...this.counts };
  }

  // --------------------------------------------------------------- driver

  /** Executes transmits, dispatches events, re-arms the timer; re-entrant calls are folded into one loop. */
  private pump(): void {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        for (let tx = this.proto.pollTransmit(); tx; tx = this.proto.pollTransmit()) {
          if (tx.type === 'write') this.queueWrite(tx.generation, tx.bytes);
          else if (tx.type === 'connect') this.startConnect(tx.generation);
          else {
            this.flushWrites();
            this.links.get(tx.generation)?.close();
            this.links.delete(tx.generation);
          }
        }
        for (let ev = this.proto.pollReceive(); ev; ev = this.proto.pollReceive()) this.dispatch(ev);
      } while (this.again);
    } finally {
      this.pumping = false;
    }
    this.arm();
  }

  /**
   * Writes made in the same tick go out as one write per connection, at the
   * end of the tick (a microtask): requests issued one by one by many
   * awaiting callers cost one syscall, not one each, and no latency.
   */
  private queueWrite(generation: number, bytes: Uint8Array): void {
    const parts = this.outgoing.get(generation);
    if (parts) parts.push(bytes);
    else this.outgoing.set(generation, [bytes]);
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flushWrites());
    }
  }

  private flushWrites(): void {
    this.flushQueued = false;
    for (const [generation, parts] of this.outgoing) {
      this.links.get(generation)?.write(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
    }
    this.outgoing.clear();
  }

  private startConnect(generation: number): void {
    this.counts.connects++;
    const events: LinkEvents = {
      data: (bytes) => {
        this.proto.handleReceived(generation, bytes, this.now());
        this.pump();
      },
      end: () => this.linkEnded(generation, { kind: 'eof' }),
      error: (message) => this.linkEnded(generation, { kind: 'error', message }),
    };
    this.connector.connect(events).then(
      (link) => {
        if (this.closedFlag || this.proto.generation !== generation || this.proto.state !== 'connecting') {
          link.close(); // Stale: timed out, superseded or closed meanwhile.
          return;
        }
        this.links.set(generation, link);
        this.proto.handleConnected(generation, this.now());
        this.pump();
      },
      (err: unknown) => {
        this.proto.handleConnectFailed(generation, this.now(), err instanceof Error ? err.message : String(err));
        this.pump();
      },
    );
  }

  private linkEnded(generation: number, cause: { kind: 'eof' } | { kind: 'error'; message: string }): void {
    const link = this.links.get(generation);
    this.links.delete(generation);
    link?.close();
    this.proto.handleDisconnected(generation, this.now(), cause);
    this.pump();
  }

  private dispatch(ev: TransportEvent): void {
    switch (ev.type) {
      case 'reply':
        this.counts.replies++;
        this.settle(ev.correlationId, (w) => w.resolve(ev.payload));
        break;
      case 'failed':
        this.counts.failures++;
        this.settle(ev.correlationId, (w) => w.reject(ev.error));
        break;
      case 'stray':
        this.counts.strays++;
        break;
      case 'connected':
        for (const w of this.connectWaiters.splice(0)) w.resolve();
        break;
      case 'disconnected':
        this.counts.disconnects++;
        break;
      case 'error':
        break;
    }
    for (const s of this.subscribers) {
      s.queue.push(ev);
      s.wake?.();
    }
  }

  private settle(id: bigint, fn: (w: Waiter) => void): void {
    const w = this.waiters.get(id);
    if (!w) return; // Aborted by its signal: the outcome is dropped.
    this.waiters.delete(id);
    fn(w);
  }

  private arm(): void {
    if (this.closedFlag) return;
    const at = this.proto.nextTimeout();
    if (at === undefined) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAt = undefined;
      return;
    }
    // A timer already due no later than needed stays: it fires, finds little to do, and re-arms.
    // (Re-arming on every request would cost a setTimeout per request.)
    if (!(this.timer && this.timerAt !== undefined && this.timerAt <= at)) {
      if (this.timer) clearTimeout(this.timer);
      this.timerAt = at;
      const delay = Math.min(MAX_TIMER_MS, Math.max(0, Math.ceil(at - this.now())));
      this.timer = setTimeout(() => {
        const due = this.timerAt ?? at;
        this.timer = undefined;
        this.timerAt = undefined;
        this.proto.handleTimeout(Math.max(this.now(), due)); // timers may fire a hair early
        this.pump();
      }, delay);
    }
    // Only pending requests keep the process alive; a reconnection loop alone does not.
    if (this.proto.pendingCount === 0) this.timer!.unref();
    else this.timer!.ref();
  }
}

/**
 * A {@link Connector} over the harness's recording drivers: each connection
 * is opened by `open` (e.g. the TCP driver's `connect`, or a case's
 * `ctx.connect`), so that `trace` holds every byte both ways and a monitor
 * can judge the server (the reference client's REPL, the suite's cases).
 * Bytes from the server are delivered outside the trace listener, in order,
 * so that a write the client makes in reply is recorded after them.
 * `onOpen` is told each new connection's trace index.
 */
export function recordedConnector(description: string, open: () => Promise<ClientConnection>, trace: TraceRecorder, onOpen?: (conn: number) => void): Connector {
  return {
    description,
    async connect(events: LinkEvents): Promise<Link> {
      const conn = await open();
      const stream = conn.openStream();
      onOpen?.(conn.conn);
      let done = false;
      const later = (fn: () => void) =>
        queueMicrotask(() => {
          if (!done) fn();
        });
      const unlisten = trace.listen((ev) => {
        if (done || !('conn' in ev) || ev.conn !== conn.conn) return;
        if (ev.type === 'data' && ev.dir === 's2c') {
          const bytes = fromHex(ev.hex);
          later(() => events.data(bytes));
        } else if (ev.type === 'stream_fin' && ev.dir === 's2c') {
          later(() => {
            done = true;
            unlisten();
            events.end();
          });
        } else if (ev.type === 'conn_close' && ev.by !== 'client') {
          later(() => {
            done = true;
            unlisten();
            if (ev.reason === 'reset' || ev.by === 'transport') events.error(ev.reason || 'connection error');
            else events.end();
          });
        }
      });
      return {
        write(bytes) {
          if (!done) stream.write(bytes).catch(() => undefined); // A failed write shows up as the connection's end.
        },
        close() {
          done = true;
          unlisten();
          void conn.close(0, 'moonpool client: closed');
        },
      };
    },
  };
}
