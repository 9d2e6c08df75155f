/**
 * Small pure helpers of discovery: timer rounding and spread, finding
 * events in an attempt's trace, and evidence excerpts (case-like trace
 * lines, the cited events marked).
 */
import type { ConnCloseEvent, TraceEvent } from '../engine/trace.js';
import { formatTraceEvent } from '../reports/trace-format.js';

/**
 * Rounds a measured period (ms, e.g. the median gap between pushed items)
 * to the nearest value of two significant digits' grain (50.4 ms is 50,
 * 1,003 ms is 1,000, 183,400 ms is 180,000): servers configure round values.
 * For a delay after a trigger use {@link delayTimer}. Never below 1.
 */
export function roundTimer(ms: number): number {
  if (!(ms > 0)) return 1;
  const grain = Math.max(1, 10 ** (Math.floor(Math.log10(ms)) - 1));
  return Math.max(1, Math.round(ms / grain) * grain);
}

/**
 * The value of a delay timer (the server acts `T` ms after a trigger) from
 * its measurements (ms): latency only ever adds to a measurement, so the
 * smallest one is the best estimate, rounded down to the grain of
 * {@link roundTimer} (a measured 401.3 ms is 400, 846 ms is 840): a value
 * above the true one would make the model expect the server's act later
 * than it comes. `latencyMs`: a round trip included in every measurement
 * (a delay timed from a client's act to the server's answer as the client
 * sees them), taken off first. Never below 1.
 */
export function delayTimer(samples: readonly number[], latencyMs = 0): number {
  const ms = Math.min(...samples) - Math.max(0, latencyMs);
  if (!(ms > 0)) return 1;
  // Less than 1 ms below a round value (999.6 ms) is that value: trace µs and timer ms differ by rounding only.
  const near = roundTimer(ms);
  if (near >= ms && near - ms < 1) return near;
  const grain = Math.max(1, 10 ** (Math.floor(Math.log10(ms)) - 1));
  return Math.max(1, Math.floor(ms / grain) * grain);
}

/** Median of a non-empty list of numbers. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Largest distance (ms) of a sample from `value`. */
export function spreadMs(samples: readonly number[], value: number): number {
  return samples.reduce((m, s) => Math.max(m, Math.abs(s - value)), 0);
}

/** Milliseconds between two trace times (µs), three decimals. */
export function msBetween(fromUs: number, toUs: number): number {
  return Math.round(toUs - fromUs) / 1000;
}

/** Index of the first event at or after `from` matching `pred`, or -1. */
export function findEvent(trace: readonly TraceEvent[], pred: (ev: TraceEvent) => boolean, from = 0): number {
  for (let i = Math.max(0, from); i < trace.length; i++) if (pred(trace[i]!)) return i;
  return -1;
}

/** Index of the `conn_close` of connection `conn`, or -1. */
export function closeIndex(trace: readonly TraceEvent[], conn: number): number {
  return findEvent(trace, (e) => e.type === 'conn_close' && e.conn === conn);
}

/** Index of the `conn_close` of connection `conn` by the server or the transport (not the harness's own close), or -1. */
export function peerCloseIndex(trace: readonly TraceEvent[], conn: number): number {
  return findEvent(trace, (e) => e.type === 'conn_close' && e.conn === conn && e.by !== 'client');
}

/** The `conn_close` event at `index` (undefined when `index` is -1 or not a close). */
export function closeAt(trace: readonly TraceEvent[], index: number): ConnCloseEvent | undefined {
  const ev = index >= 0 ? trace[index] : undefined;
  return ev?.type === 'conn_close' ? ev : undefined;
}

/** Events shown either side of each cited event in an excerpt. */
const RADIUS = 2;
/** Most lines of one excerpt (beyond, the middle is summarised). */
const MAX_LINES = 24;

/**
 * Excerpt lines of `trace` around the events at `indices` (each with
 * {@link RADIUS} events either side; gaps summarised as `(N events)`),
 * cited events marked `  <--`. A trace of a few events is shown whole.
 */
export function excerptLines(trace: readonly TraceEvent[], indices: readonly number[]): string[] {
  if (trace.length === 0) return ['(empty trace)'];
  const cited = new Set(indices.filter((i) => i >= 0 && i < trace.length));
  const shown = new Set<number>();
  if (trace.length <= 12) for (let i = 0; i < trace.length; i++) shown.add(i);
  for (const i of cited) for (let j = i - RADIUS; j <= i + RADIUS; j++) if (j >= 0 && j < trace.length) shown.add(j);
  if (shown.size === 0) for (let j = Math.max(0, trace.length - 2 * RADIUS - 1); j < trace.length; j++) shown.add(j);
  const order = [...shown].sort((a, b) => a - b);
  const lines: string[] = [];
  let prev = -1;
  for (const i of order) {
    if (i > prev + 1) lines.push(`(${i - prev - 1} event${i - prev - 1 === 1 ? '' : 's'})`);
    lines.push(`${formatTraceEvent(trace[i]!, { maxDataBytes: 16 })}${cited.has(i) ? '  <--' : ''}`);
    prev = i;
  }
  if (prev < trace.length - 1) lines.push(`(${trace.length - 1 - prev} later event${trace.length - 1 - prev === 1 ? '' : 's'})`);
  if (lines.length <= MAX_LINES) return lines;
  const head = lines.slice(0, MAX_LINES / 2);
  const tail = lines.slice(-MAX_LINES / 2 + 1);
  return [...head, `(${lines.length - head.length - tail.length} lines left out)`, ...tail];
}
