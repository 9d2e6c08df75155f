/**
 * The sanity probe ("is the target alive and serving?"): the suite's probe
 * body run as a case under the protocol's monitor, with one deadline for the
 * whole exchange. Its verdict tells apart a target that is unreachable, one
 * that answers wrongly (the model flags the answer: a conformance failure
 * with rule, bytes and trace) and one that is connected but silent. Used
 * before, between and after the cases of a run, and after every fuzz case
 * (liveness).
 */
import type { ConnectOptions, Driver } from '../drivers/types.js';
import type { Clock } from './clock.js';
import { runCase, type CaseRunOutcome } from './case-run.js';
import type { CaseResult, ProbeVerdict, ProtocolSuite } from './types.js';

/** Id of the case a report carries when its first sanity probe got a wrong or no answer: `<protocol>/sanity-probe`. */
export const probeCaseId = (protocol: string): string => `${protocol}/sanity-probe`;

/** What {@link runProbe} needs. */
export interface ProbeOptions<P extends object> {
  readonly suite: ProtocolSuite<P>;
  readonly driver: Driver;
  readonly connect: ConnectOptions;
  readonly profile: P;
  /** Deadline of the whole probe exchange (connect, request, answer), ms. */
  readonly deadlineMs: number;
  /** Clock of the case (default the real one). */
  readonly clock?: Clock;
}

/** Outcome of {@link runProbe}. */
export interface ProbeOutcome {
  /**
   * True when the target served the exchange: it passed (`ok`), or the
   * probe's exchange completed and the model flags the content of the
   * answer (`wrong`: the target is serving; cases and fuzz programs judge
   * the content). A wrong answer that also broke the exchange (the
   * connection refused or closed, no answer decoded) is not `ok`. Fuzz
   * liveness uses this; whether the probe passed is `verdict === 'ok'`.
   */
  readonly ok: boolean;
  readonly verdict: ProbeVerdict;
  /** Rule the model flagged, for `wrong` (and `silent` when a model deadline passed). */
  readonly rule?: string;
  /** Why it failed. */
  readonly message?: string;
  /** The probe run as a case (trace, violation), for evidence. */
  readonly outcome: CaseRunOutcome;
}

/**
 * Classifies a probe run: `ok` when it passed; `unreachable` when no
 * connection opened (no `conn_open` in the trace); `wrong` when the model
 * flagged a MUST violation that is not a missed deadline, or when a
 * deadline the model names passed after the target had answered something
 * (data or a datagram: it serves, but not as the protocol requires, e.g. a
 * chat server that acknowledges a message and never delivers it); `silent`
 * otherwise (connected but nothing, or nothing valid, in time; closed
 * before answering).
 */
export function probeVerdict(out: CaseRunOutcome): ProbeVerdict {
  if (out.verdict === 'pass' || out.verdict === 'non-strict') return 'ok';
  if (!out.trace.events.some((e) => e.type === 'conn_open')) return 'unreachable';
  if (out.verdict === 'fail') return 'wrong';
  const answered = out.trace.events.some((e) => (e.type === 'data' && e.dir === 's2c') || (e.type === 'dgram' && e.dir === 's2c'));
  return answered && out.rule !== undefined && out.violation !== undefined ? 'wrong' : 'silent';
}

/**
 * The case a report carries for a first probe that was not passed but
 * reached the target (`wrong` or `silent`): id `<protocol>/sanity-probe`
 * ({@link probeCaseId}), verdict `fail` for `wrong` (rule, bytes,
 * trace) and `timeout` for `silent`. Used by runs and fuzz campaigns.
 */
export function probeCaseResult(protocol: string, probe: ProbeOutcome): CaseResult {
  const out = probe.outcome;
  const wrong = probe.verdict === 'wrong';
  return {
    id: probeCaseId(protocol),
    section: 'sanity probe',
    rules: out.rule !== undefined ? [out.rule] : [],
    description: wrong ? 'The target answered the sanity probe, and the protocol\u2019s model flags the answer' : 'The target accepted the sanity probe\u2019s connection but gave no valid answer in time',
    requirement: 'The target MUST serve the sanity probe\u2019s exchange (the suite\u2019s probe: one valid request and its answer) as the protocol\u2019s model requires.',
    expected: ['pass'],
    verdict: wrong ? 'fail' : 'timeout',
    ...(out.rule !== undefined ? { rule: out.rule } : {}),
    message: probe.message ?? '',
    ...(out.violation !== undefined ? { violation: out.violation } : {}),
    durationMs: out.durationMs,
    trace: out.trace.events,
    ...(out.trace.truncation ? { traceTruncated: out.trace.truncation } : {}),
  };
}

/** Runs the suite's probe once under the protocol's monitor. Never throws. */
export async function runProbe<P extends object>(o: ProbeOptions<P>): Promise<ProbeOutcome> {
  let completed = false;
  const outcome = await runCase({
    driver: o.driver,
    connect: o.connect,
    profile: o.profile,
    monitor: o.suite.createMonitor(o.profile),
    body: async (ctx) => {
      await o.suite.probe(ctx);
      completed = true;
    },
    deadlineMs: o.deadlineMs,
    ...(o.clock ? { clock: o.clock } : {}),
  });
  const verdict = probeVerdict(outcome);
  if (verdict === 'ok') return { ok: true, verdict, outcome };
  const what = verdict === 'unreachable' ? 'unreachable' : verdict === 'wrong' ? 'answered wrongly' : 'connected but silent';
  return {
    ok: verdict === 'wrong' && completed,
    verdict,
    ...(outcome.rule !== undefined ? { rule: outcome.rule } : {}),
    message: `${what}: ${outcome.rule !== undefined ? `${outcome.rule}: ` : ''}${outcome.message ?? outcome.verdict}`,
    outcome,
  };
}
