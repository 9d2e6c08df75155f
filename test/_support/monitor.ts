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

/**
 * Feeds `model` every event of `trace` (index = position), noting after each
 * how many connections it keeps (`trackedConnections()`, the Garou and Theta
 * models).
 * @returns the most connections kept at once, and how many are kept at the end.
 */
export function feedTracking(model: { feed(ev: TraceEvent, index: number): unknown; trackedConnections(): number }, trace: readonly TraceEvent[]): { most: number; end: number } {
  let most = 0;
  trace.forEach((ev, i) => {
    model.feed(ev, i);
    most = Math.max(most, model.trackedConnections());
  });
  return { most, end: model.trackedConnections() };
}
