/**
 * What a run leaves behind under `--out`: each case's trace file
 * (`traces/<protocol>/<case>.jsonl`, linked from the reports) and the
 * reports chosen with `--reporter` (TAP, JSON).
 */
import path from 'node:path';
import type { RunResult } from '../engine/types.js';
import { loadSuite } from '../engine/registry.js';
import { writeJsonReport, writeTapReport } from '../reports/index.js';
import { annotate } from '../traces/annotate.js';
import { writeTrace } from '../traces/file.js';
import type { ReportFlags } from './common.js';

/** File name of a case's trace: its id with every character outside [A-Za-z0-9._-] as `_`. */
export function traceFileName(caseId: string): string {
  return `${caseId.replace(/[^A-Za-z0-9._-]+/g, '_')}.jsonl`;
}

/**
 * Writes every case's trace, then the run's reports (which link the traces)
 * to `o.out` as `<protocol>.tap` / `<protocol>.json`.
 * @returns the run as reported (with `traceFile` set) and the report paths written.
 * @throws the file system's error when the folder cannot be written.
 */
export async function writeReports(run: RunResult, o: ReportFlags): Promise<{ run: RunResult; written: string[] }> {
  const suite = await loadSuite(run.protocol);
  const cases = [];
  for (const c of run.cases) {
    if (c.trace.length === 0) {
      cases.push(c);
      continue;
    }
    const rel = path.join('traces', run.protocol, traceFileName(c.id));
    await writeTrace(
      path.join(o.out, rel),
      { type: 'header', format: 'wirecheck-trace', version: 1, protocol: run.protocol, specVersion: run.specVersion, profile: run.profile as Record<string, unknown>, target: run.target, recordedBy: 'client', case: c.id, description: c.description },
      annotate(c.trace, suite.createMonitor(run.profile)),
    );
    cases.push({ ...c, traceFile: rel });
  }
  const reported: RunResult = { ...run, cases };
  const written: string[] = [];
  const base = path.join(o.out, run.protocol);
  if (o.reporter !== 'json') written.push(await writeTapReport(reported, `${base}.tap`));
  if (o.reporter !== 'tap') written.push(await writeJsonReport(reported, `${base}.json`));
  return { run: reported, written };
}
