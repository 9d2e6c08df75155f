/**
 * JUnit XML report, the format CI test reporters read natively (Jenkins
 * `junit`, GitLab `artifacts:reports:junit`, GitHub Actions test-report
 * actions). Built with xmlbuilder2, so escaping and well-formedness are the
 * library's job; characters XML 1.0 cannot carry (control characters, lone
 * surrogates) are written as `\uXXXX`.
 *
 * Structure (the widely used Ant/Jenkins dialect):
 *
 *     <testsuites name="wirecheck" tests failures errors skipped time>
 *       <testsuite name="<protocol>" tests failures errors skipped time timestamp>
 *         <properties>  target, protocol, specVersion, profile (JSON), tool, toolVersion, nonStrict
 *         <testcase classname="<protocol>.<section>" name="<case id>" time="<seconds>">
 *           <failure message="RULE: seen" type="fail|timeout">details</failure>
 *           | <error message="..." type="error">details</error>
 *           | <skipped message="reason"/>
 *           <system-out>non-strict note (non-strict cases only)</system-out>
 *         </testcase>
 *         <system-out>run header and sanity probes</system-out>
 *       </testsuite>
 *     </testsuites>
 *
 * Verdict mapping:
 *
 * | verdict    | testcase child                                 | counted in |
 * |------------|------------------------------------------------|------------|
 * | pass       | none                                           | tests      |
 * | non-strict | `<system-out>` naming the SHOULD rule broken   | tests (passes) |
 * | fail       | `<failure type="fail">`                        | failures   |
 * | timeout    | `<failure type="timeout">`                     | failures   |
 * | error      | `<error type="error">`                         | errors     |
 * | skipped    | `<skipped message>`                            | skipped    |
 *
 * A non-strict case met every MUST and broke only a SHOULD. JUnit has no
 * "passed with a warning": a `<failure>` would turn the CI tools' test view
 * red for a run whose exit code is 0, and `<skipped>` would claim the case
 * did not run. So it is a passing testcase whose `<system-out>` starts with
 * `non-strict: RULE (SHOULD)` and gives the details; the suite's `nonStrict`
 * property counts them.
 */
import { writeFileAtomic } from './atomic.js';
import { resolve } from 'node:path';
import { create } from 'xmlbuilder2';
import type { CaseResult, RunResult, Verdict } from '../engine/types.js';
import { isViolation } from './finding.js';
import { DEFAULT_EXCERPT_RADIUS, formatTraceTime, traceExcerpt } from './trace-format.js';

/** Options of {@link toJunit}. */
export interface JunitOptions {
  /** Events shown either side of the violation in trace excerpts (default 6: at most 13 events). */
  readonly traceRadius?: number;
}

type Builder = ReturnType<typeof create>;

/** Seconds with millisecond precision, as JUnit's `time` attributes want (`0.012`). */
function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

/** Collapses line breaks and runs of whitespace around them: attribute values are one line. */
function oneLine(s: string): string {
  return s.replace(/\s*(?:\r\n|[\r\n])\s*/g, ' ').replace(/\t/g, ' ');
}

/** Normalises line ends to `\n` (XML parsers would do it anyway). */
function lf(s: string): string {
  return s.replace(/\r\n?/g, '\n');
}

/** Writes a character XML 1.0 cannot carry as a visible `\uXXXX` escape. */
function replaceInvalid(ch: string): string {
  return `\\u${(ch.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`;
}

/** The rule a case broke, from the case or its finding. */
function brokenRule(c: CaseResult): string | undefined {
  return c.rule ?? c.violation?.rule;
}

/** The `message` attribute of a failure: `RULE: why` (the case's message, else what was seen), on one line. */
function failureMessage(c: CaseResult): string {
  const rule = brokenRule(c);
  const why = c.message ?? c.violation?.seen ?? (c.verdict === 'timeout' ? 'timed out' : c.verdict);
  return oneLine(rule !== undefined ? `${rule}: ${why}` : why);
}

/**
 * The text of a failure, error or non-strict note: the case, the rule and
 * requirement, expected against seen, the model's state and where the
 * violation happened, and a trace excerpt with the violation marked.
 */
function details(c: CaseResult, opts: JunitOptions): string {
  const lines: string[] = [];
  const v = c.violation;
  const rule = brokenRule(c);
  lines.push(`Case: ${c.id}: ${c.description}`);
  if (rule !== undefined) {
    lines.push(`Rule: ${rule}${v !== undefined ? ` (${v.severity.toUpperCase()})` : ''}`);
  }
  if (c.rules.length > 0) lines.push(`Checks: ${c.rules.join(', ')}`);
  if (c.requirement !== '') lines.push(`Requirement: ${c.requirement}`);
  c.expected.forEach((e, i) => lines.push(`${i === 0 ? 'Expected' : '      or'}: ${e}`));
  if (v !== undefined) {
    lines.push(`Model expected: ${v.expected}`);
    lines.push(`Seen: ${v.seen}`);
  }
  if (c.message !== undefined && c.message !== v?.seen) lines.push(`${c.verdict === 'error' ? 'Error' : 'Message'}: ${c.message}`);
  if (v !== undefined && isViolation(v)) {
    const where = v.missing ? `deadline ${formatTraceTime(v.t)}, nothing seen` : `event ${v.index} at ${formatTraceTime(v.t)}`;
    lines.push(`State: ${v.state} (${where})`);
  }
  if (c.trace.length > 0) {
    const centre = v !== undefined && isViolation(v) ? v.index : undefined;
    const excerpt = traceExcerpt(c.trace, centre, opts.traceRadius ?? DEFAULT_EXCERPT_RADIUS, { mark: '  <-- violation' });
    if (v !== undefined && isViolation(v) && v.missing) {
      excerpt.push(`${formatTraceTime(v.t)} deadline passed: ${v.expected}  <-- violation`);
    }
    lines.push('Trace:', ...excerpt.map((l) => `  ${l}`));
  }
  if (c.traceFile !== undefined) lines.push(`Trace file: ${c.traceFile}`);
  if (c.targetDiedAfter === true) lines.push('The target failed the sanity probe after this case.');
  return lf(lines.join('\n'));
}

