/**
 * Deterministic simulation (suites/moonpool/sim.ts) under fast-check:
 * hundreds of seeded runs with random delays, splits, stalls, cuts and
 * refused connects. Properties: every request ends exactly once — with its
 * own reply or a typed error, within its timeout — no reply is matched to
 * the wrong request, nothing hangs, reconnections follow the backoff, the
 * server's trace conforms to the model, and without cuts no PING is lost.
 *
 * A failure prints fast-check's seed and path and the simulation seed.
 * Replay one simulation: `MOONPOOL_SIM_SEED=<seed> npx tap test/moonpool/sim.test.ts`;
 * replay fast-check's search: `FC_SEED=<seed> FC_PATH=<path> npx tap test/moonpool/sim.test.ts`.
 */
import t from 'tap';
import fc from 'fast-check';
import { isPing } from '../../suites/moonpool/codec.js';
import { createMoonpoolMonitor } from '../../suites/moonpool/monitor.js';
import { checkRun, replayHint, runSimulation, simProfile, type SimOptions, type SimResult } from '../../suites/moonpool/sim.js';
import { defaultProfile } from '../../suites/moonpool/profile.js';
import { faults } from '../../reference-server/moonpool/faults.js';

const fcParams = (numRuns: number): fc.Parameters<[number]> => ({
  numRuns,
  ...(process.env['FC_SEED'] ? { seed: Number(process.env['FC_SEED']) } : {}),
  ...(process.env['FC_PATH'] ? { path: process.env['FC_PATH'] } : {}),
});
const seedArb = fc.integer({ min: 0, max: 0x7fff_ffff });

/** The properties of one run; a message when one does not hold. */
function verdict(r: SimResult, opts: { noCut?: boolean } = {}): string | undefined {
  const bad = checkRun(r);
  if (bad) return bad;
  const monitor = createMoonpoolMonitor(simProfile);
  const vs = r.serverTrace.flatMap((e, i) => monitor.feed(e, i));
  if (vs[0]) return `the server's trace breaks ${vs[0].rule}: expected ${vs[0].expected}; saw ${vs[0].seen}`;
  if (opts.noCut) {
    const lost = r.requests.find((q) => isPing(q.payload) && q.outcome?.type !== 'reply');
    if (lost) return `PING #${lost.correlationId} was lost without any cut (MOONPOOL-7.2): ${lost.outcome?.type === 'failed' ? lost.outcome.error.message : 'no outcome'}`;
  }
  return undefined;
}

function explain(r: SimResult, problem: string): string {
  return `${problem}\n  simulation seed ${r.seed} (chaos ${JSON.stringify(r.chaos)}, policy ${r.lossPolicy})\n  ${replayHint(r.seed)}\n  last events:\n${r.log.slice(-25).join('\n')}`;
}

const single = process.env['MOONPOOL_SIM_SEED'];
if (single !== undefined) {
  t.test(`replay of simulation seed ${single}`, async (t) => {
    const r = runSimulation({ seed: Number(single) });
    t.comment(r.log.join('\n'));
    t.equal(verdict(r), undefined, explain(r, 'replayed run'));
  });
}

t.test('every request ends once, with its own reply or a typed error; nothing hangs (400 seeds, all chaos)', async (t) => {
  const started = performance.now();
  let requests = 0;
  let failures = 0;
  let cuts = 0;
  fc.assert(
    fc.property(seedArb, (seed) => {
      const r = runSimulation({ seed });
      requests += r.requests.length;
      failures += r.requests.filter((q) => q.outcome?.type === 'failed').length;
      cuts += r.chaos.cuts.length;
      const problem = verdict(r);
      if (problem) throw new Error(explain(r, problem));
    }),
    fcParams(400),
  );
  t.pass(`${requests} requests, ${failures} failed with a typed error, ${cuts} cuts, in ${(performance.now() - started).toFixed(0)} ms`);
  t.ok(failures > 0 && cuts > 0, 'the chaos did cut connections and fail requests');
});

