/**
 * In-memory simulation of a server core (no sockets, virtual time): client
 * events scheduled at given times are fed to a {@link ServerCore}, its
 * timers fire in virtual time, and what it does comes out as trace events.
 * Used by the project's tests, by benchmarks of the Sans-I/O core, and by
 * the fuzz program builders to predict a conforming server ({@link predict}).
 */
import type { TraceEvent } from './trace.js';
import { actionToEvent, type ServerAction, type ServerCore } from './server-core.js';
import { CorePump } from './core-pump.js';
import { VirtualClock } from './clock.js';

/** Limit on simulation steps, so a core that keeps re-arming its timer at the same time is caught. */
const MAX_STEPS = 1_000_000;

/** A server event the simulation produced. */
export interface SimOutput {
  /** The event (server's view; `t` in µs). */
  readonly ev: TraceEvent;
  /** Index in the input of the latest input event at or before it (-1 before any). */
  readonly after: number;
  /** True when the core's timer, not an input event, caused it. */
  readonly timer: boolean;
  /** Rule id the action enforces, when the core's action names one (a close's `rule`); never parsed from a reason. */
  readonly rule?: string;
}

/**
 * The one simulation loop: the core runs under the same {@link CorePump}
 * as on a real host (engine/core-pump.ts), on a virtual clock whose only
 * timers are the pump's; inputs are fed at their times. Input for a
 * connection the core closed is dropped, as the network would. When an
 * input and the core's timer fall at the same time, `timerFirst` decides
 * which goes first.
 * @throws Error when the core throws, or makes no progress (a timer it
 *   leaves due after polling, or more than {@link MAX_STEPS} steps).
 */
function run(
  core: ServerCore,
  input: readonly TraceEvent[],
  endUs: number,
  timerFirst: boolean,
  onInput: (ev: TraceEvent) => void,
  onOutput: (out: SimOutput) => void,
): void {
  const closed = new Set<number>();
  const clock = new VirtualClock(0);
  let i = 0;
  let steps = 0;
  /** Whether the pump running now was started by the core's timer. */
  let byTimer = false;
  const emit = (act: Exclude<ServerAction, { readonly type: 'log' }>): void => {
    const ev = actionToEvent(act, clock.nowUs());
    if (!ev) return;
    if ('conn' in ev && closed.has(ev.conn)) return;
    onOutput({ ev, after: i - 1, timer: byTimer, ...(act.type === 'close' && act.rule !== undefined ? { rule: act.rule } : {}) });
    if (ev.type === 'conn_close') closed.add(ev.conn);
  };
  const pump = new CorePump({
    core,
    now: () => clock.nowUs(),
    clock,
    exactTimers: clock,
    wire: { send: emit, fin: emit, reset: emit, close: emit, stopSending: emit, dgram: emit },
    log: (_level, msg, data) => {
      // What a host only logs is a broken core here: the simulation stops with it.
      if (msg.endsWith(' threw')) throw new Error(`simulate: ${msg}: ${String(data?.['error'])}`);
      if (msg.startsWith('core timer still due')) throw new Error(`simulate: the core keeps its timer at ${String(data?.['next'])} µs without progress`);
    },
  });
  for (;;) {
    if (++steps > MAX_STEPS) throw new Error(`simulate: more than ${MAX_STEPS} steps`);
    const next = input[i];
    const tIn = next ? next.t : Infinity;
    const tTimer = clock.nextDueUs() ?? Infinity;
    if (Math.min(tIn, tTimer) > endUs) break;
    if (timerFirst ? tTimer <= tIn : tTimer < tIn) {
      byTimer = true;
      clock.fireNext();
    } else {
      i++;
      clock.advanceTo(next!.t);
      if ('conn' in next! && closed.has(next.conn) && next.type !== 'conn_open') continue;
      const ev = { ...next!, t: clock.nowUs() } as TraceEvent;
      onInput(ev);
      if (ev.type === 'conn_close') closed.add(ev.conn);
      byTimer = false;
      pump.feed(ev);
    }
  }
  pump.stop();
}

/**
 * Runs `core` against `input` (client-side events with absolute times, µs,
 * sorted) until `endUs`; returns one trace of both sides (a timer due at
 * the time of an input fires first).
 * @throws Error when the core makes no progress.
 */
export function simulate(core: ServerCore, input: readonly TraceEvent[], endUs: number): TraceEvent[] {
  const trace: TraceEvent[] = [];
  run(core, input, endUs, true, (ev) => trace.push(ev), (o) => trace.push(o.ev));
  return trace;
}

/**
 * What a conforming server does, and when, given client events (sorted by
 * `t`, µs) until `endUs`: the core's output only, each with the input it
 * follows (an input at the time of a timer goes first, so that a client
 * action is never predicted to lose a race it ties).
 * @throws Error when the core makes no progress.
 */
export function predict(core: ServerCore, input: readonly TraceEvent[], endUs: number): SimOutput[] {
  const out: SimOutput[] = [];
  run(core, input, endUs, false, () => undefined, (o) => out.push(o));
  return out;
}
