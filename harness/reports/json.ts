/**
 * The JSON report: a {@link RunResult} serialised with `schemaVersion: 1`
 * and every case's full trace, as published in `report.schema.json`
 * (`$id` https://wirecheck.dev/schemas/report-1.json), whose trace events
 * are defined in `trace-event.schema.json`
 * (https://wirecheck.dev/schemas/trace-event-1.json).
 */
import { writeFileAtomic } from './atomic.js';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { describeAjvErrors } from '../engine/schema-errors.js';
import addFormatsModule from 'ajv-formats';
import type { CaseFinding, CaseResult, RunResult, Verdict, Violation } from '../engine/types.js';
import type { TraceEvent } from '../engine/trace.js';
import reportSchemaJson from './report.schema.json' with { type: 'json' };
import traceEventSchemaJson from './trace-event.schema.json' with { type: 'json' };
import { isViolation } from './finding.js';

/** Version of the report format written by {@link toJsonReport}. */
export const REPORT_SCHEMA_VERSION = 1;

/** `$id` of the report schema. */
export const REPORT_SCHEMA_ID = 'https://wirecheck.dev/schemas/report-1.json';
/** `$id` of the trace event schema. */
export const TRACE_EVENT_SCHEMA_ID = 'https://wirecheck.dev/schemas/trace-event-1.json';

/** Absolute path of `report.schema.json` (JSON Schema draft 2020-12). */
export const schemaPath: string = fileURLToPath(new URL('./report.schema.json', import.meta.url));
/** Absolute path of `trace-event.schema.json`, which the report schema references. */
export const traceEventSchemaPath: string = fileURLToPath(new URL('./trace-event.schema.json', import.meta.url));

/** The report schema, as an object (the content of {@link schemaPath}). */
export const reportSchema: object = reportSchemaJson;
/** The trace event schema, as an object (the content of {@link traceEventSchemaPath}). */
export const traceEventSchema: object = traceEventSchemaJson;

/** The JSON report: the run with the format version first. */
export type JsonReport = { readonly schemaVersion: typeof REPORT_SCHEMA_VERSION } & RunResult;

/** Result of {@link validateJsonReport}. */
export type ReportValidation = { readonly ok: true } | { readonly ok: false; readonly errors: string[] };

/** Copies an object without its `undefined` properties (they must not reach the JSON). */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Copies a trace event with exactly the fields its type defines, so that
 * extra runtime properties never leak into a report.
 */
function cleanEvent(ev: TraceEvent): TraceEvent {
  switch (ev.type) {
    case 'conn_open':
      return defined({ type: ev.type, t: ev.t, conn: ev.conn, remote: ev.remote, alpn: ev.alpn });
    case 'conn_fail':
      return { type: ev.type, t: ev.t, conn: ev.conn, message: ev.message };
    case 'conn_close':
      return { type: ev.type, t: ev.t, conn: ev.conn, by: ev.by, isApp: ev.isApp, code: ev.code, reason: ev.reason };
    case 'stream_open':
      return defined({ type: ev.type, t: ev.t, conn: ev.conn, stream: ev.stream, by: ev.by, dir: ev.dir });
    case 'data':
      return defined({ type: ev.type, t: ev.t, conn: ev.conn, stream: ev.stream, dir: ev.dir, hex: ev.hex, elided: ev.elided });
    case 'stream_fin':
      return { type: ev.type, t: ev.t, conn: ev.conn, stream: ev.stream, dir: ev.dir };
    case 'stream_reset':
      return { type: ev.type, t: ev.t, conn: ev.conn, stream: ev.stream, dir: ev.dir, kind: ev.kind, code: ev.code };
    case 'dgram':
      return defined({ type: ev.type, t: ev.t, conn: ev.conn, dir: ev.dir, hex: ev.hex, elided: ev.elided });
    case 'impair':
      return defined({ type: ev.type, t: ev.t, conn: ev.conn, kind: ev.kind, detail: ev.detail });
    case 'note':
      return { type: ev.type, t: ev.t, text: ev.text };
    default:
      // Unknown at runtime: kept as is, so that validation reports it.
      return { ...(ev satisfies never as object) } as TraceEvent;
  }
}

export { isViolation };

function cleanViolation(v: Violation | CaseFinding): Violation | CaseFinding {
  if (isViolation(v)) {
    return {
      rule: v.rule,
      severity: v.severity,
      index: v.index,
      t: v.t,
      expected: v.expected,
      seen: v.seen,
      state: v.state,
      missing: v.missing,
    };
  }
  return { rule: v.rule, severity: v.severity, expected: v.expected, seen: v.seen };
}

function cleanCase(c: CaseResult): CaseResult {
  return defined({
    id: c.id,
    section: c.section,
    rules: [...c.rules],
    description: c.description,
    requirement: c.requirement,
    expected: [...c.expected],
    verdict: c.verdict,
    rule: c.rule,
    message: c.message,
    violation: c.violation === undefined ? undefined : cleanViolation(c.violation),
    durationMs: c.durationMs,
    trace: c.trace.map(cleanEvent),
    targetDiedAfter: c.targetDiedAfter,
    traceFile: c.traceFile,
    traceTruncated: c.traceTruncated === undefined ? undefined : { ...c.traceTruncated },
  });
}

/**
 * Builds the JSON report of a run: a plain-data copy of `run` with
 * `schemaVersion: 1` first, each case's full trace, and exactly the fields
 * the schema defines (extra runtime properties and `undefined` values are
 * dropped). Durations stay in ms, trace times in µs; `summary` is copied
 * as given. Does not validate; see {@link validateJsonReport}.
 */
