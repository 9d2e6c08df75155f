/**
 * A deadline that only bounds a test: when the awaited work hangs (a
 * regression), the test fails at once with a message naming what hung,
 * instead of waiting for tap's per-file timeout. It is not an assertion about
 * speed: choose `ms` far above anything a slow, loaded machine needs (the
 * project's tests assert no upper bound on elapsed wall time; speed goes to
 * bench/). The timer is cleared when the work settles, so it keeps nothing alive.
 */

/** Thrown by {@link within} when the work did not settle in time. */
export class TestDeadlineError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not settle within ${ms} ms (test deadline; the work hangs)`);
    this.name = 'TestDeadlineError';
  }
}

/**
 * Resolves or rejects as `work` does, or rejects with {@link TestDeadlineError}
 * after `ms` milliseconds (wall time) if it has not settled by then.
 */
export function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TestDeadlineError(what, ms)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
