/**
 * The HTML report: one self-contained page per run (`<protocol>.html`;
 * inline CSS, a small inline script, inline SVG; no network access needed
 * to open it). Built with preact components written with htm and rendered
 * to a string with preact-render-to-string, which escapes every text and
 * attribute value: nothing a target sent (payloads, close reasons, notes)
 * is ever inserted as markup.
 *
 * Content: the run's summary (verdict counts, target, profile, duration,
 * tool version, probes), filters by verdict and SPEC section, and per case
 * its description, requirement, expected vs. seen, rule ids linked to the
 * SPEC section, and the sequence diagram of its trace (`svg.ts`) with the
 * violating event highlighted and the model's expectation beside it. For a
 * fuzz campaign: its figures, the model coverage diagram (`coverage.ts`)
 * and each finding's shrunk counterexample (the finding's case holds its
 * diagram).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { html } from 'htm/preact';
import type { VNode } from 'preact';
import { render } from 'preact-render-to-string';
import type { CaseResult, RunResult, Verdict } from '../../engine/types.js';
import type { CampaignResult } from '../../fuzz/campaign.js';
import { isViolation } from '../finding.js';
import { formatDuration } from '../summary.js';
import { REPORT_CSS, REPORT_JS } from './assets.js';
import { CoverageDiagram, coverageModel } from './coverage.js';
import { layoutSequence } from './sequence.js';
import { sectionOf, type SpecIndex } from './spec.js';
import { SequenceDiagram } from './svg.js';

export { layoutSequence, frameLabel, hexExcerpt, type SequenceLayout, type SequenceRow, type Lane } from './sequence.js';
export { specSections, ruleSection, type SpecIndex, type SpecSection } from './spec.js';
export { coverageModel, type CoverageModel } from './coverage.js';

/** What a fuzz campaign adds to its report (a subset of the campaign file). */
export type HtmlCampaign = Pick<CampaignResult, 'seed' | 'shard' | 'arbitraries' | 'durationMs' | 'stats' | 'perArbitrary' | 'coverage' | 'findings'> &
  Partial<Pick<CampaignResult, 'shards' | 'stopped' | 'replay'>>;

/** Options of {@link toHtmlReport}. */
export interface HtmlReportOptions {
  /** The suite's SPEC.md (link and sections), for rule links; rule ids are plain text without it. */
  readonly spec?: SpecIndex;
  /** The fuzz campaign the run was made from (`campaignToRun`), for its coverage and counterexamples. */
  readonly campaign?: HtmlCampaign;
  /** Most trace events drawn per diagram (default 300, a window around the violation). */
  readonly maxDiagramEvents?: number;
}

const VERDICTS: readonly Verdict[] = ['pass', 'fail', 'non-strict', 'timeout', 'error', 'skipped'];

/** Anchor id of a case (`case-proton-event-pipelined`). */
export function caseAnchor(id: string): string {
  return `case-${id.replace(/[^A-Za-z0-9_-]+/g, '-')}`;
}

function RuleLink({ rule, spec }: { rule: string; spec: SpecIndex | undefined }): VNode {
  const s = sectionOf(spec, rule);
  if (spec === undefined || s === undefined) return html`<code>${rule}</code>`;
  return html`<a class="rule" href=${`${spec.href}#${s.anchor}`} title=${`SPEC §${s.number} ${s.title}`}><code>${rule}</code></a>`;
}

function Summary({ run, spec }: { run: RunResult; spec: SpecIndex | undefined }): VNode {
  return html`
    <header>
      <h1>wirecheck report: ${run.protocol}</h1>
      <dl class="meta">
        <dt>target</dt><dd><code>${run.target}</code></dd>
        <dt>started</dt><dd>${run.startedAt}</dd>
        <dt>duration</dt><dd>${formatDuration(run.durationMs)}</dd>
        <dt>SPEC</dt><dd>${spec !== undefined ? html`<a href=${spec.href}>${run.protocol} SPEC.md</a>` : run.protocol} version ${run.specVersion}</dd>
        <dt>tool</dt><dd>${run.tool.name} ${run.tool.version}</dd>
        <dt>profile</dt><dd><details><summary><code>${JSON.stringify(run.profile).slice(0, 100)}${JSON.stringify(run.profile).length > 100 ? '…' : ''}</code></summary><pre>${JSON.stringify(run.profile, null, 2)}</pre></details></dd>
        <dt>probes</dt><dd>${run.probes.length === 0 ? 'none' : run.probes.map((p, i) => html`<div key=${i}>${p.ok ? '✓' : '✗'} ${p.when}${p.message ? `: ${p.message}` : ''}</div>`)}</dd>
      </dl>
      <div class="counts">
        <span class="total">${run.summary.total} cases:</span>
        ${VERDICTS.map((v) => html`<button key=${v} type="button" class="count" data-verdict=${v}><span class=${`badge v-${v}`}>${v}</span><b>${run.summary[v]}</b></button>`)}
      </div>
    </header>`;
}

