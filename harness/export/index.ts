/**
 * Exports of traces for other tools: qlog files (`.sqlog`, JSON-SEQ) of
 * QUIC traces, from trace files (`wirecheck export --format qlog`) or from
 * a finished run (`wirecheck run --qlog DIR`), and the check of such files
 * against `qlog-seq.schema.json` (written from the drafts named in qlog.ts).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { TraceEvent } from '../engine/trace.js';
import type { ProtocolSuite, RunResult } from '../engine/types.js';
import { UsageError } from '../engine/errors.js';
import { loadSuite } from '../engine/registry.js';
import { checkProfileData } from '../engine/profile.js';
import { describeAjvErrors } from '../engine/schema-errors.js';
import { annotate } from '../traces/annotate.js';
import { readTrace, type TraceHeader } from '../traces/file.js';
import { validateTraceFile } from '../traces/validate.js';
import { toJsonSeq, traceToQlog, parseJsonSeq, type QlogTraceInfo, type QlogVerdict } from './qlog.js';
import qlogSchemaJson from './qlog-seq.schema.json' with { type: 'json' };

export * from './qlog.js';

/** The JSON Schema of one qlog record (draft 2020-12), as an object. */
export const qlogRecordSchema: object = qlogSchemaJson;

/** File name of a case's qlog: its id with every character outside [A-Za-z0-9._-] as `_`, then `.sqlog`. */
export function qlogFileName(caseId: string): string {
  return `${caseId.replace(/[^A-Za-z0-9._-]+/g, '_')}.sqlog`;
}

/**
 * Checks that a suite's traces are QUIC traces (qlog's events are QUIC's).
 * @throws UsageError naming the protocol and its transport.
 */
export function requireQuic(suite: Pick<ProtocolSuite<object>, 'name' | 'transport'>, what: string): void {
  if (suite.transport !== 'quic') {
    throw new UsageError(`${what}: qlog export is for QUIC traces; protocol ${suite.name} runs over ${suite.transport}`);
  }
}

/** Adds decoded frames to data events that have none, with a fresh monitor of the suite. */
function withFrames(events: readonly TraceEvent[], suite: ProtocolSuite<object>, profile: object): TraceEvent[] {
  if (events.some((e) => e.type === 'data' && e.frames !== undefined)) return [...events];
  return [...annotate(events, suite.createMonitor(profile))];
}

/**
 * Converts one trace file to a qlog file: the events (with the frames the
 * protocol's codec decodes) and the verdict the protocol's model gives the
 * trace (`wirecheck validate`'s).
 * @param out the `.sqlog` file to write (folders are created)
 * @returns the path written.
 * @throws TraceFileError for a malformed trace; UsageError for a protocol that does not run over QUIC.
 */
export async function exportTraceFileToQlog(file: string, out: string): Promise<string> {
  let header: TraceHeader | undefined;
  const events: TraceEvent[] = [];
  await readTrace(
    file,
    (h) => void (header = h),
    (ev) => void events.push(ev),
  );
  const suite = await loadSuite(header!.protocol);
  requireQuic(suite, file);
  const profile = header!.profile ? checkProfileData(suite, header!.profile, `${file} (header /profile)`) : suite.defaultProfile;
  const checked = await validateTraceFile(file);
  const info: QlogTraceInfo = {
    protocol: header!.protocol,
    ...(header!.case !== undefined ? { case: header!.case } : { case: path.basename(file) }),
    ...(header!.description !== undefined ? { description: header!.description } : {}),
    ...(header!.target !== undefined ? { target: header!.target } : {}),
    ...(header!.origin !== undefined ? { origin: header!.origin } : {}),
    ...(header!.recordedBy !== undefined ? { recordedBy: header!.recordedBy } : {}),
  };
  const verdict: QlogVerdict = { verdict: checked.verdict, ...(checked.violation ? { violation: checked.violation } : {}) };
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, toJsonSeq(traceToQlog(info, withFrames(events, suite, profile), verdict)), 'utf8');
  return out;
}

/**
 * Writes one qlog file per case of a QUIC run that has a trace, as
 * `DIR/<protocol>/<case>.sqlog`, with the case's verdict.
 * @returns the paths written.
 * @throws UsageError when the run's protocol does not run over QUIC.
 */
export async function writeRunQlogs(run: RunResult, dir: string): Promise<string[]> {
  const suite = await loadSuite(run.protocol);
  requireQuic(suite, `--qlog ${dir}`);
  const written: string[] = [];
  for (const c of run.cases) {
    if (c.trace.length === 0) continue;
    const file = path.join(dir, run.protocol, qlogFileName(c.id));
    const info: QlogTraceInfo = { protocol: run.protocol, case: c.id, description: c.description, target: run.target };
    const verdict: QlogVerdict = { verdict: c.verdict, ...(c.violation ? { violation: c.violation } : {}), ...(c.message !== undefined ? { message: c.message } : {}) };
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, toJsonSeq(traceToQlog(info, withFrames(c.trace, suite, run.profile), verdict)), 'utf8');
    written.push(file);
  }
  return written;
}

/** `$id` of `qlog-seq.schema.json`. */
export const QLOG_RECORD_SCHEMA_ID = 'https://wirecheck.dev/schemas/qlog-seq-record-1.json';

let compiled: { header: ValidateFunction; event: ValidateFunction } | undefined;

/** Validators of a header and of an event record (the schema's `$defs`), compiled once. */
function validators(): { header: ValidateFunction; event: ValidateFunction } {
  if (compiled === undefined) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
    // ajv-formats is CommonJS: its function is both module.exports and .default.
    addFormatsModule.default(ajv, ['uri', 'date-time']);
    ajv.addSchema(qlogSchemaJson);
    compiled = { header: ajv.getSchema(`${QLOG_RECORD_SCHEMA_ID}#/$defs/header`)!, event: ajv.getSchema(`${QLOG_RECORD_SCHEMA_ID}#/$defs/event`)! };
  }
  return compiled;
}

/**
 * Checks a sequential qlog file's text: JSON-SEQ framing (RFC 7464), the
 * first record a header and every other an event, each valid against
 * `qlog-seq.schema.json`, and event times never going back (main schema
 * §7.1: events SHOULD be in ascending time order).
 * @returns error lines naming the record (`record 3 /data/raw/length: …`); empty when valid.
 */
export function validateQlogSeq(text: string): string[] {
  let records: unknown[];
  try {
    records = parseJsonSeq(text);
  } catch (err) {
    return [err instanceof Error ? err.message : String(err)];
  }
  if (records.length === 0) return ['no record'];
  if (!text.endsWith('\n')) return ['the last record does not end with a line feed (RFC 7464)'];
  const errors: string[] = [];
  const v = validators();
  let lastTime = -Infinity;
  records.forEach((r, i) => {
    // The first record is the header (main schema §5), every other one an event.
    const validate = i === 0 ? v.header : v.event;
    if (!validate(r)) for (const e of describeAjvErrors(validate.errors, r, 20)) errors.push(`record ${i + 1} ${e}`);
    const time = (r as { time?: unknown }).time;
    if (typeof time === 'number') {
      if (time < lastTime) errors.push(`record ${i + 1} /time: ${time} ms is before the previous event (${lastTime} ms)`);
      lastTime = time;
    }
  });
  return errors;
}
