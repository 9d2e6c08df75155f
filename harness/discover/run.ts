/**
 * Runs a protocol's discovery experiments against a live target (README
 * "Testing a server you did not write"): a sanity probe first, then each
 * experiment in order under its share of the whole budget, every wait with
 * a deadline; each attempt is a case-like run (fresh trace, connections
 * closed at the end, harness/engine/case-run.ts) judged by the experiment.
 * What the experiments determined is then checked (profile.ts): the
 * suite's profile schema, its cross-field checks, and the model replaying
 * every evidence trace under the discovered profile. A field that fails a
 * check is dropped and reported, never guessed.
 */
import type { ConnectOptions, Driver } from '../drivers/types.js';
import { runCase } from '../engine/case-run.js';
import { realClock, type Clock } from '../engine/clock.js';
import { messageOf } from '../engine/errors.js';
import { runProbe } from '../engine/probe.js';
import { toolVersion } from '../engine/runner.js';
import type { TraceEvent } from '../engine/trace.js';
import type { Monitor, ProtocolSuite } from '../engine/types.js';
import { excerptLines } from './evidence.js';
import { finishProfile, type Finding } from './profile.js';
import type { Attempt, DiscoveryContext, DiscoveryResult, Evidence, ExperimentReport, FieldReport } from './types.js';

/** Default budget of a whole discovery (ms): `--budget-ms`. */
export const DEFAULT_DISCOVERY_BUDGET_MS = 60_000;

/** What {@link runDiscovery} needs. */
export interface DiscoveryOptions<P extends object> {
  readonly suite: ProtocolSuite<P>;
  readonly driver: Driver;
  /** Target URL as shown in the explanation. */
  readonly targetUrl: string;
  /** Connect options (host, port, TLS); the suite's profile-derived options are added. */
  readonly connect: ConnectOptions;
  /** The profile the experiments start from (`--profile`, `--fast` or the defaults): its timers bound the waits, its tolerance is the least one written. */
  readonly base: P;
  /** Time the whole discovery may take (ms), probe included. */
  readonly budgetMs: number;
  /** Time and timers (default the real clock; a `VirtualClock` with an in-memory target). */
  readonly clock?: Clock;
  /** Aborting it skips the experiments not started yet (their fields are reported undetermined). */
  readonly signal?: AbortSignal;
  /** Progress lines. */
  readonly onProgress?: (line: string) => void;
  /** Deadline of the sanity probe (ms); default 10 s, never beyond the budget. */
  readonly probeDeadlineMs?: number;
}

/** A monitor that accepts everything: discovery experiments judge their own attempts (the model checks the evidence afterwards). */
const passiveMonitor = (): Monitor => ({
  feed: () => [],
  advance: () => [],
  nextDeadline: () => undefined,
  settled: () => true,
  describe: () => 'discovery (no model while experimenting)',
});

/**
 * Discovers the target's profile.
 * @throws Error when the suite has no `discover` support (the CLI checks first).
 * Never throws for anything the target does: an unreachable or silent target gives a result whose `probe.verdict` says so and no experiment.
 */
