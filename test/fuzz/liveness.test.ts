/**
 * The liveness check after every case: a target that leaks its single
 * connection slot is a finding under the suite's liveness rule (PROTON-8.5),
 * shrunk like any other; a target that stops answering stops the campaign.
 * In-process, with test-only cores wrapped around the reference core.
 */
import t from 'tap';
import { createMemoryTarget } from '../../harness/drivers/memory.js';
import { VirtualClock } from '../../harness/engine/clock.js';
import type { ServerAction, ServerCore } from '../../harness/engine/server-core.js';
import type { TraceEvent } from '../../harness/engine/trace.js';
import type { FuzzTarget } from '../../harness/fuzz/campaign.js';
import { createReferenceCore } from '../../reference-server/proton/index.js';
import { campaign, testProfile } from './_helpers.js';

/** Wraps the reference core; `drop(ev)` true makes it never see that event. */
function wrapped(drop: (ev: TraceEvent, seen: { conns: number; action: Set<number> }) => boolean): FuzzTarget {
  const inner = createReferenceCore({ profile: testProfile });
  const seen = { conns: 0, action: new Set<number>() };
  const core: ServerCore = {
    sendTimeoutMs: inner.sendTimeoutMs,
    handle(ev) {
      if (ev.type === 'conn_open') seen.conns++;
      if (ev.type === 'data' && ev.dir === 'c2s' && ev.hex.startsWith('03')) seen.action.add(ev.conn);
      if (!drop(ev, seen)) inner.handle(ev);
    },
    sendStalled: (c, s, tt) => inner.sendStalled(c, s, tt),
    poll: (tt): ServerAction[] => inner.poll(tt),
    nextTimer: () => inner.nextTimer(),
  };
  const clock = new VirtualClock();
  const mem = createMemoryTarget({ core, clock, alpn: ['proton'] });
  return { url: 'memory:leaky', driver: mem.driver, connect: mem.connect, clock };
}

t.test('a leaked connection slot is found by the liveness probe and shrunk', async (t) => {
  // Forgets the client's close of a connection that opened an Action stream: the slot stays taken.
  const target = wrapped((ev, seen) => ev.type === 'conn_close' && ev.by === 'client' && seen.action.has(ev.conn));
  const r = await campaign(target, { seed: 1, runs: 60, arbitraries: ['discriminators'] });
  const f = r.findings.find((x) => x.rule === 'PROTON-8.5');
  t.ok(f, 'a liveness finding under PROTON-8.5');
  t.ok(f!.targetDied, 'marked: the target failed the probe after it');
  t.match(f!.message, /did not accept a fresh connection and serve a valid exchange/);
  t.match(f!.listing, /discriminator 0x03 \(action\)/, 'the shrunk program opens an Action stream');
  t.ok(f!.fixture.steps.length <= 5, `shrunk to a few steps (${f!.fixture.steps.length})`);
  t.equal(r.stopped, undefined, 'the slot frees again (the server closes both connections), the campaign goes on');
});

t.test('a target that stops answering stops the campaign', async (t) => {
  const target = wrapped((ev, seen) => seen.conns > 12 && ev.type !== 'conn_open');
  const r = await campaign(target, { seed: 1, runs: 100 });
  t.match(r.stopped ?? '', /stopped passing the liveness probe/);
  t.ok(r.stats.generated < 100, `the campaign ended early (${r.stats.generated} programs)`);
  t.ok(r.findings.length >= 1, 'with a finding');
});
