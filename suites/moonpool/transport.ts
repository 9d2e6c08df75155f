/**
 * The Moonpool client's transport protocol: a pure (Sans-I/O) state machine
 * — the seed's `TransportProtocol` with the request/reply, timeout and
 * reconnection logic of its `ClientTransport` and `TransportDriver` folded
 * in (SPEC §2, §3, §8, §9).
 *
 * Inputs are calls with the time passed in as a value (`now`, ms on any
 * monotonic clock): {@link TransportProtocol.request}, the network's
 * `handle*` calls and {@link TransportProtocol.handleTimeout}. Outputs are
 * polled: {@link TransportProtocol.pollTransmit} says what the driver must do
 * on the network (connect, write, close — each tagged with the connection
 * generation it is for), {@link TransportProtocol.pollReceive} what happened
 * (replies, failures, errors). {@link TransportProtocol.nextTimeout} is the
 * one timer a driver arms. No clock, no socket, no promise in here: the
 * same object runs under node:net (reference-server/moonpool/client/), under
 * the harness's trace-recording driver (suites/moonpool/cases/) and in the
 * deterministic simulation (suites/moonpool/sim.ts).
 */
import { DEFAULT_MAX_PAYLOAD, encodeEnvelope, FrameDecoder, MAX_CORRELATION_ID, type Envelope } from './codec.js';
import {
  ClientClosedError,
  ConnectionLostError,
  ParseError,
  ReadError,
  TimeoutError,
  type RequestError,
  type TransportError,
} from './errors.js';

/** Reconnection delays (MOONPOOL-8.4), ms. */
export interface BackoffPolicy {
  /** First delay. Seed: 50 ms. */
  readonly initialMs: number;
  /** Largest delay. Seed: 500 ms. */
  readonly maxMs: number;
  /** Factor applied after each failure. Seed: 1.2. */
  readonly growth: number;
}

/** The seed's reconnection constants (FoundationDB's). */
export const SEED_BACKOFF: BackoffPolicy = { initialMs: 50, maxMs: 500, growth: 1.2 };

/** What happens to requests already written on a connection that is lost (MOONPOOL-8.3). */
export type LossPolicy = 'fail' | 'resend';

/** Options of {@link TransportProtocol}. */
export interface TransportOptions {
  /** Largest payload sent or accepted (MOONPOOL-2.4). Default 1 MiB. */
  readonly maxPayloadBytes?: number;
  /** Reconnection delays. Default {@link SEED_BACKOFF}. */
  readonly backoff?: BackoffPolicy;
  /** Requests written on a lost connection: fail them (default) or write them again on the next one. */
  readonly onConnectionLoss?: LossPolicy;
  /** Deadline of one connect attempt (ms). Default 3000. */
  readonly connectTimeoutMs?: number;
  /** Reconnect by itself after a loss (default true); when false the next request reconnects. */
  readonly reconnect?: boolean;
  /** First correlation id handed out (default 1). Ids then count up, wrapping at 2^64. */
  readonly firstCorrelationId?: bigint;
}

/** An I/O command for the driver, tagged with the connection generation it is for. */
export type Transmit =
  /** Open a new connection; report back with `handleConnected` / `handleConnectFailed` and this generation. */
  | { readonly type: 'connect'; readonly generation: number }
  /** Write these bytes on the connection of `generation` (drop them if that connection is gone). */
  | { readonly type: 'write'; readonly generation: number; readonly bytes: Uint8Array }
  /** Close the connection of `generation` (its end is not to be reported back). */
  | { readonly type: 'close'; readonly generation: number; readonly reason: string };

/** What happened, in order (the seed's `poll_receive`, widened to results and errors). */
export type TransportEvent =
  /** A request completed with its reply. */
  | { readonly type: 'reply'; readonly correlationId: bigint; readonly payload: Uint8Array; /** ms from the request to its reply. */ readonly rttMs: number }
  /** A request failed; it is over. */
  | { readonly type: 'failed'; readonly correlationId: bigint; readonly error: RequestError }
  /** A connection-level error not tied to one request (connect failure, parse error, loss). */
  | { readonly type: 'error'; readonly error: TransportError }
  /** A reply matching no pending request (MOONPOOL-8.6); `late` when its request timed out. */
  | { readonly type: 'stray'; readonly correlationId: bigint; readonly payload: Uint8Array; readonly late: boolean }
  /** A connection is up. */
  | { readonly type: 'connected'; readonly generation: number }
  /** A connection ended; `error` says why; the next attempt is at `retryAt` (ms) unless undefined. */
  | { readonly type: 'disconnected'; readonly generation: number; readonly error: TransportError; readonly retryAt: number | undefined };

