/**
 * Offline validation: a trace file run through its protocol's model
 * (the suite's monitor), streaming, with a short window of the events
 * before the first violation (in the manner of PObserve's error log).
 */
import { dataEventOf, type DataBytes, type Direction, type TraceEvent } from '../engine/trace.js';
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
 * is kept as it is; a data event read as bytes (reused by the reader) is
 * kept as copies, made an event only when {@link list} is asked (no object
 * per event): of its fields and payload when its line is `plain`, else of
 * its line (parsed then: its key order and `frames` as in the file).
 */
class EventWindow {
  private readonly events: (TraceEvent | undefined)[];
  private readonly t: Float64Array;
  private readonly conn: Float64Array;
  private readonly stream: Float64Array;
  private readonly dir: Direction[];
  private readonly payload: Uint8Array[];
  private readonly length: Int32Array;
  /** Per slot: the payload buffer holds the line's text (not `plain`), not the payload. */
  private readonly isLine: Uint8Array;
  /** Events pushed. */
  private seen = 0;
  /** Where the next event goes (`seen % cap`, kept without a division per event). */
  private slot = 0;

  constructor(private readonly cap: number) {
    this.events = new Array<TraceEvent | undefined>(cap).fill(undefined);
    this.t = new Float64Array(cap);
    this.conn = new Float64Array(cap);
    this.stream = new Float64Array(cap);
    this.dir = new Array<Direction>(cap).fill('c2s');
    this.payload = Array.from({ length: cap }, () => new Uint8Array(64));
    this.length = new Int32Array(cap);
    this.isLine = new Uint8Array(cap);
  }

  push(ev: TraceEvent): void {
    this.events[this.slot] = ev;
    this.advance();
  }

  pushData(d: DataBytes): void {
    const k = this.slot;
    this.events[k] = undefined;
    let src = d.bytes;
    let from = 0;
    let n = d.length;
    if (d.plain) {
      this.t[k] = d.t;
      this.conn[k] = d.conn;
      this.stream[k] = d.stream;
      this.dir[k] = d.dir;
      this.isLine[k] = 0;
    } else {
      src = d.line;
      from = d.lineStart;
      n = d.lineEnd - d.lineStart;
      this.isLine[k] = 1;
    }
    let p = this.payload[k]!;
    if (p.length < n) p = this.payload[k] = new Uint8Array(Math.max(n, 2 * p.length));
    if (n <= 64) for (let i = 0; i < n; i++) p[i] = src[from + i]!;
    else p.set(src.subarray(from, from + n));
    this.length[k] = n;
    this.advance();
  }

  /** The events held, oldest first, with their indexes. */
  list(): IndexedEvent[] {
    const out: IndexedEvent[] = [];
    for (let i = Math.max(0, this.seen - this.cap); i < this.seen; i++) {
      const k = i % this.cap;
      const p = this.payload[k]!;
      const event =
        this.events[k] ??
        (this.isLine[k] === 1
          ? (JSON.parse(Buffer.from(p.buffer, p.byteOffset, this.length[k]!).toString('utf8')) as TraceEvent)
          : dataEventOf({ t: this.t[k]!, conn: this.conn[k]!, stream: this.stream[k]!, dir: this.dir[k]!, bytes: p, length: this.length[k]! }));
      out.push({ index: i, event });
    }
    return out;
  }

  private advance(): void {
    this.seen++;
    if (++this.slot === this.cap) this.slot = 0;
  }
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
