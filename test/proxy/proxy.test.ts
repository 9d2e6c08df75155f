/**
 * Chaos proxy: each toxic's effect measured through the proxy against a
 * node:net echo server on 127.0.0.1, runtime changes on live connections,
 * the HTTP control API, the CLI, seeded determinism, clean-up.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import {
  ToxicError,
  checkToxic,
  parseToxicSpec,
  startChaosProxy,
  startProxyControl,
  toxicFromJson,
  type ChaosProxy,
  type ChaosProxyOptions,
} from '../../harness/proxy/index.js';
import { Pipe, createStage, type Item } from '../../harness/proxy/pipeline.js';
import { createRng } from '../../harness/proxy/rng.js';
import { main } from '../../harness/cli.js';

interface Test {
  teardown(fn: () => unknown): void;
}

const bin = fileURLToPath(new URL('../../bin/wirecheck.js', import.meta.url));

function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap').length;
}
const baseline = tcpHandles();

interface Echo {
  readonly port: number;
  /** Per accepted connection: `end`, `error CODE`, `close`. */
  readonly seen: string[][];
}

/** An echo server: echoes bytes, answers FIN with FIN. */
async function startEcho(t: Test): Promise<Echo> {
  const seen: string[][] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    const log: string[] = [];
    seen.push(log);
    sockets.add(s);
    s.setNoDelay(true);
    s.on('data', (d: Buffer) => {
      if (!s.writableEnded) s.write(d);
    });
    s.on('end', () => {
      log.push('end');
      s.end();
    });
    s.on('error', (err: NodeJS.ErrnoException) => log.push(`error ${err.code ?? err.message}`));
    s.on('close', () => {
      log.push('close');
      sockets.delete(s);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as net.AddressInfo).port, seen };
}

async function startProxy(t: Test, echo: Echo, opts: Partial<ChaosProxyOptions> = {}): Promise<ChaosProxy> {
  const p = await startChaosProxy({ upstreamHost: '127.0.0.1', upstreamPort: echo.port, seed: 7, ...opts });
  t.teardown(() => p.stop());
  return p;
}

interface Client {
  readonly socket: net.Socket;
  /** Chunks received, with arrival time (performance.now()). */
  readonly chunks: Array<{ buf: Buffer; at: number }>;
  /** `end`, `error CODE`, `close`. */
  readonly seen: string[];
  bytes(): Buffer;
  /** Resolves when `n` bytes in total were received (false after `ms`, default 30 s: a deadline for a hang, far above what a loaded machine needs). */
  waitBytes(n: number, ms?: number): Promise<boolean>;
  waitSeen(what: string, ms?: number): Promise<boolean>;
}

async function connect(t: Test, port: number): Promise<Client> {
  const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true, noDelay: true });
  const chunks: Array<{ buf: Buffer; at: number }> = [];
  const seen: string[] = [];
  socket.on('data', (buf: Buffer) => chunks.push({ buf, at: performance.now() }));
  socket.on('end', () => seen.push('end'));
  socket.on('error', (err: NodeJS.ErrnoException) => seen.push(`error ${err.code ?? err.message}`));
  socket.on('close', () => seen.push('close'));
  t.teardown(() => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const total = () => chunks.reduce((n, c) => n + c.buf.length, 0);
  return {
    socket,
    chunks,
    seen,
    bytes: () => Buffer.concat(chunks.map((c) => c.buf)),
    waitBytes: (n, ms = 30_000) => until(() => total() >= n, ms),
    waitSeen: (what, ms = 30_000) => until(() => seen.includes(what), ms),
  };
}

async function until(cond: () => boolean, ms = 30_000): Promise<boolean> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) return false;
    await new Promise((r) => setTimeout(r, 1));
  }
  return true;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Round trip of `text` through the client's connection (ms). */
async function roundTrip(c: Client, text: string): Promise<number> {
  const before = c.bytes().length;
  const started = performance.now();
  c.socket.write(text);
  if (!(await c.waitBytes(before + Buffer.byteLength(text)))) throw new Error('no echo');
  return performance.now() - started;
}

// ---- specs and validation ------------------------------------------------------

