/**
 * The generic part of discovery (harness/discover): timer rounding,
 * evidence excerpts, the checks that drop a finding (schema, cross-field
 * checks, tolerance from the spread), and the budget.
 */
import t from 'tap';
import { delayTimer, excerptLines, roundTimer } from '../../harness/discover/evidence.js';
import { finishProfile, type Finding } from '../../harness/discover/profile.js';
import type { TraceEvent } from '../../harness/engine/trace.js';
import { suite } from '../../suites/moonpool/index.js';
import { discoverInProcess } from './_discover.js';

t.test('timers: periods to the nearest round value, delays from the smallest measurement rounded down', async (t) => {
  t.equal(roundTimer(50.4), 50);
  t.equal(roundTimer(1_003), 1_000);
  t.equal(roundTimer(183_400), 180_000);
  t.equal(roundTimer(0), 1);
  t.equal(delayTimer([401.3, 430]), 400);
  t.equal(delayTimer([846.5, 853.4]), 840, 'never above the smallest measurement: latency only adds');
  t.equal(delayTimer([999.6]), 1_000, 'a hair below a round value is that value');
  t.equal(delayTimer([7.2]), 7);
});

t.test('evidence excerpts mark the cited events and summarise the rest', async (t) => {
  const trace: TraceEvent[] = Array.from({ length: 30 }, (_, i) => ({ type: 'note', t: i * 1000, text: `n${i}` }));
  const lines = excerptLines(trace, [10, 25]);
  t.ok(lines.some((l) => l.includes('"n10"') && l.endsWith('<--')), 'event 10 marked');
  t.ok(lines.some((l) => l.includes('"n25"') && l.endsWith('<--')), 'event 25 marked');
  t.ok(lines.some((l) => /^\(\d+ events\)$/.test(l)), 'a gap summarised');
  t.notOk(lines.some((l) => l.includes('"n0"')), 'far events left out');
  t.same(excerptLines([], [0]), ['(empty trace)']);
});

const finding = (field: string, value: unknown, samplesMs?: number[]): Finding => ({ field, value, summary: `measured ${String(value)}`, evidence: [], experiment: 'test', ...(samplesMs ? { samplesMs } : {}) });
const finish = (fs: Finding[]) => finishProfile(suite, suite.fastProfile, new Map(fs.map((f) => [f.field, f])), new Map(), fs.map((f) => f.field), () => undefined);

t.test('a finding the profile cannot hold is dropped and said so, never written', async (t) => {
  const r = finish([finding('maxPayloadBytes', 4_096), finding('noSuchField', 'x'), finding('idleTimeoutMs', 200, [205]), finding('otherPayloads', 'sometimes')]);
  t.same(r.profile, { maxPayloadBytes: 4_096 }, 'only the finding that passes every check; no tolerance once the only timer is dropped');
  const f = r.fields;
  t.match(f['noSuchField'], { status: 'undetermined', rejectedValue: 'x', summary: /profile has no field noSuchField: a reading the profile cannot express/ });
  t.match(f['otherPayloads'], { status: 'undetermined', rejectedValue: 'sometimes', summary: /schema rejects it/ });
  t.match(f['idleTimeoutMs'], { status: 'undetermined', rejectedValue: 200, summary: /inconsistent with the rest of the profile: \/stallMs/ });
  t.match(f['maxPayloadBytes'], { status: 'determined', value: 4_096 });
});

t.test('the written tolerance covers the measurement spread', async (t) => {
  t.same(finish([finding('idleTimeoutMs', 3_000, [3_000, 3_040])]).profile, { idleTimeoutMs: 3_000, toleranceMs: 200 }, 'a small spread keeps the base tolerance');
  const wide = finish([finding('idleTimeoutMs', 3_000, [3_000, 3_180])]);
  t.same(wide.profile, { idleTimeoutMs: 3_000, toleranceMs: 360 }, 'twice the largest distance from the written value');
  t.match(wide.fields['toleranceMs'], { status: 'determined', summary: /widened/ });
  t.same(finish([finding('otherPayloads', 'reply')]).profile, { otherPayloads: 'reply' }, 'no timer measured: no tolerance written');
});

t.test('a budget too small for an experiment: skipped and reported, nothing guessed', async (t) => {
  const r = await discoverInProcess({ suite, serverProfile: suite.fastProfile, base: suite.fastProfile, budgetMs: 3_000 });
  const skipped = r.experiments.filter((e) => e.message?.startsWith('not run'));
  t.ok(skipped.length > 0, `some experiments skipped (${skipped.map((e) => e.id).join(', ')})`);
  for (const e of skipped) for (const f of suite.discover!.experiments.find((x) => x.id === e.id)!.fields) {
    t.match(r.fields[f], { status: 'undetermined', summary: /raise --budget-ms/ }, `${f} reported as not run`);
    t.notOk(f in r.profile, `${f} not written`);
  }
});
