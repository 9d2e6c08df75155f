/**
 * Human-readable terminal output: a progress line per finished case and an
 * end-of-run summary in the style of h2spec (`Expected: ... / Actual: ...`).
 * Colours come from `node:util` `styleText`; they are off when asked, when
 * `NO_COLOR` is set, or when the output is not a terminal (see
 * {@link shouldColor}).
 */
import * as util from 'node:util';
import type { CaseResult, RunResult, Verdict } from '../engine/types.js';
import { isViolation } from './finding.js';
import { formatTraceTime, traceExcerpt } from './trace-format.js';
import { forTerminal, forTerminalKeepLines } from './terminal.js';

/** Options of the terminal formatters. */
export interface SummaryOptions {
  /**
   * Colour the output (ANSI escapes). An explicit value wins over the
   * environment; when omitted, {@link shouldColor} of `process.stdout` decides.
   */
  readonly color?: boolean;
  /**
   * Events shown either side of the violation in the trace excerpt of each
   * failing case (default 3); a negative value shows no excerpt.
   */
  readonly traceRadius?: number;
}

/** Order in which verdicts are counted and listed. */
const VERDICTS: readonly Verdict[] = ['pass', 'fail', 'non-strict', 'timeout', 'error', 'skipped'];

type Style = Parameters<typeof util.styleText>[0];

const VERDICT_STYLE: Readonly<Record<Verdict, Style>> = {
  pass: 'green',
  fail: 'red',
  'non-strict': 'yellow',
  timeout: 'red',
  error: 'magenta',
  skipped: 'gray',
};

/** Width of the widest verdict label (`NON-STRICT`). */
const LABEL_WIDTH = 10;

/**
 * Whether colour should be used by default on `stream`: false when
 * `NO_COLOR` is set to a non-empty value (https://no-color.org) or
 * `NODE_DISABLE_COLORS` is set; otherwise true when `FORCE_COLOR` is set
 * (other than `0` / `false`); otherwise true when the stream is a TTY and
 * `TERM` is not `dumb`.
 */
export function shouldColor(
  stream: { readonly isTTY?: boolean } | undefined = process.stdout,
  env: Readonly<Record<string, string | undefined>> = process.env,
): boolean {
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  if (env['NODE_DISABLE_COLORS'] !== undefined && env['NODE_DISABLE_COLORS'] !== '') return false;
  const force = env['FORCE_COLOR'];
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  return stream?.isTTY === true && env['TERM'] !== 'dumb';
}

type Paint = (style: Style, s: string) => string;

function painter(opts: SummaryOptions): Paint {
  const on = opts.color ?? shouldColor();
  // styleText is Node >= 20.12; without it, no colour.
  if (!on || typeof util.styleText !== 'function') return (_style, s) => s;
  return (style, s) => util.styleText(style, s, { validateStream: false });
}

/**
 * Formats a duration in milliseconds for people: `850 ms`, `12.35 s`,
 * `2 min 5.0 s`.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return `${ms} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const min = Math.floor(ms / 60_000);
  return `${min} min ${((ms - min * 60_000) / 1000).toFixed(1)} s`;
}

/** Upper-case verdict label, e.g. `NON-STRICT`. */
function label(v: Verdict): string {
  return v.toUpperCase();
}

/** Collapses line breaks, for one-line output; other control characters (target text) are escaped (terminal.ts). */
function oneLine(s: string): string {
  return forTerminal(s.replace(/\s*(?:\r\n|[\r\n])\s*/g, ' '));
}

/** Number of cases of each verdict. */
function countVerdicts(cases: readonly CaseResult[]): Record<Verdict, number> {
  const counts: Record<Verdict, number> = { pass: 0, fail: 0, 'non-strict': 0, timeout: 0, error: 0, skipped: 0 };
  for (const c of cases) counts[c.verdict]++;
  return counts;
}

/** The rule a case broke, from the case or its finding. */
function brokenRule(c: CaseResult): string | undefined {
  return c.rule ?? c.violation?.rule;
}

