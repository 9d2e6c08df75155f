/**
 * The QUIC driver against each mode of the hostile QUIC server
 * (test/hostile/quic-server.ts, issue 13): every misbehaviour is recorded,
 * nothing crashes (no uncaught exception, no unhandled rejection), nothing
 * hangs (every wait below has its own deadline; `close()` and `closed`
 * settle).
 */
import t from 'tap';
import { until } from '../quic/_helpers.js';
import { quicDriver } from '../../harness/drivers/quic.js';
import { ConnectError, DriverError, type ClientConnection, type ConnectOptions } from '../../harness/drivers/types.js';
import { TraceRecorder, type TraceEvent } from '../../harness/engine/trace.js';
import { settleWithin } from '../../harness/engine/util.js';
import {
  HOSTILE_ALPN,
  HUGE_REASON,
  MAX_LEGAL_CODE,
  startHostileQuicServer,
  type HostileQuicMode,
  type HostileQuicServer,
} from './quic-server.js';

/** Everything that would have crashed the process. */
const escaped: string[] = [];
const onUncaught = (err: unknown): void => {
  escaped.push(`uncaught: ${String(err)}`);
};
const onUnhandled = (err: unknown): void => {
  escaped.push(`unhandled rejection: ${String(err)}`);
};
process.on('uncaughtException', onUncaught);
process.on('unhandledRejection', onUnhandled);

const servers = new Set<HostileQuicServer>();
const conns = new Set<ClientConnection>();
t.teardown(async () => {
  await Promise.all([...conns].map((c) => settleWithin(c.close(), 5_000)));
  await Promise.all([...servers].map((s) => s.stop()));
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUnhandled);
});

async function serve(mode: HostileQuicMode): Promise<HostileQuicServer> {
  const s = await startHostileQuicServer({ mode });
  servers.add(s);
  return s;
}

function opts(port: number, extra: Partial<ConnectOptions> = {}): ConnectOptions {
  return { host: '127.0.0.1', port, alpn: [HOSTILE_ALPN], insecure: true, connectTimeoutMs: 3_000, ...extra };
}

async function connect(port: number, trace: TraceRecorder, extra: Partial<ConnectOptions> = {}): Promise<ClientConnection> {
  const c = await quicDriver.connect(trace, opts(port, extra));
  conns.add(c);
  return c;
}

/** Closes `c` and checks that both `close()` and `closed` settle (each has a deadline of its own). */
/** What the helpers use of a tap test. */
interface Check {
  equal(a: unknown, b: unknown, msg: string): unknown;
  ok(v: unknown, msg: string): unknown;
  same(a: unknown, b: unknown, msg: string): unknown;
}

async function closes(t: Check, c: ClientConnection): Promise<void> {
  t.equal(await settleWithin(c.close(0, 'done'), 10_000), 'done', 'close() settles');
  t.equal(await settleWithin(c.closed, 10_000), 'done', 'closed settles');
  t.ok(c.isClosed, 'isClosed');
}

function count(trace: TraceRecorder, pred: (e: TraceEvent) => boolean): number {
  return trace.events.filter(pred).length;
}

/** Ends a test: late packets and timers of the mode get a moment to misbehave, then nothing may have escaped. */
async function nothingEscaped(t: Check): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.same(escaped, [], 'nothing escaped to the process');
  escaped.length = 0;
}

t.test('reset-max-code: RESET_STREAM and STOP_SENDING with 2^62 - 512 are recorded', async (t) => {
  const s = await serve('reset-max-code');
  const trace = new TraceRecorder();
  const c = await connect(s.port, trace);
  const st = c.openStream();
  await st.write(new TextEncoder().encode('ping'));
  await until(() => st.readEnded, 'the reset read side');
  await until(() => count(trace, (e) => e.type === 'stream_reset' && e.kind === 'stop_sending') > 0, 'STOP_SENDING recorded', 2_000)
    .catch(() => st.write(new Uint8Array([1])).catch(() => undefined)); // a write makes the library notice STOP_SENDING
  await until(() => count(trace, (e) => e.type === 'stream_reset' && e.kind === 'stop_sending') > 0, 'STOP_SENDING recorded');
  const reset = trace.events.find((e) => e.type === 'stream_reset' && e.kind === 'reset' && e.dir === 's2c');
  t.match(reset, { code: MAX_LEGAL_CODE }, 'RESET_STREAM code recorded (nearest double)');
  const stop = trace.events.find((e) => e.type === 'stream_reset' && e.kind === 'stop_sending' && e.dir === 'c2s');
  t.match(stop, { code: MAX_LEGAL_CODE }, 'STOP_SENDING code recorded');
  const notes = trace.events.filter((e) => e.type === 'note').map((e) => (e.type === 'note' ? e.text : ''));
  t.ok(notes.some((n) => n.includes(BigInt(MAX_LEGAL_CODE).toString()) && n.includes('RESET_STREAM')), 'a note gives the exact code');
  // The connection still works after it.
  const again = c.openStream();
  await again.write(new TextEncoder().encode('x'));
  await until(() => again.readEnded, 'second stream reset too');
  await closes(t, c);
  await nothingEscaped(t);
});

