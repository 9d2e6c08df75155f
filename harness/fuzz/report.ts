/**
 * What a fuzz campaign leaves behind and shows: the campaign file
 * (`<protocol>.fuzz.json`, the input of `wirecheck fuzz merge`), the
 * findings as fixtures, the campaign as a {@link RunResult} (so the TAP,
 * JSON and JUnit reporters of `run` write it: one case per finding, one
 * summary case per generator, one coverage case), the merge of shard
 * campaigns, and the terminal text (progress line, summary).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { CaseResult, RunResult, Verdict } from '../engine/types.js';
import { formatFixture } from '../fixtures/format.js';
import { formatDuration } from '../reports/summary.js';
import { formatTraceTime, traceExcerpt } from '../reports/trace-format.js';
import { isViolation } from '../reports/finding.js';
import type { CampaignProgress, CampaignResult, CampaignStats, FuzzFinding } from './campaign.js';
import type { ShardSpec } from './types.js';

/** File name of a campaign file in a report folder. */
export const campaignFileName = (protocol: string): string => `${protocol}.fuzz.json`;

/** A campaign file could not be merged or read (bad file, campaigns that are not shards of one). */
export class CampaignFileError extends Error {
  readonly code = 'CAMPAIGN_FILE' as const;
  constructor(message: string) {
    super(message);
    this.name = 'CampaignFileError';
  }
}

/** Coverage figures of a campaign: labels reached, per kind, and those never reached. */
export function coverageOf(c: Pick<CampaignResult, 'coverage'>): { covered: number; total: number; states: [number, number]; transitions: [number, number]; missing: string[] } {
  const { labels, hits } = c.coverage;
  const missing = labels.filter((l) => !(hits[l] ?? 0));
  const states = labels.filter((l) => l.startsWith('state:'));
  const sCovered = states.filter((l) => hits[l]).length;
  return {
    covered: labels.length - missing.length,
    total: labels.length,
    states: [sCovered, states.length],
    transitions: [labels.length - missing.length - sCovered, labels.length - states.length],
    missing,
  };
}

/** `fuzz: 340 cases (112.3/s) · 2 findings · coverage 31/40 (states 9/9, transitions 22/31) · sequences` */
export function formatFuzzProgress(p: CampaignProgress): string {
  const rate = p.elapsedMs > 0 ? (p.stats.cases * 1000) / p.elapsedMs : 0;
  return (
    `fuzz: ${p.stats.cases} cases (${rate.toFixed(1)}/s) · ${p.findings} finding${p.findings === 1 ? '' : 's'} · ` +
    `coverage ${p.covered}/${p.labels} (states ${p.states.covered}/${p.states.total}, transitions ${p.transitions.covered}/${p.transitions.total}) · ` +
    `${p.arbitrary}${p.shrinking ? ' (shrinking)' : ''}`
  );
}

/** Where a finding's fixture is written under the report folder. */
export function findingFixturePath(out: string, f: FuzzFinding): string {
  return path.join(out, 'findings', `${f.id.split('/').pop()!}.json`);
}

/**
 * Writes the campaign file and one fixture per finding under `out`.
 * @returns the campaign file and the fixtures written.
 * @throws the file system's error when `out` cannot be written.
 */
export async function writeCampaign(c: CampaignResult, out: string): Promise<{ campaignFile: string; fixtures: string[] }> {
  await mkdir(out, { recursive: true });
  const campaignFile = path.join(out, campaignFileName(c.protocol));
  await writeFile(campaignFile, `${JSON.stringify(c, null, 1)}\n`);
  const fixtures: string[] = [];
  for (const f of c.findings) {
    const file = findingFixturePath(out, f);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, formatFixture(f.fixture));
    fixtures.push(file);
  }
  return { campaignFile, fixtures };
}

/**
 * Reads a campaign file.
 * @throws CampaignFileError naming the file when it is unreadable or not a campaign.
 */
