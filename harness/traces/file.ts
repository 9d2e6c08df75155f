/**
 * Trace files: JSON Lines, a header line (trace-header.schema.json) then
 * one trace event per line (harness/reports/trace-event.schema.json).
 * Read as a stream, so a trace of millions of events never sits in memory.
 */
import { createWriteStream, readSync } from 'node:fs';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import type { Ajv2020, ValidateFunction } from 'ajv/dist/2020.js';
import { describeAjvErrors } from '../engine/schema-errors.js';
import headerSchema from './trace-header.schema.json' with { type: 'json' };
import eventSchema from '../reports/trace-event.schema.json' with { type: 'json' };
import type { DataBytes, ImpairEvent, ImpairKind, TraceEvent } from '../engine/trace.js';
import type { Verdict } from '../engine/types.js';
import { createFastEventReader, type FastEventReader } from './fast-event.js';
import { addTraceSchemas, EVENT_DEFS_ID, EVENT_TYPES, newAjv, precompiledTraceValidators, TRACE_AJV_OPTIONS } from '../engine/precompiled.js';

/** The first line of a trace file. */
export interface TraceHeader {
  readonly type: 'header';
  readonly format: 'wirecheck-trace';
  /** Trace format version: 1, or 2 ({@link TRACE_FORMAT_VERSION}, what writers write); both are read. */
  readonly version: 1 | 2;
  /** Protocol name (a folder under suites/). */
  readonly protocol: string;
  readonly specVersion?: string;
  /** Target profile in force; missing fields take the protocol's defaults. */
  readonly profile?: Readonly<Record<string, unknown>>;
  readonly target?: string;
  /** Wall-clock time (ISO 8601) of t = 0. */
  readonly origin?: string;
  readonly recordedBy?: 'client' | 'server' | 'converted';
  readonly case?: string;
  readonly description?: string;
  /** What validating the trace must give (`wirecheck validate --expect`). */
  readonly expect?: { readonly verdict: Extract<Verdict, 'pass' | 'fail' | 'non-strict' | 'timeout'>; readonly rule?: string; readonly index?: number };
}

/** A trace file is malformed. The message names the file, the line and the JSON pointer. */
export class TraceFileError extends Error {
  readonly code = 'TRACE_FILE' as const;
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(`${file}:${line}: ${message}`);
    this.name = 'TraceFileError';
  }
}

/**
 * The trace validators: the ones `npm run build` precompiled (engine/precompiled.ts:
 * no ajv loaded, nothing compiled at start-up), or, running from the
 * sources, each compiled on first use (a trace of a few event types
 * compiles only those) by an ajv loaded then. The schemas are this
 * package's own files, so ajv does not check them against the JSON Schema
 * meta-schema at run time; test/traces/schemas.test.ts checks them instead.
 * The per-type validators come from a schema holding only the event
 * schema's `$defs` ({@link EVENT_DEFS_ID}).
 */
class Validators {
  private ajvInstance: Ajv2020 | undefined;
  private readonly pre = precompiledTraceValidators();
  private readonly types = new Set(EVENT_TYPES);
  private readonly perType = new Map<string, ValidateFunction>();
  private headerFn: ValidateFunction | undefined;
  private eventFn: ValidateFunction | undefined;

  private get ajv(): Ajv2020 {
    return (this.ajvInstance ??= addTraceSchemas(newAjv(TRACE_AJV_OPTIONS)));
  }

  get header(): ValidateFunction {
    return (this.headerFn ??= this.pre?.['header'] ?? this.ajv.getSchema((headerSchema as { $id: string }).$id)!);
  }

  /** The whole event schema (for the error message of an unknown type). */
  get event(): ValidateFunction {
    return (this.eventFn ??= this.pre?.['event'] ?? this.ajv.getSchema((eventSchema as { $id: string }).$id)!);
  }

