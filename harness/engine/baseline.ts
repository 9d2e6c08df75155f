/**
 * Baselines: the verdict of every case of a run, kept in a small JSON file
 * so that CI can gate on *changes* rather than on a clean run. A target that
 * is known to fail some cases records them once (`--write-baseline FILE`);
 * later runs (`--baseline FILE`) pass as long as nothing regresses and no
 * known failure starts passing (the file must then be updated, so the
 * baseline only ever tightens).
 *
 * File format (`baseline.schema.json`, `$id`
 * https://wirecheck.dev/schemas/baseline-1.json):
 *
 *     {
 *       "format": "wirecheck-baseline",
 *       "version": 1,
 *       "protocol": "proton",
 *       "cases": { "proton/event/single": "fail", "proton/event/pipelined": "pass" }
 *     }
 *
 * Case ids are the suite's stable ids (`<protocol>/<section>/<name>`),
 * verdicts are those of reports. An optional `$schema` string is allowed;
 * nothing else.
 *
 * Comparison. Verdicts fall in four classes: *passing* (`pass`,
 * `non-strict`), *failing* (`fail`, `timeout`), `error` (harness or network
 * trouble: no verdict on the target) and `skipped` (not run). Only the
 * classes matter; within a class a change (pass → non-strict, fail →
 * timeout) is listed but never decides. By baseline class (rows) and class
 * in this run (columns):
 *
 * | baseline \ now    | passing             | failing       | error         | skipped |
 * |-------------------|---------------------|---------------|---------------|---------|
 * | passing           | ok                  | new failure   | new failure   | other   |
 * | failing           | **unexpected pass** | known failure | other         | other   |
 * | error, skipped    | other               | new failure   | other         | other   |
 * | absent (new case) | new case            | new case and new failure | new case | new case |
 *
 * - An `error` where the baseline says passing is a regression: the case
 *   used to be judged conforming and now cannot even be run.
 * - Only `fail` / `timeout` in the baseline are *known failures*; a case
 *   the baseline recorded as `error` or `skipped` was never judged, so a
 *   failure now is new.
 * - A case in the baseline that was not run (filtered out with `--cases`,
 *   or no longer in the suite) is listed in `missingCases`, never a
 *   regression.
 * - `ok` is true when there is no new failure and no unexpected pass.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { describeAjvErrors } from './schema-errors.js';
import baselineSchemaJson from './baseline.schema.json' with { type: 'json' };
import { UsageError } from './errors.js';
import type { CaseResult, RunResult, Verdict } from './types.js';

/** Value of a baseline's `format` field. */
export const BASELINE_FORMAT = 'wirecheck-baseline';
/** Version of the baseline format this code reads and writes. */
export const BASELINE_VERSION = 1;
/** `$id` of the baseline schema. */
export const BASELINE_SCHEMA_ID = 'https://wirecheck.dev/schemas/baseline-1.json';
/** Absolute path of `baseline.schema.json` (JSON Schema draft 2020-12). */
export const baselineSchemaPath: string = fileURLToPath(new URL('./baseline.schema.json', import.meta.url));
/** The baseline schema, as an object (the content of {@link baselineSchemaPath}). */
export const baselineSchema: object = baselineSchemaJson;

/** A baseline file's content. */
export interface Baseline {
  readonly format: typeof BASELINE_FORMAT;
  readonly version: typeof BASELINE_VERSION;
  /** Protocol suite name, e.g. `proton`. */
  readonly protocol: string;
  /** Case id → the verdict it had when the baseline was written. */
  readonly cases: Readonly<Record<string, Verdict>>;
}

/** What a verdict counts as when comparing with a baseline (see the module doc). */
export type VerdictClass = 'passing' | 'failing' | 'error' | 'skipped';

/** One case that differs from (or is only in one of) the baseline and the run. */
export interface BaselineChange {
  /** Case id. */
  readonly id: string;
  /** Verdict in the baseline; absent for a case the baseline does not have. */
  readonly baseline?: Verdict;
  /** Verdict in this run; absent for a baseline case that was not run. */
  readonly now?: Verdict;
  /** Rule the case broke in this run (fail, timeout, non-strict), when known. */
  readonly rule?: string;
  /** The run's one-line message for the case (what was seen, or the error), when it has one. */
  readonly message?: string;
}

/** Result of {@link compareBaseline}. Every list is in run order (missing cases: baseline order). */
export interface BaselineComparison {
  /** True when there is no new failure and no unexpected pass. */
  readonly ok: boolean;
  /** Cases failing (or erroring after passing) that the baseline does not list as failing. */
  readonly newFailures: readonly BaselineChange[];
  /** Cases the baseline lists as failing that pass now: update the baseline. */
  readonly unexpectedPasses: readonly BaselineChange[];
  /** Cases run that the baseline does not have (whatever their verdict). */
  readonly newCases: readonly BaselineChange[];
  /** Cases in the baseline that were not run (filtered out, or gone from the suite). */
  readonly missingCases: readonly BaselineChange[];
  /** Cases failing now that the baseline lists as failing. */
  readonly knownFailures: readonly BaselineChange[];
  /**
   * Other verdict changes, which decide nothing: pass ↔ non-strict, to or
   * from `error` / `skipped` where not a new failure (a known failure that
   * turned from fail to timeout or back is in knownFailures only).
   */
  readonly otherChanges: readonly BaselineChange[];
}

