/** Small helpers shared by the QUIC tests (test/quic, test/hostile). */

/** Resolves once `pred()` holds (polled every 5 ms); rejects after `ms` (ms), naming `what`. */
export async function until(pred: () => boolean, what: string, ms = 5_000): Promise<void> {
  const end = performance.now() + ms;
  while (!pred()) {
    if (performance.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
