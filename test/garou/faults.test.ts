/**
 * The Garou suite catches each deliberate fault of the reference server, in
 * the intended cases, under the intended rules, and nowhere else: the whole
 * suite in process against the reference core with the fault, in virtual
 * time (the verdicts do not depend on the machine's load).
 */
import t from 'tap';
import { faults } from '../../reference-server/garou/faults.js';
import { suite } from '../../suites/garou/index.js';
import { checkFaultRun, type FaultExpectation } from '../_support/faults.js';
import { runSuiteInProcess } from '../_support/in-process.js';

const g = (ids: string): string[] => ids.split(/\s+/).filter(Boolean).map((id) => `garou/${id}`);
const roomCases = g(`
  commands/every-command commands/pipelined-in-order commands/refusals roles/guest-and-member-in-group roles/channel roles/direct-room
  events/fan-out-three events/concurrent-writers events/concurrent-edits-and-reactions events/concurrent-guest events/several-rooms-shards events/join-and-leave events/history-overflow events/disconnect-leaves events/two-connections-one-user
  hot/promote-and-demote hot/join-hot-room hot/cap acks/delivered-and-read limits/violation-isolated limits/many-connections`);

/** For each fault: the cases that must catch it and the rules their failures may name. */
const expectations: Record<string, FaultExpectation> = {
  'seq-gap': { targets: [...roomCases, ...g('datagrams/typing-and-presence')], rules: ['GAROU-7.1'] },
  'wrong-shard': { targets: [...roomCases, ...g('sanity-probe streams/each-client-type uploads/cancel-and-bad-offsets datagrams/typing-and-presence')], rules: ['GAROU-3.6'] },
  'lose-at-promotion': { targets: g('events/history-overflow hot/promote-and-demote hot/join-hot-room hot/cap'), rules: ['GAROU-7.2', 'GAROU-8.5'] },
  'guests-post': { targets: g('roles/guest-and-member-in-group events/concurrent-guest uploads/cancel-and-bad-offsets'), rules: ['GAROU-6.4'] },
  'answers-out-of-order': { targets: g('commands/pipelined-in-order events/concurrent-writers events/concurrent-edits-and-reactions events/concurrent-guest hot/promote-and-demote hot/join-hot-room hot/cap'), rules: ['GAROU-5.2'] },
  'no-handshake-timeout': { targets: g('handshake/timeout'), rules: ['GAROU-4.5'] },
  'ignore-stream-type': { targets: g('streams/unknown-type-byte streams/server-type-byte streams/frame-on-wrong-stream streams/command-on-control limits/violation-isolated'), rules: ['GAROU-3.3'] },
  'ignore-frame-limit': { targets: g('frames/too-large'), rules: ['GAROU-2.3'] },
  'wrong-close-code': {
    targets: g(`handshake/wrong-version handshake/frame-before-auth handshake/auth-before-hello frames/unknown-type frames/bad-json frames/invalid-utf8
      frames/schema-break-handshake frames/truncated-then-fin streams/duplicate-commands streams/before-auth streams/unknown-type-byte streams/server-type-byte
      streams/frame-on-wrong-stream streams/command-on-control streams/second-bidi datagrams/malformed limits/violation-isolated`),
    rules: ['GAROU-13.2'],
  },
  'no-room-init': {
    targets: [...roomCases, ...g('sanity-probe streams/each-client-type uploads/complete uploads/cancel-and-bad-offsets datagrams/typing-and-presence')],
    rules: ['GAROU-7.4'],
  },
  'no-demotion': { targets: g('hot/promote-and-demote'), rules: ['GAROU-8.3'] },
  'early-demotion': { targets: g('hot/promote-and-demote'), rules: ['GAROU-8.3'] },
  'no-pong': { targets: g('handshake/ping-before-auth keepalive/ping-pong'), rules: ['GAROU-12.1'] },
  'wrong-upload-ack': { targets: g('streams/each-client-type uploads/complete uploads/cancel-and-bad-offsets'), rules: ['GAROU-10.2'] },
};
/** Faults with a verdict of their own: a SHOULD (non-strict), and one the sanity probe itself catches. */
const special = ['no-datagram-relay', 'no-echo'];

t.same([...Object.keys(expectations), ...special].sort(), Object.keys(faults).sort(), 'every fault is tested');
const ids = new Set([...suite.cases.map((c) => c.id), 'garou/sanity-probe']);
t.same(Object.values(expectations).flatMap((e) => e.targets).filter((id) => !ids.has(id)), [], 'every target is a case of the suite');

const run = (fault: string) => runSuiteInProcess({ suite, profile: suite.fastProfile, fault });

for (const [fault, exp] of Object.entries(expectations)) {
  t.test(`fault ${fault}`, async (t) => checkFaultRun(t, await run(fault), exp));
}

t.test('fault no-datagram-relay: a missing relay is a SHOULD (non-strict), in the datagram case only', async (t) => {
  const r = await run('no-datagram-relay');
  const notPass = r.cases.filter((c) => c.verdict !== 'pass').map((c) => `${c.id} ${c.verdict} ${c.rule ?? ''}`);
  t.same(notPass, ['garou/datagrams/typing-and-presence non-strict GAROU-11.3']);
});

t.test('fault no-echo: the sanity probe (which waits for its own message) catches it as a wrong answer (exit 1), every failure under GAROU-7.2', async (t) => {
  const r = await run('no-echo');
  t.equal(r.probes[0]?.verdict, 'wrong', 'the first probe: answered (AuthOk, MessageAck) but the echo never came');
  t.equal(r.probes[0]?.rule, 'GAROU-7.2', 'under GAROU-7.2 (the sender is a member)');
  t.match(r.cases[0], { id: 'garou/sanity-probe', verdict: 'fail', rule: 'GAROU-7.2' }, 'the probe case comes first');
  const others = r.cases.filter((c) => c.verdict === 'fail' || c.verdict === 'timeout').filter((c) => c.rule !== 'GAROU-7.2');
  t.same(others.map((c) => `${c.id} ${c.verdict} ${c.rule ?? ''}`), [], 'no failure under another rule');
});
