/**
 * The sanity probe ("is the target alive and serving?"): the suite's probe
 * body run as a case with no monitor — the probe's own checks decide, not
 * conformance. Used before, between and after the cases of a run, and after
 * every fuzz case (liveness).
 */
import type { ConnectOptions, Driver } from '../drivers/types.js';
import type { Clock } from './clock.js';
import { runCase } from './case-run.js';
import type { Monitor, ProtocolSuite } from './types.js';

/** A monitor that accepts everything. */
const livenessOnly: Monitor = {
  feed: () => [],
  advance: () => [],
  nextDeadline: () => undefined,
  settled: () => true,
  describe: () => 'liveness probe',
};

/** What {@link runProbe} needs. */
export interface ProbeOptions<P extends object> {
  readonly suite: ProtocolSuite<P>;
  readonly driver: Driver;
  readonly connect: ConnectOptions;
  readonly profile: P;
  /** Deadline of the probe (ms). */
  readonly deadlineMs: number;
  /** Clock of the case (default the real one). */
  readonly clock?: Clock;
}

/** Runs the suite's probe once. Never throws; `message` says why it failed. */
export async function runProbe<P extends object>(o: ProbeOptions<P>): Promise<{ ok: boolean; message?: string }> {
  const out = await runCase({ driver: o.driver, connect: o.connect, profile: o.profile, monitor: livenessOnly, body: (ctx) => o.suite.probe(ctx), deadlineMs: o.deadlineMs, ...(o.clock ? { clock: o.clock } : {}) });
  return out.verdict === 'pass' || out.verdict === 'non-strict' ? { ok: true } : { ok: false, message: `${out.verdict}: ${out.message ?? ''}` };
}
