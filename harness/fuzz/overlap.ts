/**
 * Overlapped closes: a {@link Driver} wrapper whose `close()` resolves as
 * soon as the connection's `conn_close` is in the trace (our CONNECTION_CLOSE
 * is on its way), while the transport's own teardown (QUIC waits out its
 * closing period, ~12 ms on loopback: bench/fuzz.ts) finishes in the
 * background, overlapped with the next case. Connection set-up and teardown
 * dominate a fuzz case over QUIC, and each case closes twice (the case, then
 * the liveness probe); a case never has to wait for the previous one's
 * teardown, only for its close to have been sent.
 */
import type { StreamKind, TraceRecorder } from '../engine/trace.js';
import type { ClientConnection, ClientStream, ConnectOptions, Driver } from '../drivers/types.js';

/** A driver with overlapped closes, and a way to wait for the teardowns still running. */
export interface OverlappedDriver {
  readonly driver: Driver;
  /** Resolves when every background teardown has finished, or after `deadlineMs` (default 5 s). */
  drain(deadlineMs?: number): Promise<void>;
  /** Teardowns still running. */
  pending(): number;
}

/** Resolves once `trace` holds a `conn_close` of connection `conn`. */
function closeRecorded(trace: TraceRecorder, conn: number): Promise<void> {
  const has = () => trace.events.some((e) => e.type === 'conn_close' && e.conn === conn);
  if (has()) return Promise.resolve();
  return new Promise((resolve) => {
    const stop = trace.listen((ev) => {
      if (ev.type === 'conn_close' && ev.conn === conn) {
        stop();
        resolve();
      }
    });
  });
}

/** Wraps `inner` so that closes overlap with what follows (see the module docstring). */
export function overlapCloses(inner: Driver): OverlappedDriver {
  const running = new Set<Promise<void>>();
  const driver: Driver = {
    transport: inner.transport,
    async connect(trace: TraceRecorder, opts: ConnectOptions): Promise<ClientConnection> {
      const c = await inner.connect(trace, opts);
      const wrapped: ClientConnection = {
        conn: c.conn,
        closed: c.closed,
        get isClosed() {
          return c.isClosed;
        },
        get maxDatagramSize() {
          return c.maxDatagramSize;
        },
        openStream: (kind?: StreamKind): ClientStream => c.openStream(kind),
        acceptStream: (timeoutMs: number) => c.acceptStream(timeoutMs),
        serverStreams: () => c.serverStreams(),
        sendDatagram: (bytes: Uint8Array) => c.sendDatagram(bytes),
        datagrams: () => c.datagrams(),
        close(code?: number, reason?: string): Promise<void> {
          const full = c.close(code, reason);
          const tracked = full.catch(() => undefined);
          running.add(tracked);
          void tracked.finally(() => running.delete(tracked));
          return Promise.race([full, closeRecorded(trace, c.conn)]);
        },
      };
      return wrapped;
    },
  };
  return {
    driver,
    pending: () => running.size,
    async drain(deadlineMs = 5_000) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...running]), new Promise<void>((r) => (timer = setTimeout(r, deadlineMs)))]);
      clearTimeout(timer);
    },
  };
}
