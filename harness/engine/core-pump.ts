/**
 * The loop every transport host runs around a Sans-I/O {@link ServerCore}
 * (aioquic's `transmit()` shape): feed an event, poll the core, execute its
 * actions in order, re-arm one timer for `core.nextTimer()`. Shared by the
 * QUIC and TCP hosts and the in-memory target (drivers/memory.ts, on a
 * virtual clock) so that the protections below exist once:
 * - a core that throws is logged, never fatal;
 * - a pump that re-enters itself (an action whose execution feeds an event)
 *   is turned into another round, not recursion;
 * - a core that keeps producing actions yields to I/O after
 *   {@link MAX_ACTIONS_PER_PUMP};
 * - a core whose timer is still due right after it was polled (it never
 *   fires it) is re-polled after 1, 2, 4 … ms up to
 *   {@link MAX_OVERDUE_BACKOFF_MS}, not on a 0 ms timer forever.
 */
import type { TraceEvent } from './trace.js';
import type { ServerAction, ServerCore } from './server-core.js';
import type { Clock, ClockTimer, VirtualClock } from './clock.js';
import { MAX_TIMER_MS, errorText } from './util.js';

/** Most actions executed in one synchronous pump before yielding to the event loop. */
export const MAX_ACTIONS_PER_PUMP = 10_000;
/** Longest back-off (ms) for a core whose timer is still due right after a poll. */
export const MAX_OVERDUE_BACKOFF_MS = 1_000;
/** With exact timers: polls of a timer still due at the same µs before it is reported (the simulation's limit). */
const MAX_OVERDUE_EXACT = 1_000;

/** Log levels of a host's structured log. */
export type PumpLogLevel = 'debug' | 'info' | 'warn';

/** An action of one type. */
type ActionOf<T extends ServerAction['type']> = Extract<ServerAction, { readonly type: T }>;

/**
 * The wire side of a host: how it performs each action. Each may throw
 * (logged). None is called once the pump is stopped.
 */
export interface WireActions {
  send(act: ActionOf<'send'>): void;
  fin(act: ActionOf<'fin'>): void;
  reset(act: ActionOf<'reset'>): void;
  close(act: ActionOf<'close'>): void;
  /** STOP_SENDING; a transport without it (TCP) leaves it out, and the pump logs and ignores the action. */
  stopSending?(act: ActionOf<'stop_sending'>): void;
  /** One DATAGRAM; a transport without it (TCP) leaves it out, and the pump logs and drops the action. */
  dgram?(act: ActionOf<'dgram'>): void;
}

/** What a {@link CorePump} needs from its host. */
export interface CorePumpOptions {
  readonly core: ServerCore;
  /** The host's clock: µs on the trace's time line. */
  readonly now: () => number;
  /** Performs the wire actions; `log` actions go to {@link log}, with `source: 'core'`. */
  readonly wire: WireActions;
  readonly log: (level: PumpLogLevel, msg: string, data?: Record<string, unknown>) => void;
  /**
   * Whether the core's `log` actions reach {@link log} (default true). A host
   * with no log sink sets false: they are then dropped before a record is
   * built (some cores log every chunk they receive).
   */
  readonly coreLogs?: boolean;
  /**
   * Timers of the pump (the core's one timer, deferred rounds): default the
   * process's clock; a `VirtualClock` for in-process runs. Its time base
   * may differ from {@link now}'s: only delays (ms) are taken from it.
   */
  readonly clock?: Clock;
  /**
   * Arm the core's timer at its exact µs (a {@link VirtualClock} only), not
   * at the next whole ms as Node's timers do: the simulation's predictions
   * (engine/sim.ts) are exact. The clock given here (the same as {@link clock}); default: none.
   */
  readonly exactTimers?: VirtualClock;
}

/** Runs a core for a host. Not re-entrant by design: see the module docstring. */
export class CorePump {
  private timer: ClockTimer | undefined;
  /** When {@link timer} fires, µs on {@link CorePumpOptions.now}'s line (Node's timers only; at or after this). */
  private timerAtUs = Number.NEGATIVE_INFINITY;
  /** Cancels the deferred round, when one is pending. */
  private deferred: (() => void) | undefined;
  /** Undefined: Node's timers (the hosts on sockets). */
  private readonly clock: Clock | undefined;
  private pumping = false;
  private again = false;
  /** `t` of the last `core.poll`; a timer at or before it is one the core failed to fire. */
  private lastPollT = Number.NEGATIVE_INFINITY;
  /** Consecutive re-arms for a timer the core left due (drives the back-off). */
  private overdueArms = 0;
  private stopped = false;

  constructor(private readonly opts: CorePumpOptions) {
    this.clock = opts.clock;
  }

  /** Runs `fn` after I/O: `setImmediate` with Node's timers, a 0 ms timer on a given clock. */
  private defer(fn: () => void): () => void {
    const clock = this.clock;
    if (clock === undefined) {
      const h = setImmediate(fn);
      return () => clearImmediate(h);
    }
    const t = clock.setTimeout(fn, 0);
    return () => clock.clearTimeout(t);
  }

  private setTimer(fn: () => void, ms: number): ClockTimer {
    return this.clock ? this.clock.setTimeout(fn, ms) : setTimeout(fn, ms);
  }

  private clearTimer(timer: ClockTimer): void {
    if (this.clock) this.clock.clearTimeout(timer);
    else clearTimeout(timer as NodeJS.Timeout);
  }

  /** Feeds one event the host observed, then pumps. */
  feed(ev: TraceEvent): void {
    try {
      this.opts.core.handle(ev);
    } catch (err) {
      this.opts.log('warn', 'core.handle threw', { event: ev.type, error: errorText(err) });
    }
    this.pump();
  }

