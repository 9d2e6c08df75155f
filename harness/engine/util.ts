/**
 * Small transport-neutral helpers shared by drivers and hosts: timer limits,
 * bounded waits, error text, address formatting. No protocol knowledge.
 */

/** Longest delay a Node timer takes (ms); a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Does nothing (for `.catch(noop)` and initial callbacks). */
export function noop(): void {
  /* deliberately empty */
}

/** Message of any thrown value, without its stack (`err.message`, else its name, else `String(err)`). */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message || err.name : String(err);
}

/** `Name: message` of any thrown value, for log records. */
export function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** `host:port`, an IPv6 literal in brackets (RFC 3986 §3.2.2). */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${String(port)}` : `${host}:${String(port)}`;
}

/** How a bounded wait ended: `p` resolved, rejected, or the deadline came first. */
export type SettleOutcome = 'done' | 'error' | 'timeout';

/**
 * Waits for `p` at most `ms` (clamped to [0, {@link MAX_TIMER_MS}]).
 * Never rejects (a rejection of `p` is `'error'`, and handled) and leaves no
 * timer behind.
 */
export async function settleWithin(p: Promise<unknown>, ms: number): Promise<SettleOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), Math.min(MAX_TIMER_MS, Math.max(0, ms)));
  });
  try {
    return await Promise.race([p.then(() => 'done' as const, () => 'error' as const), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Sleeps `ms` (clamped to [0, {@link MAX_TIMER_MS}]); resolves `true` when
 * the time has passed, `false` at once when `signal` aborts (before or
 * during the sleep). Never rejects and leaves no timer or listener behind.
 */
export function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, Math.min(MAX_TIMER_MS, Math.max(0, ms)));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Resolves after the current macrotask, once pending microtasks (e.g. stream reads) have run. */
export function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * The bytes a stream has received so far, kept whole for cases and
 * fixtures (`ClientStream.received()`): appended chunk by chunk into one
 * buffer grown by doubling. Shared by the QUIC, TCP and in-memory drivers.
 */
export class ReceiveBuffer {
  private buf = new Uint8Array(64);
  private len = 0;

  /** Bytes held. */
  get length(): number {
    return this.len;
  }

  /** Appends `bytes` (copied). */
  append(bytes: Uint8Array): void {
    if (this.len + bytes.byteLength > this.buf.length) {
      const grown = new Uint8Array(Math.max(this.buf.length * 2, this.len + bytes.byteLength));
      grown.set(this.buf.subarray(0, this.len));
      this.buf = grown;
    }
    this.buf.set(bytes, this.len);
    this.len += bytes.byteLength;
  }

  /** A copy of everything held. */
  copy(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