/** Stalls add up to at most 3 × 800 ms: timeouts above that make every loss a bug. */
const LONG_TIMEOUTS: readonly [number, number] = [3_000, 5_000];

t.test('without cuts nothing is lost: stalls, delays and splits only (300 seeds)', async (t) => {
  fc.assert(
    fc.property(seedArb, (seed) => {
      const r = runSimulation({ seed, chaos: { cuts: false }, timeoutMs: LONG_TIMEOUTS });
      const problem = verdict(r, { noCut: true });
      if (problem) throw new Error(explain(r, problem));
    }),
    fcParams(300),
  );
});

t.test('both loss policies, otherPayloads ignore, heavy load (60 seeds × 200 requests)', async (t) => {
  for (const lossPolicy of ['fail', 'resend'] as const) {
    fc.assert(
      fc.property(seedArb, (seed) => {
        const opts: SimOptions = { seed, lossPolicy, requests: 200, spreadMs: 3_000, profile: { ...simProfile, otherPayloads: 'ignore' } };
        const r = runSimulation(opts);
        const problem = checkRun(r, opts.profile);
        if (problem) throw new Error(explain(r, problem));
        const others = r.requests.filter((q) => !isPing(q.payload));
        if (others.some((q) => q.outcome?.type !== 'failed')) throw new Error(explain(r, 'a non-PING got a reply although the server ignores them'));
      }),
      fcParams(30),
    );
  }
  t.pass('held');
});

t.test('the seed\u2019s backoff constants are what the simulation checks', async (t) => {
  t.same([simProfile.reconnectInitialMs, simProfile.reconnectMaxMs, simProfile.reconnectGrowth], [50, 500, 1.2]);
  t.equal(simProfile.reconnectInitialMs, defaultProfile.reconnectInitialMs);
  const r = runSimulation({ seed: 7, chaos: { maxDelayMs: 1, splitProbability: 0, stalls: [], cuts: [100, 300, 500], refuseProbability: 0.6 } });
  t.ok(r.backoffGaps.length >= 3, `reconnections were checked (${r.backoffGaps.length})`);
  t.equal(verdict(r), undefined);
});

t.test('deterministic: a seed replays the same run', async (t) => {
  for (const seed of [1, 42, 123456]) {
    const a = runSimulation({ seed });
    const b = runSimulation({ seed });
    t.same(a.log, b.log, `seed ${seed}: same events`);
    t.same(a.serverTrace, b.serverTrace, `seed ${seed}: same server trace`);
  }
  t.not(runSimulation({ seed: 1 }).log.join('\n'), runSimulation({ seed: 2 }).log.join('\n'), 'different seeds differ');
});

/** Faults the simulation's properties must find (those a well-behaved client can trigger). */
const catchable = ['wrong-correlation-id', 'wrong-pong-payload', 'drop-replies-after-stall', 'close-stalled-connection'];

t.test('the simulation finds the faulty servers, and prints a replayable seed', async (t) => {
  for (const name of catchable) {
    const result = fc.check(
      fc.property(seedArb, (seed) => {
        const r = runSimulation({ seed, chaos: { cuts: false }, timeoutMs: LONG_TIMEOUTS, server: (p) => faults[name]!.create(p) });
        const problem = verdict(r, { noCut: true });
        if (problem) throw new Error(explain(r, problem));
      }),
      { numRuns: 200 },
    );
    t.ok(result.failed, `${name}: found (${result.numRuns} runs)`);
    if (result.failed) {
      t.ok(result.counterexample !== null && typeof result.counterexample[0] === 'number', `${name}: counterexample seed ${String(result.counterexample?.[0])}, fast-check seed ${result.seed} path ${result.counterexamplePath ?? ''}`);
      const replay = runSimulation({ seed: result.counterexample![0], chaos: { cuts: false }, timeoutMs: LONG_TIMEOUTS, server: (p) => faults[name]!.create(p) });
      t.ok(verdict(replay, { noCut: true }), `${name}: the counterexample replays`);
    }
  }
});