  /** The validator of one event type (`$defs/<type>`): several times faster than the `if`/`then` chain; undefined for an unknown type. */
  byType(type: string): ValidateFunction | undefined {
    let v = this.perType.get(type);
    if (v === undefined && this.types.has(type)) {
      v = this.pre?.[`type_${type}`] ?? this.ajv.getSchema(`${EVENT_DEFS_ID}#/$defs/${type}`)!;
      this.perType.set(type, v);
    }
    return v;
  }
}

let validators: Validators | undefined;

/** Compiled validators (compiled once, lazily). */
function compiled(): Validators {
  return (validators ??= new Validators());
}

/** Checks a parsed header; throws TraceFileError naming the problem. */
export function checkHeader(data: unknown, file: string): TraceHeader {
  const v = compiled().header;
  if (!v(data)) throw new TraceFileError(file, 1, `header ${describeAjvErrors(v.errors, data, 1)[0]}`);
  return data as unknown as TraceHeader;
}

/** Checks a parsed event; throws TraceFileError naming the line and pointer. */
export function checkEvent(data: unknown, file: string, line: number): TraceEvent {
  const c = compiled();
  const type = typeof data === 'object' && data !== null ? (data as { type?: unknown }).type : undefined;
  const v = (typeof type === 'string' ? c.byType(type) : undefined) ?? c.event;
  if (!v(data)) throw new TraceFileError(file, line, describeAjvErrors(v.errors, data, 1)[0]!);
  return data as TraceEvent;
}

/**
 * A v1 impairment note: `moonpool:stall|restore|cut conn=N`, bare or as a
 * fixture step's comment (`fixture: moonpool:stall conn=N …`), at the start
 * of the note (suites/moonpool/SPEC.md §10, version 1).
 */
const V1_IMPAIR_NOTE = /^(?:fixture: )?moonpool:(stall|restore|cut) conn=(\d+)\b\s*(?:[—–:-]\s*)?(.*)$/su;

/**
 * Upgrades one event of a version-1 trace to version 2. The only
 * difference that needs upgrading: v1 announced deliberate network
 * impairments with notes (`moonpool:stall conn=N`, see {@link V1_IMPAIR_NOTE}),
 * v2 with typed `impair` events (harness/engine/trace.ts). The rest of the
 * note, if any, becomes the event's `detail`. Every other event is returned
 * as it is (v1 events are valid v2 events). This is the only place that
 * parses those notes.
 */
export function upgradeV1Event(ev: TraceEvent): TraceEvent {
  if (ev.type !== 'note') return ev;
  const m = V1_IMPAIR_NOTE.exec(ev.text);
  if (!m) return ev;
  const detail = m[3]!.trim();
  const up: ImpairEvent = { type: 'impair', t: ev.t, ...(ev.role !== undefined ? { role: ev.role } : {}), kind: m[1] as ImpairKind, conn: Number(m[2]), ...(detail !== '' ? { detail } : {}) };
  return up;
}

/** Takes a data event read as bytes (a {@link DataBytes}, valid only during the call) and its 0-based index; `false` stops reading. */
export type DataHandler = (d: DataBytes, index: number) => boolean | void;

/**
 * Streams a trace file: calls (and awaits) `onHeader` with the header, then `onEvent`
 * for each event in order, with its 0-based index. Events of a version-1
 * trace are handed over upgraded to version 2 ({@link upgradeV1Event}). `onEvent` returning
 * `false` stops reading early. Events must not go back in time.
 *
 * When `onHeader` returns (or resolves to) a {@link DataHandler}, the data events
 * the fast path reads as bytes (fast-event.ts: most of a recorded trace) go to
 * it instead of `onEvent`, in the same order and index sequence, with no event
 * object or hex string made; the other data events still go to `onEvent`.
 * @returns the number of events read.
 * @throws TraceFileError on unreadable files, bad JSON, schema errors, or time going backwards.
 */
