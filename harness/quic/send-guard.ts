/**
 * A process-wide guard against an endless send loop of quiche 0.18 (the
 * native core of @matrixai/quic 2.0.9), which otherwise freezes the whole
 * process: every QUIC client and server of wirecheck shares one event loop.
 *
 * The library's `QUICConnection.send()` calls the native `send()` in a
 * synchronous `while (true)` until it returns null (quiche's `Done`). quiche
 * 0.18 returns a packet forever in this sequence (measured, NOTES.md):
 * 1. a client whose handshake is not yet confirmed (its Handshake keys are
 *    still installed: it has not processed the server's HANDSHAKE_DONE, e.g.
 *    under CPU load, or the server's packets are lost) and whose congestion
 *    window is full (it sent ~13.5 KB of stream data that nobody ACKed yet)
 *    closes with an **application** code (`destroy()` does);
 * 2. the APPLICATION_CLOSE does not fit in the congestion window, so nothing is
 *    sent and no draining timer starts; a closing quiche drops every packet it
 *    receives, so nothing can change that;
 * 3. the Handshake PTO fires: `write_pkt_type` picks the Handshake epoch
 *    (`loss_probes > 0`), where APPLICATION_CLOSE may not go but an ACK may,
 *    and no PING is added while closing, so the packet is not ack-eliciting
 *    and the probe count never drops: a 72-byte Handshake packet per call,
 *    forever. The event loop never runs again and each packet is queued on the
 *    UDP socket, so memory grows by gigabytes a minute.
 *
 * The guard wraps the native `send` (and `timeout` / `isClosed`) on the
 * binding's prototype, per connection:
 * - a **closing** connection (local error set) that produces more than
 *   {@link CLOSING_BURST_PACKETS} packets in one burst (a close needs one or
 *   two) is *abandoned*: from then on `send()` returns null, `timeout()` null
 *   and `isClosed()` true, so the library's loop exits, its close resolves and
 *   the connection is freed. The peer never gets our CONNECTION_CLOSE (quiche
 *   cannot produce it) and sees an idle timeout instead.
 * - any connection producing more than {@link MAX_BURST_PACKETS} packets in one
 *   burst yields: send returns null once, the library re-arms its timer and
 *   the event loop runs before the next burst.
 * Healthy connections never reach either limit; the wrappers cost a WeakMap lookup.
 */
import { nativeConnectionPrototype } from './internals.js';

/** Most packets one send burst of a closing connection may produce before it is abandoned. */
export const CLOSING_BURST_PACKETS = 64;
/** Most packets any connection may produce in one synchronous burst before yielding. */
export const MAX_BURST_PACKETS = 16_384;

/** What the guard did, for logs. `conn` is the native connection object (`QUICConnection['conn']`). */
export interface SendGuardEvent {
  readonly kind: 'abandoned' | 'yield';
  readonly conn: object;
  /** Packets the connection produced in the burst that was cut. */
  readonly packets: number;
}

/** The parts of a native quiche connection the guard wraps or reads. */
interface GuardedProto {
  send(data: Uint8Array): unknown;
  timeout(): number | null;
  isClosed(): boolean;
  localError(): unknown;
}

/** Limits of {@link guardConnectionPrototype} (tests pass smaller ones). */
export interface GuardLimits {
  readonly closingBurst?: number;
  readonly maxBurst?: number;
}

interface ConnGuard {
  /** Packets returned since the last null. */
  burst: number;
  abandoned: boolean;
}

const listeners = new Set<(ev: SendGuardEvent) => void>();
const counts = { abandoned: 0, yield: 0 };

function emit(ev: SendGuardEvent): void {
  counts[ev.kind]++;
  for (const fn of listeners) {
    try {
      fn(ev);
    } catch {
      /* a listener must not break sending */
    }
  }
}

/** Subscribes to the guard's events (all connections of the process); returns the unsubscribe function. */
export function onSendGuardEvent(fn: (ev: SendGuardEvent) => void): () => void {
  listeners.add(fn);
  return () => {
    listeners.delete(fn);
  };
}

/** How often each guard event happened in this process. */
export function sendGuardStats(): Readonly<typeof counts> {
  return { ...counts };
}

const GUARDED = Symbol.for('wirecheck.quicSendGuard');

function isClosing(conn: GuardedProto): boolean {
  try {
    return (conn.localError() ?? null) !== null;
  } catch {
    return false;
  }
}

/**
 * Wraps `send`, `timeout` and `isClosed` of a native connection prototype
 * (idempotent). Exported for tests, which pass a fake prototype;
 * {@link installSendGuard} applies it to the real binding.
 */
export function guardConnectionPrototype(proto: object, limits: GuardLimits = {}): void {
  const p = proto as GuardedProto & { [GUARDED]?: true };
  if (p[GUARDED]) return;
  const closingBurst = limits.closingBurst ?? CLOSING_BURST_PACKETS;
  const maxBurst = limits.maxBurst ?? MAX_BURST_PACKETS;
  const origSend = p.send;
  const origTimeout = p.timeout;
  const origIsClosed = p.isClosed;
  const state = new WeakMap<object, ConnGuard>();

  p.send = function (this: GuardedProto, data: Uint8Array): unknown {
    let g = state.get(this);
    if (!g) {
      g = { burst: 0, abandoned: false };
      state.set(this, g);
    }
    if (g.abandoned) return null;
    const result = origSend.call(this, data);
    if (result === null || result === undefined) {
      g.burst = 0;
      return result;
    }
    g.burst++;
    if (g.burst > closingBurst && isClosing(this)) {
      const packets = g.burst;
      g.burst = 0;
      g.abandoned = true;
      emit({ kind: 'abandoned', conn: this, packets });
      return null;
    }
    if (g.burst > maxBurst) {
      const packets = g.burst;
      g.burst = 0;
      emit({ kind: 'yield', conn: this, packets });
      return null;
    }
    return result;
  };

  p.timeout = function (this: GuardedProto): number | null {
    if (state.get(this)?.abandoned) return null;
    return origTimeout.call(this);
  };

  p.isClosed = function (this: GuardedProto): boolean {
    if (state.get(this)?.abandoned) return true;
    return origIsClosed.call(this);
  };

  Object.defineProperty(p, GUARDED, { value: true });
}

let installed = false;

/**
 * Installs the guard on @matrixai/quic's native connection class, for every
 * connection of the process (clients and servers). Idempotent; called when
 * harness/quic/util.ts is loaded, so every QUIC user of wirecheck has it.
 */
export function installSendGuard(): void {
  if (installed) return;
  installed = true;
  guardConnectionPrototype(nativeConnectionPrototype());
}
