/**
 * The chaos proxy's per-direction pipeline: bytes (and the FIN, and the
 * close a `limit_data` decides) flow as ordered items through one stage per
 * toxic, then into the destination socket.
 *
 * Every stage keeps order: an item is never released before an earlier one
 * (TCP delivers in order; a delayed chunk holds back those behind it).
 * Stages are added at the end of the chain (nearest the socket) and removed
 * from anywhere; a removed stage hands what it held to the next one at once,
 * so a live connection feels the change immediately and loses nothing.
 */
import type { Rng } from './rng.js';
import type { Toxic } from './toxics.js';
import { MAX_TIMER_MS } from '../engine/util.js';

/** What flows through a pipe: bytes, the sender's FIN, or a close decided by a toxic. */
export type Item =
  | { readonly kind: 'data'; readonly buf: Buffer }
  | { readonly kind: 'end' }
  | { readonly kind: 'close'; readonly reason: string };

/** What a stage may do to its connection, and the facts it needs. */
export interface StageContext {
  /** Milliseconds, monotonic (`performance.now()`). */
  now(): number;
  /** This stage's own generator. */
  readonly rng: Rng;
  /** Whether a per-connection toxic applies to this connection (toxicity drawn once). */
  readonly enabled: boolean;
  /** Counts one application of the toxic (a connection or a chunk), for stats. */
  applied(): void;
  /** Closes the connection (FIN both ways), discarding what is held. */
  close(reason: string): void;
  /** Resets the connection: RST to the named legs, FIN to the other. */
  reset(client: boolean, server: boolean, reason: string): void;
}


function itemBytes(item: Item): number {
  return item.kind === 'data' ? item.buf.byteLength : 0;
}

/**
 * A stage: an ordered queue of items, each with its release time (ms,
 * monotonic; `Infinity` holds it until the stage is removed), and one timer
 * for the head of the queue.
 */
export abstract class Stage {
  private readonly queue: Array<{ item: Item; at: number }> = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Release time of the last item scheduled (items never overtake). */
  protected lastAt = 0;
  private held = 0;
  protected disposed = false;
  /**
   * Least time between two releases of this stage (ms). 0 (default): items
   * past their release time leave together. A stage whose items must reach
   * the socket as separate writes (slicer pieces) sets it: after a stalled
   * event loop its overdue items still leave this far apart, instead of in
   * one burst that the receiver reads as one chunk.
   */
  protected readonly minGapMs: number = 0;
  /** Earliest time of the next release (ms, monotonic): the last release + {@link minGapMs}. */
  private notBefore = -Infinity;

  constructor(
    readonly toxic: Toxic,
    protected readonly ctx: StageContext,
    private readonly out: (from: Stage, item: Item) => void,
  ) {}

  /** Takes the next item of the direction. */
  push(item: Item): void {
    if (this.disposed) return;
    this.accept(item);
  }

  /** Decides when `item` leaves (calls {@link schedule} for it or its pieces, or drops it). */
  protected abstract accept(item: Item): void;

  /** Releases `item` at `at` (ms) or later: never before an earlier item. */
  protected schedule(item: Item, at: number): void {
    const when = Math.max(at, this.lastAt);
    this.lastAt = when;
    const now = this.ctx.now();
    if (this.queue.length === this.head && when <= now && now >= this.notBefore) {
      this.released(now);
      this.out(this, item);
      return;
    }
    this.queue.push({ item, at: when });
    this.held += itemBytes(item);
    this.arm();
  }

  /** Bytes held by this stage. */
  heldBytes(): number {
    return this.held;
  }

  /** Stops the stage and returns what it held, in order (the pipe passes it on). */
  drain(): Item[] {
    this.dispose();
    const items = this.queue.slice(this.head).map((q) => q.item);
    this.queue.length = 0;
    this.head = 0;
    this.held = 0;
    return items;
  }

  /** Stops every timer of the stage; it releases nothing more. */
  dispose(): void {
    this.disposed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.onDispose();
  }

  /** Stops a stage's own extra timers. */
  protected onDispose(): void {
    /* none by default */
  }

  private arm(): void {
    if (this.timer !== undefined || this.disposed) return;
    const next = this.queue[this.head];
    if (next === undefined || next.at === Infinity) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(Math.max(next.at, this.notBefore) - this.ctx.now())));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.release();
    }, delay);
  }

  /** Notes a release at `now` (for {@link minGapMs}). */
  private released(now: number): void {
    if (this.minGapMs > 0) this.notBefore = now + this.minGapMs;
  }

  private release(): void {
    const now = this.ctx.now();
    while (!this.disposed && this.head < this.queue.length && this.queue[this.head]!.at <= now && now >= this.notBefore) {
      const { item } = this.queue[this.head]!;
      this.queue[this.head] = undefined as unknown as { item: Item; at: number };
      this.head++;
      this.held -= itemBytes(item);
      this.released(now);
      this.out(this, item);
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.arm();
  }
}

