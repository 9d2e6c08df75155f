/**
 * Deliberate faults for the Moonpool reference server: each one breaks one
 * rule family, so the project's tests can show that the suite (and the
 * simulation) catch it, and users can see what a failure looks like
 * (`wirecheck serve moonpool --fault NAME`). Each is the engine's one fault
 * shape (harness/engine/reference.ts {@link ReferenceFault}): it builds a
 * {@link ServerCore}, usually the conforming core wrapped so that it
 * rewrites, drops or adds actions.
 */
import type { ReferenceFault } from '../../harness/engine/reference.js';
import type { ServerAction, ServerCore } from '../../harness/engine/server-core.js';
import type { TraceEvent } from '../../harness/engine/trace.js';
import { bytesEqual, encodeEnvelopes, FrameDecoder, MAX_LENGTH_FIELD, PING, PONG, type Envelope } from '../../suites/moonpool/codec.js';
import { CLOSE_CODE, STREAM } from '../../suites/moonpool/model.js';
import type { MoonpoolProfile } from '../../suites/moonpool/profile.js';
import { MoonpoolServerCore } from './core.js';

/** A fault: its effect in one line, and how to build a core with it (the engine's shape). */
export type FaultSpec = ReferenceFault<MoonpoolProfile>;

const US = 1000;

/** A core that forwards to an inner core; faults override what they change. */
class Wrapped implements ServerCore {
  constructor(protected readonly inner: ServerCore) {}
  get sendTimeoutMs(): number | undefined {
    return this.inner.sendTimeoutMs;
  }
  handle(ev: TraceEvent): void {
    this.inner.handle(ev);
  }
  sendStalled(conn: number, stream: number, t: number): void {
    this.inner.sendStalled(conn, stream, t);
  }
  poll(t: number): ServerAction[] {
    return this.inner.poll(t);
  }
  nextTimer(): number | undefined {
    return this.inner.nextTimer();
  }
}

/** Rewrites every reply envelope of every send action (sends may carry several replies). */
function rewriteReplies(acts: ServerAction[], fn: (e: Envelope) => Envelope): ServerAction[] {
  return acts.map((a) => {
    if (a.type !== 'send') return a;
    const { envelopes } = new FrameDecoder(MAX_LENGTH_FIELD).push(a.bytes);
    return { ...a, bytes: encodeEnvelopes(envelopes.map(fn)) };
  });
}

/** Rewrites the correlation id of every reply to id + 1 (MOONPOOL-3.2). */
class WrongCorrelationId extends Wrapped {
  override poll(t: number): ServerAction[] {
    return rewriteReplies(this.inner.poll(t), (e) => ({ ...e, correlationId: BigInt.asUintN(64, e.correlationId + 1n) }));
  }
}

/** Answers PING with PING instead of PONG (MOONPOOL-4.1). */
class WrongPongPayload extends Wrapped {
  override poll(t: number): ServerAction[] {
    return rewriteReplies(this.inner.poll(t), (e) => (bytesEqual(e.payload, PONG) ? { ...e, payload: PING } : e));
  }
}

/**
 * The seed's cut bug, replies side: a request that arrives after the
 * connection was silent for `stallMs / 2` is taken as following a cut, and
 * the replies written in the next 100 ms are dropped instead of re-queued
 * (MOONPOOL-7.2).
 */
class DropRepliesAfterStall extends Wrapped {
  private readonly lastRx = new Map<number, number>();
  private readonly dropUntil = new Map<number, number>();
  constructor(inner: ServerCore, private readonly gapUs: number) {
    super(inner);
  }
  override handle(ev: TraceEvent): void {
    if (ev.type === 'conn_open') this.lastRx.set(ev.conn, ev.t);
    if (ev.type === 'data' && ev.dir === 'c2s') {
      const last = this.lastRx.get(ev.conn) ?? ev.t;
      if (ev.t - last >= this.gapUs) this.dropUntil.set(ev.conn, ev.t + 100 * US);
      this.lastRx.set(ev.conn, ev.t);
    }
    if (ev.type === 'conn_close') {
      this.lastRx.delete(ev.conn);
      this.dropUntil.delete(ev.conn);
    }
    super.handle(ev);
  }
  override poll(t: number): ServerAction[] {
    return this.inner.poll(t).filter((a) => !(a.type === 'send' && t <= (this.dropUntil.get(a.conn) ?? -1)));
  }
}

/**
 * The seed's cut bug, connection side: a connection silent for `stallMs / 2`
 * is taken as cut for good and closed — an idle timeout the profile does not
 * declare (MOONPOOL-7.1).
 */