t.test('toxic specs: parsed, defaults filled in, errors name the problem', async (t) => {
  t.same(parseToxicSpec('latency:downstream:latency=100,jitter=20'), {
    type: 'latency', name: 'latency_downstream', stream: 'downstream', toxicity: 1, latencyMs: 100, jitterMs: 20,
  });
  t.match(parseToxicSpec('latency:latency=5'), { stream: 'downstream', jitterMs: 0 });
  t.match(parseToxicSpec('bandwidth:upstream:rate=1000'), { bytesPerSecond: 1000, stream: 'upstream' });
  t.match(parseToxicSpec('slicer:both:average_size=8,size_variation=3,delay=1,name=s,toxicity=0.5'), {
    name: 's', averageSize: 8, sizeVariation: 3, delayMs: 1, toxicity: 0.5, stream: 'both',
  });
  t.match(parseToxicSpec('reset_peer:upstream:timeout=10'), { delayMs: 10 }, 'Toxiproxy alias');
  t.match(parseToxicSpec('timeout'), { timeoutMs: 0, stream: 'downstream' });
  t.match(parseToxicSpec('limit_data:bytes=0'), { bytes: 0 });
  t.match(parseToxicSpec('stall:both:duration=50'), { durationMs: 50 });
  const bad: Array<[string, RegExp]> = [
    ['', /empty/],
    ['lag:downstream', /unknown toxic type "lag"/],
    ['latency:sideways:latency=1', /stream must be upstream, downstream or both/],
    ['latency:downstream', /latency \(latencyMs, ms\) is required/],
    ['latency:latency=abc', /latency=abc is not a number/],
    ['latency:latency=-1', /latency must be ≥ 0/],
    ['latency:latency=1,speed=2', /unknown attribute "speed"/],
    ['latency:latency=1,latency=2', /given twice/],
    ['latency:latency=1,toxicity=2', /toxicity must be a probability/],
    ['bandwidth:rate=0', /rate must be > 0/],
    ['slicer:average_size=4,size_variation=4', /size_variation \(4\) must be below average_size \(4\)/],
    ['slicer:average_size=2.5', /must be an integer/],
    ['latency:a:b:c', /too many/],
    ['latency:latency', /key=value|stream must be/],
    ['latency:latency=1,name=bad name', /name must be/],
  ];
  for (const [spec, re] of bad) t.throws(() => parseToxicSpec(spec), { name: 'ToxicError', message: re }, spec);
  t.throws(() => checkToxic({ type: 'latency', latencyMs: 1, extra: 1 }), /unknown field "extra"/);
  t.match(toxicFromJson({ type: 'latency', stream: 'upstream', toxicity: 0.5, attributes: { latency: 10, jitter: 2 } }), {
    latencyMs: 10, jitterMs: 2, stream: 'upstream', toxicity: 0.5,
  });
  t.throws(() => toxicFromJson({ type: 'latency', attributes: { lat: 1 } }), /unknown attribute "lat"/);
});

t.test('proxy options and toxic list are checked', async (t) => {
  const echo = await startEcho(t);
  await t.rejects(startChaosProxy({ upstreamHost: '127.0.0.1', upstreamPort: 0 }), RangeError);
  await t.rejects(
    startChaosProxy({ upstreamHost: '127.0.0.1', upstreamPort: echo.port, toxics: [{ type: 'stall', durationMs: 1 }, { type: 'stall', durationMs: 2 }] }),
    { name: 'ToxicError', message: /duplicate toxic name "stall_downstream"/ },
  );
  const p = await startProxy(t, echo, { toxics: [{ type: 'stall', durationMs: 1 }] });
  t.throws(() => p.addToxic({ type: 'stall', durationMs: 5 }), ToxicError);
  t.throws(() => p.setToxics([{ type: 'latency', latencyMs: 1 }, { type: 'bogus' } as never]), ToxicError);
  t.same(p.toxics().map((x) => x.name), ['stall_downstream'], 'a failed setToxics changes nothing');
  t.notOk(p.removeToxic('nope'));
});

// ---- passthrough -------------------------------------------------------------