/** Number of cases of each verdict. */
function countVerdicts(cases: readonly CaseResult[]): Record<Verdict, number> {
  const counts: Record<Verdict, number> = { pass: 0, fail: 0, 'non-strict': 0, timeout: 0, error: 0, skipped: 0 };
  for (const c of cases) counts[c.verdict]++;
  return counts;
}

/** The JUnit counters of a set of cases, as attributes. */
function counters(cases: readonly CaseResult[], durationMs: number): Record<string, string> {
  const n = countVerdicts(cases);
  return {
    tests: String(cases.length),
    failures: String(n.fail + n.timeout),
    errors: String(n.error),
    skipped: String(n.skipped),
    time: seconds(durationMs),
  };
}

/** Adds one `<testcase>` for a case. */
function addCase(suite: Builder, protocol: string, c: CaseResult, opts: JunitOptions): void {
  const tc = suite.ele('testcase', { classname: `${protocol}.${c.section}`, name: c.id, time: seconds(c.durationMs) });
  switch (c.verdict) {
    case 'pass':
      break;
    case 'non-strict': {
      const rule = brokenRule(c);
      const sev = c.violation !== undefined ? ` (${c.violation.severity.toUpperCase()})` : '';
      const why = c.violation?.seen ?? c.message;
      const head = `non-strict: ${rule ?? 'a SHOULD'}${sev} was not met${why !== undefined ? `: ${oneLine(why)}` : ''}`;
      tc.ele('system-out').txt(`${head}\nEvery MUST held; the case passes. Details:\n${details(c, opts)}`);
      break;
    }
    case 'fail':
    case 'timeout':
      tc.ele('failure', { message: failureMessage(c), type: c.verdict }).txt(details(c, opts));
      break;
    case 'error':
      tc.ele('error', { message: oneLine(c.message ?? 'harness or network error'), type: 'error' }).txt(details(c, opts));
      break;
    case 'skipped':
      tc.ele('skipped', { message: oneLine(c.message ?? 'skipped') });
      break;
  }
}

/**
 * Renders a run as JUnit XML (UTF-8, XML 1.0, pretty-printed, ending with a
 * newline): one `<testsuites>` holding one `<testsuite name="<protocol>">`
 * with one `<testcase>` per case in run order. Counters are computed from
 * `run.cases`: `tests` (all cases), `failures` (fail + timeout), `errors`,
 * `skipped`; `time` attributes are seconds with three decimals (the run's
 * and each case's duration). The suite's `timestamp` is `run.startedAt`.
 *
 * Suite `<properties>`: `target`, `protocol`, `specVersion`, `profile` (the
 * profile in force as compact JSON), `tool` (`wirecheck`), `toolVersion`
 * and `nonStrict` (the number of non-strict cases, which count as passes).
 * The suite's `<system-out>` gives the run header and the outcome of every
 * sanity probe (a failed one with its message).
 *
 * A testcase has `classname="<protocol>.<section>"` (SPEC section),
 * `name="<case id>"` and `time`; see the module doc for the verdict
 * mapping. Failure and error texts hold the rule and its severity, the
 * requirement, the acceptable outcomes, what the model expected, what was
 * seen, the model's state, a trace excerpt (the violating event marked
 * `<-- violation`) and the case's trace file (relative to the report
 * folder) when one was written.
 */
export function toJunit(run: RunResult, opts: JunitOptions = {}): string {
  const doc = create({ version: '1.0', encoding: 'UTF-8', invalidCharReplacement: replaceInvalid });
  const root = doc.ele('testsuites', { name: run.tool.name, ...counters(run.cases, run.durationMs) });
  const suite = root.ele('testsuite', {
    name: run.protocol,
    ...counters(run.cases, run.durationMs),
    timestamp: run.startedAt,
  });
  const props = suite.ele('properties');
  const property = (name: string, value: string): void => void props.ele('property', { name, value: oneLine(value) });
  property('target', run.target);
  property('protocol', run.protocol);
  property('specVersion', run.specVersion);
  property('profile', JSON.stringify(run.profile));
  property('tool', run.tool.name);
  property('toolVersion', run.tool.version);
  property('nonStrict', String(countVerdicts(run.cases)['non-strict']));
  for (const c of run.cases) addCase(suite, run.protocol, c, opts);
  const header = [
    `${run.tool.name} ${run.tool.version}: protocol ${run.protocol}, spec ${run.specVersion}, target ${run.target}`,
    `started ${run.startedAt}, took ${seconds(run.durationMs)} s`,
    ...run.probes.map((p) =>
      p.ok ? `probe ${oneLine(p.when)}: ok` : `probe ${oneLine(p.when)}: FAILED${p.message !== undefined ? `: ${oneLine(p.message)}` : ''}`,
    ),
  ];
  suite.ele('system-out').txt(lf(header.join('\n')));
  return `${doc.end({ prettyPrint: true, wellFormed: true })}\n`;
}

/**
 * Writes {@link toJunit} of `run` to `file`, creating missing directories.
 * Resolves to the absolute path written.
 */
export async function writeJunitReport(run: RunResult, file: string, opts: JunitOptions = {}): Promise<string> {
  const path = resolve(file);
  await writeFileAtomic(path, [toJunit(run, opts)]);
  return path;
}
