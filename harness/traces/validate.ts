/**
 * Offline validation: a trace file run through its protocol's model
 * (the suite's monitor), streaming, with a short window of the events
 * before the first violation (in the manner of PObserve's error log).
 */
import { DATA_EVENT_KEYS, dataEventOf, type DataBytes, type TraceEvent } from '../engine/trace.js';
import type { Monitor, Verdict, Violation } from '../engine/types.js';
import { checkProfileData } from '../engine/profile.js';
import { loadMonitorSuite } from '../engine/registry.js';
import { UsageError } from '../engine/errors.js';
import { readTrace, type DataHandler, type TraceHeader } from './file.js';

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
  const cap = windowSize + 1;
  const recent = new EventWindow(cap);
  let window: IndexedEvent[] | undefined;
  let shouldWindow: IndexedEvent[] | undefined;
  const take = (vs: readonly Violation[]): void => {
    for (const v of vs) {
      if (v.severity === 'must') {
        must = v;
        window = recent.list();
        return;
      }
      if (!should) {
        should = v;
        shouldWindow = recent.list();
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
      const m = (monitor = suite.createMonitor(profile));
      if (m.feedData === undefined) return;
      // Data events as bytes, to a monitor that takes them (no event object or hex string per event).
      const onData: DataHandler = (d, index) => {
        recent.pushData(d);
        lastT = d.t;
        const vs = m.feedData!(d, index);
        if (vs.length !== 0) take(vs);
        return must === undefined;
      };
      return onData;
    },
    (ev, index) => {
      recent.push(ev);
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
    window: (window ?? shouldWindow ?? recent.list()).slice(-cap),
  };
  return opts.expect ? { ...result, expectation: compareExpect(result) } : result;
}

/**
 * The last `cap` events fed, in a fixed circular buffer: an event object
 * is kept as it is; a data event read as bytes (a record the reader reuses)
 * as a copy into the slot's own record (its fields, payload and `frames`
 * text, in buffers reused from event to event), made an event
 * (`dataEventOf`) only when {@link list} is asked: no object per event.
 */
class EventWindow {
  private readonly events: (TraceEvent | undefined)[];
  private readonly data: Slot[];
  /** Events pushed. */
  private seen = 0;
  /** Where the next event goes (`seen % cap`, kept without a division per event). */
  private slot = 0;

  constructor(private readonly cap: number) {
    this.events = new Array<TraceEvent | undefined>(cap).fill(undefined);
    this.data = Array.from({ length: cap }, () => ({ t: 0, conn: 0, stream: 0, dir: 'c2s', bytes: new Uint8Array(64), length: 0, keys: DATA_EVENT_KEYS, line: new Uint8Array(64), framesStart: 0, framesEnd: 0 }));
  }

  push(ev: TraceEvent): void {
    this.events[this.slot] = ev;
    this.advance();
  }

  pushData(d: DataBytes): void {
    const k = this.slot;
    this.events[k] = undefined;
    const c = this.data[k]!;
    c.t = d.t;
    c.conn = d.conn;
    c.stream = d.stream;
    c.dir = d.dir;
    c.keys = d.keys;
    c.length = d.length;
    c.bytes = copy(d.bytes, 0, d.length, c.bytes);
    if (d.keys !== DATA_EVENT_KEYS) {
      c.line = copy(d.line, d.framesStart, d.framesEnd - d.framesStart, c.line);
      c.framesEnd = d.framesEnd - d.framesStart;
    }
    this.advance();
  }

  /** The events held, oldest first, with their indexes. */
  list(): IndexedEvent[] {
    const out: IndexedEvent[] = [];
    for (let i = Math.max(0, this.seen - this.cap); i < this.seen; i++) {
      const k = i % this.cap;
      out.push({ index: i, event: this.events[k] ?? dataEventOf(this.data[k]!) });
    }
    return out;
  }

  private advance(): void {
    this.seen++;
    if (++this.slot === this.cap) this.slot = 0;
  }
}

/** A {@link DataBytes} a window slot owns (its buffers grow as needed). */
type Slot = { -readonly [K in keyof DataBytes]: DataBytes[K] };

/** Copies `src[from..from + n)` to the start of `to`, or of a bigger array when it does not fit: the array written. */
function copy(src: Uint8Array, from: number, n: number, to: Uint8Array): Uint8Array {
  if (to.length < n) to = new Uint8Array(Math.max(n, 2 * to.length));
  if (n <= 512) for (let i = 0; i < n; i++) to[i] = src[from + i]!;
  else to.set(src.subarray(from, from + n));
  return to;
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
