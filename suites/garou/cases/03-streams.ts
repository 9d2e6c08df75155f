/** Cases of SPEC §3 (streams). */
import { CLOSE_CODES } from '../frames.js';
import { closeWithin, defineCase, finish, frame, GClient, guard, slack, type GarouCase } from './_helpers.js';

export const streamCases: readonly GarouCase[] = [
  defineCase({
    id: 'garou/streams/each-client-type',
    section: '3',
    rules: ['GAROU-3.2', 'GAROU-3.4', 'GAROU-9.1', 'GAROU-10.1'],
    description: 'Authenticates, opens the chat-commands, acks and bulk-upload streams, one frame on each.',
    requirement: 'Each client stream type is accepted once after AuthOk; commands and upload frames are answered, acks are not.',
    expected: () => ['MessageAck for CreateRoom', 'nothing for MessageRead', 'UploadAck for UploadStart'],
    deadlineMs: slack,
    async run(ctx) {
      const c = await GClient.login(ctx, 'alice');
      const room = await c.createRoom('streams', 'group');
      await c.cmd('SendMessage', { room_id: room, body: 'read me' });
      await c.send('acks', frame('MessageRead', { room_id: room, seq: 1 }));
      await c.send('upload', frame('UploadStart', { upload_id: 'u1', room_id: room, name: 'a.txt', size: 3 }));
      await c.waitControl((f) => f.name === 'UploadAck');
      await finish(ctx, [c]);
    },
  }),
  defineCase({
    id: 'garou/streams/duplicate-commands',
    section: '3',
    rules: ['GAROU-3.4'],
    description: 'Authenticates, opens a chat-commands stream, then a second one.',
    requirement: 'A second stream of a client type is a violation: close 0x1.',
    expected: (p) => [closeWithin(CLOSE_CODES.PROTOCOL_VIOLATION, p)],
    deadlineMs: slack,
    async run(ctx) {
      const c = await GClient.login(ctx, 'bob');
      await c.createRoom('dup', 'group');
      const s = c.conn.openStream('uni');
      await guard(c.conn, s.write(Uint8Array.of(0x01)));
      await finish(ctx, [c]);
    },
  }),
  defineCase({
    id: 'garou/streams/before-auth',
    section: '3',
    rules: ['GAROU-3.4'],
    description: 'Sends Hello, then opens a chat-commands stream before Auth.',
    requirement: 'A client unidirectional stream before AuthOk is a violation: close 0x1.',
    expected: (p) => [closeWithin(CLOSE_CODES.PROTOCOL_VIOLATION, p)],
    deadlineMs: slack,
    async run(ctx) {
      const c = await GClient.open(ctx, 'carol');
      await c.write(frame('Hello', { version: 1, client: 'wirecheck' }));
      await c.waitControl((f) => f.name === 'HelloAck');
      const s = c.conn.openStream('uni');
      await guard(c.conn, s.write(Uint8Array.of(0x01)));
      await finish(ctx, [c]);
    },
  }),
  ...[
    { name: 'unknown-type-byte', byte: 0x07, what: 'an unknown stream-type byte 0x07' },
    { name: 'server-type-byte', byte: 0x10, what: 'the server stream-type byte 0x10 (shard)' },
  ].map(({ name, byte, what }) =>
    defineCase({
      id: `garou/streams/${name}`,
      section: '3',
      rules: ['GAROU-3.3'],
      description: `Authenticates, opens a unidirectional stream starting with ${what}.`,
      requirement: 'A stream-type byte not in the table, or of the other direction, is a violation: close 0x1.',
      expected: (p) => [closeWithin(CLOSE_CODES.PROTOCOL_VIOLATION, p)],
      deadlineMs: slack,
      async run(ctx) {
        const c = await GClient.login(ctx, `s${byte}`);
        const s = c.conn.openStream('uni');
        await guard(c.conn, s.write(Uint8Array.of(byte, 0)));
        await finish(ctx, [c]);
      },
    }),
  ),
  defineCase({
    id: 'garou/streams/frame-on-wrong-stream',
    section: '3',
    rules: ['GAROU-3.3'],
    description: 'Authenticates, sends a SendMessage frame on the acks stream.',
    requirement: 'A frame type the stream may not carry is a violation: close 0x1.',
    expected: (p) => [closeWithin(CLOSE_CODES.PROTOCOL_VIOLATION, p)],
    deadlineMs: slack,
    async run(ctx) {
      const c = await GClient.login(ctx, 'dave');
      await c.send('acks', frame('SendMessage', { cmd_id: 1, room_id: 1, body: 'x' }));
      await finish(ctx, [c]);
    },
  }),
  defineCase({
    id: 'garou/streams/command-on-control',
    section: '3',
    rules: ['GAROU-3.3'],
    description: 'Authenticates, sends a CreateRoom frame on the control stream.',
    requirement: 'A frame type the control stream may not carry is a violation: close 0x1.',
    expected: (p) => [closeWithin(CLOSE_CODES.PROTOCOL_VIOLATION, p)],
    deadlineMs: slack,
    async run(ctx) {
      const c = await GClient.login(ctx, 'erin');
      await c.write(frame('CreateRoom', { cmd_id: 1, name: 'x', room_type: 'group' }));
      await finish(ctx, [c]);
    },
  }),
  defineCase({
    id: 'garou/streams/second-bidi',
    section: '3',
    rules: ['GAROU-3.1'],
    description: 'Authenticates, opens a second bidirectional stream and writes a Ping on it.',
    requirement: 'No bidirectional stream other than the control stream: close 0x1.',
    expected: (p) => [closeWithin(CLOSE_CODES.PROTOCOL_VIOLATION, p)],
    deadlineMs: slack,
    async run(ctx) {
      const c = await GClient.login(ctx, 'frank');
      const s = c.conn.openStream('bidi');
      await guard(c.conn, s.write(frame('Ping', { nonce: 1 })));
      await finish(ctx, [c]);
    },
  }),
  defineCase({
    id: 'garou/streams/control-fin',
    section: '3',
    rules: ['GAROU-3.7', 'GAROU-13.4'],
    description: 'Authenticates, then ends the control stream (FIN).',
    requirement: 'A client FIN on the control stream means Goodbye: the server closes with 0x0.',
    expected: (p) => [closeWithin(CLOSE_CODES.NO_ERROR, p, 'the FIN')],
    deadlineMs: slack,
    async run(ctx) {
      const c = await GClient.login(ctx, 'gina');
      await guard(c.conn, c.control.end());
      await finish(ctx, [c]);
    },
  }),
];
