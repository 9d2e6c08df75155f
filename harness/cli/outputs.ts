/**
 * What a run leaves behind under `--out`: the reports chosen with
 * `--reporter` (TAP, JSON).
 */
import path from 'node:path';
import type { RunResult } from '../engine/types.js';
import { writeJsonReport, writeTapReport } from '../reports/index.js';
import type { ReportFlags } from './common.js';

/**
 * Writes the run's reports to `o.out` as `<protocol>.tap` / `<protocol>.json`.
 * @returns the paths written, in order.
 * @throws the file system's error when the folder cannot be written.
 */
export async function writeReports(run: RunResult, o: ReportFlags): Promise<string[]> {
  const written: string[] = [];
  const base = path.join(o.out, run.protocol);
  if (o.reporter !== 'json') written.push(await writeTapReport(run, `${base}.tap`));
  if (o.reporter !== 'tap') written.push(await writeJsonReport(run, `${base}.json`));
  return written;
}