/** `latency`: each chunk (with probability `toxicity`) waits `latencyMs` ± `jitterMs`. */
class LatencyStage extends Stage {
  protected accept(item: Item): void {
    const t = this.toxic;
    if (t.type !== 'latency') return;
    const now = this.ctx.now();
    let delay = 0;
    if (this.ctx.rng.float() < t.toxicity) {
      this.ctx.applied();
      const jitter = t.jitterMs > 0 ? (this.ctx.rng.float() * 2 - 1) * t.jitterMs : 0;
      delay = Math.max(0, t.latencyMs + jitter);
    }
    this.schedule(item, now + delay);
  }
}

/** `bandwidth`: pieces of at most 1/20 s worth, each released after its transmission time. */
class BandwidthStage extends Stage {
  protected accept(item: Item): void {
    const t = this.toxic;
    if (t.type !== 'bandwidth') return;
    const now = this.ctx.now();
    if (!this.ctx.enabled || item.kind !== 'data') {
      this.schedule(item, now);
      return;
    }
    const piece = Math.max(1, Math.floor(t.bytesPerSecond / 20));
    let at = Math.max(this.lastAt, now);
    for (let off = 0; off < item.buf.byteLength; off += piece) {
      const buf = item.buf.subarray(off, off + piece);
      at += (buf.byteLength * 1000) / t.bytesPerSecond;
      this.schedule({ kind: 'data', buf }, at);
    }
  }
}

/** `stall`: everything waits until `durationMs` after the stage started, then flows. */
class StallStage extends Stage {
  private readonly until: number;

  constructor(toxic: Toxic, ctx: StageContext, out: (from: Stage, item: Item) => void) {
    super(toxic, ctx, out);
    this.until = ctx.now() + (toxic.type === 'stall' ? toxic.durationMs : 0);
  }

  protected accept(item: Item): void {
    const now = this.ctx.now();
    this.schedule(item, this.ctx.enabled ? Math.max(this.until, now) : now);
  }
}

/** `timeout`: holds everything until removed; closes the connection after `timeoutMs` (> 0). */
class TimeoutStage extends Stage {
  private closeTimer: NodeJS.Timeout | undefined;

  constructor(toxic: Toxic, ctx: StageContext, out: (from: Stage, item: Item) => void) {
    super(toxic, ctx, out);
    if (ctx.enabled && toxic.type === 'timeout' && toxic.timeoutMs > 0) {
      this.closeTimer = setTimeout(() => {
        this.closeTimer = undefined;
        if (!this.disposed) ctx.close(`timeout toxic ${toxic.name}`);
      }, toxic.timeoutMs);
    }
  }

  protected accept(item: Item): void {
    this.schedule(item, this.ctx.enabled ? Infinity : this.ctx.now());
  }

  protected override onDispose(): void {
    if (this.closeTimer !== undefined) clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
  }
}

/** `reset_peer`: passes everything; RST `delayMs` after the stage started. */
class ResetPeerStage extends Stage {
  private resetTimer: NodeJS.Timeout | undefined;

  constructor(toxic: Toxic, ctx: StageContext, out: (from: Stage, item: Item) => void) {
    super(toxic, ctx, out);
    if (ctx.enabled && toxic.type === 'reset_peer') {
      const fire = (): void => {
        this.resetTimer = undefined;
        if (this.disposed) return;
        const both = toxic.stream === 'both';
        ctx.reset(both || toxic.stream === 'downstream', both || toxic.stream === 'upstream', `reset_peer toxic ${toxic.name}`);
      };
      this.resetTimer = setTimeout(fire, toxic.delayMs);
    }
  }

  protected accept(item: Item): void {
    this.schedule(item, this.ctx.now());
  }

  protected override onDispose(): void {
    if (this.resetTimer !== undefined) clearTimeout(this.resetTimer);
    this.resetTimer = undefined;
  }
}

/** `slicer`: each chunk (with probability `toxicity`) in pieces of `averageSize` ± `sizeVariation`, `delayMs` apart. */
class SlicerStage extends Stage {
  /** Pieces leave `delayMs` apart even after a stall (as Toxiproxy's sleep between writes). */
  protected override readonly minGapMs = this.toxic.type === 'slicer' ? this.toxic.delayMs : 0;
  /** Earliest time the next item may leave (a pause after the last piece). */
  private nextFree = 0;

