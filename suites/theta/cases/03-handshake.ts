/** SPEC §3 Handshake: the SessionHello, each validation failure and its code, the timeout, order. */
import { CloseCode, encodeFrame } from '../codec.js';
import type { SessionHelloMsg } from '../messages.js';
import { KEY_BYTES, NONCE_BYTES } from '../model.js';
import type { ThetaProfile } from '../profile.js';
import { closeWithin, defineCase, pattern, Session, slack, validHello, type ThetaCase } from './_helpers.js';

/** A SessionHello case: sends `edit(valid hello)` and lets the monitor judge the answer (ack or close). */
function helloCase(o: {
  readonly name: string;
  readonly rules: readonly string[];
  readonly description: string;
  readonly requirement: string;
  readonly expected: (p: ThetaProfile) => string;
  readonly edit: (h: SessionHelloMsg, p: ThetaProfile) => SessionHelloMsg;
}): ThetaCase {
  return defineCase({
    id: `theta/handshake/${o.name}`,
    section: '3',
    rules: o.rules,
    description: o.description,
    requirement: o.requirement,
    expected: (p) => [o.expected(p)],
    deadlineMs: (p) => 2 * slack(p),
    async run(ctx) {
      const s = await Session.open(ctx);
      await s.send(o.edit(validHello(ctx.profile), ctx.profile));
      await s.until((x) => x.ack !== undefined, slack(ctx.profile));
      await ctx.settle(slack(ctx.profile));
    },
  });
}

const VERSION = 'protocol_version MUST equal the server\u2019s, else close 0x1 VERSION_MISMATCH.';
const HASH = 'schema_hash MUST equal SipHash-2-4 (key: 16 zero bytes) of the UTF-8 component manifest, else close 0x2 SCHEMA_MISMATCH.';
const KEY = 'public_key MUST be 32 bytes (Ed25519), else close 0x3 BAD_KEY.';
const NONCE = 'client_nonce: under nonceRule exactly-24 a nonce of another length is closed with 0x4 BAD_NONCE; under non-empty only an empty nonce is.';
const nonceExpect = (n: number) => (p: ThetaProfile) =>
  (p.nonceRule === 'exactly-24' ? n !== NONCE_BYTES : n === 0) ? closeWithin(CloseCode.BAD_NONCE, p, 'the SessionHello') : `SessionAcknowledge within ${p.answerDeadlineMs} ms (nonceRule ${p.nonceRule})`;

const validationCases: ThetaCase[] = [
  helloCase({
    name: 'accepted', rules: ['THETA-3.1', 'THETA-4.1', 'THETA-4.2', 'THETA-4.3', 'THETA-4.4', 'THETA-4.5', 'THETA-4.6'],
    description: 'Sends a valid SessionHello (the profile\u2019s version and manifest hash, a 24-byte nonce, a fresh Ed25519 key, the server\u2019s capabilities).',
    requirement: 'The first control frame is the client\u2019s SessionHello; the server answers SessionAcknowledge: version and hash echoed, a fresh 24-byte nonce, a session id, the role, the capability intersection ascending, a 32-byte Ed25519 key.',
    expected: (p) => `SessionAcknowledge within ${p.answerDeadlineMs} ms, every field as THETA-4 says`,
    edit: (h) => h,
  }),
  helloCase({ name: 'version-plus-one', rules: ['THETA-3.2', 'THETA-3.9'], description: 'Sends a SessionHello whose protocol_version is the server\u2019s + 1.', requirement: VERSION, expected: (p) => closeWithin(CloseCode.VERSION_MISMATCH, p, 'the SessionHello'), edit: (h, p) => ({ ...h, protocolVersion: (p.protocolVersion + 1) & 0xffff }) }),
  helloCase({ name: 'version-minus-one', rules: ['THETA-3.2', 'THETA-3.9'], description: 'Sends a SessionHello whose protocol_version is the server\u2019s − 1.', requirement: VERSION, expected: (p) => closeWithin(CloseCode.VERSION_MISMATCH, p, 'the SessionHello'), edit: (h, p) => ({ ...h, protocolVersion: (p.protocolVersion + 0xffff) & 0xffff }) }),
  helloCase({ name: 'hash-one-bit-off', rules: ['THETA-3.3', 'THETA-3.9'], description: 'Sends a SessionHello whose schema_hash differs from the manifest\u2019s in its lowest bit.', requirement: HASH, expected: (p) => closeWithin(CloseCode.SCHEMA_MISMATCH, p, 'the SessionHello'), edit: (h) => ({ ...h, schemaHash: h.schemaHash ^ 1n }) }),
  helloCase({ name: 'hash-top-bit-off', rules: ['THETA-3.3', 'THETA-3.9'], description: 'Sends a SessionHello whose schema_hash differs from the manifest\u2019s in bit 63.', requirement: HASH, expected: (p) => closeWithin(CloseCode.SCHEMA_MISMATCH, p, 'the SessionHello'), edit: (h) => ({ ...h, schemaHash: h.schemaHash ^ (1n << 63n) }) }),
  ...[0, KEY_BYTES - 1, KEY_BYTES + 1].map((n) =>
    helloCase({ name: `key-${n}-bytes`, rules: ['THETA-3.4', 'THETA-3.9'], description: `Sends a SessionHello with a public key of ${n} bytes.`, requirement: KEY, expected: (p) => closeWithin(CloseCode.BAD_KEY, p, 'the SessionHello'), edit: (h) => ({ ...h, publicKey: pattern(n, 3) }) }),
  ),
  ...[0, NONCE_BYTES - 1, NONCE_BYTES + 1].map((n) =>
    helloCase({ name: `nonce-${n}-bytes`, rules: ['THETA-3.5', 'THETA-3.9'], description: `Sends a SessionHello with a client nonce of ${n} bytes.`, requirement: NONCE, expected: nonceExpect(n), edit: (h) => ({ ...h, clientNonce: pattern(n, 5) }) }),
  ),
  helloCase({
    name: 'several-failures', rules: ['THETA-3.6', 'THETA-3.9'],
    description: 'Sends a SessionHello with a wrong version, a wrong hash, a 31-byte key and an empty nonce.',
    requirement: 'When a SessionHello breaks several of 3.2–3.5, the server MUST close with the code of one of the rules it breaks.',
    expected: (p) => `connection closed with 0x1, 0x2, 0x3 or 0x4 within ${p.answerDeadlineMs} ms`,
    edit: (h, p) => ({ ...h, protocolVersion: (p.protocolVersion + 1) & 0xffff, schemaHash: h.schemaHash ^ 2n, publicKey: pattern(KEY_BYTES - 1), clientNonce: new Uint8Array(0) }),
  }),
  helloCase({
    name: 'no-capabilities-no-token', rules: ['THETA-3.1', 'THETA-4.5'],
    description: 'Sends a valid SessionHello without capabilities and without an auth token.',
    requirement: 'capabilities and auth_token are optional fields; the acknowledgement carries the (empty) intersection.',
    expected: (p) => `SessionAcknowledge with capabilities [] within ${p.answerDeadlineMs} ms`,
    edit: (h) => ({ ...h, capabilities: [], authToken: '' }),
  }),
];

