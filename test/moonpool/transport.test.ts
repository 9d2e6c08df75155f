/** The pure client protocol core (suites/moonpool/transport.ts): no sockets, time passed in. */
import t from 'tap';
import { encodeEnvelope, encodeHeader, MAX_CORRELATION_ID, PING, PONG } from '../../suites/moonpool/codec.js';
import { ClientClosedError, ConnectionLostError, ParseError, ReadError, TimeoutError } from '../../suites/moonpool/errors.js';
import { TransportProtocol, type Transmit, type TransportEvent, type TransportOptions } from '../../suites/moonpool/transport.js';

const drainTx = (p: TransportProtocol): Transmit[] => {
  const out: Transmit[] = [];
  for (let x = p.pollTransmit(); x; x = p.pollTransmit()) out.push(x);
  return out;
};
const drainEv = (p: TransportProtocol): TransportEvent[] => {
  const out: TransportEvent[] = [];
  for (let x = p.pollReceive(); x; x = p.pollReceive()) out.push(x);
  return out;
};
const reply = (id: bigint, payload: Uint8Array = PONG) => encodeEnvelope({ correlationId: id, payload });

/** A protocol connected at time 0 (generation 1). */
function connected(opts: TransportOptions = {}): TransportProtocol {
  const p = new TransportProtocol(opts);
  p.connect(0);
  t.same(drainTx(p), [{ type: 'connect', generation: 1 }]);
  p.handleConnected(1, 0);
  drainEv(p);
  return p;
}

t.test('request, write, reply: matched by correlation id', async (t) => {
  const p = new TransportProtocol();
  const id = p.request(PING, 10, 1000);
  t.equal(id, 1n, 'ids start at 1');
  t.same(drainTx(p), [{ type: 'connect', generation: 1 }], 'the first request connects');
  t.equal(p.state, 'connecting');
  p.handleConnected(1, 12);
  t.same(drainTx(p), [{ type: 'write', generation: 1, bytes: encodeEnvelope({ correlationId: 1n, payload: PING }) }], 'written once connected');
  p.handleReceived(1, reply(1n), 15);
  t.same(drainEv(p), [{ type: 'connected', generation: 1 }, { type: 'reply', correlationId: 1n, payload: PONG, rttMs: 5 }]);
  t.equal(p.pendingCount, 0);
  t.equal(p.nextTimeout(), undefined, 'no timer left');
});

t.test('many in flight, replies in any order and split anyhow', async (t) => {
  const p = connected();
  const ids = Array.from({ length: 50 }, () => p.request(PING, 1));
  t.equal(drainTx(p).length, 50, 'all written at once');
  const stream = Buffer.concat([...ids].reverse().map((id) => reply(id)));
  for (let i = 0; i < stream.length; i += 5) p.handleReceived(1, stream.subarray(i, i + 5), 2);
  const evs = drainEv(p);
  t.same(evs.map((e) => (e.type === 'reply' ? e.correlationId : -1n)), [...ids].reverse(), 'each reply completes its own request');
});

t.test('timeout: Timeout error, and the late reply is stray', async (t) => {
  const p = connected();
  const id = p.request(PING, 100, 250);
  drainTx(p);
  t.equal(p.nextTimeout(), 350);
  p.handleTimeout(349);
  t.same(drainEv(p), [], 'not before its deadline');
  p.handleTimeout(350);
  const [ev] = drainEv(p);
  t.equal(ev?.type, 'failed');
  if (ev?.type === 'failed') {
    t.type(ev.error, TimeoutError);
    t.match(ev.error, { kind: 'Timeout', timeoutMs: 250, recoverable: true });
  }
  p.handleReceived(1, reply(id), 400);
  t.same(drainEv(p), [{ type: 'stray', correlationId: id, payload: PONG, late: true }]);
  p.handleReceived(1, reply(999n), 401);
  t.same(drainEv(p), [{ type: 'stray', correlationId: 999n, payload: PONG, late: false }], 'a reply never asked for is stray too');
});

t.test('connection loss, policy fail: written requests fail, unwritten ones wait, backoff then reconnect', async (t) => {
  const p = connected();
  const a = p.request(PING, 1, 10_000);
  drainTx(p);
  p.handleDisconnected(1, 5, { kind: 'eof' });
  const evs = drainEv(p);
  t.match(evs[0], { type: 'failed', correlationId: a });
  t.type((evs[0] as { error: unknown }).error, ConnectionLostError);
  t.match(evs[1], { type: 'disconnected', generation: 1, retryAt: 55 });
  t.equal(p.state, 'backoff');
  const b = p.request(PING, 6, 10_000);
  t.same(drainTx(p), [], 'no write while waiting out the backoff');
  t.equal(p.nextTimeout(), 55);
  p.handleTimeout(55);
  t.same(drainTx(p), [{ type: 'connect', generation: 2 }]);
  p.handleConnected(2, 56);
  t.same(drainTx(p), [{ type: 'write', generation: 2, bytes: encodeEnvelope({ correlationId: b, payload: PING }) }], 'the waiting request goes out');
});

