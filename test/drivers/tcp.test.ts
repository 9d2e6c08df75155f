/**
 * TCP driver against an in-process node:net server on 127.0.0.1. The server
 * echoes and answers FIN with FIN; with `finFirst` it sends "bye" + FIN on
 * accept; a chunk starting with "rst" makes it reset the connection; with
 * `paused` it does not read until `resume()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import t from 'tap';
import { TraceRecorder, fromHex, type TraceEvent } from '../../harness/engine/trace.js';
import { tcpDriver, TCP_CLOSE_DEADLINE_MS } from '../../harness/drivers/tcp.js';
import { driverFor } from '../../harness/drivers/index.js';
import { ConnectError, DriverError, type ClientConnection } from '../../harness/drivers/types.js';
import { within } from '../_support/deadline.js';

interface Test {
  teardown(fn: () => unknown): void;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

interface EchoServer {
  readonly port: number;
  /** What the server saw: `data <text>`, `end`, `error <code>`, `close`. */
  readonly seen: string[];
  /** Sockets accepted so far. */
  readonly sockets: net.Socket[];
  resume(): void;
}

async function startServer(t: Test, opts: { finFirst?: boolean; paused?: boolean } = {}): Promise<EchoServer> {
  const seen: string[] = [];
  const sockets: net.Socket[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.push(s);
    s.on('error', (err: NodeJS.ErrnoException) => seen.push(`error ${err.code ?? err.message}`));
    s.on('close', () => seen.push('close'));
    s.on('end', () => {
      seen.push('end');
      if (!s.writableEnded) s.end();
    });
    if (opts.paused) s.pause();
    s.on('data', (d: Buffer) => {
      seen.push(`data ${d.toString('latin1').slice(0, 40)}`);
      if (d.subarray(0, 3).toString() === 'rst') {
        s.resetAndDestroy();
        return;
      }
      if (!s.writableEnded) s.write(d);
    });
    if (opts.paused) s.pause();
    if (opts.finFirst) s.end('bye');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const port = (server.address() as net.AddressInfo).port;
  return { port, seen, sockets, resume: () => sockets.forEach((s) => s.resume()) };
}

const opts = (port: number, extra: object = {}) => ({ host: '127.0.0.1', port, connectTimeoutMs: 2000, ...extra });

async function until(cond: () => boolean, ms = 2000): Promise<boolean> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) return false;
    await new Promise((r) => setTimeout(r, 2));
  }
  return true;
}

/** Events without times; data merged per direction run for comparison. */
function shape(events: readonly TraceEvent[]): string[] {
  const out: string[] = [];
  for (const ev of events) {
    let s: string;
    switch (ev.type) {
      case 'conn_open': s = `open ${ev.conn}`; break;
      case 'conn_fail': s = `fail ${ev.conn}`; break;
      case 'conn_close': s = `close ${ev.conn} ${ev.by} ${ev.isApp} ${ev.code} ${ev.reason}`; break;
      case 'stream_open': s = `stream_open ${ev.stream} ${ev.by}`; break;
      case 'data': {
        const text = dec.decode(fromHex(ev.hex));
        const prev = out[out.length - 1];
        if (prev?.startsWith(`data ${ev.dir} `)) {
          out[out.length - 1] = prev + text;
          continue;
        }
        s = `data ${ev.dir} ${text}`;
        break;
      }
      case 'stream_fin': s = `fin ${ev.dir}`; break;
      case 'stream_reset': s = `reset ${ev.dir} ${ev.kind} ${ev.code}`; break;
      case 'note': continue;
      default: s = `${ev.type}`;
    }
    out.push(s);
  }
  return out;
}

function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap').length;
}

const baseline = tcpHandles();

t.test('driverFor picks it', async (t) => {
  t.equal(driverFor('tcp'), tcpDriver);
  t.equal(tcpDriver.transport, 'tcp');
});

t.test('echo: order, directions, client FIN first, clean close', async (t) => {
  const srv = await startServer(t);
  const trace = new TraceRecorder();
  const c = await tcpDriver.connect(trace, opts(srv.port));
  const s = c.openStream();
  t.equal(c.openStream(), s, 'openStream returns the one stream');
  t.equal(s.id, 0);
  await s.write(enc.encode('hello '));
  t.ok(await until(() => s.receivedLength === 6));
  await s.write(enc.encode('world'));
  t.ok(await until(() => s.receivedLength === 11));
  t.equal(dec.decode(s.received()), 'hello world');
  await s.end();
  const info = await c.closed;
  t.match(info, { by: 'client', isApp: false, code: 0, reason: 'fin' });
  t.ok(s.readEnded);
  t.ok(c.isClosed);
  t.same(shape(trace.events), [
    'open 0',
    'stream_open 0 client',
    'data c2s hello ',
    'data s2c hello ',
    'data c2s world',
    'data s2c world',
    'fin c2s',
    'fin s2c',
    'close 0 client false 0 fin',
  ]);
  t.equal(trace.events.filter((e) => e.type === 'conn_close').length, 1);
  t.match(trace.events[0], { type: 'conn_open', remote: `127.0.0.1:${srv.port}` });
  await t.rejects(s.write(enc.encode('x')), DriverError);
  await c.close(); // idempotent after the end
  t.equal(trace.events.filter((e) => e.type === 'conn_close').length, 1);
});

