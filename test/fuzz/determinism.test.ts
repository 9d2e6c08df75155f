/**
 * Seeds and replays: the same seed gives the same cases; shards are
 * disjoint and together run exactly the unsharded campaign (and merge into
 * it); a finding's SEED:PATH replays its counterexample to the same failure,
 * and so does its saved fixture.
 */
import t from 'tap';
import { runCase } from '../../harness/engine/case-run.js';
import { checkFixture, fixtureToCase } from '../../harness/fixtures/index.js';
import { roundSeed } from '../../harness/fuzz/campaign.js';
import { mergeCampaigns } from '../../harness/fuzz/report.js';
import { suite } from '../../suites/proton/index.js';
import { campaign, memoryTarget, testProfile } from './_helpers.js';

/** The programs a campaign generated (listings, in order), and the verdicts. */
async function record(seed: number, runs: number, extra: { fault?: string; shard?: { index: number; count: number }; arbitraries?: string[] } = {}) {
  const programs: string[] = [];
  const verdicts: string[] = [];
  const r = await campaign(memoryTarget(extra.fault), {
    seed,
    runs,
    ...(extra.shard ? { shard: extra.shard } : {}),
    ...(extra.arbitraries ? { arbitraries: extra.arbitraries } : {}),
    onCase: (p, out, shrinking) => {
      if (shrinking) return;
      programs.push(String(p));
      verdicts.push(`${out.verdict} ${out.rule ?? ''}`);
    },
  });
  return { r, programs, verdicts };
}

t.test('the same seed gives the same cases; another seed others', async (t) => {
  const a = await record(42, 120);
  const b = await record(42, 120);
  t.equal(a.programs.length, 120);
  t.same(b.programs, a.programs, 'same programs, in the same order');
  t.same(b.verdicts, a.verdicts, 'same verdicts');
  const c = await record(43, 120);
  t.not(c.programs.join('\n'), a.programs.join('\n'), 'another seed, other programs');
  t.not(roundSeed(42, 0), roundSeed(42, 1), 'rounds get different fast-check seeds');
  t.equal(roundSeed(42, 7), roundSeed(42, 7));
});

t.test('shards are disjoint and together make the unsharded campaign, also with findings', async (t) => {
  const whole = await record(7, 200, { fault: 'wrong-close-code' });
  const s1 = await record(7, 200, { fault: 'wrong-close-code', shard: { index: 0, count: 2 } });
  const s2 = await record(7, 200, { fault: 'wrong-close-code', shard: { index: 1, count: 2 } });
  t.same(s1.r.rounds.filter((g) => s2.r.rounds.includes(g)), [], 'no round in both shards');
  t.equal(s1.programs.length + s2.programs.length, whole.programs.length, 'as many programs as the whole campaign');
  t.same([...s1.programs, ...s2.programs].sort(), [...whole.programs].sort(), 'the same programs');
  const merged = mergeCampaigns([s1.r, s2.r]);
  t.same(merged.rounds, whole.r.rounds, 'merged rounds');
  t.equal(merged.stats.generated, whole.r.stats.generated, 'merged count of generated programs');
  t.same(merged.findings.map((f) => `${f.id}\n${f.listing}`).sort(), whole.r.findings.map((f) => `${f.id}\n${f.listing}`).sort(), 'merged findings: the same counterexamples');
  t.throws(() => mergeCampaigns([s1.r, s1.r]), /round \d+ appears in two campaigns/, 'the same shard twice does not merge');
  const other = await record(8, 20, { fault: 'wrong-close-code', shard: { index: 1, count: 2 } });
  t.throws(() => mergeCampaigns([s1.r, other.r]), /differ in seed/, 'shards of different campaigns do not merge');
});

t.test('SEED:PATH replays the counterexample to the same failure; the fixture too', async (t) => {
  const found = await record(2, 60, { fault: 'wrong-ack-id', arbitraries: ['malformed-frames'] });
  const f = found.r.findings[0]!;
  t.ok(f, 'a finding');
  t.equal(f.rule, 'PROTON-4.3');
  const again = await campaign(memoryTarget('wrong-ack-id'), { seed: 0, arbitraries: [f.arbitrary], replay: { seed: f.seed, path: f.path } });
  t.equal(again.stats.cases, 1, 'one case: the counterexample');
  t.equal(again.findings.length, 1);
  t.equal(again.findings[0]!.listing, f.listing, 'the same program');
  t.equal(again.findings[0]!.rule, f.rule, 'the same rule');
  t.equal(again.findings[0]!.message, f.message, 'the same failure');
  const clean = await campaign(memoryTarget(), { seed: 0, arbitraries: [f.arbitrary], replay: { seed: f.seed, path: f.path } });
  t.same(clean.findings, [], 'the counterexample passes against the conforming core');

  // The saved fixture is a valid fixture, and replays to the same failure.
  checkFixture(f.fixture, f.id, suite);
  t.equal(f.fixture.observed?.rule, f.rule);
  const kase = fixtureToCase(f.fixture, suite);
  for (const [fault, want] of [['wrong-ack-id', 'PROTON-4.3'], [undefined, undefined]] as const) {
    const target = memoryTarget(fault);
    const out = await target.clock!.run(runCase({ driver: target.driver, connect: { ...target.connect, ...suite.connectOptions(testProfile) }, profile: testProfile, monitor: suite.createMonitor(testProfile), body: (ctx) => kase.run(ctx), deadlineMs: kase.deadlineMs(testProfile), clock: target.clock! }));
    if (want) {
      t.equal(out.verdict, f.verdict, 'the fixture fails the same way');
      t.equal(out.rule, want);
    } else t.equal(out.verdict, 'pass', 'the fixture passes against the conforming core');
  }
});
