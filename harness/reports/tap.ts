/**
 * TAP version 14 report (https://testanything.org/tap-version-14-specification.html),
 * one test point per case, for CI systems and TAP consumers.
 *
 * Verdict mapping:
 *
 * | verdict    | test point                                         | fails a TAP run? |
 * |------------|----------------------------------------------------|------------------|
 * | pass       | `ok N - id: description`                           | no               |
 * | non-strict | `ok N - id: description # TODO non-strict: RULE`   | no (counted as todo) |
 * | skipped    | `ok N - id: description # SKIP reason`             | no (counted as skip) |
 * | fail       | `not ok N - id: description`                       | yes              |
 * | timeout    | `not ok N - id: description`                       | yes              |
 * | error      | `not ok N - id: description`                       | yes              |
 *
 * A non-strict case met every MUST but broke a SHOULD: it is `ok` (so no
 * consumer, even one that ignores directives, fails the run) with a TODO
 * directive naming the SHOULD rule (so consumers that count directives list
 * it as an open item). Every point carries a YAML diagnostics block with the
 * verdict, the rules, the requirement and, for cases that did not pass, what
 * was expected, what was seen and a trace excerpt.
 */
import { writeFileAtomic } from './atomic.js';
import { resolve } from 'node:path';
import { stringify } from 'yaml';
import type { CaseResult, RunResult } from '../engine/types.js';
import { isViolation } from './finding.js';
import { DEFAULT_EXCERPT_RADIUS, formatTraceTime, traceExcerpt } from './trace-format.js';

/** Options of {@link toTap}. */
export interface TapOptions {
  /** Events shown either side of the violation in trace excerpts (default 6: at most 13 events). */
  readonly traceRadius?: number;
  /** Also give passing cases a trace excerpt (default false: only cases that did not pass). */
  readonly passTrace?: boolean;
}