export async function readCampaign(file: string): Promise<CampaignResult> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new CampaignFileError(`${file}: cannot read a campaign (${err instanceof Error ? err.message : String(err)})`);
  }
  const c = data as Partial<CampaignResult>;
  if (c.format !== 'wirecheck-fuzz' || c.version !== 1 || typeof c.protocol !== 'string' || !Array.isArray(c.findings) || !Array.isArray(c.rounds)) {
    throw new CampaignFileError(`${file}: not a wirecheck fuzz campaign (format "wirecheck-fuzz", version 1)`);
  }
  return c as CampaignResult;
}

const sumStats = (a: CampaignStats, b: CampaignStats): CampaignStats => {
  const out = { ...a };
  for (const k of Object.keys(out) as (keyof CampaignStats)[]) out[k] = a[k] + b[k];
  return out;
};

/**
 * Merges the campaigns of shards into one: same protocol, target profile,
 * seed, generators and round size required (the same campaign); rounds must
 * not overlap. Counters and coverage add up; findings are united by rule (the
 * one from the earliest round kept, as one campaign keeps the first failure
 * of each rule); the duration is the longest shard's.
 * @throws CampaignFileError when the campaigns are not shards of one campaign, or overlap.
 */
export function mergeCampaigns(cs: readonly CampaignResult[]): CampaignResult {
  if (cs.length === 0) throw new CampaignFileError('merge: no campaign given');
  const [base] = cs as [CampaignResult, ...CampaignResult[]];
  const seenRounds = new Set<number>();
  for (const c of cs) {
    const differs =
      c.protocol !== base.protocol ? 'protocol' :
      c.seed !== base.seed ? 'seed' :
      !isDeepStrictEqual(c.arbitraries, base.arbitraries) ? 'generators' :
      c.budget.runsPerRound !== base.budget.runsPerRound ? 'runs per round' :
      !isDeepStrictEqual(c.profile, base.profile) ? 'profile' :
      c.target !== base.target ? 'target' : undefined;
    if (differs) throw new CampaignFileError(`merge: the campaigns differ in ${differs}; only shards of one campaign (same protocol, seed, generators, profile, target) merge`);
    for (const r of c.rounds) {
      if (seenRounds.has(r)) throw new CampaignFileError(`merge: round ${r} appears in two campaigns (the same shard twice?)`);
      seenRounds.add(r);
    }
  }
  const hits: Record<string, number> = {};
  const perArbitrary: Record<string, { generated: number; cases: number; findings: number; duplicates: number }> = {};
  const byRule = new Map<string, FuzzFinding>();
  let stats = cs[0]!.stats;
  for (const [i, c] of cs.entries()) {
    if (i > 0) stats = sumStats(stats, c.stats);
    for (const [l, n] of Object.entries(c.coverage.hits)) hits[l] = (hits[l] ?? 0) + n;
    for (const [a, s] of Object.entries(c.perArbitrary)) {
      const t = (perArbitrary[a] ??= { generated: 0, cases: 0, findings: 0, duplicates: 0 });
      t.generated += s.generated;
      t.cases += s.cases;
      t.findings += s.findings;
      t.duplicates += s.duplicates;
    }
    for (const f of c.findings) {
      // One finding per rule, as in one campaign (a rule found is not shrunk again): the earliest round's.
      const prev = byRule.get(f.rule);
      if (!prev || f.round < prev.round) byRule.set(f.rule, f);
    }
  }
  const shards: ShardSpec[] = cs.map((c) => c.shard);
  const stopped = cs.map((c) => c.stopped).filter((s): s is string => s !== undefined);
  return {
    ...base,
    shard: { index: 0, count: 1 },
    shards,
    startedAt: cs.map((c) => c.startedAt).sort()[0]!,
    durationMs: Math.max(...cs.map((c) => c.durationMs)),
    rounds: [...seenRounds].sort((a, b) => a - b),
    stats,
    perArbitrary,
    coverage: { labels: base.coverage.labels, hits: Object.fromEntries(Object.entries(hits).sort(([a], [b]) => a.localeCompare(b))) },
    findings: [...byRule.values()].sort((a, b) => a.round - b.round || a.id.localeCompare(b.id)),
    ...(stopped.length ? { stopped: stopped.join('; ') } : {}),
    firstProbeOk: cs.every((c) => c.firstProbeOk),
    ...(cs.find((c) => c.probeFailure)?.probeFailure ? { probeFailure: cs.find((c) => c.probeFailure)!.probeFailure! } : {}),
  };
}

