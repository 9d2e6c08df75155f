/**
 * Garou's `sequences` generator (suites/garou/fuzz-sequences.ts) through
 * `wirecheck fuzz --in-process --fast` (the reference core over the
 * in-memory driver, virtual time): no finding against the conforming core;
 * each room fault is found within its stated budget under its rule and
 * shrunk to a short program; a saved finding (a fixture whose ids are bound
 * from the server's answers) replays, on a core whose room ids are not the
 * model's.
 */
import t from 'tap';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../harness/cli.js';
import { createMemoryTarget } from '../../harness/drivers/memory.js';
import { runCase, type CaseRunOutcome } from '../../harness/engine/case-run.js';
import { VirtualClock } from '../../harness/engine/clock.js';
import type { ServerCore } from '../../harness/engine/server-core.js';
import type { ProtocolSuite } from '../../harness/engine/types.js';
import { fixtureToCase, readFixture, type Fixture } from '../../harness/fixtures/index.js';
import { createReferenceCore } from '../../reference-server/garou/index.js';
import { suite } from '../../suites/garou/index.js';
import { fastProfile } from '../../suites/garou/profile.js';

const quiet = { out: () => undefined, err: () => undefined };
/** Programs run against the conforming core. */
const CLEAN_RUNS = 60;
/**
 * Programs each fault must be found within (seed 1); measured medians over
 * seeds 1–5 are in the README's Garou fuzz bullet. A fault's rule family.
 */
const FAULTS: readonly (readonly [fault: string, rule: RegExp, budget: number])[] = [
  ['seq-gap', /^GAROU-7\.[13]$/, 40],
  ['wrong-shard', /^GAROU-3\.6$/, 40],
  ['lose-at-promotion', /^GAROU-(8\.5|7\.[123])$/, 40],
  ['guests-post', /^GAROU-6\.4$/, 120],
  ['answers-out-of-order', /^GAROU-5\.2$/, 40],
  ['no-room-init', /^GAROU-7\.4$/, 40],
  ['no-demotion', /^GAROU-8\.3$/, 40],
  ['early-demotion', /^GAROU-8\.3$/, 40],
  ['wrong-upload-ack', /^GAROU-10\.[12]$/, 80],
];
/** Most commands a shrunk counterexample keeps. */
const SHORT = 4;

interface Report {
  readonly code: number;
  readonly dir: string;
  readonly findings: { readonly rule: string; readonly foundAfter: { readonly generated: number }; readonly listing: string }[];
  readonly errors: number;
  readonly reached: readonly string[];
}

