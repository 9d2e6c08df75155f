/**
 * Adds what the protocol's codec decoded to the data events of a trace
 * (`frames`), by running the events through a fresh monitor.
 */
import type { TraceEvent } from '../engine/trace.js';
import type { Monitor } from '../engine/types.js';

/** Returns the events with `frames` on every data event the monitor could decode. */
export function* annotate(events: Iterable<TraceEvent>, monitor: Monitor): Generator<TraceEvent> {
  let index = 0;
  for (const ev of events) {
    monitor.feed(ev, index++);
    const frames = ev.type === 'data' ? monitor.decoded?.() : undefined;
    yield ev.type === 'data' && frames ? { ...ev, frames: [...frames] } : ev;
  }
}