/**
 * The campaign as a run, for the reporters of `run` (TAP, JSON, JUnit):
 * one failing case per finding (id `<protocol>/fuzz/<generator>-<rule>`,
 * its trace, the replay token and the counterexample in the message), one
 * passing summary case per generator (`<protocol>/fuzz/<generator>`), and
 * one coverage case (`<protocol>/fuzz/coverage`) naming what was never
 * reached. An unreachable target makes every case `skipped` (one that
 * answered the first probe wrongly adds the failing `<protocol>/sanity-probe`
 * case first, engine/probe.ts); a campaign
 * stopped early (interrupted, terminated, an internal error, a dead target)
 * says why in each generator case's message.
 */
export function campaignToRun(c: CampaignResult): RunResult {
  const cases: CaseResult[] = c.probeFailure ? [c.probeFailure] : [];
  for (const f of c.findings) cases.push({ ...f.result, message: `${f.result.message ?? f.message}\ncounterexample:\n${f.listing}` });
  const skipped = !c.firstProbeOk;
  for (const a of c.arbitraries) {
    const s = c.perArbitrary[a] ?? { generated: 0, cases: 0, findings: 0, duplicates: 0 };
    cases.push({
      id: `${c.protocol}/fuzz/${a}`,
      section: 'fuzz',
      rules: [],
      description: `Fuzzed with ${a}: ${s.generated} programs generated, ${s.cases} cases with shrinking, ${s.findings} finding${s.findings === 1 ? '' : 's'}, ${s.duplicates} duplicate failure${s.duplicates === 1 ? '' : 's'}`,
      requirement: `Every program the ${a} generator makes is judged by the ${c.protocol} model; the target passes the liveness probe after each.`,
      expected: ['no finding (findings are reported as their own cases)'],
      verdict: skipped ? 'skipped' : 'pass',
      ...(skipped ? { message: c.stopped ?? 'the target was unreachable' } : c.stopped !== undefined ? { message: `the campaign stopped before its budget: ${c.stopped}` } : {}),
      durationMs: 0,
      trace: [],
    });
  }
  const cov = coverageOf(c);
  cases.push({
    id: `${c.protocol}/fuzz/coverage`,
    section: 'fuzz',
    rules: [],
    description: `Model coverage: ${cov.covered}/${cov.total} labels (states ${cov.states[0]}/${cov.states[1]}, transitions ${cov.transitions[0]}/${cov.transitions[1]})`,
    requirement: 'Which model states and transitions the campaign exercised (informative).',
    expected: ['every label reached'],
    verdict: skipped ? 'skipped' : 'pass',
    message: cov.missing.length ? `never reached: ${cov.missing.join(', ')}` : 'every label reached',
    durationMs: 0,
    trace: [],
  });
  const summary = { pass: 0, fail: 0, 'non-strict': 0, timeout: 0, error: 0, skipped: 0, total: cases.length } satisfies Record<Verdict, number> & { total: number };
  for (const x of cases) summary[x.verdict]++;
  const shardText = c.shards ? `merged shards ${c.shards.map((s) => `${s.index + 1}/${s.count}`).join(', ')}` : `shard ${c.shard.index + 1}/${c.shard.count}`;
  return {
    tool: c.tool,
    protocol: c.protocol,
    specVersion: c.specVersion,
    target: c.target,
    profile: c.profile,
    startedAt: c.startedAt,
    durationMs: c.durationMs,
    probes: [{ when: `fuzz campaign seed ${c.seed}, ${shardText}: before the first case`, ok: c.firstProbeOk, ...(c.firstProbeOk ? {} : { message: c.stopped ?? '' }) }],
    cases,
    summary,
  };
}