async function campaign(t: { teardown(fn: () => unknown): void }, runs: number, fault?: string): Promise<Report> {
  const dir = await mkdtemp(path.join(tmpdir(), 'garou-seq-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const code = await main(['fuzz', '--in-process', '--protocol', 'garou', '--fast', '--arbitraries', 'sequences', '--runs', String(runs), '--seed', '1', '-q', '-o', dir, ...(fault ? ['--fault', fault] : [])], quiet);
  const r = JSON.parse(await readFile(path.join(dir, 'garou.fuzz.json'), 'utf8')) as { findings: Report['findings']; stats: { errors: number }; coverage: { hits: Record<string, number> } };
  return { code, dir, findings: r.findings, errors: r.stats.errors, reached: Object.keys(r.coverage.hits) };
}

/** Commands a listing's description says ran: `… run N command(s): …`. */
const commandsRan = (listing: string): number => Number(/run (\d+) command/.exec(listing)?.[1] ?? NaN);

/** Plays a fixture on an in-memory reference core (virtual time). */
async function replay(f: Fixture, core: ServerCore): Promise<CaseRunOutcome> {
  const clock = new VirtualClock();
  const mem = createMemoryTarget({ core, clock, transport: 'quic', alpn: ['garou'] });
  const c = fixtureToCase(f, suite);
  return clock.run(runCase({ driver: mem.driver, connect: mem.connect, profile: fastProfile, monitor: suite.createMonitor(fastProfile), body: (ctx) => c.run(ctx), deadlineMs: c.deadlineMs(fastProfile), clock }));
}

t.test(`no finding against the conforming core in ${CLEAN_RUNS} programs; the model's hot-room transitions are reached`, async (t) => {
  const r = await campaign(t, CLEAN_RUNS);
  t.equal(r.code, 0, 'exit 0');
  t.same(r.findings.map((f) => f.rule), []);
  t.equal(r.errors, 0, 'no harness error (every variable was bound before use)');
  for (const label of ['transition:command-ok', 'transition:command-refused', 'transition:room-event', 'transition:room-init', 'transition:promote', 'transition:demote', 'transition:upload-ack', 'transition:ping']) {
    t.ok(r.reached.includes(label), `coverage: ${label}`);
  }
});

for (const [fault, rule, budget] of FAULTS) {
  t.test(`fault ${fault} is found within ${budget} programs under ${rule.source}, shrunk to at most ${SHORT} commands`, async (t) => {
    const r = await campaign(t, budget, fault);
    t.equal(r.code, 1, 'exit 1: findings');
    const hit = r.findings.find((f) => rule.test(f.rule));
    t.ok(hit, `found under ${rule.source} (${r.findings.map((f) => f.rule).join(', ') || 'nothing'})`);
    if (hit) t.ok(commandsRan(hit.listing) <= SHORT, `shrunk to ${commandsRan(hit.listing)} command(s):\n${hit.listing.split('\n')[0]}`);
  });
}

t.test('no-echo is caught by the sanity probe before any program: a failing probe case under GAROU-7.2, exit 1 (as `run`)', async (t) => {
  const r = await campaign(t, 5, 'no-echo');
  t.equal(r.code, 1, 'a conformance failure, not an unreachable target');
  t.same(r.findings, [], 'no program ran');
  const report = JSON.parse(await readFile(path.join(r.dir, 'garou.json'), 'utf8')) as { cases: { id: string; verdict: string; rule?: string }[] };
  t.match(report.cases[0], { id: 'garou/sanity-probe', verdict: 'fail', rule: 'GAROU-7.2' }, 'the probe case comes first, with the rule');
});

t.test('a saved finding replays: ids come from the server\'s answers, not the model\'s', async (t) => {
  const r = await campaign(t, 40, 'no-room-init');
  const files = (await readdir(path.join(r.dir, 'findings'))).filter((f) => f.endsWith('.json'));
  t.ok(files.length > 0, 'a finding was saved');
  const { fixture } = await readFixture(path.join(r.dir, 'findings', files[0]!), suite as ProtocolSuite<object>);
  t.ok(fixture.steps.some((s) => 'bind' in s && s.bind !== undefined), 'the fixture binds values from answers');
  const faulty = await replay(fixture, createReferenceCore({ profile: fastProfile, fault: 'no-room-init' }));
  t.match(faulty, { verdict: fixture.observed?.verdict, rule: 'GAROU-7.4' }, `against the faulty core it fails as saved (${fixture.observed?.verdict ?? '?'}): ${faulty.message ?? ''}`);
  // One conforming core, played twice: the second play's rooms get ids the model (fresh, from 1) never handed out.
  const core = createReferenceCore({ profile: fastProfile });
  const first = await replay(fixture, core);
  const second = await replay(fixture, core);
  t.equal(first.verdict, 'pass', first.message ?? '');
  t.equal(second.verdict, 'pass', second.message ?? '');
  const bound = (o: CaseRunOutcome): string[] => o.trace.events.flatMap((e) => (e.type === 'note' && /^fixture: bound room/.test(e.text) ? [e.text] : []));
  t.ok(bound(second).length > 0, `rooms bound: ${bound(second).join('; ')}`);
  t.not(bound(first).join(), bound(second).join(), 'the second play bound other room ids than the first');
});