t.test('no toxics: bytes in order, FIN both ways, RST passed on, stats', async (t) => {
  const echo = await startEcho(t);
  const p = await startProxy(t, echo);
  const c = await connect(t, p.port);
  const payload = Buffer.alloc(200_000);
  for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
  c.socket.write(payload);
  t.ok(await c.waitBytes(payload.length));
  t.ok(c.bytes().equals(payload), 'same bytes, same order');
  c.socket.end();
  t.ok(await c.waitSeen('end'), 'server FIN reached the client');
  t.ok(await until(() => echo.seen[0]!.includes('end')), 'client FIN reached the server');
  t.ok(await until(() => p.stats().active === 0));
  t.match(p.stats(), { seed: 7, connections: 1, active: 0, bytesUpstream: payload.length, bytesDownstream: payload.length, upstreamFailures: 0 });

  const r = await connect(t, p.port);
  await roundTrip(r, 'x');
  r.socket.resetAndDestroy();
  t.ok(await until(() => echo.seen[1]!.includes('error ECONNRESET')), `client RST became an RST upstream: ${echo.seen[1]!.join(',')}`);
});

t.test('upstream refused: the client is reset, counted', async (t) => {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const deadPort = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const p = await startChaosProxy({ upstreamHost: '127.0.0.1', upstreamPort: deadPort });
  t.teardown(() => p.stop());
  const c = await connect(t, p.port);
  t.ok(await c.waitSeen('close'));
  t.ok(c.seen.includes('error ECONNRESET'), c.seen.join(','));
  t.equal(p.stats().upstreamFailures, 1);
});

// ---- each toxic ------------------------------------------------------------

t.test('latency: adds at least the latency each way', async (t) => {
  const echo = await startEcho(t);
  const p = await startProxy(t, echo, {
    toxics: [
      { type: 'latency', stream: 'downstream', latencyMs: 60 },
      { type: 'latency', stream: 'upstream', latencyMs: 40 },
    ],
  });
  const c = await connect(t, p.port);
  for (let i = 0; i < 3; i++) {
    const rtt = await roundTrip(c, `ping${i}`);
    t.ok(rtt >= 99, `round trip ${rtt.toFixed(1)} ms ≥ 100`);
  }
});

t.test('latency with jitter: within latency ± jitter, order kept', async (t) => {
  const echo = await startEcho(t);
  const p = await startProxy(t, echo, { toxics: [{ type: 'latency', latencyMs: 50, jitterMs: 40 }] });
  const c = await connect(t, p.port);
  for (let i = 0; i < 4; i++) {
    const rtt = await roundTrip(c, 'j');
    t.ok(rtt >= 9, `round trip ${rtt.toFixed(1)} ms ≥ 10 (latency − jitter, each way)`);
  }
  // Many small writes a few ms apart: jitter may not reorder them.
  const before = c.bytes().length;
  let sent = '';
  for (let i = 0; i < 30; i++) {
    const s = `<${i}>`;
    sent += s;
    c.socket.write(s);
    await sleep(2);
  }
  t.ok(await c.waitBytes(before + sent.length));
  t.equal(c.bytes().subarray(before).toString(), sent, 'in order');
});

t.test('bandwidth: caps throughput', async (t) => {
  const echo = await startEcho(t);
  const rate = 200_000;
  const p = await startProxy(t, echo, { toxics: [{ type: 'bandwidth', stream: 'downstream', bytesPerSecond: rate }] });
  const c = await connect(t, p.port);
  const n = 100_000;
  const started = performance.now();
  c.socket.write(Buffer.alloc(n, 1));
  t.ok(await c.waitBytes(n));
  const secs = (performance.now() - started) / 1000;
  const achieved = n / secs;
  t.ok(secs >= 0.45, `took ${secs.toFixed(3)} s for ${n} bytes at ${rate} B/s`);
  t.ok(achieved <= rate * 1.1, `throughput ${achieved.toFixed(0)} B/s ≤ ${rate} (+10%)`);
});

t.test('stall: holds for the duration, then delivers everything in order', async (t) => {
  const echo = await startEcho(t);
  const p = await startProxy(t, echo);
  const c = await connect(t, p.port);
  await roundTrip(c, 'warm');
  const warmChunks = c.chunks.length;
  p.addToxic({ type: 'stall', stream: 'upstream', durationMs: 300 });
  const started = performance.now();
  c.socket.write('a');
  await sleep(100);
  c.socket.write('b');
  c.socket.end(); // the FIN is held too, behind the bytes
  t.ok(await c.waitBytes(6));
  // From the arrival times, not a look after a sleep (a loaded machine may oversleep past the stall's end).
  const early = c.chunks.slice(warmChunks).filter((x) => x.at - started < 295);
  t.same(early.map((x) => `${x.buf.toString()} at +${(x.at - started).toFixed(1)} ms`), [], 'nothing through during the stall');
  t.ok(performance.now() - started >= 295, 'released after the stall');
  t.equal(c.bytes().toString(), 'warmab', 'everything, in order');
  t.ok(await c.waitSeen('end'), 'FIN delivered after the bytes');
  t.same(echo.seen[0]!.slice(0, 1), ['end']);
  t.equal(p.stats().toxics[0]!.applied, 1);
});

