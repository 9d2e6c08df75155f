/**
 * QUIC driver against a small in-process @matrixai/quic server on
 * 127.0.0.1. The first bytes of each client stream pick the server's
 * behaviour: `close` (CONNECTION_CLOSE app 7 "bye"), `reset` (RESET_STREAM
 * 42), `stop` (STOP_SENDING 9), `push` (opens a server uni stream with
 * "pushed" and echoes), anything else is echoed, FIN answered with FIN.
 */
import 'reflect-metadata';
import { createSocket } from 'node:dgram';
import { webcrypto } from 'node:crypto';
import t from 'tap';
import * as x509 from '@peculiar/x509';
import { QUICServer, QUICStream, events as quicEvents } from '@matrixai/quic';
import type { QUICConnection } from '@matrixai/quic';
import { TraceRecorder, fromHex, type TraceEvent } from '../../harness/engine/trace.js';
import { quicDriver, QUIC_CLOSE_DEADLINE_MS } from '../../harness/drivers/quic.js';
import { ConnectError, DriverError, type ClientConnection, type ConnectOptions } from '../../harness/drivers/types.js';
import { quietLogger, serverCryptoOps } from '../../harness/quic/util.js';
import { within } from '../_support/deadline.js';

/** What the helpers need of a tap test. */
interface Test {
  teardown(fn: () => unknown): void;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A self-signed ECDSA P-256 certificate for localhost (and 127.0.0.1 when `withIp`). */
async function makeIdentity(withIp: boolean): Promise<{ cert: string; key: string }> {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=localhost',
    notBefore: new Date(Date.now() - 3_600_000),
    notAfter: new Date(Date.now() + 86_400_000),
    signingAlgorithm: alg,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        ...(withIp ? [{ type: 'ip' as const, value: '127.0.0.1' }] : []),
      ]),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`;
  return { cert: cert.toString('pem'), key };
}

const identity = await makeIdentity(true);
const dnsOnlyIdentity = await makeIdentity(false);

interface TestServer {
  readonly port: number;
  /** SNI of each connection, as quiche saw it (null: none sent). */
  readonly sni: Array<string | null>;
  /** What the server observed: `peer-reset <stream> <code>`, `peer-stop <stream> <code>`, `close <app|transport> <code> <reason>`. */
  readonly seen: string[];
}

/** Starts the behaviour server; stopped by `t.teardown`. */
async function startServer(t: Test, id = identity): Promise<TestServer> {
  const sni: Array<string | null> = [];
  const seen: string[] = [];
  const server = new QUICServer({
    crypto: { key: webcrypto.getRandomValues(new Uint8Array(32)).buffer, ops: serverCryptoOps },
    config: { key: id.key, cert: id.cert, applicationProtos: ['test'], verifyPeer: false },
    logger: quietLogger('test-server'),
    reasonToCode: (_type, reason?: unknown) => {
      const code = (reason as { code?: unknown } | undefined)?.code;
      return typeof code === 'number' ? code : 0;
    },
    codeToReason: (type, code) => ({ type, code }),
  });
  server.addEventListener(quicEvents.EventQUICServerConnection.name, (ev: Event) => {
    const conn = (ev as quicEvents.EventQUICServerConnection).detail;
    sni.push((conn as unknown as { conn: { serverName(): string | null } }).conn.serverName());
    conn.addEventListener(quicEvents.EventQUICConnectionError.name, (e: Event) => {
      const data = (e as quicEvents.EventQUICConnectionError).detail.data as
        | { isApp?: boolean; errorCode?: number; reason?: Uint8Array }
        | undefined;
      if (data?.errorCode !== undefined) {
        seen.push(`close ${data.isApp ? 'app' : 'transport'} ${data.errorCode} ${dec.decode(data.reason)}`);
      }
    });
    conn.addEventListener(quicEvents.EventQUICConnectionStream.name, (e: Event) => {
      const stream = (e as quicEvents.EventQUICConnectionStream).detail;
      stream.addEventListener(quicEvents.EventQUICStreamError.name, (se: Event) => {
        const err = (se as quicEvents.EventQUICStreamError).detail;
        const code = (err.data as { code?: number } | undefined)?.code;
        if (err.constructor.name === 'ErrorQUICStreamPeerRead') seen.push(`peer-reset ${stream.streamId} ${code}`);
        if (err.constructor.name === 'ErrorQUICStreamPeerWrite') seen.push(`peer-stop ${stream.streamId} ${code}`);
      });
      void behave(conn, stream).catch(() => undefined);
    });
  });
  await server.start({ host: '127.0.0.1', port: 0 });
  t.teardown(() => server.stop({ force: true }));
  return { port: server.port, sni, seen };
}

async function behave(conn: QUICConnection, stream: QUICStream): Promise<void> {
  const reader = stream.readable.getReader();
  const writer = stream.writable.getWriter();
  let first = true;
  for (;;) {
    const r = await reader.read();
    if (r.done) {
      await writer.close();
      return;
    }
    const text = dec.decode(r.value);
    if (first) {
      first = false;
      if (text.startsWith('close')) {
        await conn.stop({ isApp: true, errorCode: 7, reason: enc.encode('bye'), force: true });
        return;
      }
      if (text.startsWith('reset')) {
        await writer.abort({ code: 42 });
        continue;
      }
      if (text.startsWith('stop')) {
        await reader.cancel({ code: 9 });
        return;
      }
      if (text.startsWith('push')) {
        const push = conn.newStream('uni');
        const w = push.writable.getWriter();
        await w.write(enc.encode('pushed'));
        await w.close();
      }
    }
    await writer.write(r.value);
  }
}

/** Resolves with the first event (already recorded or coming) matching `pred`. */
function waitFor(trace: TraceRecorder, pred: (ev: TraceEvent) => boolean, ms = 3_000): Promise<TraceEvent> {
  const found = trace.events.find(pred);
  if (found !== undefined) return Promise.resolve(found);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching trace event within ${ms} ms: ${JSON.stringify(trace.events)}`));
    }, ms);
    const off = trace.listen((ev) => {
      if (pred(ev)) {
        clearTimeout(timer);
        off();
        resolve(ev);
      }
    });
  });
}

