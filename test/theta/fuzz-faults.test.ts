/**
 * A bounded fuzz campaign with Theta's generators finds each deliberate
 * fault of the reference server, under a rule the fault breaks; the same
 * budget against the conforming server finds nothing and reaches the
 * model's coverage labels. In-process (the reference core over the memory
 * driver, virtual time): deterministic, no socket.
 *
 * Budget: {@link BUDGET} programs per campaign, one seed per fault (the
 * report lists after how many programs each was found).
 */
import t from 'tap';
import { createMemoryTarget } from '../../harness/drivers/memory.js';
import { VirtualClock } from '../../harness/engine/clock.js';
import { runCampaign, type CampaignResult, type FuzzTarget } from '../../harness/fuzz/campaign.js';
import { coverageOf } from '../../harness/fuzz/report.js';
import { createReferenceCore } from '../../reference-server/theta/index.js';
import { faults } from '../../reference-server/theta/faults.js';
import { suite as baseSuite } from '../../suites/theta/index.js';
import { thetaFuzz } from '../../suites/theta/fuzz/support.js';
import { fastProfile } from '../../suites/theta/profile.js';

/** The suite with its fuzz support (suites/theta/index.ts does not expose it yet). */
const suite = baseSuite.fuzz ? baseSuite : { ...baseSuite, fuzz: thetaFuzz };

/** Programs per campaign: every fault must be found within it. */
const BUDGET = 300;

/** Rules under which each fault may be reported (what it breaks, or the close it makes wrong). */
const expected: Readonly<Record<string, readonly string[]>> = {
  'accept-version-mismatch': ['THETA-3.2', 'THETA-3.6'],
  'accept-hash-mismatch': ['THETA-3.3', 'THETA-3.6'],
  'accept-31-byte-key': ['THETA-3.4', 'THETA-3.6'],
  'accept-23-byte-nonce': ['THETA-3.5', 'THETA-3.6'],
  'union-capabilities': ['THETA-4.5'],
  'unsorted-capabilities': ['THETA-4.5'],
  'constant-server-nonce': ['THETA-4.2'],
  'no-heartbeat': ['THETA-5.1'],
  'heartbeat-without-echo': ['THETA-5.3'],
  'never-time-out': ['THETA-3.7', 'THETA-5.6'],
  'reorder-replication': ['THETA-6.1'],
  'hash-all-but-last': ['THETA-7.1'],
  'wrong-close-code': ['THETA-8.1', 'THETA-8.3', 'THETA-3.6', 'THETA-3.8', 'THETA-2.3', 'THETA-2.2', 'THETA-2.4', 'THETA-1.2', 'THETA-3.10', 'THETA-5.7', 'THETA-7.2'],
  // Bytes before the hello that break a framing rule too (a length over the limit, FIN inside a frame) are ignored as well.
  'accept-data-before-hello': ['THETA-3.8', 'THETA-2.2', 'THETA-2.4'],
};

function memoryTarget(fault?: string): FuzzTarget {
  const clock = new VirtualClock();
  const mem = createMemoryTarget({ core: createReferenceCore({ profile: fastProfile, ...(fault ? { fault } : {}) }), clock, alpn: ['theta'] });
  return { url: `memory:theta${fault ? `?fault=${fault}` : ''}`, driver: mem.driver, connect: mem.connect, clock };
}

function campaign(target: FuzzTarget, seed: number, runs = BUDGET): Promise<CampaignResult> {
  return runCampaign({ suite, profile: fastProfile, target, seed, runs, maxShrinkCases: 40 });
}

t.test('the fault list is the one these expectations cover', async (t) => {
  t.same(Object.keys(expected).sort(), Object.keys(faults).sort());
});

t.test('every fault is found within the budget, under a rule it breaks', async (t) => {
  const found: string[] = [];
  for (const fault of Object.keys(faults)) {
    const r = await campaign(memoryTarget(fault), 1);
    t.ok(r.findings.length > 0, `${fault} is found (${r.stats.generated} programs run)`);
    const rules = expected[fault]!;
    t.same(r.findings.filter((f) => !rules.includes(f.rule)).map((f) => `${f.rule}: ${f.message}\n${f.listing}`), [], `${fault}: findings name ${rules.join(' or ')}`);
    t.same(r.findings.filter((f) => f.targetDied), [], `${fault}: the target stays alive`);
    if (r.findings.length) found.push(`${fault}: after ${Math.min(...r.findings.map((f) => f.foundAfter.generated))} programs (${r.findings.map((f) => `${f.rule} by ${f.arbitrary}`).join(', ')})`);
  }
  t.comment(`found:\n${found.join('\n')}`);
});

t.test('the same budget against the conforming server finds nothing and covers the model', async (t) => {
  const r = await campaign(memoryTarget(), 2);
  t.same(r.findings.map((f) => `${f.rule}: ${f.message}\n${f.listing}`), [], 'no finding');
  t.equal(r.stats.generated, BUDGET, 'the whole budget ran');
  t.equal(r.stats.errors, 0, 'no harness error');
  t.equal(r.stats.probeFailures, 0, 'every liveness probe passed');
  t.same(coverageOf(r).missing, [], 'every coverage label is reached');
});
