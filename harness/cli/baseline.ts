/**
 * `--baseline FILE` and `--write-baseline FILE` (on `run` and `selftest`):
 * gate on changes against a recorded baseline instead of a clean run
 * (harness/engine/baseline.ts has the format and the comparison rules).
 *
 * With `--baseline`, the exit code is 0 when the run matches the baseline
 * (known failures allowed), 1 on any new failure or unexpected pass, and,
 * as without a baseline, 3 when the target failed the first sanity probe,
 * when the run was interrupted, or when a case ended in `error` that the
 * baseline does not record as `error` (it could not be judged).
 */
import type { Command } from 'commander';
import { ExitCode, UsageError } from '../engine/errors.js';
import { compareBaseline, loadBaseline, writeBaseline, type Baseline, type BaselineChange, type BaselineComparison } from '../engine/baseline.js';
import type { RunResult, Verdict } from '../engine/types.js';
import type { CliIo } from './common.js';

/** The baseline flags. */
export interface BaselineFlags {
  /** `--baseline FILE`: compare with this baseline and gate on the differences. */
  baseline?: string;
  /** `--write-baseline FILE`: record this run's verdicts as a baseline. */
  writeBaseline?: string;
}

/** Adds `--baseline FILE` and `--write-baseline FILE`. */
export function addBaselineOptions(cmd: Command): Command {
  return cmd
    .option('--baseline <file>', 'exit 0 unless a case regressed or a known failure passes, compared with this baseline (JSON)')
    .option('--write-baseline <file>', 'write this run\u2019s verdicts as a baseline (after comparing, when --baseline is given too)');
}

/**
 * Loads `--baseline` for a run of `protocol` (before the run, so that a bad
 * file costs no time).
 * @returns undefined without `--baseline`.
 * @throws UsageError naming the file: unreadable, not JSON, not a valid
 *   baseline (JSON pointer and problem), or for another protocol.
 */
export async function loadBaselineFlag(protocol: string, o: BaselineFlags): Promise<Baseline | undefined> {
  if (o.baseline === undefined) return undefined;
  const baseline = await loadBaseline(o.baseline);
  if (baseline.protocol !== protocol) {
    throw new UsageError(`--baseline ${o.baseline}: the baseline is for protocol ${JSON.stringify(baseline.protocol)}, not ${JSON.stringify(protocol)}`);
  }
  return baseline;
}

/** `N thing(s)`. */
function count(n: number, what: string, plural = `${what}s`): string {
  return `${n} ${n === 1 ? what : plural}`;
}

/** Collapses line breaks, for one-line output. */
function oneLine(s: string): string {
  return s.replace(/\s*(?:\r\n|[\r\n])\s*/g, ' ');
}

/** `pass -> fail`, or the one verdict known. */
function transition(c: BaselineChange): string {
  const v = (x: Verdict | undefined): string => x ?? '(none)';
  return `${v(c.baseline)} -> ${v(c.now)}`;
}

/** One listing line: label, id, verdicts, and why (rule and message) for cases that did not pass. */
function line(label: string, c: BaselineChange): string {
  const why = [c.rule, c.message !== undefined ? oneLine(c.message) : undefined].filter((x) => x !== undefined).join(': ');
  return `  ${label.padEnd(16)} ${c.id}  ${transition(c)}${why !== '' && c.now !== 'pass' ? `  ${why}` : ''}`;
}

/**
 * The comparison as text for the terminal (lines end with `\n`): a header
 * with the counts, one line per new failure, unexpected pass, new case and
 * other change (`LABEL  id  baseline -> now  rule: message`), baseline
 * cases not run (listed one by one only when `filtered` is false, since a
 * `--cases` filter leaves most out on purpose), and a last line
 * `Baseline: MATCHED` or `Baseline: REGRESSED` with what to do.
 *
 * @param file the baseline's file name, as given
 * @param filtered whether the run was restricted with `--cases`
 */
