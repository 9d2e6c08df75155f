/**
 * Fuzzing Moonpool (suites/moonpool/arbitraries.ts): bounded in-process
 * campaigns (the reference core over the in-memory driver in TCP mode,
 * virtual time) find every deliberate fault of reference-server/moonpool/
 * faults.ts — all six can be triggered by a client — under its rule, and
 * nothing against the conforming core, whose model they cover; the same
 * seed gives the same programs; over real TCP a short campaign finds
 * nothing on the reference server and finds two faulty ones after as many
 * programs as in-process, shrunk to the same counterexample. The programs
 * themselves: valid fixtures, every step named, silences declared as stalls.
 */
import t from 'tap';
import fc from 'fast-check';
import { createMemoryTarget } from '../../harness/drivers/memory.js';
import { tcpDriver } from '../../harness/drivers/tcp.js';
import { VirtualClock } from '../../harness/engine/clock.js';
import { runCase } from '../../harness/engine/case-run.js';
import { checkFixture, fixtureToCase } from '../../harness/fixtures/index.js';
import { runCampaign, type CampaignOptions, type CampaignResult, type FuzzTarget } from '../../harness/fuzz/campaign.js';
import { overlapCloses } from '../../harness/fuzz/overlap.js';
import { formatProgram, programToFixture } from '../../harness/fuzz/program.js';
import { createReferenceCore, startMoonpoolServer, type MoonpoolServer } from '../../reference-server/moonpool/index.js';
import { faultNames, LONG_WATCH_FAULTS } from '../../reference-server/moonpool/faults.js';
import { MoonpoolProgramBuilder, moonpoolArbitraries } from '../../suites/moonpool/arbitraries.js';
import { encodeEnvelope, encodeHeader, PING, PONG } from '../../suites/moonpool/codec.js';
import { suite } from '../../suites/moonpool/index.js';
import { COVERAGE_LABELS } from '../../suites/moonpool/model.js';
import type { MoonpoolProfile } from '../../suites/moonpool/profile.js';
import { TraceRecorder, type TraceEvent } from '../../harness/engine/trace.js';
import { testProfile } from '../moonpool/_run.js';
import { check, envl, ev, frames, ping, pong } from '../moonpool/_trace.js';

/** Programs every fault must be found within, per seed. */
const BUDGET = 300;
const SEEDS = [1, 2, 3];

/**
 * The rules a fault's findings may name, its own first (the rule its
 * description gives, which every campaign must report). A reply dropped
 * after a silence is MOONPOOL-7.2 when its request came inside the declared
 * stall, 4.2 when after it; id + 1 can hit another outstanding request that
 * is not a ping (4.3) or was answered (3.3); a crash is seen as the end of
 * another connection (6.3, 5.3, 6.4) or by the liveness probe (8.5).
 */
const FAULT_RULES: Readonly<Record<string, readonly string[]>> = {
  'wrong-correlation-id': ['MOONPOOL-3.2', 'MOONPOOL-3.3', 'MOONPOOL-4.3'],
  'wrong-pong-payload': ['MOONPOOL-4.1'],
  'drop-replies-after-stall': ['MOONPOOL-7.2', 'MOONPOOL-4.2'],
  'close-stalled-connection': ['MOONPOOL-7.1'],
  'accept-oversized': ['MOONPOOL-5.1'],
  'crash-on-truncated': ['MOONPOOL-5.2', 'MOONPOOL-5.3', 'MOONPOOL-6.3', 'MOONPOOL-6.4', 'MOONPOOL-8.5'],
};
/** Faults after which the target stays dead (every later connection is reset). */
const KILLS = new Set(['crash-on-truncated']);

/** An in-process target: the reference core (optionally faulty) over the memory driver in TCP mode, in virtual time. */
function memoryTarget(fault?: string, profile: MoonpoolProfile = testProfile): FuzzTarget {
  const clock = new VirtualClock();
  const mem = createMemoryTarget({ core: createReferenceCore({ profile, ...(fault ? { fault } : {}) }), clock, transport: 'tcp' });
  return { url: `memory:moonpool${fault ? `?fault=${fault}` : ''}`, driver: mem.driver, connect: mem.connect, clock };
}

