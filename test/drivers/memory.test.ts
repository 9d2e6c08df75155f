/**
 * The memory driver's transport contract v2 (QUIC mode): uni streams,
 * server-opened streams handed out by acceptStream (with a deadline on the
 * virtual clock), datagrams with a configurable maximum size, the core's
 * STOP_SENDING; and what TCP mode refuses.
 */
import t from 'tap';
import { createMemoryTarget, MEMORY_MAX_DATAGRAM_SIZE } from '../../harness/drivers/memory.js';
import { DriverError } from '../../harness/drivers/types.js';
import { VirtualClock } from '../../harness/engine/clock.js';
import type { ServerAction, ServerCore } from '../../harness/engine/server-core.js';
import { fromHex, toHex, TraceRecorder, type TraceEvent } from '../../harness/engine/trace.js';
import { toyCore } from '../fixtures/_toy.js';

const setup = (o: { core?: ServerCore; maxDatagramSize?: number; transport?: 'quic' | 'tcp' } = {}) => {
  const clock = new VirtualClock();
  const mem = createMemoryTarget({ core: o.core ?? toyCore(), clock, ...(o.maxDatagramSize !== undefined ? { maxDatagramSize: o.maxDatagramSize } : {}), ...(o.transport ? { transport: o.transport } : {}) });
  const trace = new TraceRecorder(clock.nowUs(), () => clock.nowUs());
  return { clock, mem, trace };
};
const shape = (evs: readonly TraceEvent[]) =>
  evs.map((e) => {
    switch (e.type) {
      case 'stream_open':
        return `open ${e.stream} ${e.by}${e.dir ? ` ${e.dir}` : ''}`;
      case 'data':
      case 'dgram':
        return `${e.type} ${e.type === 'data' ? `${e.stream} ` : ''}${e.dir} ${e.hex}`;
      case 'stream_fin':
        return `fin ${e.stream} ${e.dir}`;
      case 'stream_reset':
        return `${e.kind} ${e.stream} ${e.dir} ${e.code}`;
      default:
        return e.type;
    }
  });

t.test('client uni streams: ids 2, 6, …; write only', async (t) => {
  const { mem, trace } = setup();
  const c = await mem.driver.connect(trace, mem.connect);
  const b = c.openStream();
  const u = c.openStream('uni');
  const u2 = c.openStream('uni');
  t.match([b, u, u2].map((s) => [s.id, s.by, s.kind]), [[0, 'client', 'bidi'], [2, 'client', 'uni'], [6, 'client', 'uni']]);
  await u.write(fromHex('0102'));
  await u.end();
  t.throws(() => u.stopSending(1), DriverError, 'no receiving side');
  t.equal(u.receivedLength, 0);
  // The toy core echoes uni bytes on a server uni stream (3).
  t.same(shape(trace.events), ['conn_open', 'open 2 client uni', 'data 2 c2s 0102', 'open 3 server uni', 'data 3 s2c 0102', 'fin 2 c2s']);
  t.throws(() => c.openStream('both' as never), DriverError);
});

t.test('server-opened streams: recorded, accepted in order, bytes kept before accept, read only when uni', async (t) => {
  const { clock, mem, trace } = setup();
  const c = await mem.driver.connect(trace, mem.connect);
  await c.openStream().write(fromHex('6f70656e')); // "open": server bidi stream 1 with "hello"
  await c.openStream('uni').write(fromHex('aa')); // server uni stream 3 with aa
  t.same(c.serverStreams!().map((s) => s.id), [1, 3]);
  const s1 = await c.acceptStream!(100);
  const s3 = await c.acceptStream!(100);
  t.match([s1, s3].map((s) => [s?.id, s?.by, s?.kind]), [[1, 'server', 'bidi'], [3, 'server', 'uni']]);
  t.equal(toHex(s1!.received()), '68656c6c6f');
  t.equal(toHex(s3!.received()), 'aa');
  await t.rejects(s3!.write(fromHex('00')), DriverError, 'server uni: no client writes');
  t.throws(() => s3!.reset(1), DriverError);
  s3!.stopSending(7);
  t.match(trace.events.at(-1), { type: 'stream_reset', stream: 3, dir: 's2c', kind: 'stop_sending', code: 7 });
  await s1!.write(fromHex('01'));
  t.equal(toHex(s1!.received()), '68656c6c6f01', 'a server bidi stream is written like a client one (echoed)');
  // Nothing more: the wait ends at its deadline, in virtual time.
  const t0 = clock.nowUs();
  t.equal(await clock.run(c.acceptStream!(250)), undefined);
  t.equal(clock.nowUs() - t0, 250_000, 'waited its 250 ms deadline');
  // A stream that comes while waiting wakes the waiter.
  const waiting = c.acceptStream!(1000);
  await c.openStream().write(fromHex('6f70656e'));
  t.equal((await clock.run(waiting))?.id, 5);
  // The close wakes a waiter with undefined.
  const w2 = c.acceptStream!(1000);
  await c.close();
  t.equal(await clock.run(w2), undefined);
});

