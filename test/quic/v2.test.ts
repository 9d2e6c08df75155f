/**
 * Transport contract v2 over QUIC on loopback, driver (drivers/quic.ts)
 * against host (quic/server-host.ts): client uni streams, server-opened
 * bidi and uni streams, STOP_SENDING from a core, and QUIC DATAGRAMs
 * (RFC 9221) both ways, their size limit, and their refusal when not
 * negotiated.
 */
import t from 'tap';
import { until } from './_helpers.js';
import { startQuicHost, type HostLogEntry, type QuicHost } from '../../harness/quic/server-host.js';
import { generateSelfSigned, type SelfSignedIdentity } from '../../harness/tls/cert.js';
import type { ServerAction, ServerCore } from '../../harness/engine/server-core.js';
import { TraceRecorder, fromHex, type TraceEvent } from '../../harness/engine/trace.js';
import { quicDriver } from '../../harness/drivers/quic.js';
import { DriverError, type ClientConnection, type ConnectOptions } from '../../harness/drivers/types.js';

const ALPN = 'wcv2';
const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * A scripted core. On client stream data: `push` opens server bidi stream 1
 * ("B1") and server uni stream 3 ("U1" + FIN); `stop` asks STOP_SENDING 55 on
 * that stream; `big-dgram` sends a 5,000-byte datagram (too large: dropped);
 * `dgram` sends datagram "srv-dgram". A client datagram is echoed as
 * `echo:<payload>`. Everything fed is kept in `seen`.
 */
class ScriptCore implements ServerCore {
  readonly sendTimeoutMs = undefined;
  readonly seen: TraceEvent[] = [];
  private queue: ServerAction[] = [];

  handle(ev: TraceEvent): void {
    this.seen.push(ev);
    if (ev.type === 'dgram' && ev.dir === 'c2s') {
      this.queue.push({ type: 'dgram', conn: ev.conn, bytes: Buffer.concat([Buffer.from('echo:'), fromHex(ev.hex)]) });
    }
    if (ev.type !== 'data' || ev.dir !== 'c2s') return;
    const text = dec.decode(fromHex(ev.hex));
    if (text === 'push') {
      this.queue.push({ type: 'send', conn: ev.conn, stream: 1, bytes: enc.encode('B1') });
      this.queue.push({ type: 'send', conn: ev.conn, stream: 3, bytes: enc.encode('U1') });
      this.queue.push({ type: 'fin', conn: ev.conn, stream: 3 });
    } else if (text === 'stop') {
      this.queue.push({ type: 'stop_sending', conn: ev.conn, stream: ev.stream, code: 55 });
    } else if (text === 'big-dgram') {
      this.queue.push({ type: 'dgram', conn: ev.conn, bytes: new Uint8Array(5_000) });
    } else if (text === 'dgram') {
      this.queue.push({ type: 'dgram', conn: ev.conn, bytes: enc.encode('srv-dgram') });
    }
  }

  sendStalled(): void {}

  poll(): ServerAction[] {
    const out = this.queue;
    this.queue = [];
    return out;
  }

  nextTimer(): number | undefined {
    return undefined;
  }
}

let identity: SelfSignedIdentity;
const hosts = new Set<QuicHost>();
const conns = new Set<ClientConnection>();

t.before(async () => {
  identity = await generateSelfSigned();
});
t.teardown(async () => {
  await Promise.all([...conns].map((c) => c.close().catch(() => undefined)));
  await Promise.all([...hosts].map((h) => h.stop().catch(() => undefined)));
});

async function host(datagrams: boolean, logs: HostLogEntry[] = []): Promise<{ h: QuicHost; core: ScriptCore }> {
  const core = new ScriptCore();
  const h = await startQuicHost({
    alpn: [ALPN], certPem: identity.certPem, keyPem: identity.keyPem, core, datagrams, log: (e) => logs.push(e),
  });
  hosts.add(h);
  return { h, core };
}