/** How a connection ended, as the driver saw it. */
export type DisconnectCause =
  /** The peer ended the stream (EOF / FIN / close). */
  | { readonly kind: 'eof' }
  /** A socket error (reset, broken pipe). */
  | { readonly kind: 'error'; readonly message: string };

/** Connection state. */
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'backoff' | 'closed';

interface Pending {
  readonly id: bigint;
  readonly bytes: Uint8Array;
  readonly madeAt: number;
  readonly deadline: number;
  readonly timeoutMs: number;
  /** Generation of the connection it was written on, if any. */
  written: number | undefined;
}

/** How many timed-out ids are remembered to tell late replies from unknown ones. */
const LATE_MEMORY = 4096;

/**
 * The client-side Moonpool protocol core. See the module docstring.
 * All `now` arguments are ms and must not decrease.
 */
export class TransportProtocol {
  private readonly max: number;
  private readonly backoff: BackoffPolicy;
  private readonly policy: LossPolicy;
  private readonly connectTimeoutMs: number;
  private readonly autoReconnect: boolean;
  private st: ConnectionState = 'idle';
  private gen = 0;
  private connectStartedAt = 0;
  private retryAt: number | undefined;
  private delay: number;
  /** The current connection delivered a byte (a working connection, MOONPOOL-8.4). */
  private healthy = false;
  private decoder: FrameDecoder;
  private readonly pending = new Map<bigint, Pending>();
  private readonly raw: Uint8Array[] = [];
  private readonly tx: Transmit[] = [];
  private readonly events: TransportEvent[] = [];
  private readonly timedOut = new Set<bigint>();
  private nextId: bigint;
  private connects = 0;

  constructor(opts: TransportOptions = {}) {
    this.max = opts.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD;
    this.backoff = opts.backoff ?? SEED_BACKOFF;
    if (!(this.backoff.initialMs > 0 && this.backoff.maxMs >= this.backoff.initialMs && this.backoff.growth >= 1)) {
      throw new RangeError(`TransportProtocol: backoff needs 0 < initialMs ≤ maxMs and growth ≥ 1, got ${JSON.stringify(this.backoff)}`);
    }
    this.policy = opts.onConnectionLoss ?? 'fail';
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 3_000;
    this.autoReconnect = opts.reconnect ?? true;
    this.nextId = opts.firstCorrelationId ?? 1n;
    this.delay = this.backoff.initialMs;
    this.decoder = new FrameDecoder(this.max);
  }

  // ------------------------------------------------------------ application

  /**
   * Starts a request: allocates a correlation id, writes the envelope at
   * once if connected, else when the next connection is up (connecting now
   * if idle). Its outcome comes out of {@link pollReceive} as `reply` or
   * `failed` with this id.
   * @param timeoutMs request timeout from `now` (MOONPOOL-8.2); Infinity for none.
   * @throws RangeError for a payload over `maxPayloadBytes` or a bad timeout; ClientClosedError after {@link close}.
   */
  request(payload: Uint8Array, now: number, timeoutMs: number = Infinity): bigint {
    if (this.st === 'closed') throw new ClientClosedError('moonpool request: the client is closed');
    if (!(timeoutMs > 0)) throw new RangeError(`moonpool request: timeoutMs must be > 0, got ${String(timeoutMs)}`);
    const id = this.allocateId();
    const bytes = encodeEnvelope({ correlationId: id, payload }, this.max);
    const p: Pending = { id, bytes, madeAt: now, deadline: now + timeoutMs, timeoutMs, written: undefined };
    this.pending.set(id, p);
    if (this.st === 'connected') this.write(p);
    else this.wantConnection(now);
    return id;
  }

  /**
   * Sends an envelope with no reply tracking (the seed's `send`): written now
   * if connected, else on the next connection. A reply to it is `stray`.
   * @throws RangeError for a payload over `maxPayloadBytes`; ClientClosedError after {@link close}.
   */
  send(envelope: Envelope, now: number): void {
    if (this.st === 'closed') throw new ClientClosedError('moonpool send: the client is closed');
    const bytes = encodeEnvelope(envelope, this.max);
    if (this.st === 'connected') this.tx.push({ type: 'write', generation: this.gen, bytes });
    else {
      this.raw.push(bytes);
      this.wantConnection(now);
    }
  }

