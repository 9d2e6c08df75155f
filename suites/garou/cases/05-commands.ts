/** Cases of SPEC §5 (commands and answers) and §6 (rooms, roles and permissions). */
import { defineCase, finish, frame, GClient, loginAll, slack, type GarouCase } from './_helpers.js';

export const commandCases: readonly GarouCase[] = [
  defineCase({
    id: 'garou/commands/every-command',
    section: '5',
    rules: ['GAROU-5.1', 'GAROU-5.2', 'GAROU-5.3', 'GAROU-7.1', 'GAROU-7.2'],
    description: 'Three users: alice creates a group with bob and carol; alice sends, edits, reacts, unreacts, deletes; carol leaves; bob joins back nothing.',
    requirement: 'Every command is answered once, in order, with MessageAck (room_id, message_id, seq); each room event reaches every member.',
    expected: () => ['MessageAck for each command', 'RoomInit, then each room event to alice, bob and carol'],
    deadlineMs: (p) => 3 * slack(p),
    async run(ctx) {
      const [a, b, c] = await loginAll(ctx, ['alice', 'bob', 'carol']);
      const room = await a!.createRoom('team', 'group', [b!.userId!, c!.userId!]);
      const sent = await a!.cmd('SendMessage', { room_id: room, body: 'hello' });
      const mid = sent?.name === 'MessageAck' ? (sent.payload.message_id ?? '') : '';
      await a!.cmd('EditMessage', { room_id: room, message_id: mid, body: 'hello, all' });
      await b!.cmd('AddReaction', { room_id: room, message_id: mid, emoji: '👍' });
      await b!.cmd('RemoveReaction', { room_id: room, message_id: mid, emoji: '👍' });
      await a!.cmd('DeleteMessage', { room_id: room, message_id: mid });
      await c!.cmd('LeaveRoom', { room_id: room });
      await c!.cmd('JoinRoom', { room_id: room });
      await finish(ctx, [a!, b!, c!]);
    },
  }),
  defineCase({
    id: 'garou/commands/pipelined-in-order',
    section: '5',
    rules: ['GAROU-5.2'],
    description: 'Sends CreateRoom, then three SendMessage and a refused JoinRoom in one write.',
    requirement: 'Commands are answered on the control stream in the order they were sent.',
    expected: () => ['answers in cmd_id order: MessageAck ×4, Error'],
    deadlineMs: slack,
    async run(ctx) {
      const a = await GClient.login(ctx, 'dave');
      const room = await a.createRoom('pipe', 'group');
      const ids = [a.cmdId(), a.cmdId(), a.cmdId(), a.cmdId()];
      await a.send(
        'commands',
        frame('SendMessage', { cmd_id: ids[0]!, room_id: room, body: 'one' }),
        frame('SendMessage', { cmd_id: ids[1]!, room_id: room, body: 'two' }),
        frame('JoinRoom', { cmd_id: ids[2]!, room_id: room }),
        frame('SendMessage', { cmd_id: ids[3]!, room_id: room, body: 'three' }),
      );
      await a.answer(ids[3]!);
      await finish(ctx, [a]);
    },
  }),
  defineCase({
    id: 'garou/commands/refusals',
    section: '5',
    rules: ['GAROU-5.5', 'GAROU-6.5'],
    description: 'Sends commands each refused: empty body, no such room, not a member, no such message, the same reaction twice, joining a room already joined.',
    requirement: 'A refused command changes nothing; its Error code is the first that applies: BAD_REQUEST, NOT_FOUND (room), NOT_A_MEMBER, NOT_FOUND (message).',
    expected: () => ['Error 1, 2, 4, 2, 1, 1; the connection stays'],
    deadlineMs: (p) => 2 * slack(p),
    async run(ctx) {
      const [a, b] = await loginAll(ctx, ['erin', 'frank']);
      const room = await a!.createRoom('refuse', 'group');
      await a!.cmd('SendMessage', { room_id: room, body: '' });
      await a!.cmd('SendMessage', { room_id: 999_999, body: 'x' });
      await b!.cmd('SendMessage', { room_id: room, body: 'x' });
      await a!.cmd('EditMessage', { room_id: room, message_id: 'nope', body: 'x' });
      const m = await a!.cmd('SendMessage', { room_id: room, body: 'ok' });
      const mid = m?.name === 'MessageAck' ? (m.payload.message_id ?? '') : '';
      await a!.cmd('AddReaction', { room_id: room, message_id: mid, emoji: '🎉' });
      await a!.cmd('AddReaction', { room_id: room, message_id: mid, emoji: '🎉' });
      await a!.cmd('JoinRoom', { room_id: room });
      await a!.cmd('CreateRoom', { name: 'x'.repeat(ctx.profile.maxBodyBytes + 1), room_type: 'group' });
      await finish(ctx, [a!, b!]);
    },
  }),
  defineCase({
    id: 'garou/commands/schema-break-with-cmd-id',
    section: '2',
    rules: ['GAROU-2.5'],
    description: 'Sends SendMessage {cmd_id: 5, room_id: "1", body: 3} (wrong field types) on the chat-commands stream.',
    requirement: 'With profile badPayload error, a command breaking its schema with a valid cmd_id is refused with Error 1 BAD_REQUEST; with close, the connection is closed 0x1.',
    expected: (p) => [p.badPayload === 'error' ? 'Error {cmd_id: 5, code: 1}' : 'close 0x1'],
    deadlineMs: slack,
    async run(ctx) {
      const a = await GClient.login(ctx, 'gina');
      const s = await a.stream('commands');
      const body = Buffer.from('{"cmd_id":5,"room_id":"1","body":3}');
      const h = Buffer.alloc(5);
      h[0] = 0x10;
      h.writeUInt32BE(body.length, 1);
      await s.write(Buffer.concat([h, body]));
      await a.answer(5);
      await finish(ctx, [a]);
    },
  }),
  defineCase({
    id: 'garou/roles/guest-and-member-in-group',
    section: '6',
    rules: ['GAROU-6.4', 'GAROU-4.7'],
    description: 'alice creates a group with the guest; the guest tries to post, react and create a room; a member posts.',
    requirement: 'Guests read: SendMessage, AddReaction (guestsMayReact false) and CreateRoom by a guest are refused with 3 FORBIDDEN.',
    expected: () => ['Error 3 to each guest command', 'MessageAck to the member'],
    deadlineMs: (p) => 2 * slack(p),
    async run(ctx) {
      const [a, g] = await loginAll(ctx, ['alice', 'guest']);
      const room = await a!.createRoom('lobby', 'group', [g!.userId!]);
      const m = await a!.cmd('SendMessage', { room_id: room, body: 'welcome' });
      const mid = m?.name === 'MessageAck' ? (m.payload.message_id ?? '') : '';
      await g!.cmd('SendMessage', { room_id: room, body: 'hi' });
      await g!.cmd('AddReaction', { room_id: room, message_id: mid, emoji: '👋' });
      await g!.cmd('CreateRoom', { name: 'mine', room_type: 'group' });
      await finish(ctx, [a!, g!]);
    },
  }),
  defineCase({
    id: 'garou/roles/channel',
    section: '6',
    rules: ['GAROU-6.4'],
    description: 'alice (owner) creates a channel with the moderator mod and member bob; bob tries to post; mod posts; bob deletes mod\'s message; mod deletes alice\'s.',
    requirement: 'In a channel only staff post; a member may not delete another\'s message; a moderator may.',
    expected: () => ['Error 3 to bob\'s post and delete', 'MessageAck to mod\'s post and delete'],
    deadlineMs: (p) => 2 * slack(p),
    async run(ctx) {
      const [a, m, b] = await loginAll(ctx, ['alice', 'mod', 'bob']);
      const room = await a!.createRoom('news', 'channel', [m!.userId!, b!.userId!]);
      const first = await a!.cmd('SendMessage', { room_id: room, body: 'news 1' });
      await b!.cmd('SendMessage', { room_id: room, body: 'me too' });
      const second = await m!.cmd('SendMessage', { room_id: room, body: 'news 2' });
      await b!.cmd('DeleteMessage', { room_id: room, message_id: second?.name === 'MessageAck' ? (second.payload.message_id ?? '') : '' });
      await m!.cmd('DeleteMessage', { room_id: room, message_id: first?.name === 'MessageAck' ? (first.payload.message_id ?? '') : '' });
      await finish(ctx, [a!, m!, b!]);
    },
  }),
  defineCase({
    id: 'garou/roles/direct-room',
    section: '6',
    rules: ['GAROU-6.2', 'GAROU-6.3', 'GAROU-6.4'],
    description: 'alice opens a direct room with bob; carol tries to join it; a direct room with two others is refused; bob leaves and the room closes.',
    requirement: 'A direct room has exactly two members, nobody joins it, and it closes (RoomClose) when a member leaves.',
    expected: () => ['Error 1 for three members', 'Error 3 for the join', 'RoomUserLeft and RoomClose to alice'],
    deadlineMs: (p) => 2 * slack(p),
    async run(ctx) {
      const [a, b, c] = await loginAll(ctx, ['alice', 'bob', 'carol']);
      await a!.cmd('CreateRoom', { name: 'dm3', room_type: 'direct', members: [b!.userId!, c!.userId!] });
      const room = await a!.createRoom('dm', 'direct', [b!.userId!]);
      await c!.cmd('JoinRoom', { room_id: room });
      await b!.cmd('SendMessage', { room_id: room, body: 'psst' });
      await b!.cmd('LeaveRoom', { room_id: room });
      await a!.cmd('SendMessage', { room_id: room, body: 'gone?' });
      await finish(ctx, [a!, b!, c!]);
    },
  }),
];
