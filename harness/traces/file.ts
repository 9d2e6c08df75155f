/**
 * Trace files: JSON Lines, a header line (trace-header.schema.json) then
 * one trace event per line (harness/reports/trace-event.schema.json).
 * Read as a stream, so a trace of millions of events never sits in memory.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { describeAjvErrors } from '../engine/schema-errors.js';
import headerSchema from './trace-header.schema.json' with { type: 'json' };
import eventSchema from '../reports/trace-event.schema.json' with { type: 'json' };
import type { ImpairEvent, ImpairKind, TraceEvent } from '../engine/trace.js';
import type { Verdict } from '../engine/types.js';

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

interface Validators {
  readonly header: ValidateFunction;
  /** The whole event schema (for the error message of an unknown type). */
  readonly event: ValidateFunction;
  /** One validator per event type (`$defs/<type>`): several times faster than the `if`/`then` chain. */
  readonly byType: ReadonlyMap<string, ValidateFunction>;
}

let validators: Validators | undefined;

/** Compiled validators (compiled once, lazily). */
function compiled(): Validators {
  if (!validators) {
    const ajv = new Ajv2020({ allErrors: false, strict: false });
    ajv.addSchema(eventSchema);
    const types = (eventSchema as { properties: { type: { enum: string[] } } }).properties.type.enum;
    validators = {
      header: ajv.compile(headerSchema),
      event: ajv.getSchema((eventSchema as { $id: string }).$id)!,
      byType: new Map(types.map((ty) => [ty, ajv.getSchema(`${(eventSchema as { $id: string }).$id}#/$defs/${ty}`)!])),
    };
  }
  return validators;
}

/** Checks a parsed header; throws TraceFileError naming the problem. */
export function checkHeader(data: unknown, file: string): TraceHeader {
  const v = compiled().header;
  if (!v(data)) throw new TraceFileError(file, 1, `header ${describeAjvErrors(v.errors, data, 1)[0]}`);
  return data as unknown as TraceHeader;
}

/** Checks a parsed event; throws TraceFileError naming the line and pointer. */
export function checkEvent(data: unknown, file: string, line: number): TraceEvent {
  const { byType, event } = compiled();
  const type = typeof data === 'object' && data !== null ? (data as { type?: unknown }).type : undefined;
  const v = (typeof type === 'string' ? byType.get(type) : undefined) ?? event;
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

/**
 * Streams a trace file: calls (and awaits) `onHeader` with the header, then `onEvent`
 * for each event in order, with its 0-based index. Events of a version-1
 * trace are handed over upgraded to version 2 ({@link upgradeV1Event}). `onEvent` returning
 * `false` stops reading early. Events must not go back in time.
 * @returns the number of events read.
 * @throws TraceFileError on unreadable files, bad JSON, schema errors, or time going backwards.
 */
export async function readTrace(
  file: string,
  onHeader: (header: TraceHeader) => void | Promise<void>,
  onEvent: (ev: TraceEvent, index: number) => boolean | void,
): Promise<number> {
  let upgrade = false;
  const input = createReadStream(file, { encoding: 'utf8' });
  const opened = new Promise<void>((resolve, reject) => {
    input.once('open', () => resolve());
    input.once('error', reject);
  });
  try {
    await opened;
  } catch (err) {
    throw new TraceFileError(file, 0, `cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  let index = 0;
  let lastT = 0;
  let header = false;
  try {
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === '') continue;
      let data: unknown;
      try {
        data = JSON.parse(line);
      } catch (err) {
        throw new TraceFileError(file, lineNo, `not valid JSON (${(err as Error).message})`);
      }
      if (!header) {
        const h = checkHeader(data, file);
        upgrade = h.version === 1;
        await onHeader(h);
        header = true;
        continue;
      }
      const checked = checkEvent(data, file, lineNo);
      const ev = upgrade ? upgradeV1Event(checked) : checked;
      if (ev.t < lastT) throw new TraceFileError(file, lineNo, `/t: time goes back (${ev.t} µs after ${lastT} µs)`);
      lastT = ev.t;
      if (onEvent(ev, index++) === false) break;
    }
  } finally {
    lines.close();
    input.destroy();
  }
  if (!header) throw new TraceFileError(file, lineNo, 'empty file: no header line');
  return index;
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