t.test('connection loss, policy resend: the same ids are written again on the next connection', async (t) => {
  const p = connected({ onConnectionLoss: 'resend' });
  const ids = [p.request(PING, 1, 10_000), p.request(PING, 1, 10_000)];
  drainTx(p);
  p.handleDisconnected(1, 5, { kind: 'error', message: 'ECONNRESET' });
  const evs = drainEv(p);
  t.same(evs.map((e) => e.type), ['disconnected']);
  t.type((evs[0] as { error: unknown }).error, ReadError);
  p.handleTimeout(55);
  drainTx(p);
  p.handleConnected(2, 56);
  t.same(drainTx(p).map((x) => (x.type === 'write' ? x.bytes : undefined)), ids.map((id) => encodeEnvelope({ correlationId: id, payload: PING })));
  p.handleReceived(1, reply(ids[0]!), 57);
  t.same(drainEv(p).filter((e) => e.type !== 'connected'), [], 'bytes of the old connection are ignored');
  p.handleReceived(2, reply(ids[0]!), 58);
  t.match(drainEv(p), [{ type: 'reply', correlationId: ids[0], rttMs: 57 }], 'rtt counts from the request, across the reconnection');
});

t.test('backoff: 50 ms, ×1.2 per failure, capped at 500 ms; reset by a working connection (MOONPOOL-8.4)', async (t) => {
  const p = new TransportProtocol();
  p.request(PING, 0, 1e9);
  let now = 0;
  const gaps: number[] = [];
  for (let i = 0; i < 20; i++) {
    const [c] = drainTx(p);
    t.equal(c?.type, 'connect');
    p.handleConnectFailed(p.generation, now, 'ECONNREFUSED');
    const retry = p.nextTimeout()!;
    gaps.push(Math.round((retry - now) * 1000) / 1000);
    now = retry;
    p.handleTimeout(now);
  }
  const expected = [50, 60, 72, 86.4, 103.68, 124.416, 149.299, 179.159, 214.991, 257.989, 309.587, 371.504, 445.805, 500, 500];
  t.same(gaps.slice(0, expected.length), expected);
  // Connected but silent: not yet a working connection, the delay keeps growing.
  drainTx(p);
  p.handleConnected(p.generation, now);
  p.handleDisconnected(p.generation, now, { kind: 'eof' });
  t.equal(p.nextTimeout()! - now, 500);
  p.handleTimeout(p.nextTimeout()!);
  now = p.nextTimeout() ?? now;
  drainTx(p);
  p.handleConnected(p.generation, now);
  p.handleReceived(p.generation, reply(424242n), now);
  p.handleDisconnected(p.generation, now, { kind: 'eof' });
  t.equal(p.nextTimeout(), now + 50, 'a byte from the server resets the delay');
});

t.test('a malformed reply is a ParseError: close, pending fail, reconnect', async (t) => {
  const p = connected({ maxPayloadBytes: 64 });
  const id = p.request(PING, 1, 10_000);
  drainTx(p);
  p.handleReceived(1, encodeHeader(id, 65), 2);
  t.same(drainTx(p).map((x) => x.type), ['close']);
  const evs = drainEv(p);
  t.same(evs.map((e) => e.type), ['error', 'failed', 'disconnected']);
  t.type((evs[0] as { error: unknown }).error, ParseError);
  t.match((evs[0] as unknown as { error: ParseError }).error.envelopeError, { code: 'OVERSIZED', length: 65 });
  t.equal(p.state, 'backoff');
  // EOF inside a reply is a ParseError too; a reset is a ReadError.
  const q = connected();
  q.request(PING, 1, 10_000);
  drainTx(q);
  q.handleReceived(1, reply(1n).subarray(0, 7), 2);
  q.handleDisconnected(1, 3, { kind: 'eof' });
  t.match(drainEv(q).find((e) => e.type === 'failed'), { error: { kind: 'ParseError' } });
});

t.test('connect timeout', async (t) => {
  const p = new TransportProtocol({ connectTimeoutMs: 100 });
  p.request(PING, 0, 10_000);
  drainTx(p);
  t.equal(p.nextTimeout(), 100);
  p.handleTimeout(100);
  t.same(drainTx(p), [{ type: 'close', generation: 1, reason: 'connect timed out' }]);
  t.match(drainEv(p), [{ type: 'error', error: { kind: 'Timeout' } }]);
  p.handleConnected(1, 101);
  t.equal(p.state, 'backoff', 'a late connect of an abandoned attempt is ignored');
});

t.test('close, misuse and ids', async (t) => {
  const p = connected();
  const id = p.request(PING, 1);
  p.close(2);
  t.match(drainEv(p), [{ type: 'failed', correlationId: id }]);
  t.throws(() => p.request(PING, 3), ClientClosedError);
  t.same(drainTx(p).at(-1), { type: 'close', generation: 1, reason: 'client closed' });
  t.throws(() => connected({ maxPayloadBytes: 3 }).request(PING, 0), RangeError, 'payload over the limit');
  t.throws(() => connected().request(PING, 0, 0), RangeError, 'timeout must be positive');
  t.throws(() => new TransportProtocol({ backoff: { initialMs: 10, maxMs: 5, growth: 1.2 } }), RangeError);
  const w = connected({ firstCorrelationId: MAX_CORRELATION_ID });
  const first = w.request(PING, 0);
  const second = w.request(PING, 0);
  t.same([first, second], [MAX_CORRELATION_ID, 0n], 'ids wrap at 2^64');
  const s = connected({ firstCorrelationId: MAX_CORRELATION_ID - 1n });
  s.request(PING, 0);
  s.request(PING, 0);
  // wraps to 0, then 1 ...: outstanding ids are skipped
  const ids = [s.request(PING, 0), s.request(PING, 0)];
  t.same(ids, [0n, 1n]);
  t.ok(s.cancel(0n), 'cancel forgets a pending request');
  t.notOk(s.cancel(0n));
});
