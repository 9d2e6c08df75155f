/**
 * The memory driver in TCP mode records what the TCP driver records, and
 * feeds its core what the TCP host feeds it, for the same script and core
 * (both follow tcp/close-semantics.ts): closes by the server or the client,
 * server FIN first, client FIN first, RSTs both ways. Real sockets on
 * 127.0.0.1 for the reference side; virtual time for the memory side.
 */
import t from 'tap';
import { createMemoryTarget } from '../../harness/drivers/memory.js';
import { tcpDriver } from '../../harness/drivers/tcp.js';
import type { ClientConnection } from '../../harness/drivers/types.js';
import { VirtualClock } from '../../harness/engine/clock.js';
import type { ServerAction, ServerCore } from '../../harness/engine/server-core.js';
import { fromHex, TraceRecorder, type TraceEvent } from '../../harness/engine/trace.js';
import { startTcpHost } from '../../harness/tcp/server-host.js';

/** Echoes bytes; `ff` closes (4, 'bye'), `fe` sends FIN, `fd` resets (6); answers a client FIN with FIN. Records what it is fed. */
function core(seen: TraceEvent[]): ServerCore {
  let q: ServerAction[] = [];
  return {
    sendTimeoutMs: undefined,
    sendStalled: () => undefined,
    handle(ev) {
      seen.push(ev);
      if (ev.type === 'data' && ev.dir === 'c2s') {
        if (ev.hex === 'ff') q.push({ type: 'close', conn: ev.conn, code: 4, reason: 'bye' });
        else if (ev.hex === 'fe') q.push({ type: 'fin', conn: ev.conn, stream: 0 });
        else if (ev.hex === 'fd') q.push({ type: 'reset', conn: ev.conn, stream: 0, code: 6 });
        else q.push({ type: 'send', conn: ev.conn, stream: 0, bytes: fromHex(ev.hex) });
      } else if (ev.type === 'stream_fin' && ev.dir === 'c2s') q.push({ type: 'fin', conn: ev.conn, stream: 0 });
    },
    poll: () => [q, (q = [])][0]!,
    nextTimer: () => undefined,
  };
}

/** A script; `echoed(n)` waits (bounded) until n bytes came back. */
type Script = (c: ClientConnection, echoed: (n: number) => Promise<void>) => Promise<void>;
const scripts: Record<string, Script> = {
  'server closes': async (c, echoed) => {
    await c.openStream().write(fromHex('01'));
    await echoed(1);
    await c.openStream().write(fromHex('ff'));
  },
  'server FIN first': async (c) => c.openStream().write(fromHex('fe')),
  'client FIN first': async (c, echoed) => {
    await c.openStream().write(fromHex('02'));
    await echoed(1);
    await c.openStream().end();
  },
  'client RST': async (c, echoed) => {
    await c.openStream().write(fromHex('03'));
    await echoed(1);
    c.openStream().reset(8);
  },
  'server RST': async (c) => c.openStream().write(fromHex('fd')),
};
const shape = (evs: readonly TraceEvent[]) =>
  evs.map((e) => {
    switch (e.type) {
      case 'conn_open':
        return 'open';
      case 'stream_open':
        return `stream ${e.by}`;
      case 'data':
        return `data ${e.dir} ${e.hex}`;
      case 'stream_fin':
        return `fin ${e.dir}`;
      case 'stream_reset':
        return `reset ${e.dir} ${e.code}`;
      case 'conn_close':
        return `close ${e.by} ${e.isApp} ${e.code} ${e.reason}`;
      default:
        return e.type;
    }
  });

for (const [name, script] of Object.entries(scripts)) {
  t.test(name, async (t) => {
    // Over sockets.
    const seenReal: TraceEvent[] = [];
    const host = await startTcpHost({ core: core(seenReal) });
    t.teardown(() => host.stop());
    const real = new TraceRecorder();
    const c = await tcpDriver.connect(real, { host: host.host, port: host.port, connectTimeoutMs: 3000 });
    t.teardown(() => c.close());
    const poll = async (cond: () => boolean) => {
      const deadline = Date.now() + 3000;
      while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    };
    await script(c, (n) => poll(() => c.openStream().receivedLength >= n));
    await poll(() => c.isClosed && seenReal.some((e) => e.type === 'conn_close'));
    // In memory.
    const seenMem: TraceEvent[] = [];
    const clock = new VirtualClock();
    const mem = createMemoryTarget({ core: core(seenMem), clock, transport: 'tcp' });
    const memTrace = new TraceRecorder(0, () => clock.nowUs());
    const m = await mem.driver.connect(memTrace, mem.connect);
    await script(m, async (n) => void t.ok(m.openStream().receivedLength >= n, 'echoed at once'));
    t.ok(m.isClosed, 'the memory connection ended');
    t.same(shape(memTrace.events), shape(real.events), 'the client records the same');
    t.same(shape(seenMem), shape(seenReal), 'the core is fed the same');
    t.same(await m.closed, await c.closed, 'same close info');
    t.equal(mem.liveConnections(), 0, 'nothing left in memory');
  });
}

t.test('a client close: recorded with its code; its FIN reaches the core, which ends the connection', async (t) => {
  const seen: TraceEvent[] = [];
  const mem = createMemoryTarget({ core: core(seen), clock: new VirtualClock(), transport: 'tcp' });
  const trace = new TraceRecorder(0, () => 0);
  const m = await mem.driver.connect(trace, mem.connect);
  await m.openStream().write(fromHex('01'));
  await m.close(5, 'done');
  t.same(shape(trace.events), ['open', 'stream client', 'data c2s 01', 'data s2c 01', 'close client false 5 done']);
  t.same(shape(seen), ['open', 'stream client', 'data c2s 01', 'fin c2s', 'close client false 0 fin'], 'the core saw the FIN, answered with its own, then the end');
  t.equal(mem.liveConnections(), 0);
});
