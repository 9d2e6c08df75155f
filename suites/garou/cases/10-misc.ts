/** Cases of SPEC §9 (acks), §10 (uploads), §11 (datagrams), §12 (Ping/Pong), §13 (Goodbye), §14 (limits). */
import { encodeDatagram } from '../codec.js';
import { CLOSE_CODES } from '../frames.js';
import { closeWithin, defineCase, finish, frame, GClient, loginAll, slack, type GarouCase } from './_helpers.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

export const miscCases: readonly GarouCase[] = [
  defineCase({
    id: 'garou/acks/delivered-and-read',
    section: '9',
    rules: ['GAROU-9.1'],
    description: 'bob reports MessageDelivered and MessageRead for a message, and for a room he is not in.',
    requirement: 'Acks get no answer; an ack for a room the user is not in is ignored, not a violation.',
    expected: () => ['no answer, the connection stays'],
    deadlineMs: slack,
    async run(ctx) {
      const [a, b] = await loginAll(ctx, ['alice', 'bob']);
      const room = await a!.createRoom('acked', 'group', [b!.userId!]);
      await a!.cmd('SendMessage', { room_id: room, body: 'read me' });
      await b!.send('acks', frame('MessageDelivered', { room_id: room, seq: 1 }), frame('MessageRead', { room_id: room, seq: 1 }), frame('MessageRead', { room_id: 424_242, seq: 9 }));
      await a!.cmd('SendMessage', { room_id: room, body: 'still here' });
      await finish(ctx, [a!, b!]);
    },
  }),
  defineCase({
    id: 'garou/uploads/complete',
    section: '10',
    rules: ['GAROU-10.1', 'GAROU-10.2'],
    description: 'Uploads an 8-byte file in two chunks, then UploadComplete.',
    requirement: 'Each upload frame is answered in order: UploadAck received 0, 4, 8, then done.',
    expected: () => ['UploadAck 0, 4, 8, 8 done'],
    deadlineMs: slack,
    async run(ctx) {
      const a = await GClient.login(ctx, 'alice');
      const room = await a.createRoom('files', 'group');
      await a.send(
        'upload',
        frame('UploadStart', { upload_id: 'f1', room_id: room, name: 'f.bin', size: 8 }),
        frame('UploadChunk', { upload_id: 'f1', offset: 0, data: b64('abcd') }),
        frame('UploadChunk', { upload_id: 'f1', offset: 4, data: b64('efgh') }),
        frame('UploadComplete', { upload_id: 'f1' }),
      );
      await a.waitControl((f) => f.name === 'UploadAck' && (f.payload as { done: boolean }).done);
      await finish(ctx, [a]);
    },
  }),
  defineCase({
    id: 'garou/uploads/cancel-and-bad-offsets',
    section: '10',
    rules: ['GAROU-10.2'],
    description: 'Starts an upload, sends a chunk at a wrong offset, one past the size, completes early, cancels; then a chunk for the cancelled id; a guest starts an upload.',
    requirement: 'Wrong offsets and data past the size are BAD_REQUEST and change nothing; an early complete is BAD_REQUEST; cancel answers UploadAck done false; unknown ids are NOT_FOUND; UploadStart is judged like a post.',
    expected: () => ['UploadAck 0', 'Error 1', 'Error 1', 'Error 1', 'UploadAck done false', 'Error 2', 'Error 3 to the guest'],
    deadlineMs: (p) => 2 * slack(p),
    async run(ctx) {
      const [a, g] = await loginAll(ctx, ['alice', 'guest']);
      const room = await a!.createRoom('files', 'group', [g!.userId!]);
      await a!.send(
        'upload',
        frame('UploadStart', { upload_id: 'f2', room_id: room, name: 'g.bin', size: 4 }),
        frame('UploadChunk', { upload_id: 'f2', offset: 2, data: b64('ab') }),
        frame('UploadChunk', { upload_id: 'f2', offset: 0, data: b64('abcdef') }),
        frame('UploadComplete', { upload_id: 'f2' }),
        frame('UploadCancel', { upload_id: 'f2' }),
        frame('UploadChunk', { upload_id: 'f2', offset: 0, data: b64('ab') }),
      );
      await g!.send('upload', frame('UploadStart', { upload_id: 'g1', room_id: room, name: 'x', size: 1 }));
      await g!.waitControl((f) => f.name === 'Error');
      await finish(ctx, [a!, g!]);
    },
  }),
  defineCase({
    id: 'garou/datagrams/typing-and-presence',
    section: '11',
    rules: ['GAROU-11.1', 'GAROU-11.2', 'GAROU-11.3'],
    description: 'alice, bob and carol share a room, dave does not; alice sends Typing, StopTyping and PresenceAway datagrams, and a Typing in another\'s name.',
    requirement: 'Typing is relayed to the room\'s other members, presence to users sharing a room; never to the sender or to others; a datagram in another\'s name is dropped.',
    expected: () => ['bob and carol get each datagram (best effort)', 'alice and dave get none'],
    deadlineMs: (p) => 2 * slack(p),
    async run(ctx) {
      const [a, b, c, d] = await loginAll(ctx, ['alice', 'bob', 'carol', 'dave']);
      const room = await a!.createRoom('chatty', 'group', [b!.userId!, c!.userId!]);
      await d!.createRoom('alone', 'group');
      a!.conn.sendDatagram(encodeDatagram('Typing', { room_id: room, user_id: a!.userId! }));
      a!.conn.sendDatagram(encodeDatagram('StopTyping', { room_id: room, user_id: a!.userId! }));
      a!.conn.sendDatagram(encodeDatagram('PresenceAway', { user_id: a!.userId! }));
      a!.conn.sendDatagram(encodeDatagram('Typing', { room_id: room, user_id: b!.userId! }));
      await ctx.until(() => b!.conn.datagrams().length >= 3 && c!.conn.datagrams().length >= 3, a!.wait);
      await finish(ctx, [a!, b!, c!, d!]);
    },
  }),
  defineCase({
    id: 'garou/datagrams/malformed',
    section: '11',
    rules: ['GAROU-11.2'],
    description: 'Authenticates, sends a datagram whose length field lies.',
    requirement: 'A malformed datagram: close 0x1 (profile badDatagram close) or dropped (drop).',
    expected: (p) => [p.badDatagram === 'close' ? closeWithin(CLOSE_CODES.PROTOCOL_VIOLATION, p) : 'nothing'],
    deadlineMs: slack,
    async run(ctx) {
      const a = await GClient.login(ctx, 'alice');
      const d = encodeDatagram('PresenceOnline', { user_id: a.userId! });
      d[4] = (d[4]! + 3) & 0xff;
      a.conn.sendDatagram(d);
      await finish(ctx, [a]);
    },
  }),
  defineCase({
    id: 'garou/keepalive/ping-pong',
    section: '12',
    rules: ['GAROU-12.1'],
    description: 'Authenticates, sends Ping {nonce: 1} and Ping {nonce: 4294967295}.',
    requirement: 'The receiver answers Pong with the same nonce within replyDeadlineMs.',
    expected: () => ['Pong 1', 'Pong 4294967295'],
    deadlineMs: slack,
    async run(ctx) {
      const a = await GClient.login(ctx, 'alice');
      await a.write(frame('Ping', { nonce: 1 }), frame('Ping', { nonce: 4_294_967_295 }));
      await a.waitControl((f) => f.name === 'Pong' && (f.payload as { nonce: number }).nonce === 4_294_967_295);
      await finish(ctx, [a]);
    },
  }),
  defineCase({
    id: 'garou/goodbye/clean-close',
    section: '13',
    rules: ['GAROU-13.4'],
    description: 'Authenticates, sends a command and Goodbye {reason} right after it.',
    requirement: 'After Goodbye the server closes with 0x0 NO_ERROR within replyDeadlineMs.',
    expected: (p) => [closeWithin(CLOSE_CODES.NO_ERROR, p, 'Goodbye')],
    deadlineMs: slack,
    async run(ctx) {
      const a = await GClient.login(ctx, 'alice');
      await a.createRoom('bye', 'group');
      await a.write(frame('Goodbye', { reason: 'done' }));
      await a.waitClosed(a.wait);
      await finish(ctx, [a]);
    },
  }),
  defineCase({
    id: 'garou/limits/violation-isolated',
    section: '14',
    rules: ['GAROU-14.3', 'GAROU-7.2'],
    description: 'alice and bob share a room; bob breaks a rule (unknown stream type) and is closed; alice keeps posting.',
    requirement: 'One connection\'s violation does not affect another.',
    expected: (p) => [closeWithin(CLOSE_CODES.PROTOCOL_VIOLATION, p) + ' for bob', 'alice\'s commands answered'],
    deadlineMs: (p) => 2 * slack(p),
    async run(ctx) {
      const [a, b] = await loginAll(ctx, ['alice', 'bob']);
      const room = await a!.createRoom('iso', 'group', [b!.userId!]);
      const s = b!.conn.openStream('uni');
      await s.write(Uint8Array.of(0x09)).catch(() => undefined);
      await b!.waitClosed(b!.wait);
      await a!.cmd('SendMessage', { room_id: room, body: 'still fine' });
      await finish(ctx, [a!, b!]);
    },
  }),
  defineCase({
    id: 'garou/limits/many-connections',
    section: '14',
    rules: ['GAROU-14.2', 'GAROU-7.2', 'GAROU-1.2'],
    description: 'Twenty users connect and join one room; the first posts a message.',
    requirement: 'A server serves many connections at once; the message reaches all twenty members.',
    expected: () => ['RoomUserJoined events and the RoomMessage to every member'],
    // Forty exchanges one after the other: generous on a loaded machine (the monitor judges each deadline).
    deadlineMs: (p) => 6 * slack(p) + 40 * 2 * p.replyDeadlineMs,
    async run(ctx) {
      const n = 20;
      const users: GClient[] = [];
      for (let i = 0; i < n; i++) users.push(await GClient.login(ctx, `u${i}`));
      const room = await users[0]!.createRoom('crowd', 'group');
      for (const u of users.slice(1)) await u.cmd('JoinRoom', { room_id: room });
      await users[0]!.cmd('SendMessage', { room_id: room, body: 'hello, crowd' });
      for (const u of users) await u.waitSeq(room, n);
      await finish(ctx, users);
    },
  }),
];