/**
 * One line for a finished case, for live progress output:
 * `[ 3/41] PASS        proton/event/pipelined  (12 ms)`. Cases that did
 * not pass add the rule broken and what was seen (or the skip reason /
 * error message), cut to one line.
 *
 * @param result the finished case
 * @param index 0-based position of the case in the run (shown 1-based)
 * @param total number of cases in the run
 */
export function formatProgress(result: CaseResult, index: number, total: number, opts: SummaryOptions = {}): string {
  const paint = painter(opts);
  const width = String(total).length;
  const counter = `[${String(index + 1).padStart(width)}/${total}]`;
  const lbl = paint(VERDICT_STYLE[result.verdict], label(result.verdict).padEnd(LABEL_WIDTH));
  let line = `${counter} ${lbl} ${result.id}  ${paint('dim', `(${formatDuration(result.durationMs)})`)}`;
  if (result.verdict !== 'pass') {
    const rule = result.verdict === 'skipped' ? undefined : brokenRule(result);
    const why = result.message ?? result.violation?.seen;
    const detail = [rule, why !== undefined ? oneLine(why) : undefined].filter((x) => x !== undefined).join(': ');
    if (detail !== '') line += `  ${detail}`;
  }
  if (result.targetDiedAfter === true) line += `  ${paint('red', '[target died]')}`;
  return line;
}

/** Indents every line of a possibly multi-line text after the first by `pad`. */
function hang(text: string, pad: string): string {
  return forTerminalKeepLines(text.replace(/\r\n|[\r\n]/g, `\n${pad}`));
}

/** Details of one case that did not pass (several lines, no trailing newline). */
function caseDetails(c: CaseResult, paint: Paint, radius: number): string[] {
  const lines: string[] = [];
  const pad = '        ';
  lines.push(
    `  ${paint(VERDICT_STYLE[c.verdict], label(c.verdict).padEnd(LABEL_WIDTH))} ${paint('bold', c.id)}  ${paint('dim', `(${formatDuration(c.durationMs)})`)}`,
  );
  if (c.verdict === 'skipped') {
    if (c.message !== undefined) lines.push(`${pad}Skipped: ${hang(c.message, `${pad}         `)}`);
    return lines;
  }
  lines.push(`${pad}${hang(c.description, pad)}`);
  const v = c.violation;
  const rule = brokenRule(c);
  const severity = v !== undefined ? ` (${v.severity.toUpperCase()})` : '';
  if (rule !== undefined) {
    lines.push(`${pad}-> ${paint('bold', `${rule}${severity}`)}: ${hang(c.requirement, `${pad}   `)}`);
  } else if (c.requirement !== '') {
    lines.push(`${pad}-> ${hang(c.requirement, `${pad}   `)}`);
  }
  const sub = `${pad}   `;
  const expected = c.expected.length > 0 ? c.expected : v !== undefined ? [v.expected] : [];
  expected.forEach((e, i) => {
    lines.push(`${sub}${i === 0 ? 'Expected: ' : '      or: '}${hang(e, `${sub}          `)}`);
  });
  const actual = v?.seen ?? c.message;
  const actualLabel = c.verdict === 'error' && v === undefined ? '   Error: ' : '  Actual: ';
  if (actual !== undefined) lines.push(`${sub}${paint('red', actualLabel)}${hang(actual, `${sub}          `)}`);
  if (c.message !== undefined && c.message !== actual) {
    lines.push(`${sub} Message: ${hang(c.message, `${sub}          `)}`);
  }
  if (v !== undefined && isViolation(v)) {
    const where = v.missing
      ? `deadline ${formatTraceTime(v.t)}, nothing seen`
      : `event ${v.index} at ${formatTraceTime(v.t)}`;
    lines.push(`${sub}   Model: expected ${oneLine(v.expected)}; state ${oneLine(v.state)} (${where})`);
  }
  if (radius >= 0 && c.trace.length > 0) {
    const centre = v !== undefined && isViolation(v) ? v.index : undefined;
    const excerpt = traceExcerpt(c.trace, centre, radius, { mark: '  <-- violation' });
    if (v !== undefined && isViolation(v) && v.missing) {
      excerpt.push(`${formatTraceTime(v.t)} deadline passed  <-- violation`);
    }
    lines.push(`${sub}   Trace:`);
    for (const l of excerpt) lines.push(`${sub}     ${paint('dim', l)}`);
  }
  if (c.targetDiedAfter === true) lines.push(`${sub}${paint('red', 'The target failed the sanity probe after this case.')}`);
  return lines;
}