export async function readTrace(
  file: string,
  onHeader: (header: TraceHeader) => void | DataHandler | Promise<void | DataHandler>,
  onEvent: (ev: TraceEvent, index: number) => boolean | void,
): Promise<number> {
  let upgrade = false;
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    throw new TraceFileError(file, 0, `cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  /** The fast reader (made once the header says whether data events go to a {@link DataHandler}), its record and that handler. */
  let fast: FastEventReader | undefined;
  let dataRecord: DataBytes | undefined;
  let onData: DataHandler | undefined;
  let lineNo = 0;
  let index = 0;
  let lastT = 0;
  let header = false;
  let headerData: unknown;
  /** One line's bytes (`b[s..e)`, CR dropped): false to stop reading. */
  const line = (b: Buffer, s: number, e: number): boolean => {
    lineNo++;
    if (s === e) return true;
    // The fast path (fast-event.ts): no string and no JSON.parse for a flat event whose shape the schema accepts.
    let data: unknown = header && fast !== undefined ? fast(b, s, e) : undefined;
    let checked: TraceEvent;
    if (data !== undefined) {
      if (data === dataRecord) return emitData(dataRecord);
      checked = data as TraceEvent;
    } else {
      const text = b.toString('utf8', s, e);
      if (text.charCodeAt(0) <= 32 && text.trim() === '') return true;
      try {
        data = JSON.parse(text);
      } catch (err) {
        throw new TraceFileError(file, lineNo, `not valid JSON (${(err as Error).message})`);
      }
      if (!header) {
        headerData = data;
        header = true;
        return true;
      }
      checked = checkEvent(data, file, lineNo);
    }
    return emit(checked);
  };
  /** The time of line `lineNo`'s event: it must not go back. */
  const timeAt = (t: number): void => {
    if (t < lastT) throw new TraceFileError(file, lineNo, `/t: time goes back (${t} µs after ${lastT} µs)`);
    lastT = t;
  };
  /** Hands an event of line `lineNo` over: false to stop reading. */
  const emit = (checked: TraceEvent): boolean => {
    const ev = upgrade ? upgradeV1Event(checked) : checked;
    timeAt(ev.t);
    return onEvent(ev, index++) !== false;
  };
  /** {@link emit} for a data event read as bytes. */
  const emitData = (d: DataBytes): boolean => {
    timeAt(d.t);
    return onData!(d, index++) !== false;
  };
  /** The header is checked (and `onHeader` awaited) before the next line is read. */
  const takeHeader = async (): Promise<void> => {
    if (headerData === undefined) return;
    const h = checkHeader(headerData, file);
    headerData = undefined;
    upgrade = h.version === 1;
    onData = (await onHeader(h)) ?? undefined;
    fast = fastReader(onData !== undefined);
    dataRecord = fast?.data;
  };
  const tooLong = (n: number) => new TraceFileError(file, n, `line longer than ${MAX_TRACE_LINE_BYTES} bytes (the limit of a trace line)`);
  // Two buffers, reused for the whole file (a pipe's next read goes into one while the lines of the other are read).
  // A line across two reads is put together in `carry`, which grows only for a longer line, up to the line limit.
  const bufs = [Buffer.allocUnsafe(READ_CHUNK_BYTES), Buffer.allocUnsafe(READ_CHUNK_BYTES)];
  let k = 0;
  let carry = Buffer.allocUnsafe(1024);
  let carried = 0;
  /** Appends `b[s..e)` to the carried piece of a line, growing it (up to the line limit; a CR before the LF counts, as in one read). */
  const carryOn = (b: Buffer, s: number, e: number): void => {
    const need = carried + (e - s);
    if (need > MAX_TRACE_LINE_BYTES) throw tooLong(lineNo + 1);
    if (need > carry.length) {
      const bigger = Buffer.allocUnsafe(Math.min(Math.max(need, carry.length * 2), MAX_TRACE_LINE_BYTES));
      carry.copy(bigger, 0, 0, carried);
      carry = bigger;
    }
    b.copy(carry, carried, s, e);
    carried = need;
  };
  let reading: Promise<{ bytesRead: number }> | undefined;
  let processing = false;
  let chunks = 0;
  try {
    // A regular file is read synchronously, chunk after chunk, with a turn of the event loop every
    // YIELD_EVERY_CHUNKS (signals, timers): a read from the thread pool is awaited through a turn of the
    // loop, and on a busy machine that thread is slow to be scheduled (measured: 30–50 ms of a 600 ms
    // validation of 80 MB spent waiting for reads that had been issued a chunk ahead). Anything else (a pipe,
    // a device) may block: it is read through the thread pool, the next read under way while a chunk's lines are read.
    const sync = (await fh.stat()).isFile();
    if (!sync) reading = fh.read(bufs[0]!, 0, READ_CHUNK_BYTES, null);
    for (;;) {
      processing = false;
      let bytesRead: number;
      if (sync) {
        if (++chunks % YIELD_EVERY_CHUNKS === 0) await new Promise<void>((resolve) => setImmediate(resolve));
        bytesRead = readSync(fh.fd, bufs[k]!, 0, READ_CHUNK_BYTES, null);
      } else {
        bytesRead = (await reading!).bytesRead;
        reading = undefined;
      }
      processing = true;
      if (bytesRead === 0) break;
      const b = bufs[k]!;
      k ^= 1;
      if (!sync) reading = fh.read(bufs[k]!, 0, READ_CHUNK_BYTES, null);
      let start = 0;
      let nl: number;
      if (carried > 0) {
        // The end of the line the last read left unfinished (or more of it).
        nl = b.indexOf(0x0a);
        if (nl === -1 || nl >= bytesRead) {
          carryOn(b, 0, bytesRead);
          continue;
        }
        carryOn(b, 0, nl);
        const n = carried;
        carried = 0;
        if (!line(carry, 0, n > 0 && carry[n - 1] === 0x0d ? n - 1 : n)) return index;
        if (headerData !== undefined) await takeHeader();
        start = nl + 1;
      }
      for (;;) {
        // A line of a predicted template is read with no search for its end first (fast-event.ts `next`).
        if (header && fast !== undefined && start < bytesRead) {
          const ev = fast.next(b, start, bytesRead);
          if (ev !== undefined) {
            lineNo++;
            if (!(ev === dataRecord ? emitData(dataRecord) : emit(ev as TraceEvent))) return index;
            start = fast.lineEnd + 1;
            continue;
          }
        }
        nl = start < bytesRead ? b.indexOf(0x0a, start) : -1;
        if (nl === -1 || nl >= bytesRead) break;
        if (nl - start > MAX_TRACE_LINE_BYTES) throw tooLong(lineNo + 1);
        if (!line(b, start, nl > start && b[nl - 1] === 0x0d ? nl - 1 : nl)) return index;
        if (headerData !== undefined) await takeHeader();
        start = nl + 1;
      }
      if (start < bytesRead) carryOn(b, start, bytesRead);
    }
    if (carried > 0) {
      line(carry, 0, carry[carried - 1] === 0x0d ? carried - 1 : carried);
      if (headerData !== undefined) await takeHeader();
    }
  } catch (err) {
    // Errors of the callbacks and of the lines pass as they are; the file's are read errors.
    if (processing || err instanceof TraceFileError) throw err;
    throw new TraceFileError(file, lineNo + 1, `cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  } finally {
    // A read still under way finishes before the file is closed (its error, if any, no longer matters).
    if (reading) await reading.catch(() => undefined);
    await fh.close();
  }
  if (!header) throw new TraceFileError(file, lineNo, 'empty file: no header line');
  return index;
}

