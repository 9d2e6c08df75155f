/**
 * In-memory simulation of a server core (no sockets, virtual time): client
 * events scheduled at given times are fed to a {@link ServerCore}, its
 * timers fire in virtual time, and the result is one trace of both sides.
 * Used by the project's tests and by benchmarks of the Sans-I/O core.
 */
import type { TraceEvent } from './trace.js';
import { actionToEvent, type ServerCore } from './server-core.js';

/** Limit on simulation steps, so a core that keeps re-arming its timer at the same time is caught. */
const MAX_STEPS = 1_000_000;

/**
 * Runs `core` against `input` (client-side events with absolute times, µs,
 * sorted) until `endUs`. Input for a connection the core closed is dropped,
 * as the network would.
 * @throws Error when the core makes no progress (a timer that does not advance).
 */
export function simulate(core: ServerCore, input: readonly TraceEvent[], endUs: number): TraceEvent[] {
  const trace: TraceEvent[] = [];
  const closed = new Set<number>();
  let i = 0;
  let now = 0;
  let steps = 0;
  let lastTimer = -1;
  let sameTimer = 0;
  const pump = (t: number) => {
    for (const act of core.poll(t)) {
      const ev = actionToEvent(act, t);
      if (!ev) continue;
      if ('conn' in ev && closed.has(ev.conn)) continue;
      trace.push(ev);
      if (ev.type === 'conn_close') closed.add(ev.conn);
    }
  };
  for (;;) {
    if (++steps > MAX_STEPS) throw new Error(`simulate: more than ${MAX_STEPS} steps`);
    const next = input[i];
    const timer = core.nextTimer();
    const tIn = next ? next.t : Infinity;
    const tTimer = timer ?? Infinity;
    if (Math.min(tIn, tTimer) > endUs) break;
    if (tTimer <= tIn) {
      now = Math.max(now, tTimer);
      sameTimer = tTimer === lastTimer ? sameTimer + 1 : 0;
      lastTimer = tTimer;
      if (sameTimer > 1000) throw new Error(`simulate: the core keeps its timer at ${tTimer} µs without progress`);
      pump(now);
    } else {
      i++;
      now = Math.max(now, next!.t);
      if ('conn' in next! && closed.has(next.conn) && next.type !== 'conn_open') continue;
      const ev = { ...next!, t: now } as TraceEvent;
      trace.push(ev);
      core.handle(ev);
      if (ev.type === 'conn_close') closed.add(ev.conn);
      pump(now);
    }
  }
  return trace;
}