export async function runDiscovery<P extends object>(o: DiscoveryOptions<P>): Promise<DiscoveryResult> {
  const { suite } = o;
  const support = suite.discover;
  if (!support) throw new Error(`protocol ${suite.name} has no discovery support (suites/${suite.name}/discover.ts)`);
  const clock = o.clock ?? realClock;
  const nowMs = (): number => clock.nowUs() / 1000;
  const started = nowMs();
  const startedAt = new Date().toISOString();
  const endAt = started + o.budgetMs;
  const say = (line: string): void => o.onProgress?.(line);
  const connect: ConnectOptions = { ...o.connect, ...suite.connectOptions(o.base), ...stripUndefined(o.connect) };
  const clockOpt = o.clock ? { clock: o.clock } : {};

  const findings = new Map<string, Finding>();
  const misses = new Map<string, FieldReport & { status: 'undetermined' }>();
  const traces = new WeakMap<Evidence, readonly TraceEvent[]>();
  const experiments: ExperimentReport[] = [];
  const allFields = [...new Set(support.experiments.flatMap((e) => e.fields))];

  const probeOut = await runProbe({ suite, driver: o.driver, connect, profile: o.base, deadlineMs: Math.max(1, Math.min(o.probeDeadlineMs ?? 10_000, o.budgetMs)), ...clockOpt });
  const probe = { verdict: probeOut.verdict, ...(probeOut.message !== undefined ? { message: probeOut.message } : {}) };
  // Round trip: the smallest of the probe's exchange and two more (a first exchange also pays for setting things up).
  const rtts = [roundTrip(probeOut.outcome.trace.events)];
  if (probeOut.verdict === 'ok') {
    for (let i = 0; i < 2; i++) rtts.push(roundTrip((await runProbe({ suite, driver: o.driver, connect, profile: o.base, deadlineMs: Math.max(1, Math.min(o.probeDeadlineMs ?? 10_000, endAt - nowMs())), ...clockOpt })).outcome.trace.events));
  }
  const known = rtts.filter((x): x is number => x !== undefined);
  const rttMs = known.length ? Math.min(...known) : 0;
  say(`probe: ${probeOut.verdict}${probeOut.message ? ` (${probeOut.message})` : ''}${known.length ? `; round trip ${rttMs} ms (smallest of ${known.map((x) => `${x} ms`).join(', ')})` : ''}`);

  if (probeOut.verdict === 'unreachable' || probeOut.verdict === 'silent') {
    for (const f of allFields) misses.set(f, { status: 'undetermined', summary: `no experiment ran: the target is ${probeOut.verdict} (${probeOut.message ?? ''})`, evidence: [] });
  } else {
    let profile: P = o.base;
    for (const [i, exp] of support.experiments.entries()) {
      const rest = support.experiments.slice(i + 1);
      const remaining = endAt - nowMs();
      const reserve = rest.reduce((s, e) => s + e.minMs(profile), 0);
      const weights = support.experiments.slice(i).reduce((s, e) => s + (e.weight ?? 1), 0);
      const need = exp.minMs(profile);
      // Earlier experiments come first: later ones are skipped when the budget runs out, not the other way round.
      const avail = Math.max(need, remaining - reserve);
      if (o.signal?.aborted || remaining < need) {
        const why = o.signal?.aborted ? 'discovery was interrupted' : `not run: the budget left (${Math.max(0, Math.round(remaining))} ms) is below the ${need} ms it needs (raise --budget-ms)`;
        for (const f of exp.fields) if (!findings.has(f) && !misses.has(f)) misses.set(f, { status: 'undetermined', summary: why, evidence: [], experiment: exp.id });
        experiments.push({ id: exp.id, description: exp.description, budgetMs: 0, durationMs: 0, message: why, attempts: [] });
        say(`${exp.id}: skipped (${why})`);
        continue;
      }
      let share = Math.min(avail, remaining, Math.max(need, (remaining * (exp.weight ?? 1)) / weights));
      if (exp.maxMs) share = Math.max(need, Math.min(share, exp.maxMs(profile)));
      share = Math.floor(share);
      const expStart = nowMs();
      const shareEnd = expStart + share;
      const attempts: ExperimentReport['attempts'][number][] = [];
      say(`${exp.id}: ${exp.description} (up to ${share} ms)`);
      const current = profile;
      const ctx: DiscoveryContext<P> = {
        profile: current,
        latencyMs: rttMs / 2,
        budgetMs: share,
        remainingMs: () => Math.max(0, Math.floor(shareEnd - nowMs())),
        determined: (field) => findings.get(field)?.value,
        async attempt(label, body, deadlineMs) {
          const full = `${exp.id}: ${label}`;
          const left = Math.max(1, Math.floor(shareEnd - nowMs()));
          const deadline = Math.max(1, Math.min(deadlineMs ?? left, left));
          const out = await runCase({ driver: o.driver, connect, profile: current, monitor: passiveMonitor(), body, deadlineMs: deadline, ...clockOpt });
          const trace = out.trace.events;
          const verdict = out.verdict === 'pass' || out.verdict === 'non-strict' || out.verdict === 'fail' ? 'pass' : out.verdict;
          const a: Attempt = {
            label: full,
            trace,
            verdict,
            ...(out.verdict === 'timeout' || out.verdict === 'error' ? { message: out.message ?? out.verdict } : {}),
            durationMs: out.durationMs,
            cite(caption, indices) {
              const ev: Evidence = { attempt: full, caption, lines: excerptLines(trace, indices) };
              traces.set(ev, trace);
              return ev;
            },
          };
          attempts.push({ label: full, verdict, durationMs: out.durationMs, ...(a.message !== undefined ? { message: a.message } : {}) });
          if (verdict === 'error') say(`  ${full}: harness or network error: ${a.message ?? ''}`);
          return a;
        },
        determine(field, value, details) {
          const prior = findings.get(field);
          // An experiment may refine its own finding (a further sample); two experiments that disagree leave the field out.
          if (prior && prior.experiment !== exp.id && JSON.stringify(prior.value) !== JSON.stringify(value)) {
            findings.delete(field);
            misses.set(field, { status: 'undetermined', summary: `experiments disagree: ${prior.experiment} found ${JSON.stringify(prior.value)}, ${exp.id} found ${JSON.stringify(value)}`, evidence: [...prior.evidence, ...details.evidence], experiment: exp.id });
            return;
          }
          if (misses.has(field) && misses.get(field)!.summary.startsWith('experiments disagree')) return;
          misses.delete(field);
          findings.set(field, { field, value, summary: details.summary, ...(details.samplesMs ? { samplesMs: details.samplesMs } : {}), evidence: details.evidence, experiment: exp.id });
          say(`  ${field} = ${JSON.stringify(value)}: ${details.summary}`);
        },
        undetermined(field, details) {
          if (findings.has(field)) return;
          misses.set(field, { status: 'undetermined', summary: details.summary, ...(details.lowerBoundMs !== undefined ? { lowerBoundMs: details.lowerBoundMs } : {}), evidence: details.evidence ?? [], experiment: exp.id });
          say(`  ${field}: not determined: ${details.summary}`);
        },
        progress: (text) => say(`  ${text}`),
      };
      let message: string | undefined;
      try {
        await exp.run(ctx);
      } catch (err) {
        message = `the experiment failed (harness trouble): ${messageOf(err)}`;
        say(`  ${message}`);
      }
      for (const f of exp.fields) {
        if (!findings.has(f) && !misses.has(f)) misses.set(f, { status: 'undetermined', summary: message ?? 'the experiment reached no conclusion', evidence: [], experiment: exp.id });
      }
      experiments.push({ id: exp.id, description: exp.description, budgetMs: share, durationMs: Math.round(nowMs() - expStart), ...(message !== undefined ? { message } : {}), attempts });
      for (const f of exp.fields) {
        const found = findings.get(f);
        if (found) profile = { ...profile, [f]: found.value };
      }
    }
  }

  for (const [f, why] of Object.entries(support.notMeasured ?? {})) if (!findings.has(f) && !misses.has(f)) misses.set(f, { status: 'undetermined', summary: `not measured: ${why}`, evidence: [] });
  allFields.push(...Object.keys(support.notMeasured ?? {}).filter((f) => !allFields.includes(f)));
  const { profile, fields } = finishProfile(suite, o.base, findings, misses, allFields, (ev) => traces.get(ev));
  for (const [name, r] of Object.entries(fields)) if (r.status === 'undetermined' && r.rejectedValue !== undefined) say(`  ${name}: dropped: ${r.summary}`);
  return {
    tool: { name: 'wirecheck', version: toolVersion },
    protocol: suite.name,
    target: o.targetUrl,
    startedAt,
    durationMs: Math.round(nowMs() - started),
    budgetMs: o.budgetMs,
    probe,
    profile,
    fields,
    experiments,
  };
}

/** Time (ms) from a trace's first client data to the first server data after it, or undefined. */
function roundTrip(trace: readonly TraceEvent[]): number | undefined {
  const req = trace.findIndex((e) => e.type === 'data' && e.dir === 'c2s');
  const ans = req >= 0 ? trace.findIndex((e, i) => i > req && e.type === 'data' && e.dir === 's2c') : -1;
  return ans >= 0 ? Math.round(trace[ans]!.t - trace[req]!.t) / 1000 : undefined;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