/** The class of a verdict: passing (pass, non-strict), failing (fail, timeout), error, skipped. */
export function verdictClass(v: Verdict): VerdictClass {
  switch (v) {
    case 'pass':
    case 'non-strict':
      return 'passing';
    case 'fail':
    case 'timeout':
      return 'failing';
    case 'error':
      return 'error';
    case 'skipped':
      return 'skipped';
  }
}

/** Object with its keys sorted (stable files, clean diffs). */
function sortedCases(cases: Iterable<readonly [string, Verdict]>): Record<string, Verdict> {
  return Object.fromEntries([...cases].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The baseline of a run: every case's verdict, ids sorted. */
export function baselineFromRun(run: RunResult): Baseline {
  return {
    format: BASELINE_FORMAT,
    version: BASELINE_VERSION,
    protocol: run.protocol,
    cases: sortedCases(run.cases.map((c) => [c.id, c.verdict] as const)),
  };
}

/**
 * Writes {@link baselineFromRun} of `run` to `file` (pretty JSON, 2-space
 * indent, trailing newline), creating missing directories.
 * @returns the absolute path written.
 * @throws the file system's error when the file cannot be written.
 */
export async function writeBaseline(run: RunResult, file: string): Promise<string> {
  const path = resolve(file);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(baselineFromRun(run), null, 2)}\n`, 'utf8');
  return path;
}

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  compiled ??= new Ajv2020({ allErrors: true, strict: true }).compile(baselineSchemaJson);
  return compiled;
}

/**
 * Checks parsed JSON against the baseline schema (ajv, all errors). Whether
 * the baseline's protocol is the run's is checked by {@link compareBaseline}.
 * @param where the file name, for messages
 * @throws UsageError `baseline FILE is not a valid wirecheck baseline:` followed by
 *   one line per problem, `  <JSON pointer>: <problem>` (e.g.
 *   `  /cases/proton~1event~1single: must be one of "pass", ...; got "passed"`).
 */
export function parseBaseline(data: unknown, where: string): Baseline {
  const validate = validator();
  if (!validate(data)) {
    const all = validate.errors ?? [];
    // A bad property name also fails the schema it was checked against (minLength): keep the clearer line.
    const useful = all.filter((e) => !(e.keyword === 'minLength' && e.propertyName !== undefined));
    const shown = describeAjvErrors(useful, data, 20);
    throw new UsageError(`baseline ${where} is not a valid wirecheck baseline:\n${shown.map((p) => `  ${p}`).join('\n')}`);
  }
  const { $schema: _ignored, ...fields } = data as Baseline & { $schema?: string };
  return fields;
}

/**
 * Reads and checks a baseline file.
 * @throws UsageError naming the file: cannot read (with the system's code,
 *   e.g. ENOENT), not valid JSON (with the parser's message), or not a valid
 *   baseline (see {@link parseBaseline}: JSON pointer and problem per line).
 */
export async function loadBaseline(file: string): Promise<Baseline> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`baseline ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`baseline ${file}: not valid JSON (${(err as Error).message})`);
  }
  return parseBaseline(data, file);
}

/** A change entry for a case of the run. */
function change(c: CaseResult, baseline: Verdict | undefined): BaselineChange {
  const rule = c.verdict === 'pass' || c.verdict === 'skipped' || c.verdict === 'error' ? undefined : (c.rule ?? c.violation?.rule);
  const message = c.message ?? c.violation?.seen;
  return {
    id: c.id,
    ...(baseline !== undefined ? { baseline } : {}),
    now: c.verdict,
    ...(rule !== undefined ? { rule } : {}),
    ...(message !== undefined ? { message } : {}),
  };
}

/**
 * Compares a run with a baseline, case by case (see the module doc for the
 * table). Cases are matched by id.
 * @throws UsageError when the baseline is for another protocol.
 */
export function compareBaseline(run: RunResult, baseline: Baseline): BaselineComparison {
  if (baseline.protocol !== run.protocol) {
    throw new UsageError(`baseline is for protocol ${JSON.stringify(baseline.protocol)}, the run is ${JSON.stringify(run.protocol)}`);
  }
  const newFailures: BaselineChange[] = [];
  const unexpectedPasses: BaselineChange[] = [];
  const newCases: BaselineChange[] = [];
  const knownFailures: BaselineChange[] = [];
  const otherChanges: BaselineChange[] = [];
  const ran = new Set<string>();
  for (const c of run.cases) {
    ran.add(c.id);
    const was: Verdict | undefined = Object.hasOwn(baseline.cases, c.id) ? baseline.cases[c.id] : undefined;
    const now = verdictClass(c.verdict);
    const entry = change(c, was);
    if (was === undefined) {
      newCases.push(entry);
      if (now === 'failing') newFailures.push(entry);
      continue;
    }
    const before = verdictClass(was);
    if (now === 'failing' && before === 'failing') knownFailures.push(entry);
    else if (now === 'failing' || (now === 'error' && before === 'passing')) newFailures.push(entry);
    else if (now === 'passing' && before === 'failing') unexpectedPasses.push(entry);
    else if (was !== c.verdict) otherChanges.push(entry);
  }
  const missingCases: BaselineChange[] = Object.entries(baseline.cases)
    .filter(([id]) => !ran.has(id))
    .map(([id, v]) => ({ id, baseline: v }));
  return {
    ok: newFailures.length === 0 && unexpectedPasses.length === 0,
    newFailures,
    unexpectedPasses,
    newCases,
    missingCases,
    knownFailures,
    otherChanges,
  };
}
