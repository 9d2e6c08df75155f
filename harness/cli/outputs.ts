/**
 * What a run leaves behind under `--out`: each case's trace file
 * (`traces/<protocol>/<case>.jsonl`, linked from the reports) and the
 * reports chosen with `--reporter` (TAP, JSON, JUnit XML, HTML).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { TRACE_FORMAT_VERSION } from '../engine/trace.js';
import type { RunResult } from '../engine/types.js';
import { loadSuite, projectRoot } from '../engine/registry.js';
import { UsageError } from '../engine/errors.js';
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

/** File name of a case's trace: its id with every character outside [A-Za-z0-9._-] as `_`. */
export function traceFileName(caseId: string): string {
  return `${caseId.replace(/[^A-Za-z0-9._-]+/g, '_')}.jsonl`;
}

/**
 * The suite's SPEC.md (`suites/<protocol>/SPEC.md`) as the HTML report
 * links it: its path relative to the report folder and its numbered
 * sections; undefined when the file cannot be read (rule ids then stay text).
 */
export async function specIndexFor(protocol: string, out: string): Promise<SpecIndex | undefined> {
  const file = path.join(projectRoot, 'suites', protocol, 'SPEC.md');
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
 * Writes every case's trace, then the run's reports (which link the traces)
 * to `o.out` as `<protocol>.tap` / `<protocol>.json` / `<protocol>.xml` (JUnit)
 * / `<protocol>.html`. The HTML report draws the traces with the frames the
 * suite's codec decodes (as in the trace files).
 * @returns the run as reported (with `traceFile` set) and the report paths written.
 * @throws the file system's error when the folder cannot be written.
 */
export async function writeReports(run: RunResult, o: ReportFlags, extras: ReportExtras = {}): Promise<{ run: RunResult; written: string[] }> {
  const suite = await loadSuite(run.protocol);
  const cases = [];
  const formats = reportFormats(o.reporter);
  const annotated = new Map<string, RunResult['cases'][number]['trace']>();
  for (const c of run.cases) {
    if (c.trace.length === 0) {
      cases.push(c);
      continue;
    }
    const rel = path.join('traces', run.protocol, traceFileName(c.id));
    const events = [...annotate(c.trace, suite.createMonitor(run.profile))];
    if (formats.includes('html')) annotated.set(c.id, events);
    await writeTrace(
      path.join(o.out, rel),
      { type: 'header', format: 'wirecheck-trace', version: TRACE_FORMAT_VERSION, protocol: run.protocol, specVersion: run.specVersion, profile: run.profile as Record<string, unknown>, target: run.target, recordedBy: 'client', case: c.id, description: c.description },
      events,
    );
    cases.push({ ...c, traceFile: rel });
  }
  const reported: RunResult = { ...run, cases };
  const written: string[] = [];
  const base = path.join(o.out, run.protocol);
  if (formats.includes('tap')) written.push(await writeTapReport(reported, `${base}.tap`));
  if (formats.includes('json')) written.push(await writeJsonReport(reported, `${base}.json`));
  if (formats.includes('junit')) written.push(await writeJunitReport(reported, `${base}.xml`));
  if (formats.includes('html')) {
    // Loaded on demand: preact is not needed by runs without an HTML report.
    const { writeHtmlReport } = await import('../reports/html/index.js');
    const drawn: RunResult = { ...reported, cases: reported.cases.map((c) => ({ ...c, trace: annotated.get(c.id) ?? c.trace })) };
    const spec = await specIndexFor(run.protocol, o.out);
    written.push(await writeHtmlReport(drawn, `${base}.html`, { ...(spec ? { spec } : {}), ...(extras.campaign ? { campaign: extras.campaign } : {}) }));
  }
  return { run: reported, written };
}