  /** Asks for a connection now (no-op when connected, connecting or waiting out a backoff). */
  connect(now: number): void {
    if (this.st === 'closed') throw new ClientClosedError('moonpool connect: the client is closed');
    this.wantConnection(now);
  }

  /**
   * Forgets a pending request without an event (its caller gave up); a
   * reply that still comes is `stray` with `late: true`. Returns whether it
   * was pending.
   */
  cancel(id: bigint): boolean {
    const p = this.pending.get(id);
    if (!p) return false;
    this.pending.delete(id);
    if (p.written !== undefined) this.rememberTimedOut(id);
    return true;
  }

  /** Closes: every pending request fails with ClientClosedError, the connection is closed. Idempotent. */
  close(now: number): void {
    void now;
    if (this.st === 'closed') return;
    if (this.st === 'connected' || this.st === 'connecting') this.tx.push({ type: 'close', generation: this.gen, reason: 'client closed' });
    this.st = 'closed';
    this.retryAt = undefined;
    for (const p of this.pending.values()) this.events.push({ type: 'failed', correlationId: p.id, error: new ClientClosedError() });
    this.pending.clear();
    this.raw.length = 0;
  }

  // ---------------------------------------------------------------- network

  /** The connection of `generation` is up. Stale generations are ignored. */
  handleConnected(generation: number, now: number): void {
    if (generation !== this.gen || this.st !== 'connecting') return;
    void now;
    this.st = 'connected';
    this.healthy = false;
    this.decoder = new FrameDecoder(this.max);
    this.events.push({ type: 'connected', generation });
    for (const p of this.pending.values()) this.write(p);
    for (const bytes of this.raw.splice(0)) this.tx.push({ type: 'write', generation, bytes });
  }

  /** The connect attempt of `generation` failed (refused, unreachable). */
  handleConnectFailed(generation: number, now: number, message: string): void {
    if (generation !== this.gen || this.st !== 'connecting') return;
    const error = new ConnectionLostError(`moonpool connect failed: ${message}`);
    this.events.push({ type: 'error', error });
    this.scheduleRetry(now);
  }

  /** Bytes arrived on the connection of `generation`. */
  handleReceived(generation: number, bytes: Uint8Array, now: number): void {
    if (generation !== this.gen || this.st !== 'connected' || bytes.length === 0) return;
    if (!this.healthy) {
      this.healthy = true;
      this.delay = this.backoff.initialMs; // MOONPOOL-8.4: a working connection resets the backoff.
    }
    const { envelopes, error } = this.decoder.push(bytes);
    for (const e of envelopes) {
      const p = this.pending.get(e.correlationId);
      if (p && p.written === generation) {
        this.pending.delete(p.id);
        this.events.push({ type: 'reply', correlationId: p.id, payload: e.payload, rttMs: now - p.madeAt });
      } else {
        this.events.push({ type: 'stray', correlationId: e.correlationId, payload: e.payload, late: this.timedOut.has(e.correlationId) });
      }
    }
    if (error) {
      const pe = new ParseError(`moonpool: the server sent a malformed envelope: ${error.message}`, error);
      this.tx.push({ type: 'close', generation, reason: pe.message });
      this.lose(now, pe); // MOONPOOL-8.7
    }
  }

  /** The connection of `generation` ended (EOF or socket error). */
  handleDisconnected(generation: number, now: number, cause: DisconnectCause): void {
    if (generation !== this.gen || (this.st !== 'connected' && this.st !== 'connecting')) return;
    // A clean end inside a reply is the server's malformation (MOONPOOL-2.5, 8.7); a reset explains itself.
    const truncated = this.st === 'connected' && cause.kind === 'eof' ? this.decoder.finish() : undefined;
    let error: TransportError;
    if (truncated) error = new ParseError(`moonpool: the connection ended inside a reply: ${truncated.message}`, truncated);
    else if (cause.kind === 'error') error = new ReadError(`moonpool: connection error: ${cause.message}`);
    else error = new ConnectionLostError('moonpool: the server ended the connection');
    this.lose(now, error);
  }