class CloseStalledConnection extends Wrapped {
  private readonly lastRx = new Map<number, number>();
  constructor(inner: ServerCore, private readonly gapUs: number) {
    super(inner);
  }
  override handle(ev: TraceEvent): void {
    if (ev.type === 'conn_open' || (ev.type === 'data' && ev.dir === 'c2s')) this.lastRx.set(ev.conn, ev.t);
    if (ev.type === 'conn_close') this.lastRx.delete(ev.conn);
    super.handle(ev);
  }
  override poll(t: number): ServerAction[] {
    const out = this.inner.poll(t);
    for (const a of out) if (a.type === 'close') this.lastRx.delete(a.conn);
    for (const [conn, last] of [...this.lastRx]) {
      if (t < last + this.gapUs) continue;
      this.lastRx.delete(conn);
      const close: ServerAction = { type: 'close', conn, code: CLOSE_CODE.IDLE_TIMEOUT, reason: 'connection cut (treated as permanent)' };
      this.inner.handle({ type: 'conn_close', t, conn, by: 'server', isApp: true, code: close.code, reason: close.reason });
      out.push(close);
    }
    return out;
  }
  override nextTimer(): number | undefined {
    let next = this.inner.nextTimer();
    for (const last of this.lastRx.values()) next = next === undefined ? last + this.gapUs : Math.min(next, last + this.gapUs);
    return next;
  }
}

/**
 * Rewrites the reply envelopes of each connection in one poll as a whole
 * (a poll's sends may carry several replies each): `fn` gets a
 * connection's replies in order and returns those to send. The result is
 * one send per connection, where its first send was; none when empty.
 */
function rewritePerConn(acts: ServerAction[], fn: (conn: number, replies: Envelope[]) => Envelope[]): ServerAction[] {
  const byConn = new Map<number, Envelope[]>();
  for (const a of acts) {
    if (a.type !== 'send') continue;
    const list = byConn.get(a.conn) ?? [];
    list.push(...new FrameDecoder(MAX_LENGTH_FIELD).push(a.bytes).envelopes);
    byConn.set(a.conn, list);
  }
  const out: ServerAction[] = [];
  for (const a of acts) {
    if (a.type !== 'send') {
      out.push(a);
      continue;
    }
    const list = byConn.get(a.conn);
    if (list === undefined) continue; // Already sent with the connection's first send.
    byConn.delete(a.conn);
    const keep = fn(a.conn, list);
    if (keep.length) out.push({ ...a, bytes: encodeEnvelopes(keep) });
  }
  return out;
}

/** Counts the replies of each connection; forgets a connection once it ends. */
class CountingReplies extends Wrapped {
  protected readonly sent = new Map<number, number>();
  override handle(ev: TraceEvent): void {
    if (ev.type === 'conn_close') this.sent.delete(ev.conn);
    super.handle(ev);
  }
  /** Numbers the replies of `conn` 1, 2, … across polls; returns those `keep` accepts. */
  protected filterReplies(acts: ServerAction[], keep: (n: number) => boolean): ServerAction[] {
    return rewritePerConn(acts, (conn, replies) =>
      replies.filter(() => {
        const n = (this.sent.get(conn) ?? 0) + 1;
        this.sent.set(conn, n);
        return keep(n);
      }),
    );
  }
}

/** Stops answering on a connection after its 100th reply; the connection stays open (MOONPOOL-3.4, 4.2, 4.4). */
class StopAfter100 extends CountingReplies {
  override poll(t: number): ServerAction[] {
    return this.filterReplies(this.inner.poll(t), (n) => n <= 100);
  }
}

/** Drops every 7th reply of each connection (MOONPOOL-3.4, 4.2). */
class DropEvery7th extends CountingReplies {
  override poll(t: number): ServerAction[] {
    return this.filterReplies(this.inner.poll(t), (n) => n % 7 !== 0);
  }
}

/**
 * Answers pipelined requests in reverse order: the replies owed on a
 * connection at one moment are sent last first. Not a fault: MOONPOOL-3.4
 * lets replies come in any order (the client matches them by id). A
 * conforming variant, kept with the faults so that the tests show the suite
 * passes it.
 */
class ReorderPipelined extends Wrapped {
  override poll(t: number): ServerAction[] {
    return rewritePerConn(this.inner.poll(t), (_conn, replies) => replies.reverse());
  }
}

/** An abrupt end of a connection: TCP RST. */
const crash = (conn: number): ServerAction => ({ type: 'reset', conn, stream: STREAM, code: CLOSE_CODE.PARSE_ERROR });

/**
 * Crashes on a truncated frame: when a client ends or drops a connection in
 * the middle of an envelope, every connection is closed abruptly and every
 * later one is closed at once — the server stops serving (MOONPOOL-5.2, 5.3,
 * 6.3).
 */