t.test('timeout toxic: black hole until removed, then everything arrives; timeoutMs closes', async (t) => {
  const echo = await startEcho(t);
  const p = await startProxy(t, echo);
  const c = await connect(t, p.port);
  await roundTrip(c, '0');
  p.addToxic({ type: 'timeout', stream: 'both' });
  c.socket.write('1');
  await sleep(60);
  c.socket.write('2');
  await sleep(150);
  t.equal(c.bytes().toString(), '0', 'black hole');
  t.ok(p.removeToxic('timeout_both'));
  t.ok(await c.waitBytes(3));
  t.equal(c.bytes().toString(), '012', 'held bytes delivered in order on removal');

  p.addToxic({ type: 'timeout', name: 'cut', stream: 'downstream', timeoutMs: 120 });
  const d = await connect(t, p.port);
  const started = performance.now();
  d.socket.write('lost');
  t.ok(await d.waitSeen('end'), 'closed by the toxic');
  t.ok(performance.now() - started >= 110, 'after timeoutMs');
  t.equal(d.bytes().length, 0);
});

t.test('a black hole back-pressures the sender and loses nothing', async (t) => {
  const echo = await startEcho(t);
  const p = await startProxy(t, echo, { toxics: [{ type: 'timeout', stream: 'upstream' }] });
  const c = await connect(t, p.port);
  const n = 24 * 1024 * 1024;
  const payload = Buffer.alloc(n);
  for (let i = 0; i < n; i += 4) payload.writeUInt32LE(i, i);
  c.socket.write(payload);
  await sleep(300);
  t.ok(c.socket.writableLength > 0, `the client's send buffer backs up (${c.socket.writableLength} bytes waiting)`);
  t.equal(p.stats().bytesUpstream, 0);
  p.removeToxic('timeout_upstream');
  t.ok(await c.waitBytes(n, 15_000));
  t.ok(c.bytes().equals(payload), 'every byte, in order');
});

t.test('reset_peer: RST after the delay, on the side the stream names', async (t) => {
  const echo = await startEcho(t);
  const p = await startProxy(t, echo, { toxics: [{ type: 'reset_peer', stream: 'downstream', delayMs: 100 }] });
  const c = await connect(t, p.port);
  const started = performance.now();
  await roundTrip(c, 'hi');
  t.ok(await c.waitSeen('close'));
  t.ok(c.seen.includes('error ECONNRESET'), `client got an RST: ${c.seen.join(',')}`);
  t.ok(performance.now() - started >= 95, 'after the delay');
  t.ok(await until(() => echo.seen[0]!.includes('close')));
  t.notOk(echo.seen[0]!.some((x) => x.startsWith('error')), 'the server leg got a FIN');

  p.setToxics([{ type: 'reset_peer', stream: 'upstream', delayMs: 0 }]);
  const d = await connect(t, p.port);
  t.ok(await until(() => echo.seen[1]?.includes('error ECONNRESET') === true), 'server leg got the RST');
  t.ok(await d.waitSeen('end'), 'client leg got a FIN');
  t.notOk(d.seen.some((x) => x.startsWith('error')));
});

t.test('slicer: the same bytes in more, smaller chunks', async (t) => {
  const echo = await startEcho(t);
  const p = await startProxy(t, echo);
  const c = await connect(t, p.port);
  const payload = Buffer.from('abcdefghijklmnopqrstuvwxyz'.repeat(20)); // 520 bytes
  c.socket.write(payload);
  t.ok(await c.waitBytes(payload.length));
  const plainChunks = c.chunks.length;
  p.addToxic({ type: 'slicer', averageSize: 10, sizeVariation: 4, delayMs: 2 });
  const before = c.chunks.length;
  c.socket.write(payload);
  t.ok(await c.waitBytes(payload.length * 2));
  const sliced = c.chunks.slice(before);
  t.ok(Buffer.concat(sliced.map((x) => x.buf)).equals(payload), 'same bytes');
  t.ok(sliced.length >= 20, `${sliced.length} chunks (unsliced: ${plainChunks})`);
  const sizes = sliced.map((x) => x.buf.length).sort((x, y) => x - y);
  t.ok(sizes[Math.floor(sizes.length / 2)]! <= 14, `median chunk ≤ 14 bytes: ${sizes.join(',')}`);
});

