/** Cases of SPEC §7 (room events: fan-out, seq, RoomInit, history). */
import { defineCase, finish, GClient, loginAll, slack, type GarouCase } from './_helpers.js';

export const roomEventCases: readonly GarouCase[] = [
  defineCase({
    id: 'garou/events/fan-out-three',
    section: '7',
    rules: ['GAROU-7.1', 'GAROU-7.2', 'GAROU-7.3', 'GAROU-3.6'],
    description: 'alice, bob and carol in a group; each sends two messages, one after the other.',
    requirement: 'Each event reaches every member connection, the sender included, once, on the shard stream room_id % num_shards, seq 1, 2, 3 … in order.',
    expected: () => ['RoomMessage seq 1-6 to all three, in order'],
    deadlineMs: (p) => 2 * slack(p),
    async run(ctx) {
      const users = await loginAll(ctx, ['alice', 'bob', 'carol']);
      const room = await users[0]!.createRoom('trio', 'group', users.slice(1).map((u) => u.userId!));
      for (let i = 0; i < 2; i++) for (const u of users) await u.cmd('SendMessage', { room_id: room, body: `${u.name} ${i}` });
      for (const u of users) await u.waitSeq(room, 6);
      await finish(ctx, users);
    },
  }),
  defineCase({
    id: 'garou/events/several-rooms-shards',
    section: '3',
    rules: ['GAROU-3.6', 'GAROU-7.3'],
    description: 'alice and bob share as many group rooms as there are shards + 1, and alice posts in each.',
    requirement: 'Each room\'s events travel on its shard stream, room_id % num_shards, in seq order per room.',
    expected: (p) => [`RoomMessages spread over the ${p.numShards} shard streams by room_id`],
    deadlineMs: (p) => 3 * slack(p),
    async run(ctx) {
      const [a, b] = await loginAll(ctx, ['alice', 'bob']);
      const rooms: number[] = [];
      for (let i = 0; i <= ctx.profile.numShards; i++) rooms.push(await a!.createRoom(`r${i}`, 'group', [b!.userId!]));
      for (const r of rooms) await a!.cmd('SendMessage', { room_id: r, body: `in ${r}` });
      await finish(ctx, [a!, b!]);
    },
  }),
  defineCase({
    id: 'garou/events/join-and-leave',
    section: '7',
    rules: ['GAROU-7.4', 'GAROU-7.2', 'GAROU-6.3'],
    description: 'alice and bob in a group with a message; carol joins, gets RoomInit; alice posts; carol leaves; alice posts again.',
    requirement: 'A joiner first gets RoomInit (members, history, seq = latest), then the room\'s events; a leaver gets nothing after its RoomUserLeft.',
    expected: () => ['RoomUserJoined to alice and bob', 'RoomInit to carol', 'RoomUserLeft to all', 'nothing more to carol'],
    deadlineMs: (p) => 2 * slack(p),
    async run(ctx) {
      const [a, b, c] = await loginAll(ctx, ['alice', 'bob', 'carol']);
      const room = await a!.createRoom('open', 'group', [b!.userId!]);
      await a!.cmd('SendMessage', { room_id: room, body: 'before carol' });
      await c!.cmd('JoinRoom', { room_id: room });
      await a!.cmd('SendMessage', { room_id: room, body: 'hi carol' });
      await c!.cmd('LeaveRoom', { room_id: room });
      await a!.cmd('SendMessage', { room_id: room, body: 'bye carol' });
      await finish(ctx, [a!, b!, c!]);
    },
  }),
  defineCase({
    id: 'garou/events/history-overflow',
    section: '7',
    rules: ['GAROU-7.5', 'GAROU-7.4'],
    description: 'alice posts historySize + 3 messages, edits and deletes two of the last, then bob joins.',
    requirement: 'RoomInit history holds the last historySize messages still there, oldest first, with current bodies.',
    expected: (p) => [`RoomInit to bob with at most ${p.historySize} messages`],
    deadlineMs: (p) => 3 * slack(p) + p.historySize * 50,
    async run(ctx) {
      const [a, b] = await loginAll(ctx, ['alice', 'bob']);
      const room = await a!.createRoom('long', 'group');
      const ids: string[] = [];
      for (let i = 0; i < ctx.profile.historySize + 3; i++) {
        const m = await a!.cmd('SendMessage', { room_id: room, body: `m${i}` });
        if (m?.name === 'MessageAck' && m.payload.message_id) ids.push(m.payload.message_id);
      }
      await a!.cmd('EditMessage', { room_id: room, message_id: ids[ids.length - 1]!, body: 'edited' });
      await a!.cmd('DeleteMessage', { room_id: room, message_id: ids[ids.length - 2]! });
      await a!.cmd('EditMessage', { room_id: room, message_id: ids[0]!, body: 'too old' });
      await b!.cmd('JoinRoom', { room_id: room });
      await finish(ctx, [a!, b!]);
    },
  }),
  defineCase({
    id: 'garou/events/disconnect-leaves',
    section: '6',
    rules: ['GAROU-6.3', 'GAROU-7.2'],
    description: 'alice, bob and carol in a group; carol\'s connection closes.',
    requirement: 'With membershipOnDisconnect leave, a user whose last connection ends leaves its rooms: RoomUserLeft to the others.',
    expected: (p) => [p.membershipOnDisconnect === 'leave' ? 'RoomUserLeft {user_id: carol} to alice and bob' : 'nothing'],
    deadlineMs: (p) => 2 * slack(p),
    async run(ctx) {
      const [a, b, c] = await loginAll(ctx, ['alice', 'bob', 'carol']);
      const room = await a!.createRoom('club', 'group', [b!.userId!, c!.userId!]);
      await c!.close();
      await a!.waitSeq(room, 1);
      await a!.cmd('SendMessage', { room_id: room, body: 'carol left' });
      await finish(ctx, [a!, b!]);
    },
  }),
  defineCase({
    id: 'garou/events/two-connections-one-user',
    section: '7',
    rules: ['GAROU-7.2', 'GAROU-4.4'],
    description: 'alice connects twice (duplicateLogin allow); bob posts in their room.',
    requirement: 'Each event reaches every connection of every member.',
    expected: () => ['RoomMessage on both of alice\'s connections'],
    deadlineMs: (p) => 2 * slack(p),
    async run(ctx) {
      if (ctx.profile.duplicateLogin !== 'allow') return;
      const a1 = await GClient.login(ctx, 'alice-1', 'alice');
      const a2 = await GClient.login(ctx, 'alice-2', 'alice');
      const b = await GClient.login(ctx, 'bob');
      const room = await b.createRoom('both', 'group', [a1.userId!]);
      await b.cmd('SendMessage', { room_id: room, body: 'to both' });
      await finish(ctx, [a1, a2, b]);
    },
  }),
];