/** Escapes text for a test point description or directive reason (TAP 14: `\` and `#`), on one line. */
function escapeTap(s: string): string {
  return s.replace(/\r\n|[\r\n]/g, ' ').replace(/\\/g, '\\\\').replace(/#/g, '\\#');
}

/** Makes text safe for a `#` comment line (one line). */
function oneLine(s: string): string {
  return s.replace(/\r\n|[\r\n]/g, ' ');
}

/** Milliseconds rounded to µs precision, for YAML. */
function ms(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** The YAML diagnostics of one case, as a plain object (key order = output order). */
function diagnostics(c: CaseResult, opts: TapOptions): Record<string, unknown> {
  const d: Record<string, unknown> = {
    verdict: c.verdict,
    id: c.id,
    section: c.section,
    rules: [...c.rules],
    requirement: c.requirement,
    expected: [...c.expected],
  };
  const v = c.violation;
  const rule = c.rule ?? v?.rule;
  if (rule !== undefined) d['rule'] = rule;
  if (v !== undefined) {
    d['severity'] = v.severity;
    d['model_expected'] = v.expected;
    d['seen'] = v.seen;
  }
  if (c.message !== undefined && c.message !== v?.seen) d['message'] = c.message;
  if (v !== undefined && isViolation(v)) {
    d['state'] = v.state;
    d['at'] = v.missing
      ? { deadline_ms: ms(v.t / 1000), missing: true }
      : { index: v.index, t_ms: ms(v.t / 1000) };
  }
  d['duration_ms'] = ms(c.durationMs);
  if (c.targetDiedAfter === true) d['target_died_after'] = true;
  if (c.traceFile !== undefined) d['trace_file'] = c.traceFile;
  const wantTrace = c.verdict !== 'skipped' && (c.verdict !== 'pass' || opts.passTrace === true);
  if (wantTrace) {
    const radius = opts.traceRadius ?? DEFAULT_EXCERPT_RADIUS;
    const centre = v !== undefined && isViolation(v) ? v.index : undefined;
    const lines = traceExcerpt(c.trace, centre, radius, { mark: '  <-- violation' });
    if (v !== undefined && isViolation(v) && v.missing) {
      lines.push(`${formatTraceTime(v.t)} deadline passed: ${v.expected}  <-- violation`);
    }
    d['trace'] = lines;
  }
  return d;
}

/** Renders the YAML block of a test point, indented two spaces and framed by `---` / `...`. */
function yamlBlock(d: Record<string, unknown>): string[] {
  const body = stringify(d, { lineWidth: 0, minContentWidth: 0 }).replace(/\n$/, '');
  return ['  ---', ...body.split('\n').map((l) => `  ${l}`), '  ...'];
}

/** The test point line of one case (without the YAML block). */
function testPoint(c: CaseResult, n: number): string {
  const name = `${n} - ${escapeTap(`${c.id}: ${c.description}`)}`;
  switch (c.verdict) {
    case 'pass':
      return `ok ${name}`;
    case 'non-strict': {
      const rule = c.rule ?? c.violation?.rule;
      return `ok ${name} # TODO non-strict${rule !== undefined ? `: ${escapeTap(rule)}` : ''}`;
    }
    case 'skipped':
      return `ok ${name} # SKIP ${escapeTap(c.message ?? 'skipped')}`;
    case 'fail':
    case 'timeout':
    case 'error':
      return `not ok ${name}`;
  }
}

/**
 * Renders a run as TAP version 14: the version line; comment lines giving
 * the tool, protocol, spec version, target and start time, and one per
 * sanity probe (failed probes with their message); the plan `1..N`; one
 * test point per case, in run order, each followed by its YAML diagnostics
 * (two-space indented): `verdict`, `id`, `section`, `rules`, `requirement`,
 * `expected` (list), `rule` (rule broken), `severity`, `model_expected` (what
 * the model would have accepted), `seen`, `message`, `state`, `at` (`index` and `t_ms`
 * of the violation, or `deadline_ms` of a missed deadline), `duration_ms`,
 * `target_died_after`, and `trace`: an excerpt of one-line events, the
 * violating one marked `<-- violation`. Absent facts are left out. A final
 * comment gives the counts per verdict. A run with no case has the plan
 * `1..0 # SKIP no cases`.
 *
 * Output ends with a newline. See the module doc for the verdict mapping.
 */
export function toTap(run: RunResult, opts: TapOptions = {}): string {
  const out: string[] = ['TAP version 14'];
  out.push(
    `# ${oneLine(`${run.tool.name} ${run.tool.version}: protocol ${run.protocol}, spec ${run.specVersion}, target ${run.target}`)}`,
  );
  out.push(`# started ${oneLine(run.startedAt)}, took ${ms(run.durationMs)} ms`);
  for (const p of run.probes) {
    out.push(
      p.ok
        ? `# probe ${oneLine(p.when)}: ok`
        : `# probe ${oneLine(p.when)}: FAILED${p.message !== undefined ? `: ${oneLine(p.message)}` : ''}`,
    );
  }
  const n = run.cases.length;
  out.push(n === 0 ? '1..0 # SKIP no cases' : `1..${n}`);
  run.cases.forEach((c, i) => {
    out.push(testPoint(c, i + 1));
    out.push(...yamlBlock(diagnostics(c, opts)));
    if (c.targetDiedAfter === true) {
      out.push(`# target failed the sanity probe after ${oneLine(c.id)}`);
    }
  });
  const count = (v: CaseResult['verdict']): number => run.cases.filter((c) => c.verdict === v).length;
  out.push(
    `# ${n} case${n === 1 ? '' : 's'}: ${count('pass')} pass, ${count('fail')} fail, ${count('non-strict')} non-strict, ` +
      `${count('timeout')} timeout, ${count('error')} error, ${count('skipped')} skipped`,
  );
  return `${out.join('\n')}\n`;
}

/**
 * Writes {@link toTap} of `run` to `file`, creating missing directories.
 * Resolves to the absolute path written.
 */
export async function writeTapReport(run: RunResult, file: string, opts: TapOptions = {}): Promise<string> {
  const path = resolve(file);
  await writeFileAtomic(path, [toTap(run, opts)]);
  return path;
}