export function toJsonReport(run: RunResult): JsonReport {
  const summary: Record<Verdict, number> & { total: number } = {
    pass: run.summary.pass,
    fail: run.summary.fail,
    'non-strict': run.summary['non-strict'],
    timeout: run.summary.timeout,
    error: run.summary.error,
    skipped: run.summary.skipped,
    total: run.summary.total,
  };
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: run.tool.name, version: run.tool.version },
    protocol: run.protocol,
    specVersion: run.specVersion,
    target: run.target,
    profile: run.profile,
    startedAt: run.startedAt,
    durationMs: run.durationMs,
    probes: run.probes.map((p) => defined({ when: p.when, ok: p.ok, verdict: p.verdict, rule: p.rule, message: p.message })),
    cases: run.cases.map(cleanCase),
    summary,
  };
}

/**
 * The JSON report's text in pieces, one per case, so that a large report is
 * never one string: the same text as `JSON.stringify(report, null, 2)` plus
 * a trailing newline.
 */
export function* jsonReportParts(report: JsonReport): Generator<string> {
  // The top-level key is the only one indented by exactly two spaces.
  const marker = '\n  "cases": "@@wirecheck-cases@@"';
  const head = JSON.stringify({ ...report, cases: '@@wirecheck-cases@@' }, null, 2);
  const at = head.indexOf(marker) + '\n  "cases": '.length;
  const end = head.indexOf(marker) + marker.length;
  if (report.cases.length === 0) {
    yield `${head.slice(0, at)}[]${head.slice(end)}\n`;
    return;
  }
  yield `${head.slice(0, at)}[\n`;
  for (const [i, c] of report.cases.entries()) {
    yield `    ${JSON.stringify(c, null, 2).replace(/\n/g, '\n    ')}${i < report.cases.length - 1 ? ',' : ''}\n`;
  }
  yield `  ]${head.slice(end)}\n`;
}

/**
 * Writes the JSON report of `run` to `file` (pretty-printed, 2-space
 * indent, trailing newline), creating missing directories.
 * Resolves to the absolute path written.
 */
export async function writeJsonReport(run: RunResult, file: string): Promise<string> {
  const path = resolve(file);
  await writeFileAtomic(path, jsonReportParts(toJsonReport(run)));
  return path;
}

let compiled: ValidateFunction | undefined;

/** Compiles the report schema once (with the trace event schema and the `date-time` format). */
function validator(): ValidateFunction {
  if (compiled === undefined) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
    // ajv-formats is CommonJS: its function is both module.exports and .default.
    const addFormats = addFormatsModule.default;
    addFormats(ajv, ['date-time']);
    ajv.addSchema(traceEventSchemaJson);
    compiled = ajv.compile(reportSchemaJson);
  }
  return compiled;
}

/** Most error lines {@link validateJsonReport} returns (the rest are counted in a last line). */
const MAX_ERRORS = 50;

/**
 * Validates parsed JSON against the report schema (ajv, draft 2020-12,
 * all errors), then checks what a schema cannot say:
 * - the `summary` counts equal the number of cases of each verdict, and
 *   `total` the number of cases;
 * - case ids are unique;
 * - a violation's `index` is -1 or an index of the case's trace.
 *
 * Each error is one line naming the JSON pointer of the offending value
 * and what was wrong, e.g. `/cases/3/verdict: must be one of "pass", ...;
 * got "passed"` or `/cases/0/trace/2/dir: required property is missing`.
 * Noise from the schema's `if`/`then` dispatch is left out. At most 50
 * lines are returned.
 */
export function validateJsonReport(data: unknown): ReportValidation {
  const validate = validator();
  let errors: string[];
  if (!validate(data)) {
    errors = describeAjvErrors(validate.errors, data, Infinity);
  } else {
    errors = semanticErrors(data as JsonReport);
  }
  if (errors.length === 0) return { ok: true };
  if (errors.length > MAX_ERRORS) {
    const more = errors.length - MAX_ERRORS;
    errors = [...errors.slice(0, MAX_ERRORS), `... and ${more} more error${more === 1 ? '' : 's'}`];
  }
  return { ok: false, errors };
}

/** Checks of a schema-valid report that JSON Schema cannot express. */
function semanticErrors(report: JsonReport): string[] {
  const errors: string[] = [];
  const counts: Record<Verdict, number> = { pass: 0, fail: 0, 'non-strict': 0, timeout: 0, error: 0, skipped: 0 };
  const seen = new Map<string, number>();
  report.cases.forEach((c, i) => {
    counts[c.verdict]++;
    const first = seen.get(c.id);
    if (first !== undefined) errors.push(`/cases/${i}/id: duplicate case id ${JSON.stringify(c.id)} (also /cases/${first}/id)`);
    else seen.set(c.id, i);
    const v = c.violation;
    if (v !== undefined && isViolation(v) && v.index >= c.trace.length) {
      errors.push(`/cases/${i}/violation/index: ${v.index} is past the end of the trace (${c.trace.length} events)`);
    }
  });
  for (const k of Object.keys(counts) as Verdict[]) {
    if (report.summary[k] !== counts[k]) {
      errors.push(`/summary/${k}: is ${report.summary[k]} but ${counts[k]} case(s) have verdict ${JSON.stringify(k)}`);
    }
  }
  if (report.summary.total !== report.cases.length) {
    errors.push(`/summary/total: is ${report.summary.total} but there are ${report.cases.length} cases`);
  }
  return errors;
}