/** A TCP target: a running reference server, with overlapped closes as `wirecheck fuzz` uses them. */
function tcpTarget(server: MoonpoolServer): FuzzTarget {
  const ov = overlapCloses(tcpDriver);
  return { url: `tcp://127.0.0.1:${server.port}`, driver: ov.driver, connect: { host: server.host, port: server.port, connectTimeoutMs: 3000 }, drain: () => ov.drain() };
}

function campaign(target: FuzzTarget, o: Omit<CampaignOptions<MoonpoolProfile>, 'suite' | 'profile' | 'target'> & { profile?: MoonpoolProfile }): Promise<CampaignResult> {
  return runCampaign({ suite, profile: o.profile ?? testProfile, target, ...o });
}

t.test('the programs: valid fixtures, every step named, known coverage labels', async (t) => {
  for (const profile of [testProfile, { ...testProfile, otherPayloads: 'reply' as const, idleTimeoutMs: 2000, concurrentConnections: false }]) {
    for (const [name, arb] of Object.entries(moonpoolArbitraries(profile))) {
      for (const p of fc.sample(arb, { numRuns: 40, seed: 9 })) {
        t.equal(p.arbitrary, name);
        checkFixture(programToFixture(p, { protocol: 'moonpool', id: `moonpool/fuzz/${name}` }), name, suite);
        t.ok(p.steps.every((s) => s.comment !== undefined || ('do' in s && s.do === 'connect')), `${name}: every step names itself`);
        t.equal(p.predictions?.length, p.steps.length, `${name}: a prediction slot per step`);
        if (!profile.concurrentConnections) t.notMatch(String(p), /concurrent connections: MOONPOOL-6\.1/, `${name}: one connection at a time when the profile says so`);
      }
    }
  }
  t.equal(suite.fuzz?.coverageLabels, COVERAGE_LABELS);
  t.equal(suite.fuzz?.livenessRule, 'MOONPOOL-8.5');
  const m = suite.createMonitor(testProfile);
  m.feed({ type: 'conn_open', t: 0, conn: 0, remote: 'x' }, 0);
  m.feed({ type: 'data', t: 1, conn: 0, stream: 0, dir: 'c2s', hex: Buffer.from(encodeEnvelope({ correlationId: 1n, payload: PING })).toString('hex') }, 1);
  t.same(m.coverage!().filter((l) => !COVERAGE_LABELS.includes(l)), [], 'labels reported are listed');
  t.ok(m.coverage!().includes('transition:ping'));
});

t.test('the memory driver in TCP mode behaves as the TCP driver records a connection', async (t) => {
  const clock = new VirtualClock();
  const mem = createMemoryTarget({ core: createReferenceCore({ profile: testProfile, fault: 'crash-on-truncated' }), clock, transport: 'tcp' });
  const trace = new TraceRecorder(clock.nowUs(), () => clock.nowUs());
  const a = await mem.driver.connect(trace, mem.connect);
  const b = await mem.driver.connect(trace, mem.connect);
  t.equal(a.openStream(), a.openStream(), 'one byte stream per connection');
  t.equal(a.openStream().id, 0, 'stream 0');
  t.throws(() => a.openStream().stopSending(1), /TCP has no STOP_SENDING/);
  await b.openStream().write(encodeEnvelope({ correlationId: 1n, payload: PING }));
  t.equal(b.openStream().receivedLength, 16, 'PONG #1 at once');
  await a.openStream().write(encodeEnvelope({ correlationId: 2n, payload: PING }).subarray(0, 5));
  a.openStream().reset(0);
  t.ok(a.isClosed, 'an RST ends the connection');
  t.match(await a.closed, { by: 'client', isApp: false, reason: 'reset' });
  t.ok(b.isClosed, 'the crashing core\'s reset action ends the other connection');
  t.match(await b.closed, { by: 'server', reason: 'reset' });
  t.equal(mem.liveConnections(), 0);
});

