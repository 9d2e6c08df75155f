/** Envelope serializer: tables of exact bytes, parsed whole, byte by byte and with trailing bytes; malformed data. */
import t from 'tap';
import {
  decodeEnvelope,
  encodeEnvelope,
  encodeEnvelopes,
  encodeHeader,
  FrameDecoder,
  HEADER_SIZE,
  isPing,
  MAX_CORRELATION_ID,
  OversizedEnvelopeError,
  PING,
  PONG,
  TrailingBytesError,
  TruncatedEnvelopeError,
  describePayload,
  type Envelope,
} from '../../suites/moonpool/codec.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const env = (id: bigint, payload: Uint8Array | string): Envelope => ({ correlationId: id, payload: typeof payload === 'string' ? new TextEncoder().encode(payload) : payload });

/** [envelope, exact wire bytes (id LE, len LE, payload)] */
const table: [string, Envelope, string][] = [
  ['PING #1', env(1n, PING), '0100000000000000 04000000 50494e47'],
  ['PONG #42', env(42n, PONG), '2a00000000000000 04000000 504f4e47'],
  ['empty payload #0', env(0n, new Uint8Array(0)), '0000000000000000 00000000'],
  ['max id', env(MAX_CORRELATION_ID, 'x'), 'ffffffffffffffff 01000000 78'],
  ['id 2^63 + 258', env(2n ** 63n + 258n, new Uint8Array([0, 0xff])), '0201000000000080 02000000 00ff'],
  ['id 0x0102030405060708', env(0x0102030405060708n, 'ab'), '0807060504030201 02000000 6162'],
  ['300-byte payload', env(7n, new Uint8Array(300).fill(0xaa)), `0700000000000000 2c010000 ${'aa'.repeat(300)}`],
];

t.test('envelopes: exact bytes, parsed whole, byte by byte and with trailing bytes', async (t) => {
  for (const [name, e, wire] of table) {
    const bytes = unhex(wire);
    t.equal(hex(encodeEnvelope(e)), hex(bytes), `${name}: encode`);
    t.same(decodeEnvelope(bytes), e, `${name}: decode whole`);
    const d = new FrameDecoder();
    const got: Envelope[] = [];
    for (const b of bytes) {
      const r = d.push(new Uint8Array([b]));
      t.notOk(r.error);
      got.push(...r.envelopes);
    }
    t.same(got, [e], `${name}: decode byte by byte`);
    t.equal(d.partial, 0, `${name}: nothing left`);
    t.equal(d.finish(), undefined, `${name}: a clean end`);
    // With trailing bytes: the strict decoder refuses, the stream decoder keeps them for the next envelope.
    const trailing = new Uint8Array([...bytes, 0x09, 0x00, 0x00]);
    t.throws(() => decodeEnvelope(trailing), TrailingBytesError, `${name}: strict decode refuses trailing bytes`);
    const d2 = new FrameDecoder();
    t.same(d2.push(trailing).envelopes, [e], `${name}: stream decode with trailing bytes`);
    t.equal(d2.partial, 3, `${name}: trailing bytes held`);
    t.equal(d2.need, HEADER_SIZE);
    t.same(d2.push(unhex('0000000000 00000000')).envelopes, [env(9n, new Uint8Array(0))], `${name}: trailing bytes complete the next envelope`);
  }
});

t.test('every split point of a coalesced stream gives the same envelopes', async (t) => {
  const envs = table.map(([, e]) => e);
  const stream = encodeEnvelopes(envs);
  t.equal(hex(stream), table.map(([, , w]) => w.replace(/\s+/g, '')).join(''), 'coalesced = concatenation');
  for (let cut = 0; cut <= stream.length; cut += 7) {
    const d = new FrameDecoder();
    const got = [...d.push(stream.subarray(0, cut)).envelopes, ...d.push(stream.subarray(cut)).envelopes];
    t.same(got, envs, `split at ${cut}`);
  }
});

t.test('malformed data: typed errors with the facts', async (t) => {
  const cases: [string, string, new (...a: never[]) => Error, Record<string, unknown>][] = [
    ['empty', '', TruncatedEnvelopeError, { have: 0, need: 12, code: 'TRUNCATED', rule: 'MOONPOOL-5.2' }],
    ['5 header bytes', '0100000000', TruncatedEnvelopeError, { have: 5, need: 12 }],
    ['11 header bytes', '0100000000000000040000', TruncatedEnvelopeError, { have: 11, need: 12 }],
    ['header, 2 of 4 payload bytes', '0100000000000000 04000000 5049', TruncatedEnvelopeError, { have: 14, need: 16 }],
    ['length over the maximum', '0500000000000000 01001000', OversizedEnvelopeError, { length: 0x100001, max: 0x100000, correlationId: 5n, code: 'OVERSIZED', rule: 'MOONPOOL-5.1' }],
    ['length 2^32 − 1', '0600000000000000 ffffffff', OversizedEnvelopeError, { length: 0xffffffff }],
    ['trailing byte', '0100000000000000 00000000 00', TrailingBytesError, { extra: 1, code: 'TRAILING_BYTES' }],
  ];
  for (const [name, wire, cls, fields] of cases) {
    let err: unknown;
    try {
      decodeEnvelope(unhex(wire));
    } catch (e) {
      err = e;
    }
    t.type(err, cls, `${name}: ${cls.name}`);
    t.match(err, fields, `${name}: fields`);
    t.match((err as Error).message, /^decode envelope: /, `${name}: the message says what was parsed`);
  }
  t.throws(() => decodeEnvelope(unhex('0100000000000000 05000000 0102030405'), 4), OversizedEnvelopeError, 'the limit is the caller\u2019s');
});

