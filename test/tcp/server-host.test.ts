/**
 * TCP host of a ServerCore, with a tiny echo core, against raw node:net
 * clients (and the TCP driver) on 127.0.0.1.
 */
import net from 'node:net';
import t from 'tap';
import { startTcpHost, type HostLogEntry, type TcpHost } from '../../harness/tcp/server-host.js';
import type { ServerAction, ServerCore } from '../../harness/engine/server-core.js';
import { TraceRecorder, fromHex, type TraceEvent } from '../../harness/engine/trace.js';
import { tcpDriver } from '../../harness/drivers/tcp.js';
import { within } from '../_support/deadline.js';

interface Test {
  teardown(fn: () => unknown): void;
}

/**
 * Echoes bytes and FIN. A chunk containing `0xEE` closes (9, 'bye'); one
 * starting with `0xDD` resets (77); `0xBB` sends 32 MiB (to stall against a
 * client that does not read); `0xCC` throws from handle. A connection that
 * sends nothing within `idleCloseMs` is closed (3, 'idle'); with `refuse`,
 * every connection is closed on open (5, 'NOT_READY'); with `greet`, the
 * server speaks first ("hi").
 */
class EchoCore implements ServerCore {
  readonly sendTimeoutMs: number | undefined;
  readonly stalls: number[] = [];
  readonly seen: TraceEvent[] = [];
  private queue: ServerAction[] = [];
  private readonly deadlines = new Map<number, number>();

  constructor(private readonly opts: { idleCloseMs?: number; refuse?: boolean; sendTimeoutMs?: number; greet?: boolean; throwInPoll?: boolean } = {}) {
    this.sendTimeoutMs = opts.sendTimeoutMs;
  }

  handle(ev: TraceEvent): void {
    this.seen.push(ev);
    switch (ev.type) {
      case 'conn_open':
        if (this.opts.refuse) this.queue.push({ type: 'close', conn: ev.conn, code: 5, reason: 'NOT_READY' });
        else if (this.opts.idleCloseMs !== undefined) this.deadlines.set(ev.conn, ev.t + this.opts.idleCloseMs * 1000);
        if (this.opts.greet) this.queue.push({ type: 'send', conn: ev.conn, stream: 0, bytes: new TextEncoder().encode('hi') });
        break;
      case 'data': {
        if (ev.dir !== 'c2s') throw new Error('host fed an s2c event');
        this.deadlines.delete(ev.conn);
        const bytes = fromHex(ev.hex);
        if (bytes.includes(0xee)) this.queue.push({ type: 'close', conn: ev.conn, code: 9, reason: 'bye' });
        else if (bytes[0] === 0xdd) this.queue.push({ type: 'reset', conn: ev.conn, stream: 0, code: 77 });
        else if (bytes[0] === 0xbb) {
          for (let i = 0; i < 32; i++) this.queue.push({ type: 'send', conn: ev.conn, stream: 0, bytes: new Uint8Array(1024 * 1024) });
        } else if (bytes[0] === 0xcc) throw new Error('core bug');
        else {
          this.queue.push({ type: 'send', conn: ev.conn, stream: ev.stream, bytes });
          this.queue.push({ type: 'log', level: 'debug', msg: 'echoed', data: { n: bytes.length } });
        }
        break;
      }
      case 'stream_fin':
        if (ev.dir !== 'c2s') throw new Error('host fed an s2c event');
        this.queue.push({ type: 'fin', conn: ev.conn, stream: 0 });
        break;
      case 'conn_close':
        this.deadlines.delete(ev.conn);
        break;
      default:
        break;
    }
  }

  sendStalled(conn: number): void {
    this.stalls.push(conn);
    this.queue.push({ type: 'close', conn, code: 4, reason: 'IO_TIMEOUT' });
  }

