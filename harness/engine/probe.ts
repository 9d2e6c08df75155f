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
import type { ProbeVerdict, ProtocolSuite } from './types.js';

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
 * flagged a MUST violation that is not a missed deadline; `silent` otherwise
 * (connected but no valid answer in time, or closed before answering).
 */
export function probeVerdict(out: CaseRunOutcome): ProbeVerdict {
  if (out.verdict === 'pass' || out.verdict === 'non-strict') return 'ok';
  if (!out.trace.events.some((e) => e.type === 'conn_open')) return 'unreachable';
  if (out.verdict === 'fail') return 'wrong';
  return 'silent';
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