/**
 * Bytes read from a trace file at a time, into two buffers reused for the
 * whole file. Earlier measurement
 * (bench:validate, through a read stream that made a buffer per chunk):
 * 1 MiB chunks cost about twice the wall time and 1.5× the peak RSS of
 * 64 KiB ones on a loaded machine, for the same CPU time.
 */
const READ_CHUNK_BYTES = 256 * 1024;

/** A regular file's chunks read between two turns of the event loop (4 MiB). */
const YIELD_EVERY_CHUNKS = 16;

/** The fast readers, made once: [events only, data events as bytes]; null when the schema does not allow one. */
const fastReaders: [FastEventReader | undefined | null, FastEventReader | undefined | null] = [undefined, undefined];

/** The fast event reader (fast-event.ts) over the compiled event validator, reading data events as bytes or not; undefined when the schema does not allow it. */
function fastReader(dataBytes: boolean): FastEventReader | undefined {
  const k = dataBytes ? 1 : 0;
  if (fastReaders[k] === undefined) fastReaders[k] = createFastEventReader(eventSchema, (type) => compiled().byType(type), dataBytes) ?? null;
  return fastReaders[k] ?? undefined;
}

/** Longest line a trace file may have (64 MiB): a longer one is rejected with its line number, never held whole. */
export const MAX_TRACE_LINE_BYTES = 64 * 1024 * 1024;