  /** Tells the core a write stalled past its send timeout, then pumps. */
  sendStalled(conn: number, stream: number): void {
    try {
      this.opts.core.sendStalled(conn, stream, this.opts.now());
    } catch (err) {
      this.opts.log('warn', 'core.sendStalled threw', { conn, stream, error: errorText(err) });
    }
    this.pump();
  }

  /** Polls the core, executes its actions in order, and re-arms the single timer. */
  pump(): void {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    let executed = 0;
    try {
      do {
        this.again = false;
        let acts: ServerAction[];
        try {
          this.lastPollT = this.opts.now();
          const polled: unknown = this.opts.core.poll(this.lastPollT);
          acts = Array.isArray(polled) ? (polled as ServerAction[]) : [];
        } catch (err) {
          this.opts.log('warn', 'core.poll threw', { error: errorText(err) });
          acts = [];
        }
        for (const act of acts) {
          executed++;
          try {
            this.execute(act);
          } catch (err) {
            this.opts.log('warn', 'action failed', { action: (act as { type?: unknown }).type, error: errorText(err) });
          }
        }
      } while (this.again && executed < MAX_ACTIONS_PER_PUMP);
    } finally {
      this.pumping = false;
    }
    if (this.again && this.deferred === undefined && !this.stopped) {
      // The core keeps producing actions: yield to I/O, then continue.
      this.opts.log('warn', 'core produced many actions in one pump; deferring', { executed });
      this.deferred = this.defer(() => {
        this.deferred = undefined;
        this.pump();
      });
    }
    this.armTimer();
  }

  /** No more timers or deferred rounds (pumps asked for still run, for the host's final actions). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.timer = undefined;
    this.deferred?.();
    this.deferred = undefined;
  }

  /** Dispatches one action: logs to the host's log, wire actions to the host (not after stop). */
  private execute(act: ServerAction): void {
    const wire = this.opts.wire;
    switch (act.type) {
      case 'log':
        if (this.opts.coreLogs !== false) this.opts.log(act.level, act.msg, act.data ? { source: 'core', data: act.data } : { source: 'core' });
        return;
      case 'send':
        if (!this.stopped) wire.send(act);
        return;
      case 'fin':
        if (!this.stopped) wire.fin(act);
        return;
      case 'reset':
        if (!this.stopped) wire.reset(act);
        return;
      case 'close':
        if (!this.stopped) wire.close(act);
        return;
      case 'stop_sending':
        if (this.stopped) return;
        if (wire.stopSending) wire.stopSending(act);
        else this.opts.log('warn', 'stop_sending not supported by this transport: ignored', { conn: act.conn, stream: act.stream });
        return;
      case 'dgram':
        if (this.stopped) return;
        if (wire.dgram) wire.dgram(act);
        else this.opts.log('warn', 'datagram not supported by this transport: dropped', { conn: act.conn, bytes: act.bytes.byteLength });
        return;
      default: {
        const unknown: never = act;
        this.opts.log('warn', 'unknown action ignored', { action: (unknown as { type?: unknown }).type });
      }
    }
  }

  private armTimer(): void {
    if (this.stopped) {
      this.disarm();
      return;
    }
    let next: number | undefined;
    try {
      next = this.opts.core.nextTimer();
    } catch (err) {
      this.opts.log('warn', 'core.nextTimer threw', { error: errorText(err) });
      return;
    }
    if (next === undefined || !Number.isFinite(next)) {
      this.disarm();
      this.overdueArms = 0;
      return;
    }
    const exact = this.opts.exactTimers;
    if (exact) {
      this.disarm();
      // Exact: a timer still due right after a poll is polled again at the same µs (a core may need one more
      // poll to settle); only one that stays due for MAX_OVERDUE_EXACT polls is reported.
      this.overdueArms = next <= this.lastPollT ? this.overdueArms + 1 : 0;
      if (this.overdueArms > MAX_OVERDUE_EXACT) {
        this.opts.log('warn', 'core timer still due after poll; giving up', { next, polledAt: this.lastPollT });
        return;
      }
      this.timer = exact.setTimeoutUs(() => {
        this.timer = undefined;
        this.pump();
      }, next - this.opts.now());
      return;
    }
    const nowUs = this.opts.now();
    let delayMs = Math.min(MAX_TIMER_MS, Math.max(0, Math.ceil((next - nowUs) / 1000)));
    if (this.clock === undefined && this.timer !== undefined && next > this.lastPollT && this.timerAtUs <= next && this.timerAtUs > nowUs) {
      // Node's timers: the armed timer fires before `next` (then polls and re-arms), so it is kept. A core whose
      // deadline moves a little on every event (a receive timeout) would otherwise cost a clear and a set per event.
      this.overdueArms = 0;
      return;
    }
    this.disarm();
    if (next <= this.lastPollT) {
      // Polled at (or after) this time and still asked for: back off instead of spinning.
      this.overdueArms++;
      if (this.overdueArms === 1) this.opts.log('warn', 'core timer still due after poll; backing off', { next, polledAt: this.lastPollT });
      delayMs = Math.max(delayMs, Math.min(MAX_OVERDUE_BACKOFF_MS, 2 ** Math.min(this.overdueArms - 1, 20)));
    } else {
      this.overdueArms = 0;
    }
    this.timerAtUs = nowUs + delayMs * 1000;
    this.timer = this.setTimer(() => {
      this.timer = undefined;
      this.pump();
    }, delayMs);
  }

  /** Clears the core's timer, if armed. */
  private disarm(): void {
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.timer = undefined;
  }
}