t.test('the builder: named writes, predictions, silences declared as stalls, the drain', async (t) => {
  const b = new MoonpoolProgramBuilder(testProfile, 'unit');
  const a = b.connect();
  const ping = encodeEnvelope({ correlationId: 7n, payload: PING });
  b.write(a, ping.subarray(0, 5));
  b.write(a, ping.subarray(5));
  b.wait('stallMs', 'silence');
  b.write(a, encodeHeader(8n, testProfile.maxPayloadBytes + 1));
  t.notOk(b.isLive(a), 'the model predicts the close of an oversized header');
  const p = b.build('Unit.');
  const text = formatProgram(p);
  t.match(text, /write a0 0700000000 — header bytes 1–5 of 12/);
  t.match(text, /header bytes 6–12 \(completes it: #7 len 4\) \+ payload bytes 1–4 of 4 \(completes PING #7\)\n\s+=> model: PONG #7 on a/);
  t.match(text, /expect settled within replyDeadlineMs \+ toleranceMs \+ 300 — before the silence: await the replies owed/, 'replies are awaited before the silence');
  t.match(text, /impair stall a — a falls silent/, 'the silence is declared a stall (SPEC §10): an impair step');
  t.match(text, /wait stallMs — silence \(400 ms\)/);
  t.match(text, /header \(#8 len 65537, over maxPayloadBytes 65536: ParseError, MOONPOOL-5\.1\)\n\s+=> model: close a \(MOONPOOL-5\.1 ParseError/);
  t.match(text, /impair restore a — a's silence is over/, 'and ended after the writes that broke it');
  t.notMatch(text, /moonpool:stall/, 'no stall notes in comments');
  t.match(text, /expect settled within replyDeadlineMs \+ toleranceMs \+ 300 — drain/);
  t.same(p.rules.slice(0, 1), ['MOONPOOL-5.1'], 'the predicted close names the rule first');

  // The declared stall is what the monitor judges a close during the silence by: MOONPOOL-7.1, not 6.4.
  const q = new MoonpoolProgramBuilder(testProfile, 'unit');
  const c = q.connect();
  q.write(c, ping);
  q.wait('stallMs', 'silence');
  const program = q.build('PING, then a silence of stallMs.');
  const verdict = (fault?: string) => {
    const target = memoryTarget(fault);
    const kase = fixtureToCase(programToFixture(program, { protocol: 'moonpool', id: 'moonpool/fuzz/unit' }), suite);
    return target.clock!.run(runCase({ driver: target.driver, connect: target.connect, profile: testProfile, monitor: suite.createMonitor(testProfile), body: (ctx) => kase.run(ctx), deadlineMs: kase.deadlineMs(testProfile), clock: target.clock! }));
  };
  const bad = await verdict('close-stalled-connection');
  t.same([bad.verdict, bad.rule], ['fail', 'MOONPOOL-7.1'], 'a close during the declared silence');
  t.equal((await verdict()).verdict, 'pass', 'the conforming core');
});

t.test('the model: stall notes in fixture comments, ids shared in flight, replies after an oversized header, replies lost across a stall', async (t) => {
  const P = testProfile;
  const D = P.replyDeadlineMs;
  const rules = (trace: TraceEvent[], end?: number, profile: MoonpoolProfile = P) => check(profile, trace, end).map((v) => v.rule);
  const base = [ev.open(0, 0), ev.c2s(0, ping(1), 1), ev.s2c(0, pong(1), 2)];
  t.same(rules([...base, ev.note('fixture: moonpool:stall conn=0 — a falls silent', 3), ev.sclose(0, 200)]), ['MOONPOOL-7.1'], 'a fixture step comment carries the stall note (SPEC §10)');
  t.same(rules([...base, ev.note('fixture: a falls silent: moonpool:stall conn=0', 3), ev.sclose(0, 200)]), ['MOONPOOL-6.4'], 'only at the start of the comment');
  const shared = frames(envl(5, 'hello'), envl(5, PING));
  t.same(rules([ev.open(0, 0), ev.c2s(0, shared, 1), ev.s2c(0, pong(5), 2)], 1000), [], 'ignore: a PONG answers the PING that shares its id with an ignored request');
  t.same(rules([ev.open(0, 0), ev.c2s(0, shared, 1), ev.s2c(0, ping(5), 2)], 1000), ['MOONPOOL-4.1'], 'ignore: a wrong payload for it is 4.1, not 4.3');
  const reply = { ...P, otherPayloads: 'reply' as const };
  t.same(rules([ev.open(0, 0), ev.c2s(0, shared, 1), ev.s2c(0, frames(envl(5, PONG), envl(5, 'hello')), 2)], 1000, reply), [], 'reply: the PONG and the echo, in either order');
  const over = encodeHeader(2n, P.maxPayloadBytes + 1);
  const hiding = new Uint8Array([...ping(1), ...over, ...new Uint8Array(P.maxPayloadBytes + 1), ...ping(3)]);
  t.same(rules([ev.open(0, 0), ev.c2s(0, hiding, 1), ev.s2c(0, frames(envl(1, PONG), envl(3, PONG)), 2)]), ['MOONPOOL-5.1'], 'a reply to a request past the oversized header is 5.1');
  t.same(rules([ev.open(0, 0), ev.c2s(0, hiding, 1), ev.s2c(0, pong(2), 2)]), ['MOONPOOL-3.2'], 'a wrong id is still 3.2 (the header\'s own id included)');
  t.same(rules([ev.open(0, 0), ev.note('moonpool:stall conn=0', 1), ev.c2s(0, ping(1), 2), ev.cfin(0, 3), ev.sclose(0, 4)], D), ['MOONPOOL-7.2'], 'a close with a reply owed across a stall is 7.2 (SPEC §10), not 6.2');
  t.same(rules([ev.open(0, 0), ev.c2s(0, ping(1), 2), ev.cfin(0, 3), ev.sclose(0, 4)], D), ['MOONPOOL-6.2'], 'without the stall, 6.2 as before');
});

t.test('every fault a client can trigger is found within the budget, under its rule', async (t) => {
  const budgets: string[] = [];
  // A fault only a long watch shows is the suite's to catch (test/moonpool/_faults.ts), not a bounded program's.
  const fuzzable = faultNames.filter((f) => !LONG_WATCH_FAULTS.includes(f));
  t.same([...fuzzable].sort(), Object.keys(FAULT_RULES).sort(), 'every fault of the reference server is listed');
  for (const fault of fuzzable) {
    const rules = FAULT_RULES[fault]!;
    const found: number[] = [];
    for (const seed of SEEDS) {
      const r = await campaign(memoryTarget(fault), { seed, runs: BUDGET });
      t.ok(r.findings.length > 0, `${fault} (seed ${seed}) is found`);
      t.same(r.findings.filter((f) => !rules.includes(f.rule)).map((f) => `${f.rule}: ${f.message}\n${f.listing}`), [], `${fault} (seed ${seed}): every finding names ${rules.join(' or ')}`);
      if (!KILLS.has(fault)) {
        t.ok(r.findings.some((f) => f.rule === rules[0]), `${fault} (seed ${seed}): found under ${rules[0]}`);
        t.same(r.findings.filter((f) => f.targetDied), [], `${fault}: the target stays alive`);
        t.equal(r.stats.errors, 0, 'no harness error');
      }
      for (const f of r.findings) {
        t.ok(f.listing.split('\n').length >= 2 && f.fixture.steps.length > 0, `${f.id}: a readable counterexample and a fixture`);
        t.match(f.result.message ?? '', /\[replay: --arbitraries [a-z-]+ --replay -?\d+:\d+(:\d+)*\]/, 'the replay token is in the report');
      }
      const first = [...r.findings].sort((x, y) => x.foundAfter.generated - y.foundAfter.generated)[0]!;
      found.push(first.foundAfter.generated);
      budgets.push(`${fault} seed ${seed}: ${r.findings.map((f) => `${f.rule} after ${f.foundAfter.generated} (${f.arbitrary}, shrunk in ${f.shrinkCases})`).join('; ')}`);
    }
    t.ok(Math.max(...found) <= 100, `${fault}: first found within 100 programs (${found.join(', ')})`);
  }
  t.comment(`budgets (programs generated until each rule first failed):\n${budgets.join('\n')}`);
});

t.test('the conforming core: nothing found in the same budget; every model label reached', async (t) => {
  const alt: MoonpoolProfile = { ...testProfile, otherPayloads: 'reply', idleTimeoutMs: 2000 };
  const missing = new Map<string, number>();
  const runs: [MoonpoolProfile, number][] = [...SEEDS.map((s): [MoonpoolProfile, number] => [testProfile, s]), [alt, 1]];
  for (const [profile, seed] of runs) {
    const r = await campaign(memoryTarget(undefined, profile), { seed, runs: BUDGET, profile });
    const label = `${profile === alt ? 'otherPayloads reply, idle timeout 2 s' : 'test profile'}, seed ${seed}`;
    t.same(r.findings.map((f) => `${f.rule}: ${f.message}\n${f.listing}`), [], `${label}: no finding`);
    t.equal(r.stats.generated, BUDGET, 'the whole budget ran');
    t.equal(r.stats.errors, 0, 'no harness error');
    t.equal(r.stats.probeFailures, 0, 'every liveness probe passed');
    for (const l of r.coverage.labels) if (!(l in r.coverage.hits)) missing.set(l, (missing.get(l) ?? 0) + 1);
  }
  const never = [...missing].filter(([, n]) => n === runs.length).map(([l]) => l);
  t.same(never, [], 'every label is reached by some campaign (reply-other and idle-close by the second profile)');
});

t.test('the same seed gives the same programs; another seed others', async (t) => {
  const record = async (seed: number) => {
    const programs: string[] = [];
    await campaign(memoryTarget(), { seed, runs: 90, onCase: (p, _out, shrinking) => void (shrinking || programs.push(String(p))) });
    return programs;
  };
  const a = await record(42);
  t.equal(a.length, 90);
  t.same(await record(42), a, 'same programs, in the same order');
  t.not((await record(43)).join('\n'), a.join('\n'), 'another seed, other programs');
});

t.test('over real TCP', async (t) => {
  const SEED = 2;
  const RUNS = 60;
  const servers: MoonpoolServer[] = [];
  t.teardown(() => Promise.all(servers.map((s) => s.stop())));
  const server = async (fault?: string) => {
    const s = await startMoonpoolServer({ profile: testProfile, ...(fault ? { fault } : {}) });
    servers.push(s);
    return s;
  };

  t.test('the conforming server: nothing found', async (t) => {
    const r = await campaign(tcpTarget(await server()), { seed: SEED, runs: RUNS, maxShrinkCases: 20 });
    t.same(r.findings.map((f) => `${f.rule}: ${f.message}\n${f.listing}`), [], 'no finding');
    t.equal(r.stats.generated, RUNS);
    t.equal(r.stats.probeFailures, 0, 'every liveness probe passed');
    t.ok(r.firstProbeOk);
  });

  for (const [fault, rule] of [['wrong-pong-payload', 'MOONPOOL-4.1'], ['close-stalled-connection', 'MOONPOOL-7.1']] as const) {
    t.test(`fault ${fault}: found over TCP as in-process`, async (t) => {
      const r = await campaign(tcpTarget(await server(fault)), { seed: SEED, runs: 20, maxShrinkCases: 20 });
      const mem = await campaign(memoryTarget(fault), { seed: SEED, runs: 20, maxShrinkCases: 20 });
      t.same(r.findings.map((f) => f.rule), [rule], `one finding, ${rule}`);
      t.equal(r.findings[0]?.foundAfter.generated, mem.findings[0]?.foundAfter.generated, 'after as many programs as in-process (the same programs)');
      // Shrinking a timing fault over a loaded network may settle on another, equally small,
      // counterexample: only the timing-free fault must shrink to exactly the same program.
      if (fault === 'wrong-pong-payload') t.equal(r.findings[0]?.listing, mem.findings[0]?.listing, 'shrunk to the same counterexample');
      else t.ok(r.findings[0]?.fixture.steps.length, 'shrunk to a replayable counterexample');
    });
  }
});