t.test('datagrams: negotiated on request, maximum size, both ways, drops noted', async (t) => {
  const { mem, trace } = setup({ maxDatagramSize: 4 });
  const off = await mem.driver.connect(trace, mem.connect);
  t.equal(off.maxDatagramSize, undefined, 'not asked for: not negotiated');
  t.throws(() => off.sendDatagram!(fromHex('00')), { name: 'DriverError', message: /not negotiated/ });
  const c = await mem.driver.connect(trace, { ...mem.connect, datagrams: true });
  t.equal(c.maxDatagramSize, 4);
  c.sendDatagram!(fromHex('01020304'));
  t.throws(() => c.sendDatagram!(fromHex('0102030405')), { name: 'DriverError', message: /5 bytes exceed .* 4 bytes/ });
  t.same(c.datagrams!().map(toHex), ['01020304'], 'echoed');
  t.same(shape(trace.events.filter((e) => e.type === 'dgram')), ['dgram c2s 01020304', 'dgram s2c 01020304']);
  const { mem: dflt } = setup();
  const d = await dflt.driver.connect(new TraceRecorder(), { ...dflt.connect, datagrams: true });
  t.equal(d.maxDatagramSize, MEMORY_MAX_DATAGRAM_SIZE);
  const { mem: none } = setup({ maxDatagramSize: 0 });
  t.equal((await none.driver.connect(new TraceRecorder(), { ...none.connect, datagrams: true })).maxDatagramSize, undefined, 'a server without datagrams');
  // A core datagram too large for the client is dropped (noted), as a QUIC stack drops it.
  let q: ServerAction[] = [];
  const big: ServerCore = { ...toyCore(), handle: (ev) => void (ev.type === 'conn_open' && q.push({ type: 'dgram', conn: ev.conn, bytes: new Uint8Array(9) })), poll: () => [q, (q = [])][0]! };
  const { mem: m2, trace: tr2 } = setup({ core: big, maxDatagramSize: 8 });
  const c2 = await m2.driver.connect(tr2, { ...m2.connect, datagrams: true });
  t.same(c2.datagrams!(), []);
  t.match(tr2.events.at(-1), { type: 'note', text: /DATAGRAM of 9 bytes dropped \(over 8 bytes\)/ });
  await c.close();
});

t.test("the core's STOP_SENDING closes the client's sending side", async (t) => {
  let q: ServerAction[] = [];
  const core: ServerCore = { ...toyCore(), handle: (ev) => void (ev.type === 'data' && q.push({ type: 'stop_sending', conn: ev.conn, stream: ev.stream, code: 9 })), poll: () => [q, (q = [])][0]! };
  const { mem, trace } = setup({ core });
  const c = await mem.driver.connect(trace, mem.connect);
  const s = c.openStream();
  await s.write(fromHex('00'));
  t.same(shape(trace.events).slice(-1), ['stop_sending 0 c2s 9']);
  await t.rejects(s.write(fromHex('01')), DriverError);
});

t.test('TCP mode: no uni streams, no server streams, no datagrams', async (t) => {
  const { mem, trace } = setup({ transport: 'tcp' });
  const c = await mem.driver.connect(trace, { ...mem.connect, datagrams: true });
  t.throws(() => c.openStream('uni'), { name: 'DriverError', message: /TCP has no unidirectional streams/ });
  t.equal(c.maxDatagramSize, undefined);
  t.throws(() => c.sendDatagram!(fromHex('00')), { name: 'DriverError', message: /TCP has none/ });
  t.same(c.serverStreams!(), []);
  t.equal(await c.acceptStream!(1000), undefined, 'acceptStream: nothing, at once (no clock run needed)');
  await c.close();
});
