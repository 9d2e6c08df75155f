/**
 * A monitor run over a whole trace, as `wirecheck validate` runs one: every
 * event fed in order, then time advanced to the end.
 */
import type { TraceEvent } from '../../harness/engine/trace.js';
import type { Monitor, Violation } from '../../harness/engine/types.js';

/**
 * Feeds `monitor` every event of `trace` (index = position), then advances
 * its time to `endUs` (µs).
 * @returns every violation reported, in the order reported.
 */
export function judgeTrace(monitor: Pick<Monitor, 'feed' | 'advance'>, trace: readonly TraceEvent[], endUs: number): Violation[] {
  const out: Violation[] = [];
  trace.forEach((ev, i) => out.push(...monitor.feed(ev, i)));
  out.push(...monitor.advance(endUs));
  return out;
}