t.test('stream decoder: oversized length fails at once, without waiting for the payload', async (t) => {
  const d = new FrameDecoder(16);
  const r = d.push(new Uint8Array([...encodeEnvelope(env(1n, PING)), ...encodeHeader(2n, 17)]));
  t.same(r.envelopes, [env(1n, PING)], 'the envelope before it is delivered');
  t.type(r.error, OversizedEnvelopeError);
  t.match(r.error, { length: 17, max: 16, correlationId: 2n });
  t.same(d.push(encodeEnvelope(env(3n, PING))), { envelopes: [] }, 'nothing after the failure');
  t.equal(d.finish(), undefined, 'a failed stream reports no truncation too');
  t.ok(d.error);
});

t.test('stream decoder: EOF inside an envelope is a truncation', async (t) => {
  const d = new FrameDecoder();
  d.push(unhex('0100000000000000 0a000000 0102'));
  t.equal(d.partial, 14);
  t.equal(d.need, 22);
  t.match(d.finish(), { have: 14, need: 22, code: 'TRUNCATED' });
  const h = new FrameDecoder();
  h.push(unhex('01020304'));
  t.match(h.finish(), { have: 4, need: 12 });
});

t.test('a length field is never trusted for allocation', async (t) => {
  const d = new FrameDecoder(0xffff_ffff);
  const r = d.push(encodeHeader(1n, 0xffff_fffe));
  t.same(r, { envelopes: [] }, 'a 4 GiB length with no payload costs nothing');
  t.equal(d.partial, 12);
});

t.test('local misuse is a RangeError', async (t) => {
  t.throws(() => encodeHeader(-1n, 0), RangeError);
  t.throws(() => encodeHeader(2n ** 64n, 0), RangeError);
  t.throws(() => encodeHeader(1n, 2 ** 32), RangeError);
  t.throws(() => encodeHeader(1n, 1.5), RangeError);
  t.throws(() => encodeEnvelope(env(1n, new Uint8Array(5)), 4), RangeError, 'payload over the limit');
  t.throws(() => new FrameDecoder(-1), RangeError);
});

t.test('payload helpers', async (t) => {
  t.ok(isPing(PING));
  t.notOk(isPing(new TextEncoder().encode('ping')));
  t.notOk(isPing(new TextEncoder().encode('PINGPING')));
  t.equal(describePayload(PONG), '"PONG"');
  t.equal(describePayload(new Uint8Array(0)), '(empty)');
  t.equal(describePayload(new Uint8Array([0, 1])), '0x0001');
  t.match(describePayload(new Uint8Array(40).fill(0x41)), /… \(40 bytes\)$/);
});

t.test('explain: what client bytes mean to a server, from the one decoder (lying lengths, oversize, completion)', async (t) => {
  const ping = encodeEnvelope(env(7n, PING));
  const d = new FrameDecoder(64);
  t.same(d.clone().explain(ping).parts, ['PING #7'], 'a whole PING; clone() leaves the decoder as it was');
  t.equal(d.partial, 0);
  t.same(d.explain(ping.subarray(0, 5)).parts, ['header bytes 1–5 of 12']);
  const rest = d.explain(ping.subarray(5));
  t.same(rest.parts, ['header bytes 6–12 (completes it: #7 len 4)', 'payload bytes 1–4 of 4 (completes PING #7)']);
  t.same(rest.envelopes.map((e) => e.correlationId), [7n], 'the same envelopes as push()');
  // A length field that lies: it announces 10 bytes, 3 follow; the next header is read as payload.
  const liar = new Uint8Array([...encodeHeader(3n, 10), 0x41, 0x42, 0x43]);
  const l = new FrameDecoder(64);
  t.same(l.explain(liar).parts, ['header #3 len 10 + payload bytes 1–3 of 10']);
  t.equal(l.partial, HEADER_SIZE + 3);
  t.same(l.clone().explain(new Uint8Array(0)).parts, [], 'an empty write means nothing');
  t.same(l.explain(ping).parts, ['payload bytes 4–10 of 10 (completes #3 payload 0x41424307000000000000, not a ping)', 'header bytes 1–9 of 12'], 'the next header is eaten as payload');
  const over = new FrameDecoder(64);
  const r = over.explain(new Uint8Array([...encodeHeader(8n, 65), 1, 2]));
  t.same(r.parts, ['header (#8 len 65, over maxPayloadBytes 64: ParseError, MOONPOOL-5.1)', '2 bytes after it (never read: the server closes)']);
  t.type(r.error, OversizedEnvelopeError);
  t.same(over.explain(ping).parts, ['16 bytes after the oversized header (never read: the server closes)']);
  t.same(new FrameDecoder(64).explain(encodeEnvelope(env(9n, new Uint8Array(0)))).parts, ['#9 with an empty payload (MOONPOOL-2.3, not a ping)']);
  t.same(new FrameDecoder(64).explain(encodeEnvelope(env(9n, new Uint8Array(64).fill(0x41)))).parts, ['#9 payload "AAAAAAAAAAAAAAAA" (64 bytes, the maximum: MOONPOOL-2.4), not a ping']);
});