const BEFORE = 'Nothing but the SessionHello may come before the handshake ends, on any stream: a control message of another type, or any replication/assets byte, is a violation (close 0x5).';

export const handshakeCases: ThetaCase[] = [
  ...validationCases,
  ...(['replication', 'assets'] as const).map((stream) =>
    defineCase({
      id: `theta/handshake/${stream}-before-hello`,
      section: '3',
      rules: ['THETA-3.8', 'THETA-8.3'],
      description: `Before any SessionHello, writes one frame on the ${stream} stream.`,
      requirement: BEFORE,
      expected: (p) => [closeWithin(CloseCode.PROTOCOL_VIOLATION, p, `the ${stream} frame`)],
      deadlineMs: (p) => 2 * slack(p),
      async run(ctx) {
        const s = await Session.open(ctx);
        await s[stream].write(encodeFrame(pattern(16)));
        await ctx.settle(slack(ctx.profile));
      },
    }),
  ),
  defineCase({
    id: 'theta/handshake/heartbeat-before-hello',
    section: '3',
    rules: ['THETA-3.8', 'THETA-8.3'],
    description: 'Sends a Heartbeat as the first control frame.',
    requirement: BEFORE,
    expected: (p) => [closeWithin(CloseCode.PROTOCOL_VIOLATION, p, 'the Heartbeat')],
    deadlineMs: (p) => 2 * slack(p),
    async run(ctx) {
      const s = await Session.open(ctx);
      await s.send(s.heartbeat());
      await ctx.settle(slack(ctx.profile));
    },
  }),
  defineCase({
    id: 'theta/handshake/timeout',
    section: '3',
    rules: ['THETA-3.7'],
    description: 'Connects and sends nothing.',
    requirement: 'No SessionHello within the handshake timeout MUST be closed with 0x7 HANDSHAKE_TIMEOUT, not before the timeout.',
    expected: (p) => [`connection closed with 0x7 HANDSHAKE_TIMEOUT ${p.handshakeTimeoutMs} ms (± ${p.toleranceMs} ms) after the QUIC handshake`],
    deadlineMs: (p) => p.handshakeTimeoutMs + 2 * slack(p),
    async run(ctx) {
      const s = await Session.open(ctx);
      await s.closed(ctx.profile.handshakeTimeoutMs + slack(ctx.profile));
      await ctx.settle(slack(ctx.profile));
    },
  }),
  defineCase({
    id: 'theta/handshake/second-hello',
    section: '3',
    rules: ['THETA-3.10'],
    description: 'After the handshake, sends a second valid SessionHello.',
    requirement: 'A second SessionHello after the handshake: profile secondHello: violation (close 0x5) or ignored (no answer, the session goes on).',
    expected: (p) => [p.secondHello === 'violation' ? closeWithin(CloseCode.PROTOCOL_VIOLATION, p, 'the second SessionHello') : 'no answer; heartbeats go on'],
    deadlineMs: (p) => 3 * slack(p) + 3 * p.heartbeatIntervalMs,
    async run(ctx) {
      const s = await Session.open(ctx);
      if (!(await s.handshake())) return;
      await s.send(validHello(ctx.profile));
      await s.closed(slack(ctx.profile));
      if (!s.conn.isClosed) await ctx.sleep(3 * ctx.profile.heartbeatIntervalMs);
      await ctx.settle(slack(ctx.profile));
    },
  }),
];