t.test('server FIN first: recorded, answered with FIN, conn_close by server', async (t) => {
  const srv = await startServer(t, { finFirst: true });
  const trace = new TraceRecorder();
  const c = await tcpDriver.connect(trace, opts(srv.port));
  const info = await c.closed;
  t.match(info, { by: 'server', isApp: false, code: 0, reason: 'fin' });
  t.same(shape(trace.events), ['open 0', 'stream_open 0 client', 'data s2c bye', 'fin s2c', 'fin c2s', 'close 0 server false 0 fin']);
  const s = c.openStream();
  t.equal(dec.decode(s.received()), 'bye');
  t.ok(s.readEnded);
  await t.rejects(s.write(enc.encode('late')), DriverError);
  await t.rejects(s.end(), DriverError);
  t.ok(await until(() => srv.seen.includes('end')), 'server saw our FIN');
});

t.test('client RST: stream_reset then conn_close by client, server sees ECONNRESET', async (t) => {
  const srv = await startServer(t);
  const trace = new TraceRecorder();
  const c = await tcpDriver.connect(trace, opts(srv.port));
  const s = c.openStream();
  await s.write(enc.encode('ab'));
  t.ok(await until(() => s.receivedLength === 2));
  s.reset(42);
  t.ok(c.isClosed);
  const info = await c.closed;
  t.match(info, { by: 'client', isApp: false, code: 0, reason: 'reset' });
  t.same(shape(trace.events).slice(-2), ['reset c2s reset 42', 'close 0 client false 0 reset']);
  t.ok(await until(() => srv.seen.includes('error ECONNRESET')), `server saw the RST: ${srv.seen.join(', ')}`);
  s.reset(1); // after the close: a note, nothing sent
  t.equal(trace.events.filter((e) => e.type === 'conn_close').length, 1);
  t.throws(() => s.reset(-1), RangeError);
});

t.test('server RST: conn_close by server, reason reset', async (t) => {
  const srv = await startServer(t);
  const trace = new TraceRecorder();
  const c = await tcpDriver.connect(trace, opts(srv.port));
  const s = c.openStream();
  await s.write(enc.encode('rst now'));
  const info = await c.closed;
  t.match(info, { by: 'server', isApp: false, code: 0, reason: 'reset' });
  t.same(shape(trace.events), ['open 0', 'stream_open 0 client', 'data c2s rst now', 'close 0 server false 0 reset']);
  t.ok(s.readEnded);
  await t.rejects(s.write(enc.encode('x')), DriverError);
});

t.test('stopSending does not exist in TCP', async (t) => {
  const srv = await startServer(t);
  const trace = new TraceRecorder();
  const c = await tcpDriver.connect(trace, opts(srv.port));
  t.throws(() => c.openStream().stopSending(3), DriverError);
  await c.close();
});

t.test('contract v2: no uni streams, no server streams, no datagrams', async (t) => {
  const srv = await startServer(t);
  const trace = new TraceRecorder();
  const c = await tcpDriver.connect(trace, opts(srv.port));
  t.throws(() => c.openStream('uni'), { name: 'DriverError', message: /TCP has no unidirectional streams/ });
  t.equal(c.openStream('bidi'), c.openStream(), 'bidi is the one stream');
  t.match(c.openStream(), { by: 'client', kind: 'bidi', id: 0 });
  t.equal(await c.acceptStream!(1000), undefined, 'acceptStream: nothing, at once');
  t.same(c.serverStreams!(), []);
  t.equal(c.maxDatagramSize, undefined);
  t.throws(() => c.sendDatagram!(new Uint8Array(1)), { name: 'DriverError', message: /TCP has no datagrams/ });
  t.same(c.datagrams!(), []);
  t.same(trace.events.map((e) => e.type), ['conn_open'], 'nothing recorded');
  await c.close();
});