  /** Time passed: fires request timeouts, the connect timeout and the reconnection delay. */
  handleTimeout(now: number): void {
    if (this.st === 'connecting' && now >= this.connectStartedAt + this.connectTimeoutMs) {
      this.tx.push({ type: 'close', generation: this.gen, reason: 'connect timed out' });
      this.events.push({ type: 'error', error: new TimeoutError(`moonpool connect: no connection within ${this.connectTimeoutMs} ms`, this.connectTimeoutMs) });
      this.scheduleRetry(now);
    }
    if (this.st === 'backoff' && this.retryAt !== undefined && now >= this.retryAt) this.startConnect(now);
    for (const p of [...this.pending.values()]) {
      if (p.deadline > now) continue;
      this.pending.delete(p.id);
      if (p.written !== undefined) this.rememberTimedOut(p.id);
      this.events.push({ type: 'failed', correlationId: p.id, error: new TimeoutError(`moonpool request #${p.id}: no reply within ${p.timeoutMs} ms`, p.timeoutMs) });
    }
  }

  // ---------------------------------------------------------------- polling

  /** The next I/O command, in order; undefined when there is none. */
  pollTransmit(): Transmit | undefined {
    return this.tx.shift();
  }

  /** The next event, in order; undefined when there is none. */
  pollReceive(): TransportEvent | undefined {
    return this.events.shift();
  }

  /** The earliest time (ms) at which {@link handleTimeout} has something to do; undefined for none. */
  nextTimeout(): number | undefined {
    let next: number | undefined;
    const at = (x: number) => (next = next === undefined ? x : Math.min(next, x));
    if (this.st === 'connecting') at(this.connectStartedAt + this.connectTimeoutMs);
    if (this.st === 'backoff' && this.retryAt !== undefined) at(this.retryAt);
    for (const p of this.pending.values()) if (Number.isFinite(p.deadline)) at(p.deadline);
    return next;
  }

  // ------------------------------------------------------------- inspection

  /** Connection state. */
  get state(): ConnectionState {
    return this.st;
  }

  /** Generation of the current (or last) connection; 0 before the first. */
  get generation(): number {
    return this.gen;
  }

  /** Requests not yet completed. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** The delay the next reconnection will wait (ms). */
  get nextDelayMs(): number {
    return this.delay;
  }

  /** Connect attempts started so far. */
  get connectAttempts(): number {
    return this.connects;
  }

  // --------------------------------------------------------------- internal

  private allocateId(): bigint {
    for (;;) {
      const id = this.nextId;
      this.nextId = id === MAX_CORRELATION_ID ? 0n : id + 1n;
      if (!this.pending.has(id)) return id; // MOONPOOL-3.1: never reuse an outstanding id.
    }
  }

  private write(p: Pending): void {
    p.written = this.gen;
    this.tx.push({ type: 'write', generation: this.gen, bytes: p.bytes });
  }

  private wantConnection(now: number): void {
    if (this.st === 'idle') this.startConnect(now);
  }

  private startConnect(now: number): void {
    this.gen++;
    this.connects++;
    this.st = 'connecting';
    this.connectStartedAt = now;
    this.retryAt = undefined;
    this.tx.push({ type: 'connect', generation: this.gen });
  }

  /** The current connection (or attempt) failed: waits out the backoff, then connects again (MOONPOOL-8.4). */
  private scheduleRetry(now: number): void {
    if (this.autoReconnect || this.pending.size > 0 || this.raw.length > 0) {
      this.st = 'backoff';
      this.retryAt = now + this.delay;
      this.delay = Math.min(this.backoff.maxMs, this.delay * this.backoff.growth);
    } else {
      this.st = 'idle';
      this.retryAt = undefined;
    }
  }

  /** The connected connection is lost with `error`: pending requests by policy (MOONPOOL-8.3), then the backoff. */
  private lose(now: number, error: TransportError): void {
    const generation = this.gen;
    if (error instanceof ParseError) this.events.push({ type: 'error', error });
    for (const p of [...this.pending.values()]) {
      if (p.written !== generation) continue;
      if (this.policy === 'resend') {
        p.written = undefined;
        continue;
      }
      this.pending.delete(p.id);
      this.events.push({ type: 'failed', correlationId: p.id, error });
    }
    this.scheduleRetry(now);
    this.events.push({ type: 'disconnected', generation, error, retryAt: this.retryAt });
  }

  private rememberTimedOut(id: bigint): void {
    this.timedOut.add(id);
    if (this.timedOut.size > LATE_MEMORY) {
      const first = this.timedOut.values().next();
      if (!first.done) this.timedOut.delete(first.value);
    }
  }
}