/** Resolves once `pred()` holds (polled every 5 ms), or after `ms`. */
async function until(pred: () => boolean, ms = 2_000): Promise<void> {
  const end = performance.now() + ms;
  while (!pred() && performance.now() < end) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** Events without `t` and notes, for comparing sequences. */
function wire(trace: TraceRecorder): Array<Record<string, unknown>> {
  return trace.events
    .filter((ev) => ev.type !== 'note')
    .map(({ t: _t, ...rest }) => rest as Record<string, unknown>);
}

function baseOpts(port: number, extra: Partial<ConnectOptions> = {}): ConnectOptions {
  return { host: '127.0.0.1', port, alpn: ['test'], insecure: true, connectTimeoutMs: 2_000, ...extra };
}

async function connect(t: Test, trace: TraceRecorder, opts: ConnectOptions): Promise<ClientConnection> {
  const conn = await quicDriver.connect(trace, opts);
  t.teardown(() => conn.close());
  return conn;
}

t.test('echo round trip over an IP without SNI, FIN both ways, local close', async (t) => {
  const server = await startServer(t);
  const trace = new TraceRecorder();
  const conn = await connect(t, trace, baseOpts(server.port));
  t.equal(quicDriver.transport, 'quic');
  await until(() => server.sni.length === 1);
  t.same(server.sni, [null], 'no SNI sent for an IP literal');

  const s = conn.openStream();
  t.equal(s.id, 0);
  t.equal(trace.events.length, 1, 'opening a stream records nothing');
  await s.write(new Uint8Array(0));
  t.equal(trace.events.length, 1, 'an empty write records nothing');
  await s.write(enc.encode('hello'));
  await s.end();
  await waitFor(trace, (ev) => ev.type === 'stream_fin' && ev.dir === 's2c');
  t.equal(dec.decode(s.received()), 'hello');
  t.ok(s.readEnded);
  t.same(wire(trace), [
    { type: 'conn_open', conn: conn.conn, remote: `127.0.0.1:${server.port}`, alpn: 'test' },
    { type: 'stream_open', conn: conn.conn, stream: 0, by: 'client' },
    { type: 'data', conn: conn.conn, stream: 0, dir: 'c2s', hex: '68656c6c6f' },
    { type: 'stream_fin', conn: conn.conn, stream: 0, dir: 'c2s' },
    { type: 'data', conn: conn.conn, stream: 0, dir: 's2c', hex: '68656c6c6f' },
    { type: 'stream_fin', conn: conn.conn, stream: 0, dir: 's2c' },
  ]);
  const ts = trace.events.map((ev) => ev.t);
  t.same(ts, [...ts].sort((a, b) => a - b), 'times never decrease');

  await t.rejects(s.write(enc.encode('late')), DriverError, 'write after FIN rejects');
  // Bounded by the driver's close deadline; the test deadline only stops a hang.
  await within(conn.close(3, 'done'), 10 * QUIC_CLOSE_DEADLINE_MS, 'close');
  t.ok(conn.isClosed);
  const info = await conn.closed;
  t.same(info, { conn: conn.conn, by: 'client', isApp: true, code: 3, reason: 'done' });
  await conn.close();
  t.equal(trace.events.filter((ev) => ev.type === 'conn_close').length, 1, 'conn_close recorded once');
  await t.rejects(conn.openStream().write(enc.encode('x')), DriverError, 'streams of a closed connection reject');
  await until(() => server.seen.includes('close app 3 done'));
  t.ok(server.seen.includes('close app 3 done'), 'server saw our CONNECTION_CLOSE');
});

t.test('closing with streams open sends only CONNECTION_CLOSE (no stream aborts)', async (t) => {
  const server = await startServer(t);
  const trace = new TraceRecorder();
  const conn = await connect(t, trace, baseOpts(server.port));
  const s = conn.openStream();
  await s.write(enc.encode('abc'));
  await waitFor(trace, (ev) => ev.type === 'data' && ev.dir === 's2c');
  await conn.close(3, 'done');
  const tail = wire(trace).slice(-2);
  t.same(tail, [
    { type: 'data', conn: conn.conn, stream: 0, dir: 's2c', hex: '616263' },
    { type: 'conn_close', conn: conn.conn, by: 'client', isApp: true, code: 3, reason: 'done' },
  ]);
  await until(() => server.seen.some((x) => x.startsWith('close app 3')));
  t.same(server.seen.filter((x) => x.startsWith('peer-')), [], 'the server saw no RESET_STREAM or STOP_SENDING');
  t.ok(s.readEnded, 'readEnded after close');
  await t.rejects(s.write(enc.encode('x')), DriverError);
});

t.test('certificate verification by CA, with and without SNI', async (t) => {
  const server = await startServer(t);
  const trace = new TraceRecorder();
  await connect(t, trace, baseOpts(server.port, { insecure: false, ca: identity.cert }));
  await connect(t, trace, baseOpts(server.port, { insecure: false, ca: identity.cert, serverName: 'localhost' }));
  await until(() => server.sni.length === 2);
  t.same(server.sni, [null, 'localhost']);
  await t.rejects(
    quicDriver.connect(trace, baseOpts(server.port, { insecure: false, ca: identity.cert, serverName: 'other.example' })),
    ConnectError,
    'a name the certificate does not cover fails',
  );
  const fail = trace.events.find((ev) => ev.type === 'conn_fail');
  t.match(fail, { type: 'conn_fail', conn: 2, message: /certificate rejected: TLS alert 42/ });
});

t.test('without SNI, the certificate must still cover the IP', async (t) => {
  const server = await startServer(t, dnsOnlyIdentity);
  const trace = new TraceRecorder();
  const err = await quicDriver.connect(trace, baseOpts(server.port, { insecure: false, ca: dnsOnlyIdentity.cert })).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(err, ConnectError);
  t.match(trace.events, [{ type: 'conn_fail', conn: 0, message: /does not cover "127\.0\.0\.1"/ }]);
  await until(() => server.seen.length > 0);
  t.ok(server.seen.includes('close transport 298 '), 'the server is told: bad_certificate (0x100 + 42)');
  await connect(t, trace, baseOpts(server.port, { insecure: false, ca: dnsOnlyIdentity.cert, serverName: 'localhost' }));
  t.match(trace.events.at(-1), { type: 'conn_open', conn: 1 }, 'the DNS name it covers works');
});

t.test('peer application close is recorded and resolves closed', async (t) => {
  const server = await startServer(t);
  const trace = new TraceRecorder();
  const conn = await connect(t, trace, baseOpts(server.port));
  const s = conn.openStream();
  await s.write(enc.encode('close'));
  const info = await conn.closed;
  t.same(info, { conn: conn.conn, by: 'server', isApp: true, code: 7, reason: 'bye' });
  t.ok(conn.isClosed);
  t.ok(s.readEnded);
  const closes = trace.events.filter((ev) => ev.type === 'conn_close');
  t.same(closes.length, 1);
  t.match(closes[0], { by: 'server', isApp: true, code: 7, reason: 'bye' });
  t.equal(trace.events.at(-1)?.type, 'conn_close', 'nothing recorded after conn_close');
  await t.rejects(s.write(enc.encode('more')), DriverError);
  await conn.close(1, 'ignored');
  t.equal(trace.events.filter((ev) => ev.type === 'conn_close').length, 1, 'local close after peer close records nothing');
});

t.test('server RESET_STREAM and STOP_SENDING are recorded with their codes', async (t) => {
  const server = await startServer(t);
  const trace = new TraceRecorder();
  const conn = await connect(t, trace, baseOpts(server.port));

  const r = conn.openStream();
  await r.write(enc.encode('reset'));
  const reset = await waitFor(trace, (ev) => ev.type === 'stream_reset' && ev.stream === r.id);
  t.same({ ...reset, t: 0 }, { type: 'stream_reset', conn: conn.conn, stream: 0, dir: 's2c', kind: 'reset', code: 42, t: 0 });
  t.ok(r.readEnded);
  r.stopSending(1);
  t.match(trace.events.at(-1), { type: 'note', text: /not sent/ }, 'stop-sending an ended side only notes');

  const s = conn.openStream();
  t.equal(s.id, 4);
  await s.write(enc.encode('stop'));
  await waitFor(trace, (ev) => ev.type === 'stream_reset' && ev.stream === s.id && ev.kind === 'reset');
  t.match(wire(trace).slice(-2), [
    { type: 'stream_reset', stream: 4, dir: 'c2s', kind: 'stop_sending', code: 9 },
    { type: 'stream_reset', stream: 4, dir: 'c2s', kind: 'reset', code: 9 },
  ], 'STOP_SENDING, then the RESET_STREAM quiche answers with');
  await t.rejects(s.write(enc.encode('again')), DriverError, 'write after STOP_SENDING rejects');
  t.equal(conn.isClosed, false);
});

t.test('client reset / stopSending: codes checked first, then sent and recorded', async (t) => {
  const server = await startServer(t);
  const trace = new TraceRecorder();
  const conn = await connect(t, trace, baseOpts(server.port));
  const s = conn.openStream();
  for (const bad of [-1, 2 ** 62, 1.5, Number.NaN]) {
    t.throws(() => s.reset(bad), RangeError, `reset(${bad})`);
    t.throws(() => s.stopSending(bad), RangeError, `stopSending(${bad})`);
    await t.rejects(conn.close(bad), RangeError, `close(${bad})`);
  }
  t.equal(conn.isClosed, false, 'bad codes leave the connection alone');
  t.equal(trace.events.length, 1, 'and record nothing');

  await s.write(enc.encode('abc'));
  s.reset(5);
  s.stopSending(6);
  await t.rejects(s.write(enc.encode('x')), DriverError, 'write after reset rejects');
  await until(() => server.seen.includes('peer-reset 0 5') && server.seen.includes('peer-stop 0 6'));
  t.same(server.seen.filter((x) => x.startsWith('peer-')).sort(), ['peer-reset 0 5', 'peer-stop 0 6']);
  t.match(wire(trace).slice(-2), [
    { type: 'stream_reset', stream: 0, dir: 'c2s', kind: 'reset', code: 5 },
    { type: 'stream_reset', stream: 0, dir: 's2c', kind: 'stop_sending', code: 6 },
  ]);
  t.ok(s.readEnded);

  // A stream reset before any byte: stream_open comes first.
  const u = conn.openStream();
  u.reset(2 ** 53 - 1);
  t.match(wire(trace).slice(-2), [
    { type: 'stream_open', stream: 4, by: 'client' },
    { type: 'stream_reset', stream: 4, dir: 'c2s', kind: 'reset', code: 2 ** 53 - 1 },
  ]);
});

t.test('streams opened by the server are accepted and read to their end', async (t) => {
  const server = await startServer(t);
  const trace = new TraceRecorder();
  const conn = await connect(t, trace, baseOpts(server.port));
  const s = conn.openStream();
  await s.write(enc.encode('push'));
  await waitFor(trace, (ev) => ev.type === 'stream_fin' && ev.stream === 3);
  const pushed = trace.events.filter((ev) => 'stream' in ev && ev.stream === 3).map(({ t: _t, ...rest }) => rest);
  t.same(pushed, [
    { type: 'stream_open', conn: conn.conn, stream: 3, by: 'server', dir: 'uni' },
    { type: 'data', conn: conn.conn, stream: 3, dir: 's2c', hex: Buffer.from('pushed').toString('hex') },
    { type: 'stream_fin', conn: conn.conn, stream: 3, dir: 's2c' },
  ]);
  // Accepted after its end: every byte was kept from the start.
  const accepted = await conn.acceptStream!(1_000);
  t.ok(accepted, 'the server stream is handed out by acceptStream');
  t.match(accepted, { id: 3, by: 'server', kind: 'uni', readEnded: true });
  t.equal(dec.decode(accepted!.received()), 'pushed');
  await t.rejects(accepted!.write(enc.encode('x')), DriverError, 'a server uni stream cannot be written');
  t.equal(conn.serverStreams!().length, 1);
  t.equal(await conn.acceptStream!(20), undefined, 'no second server stream: undefined at the deadline');
  await waitFor(trace, (ev) => ev.type === 'data' && ev.stream === 0 && ev.dir === 's2c');
  t.equal(dec.decode(fromHex((trace.events.find((ev) => ev.type === 'data' && ev.dir === 's2c' && ev.stream === 0) as { hex: string }).hex)), 'push');
});

t.test('nothing listening: ConnectError within the timeout', async (t) => {
  const probe = createSocket('udp4');
  await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
  const port = probe.address().port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const trace = new TraceRecorder();
  const started = performance.now();
  const err = await within(quicDriver.connect(trace, baseOpts(port, { connectTimeoutMs: 500 })), 30_000, 'connect').then(
    () => undefined,
    (e: unknown) => e,
  );
  const elapsed = performance.now() - started;
  t.type(err, ConnectError);
  t.match((err as Error).message, /within 500 ms/, 'on the connect timeout');
  t.ok(elapsed >= 450, `failed after its timeout (${elapsed.toFixed(0)} ms), not before`);
  t.same(trace.events.length, 1);
  t.match(trace.events[0], { type: 'conn_fail', conn: 0, message: /timeout/ });
});

t.test('ALPN mismatch: ConnectError naming the alert, without waiting for draining', async (t) => {
  const server = await startServer(t);
  const trace = new TraceRecorder();
  // A connect timeout far above the draining period: failing with the alert's message shows it failed on the alert.
  const err = await within(quicDriver.connect(trace, baseOpts(server.port, { alpn: ['nope'], connectTimeoutMs: 60_000 })), 30_000, 'connect').then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(err, ConnectError);
  t.match((err as Error).message, /ALPN mismatch.*alert 120/, 'fails on the alert');
  t.notMatch((err as Error).message, /timeout/, 'not on a timeout');
  t.match(trace.events, [{ type: 'conn_fail', conn: 0, message: /ALPN mismatch/ }]);
});

t.test('invalid options reject with ConnectError and record conn_fail', async (t) => {
  const trace = new TraceRecorder();
  const bad: ConnectOptions[] = [
    baseOpts(0),
    baseOpts(4433, { alpn: [] }),
    baseOpts(4433, { connectTimeoutMs: 0 }),
    baseOpts(4433, { idleTimeoutMs: 1_000, keepAliveMs: 1_000 }),
  ];
  for (const opts of bad) await t.rejects(quicDriver.connect(trace, opts), ConnectError);
  t.equal(trace.events.filter((ev) => ev.type === 'conn_fail').length, bad.length);
});