async function connect(port: number, trace: TraceRecorder, extra: Partial<ConnectOptions> = {}): Promise<ClientConnection> {
  const c = await quicDriver.connect(trace, {
    host: '127.0.0.1', port, alpn: [ALPN], insecure: true, connectTimeoutMs: 3_000, ...extra,
  });
  conns.add(c);
  return c;
}

function strip(evs: readonly TraceEvent[], conn: number): Array<Record<string, unknown>> {
  return evs
    .filter((e) => e.type !== 'note' && 'conn' in e && e.conn === conn && e.type !== 'conn_open' && e.type !== 'conn_close')
    .map(({ t: _t, ...rest }) => rest as Record<string, unknown>);
}

t.test('a client uni stream reaches the host core, with dir uni', async (t) => {
  const { h, core } = await host(false);
  const trace = new TraceRecorder();
  const c = await connect(h.port, trace);
  const s = c.openStream('uni');
  t.match(s, { id: 2, by: 'client', kind: 'uni' });
  t.throws(() => s.stopSending(1), DriverError, 'a client uni stream is send-only');
  await s.write(enc.encode('hello'));
  await s.end();
  await until(() => core.seen.some((e) => e.type === 'stream_fin' && e.stream === 2), 'FIN on stream 2 at the host');
  const serverConn = core.seen.find((e) => e.type === 'conn_open')!.conn;
  t.same(strip(core.seen, serverConn), [
    { type: 'stream_open', conn: serverConn, stream: 2, by: 'client', dir: 'uni' },
    { type: 'data', conn: serverConn, stream: 2, dir: 'c2s', hex: Buffer.from('hello').toString('hex') },
    { type: 'stream_fin', conn: serverConn, stream: 2, dir: 'c2s' },
  ]);
  t.same(strip(trace.events, c.conn).slice(0, 1), [{ type: 'stream_open', conn: c.conn, stream: 2, by: 'client', dir: 'uni' }]);
  t.equal(s.received().byteLength, 0);
  const s2 = c.openStream('uni');
  t.equal(s2.id, 6, 'next client uni stream id (RFC 9000 §2.1)');
  t.equal(c.openStream().id, 0, 'bidi ids are counted apart');
});

t.test('streams the host opens (bidi 1, uni 3) are accepted with their bytes', async (t) => {
  const { h, core } = await host(false);
  const trace = new TraceRecorder();
  const c = await connect(h.port, trace);
  await c.openStream().write(enc.encode('push'));
  const first = await c.acceptStream!(3_000);
  const second = await c.acceptStream!(3_000);
  t.ok(first && second, 'two server streams accepted');
  t.match(first, { id: 1, by: 'server', kind: 'bidi' });
  t.match(second, { id: 3, by: 'server', kind: 'uni' });
  await until(() => second!.readEnded && first!.receivedLength === 2, 'bytes of both server streams');
  t.equal(dec.decode(first!.received()), 'B1');
  t.equal(dec.decode(second!.received()), 'U1');
  t.same(c.serverStreams!().map((s) => s.id), [1, 3]);
  // The client answers on the server's bidi stream; the core sees it on stream 1.
  await first!.write(enc.encode('back'));
  await until(() => core.seen.some((e) => e.type === 'data' && e.stream === 1), 'client bytes on server stream 1');
  t.ok(trace.events.some((e) => e.type === 'stream_open' && e.stream === 3 && e.by === 'server' && e.dir === 'uni'));
  t.ok(h.trace.events.some((e) => e.type === 'stream_open' && e.stream === 3 && e.by === 'server' && e.dir === 'uni'), 'host records dir too');
  t.ok(h.trace.events.some((e) => e.type === 'stream_open' && e.stream === 1 && e.by === 'server' && e.dir === undefined));
  await t.rejects(second!.write(enc.encode('x')), DriverError, 'a server uni stream is receive-only');
  t.throws(() => second!.reset(1), DriverError);
});