  poll(now: number): ServerAction[] {
    if (this.opts.throwInPoll && this.seen.length === 2) throw new Error('poll bug');
    for (const [conn, at] of this.deadlines) {
      if (at <= now) {
        this.deadlines.delete(conn);
        this.queue.push({ type: 'close', conn, code: 3, reason: 'idle' });
      }
    }
    const out = this.queue;
    this.queue = [];
    return out;
  }

  nextTimer(): number | undefined {
    let min: number | undefined;
    for (const at of this.deadlines.values()) if (min === undefined || at < min) min = at;
    return min;
  }
}

async function host(t: Test, core: ServerCore, logs?: HostLogEntry[]): Promise<TcpHost> {
  const h = await startTcpHost({ core, ...(logs ? { log: (e) => logs.push(e) } : {}) });
  t.teardown(() => h.stop());
  return h;
}

interface RawClient {
  readonly socket: net.Socket;
  readonly got: Buffer[];
  /** `end`, `error CODE`, `close` as they happen. */
  readonly seen: string[];
  text(): string;
}

async function client(t: Test, port: number, opts: { paused?: boolean } = {}): Promise<RawClient> {
  const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  const got: Buffer[] = [];
  const seen: string[] = [];
  socket.on('error', (err: NodeJS.ErrnoException) => seen.push(`error ${err.code ?? err.message}`));
  socket.on('end', () => seen.push('end'));
  socket.on('close', () => seen.push('close'));
  if (opts.paused) socket.pause();
  else socket.on('data', (d: Buffer) => got.push(d));
  t.teardown(() => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, got, seen, text: () => Buffer.concat(got).toString('latin1') };
}

async function until(cond: () => boolean, ms = 3000): Promise<boolean> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) return false;
    await new Promise((r) => setTimeout(r, 2));
  }
  return true;
}

function shape(events: readonly TraceEvent[]): string[] {
  const out: string[] = [];
  for (const ev of events) {
    switch (ev.type) {
      case 'conn_open': out.push(`open ${ev.conn}`); break;
      case 'conn_fail': out.push(`fail ${ev.conn}`); break;
      case 'conn_close': out.push(`close ${ev.conn} ${ev.by} ${ev.isApp} ${ev.code} ${ev.reason}`); break;
      case 'stream_open': out.push(`stream_open ${ev.stream} ${ev.by}`); break;
      case 'data': {
        const prev = out[out.length - 1];
        const text = Buffer.from(fromHex(ev.hex)).toString('latin1');
        if (prev?.startsWith(`data ${ev.dir} `)) out[out.length - 1] = prev + text;
        else out.push(`data ${ev.dir} ${text}`);
        break;
      }
      case 'stream_fin': out.push(`fin ${ev.dir}`); break;
      case 'stream_reset': out.push(`reset ${ev.dir} ${ev.kind} ${ev.code}`); break;
      case 'note': break;
    }
  }
  return out;
}

function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap').length;
}
const baseline = tcpHandles();

t.test('echo, client FIN first, server answers FIN: conn_close by client, fin', async (t) => {
  const core = new EchoCore();
  const logs: HostLogEntry[] = [];
  const h = await host(t, core, logs);
  t.equal(h.host, '127.0.0.1');
  const c = await client(t, h.port);
  c.socket.write('abc');
  t.ok(await until(() => c.text() === 'abc'));
  c.socket.end();
  t.ok(await until(() => c.seen.includes('close')));
  t.same(c.seen, ['end', 'close']);
  t.ok(await until(() => h.trace.events.some((e) => e.type === 'conn_close')));
  t.same(shape(h.trace.events), ['open 0', 'stream_open 0 client', 'data c2s abc', 'data s2c abc', 'fin c2s', 'fin s2c', 'close 0 client false 0 fin']);
  t.match(h.trace.events[0], { type: 'conn_open', remote: `127.0.0.1:${h.port}` });
  t.same(core.seen.map((e) => e.type), ['conn_open', 'stream_open', 'data', 'stream_fin', 'conn_close'], 'only client-side events fed, plus conn_close');
  t.ok(logs.some((l) => l['msg'] === 'echoed' && l['source'] === 'core'), 'core logs forwarded');
});