t.test('close(code, reason): recorded by client, FIN on the wire, bounded, idempotent', async (t) => {
  const srv = await startServer(t);
  const trace = new TraceRecorder();
  const c = await tcpDriver.connect(trace, opts(srv.port));
  await c.openStream().write(enc.encode('q'));
  t.ok(await until(() => c.openStream().receivedLength === 1));
  const p1 = c.close(7, 'done');
  const p2 = c.close(8, 'other');
  t.equal(p1, p2, 'same promise');
  // Bounded by the driver's close deadline; the test deadline only stops a hang.
  await within(p1, 10 * TCP_CLOSE_DEADLINE_MS, 'close');
  t.match(await c.closed, { by: 'client', isApp: false, code: 7, reason: 'done' });
  t.same(shape(trace.events).slice(-1), ['close 0 client false 7 done']);
  t.ok(await until(() => srv.seen.includes('end')), 'server saw a FIN');
  t.notOk(srv.seen.some((x) => x.startsWith('error')), 'no RST');
  await t.rejects(c.close(-1), RangeError);
  const long = await tcpDriver.connect(trace, opts(srv.port));
  await long.close(0, 'é'.repeat(300));
  const ev = trace.events.filter((e) => e.type === 'conn_close').pop();
  t.ok(ev && ev.type === 'conn_close' && Buffer.byteLength(ev.reason) <= 256, 'reason capped');
});

t.test('backpressure: write resolves on drain', async (t) => {
  const srv = await startServer(t, { paused: true });
  const trace = new TraceRecorder();
  const c = await tcpDriver.connect(trace, opts(srv.port));
  const s = c.openStream();
  const big = new Uint8Array(16 * 1024 * 1024);
  let done = false;
  const p = s.write(big).then(() => {
    done = true;
  });
  await new Promise((r) => setTimeout(r, 100));
  t.notOk(done, 'blocked while the server does not read');
  srv.resume();
  await p;
  t.ok(done);
  await c.close();
});

t.test('a write waiting for drain rejects when the connection closes', async (t) => {
  const srv = await startServer(t, { paused: true });
  const trace = new TraceRecorder();
  const c = await tcpDriver.connect(trace, opts(srv.port));
  const p = c.openStream().write(new Uint8Array(16 * 1024 * 1024));
  await new Promise((r) => setTimeout(r, 50));
  await c.close();
  await t.rejects(p, DriverError);
});

t.test('refused port: ConnectError fast, conn_fail recorded', async (t) => {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const trace = new TraceRecorder();
  // A connect timeout the test never reaches: the error names the refusal, so it came from the RST, not a timeout.
  await t.rejects(within(tcpDriver.connect(trace, opts(port, { connectTimeoutMs: 60_000 })), 30_000, 'connect'), { name: 'ConnectError', message: /refused/ });
  t.match(trace.events, [{ type: 'conn_fail', conn: 0, message: /refused/ }]);
});

t.test('bad options: ConnectError naming the option', async (t) => {
  const trace = new TraceRecorder();
  await t.rejects(tcpDriver.connect(trace, opts(0)), { name: 'ConnectError', message: /port/ });
  await t.rejects(tcpDriver.connect(trace, { host: '127.0.0.1', port: 1, connectTimeoutMs: 0 }), { message: /connectTimeoutMs/ });
  t.equal(trace.events.filter((e) => e.type === 'conn_fail').length, 2);
});

/** A loopback listener in a child process that never accepts (its event loop is blocked), backlog 1. */
async function startBlackHole(t: Test): Promise<number> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '-e',
      `const s = require('node:net').createServer();
       s.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => {
         process.stdout.write(String(s.address().port) + '\\n');
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20000);
       });`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  return new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('error', reject);
  });
}

t.test('connect timeout: a listener whose backlog is full', async (t) => {
  const port = await startBlackHole(t);
  // Fill the accept queue (backlog + 1 on Linux): later SYNs are dropped.
  const fillers: net.Socket[] = [];
  t.teardown(() => fillers.forEach((s) => s.destroy()));
  for (let i = 0; i < 4; i++) {
    const s = net.connect({ host: '127.0.0.1', port });
    s.on('error', () => {});
    fillers.push(s);
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 200);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!ok) break;
  }
  const trace = new TraceRecorder();
  const started = performance.now();
  await t.rejects(within(tcpDriver.connect(trace, opts(port, { connectTimeoutMs: 250 })), 30_000, 'connect'), { name: 'ConnectError', message: /timeout.*250 ms/ });
  const took = performance.now() - started;
  t.ok(took >= 240, `failed after its timeout (${took.toFixed(0)} ms), not before`);
  t.match(trace.events, [{ type: 'conn_fail', message: /timeout/ }]);
});

t.test('local idle timeout closes by transport', async (t) => {
  const srv = await startServer(t);
  const trace = new TraceRecorder();
  const c: ClientConnection = await tcpDriver.connect(trace, opts(srv.port, { idleTimeoutMs: 80 }));
  t.match(await c.closed, { by: 'transport', reason: /idle/ });
});

t.test('no TCP handles left', async (t) => {
  t.ok(await until(() => tcpHandles() <= baseline, 3000), `handles: ${process.getActiveResourcesInfo().join(', ')}`);
});

t.test('ConnectError type', async (t) => {
  const trace = new TraceRecorder();
  const err = await tcpDriver.connect(trace, opts(1)).catch((e: unknown) => e);
  t.ok(err instanceof ConnectError);
});