/**
 * The end-of-run summary for a terminal: a header (tool, protocol, spec
 * version, target, start time); the number of cases per verdict (counted
 * from `run.cases`); failed sanity probes; then each case that did not pass
 * (fail, non-strict, timeout and error first in run order with id,
 * verdict, duration, rule broken and its severity, the requirement,
 * `Expected:` (the case's acceptable outcomes) against `Actual:` (what was
 * seen), the model's expectation and state, and a trace excerpt; then
 * skipped cases with their reason); and a last line with the overall
 * result and the total duration. Lines end with `\n`.
 */
export function formatSummary(run: RunResult, opts: SummaryOptions = {}): string {
  const paint = painter(opts);
  const radius = opts.traceRadius ?? 3;
  const counts = countVerdicts(run.cases);
  const out: string[] = [];
  out.push(
    `${paint('bold', `${run.tool.name} ${run.tool.version}`)}  ${run.protocol} (spec ${run.specVersion})  target ${run.target}`,
  );
  out.push(`started ${run.startedAt}`);
  out.push('');
  const n = run.cases.length;
  out.push(
    `${n} case${n === 1 ? '' : 's'}: ` +
      VERDICTS.map((v) => {
        const s = `${counts[v]} ${v}`;
        return counts[v] > 0 && v !== 'pass' ? paint(VERDICT_STYLE[v], s) : s;
      }).join(', '),
  );

  const badProbes = run.probes.filter((p) => !p.ok);
  if (badProbes.length > 0) {
    out.push('');
    out.push(paint('red', 'Sanity probe failed:'));
    for (const p of badProbes) out.push(`  ${p.when}${p.verdict !== undefined ? ` [${p.verdict}]` : ''}${p.message !== undefined ? `: ${oneLine(p.message)}` : ''}`);
  }

  const notPassed = run.cases.filter((c) => c.verdict !== 'pass' && c.verdict !== 'skipped');
  if (notPassed.length > 0) {
    out.push('');
    out.push(paint('bold', 'Cases not passed:'));
    for (const c of notPassed) {
      out.push('');
      out.push(...caseDetails(c, paint, radius));
    }
  }
  const skipped = run.cases.filter((c) => c.verdict === 'skipped');
  if (skipped.length > 0) {
    out.push('');
    out.push(paint('bold', 'Skipped:'));
    for (const c of skipped) {
      out.push(`  ${c.id}${c.message !== undefined ? `: ${oneLine(c.message)}` : ''}`);
    }
  }

  out.push('');
  out.push(`${overall(counts, n, paint)} in ${formatDuration(run.durationMs)}`);
  return `${out.join('\n')}\n`;
}

/**
 * The overall result: FAILED when a MUST was broken or a case timed out;
 * INCOMPLETE when only harness/network errors stand in the way; PASSED
 * (NOT STRICT) when only SHOULDs were broken; NOTHING RUN when every case
 * was skipped.
 */
function overall(counts: Record<Verdict, number>, n: number, paint: Paint): string {
  const bad = (['fail', 'timeout', 'error'] as const)
    .filter((v) => counts[v] > 0)
    .map((v) => `${counts[v]} ${v}`)
    .join(', ');
  if (counts.fail + counts.timeout > 0) return `Result: ${paint('red', 'FAILED')} (${bad})`;
  if (counts.error > 0) return `Result: ${paint('magenta', 'INCOMPLETE')} (${bad})`;
  if (n === counts.skipped) return `Result: ${paint('gray', 'NOTHING RUN')}`;
  if (counts['non-strict'] > 0) {
    return `Result: ${paint('yellow', 'PASSED (NOT STRICT)')} (${counts['non-strict']} non-strict)`;
  }
  return `Result: ${paint('green', 'PASSED')}`;
}
