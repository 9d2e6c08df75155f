/**
 * Clocks for the case runner: the real one (monotonic `performance.now()`
 * and Node timers) and a virtual one for in-process runs of a Sans-I/O
 * server core, where time only moves when nothing else can happen (the
 * fuzzer runs thousands of cases per second that way; `bench/fuzz.ts`).
 */
import { nowUs } from './trace.js';
import { nextMacrotask } from './util.js';

/** A timer handle of a {@link Clock}: opaque; `unref` exists on real timers. */
export type ClockTimer = { unref?(): unknown } | number | object;

/**
 * Time and timers. `nowUs` is monotonic (µs, integer); `setTimeout` calls
 * `fn` once after at least `ms` milliseconds of this clock's time.
 */
export interface Clock {
  /** Current time in µs (integer, never decreasing). */
  nowUs(): number;
  setTimeout(fn: () => void, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer): void;
}

/** The process's clock: `performance.now()` and Node's timers. */
export const realClock: Clock = {
  nowUs,
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

interface VirtualTimer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** The virtual clock made no progress: work is waiting on something outside it. */
export class VirtualClockStall extends Error {
  readonly code = 'VIRTUAL_CLOCK_STALL' as const;
  constructor(message: string) {
    super(message);
    this.name = 'VirtualClockStall';
  }
}

/**
 * Virtual time (discrete-event): timers fire in order of due time (then of
 * creation) when {@link run} finds nothing else to do. Nothing here reads a
 * real clock; the same inputs give the same schedule.
 *
 * Only code that takes its time and timers from this clock may run under
 * it: a real timer or socket in the work makes {@link run} stall (it then
 * rejects with {@link VirtualClockStall} instead of hanging).
 */
export class VirtualClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers: VirtualTimer[] = [];

  /** @param startUs initial time (µs). */
  constructor(startUs = 0) {
    this.t = startUs;
  }

  nowUs(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): ClockTimer {
    return this.setTimeoutUs(fn, Math.max(0, Math.ceil(Number.isFinite(ms) ? ms : 0) * 1000));
  }

  /** Like {@link setTimeout}, with the delay in µs (exact: for loops that fire a core's timer at its very µs, engine/sim.ts). */
  setTimeoutUs(fn: () => void, us: number): ClockTimer {
    const delayUs = Math.max(0, Math.ceil(Number.isFinite(us) ? us : 0));
    const timer: VirtualTimer = { at: this.t + delayUs, seq: this.seq++, fn, cancelled: false };
    // Sorted insert (timers are few: a case arms a handful at a time).
    let i = this.timers.length;
    while (i > 0 && (this.timers[i - 1]!.at > timer.at || (this.timers[i - 1]!.at === timer.at && this.timers[i - 1]!.seq > timer.seq))) i--;
    this.timers.splice(i, 0, timer);
    return timer;
  }

  clearTimeout(timer: ClockTimer): void {
    const t = timer as Partial<VirtualTimer>;
    if (typeof t === 'object' && t !== null && 'cancelled' in t) t.cancelled = true;
  }

  /** Number of armed timers (cancelled ones are dropped lazily). */
  get pending(): number {
    return this.timers.filter((x) => !x.cancelled).length;
  }

  /** Due time (µs) of the earliest armed timer, or undefined when none. */
  nextDueUs(): number | undefined {
    while (this.timers[0]?.cancelled) this.timers.shift();
    return this.timers[0]?.at;
  }

  /**
   * Fires the earliest armed timer now, synchronously (time jumps to its due
   * time when later): a discrete-event step for loops that schedule their
   * own inputs (engine/sim.ts). Returns false when no timer is armed.
   */
  fireNext(): boolean {
    let next = this.timers.shift();
    while (next?.cancelled) next = this.timers.shift();
    if (next === undefined) return false;
    if (next.at > this.t) this.t = next.at;
    next.fn();
    return true;
  }

  /** Moves time forward to `us` (µs) with no timer firing (timers due by then fire on the next step); never backwards. */
  advanceTo(us: number): void {
    if (us > this.t) this.t = Math.round(us);
  }

  /** Moves time forward by `ms` with no timer firing before (timers due by then fire on the next {@link run} step). */
  skip(ms: number): void {
    this.t += Math.max(0, Math.round(ms * 1000));
  }

  /**
   * Awaits `work` while driving virtual time: whenever every promise
   * reaction has run and `work` is still pending, the earliest timer fires
   * (time jumps to its due time).
   * @throws VirtualClockStall when `work` is pending with no timer armed for `maxIdleTurns` turns.
   */
  async run<T>(work: Promise<T>, maxIdleTurns = 50): Promise<T> {
    let done = false;
    const settled = work.then(
      () => void (done = true),
      () => void (done = true),
    );
    void settled;
    let idle = 0;
    for (;;) {
      await nextMacrotask();
      if (done) return work;
      let next = this.timers.shift();
      while (next?.cancelled) next = this.timers.shift();
      if (next === undefined) {
        if (++idle > maxIdleTurns) throw new VirtualClockStall('virtual clock: the work is waiting and no timer is armed (a real timer or socket under a virtual clock?)');
        continue;
      }
      idle = 0;
      if (next.at > this.t) this.t = next.at;
      next.fn();
    }
  }
}