/**
 * Splits a byte stream into lines (LF, an optional CR before it dropped),
 * decoded as UTF-8, yielded in batches (the lines of one chunk: one await
 * per chunk, not per line), without ever holding more than
 * {@link MAX_TRACE_LINE_BYTES} of one line (`/dev/zero` fails after that
 * many bytes, not at V8's string limit).
 * @throws TraceFileError naming the file and the line that is too long, or a read error.
 */
export async function* splitLineBatches(input: AsyncIterable<Buffer>, file: string, maxLineBytes: number = MAX_TRACE_LINE_BYTES): AsyncGenerator<string[]> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let lineNo = 0;
  const tooLong = (n: number) => new TraceFileError(file, n, `line longer than ${maxLineBytes} bytes (the limit of a trace line)`);
  try {
    for await (const chunk of input) {
      const batch: string[] = [];
      let start = 0;
      let nl = chunk.indexOf(0x0a);
      while (nl !== -1) {
        lineNo++;
        if (pendingBytes + nl - start > maxLineBytes) {
          if (batch.length) yield batch;
          throw tooLong(lineNo);
        }
        let end = nl;
        if (pendingBytes > 0) {
          pending.push(chunk.subarray(start, nl));
          const whole = Buffer.concat(pending);
          pending = [];
          pendingBytes = 0;
          end = whole.length;
          if (end > 0 && whole[end - 1] === 0x0d) end--;
          batch.push(whole.toString('utf8', 0, end));
        } else {
          if (end > start && chunk[end - 1] === 0x0d) end--;
          batch.push(chunk.toString('utf8', start, end));
        }
        start = nl + 1;
        nl = chunk.indexOf(0x0a, start);
      }
      if (start < chunk.length) {
        pendingBytes += chunk.length - start;
        pending.push(chunk.subarray(start));
        if (pendingBytes > maxLineBytes) {
          if (batch.length) yield batch;
          throw tooLong(lineNo + 1);
        }
      }
      if (batch.length) yield batch;
    }
  } catch (err) {
    if (err instanceof TraceFileError) throw err;
    throw new TraceFileError(file, lineNo + 1, `cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (pendingBytes > 0) {
    const whole = Buffer.concat(pending);
    yield [whole.toString('utf8', 0, whole.length > 0 && whole[whole.length - 1] === 0x0d ? whole.length - 1 : whole.length)];
  }
}

/** {@link splitLineBatches}, one line at a time. */
export async function* splitLines(input: AsyncIterable<Buffer>, file: string, maxLineBytes: number = MAX_TRACE_LINE_BYTES): AsyncGenerator<string> {
  for await (const batch of splitLineBatches(input, file, maxLineBytes)) yield* batch;
}

/**
 * Writes a trace file (JSON Lines), creating folders.
 * @returns the path written.
 */
export async function writeTrace(file: string, header: TraceHeader, events: Iterable<TraceEvent>): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  const out = createWriteStream(file, { encoding: 'utf8' });
  const write = async (obj: unknown) => {
    if (!out.write(`${JSON.stringify(obj)}\n`)) await once(out, 'drain');
  };
  await write(header);
  for (const ev of events) await write(ev);
  out.end();
  await once(out, 'finish');
  return file;
}
