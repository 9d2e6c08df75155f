/**
 * The fuzzer's parts: the virtual clock, the in-memory driver, the program
 * builder (names, guard band, drain, prediction), the generators' fixtures,
 * coverage labels, the CLI's flag parsers.
 */
import t from 'tap';
import fc from 'fast-check';
import { createMemoryTarget } from '../../harness/drivers/memory.js';
import { VirtualClock, VirtualClockStall } from '../../harness/engine/clock.js';
import { TraceRecorder } from '../../harness/engine/trace.js';
import { checkFixture } from '../../harness/fixtures/index.js';
import { formatProgram, programToFixture } from '../../harness/fuzz/program.js';
import { parseDurationFlag, parseReplay, parseShard } from '../../harness/cli/fuzz.js';
import { createReferenceCore } from '../../reference-server/proton/index.js';
import { ProtonProgramBuilder, protonArbitraries } from '../../suites/proton/arbitraries.js';
import { COVERAGE_LABELS } from '../../suites/proton/model.js';
import { suite } from '../../suites/proton/index.js';
import type { ProtonProfile } from '../../suites/proton/profile.js';
import { testProfile } from './_helpers.js';

t.test('VirtualClock: timers in due order, time jumps, a stall is an error', async (t) => {
  const clock = new VirtualClock(1000);
  const order: string[] = [];
  clock.setTimeout(() => order.push(`b@${clock.nowUs()}`), 20);
  clock.setTimeout(() => order.push(`a@${clock.nowUs()}`), 10);
  const cancelled = clock.setTimeout(() => order.push('never'), 5);
  clock.clearTimeout(cancelled);
  const work = new Promise<void>((resolve) => clock.setTimeout(resolve, 30));
  await clock.run(work);
  t.same(order, ['a@11000', 'b@21000'], 'due order, time in µs');
  t.equal(clock.nowUs(), 31000);
  await t.rejects(clock.run(new Promise<void>(() => undefined), 3), VirtualClockStall, 'nothing armed and nothing to do: a stall');
});

t.test('memory driver: a case runs against the core with no socket', async (t) => {
  const clock = new VirtualClock();
  const mem = createMemoryTarget({ core: createReferenceCore({ profile: testProfile }), clock, alpn: ['proton'] });
  const trace = new TraceRecorder(clock.nowUs(), () => clock.nowUs());
  const conn = await mem.driver.connect(trace, { ...mem.connect, alpn: ['proton'] });
  const s = conn.openStream();
  await s.write(Uint8Array.of(1, 0, 0, 0, 7));
  t.same([...s.received()], [0, 0, 0, 7], 'the ack comes at once');
  t.equal(mem.liveConnections(), 1);
  await t.rejects(mem.driver.connect(new TraceRecorder(), { ...mem.connect, alpn: ['other'] }), /ALPN mismatch/);
  const c2 = await mem.driver.connect(trace, { ...mem.connect, alpn: ['proton'] });
  t.ok(conn.isClosed && c2.isClosed, 'a second connection: the core closes both (PROTON-2.2)');
  t.same((await conn.closed).code, 2);
  t.same(trace.events.map((e) => e.type), ['conn_open', 'stream_open', 'data', 'data', 'conn_open', 'conn_close', 'conn_close']);
  t.equal(mem.liveConnections(), 0);
});