class CrashOnTruncated extends Wrapped {
  private crashed = false;
  private readonly live = new Set<number>();
  private readonly out: ServerAction[] = [];
  constructor(private readonly core: MoonpoolServerCore) {
    super(core);
  }
  override handle(ev: TraceEvent): void {
    if (this.crashed) {
      if (ev.type === 'conn_open') this.out.push(crash(ev.conn));
      return;
    }
    if (ev.type === 'conn_open') this.live.add(ev.conn);
    const endsClient = (ev.type === 'stream_fin' && ev.dir === 'c2s') || (ev.type === 'conn_close' && ev.by === 'client') || (ev.type === 'stream_reset' && ev.dir === 'c2s');
    if (endsClient && this.core.partialRequestBytes(ev.conn) > 0) {
      this.crashed = true;
      this.live.delete(ev.conn);
      if (ev.type !== 'conn_close') this.out.push(crash(ev.conn));
      for (const c of this.live) this.out.push(crash(c));
      this.live.clear();
      return;
    }
    if (ev.type === 'conn_close') this.live.delete(ev.conn);
    super.handle(ev);
  }
  override poll(t: number): ServerAction[] {
    if (this.crashed) return this.out.splice(0);
    const acts = this.inner.poll(t);
    for (const a of acts) if (a.type === 'close') this.live.delete(a.conn);
    return acts;
  }
  override nextTimer(): number | undefined {
    return this.crashed ? (this.out.length ? 0 : undefined) : this.inner.nextTimer();
  }
}

/** The faults, by name (kebab-case, as `--fault` takes them). */
export const faults: Readonly<Record<string, FaultSpec>> = {
  'wrong-correlation-id': {
    description: 'replies with correlation id + 1 (MOONPOOL-3.2)',
    create: (p) => new WrongCorrelationId(new MoonpoolServerCore(p)),
  },
  'wrong-pong-payload': {
    description: 'answers PING with PING instead of PONG (MOONPOOL-4.1)',
    create: (p) => new WrongPongPayload(new MoonpoolServerCore(p)),
  },
  'drop-replies-after-stall': {
    description: 'drops the replies owed right after a silence of stallMs/2, as if the connection had been cut (MOONPOOL-7.2)',
    create: (p) => new DropRepliesAfterStall(new MoonpoolServerCore(p), (p.stallMs / 2) * US),
  },
  'close-stalled-connection': {
    description: 'closes a connection silent for stallMs/2: treats a stall as a permanent loss (MOONPOOL-7.1)',
    create: (p) => new CloseStalledConnection(new MoonpoolServerCore(p), (p.stallMs / 2) * US),
  },
  'accept-oversized': {
    description: 'accepts length fields over maxPayloadBytes and waits for the payload instead of closing (MOONPOOL-5.1)',
    create: (p) => new Wrapped(new MoonpoolServerCore({ ...p, maxPayloadBytes: MAX_LENGTH_FIELD })),
  },
  'stop-after-100': {
    description: 'stops answering on a connection after its 100th reply, leaving it open (MOONPOOL-4.4, 4.2)',
    create: (p) => new StopAfter100(new MoonpoolServerCore(p)),
  },
  'drop-every-7th': {
    description: 'drops every 7th reply of a connection (MOONPOOL-3.4, 4.2)',
    create: (p) => new DropEvery7th(new MoonpoolServerCore(p)),
  },
  'crash-on-truncated': {
    description: 'on a truncated frame closes every connection abruptly and stops serving (MOONPOOL-5.2, 5.3, 6.3)',
    create: (p) => new CrashOnTruncated(new MoonpoolServerCore(p)),
  },
};

/** Names of all faults. */
export const faultNames: readonly string[] = Object.keys(faults);

/**
 * Faults that only a long watch shows: the suite's "keeps doing X" cases
 * catch them (hundreds of requests on one connection); a bounded fuzz
 * program is not meant to last that long, so fuzz tests leave them out.
 */
export const LONG_WATCH_FAULTS: readonly string[] = ['stop-after-100', 'drop-every-7th'];

/**
 * Conforming variants of the reference server: another reading of the seed,
 * in the fault shape so that `--fault NAME` (and the tests) can start them.
 * Not listed with the faults (`wirecheck list --faults`): the suite must pass
 * them.
 */
export const variants: Readonly<Record<string, FaultSpec>> = {
  'reorder-pipelined': {
    description: 'answers pipelined requests last first, which MOONPOOL-3.4 allows (a conforming variant)',
    create: (p) => new ReorderPipelined(new MoonpoolServerCore(p)),
  },
};