export function formatBaselineComparison(cmp: BaselineComparison, file: string, filtered: boolean): string {
  const out: string[] = [];
  const counts = [
    count(cmp.newFailures.length, 'new failure'),
    count(cmp.unexpectedPasses.length, 'unexpected pass', 'unexpected passes'),
    count(cmp.knownFailures.length, 'known failure'),
    count(cmp.newCases.length, 'new case'),
    `${cmp.missingCases.length} not run`,
  ];
  out.push(`Baseline ${file}: ${counts.join(', ')}`);
  for (const c of cmp.newFailures) out.push(line('NEW FAILURE', c));
  for (const c of cmp.unexpectedPasses) out.push(line('UNEXPECTED PASS', c));
  const failing = new Set(cmp.newFailures.map((c) => c.id));
  for (const c of cmp.newCases) if (!failing.has(c.id)) out.push(line('new case', c));
  for (const c of cmp.otherChanges) out.push(line('changed', c));
  if (cmp.missingCases.length > 0) {
    if (filtered) {
      out.push(`  (${count(cmp.missingCases.length, 'baseline case')} not selected by --cases: not compared)`);
    } else {
      for (const c of cmp.missingCases) out.push(`  ${'not run'.padEnd(16)} ${c.id}  (baseline: ${c.baseline ?? '?'}; no longer in the suite?)`);
    }
  }
  if (cmp.ok) {
    out.push(`Baseline: MATCHED (${count(cmp.knownFailures.length, 'known failure')} allowed)`);
  } else {
    const what = [
      cmp.newFailures.length > 0 ? count(cmp.newFailures.length, 'new failure') : undefined,
      cmp.unexpectedPasses.length > 0 ? count(cmp.unexpectedPasses.length, 'unexpected pass', 'unexpected passes') : undefined,
    ].filter((x) => x !== undefined);
    const hint = cmp.unexpectedPasses.length > 0 ? '; known failures now pass: record them with --write-baseline' : '';
    out.push(`Baseline: REGRESSED (${what.join(', ')}${hint})`);
  }
  return `${out.join('\n')}\n`;
}

/**
 * After a run (reports written, summary printed): writes `--write-baseline`
 * and, with `--baseline`, prints the comparison on stdout and decides the
 * exit code.
 *
 * The baseline is written only for a complete run: not when the target
 * failed the first sanity probe unreachable or silent (nothing was judged;
 * a `wrong` answer is judged like a case) or the run was
 * interrupted (a note on stderr says so).
 *
 * @param baseline what {@link loadBaselineFlag} loaded, if anything
 * @param aborted whether the run was interrupted (Ctrl-C)
 * @returns the exit code with `--baseline`: 1 on a new failure or an
 *   unexpected pass, else 3 when the run was interrupted or a case ended in
 *   an `error` the baseline does not record, else 0; undefined without
 *   `--baseline` (the caller decides as usual). A failed first probe is
 *   left to the caller (exit 3).
 */
export async function finishBaseline(
  run: RunResult,
  baseline: Baseline | undefined,
  o: BaselineFlags & { cases?: string },
  io: CliIo,
  aborted: boolean,
): Promise<number | undefined> {
  // A wrong answer to the probe is judged (the cases ran, the probe case failed): only unreachable / silent targets leave nothing judged.
  const probeFailed = run.probes[0]?.ok === false && run.probes[0].verdict !== 'wrong';
  let code: number | undefined;
  if (baseline !== undefined && o.baseline !== undefined) {
    const cmp = compareBaseline(run, baseline);
    io.out(formatBaselineComparison(cmp, o.baseline, o.cases !== undefined));
    const unrecordedError = run.cases.some((c) => c.verdict === 'error' && baseline.cases[c.id] !== 'error');
    code = !cmp.ok ? ExitCode.FAILURES : aborted || unrecordedError ? ExitCode.TARGET : ExitCode.OK;
  }
  if (o.writeBaseline !== undefined) {
    if (probeFailed || aborted) {
      io.err(`wirecheck: baseline ${o.writeBaseline} not written: ${aborted ? 'the run was interrupted' : 'the target failed the sanity probe'}\n`);
    } else {
      const path = await writeBaseline(run, o.writeBaseline);
      io.out(`Baseline written: ${path} (${count(run.cases.length, 'case')})\n`);
    }
  }
  return code;
}