t.test('program builder: named steps, predictions, guard band, drain', async (t) => {
  const b = new ProtonProgramBuilder(testProfile, 'unit');
  const a = b.connect();
  const c = b.open(a);
  b.send(c, 2, [21]);
  t.ok(b.commitOutstanding(c), 'the commit is outstanding');
  b.wait('commitDelayMs - 10');
  b.send(c, undefined, [22]); // Inside the band around the answer: the builder waits first.
  const p = b.build('Sends two commits.');
  const text = formatProgram(p);
  t.match(text, /write a0 0200000015 — discriminator 0x02 \(commit\) \+ commit id 21/);
  t.match(text, /=> model: answer 0000002a on a0 \(timer, at \+250 ms\)/);
  t.match(text, /guard: \d+ ms clear of the server's timer-driven answer 0000002a on a0/);
  t.match(text, /expect settled within 250 \+ toleranceMs \+ 300/, 'drain: until nothing is owed');
  t.same(p.rules.slice(0, 1), ['PROTON-5.1']);
  const withAction = new ProtonProgramBuilder(testProfile, 'unit');
  withAction.send(withAction.open(withAction.connect()), 3, []);
  const q = withAction.build('Opens the Action stream.');
  t.same(q.steps.at(-1), { do: 'wait', ms: '2 * actionIntervalMs + toleranceMs', comment: q.steps.at(-1)!.comment }, 'an Action stream never settles: the drain waits two intervals');
  const v = new ProtonProgramBuilder(testProfile, 'unit');
  const va = v.connect();
  v.send(v.open(va), 7, []);
  t.notOk(v.isLive(va), 'the model predicts the close of an unknown discriminator');
  t.match(formatProgram(v.build('x')), /close a 0x1 PROTOCOL_VIOLATION "PROTON-3\.2 unknown discriminator 0x07/);
});

t.test('program builder: PROTON-3.3 as the model says (profile reopenStreamType); rules from the predicted close actions', async (t) => {
  const twice = (profile: ProtonProfile) => {
    const b = new ProtonProgramBuilder(profile, 'unit');
    const a = b.connect();
    const e = b.open(a);
    b.send(e, 1, [1]);
    b.fin(e);
    b.wait(50);
    b.send(b.open(a), 1, [2]);
    const p = b.build('x');
    return { b, a, text: formatProgram(p), rules: p.rules };
  };
  const strict = twice(testProfile);
  t.match(strict.text, /discriminator 0x01 \(event again: PROTON-3\.3\)/);
  t.notOk(strict.b.isLive(strict.a), 'the model closes the connection');
  t.equal(strict.rules[0], 'PROTON-3.3', 'the close action carries its rule (no reason parsed)');
  // A stream ended both ways (client FIN, the server's FIN after the acks) may be reopened with reopenStreamType.
  const b = new ProtonProgramBuilder({ ...testProfile, reopenStreamType: true }, 'unit');
  const a = b.connect();
  const e = b.open(a);
  b.send(e, 1, [1]);
  b.fin(e);
  b.wait(50);
  const again = b.open(a);
  t.match(b.describeBytes(again, Uint8Array.of(1)), /^discriminator 0x01 \(event\)$/, 'not named a violation: the model allows it');
  b.send(again, 1, [2]);
  t.ok(b.isLive(a), 'and the model keeps the connection open');
});

t.test('generated programs are valid fixtures, and their coverage labels are known', async (t) => {
  const known = new Set(COVERAGE_LABELS);
  for (const [name, arb] of Object.entries(protonArbitraries(testProfile))) {
    for (const p of fc.sample(arb, { numRuns: 60, seed: 9 })) {
      t.equal(p.arbitrary, name);
      checkFixture(programToFixture(p, { protocol: 'proton', id: `proton/fuzz/${name}` }), name, suite);
      t.ok(p.steps.every((s) => s.comment !== undefined || ('do' in s && (s.do === 'connect' || s.do === 'open'))), 'every step names itself');
    }
  }
  t.equal(suite.fuzz?.coverageLabels, COVERAGE_LABELS);
  const m = suite.createMonitor(testProfile);
  m.feed({ type: 'conn_open', t: 0, conn: 0, remote: 'x' }, 0);
  m.feed({ type: 'data', t: 1, conn: 0, stream: 0, dir: 'c2s', hex: '01' }, 1);
  t.same(m.coverage!().filter((l) => !known.has(l)), [], 'labels reported are listed');
  t.ok(m.coverage!().includes('transition:identify-event'));
});

t.test('flag parsers', async (t) => {
  t.equal(parseDurationFlag('60s'), 60_000);
  t.equal(parseDurationFlag('2m'), 120_000);
  t.equal(parseDurationFlag('500ms'), 500);
  t.equal(parseDurationFlag('90'), 90_000);
  t.throws(() => parseDurationFlag('1 week'));
  t.same(parseShard('2/4'), { index: 1, count: 4 });
  t.throws(() => parseShard('0/4'));
  t.same(parseReplay('-123:4:0:1'), { seed: -123, path: '4:0:1' });
  t.throws(() => parseReplay('123'));
});