t.test('limit_data: closes after N bytes', async (t) => {
  const echo = await startEcho(t);
  const p = await startProxy(t, echo, { toxics: [{ type: 'limit_data', stream: 'downstream', bytes: 100 }] });
  const c = await connect(t, p.port);
  c.socket.write(Buffer.alloc(60, 1));
  t.ok(await c.waitBytes(60));
  c.socket.write(Buffer.alloc(240, 2));
  t.ok(await c.waitSeen('end'));
  await sleep(50);
  const got = c.bytes();
  t.equal(got.length, 100, 'exactly the limit');
  t.ok(got.subarray(60).every((b) => b === 2));
  t.ok(await until(() => echo.seen[0]!.includes('close')), 'the server leg is closed too');
});

// ---- runtime control ---------------------------------------------------------

t.test('add / remove toxics on a live connection: immediate effect, held bytes flushed', async (t) => {
  const echo = await startEcho(t);
  const p = await startProxy(t, echo);
  const c = await connect(t, p.port);
  await roundTrip(c, 'a');
  t.same(p.stats().toxics, [], 'no toxic yet');
  p.addToxic({ type: 'latency', latencyMs: 150 });
  const slow = await roundTrip(c, 'b');
  t.ok(slow >= 149, `latency applies to the live connection (${slow.toFixed(1)} ms)`);
  p.removeToxic('latency_downstream');
  // Remove while a chunk is held: it is delivered at once, not after its latency (a minute: no test waits that long).
  p.addToxic({ type: 'latency', latencyMs: 60_000 });
  const before = c.bytes().length;
  c.socket.write('c');
  await sleep(30);
  t.equal(c.bytes().length, before, 'the chunk is held');
  p.removeToxic('latency_downstream');
  t.ok(await c.waitBytes(before + 1, 30_000), 'the held chunk left on removal, long before its 60 s latency');
  t.same(p.stats().toxics, [], 'no toxic left');
  await roundTrip(c, 'd');
  t.equal(c.bytes().toString(), 'abcd');
});