t.test('stop-sending-storm: every STOP_SENDING recorded, server streams refused', async (t) => {
  const s = await serve('stop-sending-storm');
  const trace = new TraceRecorder();
  const c = await connect(s.port, trace);
  const streams = Array.from({ length: 10 }, () => c.openStream());
  await Promise.all(streams.map((st) => st.write(new Uint8Array([1])).catch(() => undefined)));
  await until(() => count(trace, (e) => e.type === 'stream_reset' && e.kind === 'stop_sending' && e.dir === 'c2s' && e.stream % 4 === 0) >= 10, '10 STOP_SENDING', 8_000)
    .catch(async () => {
      await Promise.all(streams.map((st) => st.write(new Uint8Array([2])).catch(() => undefined)));
    });
  await until(() => count(trace, (e) => e.type === 'stream_reset' && e.kind === 'stop_sending' && e.dir === 'c2s' && e.stream % 4 === 0) >= 10, '10 STOP_SENDING');
  for (const st of streams) await t.rejects(st.write(new Uint8Array([3])), DriverError);
  await until(() => (c.serverStreams?.().length ?? 0) >= 20, '20 server streams');
  const first = await c.acceptStream!(1_000);
  t.ok(first, 'server streams are accepted');
  await closes(t, c);
  await nothingEscaped(t);
});

t.test('endless-data: the driver keeps reading and closes on time', async (t) => {
  const s = await serve('endless-data');
  const trace = new TraceRecorder();
  const c = await connect(s.port, trace);
  const st = c.openStream();
  await st.write(new TextEncoder().encode('go'));
  await until(() => st.receivedLength >= 256 * 1024, '256 KiB received', 10_000);
  await closes(t, c);
  const n = st.receivedLength;
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(st.receivedLength, n, 'nothing more after the close');
  await nothingEscaped(t);
});

t.test('slow-drip: bytes one by one, close while dripping', async (t) => {
  const s = await serve('slow-drip');
  const trace = new TraceRecorder();
  const c = await connect(s.port, trace);
  const st = c.openStream();
  await st.write(new TextEncoder().encode('go'));
  await until(() => st.receivedLength >= 3, 'three drips');
  t.ok(count(trace, (e) => e.type === 'data' && e.dir === 's2c') >= 3, 'each drip recorded');
  await closes(t, c);
  await nothingEscaped(t);
});

t.test('tiny-idle-timeout: connections die young, late packets harm nothing', async (t) => {
  const s = await serve('tiny-idle-timeout');
  let opened = 0;
  let failed = 0;
  for (let i = 0; i < 5; i++) {
    const trace = new TraceRecorder();
    let c: ClientConnection;
    try {
      c = await connect(s.port, trace, { connectTimeoutMs: 1_500 });
    } catch (err) {
      t.ok(err instanceof ConnectError, 'a failed connect is a ConnectError');
      t.ok(trace.events.some((e) => e.type === 'conn_fail'), 'conn_fail recorded');
      failed++;
      continue;
    }
    opened++;
    c.openStream().write(new Uint8Array([1])).catch(() => undefined);
    const info = await Promise.race([c.closed, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 5_000))]);
    if (info === undefined) await closes(t, c);
    else t.ok(info.by === 'transport' || info.by === 'server', `closed by ${info.by}: ${info.reason}`);
  }
  t.equal(opened + failed, 5);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await nothingEscaped(t);
});

t.test('no-stream-credit: opening a stream fails cleanly', async (t) => {
  const s = await serve('no-stream-credit');
  const trace = new TraceRecorder();
  const c = await connect(s.port, trace);
  const st = c.openStream();
  const outcome = await settleWithin(st.write(new Uint8Array([1])), 500);
  t.not(outcome, 'done', 'no stream, no write');
  t.ok(trace.events.some((e) => e.type === 'note' && e.text.includes('stream limit')) || outcome === 'timeout', 'the limit is noted (or the write waits for credit)');
  await closes(t, c);
  await nothingEscaped(t);
});

t.test('zero-flow-window: a write waits for credit, reset and close still work', async (t) => {
  const s = await serve('zero-flow-window');
  const trace = new TraceRecorder();
  const c = await connect(s.port, trace);
  const st = c.openStream();
  const w = st.write(new Uint8Array(1_000));
  t.equal(await settleWithin(w, 300), 'timeout', 'blocked on flow control (RFC 9000 §4.1)');
  st.reset(5);
  t.equal(await settleWithin(w, 5_000), 'error', 'the blocked write rejects after reset');
  t.ok(trace.events.some((e) => e.type === 'stream_reset' && e.kind === 'reset' && e.code === 5));
  await closes(t, c);
  await nothingEscaped(t);
});

t.test('garbage: not QUIC, a ConnectError at the deadline', async (t) => {
  const s = await serve('garbage');
  const trace = new TraceRecorder();
  await t.rejects(quicDriver.connect(trace, opts(s.port, { connectTimeoutMs: 800 })), ConnectError);
  t.ok(trace.events.some((e) => e.type === 'conn_fail'));
  await nothingEscaped(t);
});

t.test('close-huge-reason: the close is recorded, the reason kept as sent', async (t) => {
  const s = await serve('close-huge-reason');
  const trace = new TraceRecorder();
  const c = await connect(s.port, trace);
  await c.openStream().write(new TextEncoder().encode('x'));
  const info = await Promise.race([c.closed, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 8_000))]);
  t.ok(info, 'the connection closed');
  if (info && info.by === 'server') {
    t.equal(info.code, 1);
    t.equal(info.reason, HUGE_REASON, 'reason recorded as sent (terminals sanitise it, reports escape it)');
  }
  await closes(t, c);
  await nothingEscaped(t);
});

t.test('close-huge-code: application code 2^62 - 512 recorded', async (t) => {
  const s = await serve('close-huge-code');
  const trace = new TraceRecorder();
  const c = await connect(s.port, trace);
  await c.openStream().write(new TextEncoder().encode('x'));
  const info = await Promise.race([c.closed, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 8_000))]);
  t.match(info, { by: 'server', isApp: true, code: MAX_LEGAL_CODE });
  await closes(t, c);
  await nothingEscaped(t);
});