/**
 * The end-of-campaign text for a terminal: the campaign line, counters and
 * rate, each generator, coverage (and what was never reached), then every
 * finding with its rule, what was expected and seen, its budget, the
 * counterexample listing, the replay flags and a trace excerpt.
 */
export function formatFuzzSummary(c: CampaignResult, opts: { readonly replayCommand?: (f: FuzzFinding) => string; readonly fixtureFile?: (f: FuzzFinding) => string | undefined } = {}): string {
  const lines: string[] = [];
  const s = c.stats;
  const rate = c.durationMs > 0 ? (s.cases * 1000) / c.durationMs : 0;
  const shard = c.shards ? `merged ${c.shards.length} shard${c.shards.length > 1 ? 's' : ''}` : c.shard.count > 1 ? `shard ${c.shard.index + 1}/${c.shard.count}` : 'one shard';
  lines.push(`wirecheck fuzz: ${c.protocol} against ${c.target}, seed ${c.seed}, ${shard}${c.replay ? `, replay ${c.replay.arbitrary} ${c.replay.seed}:${c.replay.path}` : ''}`);
  lines.push(`  ${s.cases} cases (${s.generated} generated, ${s.shrinkCases} shrinking) in ${formatDuration(c.durationMs)}: ${rate.toFixed(1)} cases/s; ${s.nonStrict} non-strict, ${s.errors} error${s.errors === 1 ? '' : 's'}, ${s.duplicates} duplicate failure${s.duplicates === 1 ? '' : 's'}; ${s.probes} liveness probes (${s.probeFailures} failed)`);
  for (const a of c.arbitraries) {
    const p = c.perArbitrary[a];
    if (p) lines.push(`  ${a.padEnd(18)} ${p.generated} generated, ${p.cases} cases, ${p.findings} finding${p.findings === 1 ? '' : 's'}`);
  }
  const cov = coverageOf(c);
  if (s.cases > 0) lines.push(`  coverage: ${cov.covered}/${cov.total} labels (states ${cov.states[0]}/${cov.states[1]}, transitions ${cov.transitions[0]}/${cov.transitions[1]})${cov.missing.length ? `; never reached: ${cov.missing.join(', ')}` : ''}`);
  if (c.stopped) lines.push(`  stopped: ${c.stopped}`);
  for (const [i, f] of c.findings.entries()) {
    lines.push('');
    lines.push(`FINDING ${i + 1}/${c.findings.length}  ${f.id}  ${f.rule}  ${f.verdict.toUpperCase()}${f.targetDied ? '  [target failed the liveness probe]' : ''}`);
    lines.push(`  ${f.message}`);
    lines.push(`  found after ${f.foundAfter.generated} generated programs (${f.foundAfter.cases} cases, ${formatDuration(f.foundAfter.ms)}); shrunk in ${f.shrinkCases} cases`);
    lines.push('  counterexample ("=> model:" is what a conforming server does):');
    for (const l of f.listing.split('\n')) lines.push(`    ${l}`);
    lines.push(`  replay: ${opts.replayCommand ? opts.replayCommand(f) : `--arbitraries ${f.arbitrary} --replay ${f.seed}:${f.path}`}`);
    const fx = opts.fixtureFile?.(f);
    if (fx) lines.push(`  fixture: ${fx} (wirecheck replay --target URL ${fx})`);
    const v = f.result.violation;
    const centre = v !== undefined && isViolation(v) ? v.index : undefined;
    lines.push('  trace:');
    for (const l of traceExcerpt(f.result.trace, centre, 4, { mark: '  <-- violation' })) lines.push(`    ${l}`);
    if (v !== undefined && isViolation(v) && v.missing) lines.push(`    ${formatTraceTime(v.t)} deadline passed  <-- violation`);
  }
  lines.push('');
  if (c.probeFailure) lines.push(`Sanity probe FAILED before the first case: ${c.probeFailure.rule ?? '(no rule)'} (case ${c.probeFailure.id} in the reports; no program ran)`);
  lines.push(c.findings.length ? `Findings: ${c.findings.length} (${c.findings.map((f) => f.rule).join(', ')})` : 'Findings: none');
  return `${lines.join('\n')}\n`;
}