t.test('HTTP control API', async (t) => {
  const echo = await startEcho(t);
  const p = await startProxy(t, echo);
  const ctl = await startProxyControl(p);
  t.teardown(() => ctl.stop());
  t.equal(ctl.host, '127.0.0.1');
  const base = `http://127.0.0.1:${ctl.port}`;
  const req = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(base + path, {
      method,
      headers: { connection: 'close', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  };
  t.same(await req('GET', '/toxics'), { status: 200, body: [] });
  const c = await connect(t, p.port);
  await roundTrip(c, 'x');
  t.match(await req('POST', '/toxics', { type: 'latency', latencyMs: 120 }), { status: 201, body: { name: 'latency_downstream', latencyMs: 120 } });
  t.ok((await roundTrip(c, 'y')) >= 119, 'live connection slowed by the API');
  t.match(await req('POST', '/toxics', { spec: 'slicer:upstream:average_size=4,name=s' }), { status: 201, body: { name: 's', type: 'slicer' } });
  t.match(await req('POST', '/toxics', { type: 'limit_data', stream: 'upstream', attributes: { bytes: 1000 } }), { status: 201, body: { bytes: 1000 } });
  t.match(await req('POST', '/toxics', { type: 'latency', latencyMs: 1 }), { status: 409, body: { error: /already exists/ } });
  t.match(await req('POST', '/toxics', { type: 'latency' }), { status: 400, body: { error: /required/ } });
  t.match(await req('POST', '/toxics', '{nope'), { status: 400, body: { error: /not JSON/ } });
  t.match(await req('GET', '/toxics'), { status: 200, body: [{ name: 'latency_downstream' }, { name: 's' }, { name: 'limit_data_upstream' }] });
  t.match(await req('GET', '/toxics/s'), { status: 200, body: { averageSize: 4 } });
  t.equal((await req('DELETE', '/toxics/latency_downstream')).status, 204);
  t.notOk(p.stats().toxics.some((x) => x.name === 'latency_downstream'), 'the latency is gone after DELETE');
  await roundTrip(c, 'z');
  t.match(await req('DELETE', '/toxics/latency_downstream'), { status: 404, body: { error: /no toxic named/ } });
  t.match(await req('PUT', '/toxics', [{ spec: 'stall:duration=10' }]), { status: 200, body: [{ name: 'stall_downstream' }] });
  t.match(await req('PUT', '/toxics', [{ spec: 'stall:duration=-1' }]), { status: 400 });
  t.match(await req('GET', '/stats'), { status: 200, body: { seed: 7, connections: 1 } });
  t.match(await req('GET', '/nope'), { status: 404 });
  t.match(await req('PATCH', '/toxics'), { status: 405 });
  t.match(await req('POST', '/toxics', 'x'.repeat(70_000)), { status: 413 });
});

// ---- determinism -------------------------------------------------------------

/** Which of `n` sequential connections a limit_data toxic with toxicity 0.5 cut short. */
async function cutPattern(t: Test, echo: Echo, seed: number, n: number): Promise<string> {
  const p = await startProxy(t, echo, { seed, toxics: [{ type: 'limit_data', bytes: 2, toxicity: 0.5 }] });
  let out = '';
  for (let i = 0; i < n; i++) {
    const c = await connect(t, p.port);
    c.socket.write('abcd');
    // Decided when the echo came back whole or the cut closed the connection (a connection that did neither is a hang: '?').
    await until(() => c.bytes().length >= 4 || c.seen.includes('end'));
    out += c.bytes().length >= 4 ? '.' : c.seen.includes('end') ? 'x' : '?';
    c.socket.destroy();
  }
  await p.stop();
  return out;
}

t.test('seeded: the same seed makes the same choices', async (t) => {
  const echo = await startEcho(t);
  const a = await cutPattern(t, echo, 42, 12);
  const b = await cutPattern(t, echo, 42, 12);
  const c = await cutPattern(t, echo, 43, 12);
  t.equal(a, b, `seed 42 twice: ${a}`);
  t.not(a, c, `seed 43 differs: ${c}`);
  t.match(a, /x/, 'some connections cut');
  t.match(a, /\./, 'some not');
  t.notMatch(a + b + c, /\?/, 'every connection decided (echoed or cut)');
});

t.test('seeded slicer: the same piece sizes for the same input (pipeline, no sockets)', async (t) => {
  const run = (seed: number): number[] => {
    const sizes: number[] = [];
    const slicer = parseToxicSpec('slicer:average_size=10,size_variation=5');
    const pipe = new Pipe((item: Item) => {
      if (item.kind === 'data') sizes.push(item.buf.length);
    }, () => undefined);
    pipe.add((out) =>
      createStage(slicer, {
        now: () => 0,
        rng: createRng(seed, 0, 'down', slicer.name),
        enabled: true,
        applied: () => undefined,
        close: () => undefined,
        reset: () => undefined,
      }, out),
    );
    pipe.push({ kind: 'data', buf: Buffer.alloc(200) });
    pipe.dispose();
    return sizes;
  };
  const a = run(1);
  t.same(run(1), a, 'identical');
  t.not(JSON.stringify(run(2)), JSON.stringify(a), 'another seed, other sizes');
  t.equal(a.reduce((x, y) => x + y, 0), 200);
  t.ok(a.slice(0, -1).every((s) => s >= 5 && s <= 15), `sizes within 10±5: ${a.join(',')}`);
  t.ok(new Set(a).size > 1, 'varied');
  const r1 = createRng(9, 'x');
  const r2 = createRng(9, 'x');
  const draws = Array.from({ length: 5 }, () => r1.float());
  t.same(Array.from({ length: 5 }, () => r2.float()), draws, 'createRng is deterministic');
  t.ok(draws.every((d) => d >= 0 && d < 1));
});

t.test('slicer after a stalled event loop: overdue pieces still leave delayMs apart, one per release (pipeline, no sockets)', async (t) => {
  // A loaded machine runs the stage's timer late; the pieces then due must not leave in one burst, which the receiver would read as one chunk.
  let now = 0;
  const sizes: number[] = [];
  const slicer = parseToxicSpec('slicer:average_size=10,size_variation=0,delay=5');
  const pipe = new Pipe((item: Item) => {
    if (item.kind === 'data') sizes.push(item.buf.length);
  }, () => undefined);
  t.teardown(() => pipe.dispose());
  pipe.add((out) => createStage(slicer, { now: () => now, rng: createRng(1, 0, 'down', slicer.name), enabled: true, applied: () => undefined, close: () => undefined, reset: () => undefined }, out));
  pipe.push({ kind: 'data', buf: Buffer.alloc(100) });
  t.same(sizes, [10], 'the first piece leaves at once');
  now = 1_000; // the loop stalled: all 9 other pieces are overdue
  t.ok(await until(() => sizes.length >= 2, 30_000), 'the stage released after the stall');
  t.same(sizes, [10, 10], 'one overdue piece per release, not a burst');
  await sleep(20);
  t.equal(sizes.length, 2, 'the next one waits delayMs after it (clock still at the stall)');
  now = 1_005;
  t.ok(await until(() => sizes.length >= 3, 30_000));
  t.same(sizes, [10, 10, 10], 'then the next, alone');
  now = 2_000;
  for (let n = 4; n <= 10; n++) {
    t.ok(await until(() => sizes.length >= n, 30_000), `piece ${n}`);
    now += 5;
  }
  t.same(sizes, Array.from({ length: 10 }, () => 10), 'every piece, each on its own');
});

// ---- CLI ------------------------------------------------------------------------

t.test('CLI: usage errors name the flag', async (t) => {
  const run = async (argv: string[]) => {
    let err = '';
    const code = await main(argv, { out: () => undefined, err: (s) => void (err += s) });
    return { code, err };
  };
  t.match(await run(['proxy', '--listen', '0', '--upstream', '127.0.0.1:1', '--toxic', 'latency:downstream:latency=x']), {
    code: 2, err: /--toxic "latency:downstream:latency=x": latency: latency=x is not a number/,
  });
  t.match(await run(['proxy', '--listen', '0', '--upstream', '127.0.0.1:1', '--toxic', 'warp']), { code: 2, err: /--toxic "warp": unknown toxic type "warp"/ });
  t.match(await run(['proxy', '--listen', '0', '--upstream', '127.0.0.1:1', '--toxic', 'stall:duration=1', '--toxic', 'stall:duration=2']), {
    code: 2, err: /already given/,
  });
  t.match(await run(['proxy', '--listen', '0', '--upstream', 'nohost']), { code: 2, err: /--upstream "nohost": expected HOST:PORT/ });
  t.match(await run(['proxy', '--listen', 'x:y', '--upstream', '127.0.0.1:1']), { code: 2, err: /--listen "x:y"/ });
  t.match(await run(['proxy', '--upstream', '127.0.0.1:1']), { code: 2 });
});

t.test('CLI: wirecheck proxy as a process, steered through --control', async (t) => {
  const echo = await startEcho(t);
  const child = spawn(
    process.execPath,
    [bin, 'proxy', '--listen', '127.0.0.1:0', '--upstream', `127.0.0.1:${echo.port}`, '--toxic', 'latency:downstream:latency=80', '--control', '0', '--seed', '5'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  const ports = await new Promise<{ proxy: number; control: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner within 20 s: ${stderr}`)), 20_000);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /listening on tcp:\/\/127\.0\.0\.1:(\d+) -> 127\.0\.0\.1:\d+ \(seed 5\)/.exec(stderr);
      const c = /control API on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m && c && stderr.includes('Ctrl-C')) {
        clearTimeout(timer);
        resolve({ proxy: Number(m[1]), control: Number(c[1]) });
      }
    });
    child.once('exit', () => reject(new Error(`proxy exited early: ${stderr}`)));
  });
  t.match(stderr, /latency_downstream: latency downstream latencyMs=80 jitterMs=0/);
  const c = await connect(t, ports.proxy);
  t.ok((await roundTrip(c, 'p')) >= 79, 'toxic from the flag applies');
  const res = await fetch(`http://127.0.0.1:${ports.control}/toxics/latency_downstream`, { method: 'DELETE', headers: { connection: 'close' } });
  t.equal(res.status, 204);
  const left = await fetch(`http://127.0.0.1:${ports.control}/toxics`, { headers: { connection: 'close' } });
  t.same(await left.json(), [], 'removed through the API');
  await roundTrip(c, 'q');
  c.socket.destroy();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGINT');
  t.equal(await exited, 0, 'exits 0 on SIGINT');
  t.match(stderr, /stopped: 1 connections/);
});

t.test('no TCP handles left', async (t) => {
  t.ok(await until(() => tcpHandles() <= baseline), process.getActiveResourcesInfo().join(','));
});