t.test('close action: conn_close by server with code and reason, FIN on the wire', async (t) => {
  const core = new EchoCore();
  const h = await host(t, core);
  const c = await client(t, h.port);
  c.socket.write(Buffer.from([0x01, 0xee]));
  t.ok(await until(() => c.seen.includes('end')));
  c.socket.end();
  t.ok(await until(() => c.seen.includes('close')));
  t.notOk(c.seen.some((s) => s.startsWith('error')), 'no RST');
  t.same(shape(h.trace.events), ['open 0', 'stream_open 0 client', 'data c2s \x01\xee', 'close 0 server false 9 bye']);
  t.match(core.seen.at(-1), { type: 'conn_close', by: 'server', code: 9, reason: 'bye' });
});

t.test('reset action: RST on the wire, stream_reset then conn_close by server', async (t) => {
  const h = await host(t, new EchoCore());
  const c = await client(t, h.port);
  c.socket.write(Buffer.from([0xdd]));
  t.ok(await until(() => c.seen.includes('error ECONNRESET')), c.seen.join(','));
  t.same(shape(h.trace.events).slice(-2), ['reset s2c reset 77', 'close 0 server false 0 reset']);
});

t.test('client RST: conn_close by client, reason reset', async (t) => {
  const core = new EchoCore();
  const h = await host(t, core);
  const c = await client(t, h.port);
  c.socket.write('x');
  t.ok(await until(() => c.text() === 'x'));
  c.socket.resetAndDestroy();
  t.ok(await until(() => h.trace.events.some((e) => e.type === 'conn_close')));
  t.same(shape(h.trace.events).slice(-1), ['close 0 client false 0 reset']);
  t.match(core.seen.at(-1), { type: 'conn_close', by: 'client', reason: 'reset' });
});

t.test('server FIN first (refuse on open): the client FIN completes, conn_close by server', async (t) => {
  const h = await host(t, new EchoCore({ refuse: true }));
  const c = await client(t, h.port);
  t.ok(await until(() => c.seen.includes('end')));
  t.same(shape(h.trace.events), ['open 0', 'close 0 server false 5 NOT_READY']);
});

t.test('server speaks first: stream 0 announced before its data', async (t) => {
  const h = await host(t, new EchoCore({ greet: true }));
  const c = await client(t, h.port);
  t.ok(await until(() => c.text() === 'hi'));
  t.same(shape(h.trace.events), ['open 0', 'stream_open 0 client', 'data s2c hi']);
});

t.test('core timer: idle close', async (t) => {
  const h = await host(t, new EchoCore({ idleCloseMs: 60 }));
  const c = await client(t, h.port);
  const started = performance.now();
  t.ok(await until(() => c.seen.includes('end')));
  t.ok(performance.now() - started >= 50);
  t.same(shape(h.trace.events), ['open 0', 'close 0 server false 3 idle']);
});

t.test('send stall: sendStalled once, the core closes', async (t) => {
  const core = new EchoCore({ sendTimeoutMs: 150 });
  const h = await host(t, core);
  const c = await client(t, h.port, { paused: true });
  c.socket.write(Buffer.from([0xbb]));
  t.ok(await until(() => core.stalls.length > 0, 5000), 'stalled');
  t.same(core.stalls, [0]);
  t.ok(await until(() => h.trace.events.some((e) => e.type === 'conn_close')));
  t.same(shape(h.trace.events).at(-1), 'close 0 server false 4 IO_TIMEOUT');
});

t.test('a core that throws does not break the host', async (t) => {
  const logs: HostLogEntry[] = [];
  const h = await host(t, new EchoCore({ throwInPoll: true }), logs);
  const a = await client(t, h.port);
  a.socket.write(Buffer.from([0xcc]));
  t.ok(await until(() => logs.some((l) => l['msg'] === 'core.handle threw')));
  a.socket.write('ok');
  t.ok(await until(() => a.text() === 'ok'));
  t.ok(logs.some((l) => l['msg'] === 'core.poll threw'));
});

