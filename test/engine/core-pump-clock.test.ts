/**
 * CorePump on a given clock (a VirtualClock): the core's timer fires in
 * virtual time, a core that leaves its timer due is backed off in virtual
 * milliseconds, a core that keeps producing actions is deferred on the
 * clock, and stop() leaves no timer armed.
 */
import t from 'tap';
import { VirtualClock } from '../../harness/engine/clock.js';
import { CorePump, MAX_ACTIONS_PER_PUMP } from '../../harness/engine/core-pump.js';
import type { ServerAction, ServerCore } from '../../harness/engine/server-core.js';

const base = (): ServerCore => ({ sendTimeoutMs: undefined, sendStalled: () => undefined, handle: () => undefined, poll: () => [], nextTimer: () => undefined });
const wire = (sent: ServerAction[]) => ({ send: (a: ServerAction) => void sent.push(a), fin: () => undefined, reset: () => undefined, close: (a: ServerAction) => void sent.push(a) });

t.test('the core timer fires in virtual time', async (t) => {
  const clock = new VirtualClock();
  let due: number | undefined = 250_000;
  const polls: number[] = [];
  const sent: ServerAction[] = [];
  const core: ServerCore = { ...base(), nextTimer: () => due, poll: (tt) => (polls.push(tt), tt >= (due ?? Infinity) ? ((due = undefined), [{ type: 'close', conn: 1, code: 2, reason: 'idle' }]) : []) };
  const pump = new CorePump({ core, now: () => clock.nowUs(), clock, wire: wire(sent), log: () => undefined });
  pump.pump();
  t.equal(clock.pending, 1, 'one timer armed on the clock');
  await clock.run(new Promise<void>((r) => clock.setTimeout(r, 1000)));
  t.same(polls, [0, 250_000]);
  t.match(sent, [{ type: 'close', conn: 1 }]);
  pump.stop();
});

t.test('a timer the core leaves due is backed off 1, 2, 4 … virtual ms', async (t) => {
  const clock = new VirtualClock();
  const polls: number[] = [];
  const logs: string[] = [];
  const core: ServerCore = { ...base(), nextTimer: () => 0, poll: (tt) => (polls.push(tt), []) };
  const pump = new CorePump({ core, now: () => clock.nowUs(), clock, wire: wire([]), log: (_l, m) => void logs.push(m) });
  pump.pump();
  await clock.run(new Promise<void>((r) => clock.setTimeout(r, 20)));
  t.same(polls.slice(0, 5), [0, 1000, 3000, 7000, 15_000]);
  t.same(logs, ['core timer still due after poll; backing off']);
  pump.stop();
  t.equal(clock.pending, 0, 'stop clears the timer');
});

t.test('a core that keeps producing actions is deferred on the clock', async (t) => {
  const clock = new VirtualClock();
  let left = MAX_ACTIONS_PER_PUMP + 5;
  const sent: ServerAction[] = [];
  const send = (): ServerAction => ({ type: 'send', conn: 0, stream: 0, bytes: new Uint8Array(1) });
  let pump!: CorePump;
  const core: ServerCore = { ...base(), poll: () => (left-- > 0 ? [send()] : []) };
  pump = new CorePump({ core, now: () => clock.nowUs(), clock, wire: { ...wire(sent), send: (a) => (sent.push(a), pump.pump()) }, log: () => undefined });
  pump.pump();
  t.equal(sent.length, MAX_ACTIONS_PER_PUMP, 'yields after the limit');
  t.equal(clock.pending, 1, 'the next round waits on the clock');
  await clock.run(new Promise<void>((r) => clock.setTimeout(r, 1)));
  t.equal(sent.length, MAX_ACTIONS_PER_PUMP + 5, 'and then continues');
  pump.stop();
});