  protected accept(item: Item): void {
    const t = this.toxic;
    if (t.type !== 'slicer') return;
    const now = this.ctx.now();
    if (item.kind !== 'data' || !(this.ctx.rng.float() < t.toxicity)) {
      this.schedule(item, Math.max(now, this.nextFree));
      return;
    }
    this.ctx.applied();
    let at = Math.max(now, this.nextFree, this.lastAt);
    const buf = item.buf;
    for (let off = 0; off < buf.byteLength; ) {
      const want = t.averageSize + (t.sizeVariation > 0 ? this.ctx.rng.int(-t.sizeVariation, t.sizeVariation) : 0);
      const size = Math.min(Math.max(1, want), buf.byteLength - off);
      this.schedule({ kind: 'data', buf: buf.subarray(off, off + size) }, at);
      off += size;
      at += t.delayMs;
    }
    this.nextFree = at;
  }
}

/** `limit_data`: passes `bytes` bytes, then a close; drops the rest. */
class LimitDataStage extends Stage {
  private passed = 0;
  private done = false;

  protected accept(item: Item): void {
    const t = this.toxic;
    if (t.type !== 'limit_data' || this.done) return;
    const now = this.ctx.now();
    if (!this.ctx.enabled || item.kind !== 'data') {
      this.schedule(item, now);
      return;
    }
    const remaining = t.bytes - this.passed;
    if (item.buf.byteLength < remaining) {
      this.passed += item.buf.byteLength;
      this.schedule(item, now);
      return;
    }
    this.done = true;
    if (remaining > 0) this.schedule({ kind: 'data', buf: item.buf.subarray(0, remaining) }, now);
    this.passed = t.bytes;
    this.schedule({ kind: 'close', reason: `limit_data toxic ${t.name} (${String(t.bytes)} bytes)` }, now);
  }
}

/** A stage for `toxic` in one direction of one connection. */
export function createStage(toxic: Toxic, ctx: StageContext, out: (from: Stage, item: Item) => void): Stage {
  switch (toxic.type) {
    case 'latency':
      return new LatencyStage(toxic, ctx, out);
    case 'bandwidth':
      return new BandwidthStage(toxic, ctx, out);
    case 'stall':
      return new StallStage(toxic, ctx, out);
    case 'timeout':
      return new TimeoutStage(toxic, ctx, out);
    case 'reset_peer':
      return new ResetPeerStage(toxic, ctx, out);
    case 'slicer':
      return new SlicerStage(toxic, ctx, out);
    case 'limit_data':
      return new LimitDataStage(toxic, ctx, out);
  }
}

/**
 * One direction of one connection: the stages in order, then `sink` (the
 * destination socket). Counts the bytes inside so the source can be paused
 * when too much is held (a black hole then back-pressures the sender, as a
 * real one would).
 */
export class Pipe {
  private readonly stages: Stage[] = [];
  /** Bytes pushed in and not yet handed to the sink. */
  private inside = 0;

  constructor(
    private readonly sink: (item: Item) => void,
    /** Told whenever `inside` changes (for flow control). */
    private readonly onLevel: (bytesInside: number) => void,
  ) {}

  /** Bytes between the source and the sink. */
  get bytesInside(): number {
    return this.inside;
  }

  /** Names of the toxics with a stage here, in order. */
  names(): string[] {
    return this.stages.map((s) => s.toxic.name);
  }

  /** Feeds the next item from the source. */
  push(item: Item): void {
    this.inside += itemBytes(item);
    this.forward(0, item);
    this.onLevel(this.inside);
  }

  /** Appends a stage (nearest the sink): it sees every item that reaches the end of the chain from now on. */
  add(make: (out: (from: Stage, item: Item) => void) => Stage): void {
    this.stages.push(make((from, item) => this.emitFrom(from, item)));
  }

  /** Removes the stage of toxic `name`; what it held moves on at once, in order. Returns whether one was found. */
  remove(name: string): boolean {
    const idx = this.stages.findIndex((s) => s.toxic.name === name);
    if (idx < 0) return false;
    const [stage] = this.stages.splice(idx, 1);
    for (const item of stage!.drain()) this.forward(idx, item);
    this.onLevel(this.inside);
    return true;
  }

  /** Stops every stage (their held items are discarded). */
  dispose(): void {
    for (const s of this.stages.splice(0)) s.dispose();
    this.inside = 0;
  }

  private emitFrom(from: Stage, item: Item): void {
    const idx = this.stages.indexOf(from);
    if (idx < 0) return; // removed or disposed meanwhile
    this.forward(idx + 1, item);
    this.onLevel(this.inside);
  }

  private forward(idx: number, item: Item): void {
    const stage = this.stages[idx];
    if (stage) {
      stage.push(item);
      return;
    }
    this.inside -= itemBytes(item);
    this.sink(item);
  }
}