t.test('garbage and floods are just bytes', async (t) => {
  const h = await host(t, new EchoCore());
  const c = await client(t, h.port);
  const blob = Buffer.alloc(2 * 1024 * 1024, 7);
  c.socket.write(blob);
  t.ok(await until(() => c.got.reduce((n, b) => n + b.length, 0) === blob.length, 10_000));
  const recorded = h.trace.events.filter((e) => e.type === 'data' && e.dir === 'c2s').reduce((n, e) => n + (e.type === 'data' ? e.hex.length / 2 : 0), 0);
  t.equal(recorded, blob.length);
});

t.test('the TCP driver against the host: both views agree', async (t) => {
  const h = await host(t, new EchoCore());
  const trace = new TraceRecorder();
  const c = await tcpDriver.connect(trace, { host: h.host, port: h.port, connectTimeoutMs: 2000 });
  const s = c.openStream();
  await s.write(new TextEncoder().encode('ping'));
  t.ok(await until(() => s.receivedLength === 4));
  await s.end();
  t.match(await c.closed, { by: 'client', reason: 'fin' });
  t.ok(await until(() => h.trace.events.some((e) => e.type === 'conn_close')));
  const server = shape(h.trace.events);
  const clientView = shape(trace.events);
  t.same(server, clientView, 'same shape from both ends');
});

t.test('a core that never fires its due timer is re-polled with back-off, not in a 0 ms loop', async (t) => {
  const logs: HostLogEntry[] = [];
  let polls = 0;
  const stuck: ServerCore = {
    sendTimeoutMs: undefined,
    handle() {},
    sendStalled() {},
    poll() {
      polls++;
      return [];
    },
    nextTimer() {
      return 0; // always due, never fired
    },
  };
  const h = await host(t, stuck, logs);
  await client(t, h.port); // conn_open is fed, the pump arms the timer
  t.ok(await until(() => polls > 0));
  const p0 = polls;
  await new Promise((r) => setTimeout(r, 500));
  const n = polls - p0;
  t.ok(n >= 3 && n <= 20, `polled ${n} times in 500 ms (a 0 ms timer loop would be hundreds)`);
  t.equal(logs.filter((e) => e['msg'] === 'core timer still due after poll; backing off').length, 1, 'logged once');
});

t.test('stop: closes live connections with the code, idempotent, bounded, no handles left', async (t) => {
  const core = new EchoCore();
  const h = await startTcpHost({ core });
  const a = await client(t, h.port);
  const b = await client(t, h.port, { paused: true });
  a.socket.write('1');
  t.ok(await until(() => a.text() === '1'));
  await t.rejects(h.stop({ code: -1 }), RangeError);
  const p = h.stop({ code: 11, reason: 'shutdown' });
  t.equal(h.stop(), p);
  // Bounded by the host's own close deadline; the test deadline only stops a hang.
  await within(p, 30_000, 'stop');
  t.ok(await until(() => a.seen.includes('end') && b.socket.readableEnded === false));
  const closes = h.trace.events.filter((e) => e.type === 'conn_close');
  t.equal(closes.length, 2);
  t.match(closes, [{ by: 'server', code: 11, reason: 'shutdown' }, { by: 'server', code: 11, reason: 'shutdown' }]);
  a.socket.destroy();
  b.socket.destroy();
  t.ok(await until(() => tcpHandles() <= baseline), process.getActiveResourcesInfo().join(','));
});

t.test('bad options', async (t) => {
  await t.rejects(startTcpHost({ core: new EchoCore(), port: 70000 }), RangeError);
  await t.rejects(startTcpHost({ core: {} as ServerCore }), TypeError);
  const h = await startTcpHost({ core: new EchoCore() });
  await t.rejects(startTcpHost({ core: new EchoCore(), port: h.port }), { code: 'EADDRINUSE' });
  await h.stop();
});
