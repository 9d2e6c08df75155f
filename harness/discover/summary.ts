/**
 * A discovery as people read it (terminal) and as files keep it: the
 * profile (`--out FILE`, valid against the suite's profile schema) and the
 * explanation beside it (`FILE` with `.discovery.json`: every field, why,
 * the raw measurements and the evidence excerpts).
 */
import * as util from 'node:util';
import { formatDuration } from '../reports/summary.js';
import { forTerminal } from '../reports/terminal.js';
import type { DiscoveryResult, FieldReport } from './types.js';

/** Options of {@link formatDiscovery}. */
export interface DiscoverySummaryOptions {
  readonly color?: boolean;
  /** Show the evidence excerpts of every field (default: only of fields dropped by a check). */
  readonly evidence?: boolean;
}

/** The value of a field as the summary shows it. */
function shown(r: FieldReport): string {
  if (r.status === 'determined') return JSON.stringify(r.value);
  if (r.lowerBoundMs !== undefined) return `> ${r.lowerBoundMs} ms`;
  if (r.rejectedValue !== undefined) return `(${JSON.stringify(r.rejectedValue)} dropped)`;
  return '-';
}

/**
 * The readable summary: what was determined (value, how), what was not
 * (why; a lower bound for a timer that did not fire), and the evidence of
 * every finding a check dropped (a deviation, or a reading the profile
 * cannot express).
 */
export function formatDiscovery(r: DiscoveryResult, opts: DiscoverySummaryOptions = {}): string {
  const paint = (style: Parameters<typeof util.styleText>[0], s: string) => (opts.color ? util.styleText(style, s) : s);
  const lines: string[] = [];
  lines.push(paint('bold', `Discovery of ${r.protocol} at ${r.target}`) + `  (${formatDuration(r.durationMs)} of a ${formatDuration(r.budgetMs)} budget)`);
  if (r.probe.verdict !== 'ok') lines.push(`  sanity probe: ${r.probe.verdict}${r.probe.message ? ` (${forTerminal(r.probe.message)})` : ''}`);
  const entries = Object.entries(r.fields);
  const width = Math.max(12, ...entries.map(([k]) => k.length)) + 2;
  const vwidth = Math.max(8, ...entries.map(([, f]) => Math.min(24, shown(f).length))) + 2;
  const section = (title: string, list: [string, FieldReport][]) => {
    if (list.length === 0) return;
    lines.push(`  ${title}`);
    for (const [name, f] of list) {
      lines.push(`    ${name.padEnd(width)}${shown(f).padEnd(vwidth)}${forTerminal(f.summary)}`);
      const samples = f.status === 'determined' ? f.samplesMs : undefined;
      if (samples && samples.length) lines.push(`    ${''.padEnd(width + vwidth)}${paint('dim', `measured: ${samples.map((s) => `${s} ms`).join(', ')}`)}`);
      const show = opts.evidence === true || (f.status === 'undetermined' && f.rejectedValue !== undefined);
      if (show) {
        for (const ev of f.evidence) {
          lines.push(`      ${paint('dim', `evidence (${ev.attempt}): ${ev.caption}`)}`);
          for (const l of ev.lines) lines.push(`        ${forTerminal(l)}`);
        }
      }
    }
  };
  const determined = entries.filter(([, f]) => f.status === 'determined');
  section(paint('green', 'determined (written to the profile)'), determined);
  section(paint('yellow', 'not determined (left out: the run takes the base profile\u2019s value)'), entries.filter(([, f]) => f.status === 'undetermined'));
  return lines.join('\n');
}

/** The explanation file's name for a profile written to `out`: `x.json` → `x.discovery.json`. */
export function explanationFile(out: string): string {
  return out.endsWith('.json') ? `${out.slice(0, -'.json'.length)}.discovery.json` : `${out}.discovery.json`;
}

/** The profile file's text (pretty JSON, newline-terminated). */
export function profileText(r: DiscoveryResult): string {
  return `${JSON.stringify(r.profile, null, 2)}\n`;
}

/** The explanation file's text: the whole {@link DiscoveryResult}. */
export function explanationText(r: DiscoveryResult): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}
