/** Cases of SPEC §8 (hot rooms), with the profile's thresholds (`--fast`: 10 events/s, 600 ms cooldown). */
import { defineCase, finish, frame, loginAll, slack, type Ctx, type GarouCase, type GClient } from './_helpers.js';
import type { GarouProfile } from '../profile.js';

/** Messages in one rate window that surely exceed the threshold with the tolerance (GAROU-8.7). */
function burstSize(p: GarouProfile): number {
  return Math.ceil((p.hotThreshold * (1 + p.rateTolerance) * p.rateWindowMs) / 1000) + 2;
}

/** Sends `n` messages from `c` into `room` in one write (the server reads them together: well over the threshold). */
async function burst(c: GClient, room: number, n: number, tag: string): Promise<void> {
  const frames = Array.from({ length: n }, (_, i) => frame('SendMessage', { cmd_id: c.cmdId(), room_id: room, body: `${tag} ${i}` }));
  await c.send('commands', ...frames);
}

/** Waits for RoomPromoted / RoomDemoted of a room on a client's control stream. */
function waitControl(ctx: Ctx, c: GClient, name: 'RoomPromoted' | 'RoomDemoted', room: number, ms: number): Promise<boolean> {
  void ctx;
  return c.waitControl((f) => f.name === name && (f.payload as { room_id: number }).room_id === room, ms);
}

const hotSlack = (p: GarouProfile): number => p.cooldownMs + 2 * p.rateWindowMs + 4 * slack(p);

export const hotRoomCases: readonly GarouCase[] = [
  defineCase({
    id: 'garou/hot/promote-and-demote',
    section: '8',
    rules: ['GAROU-8.2', 'GAROU-8.3', 'GAROU-8.5', 'GAROU-8.6', 'GAROU-3.6'],
    description: 'alice, bob and carol in a group; alice sends a burst over the hot threshold, then more messages during the switch, then nothing for the cooldown, then one more.',
    requirement: 'Over the threshold the room is promoted (RoomPromoted, a hot-room stream to every member); after the cooldown it is demoted (RoomDemoted, FIN); no event is lost, duplicated or reordered across either.',
    expected: (p) => [`RoomPromoted after more than ${p.hotThreshold} messages/s`, `RoomDemoted about ${p.cooldownMs} ms after the rate falls below ${p.coldThreshold}/s`, 'every seq once to every member'],
    deadlineMs: hotSlack,
    async run(ctx) {
      const users = await loginAll(ctx, ['alice', 'bob', 'carol']);
      const [a] = users;
      const room = await a!.createRoom('busy', 'group', users.slice(1).map((u) => u.userId!));
      const n = burstSize(ctx.profile);
      await burst(a!, room, n, 'burst');
      await burst(a!, room, 3, 'during');
      for (const u of users) await waitControl(ctx, u, 'RoomPromoted', room, 2 * a!.wait);
      for (const u of users) await u.waitSeq(room, n + 3);
      await a!.cmd('SendMessage', { room_id: room, body: 'on the hot stream' });
      for (const u of users) await waitControl(ctx, u, 'RoomDemoted', room, ctx.profile.cooldownMs + 2 * ctx.profile.rateWindowMs + 2 * a!.wait);
      await a!.cmd('SendMessage', { room_id: room, body: 'back on the shard stream' });
      await finish(ctx, users);
    },
  }),
  defineCase({
    id: 'garou/hot/join-hot-room',
    section: '8',
    rules: ['GAROU-8.6', 'GAROU-7.4'],
    description: 'alice makes a room hot; bob joins it while it is hot.',
    requirement: 'A joiner of a hot room gets RoomPromoted and the hot-room stream, which carries its RoomInit.',
    expected: () => ['RoomPromoted to bob', 'RoomInit to bob'],
    deadlineMs: hotSlack,
    async run(ctx) {
      const [a, b] = await loginAll(ctx, ['alice', 'bob']);
      const room = await a!.createRoom('hot-join', 'group');
      await burst(a!, room, burstSize(ctx.profile), 'x');
      await waitControl(ctx, a!, 'RoomPromoted', room, 2 * a!.wait);
      await b!.cmd('JoinRoom', { room_id: room });
      await a!.cmd('SendMessage', { room_id: room, body: 'hello bob' });
      await finish(ctx, [a!, b!]);
    },
  }),
  defineCase({
    id: 'garou/hot/cap',
    section: '8',
    rules: ['GAROU-8.4', 'GAROU-8.2'],
    description: 'alice makes maxHotRooms + 1 rooms busy, one after the other.',
    requirement: 'At most maxHotRooms rooms are hot at once; a room over the threshold while the cap is reached stays on its shard stream.',
    expected: (p) => [`${p.maxHotRooms} RoomPromoted, not ${p.maxHotRooms + 1}`],
    deadlineMs: (p) => hotSlack(p) + p.maxHotRooms * slack(p),
    async run(ctx) {
      const [a] = await loginAll(ctx, ['alice']);
      const rooms: number[] = [];
      for (let i = 0; i <= ctx.profile.maxHotRooms; i++) rooms.push(await a!.createRoom(`cap${i}`, 'group'));
      for (const r of rooms) await burst(a!, r, burstSize(ctx.profile), `r${r}`);
      await a!.waitSeq(rooms[rooms.length - 1]!, burstSize(ctx.profile));
      await finish(ctx, [a!]);
    },
  }),
];
