/**
 * What a run leaves behind under `--out`: each case's trace file
 * (`traces/<protocol>/<case>.jsonl`, linked from the reports) and the
 * reports chosen with `--reporter` (TAP, JSON, JUnit XML, HTML).
 */
import { constants } from 'node:fs';
import { access, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { TRACE_FORMAT_VERSION } from '../engine/trace.js';
import type { CaseResult, RunResult } from '../engine/types.js';
import { loadSuite, protocolRoot } from '../engine/registry.js';
import { UsageError, messageOf } from '../engine/errors.js';
import { writeJsonReport, writeJunitReport, writeTapReport } from '../reports/index.js';
import { annotate } from '../traces/annotate.js';
import { writeTrace } from '../traces/file.js';
import type { HtmlCampaign, SpecIndex } from '../reports/html/index.js';
import type { ReportFlags, ReportFormat } from './common.js';

/** The report formats, in the order they are written. */
export const REPORT_FORMATS: readonly ReportFormat[] = ['tap', 'json', 'junit', 'html'];

/**
 * The formats a `--reporter` value names: `tap`, `json`, `junit`, `html`,
 * `both` (tap and json), `all`, or a comma-separated list of these (`tap,junit`;
 * blanks around commas allowed). Returned once each, in
 * {@link REPORT_FORMATS} order.
 * @throws UsageError naming the value and the allowed choices.
 */
export function reportFormats(value: string): ReportFormat[] {
  const want = new Set<ReportFormat>();
  const parts = value.split(',').map((p) => p.trim().toLowerCase());
  for (const p of parts) {
    if (p === 'all') REPORT_FORMATS.forEach((f) => want.add(f));
    else if (p === 'both') want.add('tap').add('json');
    else if ((REPORT_FORMATS as readonly string[]).includes(p)) want.add(p as ReportFormat);
    else {
      throw new UsageError(
        `--reporter ${JSON.stringify(value)}: ${p === '' ? 'empty entry' : `unknown reporter ${JSON.stringify(p)}`}. ` +
          'Allowed choices are tap, json, both, junit, all, html, or a comma-separated list such as tap,junit.',
      );
    }
  }
  return REPORT_FORMATS.filter((f) => want.has(f));
}

/** How long checking and creating the report folder may take (ms): some file systems (`/proc`) never answer a recursive mkdir. */
export const OUT_DIR_DEADLINE_MS = 5_000;

/**
 * Makes sure reports can be written to `dir` before anything runs: creates
 * it (one level at a time, never Node's recursive mkdir, which loops under
 * `/proc`), checks that it is a writable folder by creating and removing a
 * probe file, all within {@link OUT_DIR_DEADLINE_MS}.
 * @throws UsageError naming the flag, the folder and the reason (ENOTDIR, EACCES, EROFS, ENOENT, timeout).
 */
export async function prepareOutDir(dir: string, flag = '--out'): Promise<void> {
  const fail = (why: string) => new UsageError(`${flag} ${dir}: cannot write reports there (${why})`);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(fail(`no answer from the file system within ${OUT_DIR_DEADLINE_MS} ms`)), OUT_DIR_DEADLINE_MS);
    timer.unref();
  });
  const work = (async () => {
    const abs = path.resolve(dir);
    // The nearest existing ancestor, then each missing level below it.
    const missing: string[] = [];
    let at = abs;
    for (;;) {
      const st = await stat(at).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw fail(err.code ?? err.message);
      });
      if (st) {
        if (!st.isDirectory()) throw fail(`${at === abs ? 'it' : at} is not a folder: ENOTDIR`);
        break;
      }
      missing.unshift(at);
      const up = path.dirname(at);
      if (up === at) break;
      at = up;
    }
    for (const m of missing) {
      await mkdir(m).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw fail(`mkdir ${m}: ${err.code ?? err.message}`);
      });
    }
    await access(abs, constants.W_OK).catch((err: NodeJS.ErrnoException) => {
      throw fail(err.code ?? err.message);
    });
    const probe = path.join(abs, `.wirecheck-write-test-${process.pid}`);
    const fh = await open(probe, 'w').catch((err: NodeJS.ErrnoException) => {
      throw fail(err.code ?? err.message);
    });
    await fh.close();
    await unlink(probe).catch(() => undefined);
  })();
  try {
    await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
    work.catch(() => undefined);
  }
}

/** File name of a case's trace: its id with every character outside [A-Za-z0-9._-] as `_`. */
export function traceFileName(caseId: string): string {
  return `${caseId.replace(/[^A-Za-z0-9._-]+/g, '_')}.jsonl`;
}