t.test('a core STOP_SENDING reaches the client with its code', async (t) => {
  const { h, core } = await host(false);
  const trace = new TraceRecorder();
  const c = await connect(h.port, trace);
  const s = c.openStream();
  await s.write(enc.encode('stop'));
  await until(() => trace.events.some((e) => e.type === 'stream_reset' && e.kind === 'stop_sending'), 'STOP_SENDING at the client');
  t.ok(trace.events.some((e) => e.type === 'stream_reset' && e.kind === 'stop_sending' && e.code === 55 && e.dir === 'c2s'));
  t.ok(h.trace.events.some((e) => e.type === 'stream_reset' && e.kind === 'stop_sending' && e.code === 55 && e.dir === 'c2s'), 'host records it');
  await t.rejects(s.write(enc.encode('more')), DriverError, 'writing after STOP_SENDING rejects');
  t.notOk(core.seen.some((e) => e.type === 'stream_reset' && e.kind === 'stop_sending'), 'the host does not feed its own action back');
});

t.test('datagrams both ways, with the size limit', async (t) => {
  const logs: HostLogEntry[] = [];
  const { h, core } = await host(true, logs);
  const trace = new TraceRecorder();
  const c = await connect(h.port, trace, { datagrams: true });
  const max = c.maxDatagramSize;
  t.type(max, 'number');
  t.ok(max! >= 1_000 && max! < 1_500, `max datagram payload ${String(max)} bytes fits one packet`);
  c.sendDatagram!(enc.encode('ping'));
  await until(() => c.datagrams!().length > 0, 'the echoed datagram');
  t.equal(dec.decode(c.datagrams!()[0]!), 'echo:ping');
  t.ok(core.seen.some((e) => e.type === 'dgram' && e.dir === 'c2s' && e.hex === Buffer.from('ping').toString('hex')), 'the core saw it');
  t.same(
    trace.events.filter((e) => e.type === 'dgram').map((e) => (e.type === 'dgram' ? `${e.dir} ${dec.decode(fromHex(e.hex))}` : '')),
    ['c2s ping', 's2c echo:ping'],
  );
  t.ok(h.trace.events.some((e) => e.type === 'dgram' && e.dir === 's2c'), 'the host records what it sends');
  // Exactly the limit passes, one byte more is refused before anything is recorded.
  c.sendDatagram!(new Uint8Array(max!));
  t.throws(() => c.sendDatagram!(new Uint8Array(max! + 1)), DriverError);
  t.equal(trace.events.filter((e) => e.type === 'dgram' && e.dir === 'c2s').length, 2);
  // A core datagram too large for the client is dropped and logged.
  await c.openStream().write(enc.encode('big-dgram'));
  await until(() => logs.some((l) => String(l['msg']).includes('larger than the peer accepts')), 'drop logged');
  await c.openStream().write(enc.encode('dgram'));
  await until(() => c.datagrams!().some((d) => dec.decode(d) === 'srv-dgram'), 'a core-initiated datagram');
  t.notOk(c.datagrams!().some((d) => d.byteLength === 5_000));
});

t.test('datagrams are refused when not negotiated', async (t) => {
  const logs: HostLogEntry[] = [];
  const { h: plain } = await host(false, logs);
  const { h: withDgrams, core } = await host(true, logs);
  // The client did not ask.
  const a = await connect(withDgrams.port, new TraceRecorder());
  t.equal(a.maxDatagramSize, undefined);
  t.throws(() => a.sendDatagram!(enc.encode('x')), DriverError);
  await a.openStream().write(enc.encode('dgram'));
  await until(() => logs.some((l) => String(l['msg']).includes('not negotiated')), 'the host drops its datagram');
  t.equal(a.datagrams!().length, 0);
  // The server did not offer.
  const b = await connect(plain.port, new TraceRecorder(), { datagrams: true });
  t.equal(b.maxDatagramSize, undefined);
  t.throws(() => b.sendDatagram!(enc.encode('x')), /did not advertise/);
  t.notOk(core.seen.some((e) => e.type === 'dgram'));
});
