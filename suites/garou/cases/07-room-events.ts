/** Cases of SPEC §7 (room events: fan-out, seq, RoomInit, history). */
import { defineCase, finish, frame, GClient, loginAll, slack, type GarouCase } from './_helpers.js';

/**
 * Each client writes its commands in one write, all clients at once, none
 * waiting for an answer first: the server chooses their order across
 * connections (the monitor takes it from the seqs and answers it emits,
 * SPEC GAROU-7.1, 7.7); then each waits for its answers.
 */
async function concurrently(clients: readonly GClient[], commands: (c: GClient) => Uint8Array[]): Promise<void> {
  await Promise.all(clients.map((c) => c.send('commands', ...commands(c))));
}

/** `SendMessage` frames of `c` into `room`, with fresh cmd_ids. */
const posts = (c: GClient, room: number, n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => frame('SendMessage', { cmd_id: c.cmdId(), room_id: room, body: `${c.name} ${i}` }));

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
    id: 'garou/events/concurrent-writers',
    section: '7',
    rules: ['GAROU-7.1', 'GAROU-7.2', 'GAROU-7.3', 'GAROU-7.7', 'GAROU-5.2'],
    description: 'alice, bob and carol in a group; each writes three messages at the same time as the others, without waiting for an answer.',
    requirement: 'The server may interleave the writers in any order, but seq is 1 … 9 without gap or duplicate, each writer\'s messages in the order it sent them, every event to every member, each answer in order on its connection with the seq its event carries.',
    expected: () => ['RoomMessage seq 1-9 to all three, each writer\'s three in its order', 'three MessageAcks per writer, in order'],
    deadlineMs: (p) => 2 * slack(p),
    async run(ctx) {
      const users = await loginAll(ctx, ['alice', 'bob', 'carol']);
      const room = await users[0]!.createRoom('rush', 'group', users.slice(1).map((u) => u.userId!));
      await concurrently(users, (u) => posts(u, room, 3));
      for (const u of users) await u.waitSeq(room, 9);
      await finish(ctx, users);
    },
  }),
  defineCase({
    id: 'garou/events/concurrent-edits-and-reactions',
    section: '7',
    rules: ['GAROU-7.1', 'GAROU-7.2', 'GAROU-7.7'],
    description: 'alice posts a message; then at the same time alice edits it and posts, bob reacts to it and posts, carol reacts to it and takes the reaction back.',
    requirement: 'Every event of the three writers reaches every member once, in the seq order the server chose; each writer\'s commands keep their order.',
    expected: () => ['RoomMessage seq 1', 'seq 2-7: an edit, two reactions, a reaction removed, two messages, in an order the server chose'],
    deadlineMs: (p) => 2 * slack(p),
    async run(ctx) {
      const users = await loginAll(ctx, ['alice', 'bob', 'carol']);
      const [a, b, c] = users as [GClient, GClient, GClient];
      const room = await a.createRoom('mixed', 'group', [b.userId!, c.userId!]);
      const ack = await a.cmd('SendMessage', { room_id: room, body: 'first' });
      const mid = ack?.name === 'MessageAck' ? (ack.payload.message_id ?? '') : '';
      await concurrently(users, (u) =>
        u === a
          ? [frame('EditMessage', { cmd_id: u.cmdId(), room_id: room, message_id: mid, body: 'first (edited)' }), ...posts(u, room, 1)]
          : u === b
            ? [frame('AddReaction', { cmd_id: u.cmdId(), room_id: room, message_id: mid, emoji: '+1' }), ...posts(u, room, 1)]
            : [frame('AddReaction', { cmd_id: u.cmdId(), room_id: room, message_id: mid, emoji: 'tada' }), frame('RemoveReaction', { cmd_id: u.cmdId(), room_id: room, message_id: mid, emoji: 'tada' })],
      );
      for (const u of users) await u.waitSeq(room, 7);
      await finish(ctx, users);
    },
  }),
  defineCase({
    id: 'garou/events/concurrent-guest',
    section: '6',
    rules: ['GAROU-6.4', 'GAROU-7.1', 'GAROU-7.7'],
    description: 'alice (owner), bob (member) and guest (guest) in a group; all three post two messages at the same time.',
    requirement: 'The guest\'s posts are refused with FORBIDDEN and take no seq, whatever the order the server chose; the others\' four messages are seq 1-4 to all three.',
    expected: () => ['Error FORBIDDEN twice to guest', 'RoomMessage seq 1-4 to all three'],
    deadlineMs: (p) => 2 * slack(p),
    async run(ctx) {
      const users = await loginAll(ctx, ['alice', 'bob', 'guest']);
      const room = await users[0]!.createRoom('open-door', 'group', users.slice(1).map((u) => u.userId!));
      await concurrently(users, (u) => posts(u, room, 2));
      for (const u of users) await u.waitSeq(room, 4);
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