function Filters({ run, spec }: { run: RunResult; spec: SpecIndex | undefined }): VNode {
  const sections = [...new Set(run.cases.map((c) => c.section))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return html`
    <div class="filters">
      <label>verdict <select id="f-verdict">
        <option value="">all</option>
        ${VERDICTS.map((v) => html`<option key=${v} value=${v}>${v} (${run.summary[v]})</option>`)}
      </select></label>
      <label>SPEC section <select id="f-section">
        <option value="">all</option>
        ${sections.map((s) => {
          const sec = sectionOf(spec, s);
          return html`<option key=${s} value=${s}>§${s}${sec ? ` ${sec.title}` : ''}</option>`;
        })}
      </select></label>
      <span id="f-count">${run.cases.length} cases</span>
    </div>`;
}

function CaseView({ c, spec, campaign, maxEvents }: { c: CaseResult; spec: SpecIndex | undefined; campaign: HtmlCampaign | undefined; maxEvents: number | undefined }): VNode {
  const v = c.violation;
  const finding = campaign?.findings.find((f) => f.id === c.id);
  const broken = c.rule ?? v?.rule;
  const open = c.verdict !== 'pass' && c.verdict !== 'skipped';
  const why = c.verdict === 'pass' ? undefined : (v?.seen ?? c.message)?.split('\n')[0];
  const sec = sectionOf(spec, c.section);
  const layout = c.trace.length > 0 ? layoutSequence(c.trace, v, maxEvents !== undefined ? { maxEvents } : {}) : undefined;
  return html`
    <details class="case" id=${caseAnchor(c.id)} data-verdict=${c.verdict} data-section=${c.section} data-rules=${c.rules.join(' ')} open=${open}>
      <summary>
        <span class=${`badge v-${c.verdict}`}>${c.verdict}</span>
        <span class="id mono">${c.id}</span>
        <span class="dur">${formatDuration(c.durationMs)}</span>
        ${broken !== undefined && c.verdict !== 'skipped' ? html`<${RuleLink} rule=${broken} spec=${spec} />` : null}
        ${why !== undefined ? html`<span class="why">${why}</span>` : null}
        ${c.targetDiedAfter ? html`<span class="badge v-fail">target died</span>` : null}
      </summary>
      <div class="body">
        <p>${c.description}</p>
        <blockquote>${c.requirement}</blockquote>
        <p class="rules">section ${sec !== undefined && spec !== undefined ? html`<a href=${`${spec.href}#${sec.anchor}`}>§${sec.number} ${sec.title}</a>` : c.section}
          ${c.rules.length > 0 ? html` · rules ${c.rules.map((r) => html`<${RuleLink} key=${r} rule=${r} spec=${spec} />`)}` : null}</p>
        <table class="evs">
          <tr><th>expected</th><td>${c.expected.length === 1 ? c.expected[0] : html`<ul>${c.expected.map((e, i) => html`<li key=${i}>${e}</li>`)}</ul>`}</td></tr>
          ${v !== undefined
            ? html`
              <tr><th>model expected</th><td>${v.expected}</td></tr>
              <tr><th>seen</th><td>${v.seen}</td></tr>
              ${isViolation(v) ? html`<tr><th>model state</th><td class="mono">${v.state}</td></tr><tr><th>where</th><td>${v.missing ? 'deadline passed' : `trace event ${v.index}`}</td></tr>` : null}
              <tr><th>severity</th><td>${v.severity.toUpperCase()} (${v.rule})</td></tr>`
            : null}
          ${c.message !== undefined && (finding === undefined) && c.message !== v?.seen ? html`<tr><th>message</th><td><pre>${c.message}</pre></td></tr>` : null}
          ${c.traceFile !== undefined ? html`<tr><th>trace file</th><td><a href=${c.traceFile}>${c.traceFile}</a></td></tr>` : null}
        </table>
        ${finding !== undefined
          ? html`
            <h3>Counterexample (shrunk in ${finding.shrinkCases} cases)</h3>
            <p>found after ${finding.foundAfter.generated} generated programs (${finding.foundAfter.cases} cases, ${formatDuration(finding.foundAfter.ms)}); replay with <code>--arbitraries ${finding.arbitrary} --replay ${finding.seed}:${finding.path}</code>${finding.targetDied ? '; the target then failed the liveness probe' : ''}</p>
            <pre class="counterexample">${finding.listing}</pre>`
          : null}
        ${layout !== undefined
          ? html`<h3>Sequence</h3><div class="diagram"><${SequenceDiagram} layout=${layout} trace=${c.trace} violation=${v} /></div>`
          : html`<p class="muted">No trace recorded.</p>`}
      </div>
    </details>`;
}

function Campaign({ run, campaign }: { run: RunResult; campaign: HtmlCampaign }): VNode {
  const s = campaign.stats;
  const shard = campaign.shards ? `merged shards ${campaign.shards.map((x) => `${x.index + 1}/${x.count}`).join(', ')}` : `shard ${campaign.shard.index + 1}/${campaign.shard.count}`;
  return html`
    <section class="fuzz">
      <h2>Fuzz campaign</h2>
      <dl class="meta">
        <dt>seed</dt><dd>${campaign.seed} (${shard})${campaign.replay ? ` · replay ${campaign.replay.arbitrary} ${campaign.replay.seed}:${campaign.replay.path}` : ''}</dd>
        <dt>cases</dt><dd>${s.cases} (${s.generated} generated, ${s.shrinkCases} shrinking) in ${formatDuration(campaign.durationMs)}; ${s.nonStrict} non-strict, ${s.errors} errors, ${s.duplicates} duplicate failures; ${s.probes} liveness probes (${s.probeFailures} failed)</dd>
        <dt>generators</dt><dd>${campaign.arbitraries.map((a) => {
          const p = campaign.perArbitrary[a];
          return html`<div key=${a}><code>${a}</code>: ${p ? `${p.generated} generated, ${p.cases} cases, ${p.findings} findings` : 'not run'}</div>`;
        })}</dd>
        ${campaign.stopped ? html`<dt>stopped</dt><dd>${campaign.stopped}</dd>` : null}
        <dt>findings</dt><dd>${campaign.findings.length === 0 ? 'none' : campaign.findings.map((f) => html`<div key=${f.id}><a href=${`#${caseAnchor(f.id)}`}>${f.id}</a> ${f.rule} (${f.verdict})</div>`)}</dd>
      </dl>
      <h3>Model coverage (${run.protocol})</h3>
      <div class="diagram"><${CoverageDiagram} model=${coverageModel(campaign.coverage.labels, campaign.coverage.hits)} /></div>
    </section>`;
}

/**
 * Renders the HTML report of a run: a whole document (`<!doctype html>`),
 * self-contained. Pure (no I/O).
 */
export function toHtmlReport(run: RunResult, opts: HtmlReportOptions = {}): string {
  const { spec, campaign } = opts;
  const page = html`
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="generator" content=${`${run.tool.name} ${run.tool.version}`} />
        <title>wirecheck: ${run.protocol} against ${run.target}</title>
        <style dangerouslySetInnerHTML=${{ __html: REPORT_CSS }}></style>
      </head>
      <body>
        <${Summary} run=${run} spec=${spec} />
        ${campaign !== undefined ? html`<${Campaign} run=${run} campaign=${campaign} />` : null}
        <h2>Cases</h2>
        <${Filters} run=${run} spec=${spec} />
        <main>
          ${run.cases.map((c) => html`<${CaseView} key=${c.id} c=${c} spec=${spec} campaign=${campaign} maxEvents=${opts.maxDiagramEvents} />`)}
        </main>
        <script dangerouslySetInnerHTML=${{ __html: REPORT_JS }}></script>
      </body>
    </html>`;
  return `<!doctype html>\n${render(page)}\n`;
}

/**
 * Writes the HTML report of `run` to `file`, creating missing directories.
 * Resolves to the absolute path written.
 * @throws the file system's error when the file cannot be written.
 */
export async function writeHtmlReport(run: RunResult, file: string, opts: HtmlReportOptions = {}): Promise<string> {
  const path = resolve(file);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, toHtmlReport(run, opts), 'utf8');
  return path;
}
