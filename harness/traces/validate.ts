/**
 * Offline validation: a trace file run through its protocol's model
 * (the suite's monitor), streaming, with a short window of the events
 * before the first violation (in the manner of PObserve's error log).
 */
import type { TraceEvent } from '../engine/trace.js';
import type { Monitor, Verdict, Violation } from '../engine/types.js';
import { checkProfileData } from '../engine/profile.js';
import { loadMonitorSuite } from '../engine/registry.js';
import { UsageError } from '../engine/errors.js';
import { readTrace, type TraceHeader } from './file.js';

/** Verdicts a trace can get. */
export type TraceVerdictKind = Extract<Verdict, 'pass' | 'fail' | 'non-strict' | 'timeout'>;

/** An event with its index in the trace (0-based, header excluded). */
export interface IndexedEvent {
  readonly index: number;
  readonly event: TraceEvent;
}

/** Result of validating one trace file. */
export interface TraceValidation {
  readonly file: string;
  readonly header: TraceHeader;
  /** Events read: all of them, or up to and including the first MUST violation. */
  readonly events: number;
  readonly durationMs: number;
  readonly verdict: TraceVerdictKind;
  /** First MUST violation (fail, timeout) or first SHOULD violation (non-strict). */
  readonly violation?: Violation;
  /** Up to `window` events before the violation and the offending one (or the last events). */
  readonly window: readonly IndexedEvent[];
  /** With `expect`: whether the result matches the header's `expect`, and why not. */
  readonly expectation?: { readonly ok: boolean; readonly message: string };
}

/** Options of {@link validateTraceFile}. */
export interface ValidateOptions {
  /** Protocol to check against; default the header's. */
  readonly protocol?: string;
  /** Profile (complete, validated) replacing the header's. */
  readonly profile?: object;
  /** How many preceding events to keep for the report (default 8). */
  readonly window?: number;
  /** Compare the result with the header's `expect` (a header without one is a mismatch). */
  readonly expect?: boolean;
}

/**
 * Validates one trace file against its protocol's model, in bounded memory
 * (the model forgets closed connections; only the window is kept).
 * @throws TraceFileError for a malformed file; UsageError for an unknown or mismatched protocol or a bad header profile.
 */
export async function validateTraceFile(file: string, opts: ValidateOptions = {}): Promise<TraceValidation> {
  const started = performance.now();
  const windowSize = Math.max(0, opts.window ?? 8);
  let header: TraceHeader | undefined;
  let monitor: Monitor | undefined;
  let must: Violation | undefined;
  let should: Violation | undefined;
  let lastT = 0;
  // The last windowSize + 1 events, in a fixed circular buffer (no object or copy per event).
  const cap = windowSize + 1;
  const ringEv: TraceEvent[] = new Array<TraceEvent>(cap);
  let seen = 0;
  /** Where the next event goes in the ring (`seen % cap`, kept without a division per event). */
  let slot = 0;
  const ring = (): IndexedEvent[] => {
    const out: IndexedEvent[] = [];
    for (let i = Math.max(0, seen - cap); i < seen; i++) out.push({ index: i, event: ringEv[i % cap]! });
    return out;
  };
  let window: IndexedEvent[] | undefined;
  let shouldWindow: IndexedEvent[] | undefined;
  const take = (vs: readonly Violation[]): void => {
    for (const v of vs) {
      if (v.severity === 'must') {
        must = v;
        window = ring();
        return;
      }
      if (!should) {
        should = v;
        shouldWindow = ring();
      }
    }
  };

  const events = await readTrace(
    file,
    async (h) => {
      header = h;
      const name = opts.protocol ?? h.protocol;
      if (opts.protocol !== undefined && h.protocol !== opts.protocol) {
        throw new UsageError(`${file}: the trace is of protocol "${h.protocol}", not "${opts.protocol}"`);
      }
      const suite = await loadMonitorSuite(name);
      const profile = opts.profile ?? (h.profile ? checkProfileData(suite, h.profile, `${file} (header /profile)`) : suite.defaultProfile);
      monitor = suite.createMonitor(profile);
    },
    (ev, index) => {
      ringEv[slot] = ev;
      if (++slot === cap) slot = 0;
      seen = index + 1;
      lastT = ev.t;
      const vs = monitor!.feed(ev, index);
      if (vs.length !== 0) take(vs);
      return must === undefined;
    },
  );
  if (must === undefined && monitor) take(monitor.advance(lastT));
  const found = must ?? should;
  const verdict: TraceVerdictKind = must ? (must.missing ? 'timeout' : 'fail') : should ? 'non-strict' : 'pass';
  const result: TraceValidation = {
    file,
    header: header!,
    events: must && must.index >= 0 ? must.index + 1 : events,
    durationMs: performance.now() - started,
    verdict,
    ...(found ? { violation: found } : {}),
    window: (window ?? shouldWindow ?? ring()).slice(-cap),
  };
  return opts.expect ? { ...result, expectation: compareExpect(result) } : result;
}

/** Compares a result with its header's `expect` (verdict, rule, first-violation index). */
function compareExpect(r: TraceValidation): { ok: boolean; message: string } {
  const want = r.header.expect;
  if (!want) return { ok: false, message: 'the header has no "expect"' };
  const problems: string[] = [];
  if (want.verdict !== r.verdict) problems.push(`verdict ${r.verdict}, expected ${want.verdict}`);
  if (want.rule !== undefined && want.rule !== r.violation?.rule) problems.push(`rule ${r.violation?.rule ?? 'none'}, expected ${want.rule}`);
  if (want.index !== undefined && want.index !== r.violation?.index) problems.push(`first violation at #${r.violation?.index ?? 'none'}, expected #${want.index}`);
  return problems.length ? { ok: false, message: problems.join('; ') } : { ok: true, message: 'as expected' };
}
