/**
 * Streams the peer opened, kept in the order they became known and handed
 * out one by one (`acceptStream` of the v2 transport contract,
 * drivers/types.ts). Nothing is dropped: a stream pushed before anyone
 * waits is kept until accepted.
 */
import { MAX_TIMER_MS } from '../engine/util.js';

/** A queue of peer-opened streams with bounded waits. */
export class StreamInbox<S> {
  private readonly streams: S[] = [];
  private accepted = 0;
  private readonly waiters = new Set<{ resolve(s: S | undefined): void; timer: NodeJS.Timeout }>();
  private closed = false;

  /** A new peer stream: handed to the oldest waiter, else kept. */
  push(s: S): void {
    this.streams.push(s);
    const waiter = this.waiters.values().next().value;
    if (waiter === undefined) return;
    this.waiters.delete(waiter);
    clearTimeout(waiter.timer);
    this.accepted++;
    waiter.resolve(s);
  }

  /**
   * The next stream not yet accepted; waits up to `timeoutMs` (ms, clamped
   * to the longest Node timer). Resolves undefined at the deadline or once
   * {@link close} was called. Never rejects.
   */
  accept(timeoutMs: number): Promise<S | undefined> {
    const ready = this.streams[this.accepted];
    if (ready !== undefined) {
      this.accepted++;
      return Promise.resolve(ready);
    }
    if (this.closed || !(timeoutMs > 0)) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter = {
        resolve,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          resolve(undefined);
        }, Math.min(timeoutMs, MAX_TIMER_MS)),
      };
      this.waiters.add(waiter);
    });
  }

  /** Every stream pushed so far, accepted or not, in order (a copy). */
  all(): S[] {
    return [...this.streams];
  }

  /** No more streams will come: pending and later waits resolve undefined (kept streams can still be accepted). */
  close(): void {
    this.closed = true;
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(undefined);
    }
    this.waiters.clear();
  }
}