/** What a case's trace file header says about the run. */
export interface TraceRunInfo {
  readonly protocol: string;
  readonly specVersion: string;
  readonly target: string;
  readonly profile: object;
}

/**
 * Writes one case's trace to `out/traces/<protocol>/<case>.jsonl`
 * (annotated with the protocol's codec).
 * @returns the case with `traceFile` set (relative to `out`), or as given when its trace is empty.
 * @throws the file system's error when the file cannot be written.
 */
export async function writeCaseTrace(c: CaseResult, run: TraceRunInfo, out: string): Promise<CaseResult> {
  if (c.trace.length === 0 || c.traceFile !== undefined) return c;
  const suite = await loadSuite(run.protocol);
  const rel = path.join('traces', run.protocol, traceFileName(c.id));
  await writeTrace(
    path.join(out, rel),
    { type: 'header', format: 'wirecheck-trace', version: TRACE_FORMAT_VERSION, protocol: run.protocol, specVersion: run.specVersion, profile: run.profile as Record<string, unknown>, target: run.target, recordedBy: 'client', case: c.id, description: c.description },
    annotate(c.trace, suite.createMonitor(run.profile)),
  );
  return { ...c, traceFile: rel };
}

/**
 * The suite's SPEC.md (`suites/<protocol>/SPEC.md`) as the HTML report
 * links it: its path relative to the report folder and its numbered
 * sections; undefined when the file cannot be read (rule ids then stay text).
 */
export async function specIndexFor(protocol: string, out: string): Promise<SpecIndex | undefined> {
  const file = path.join(protocolRoot(protocol), 'suites', protocol, 'SPEC.md');
  const markdown = await readFile(file, 'utf8').catch(() => undefined);
  if (markdown === undefined) return undefined;
  const { specSections } = await import('../reports/html/spec.js');
  return { href: path.relative(path.resolve(out), file).split(path.sep).join('/'), sections: specSections(markdown) };
}

/** What some commands add to the reports of a run. */
export interface ReportExtras {
  /** The fuzz campaign the run was made from (`fuzz`): the HTML report shows its coverage and counterexamples. */
  readonly campaign?: HtmlCampaign;
}

/**
 * Writes every case's trace not written yet, then the run's reports (which
 * link the traces) to `o.out` as `<protocol>.tap` / `<protocol>.json` /
 * `<protocol>.xml` (JUnit) / `<protocol>.html`. The HTML report draws the
 * traces with the frames the suite's codec decodes (as in the trace files).
 * Each report is written to a temporary file and renamed, so a reader never
 * sees half a report; one failing format does not stop the others.
 * @returns the run as reported (with `traceFile` set) and the report paths written.
 * @throws Error naming every report or trace that could not be written (after writing the rest).
 */
export async function writeReports(run: RunResult, o: ReportFlags, extras: ReportExtras = {}): Promise<{ run: RunResult; written: string[] }> {
  const problems: string[] = [];
  const cases: CaseResult[] = [];
  for (const c of run.cases) {
    try {
      cases.push(await writeCaseTrace(c, run, o.out));
    } catch (err) {
      problems.push(`trace of ${c.id}: ${messageOf(err)}`);
      cases.push(c);
    }
  }
  const reported: RunResult = { ...run, cases };
  const written: string[] = [];
  const base = path.join(o.out, run.protocol);
  const formats = reportFormats(o.reporter);
  const writers: Record<ReportFormat, [string, (r: RunResult, f: string) => Promise<string>]> = {
    tap: [`${base}.tap`, writeTapReport],
    json: [`${base}.json`, writeJsonReport],
    junit: [`${base}.xml`, writeJunitReport],
    html: [
      `${base}.html`,
      async (r, f) => {
        // Loaded on demand: preact is not needed by runs without an HTML report.
        const { writeHtmlReport } = await import('../reports/html/index.js');
        const suite = await loadSuite(run.protocol);
        const drawn: RunResult = { ...r, cases: r.cases.map((c) => (c.trace.length === 0 ? c : { ...c, trace: [...annotate(c.trace, suite.createMonitor(run.profile))] })) };
        const spec = await specIndexFor(run.protocol, o.out);
        return writeHtmlReport(drawn, f, { ...(spec ? { spec } : {}), ...(extras.campaign ? { campaign: extras.campaign } : {}) });
      },
    ],
  };
  for (const f of formats) {
    const [file, write] = writers[f];
    try {
      written.push(await write(reported, file));
    } catch (err) {
      problems.push(`${f} report ${file}: ${messageOf(err)}`);
    }
  }
  if (problems.length > 0) throw new Error(`could not write every report (${written.length} written: ${written.join(', ') || 'none'}):\n  ${problems.join('\n  ')}`);
  return { run: reported, written };
}
