/** Cases of SPEC §4 (handshake) and §2 frames on the control stream. */
import { CLOSE_CODES } from '../frames.js';
import { closeWithin, defineCase, finish, frame, GClient, raw, slack, type GarouCase } from './_helpers.js';

export const handshakeCases: readonly GarouCase[] = [
  defineCase({
    id: 'garou/handshake/valid',
    section: '4',
    rules: ['GAROU-4.1', 'GAROU-4.6', 'GAROU-3.5'],
    description: 'Sends Hello, waits for HelloAck, then Auth.',
    requirement: 'The server answers HelloAck, then AuthOk, ShardAssignment {num_shards} and one shard stream per shard.',
    expected: (p) => ['HelloAck version 1', 'AuthOk', `ShardAssignment {num_shards: ${p.numShards}}`, `${p.numShards} shard streams`],
    deadlineMs: slack,
    async run(ctx) {
      const c = await GClient.open(ctx, 'alice');
      await c.write(frame('Hello', { version: ctx.profile.protocolVersion, client: 'wirecheck' }));
      await c.waitControl((f) => f.name === 'HelloAck');
      await c.write(frame('Auth', { username: 'alice' }));
      await c.waitControl((f) => f.name === 'ShardAssignment');
      await finish(ctx, [c]);
    },
  }),
  defineCase({
    id: 'garou/handshake/pipelined',
    section: '4',
    rules: ['GAROU-4.3', 'GAROU-2.1'],
    description: 'Sends Hello and Auth in one write, byte by byte split across writes.',
    requirement: 'The client MAY send Auth right after Hello; a receiver reassembles a frame split at any byte.',
    expected: () => ['HelloAck, AuthOk, ShardAssignment'],
    deadlineMs: slack,
    async run(ctx) {
      const c = await GClient.open(ctx, 'bob');
      const bytes = Buffer.concat([frame('Hello', { version: 1, client: 'wirecheck' }), frame('Auth', { username: 'bob', token: 't' })]);
      for (let i = 0; i < bytes.length; i += 7) await c.write(bytes.subarray(i, i + 7));
      await c.waitControl((f) => f.name === 'ShardAssignment');
      await finish(ctx, [c]);
    },
  }),
  defineCase({
    id: 'garou/handshake/wrong-version',
    section: '4',
    rules: ['GAROU-4.2'],
    description: 'Sends Hello {version: 99}.',
    requirement: 'An unsupported version: the server closes with 0x1 (profile versionMismatch close) or answers HelloAck with its own version.',
    expected: (p) => [p.versionMismatch === 'close' ? closeWithin(CLOSE_CODES.PROTOCOL_VIOLATION, p) : 'HelloAck {version: 1}'],
    deadlineMs: slack,
    async run(ctx) {
      const c = await GClient.open(ctx, 'carol');
      await c.write(frame('Hello', { version: 99, client: 'wirecheck' }));
      await finish(ctx, [c]);
    },
  }),
  defineCase({
    id: 'garou/handshake/frame-before-auth',
    section: '4',
    rules: ['GAROU-4.3'],
    description: 'Sends Hello, then Goodbye before Auth.',
    requirement: 'Any frame other than Hello, Auth, Ping and Pong before AuthOk is a violation: close 0x1.',
    expected: (p) => [closeWithin(CLOSE_CODES.PROTOCOL_VIOLATION, p)],
    deadlineMs: slack,
    async run(ctx) {
      const c = await GClient.open(ctx, 'dave');
      await c.write(frame('Hello', { version: 1, client: 'wirecheck' }), frame('Goodbye', { reason: 'too early' }));
      await finish(ctx, [c]);
    },
  }),
  defineCase({
    id: 'garou/handshake/auth-before-hello',
    section: '4',
    rules: ['GAROU-4.3'],
    description: 'Sends Auth as the first frame.',
    requirement: 'Hello MUST be the client\'s first frame: close 0x1.',
    expected: (p) => [closeWithin(CLOSE_CODES.PROTOCOL_VIOLATION, p)],
    deadlineMs: slack,
    async run(ctx) {
      const c = await GClient.open(ctx, 'erin');
      await c.write(frame('Auth', { username: 'erin' }));
      await finish(ctx, [c]);
    },
  }),
  defineCase({
    id: 'garou/handshake/empty-username',
    section: '4',
    rules: ['GAROU-4.4'],
    description: 'Sends Hello, then Auth {username: ""}.',
    requirement: 'An empty username fails with AuthFailed, then close 0x2 AUTH_FAILED.',
    expected: (p) => ['AuthFailed', closeWithin(CLOSE_CODES.AUTH_FAILED, p, 'Auth')],
    deadlineMs: slack,
    async run(ctx) {
      const c = await GClient.open(ctx, 'frank');
      await c.write(frame('Hello', { version: 1, client: 'wirecheck' }), frame('Auth', { username: '' }));
      await finish(ctx, [c]);
    },
  }),
  defineCase({
    id: 'garou/handshake/timeout',
    section: '4',
    rules: ['GAROU-4.5'],
    description: 'Sends Hello and never Auth.',
    requirement: 'No AuthOk within handshakeTimeoutMs: the server closes with 0x3 HANDSHAKE_TIMEOUT, not earlier than handshakeTimeoutMs − toleranceMs.',
    expected: (p) => [`close 0x3 after ${p.handshakeTimeoutMs} ms (± ${p.toleranceMs} ms)`],
    deadlineMs: (p) => p.handshakeTimeoutMs + slack(p),
    async run(ctx) {
      const c = await GClient.open(ctx, 'gina');
      await c.write(frame('Hello', { version: 1, client: 'wirecheck' }));
      await c.waitClosed(ctx.profile.handshakeTimeoutMs + 2 * ctx.profile.toleranceMs + 200);
      await finish(ctx, [c]);
    },
  }),
  defineCase({
    id: 'garou/handshake/ping-before-auth',
    section: '12',
    rules: ['GAROU-12.1', 'GAROU-4.3'],
    description: 'Sends Hello and Ping {nonce: 7} before Auth, then Auth.',
    requirement: 'Ping is allowed after Hello; the receiver answers Pong with the same nonce.',
    expected: () => ['Pong {nonce: 7}', 'AuthOk'],
    deadlineMs: slack,
    async run(ctx) {
      const c = await GClient.open(ctx, 'hank');
      await c.write(frame('Hello', { version: 1, client: 'wirecheck' }), frame('Ping', { nonce: 7 }), frame('Auth', { username: 'hank' }));
      await c.waitControl((f) => f.name === 'ShardAssignment');
      await finish(ctx, [c]);
    },
  }),
  defineCase({
    id: 'garou/frames/unknown-type',
    section: '2',
    rules: ['GAROU-2.2'],
    description: 'Sends Hello, then a frame of undefined type 0x0A on the control stream.',
    requirement: 'A type code the table does not define is a violation: close 0x1.',
    expected: (p) => [closeWithin(CLOSE_CODES.PROTOCOL_VIOLATION, p)],
    deadlineMs: slack,
    async run(ctx) {
      const c = await GClient.open(ctx, 'ivan');
      await c.write(frame('Hello', { version: 1, client: 'wirecheck' }), raw(0x0a, '{}'));
      await finish(ctx, [c]);
    },
  }),
  defineCase({
    id: 'garou/frames/too-large',
    section: '2',
    rules: ['GAROU-2.3'],
    description: 'Sends a Hello frame header announcing maxFrameBytes + 1 payload bytes, and no payload.',
    requirement: 'A length over maxFrameBytes is a violation detected at the header: close 0x4 FRAME_TOO_LARGE.',
    expected: (p) => [closeWithin(CLOSE_CODES.FRAME_TOO_LARGE, p)],
    deadlineMs: slack,
    async run(ctx) {
      const c = await GClient.open(ctx, 'judy');
      const h = Buffer.alloc(5);
      h[0] = 0x00;
      h.writeUInt32BE(ctx.profile.maxFrameBytes + 1, 1);
      await c.write(h);
      await finish(ctx, [c]);
    },
  }),
  defineCase({
    id: 'garou/frames/bad-json',
    section: '2',
    rules: ['GAROU-2.4'],
    description: 'Sends a Hello whose payload is `{"version":` (not JSON).',
    requirement: 'A payload that does not parse is a violation: close 0x1.',
    expected: (p) => [closeWithin(CLOSE_CODES.PROTOCOL_VIOLATION, p)],
    deadlineMs: slack,
    async run(ctx) {
      const c = await GClient.open(ctx, 'kim');
      await c.write(raw(0x00, '{"version":'));
      await finish(ctx, [c]);
    },
  }),
  defineCase({
    id: 'garou/frames/invalid-utf8',
    section: '2',
    rules: ['GAROU-2.4'],
    description: 'Sends a Hello whose payload holds the byte 0xFF (not UTF-8).',
    requirement: 'A payload that is not valid UTF-8 is a violation: close 0x1.',
    expected: (p) => [closeWithin(CLOSE_CODES.PROTOCOL_VIOLATION, p)],
    deadlineMs: slack,
    async run(ctx) {
      const c = await GClient.open(ctx, 'lee');
      await c.write(raw(0x00, Uint8Array.from([0x7b, 0xff, 0x7d])));
      await finish(ctx, [c]);
    },
  }),
  defineCase({
    id: 'garou/frames/schema-break-handshake',
    section: '2',
    rules: ['GAROU-2.5'],
    description: 'Sends Hello {version: "1"} (a string where an integer is required).',
    requirement: 'A payload that breaks its schema and carries no cmd_id is a violation: close 0x1.',
    expected: (p) => [closeWithin(CLOSE_CODES.PROTOCOL_VIOLATION, p)],
    deadlineMs: slack,
    async run(ctx) {
      const c = await GClient.open(ctx, 'max');
      await c.write(raw(0x00, '{"version":"1","client":"x"}'));
      await finish(ctx, [c]);
    },
  }),
  defineCase({
    id: 'garou/frames/truncated-then-fin',
    section: '2',
    rules: ['GAROU-2.7', 'GAROU-3.7'],
    description: 'Authenticates, writes 3 bytes of a SendMessage frame header on the chat-commands stream, then FIN.',
    requirement: 'A stream that ends inside a frame carried a truncated frame: close 0x1.',
    expected: (p) => [closeWithin(CLOSE_CODES.PROTOCOL_VIOLATION, p, 'the FIN')],
    deadlineMs: slack,
    async run(ctx) {
      const c = await GClient.login(ctx, 'nina');
      const s = await c.stream('commands');
      await s.write(Uint8Array.from([0x10, 0, 0]));
      await s.end();
      await finish(ctx, [c]);
    },
  }),
];
