/**
 * The contract of `wirecheck load` (harness/cli/load.ts) with a protocol
 * that offers a load generator (`ProtocolSuite.load`, e.g.
 * suites/garou/load.ts): many real connections send at a fixed rate, every
 * delivered message is checked by the protocol's model and timed from its
 * send timestamp. The engine names no protocol: it passes the options,
 * renders the progress and the summary, and writes the JSON.
 */
import type { ConnectOptions } from '../drivers/types.js';

/** Options of one load run. */
export interface LoadOptions<P> {
  /** Target and TLS options (the protocol's ALPN merged in). */
  readonly connect: ConnectOptions;
  /** The target's profile (timers, limits). */
  readonly profile: P;
  /** Target URL, for the summary. */
  readonly targetUrl: string;
  /** Connections (clients) to open and hold. */
  readonly clients: number;
  /** Rooms (or the protocol's unit of fan-out) the clients send into. */
  readonly rooms: number;
  /** Messages per second, all clients together. */
  readonly ratePerSec: number;
  /** How long to send (ms), after every client is connected and set up. */
  readonly durationMs: number;
  /** Check every delivered message with the model (default true); off for measuring the model's cost. */
  readonly check: boolean;
  /** Called with a progress snapshot about every `progressEveryMs`. */
  readonly onProgress?: (p: LoadProgress) => void;
  /** Called when a phase begins (synchronously, before its first step), e.g. to measure CPU per phase. */
  readonly onPhase?: (phase: LoadProgress['phase']) => void;
  /** Interval of progress snapshots (ms; default 1,000). */
  readonly progressEveryMs?: number;
  /** Stops the run early (the summary covers what was done). */
  readonly signal?: AbortSignal;
}

/** A snapshot during a run. */
export interface LoadProgress {
  /** `connect`, `setup`, `send`, `drain` or `close`. */
  readonly phase: 'connect' | 'setup' | 'send' | 'drain' | 'close';
  /** ms since the run started. */
  readonly elapsedMs: number;
  readonly connections: number;
  readonly sent: number;
  readonly delivered: number;
  readonly violations: number;
  /** Latency p99 so far (ms), when there are samples. */
  readonly p99Ms?: number;
}

/** Latency percentiles (ms). */
export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** One broken rule seen during a run. */
export interface LoadViolation {
  readonly rule: string;
  readonly message: string;
  /** Which client saw it (index from 0). */
  readonly client?: number;
}

/** The summary of a run (also written as JSON by `--json`). */
export interface LoadSummary {
  readonly protocol: string;
  readonly target: string;
  readonly startedAt: string;
  readonly options: { readonly clients: number; readonly rooms: number; readonly ratePerSec: number; readonly durationMs: number; readonly check: boolean };
  /** Connections: attempted, established (authenticated), still open at the end of the send phase, failed to open, lost while sending. */
  readonly connections: { readonly attempted: number; readonly established: number; readonly held: number; readonly failed: number; readonly lost: number };
  /** Messages sent, acknowledged by the server, refused. */
  readonly sent: number;
  readonly acked: number;
  readonly refused: number;
  /** Deliveries expected (each acknowledged message × the members of its room) and seen. */
  readonly expectedDeliveries: number;
  readonly delivered: number;
  /** Measured send duration (ms) and rates over it (deliveries counted until its end; later ones are in `delivered`). */
  readonly sendMs: number;
  readonly sentPerSec: number;
  readonly deliveredPerSec: number;
  /** Send-to-delivery latency (ms): the send timestamp each message carries to its arrival at each member. */
  readonly latencyMs: LatencySummary;
  /** Protocol-specific counts (e.g. Garou: promotions, demotions). */
  readonly counters: Readonly<Record<string, number>>;
  /** Violations: how many, per rule, and the first ones in full. */
  readonly violations: { readonly count: number; readonly byRule: Readonly<Record<string, number>>; readonly first: readonly LoadViolation[] };
  /** Connect failures and other trouble that is not a rule broken (first few). */
  readonly errors: readonly string[];
}

/** What a protocol offers for `wirecheck load`. */
export interface LoadSupport<P> {
  /**
   * Runs the load; resolves with the summary (never rejects for target
   * behaviour: failures are counted and listed).
   * @throws RangeError for invalid options (e.g. fewer clients than rooms).
   */
  run(opts: LoadOptions<P>): Promise<LoadSummary>;
}

/** Quantile `q` (0–1) of ascending `sorted`, interpolated between closest ranks (R type 7); NaN when empty. */
export function sortedQuantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Percentiles of latency samples (ms); the array is sorted in place. */
export function latencySummary(samples: Float64Array | number[]): LatencySummary {
  const s = samples instanceof Float64Array ? samples.sort() : Float64Array.from(samples).sort();
  const r = (v: number): number => Math.round(v * 1000) / 1000;
  return {
    count: s.length,
    p50: r(sortedQuantile(s, 0.5)),
    p90: r(sortedQuantile(s, 0.9)),
    p99: r(sortedQuantile(s, 0.99)),
    p999: r(sortedQuantile(s, 0.999)),
    max: r(s.length ? s[s.length - 1]! : Number.NaN),
  };
}
