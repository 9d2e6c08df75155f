import t from 'tap';
import fc from 'fast-check';
import { RoomFeed, type RoomStream } from '../../suites/garou/feed.js';
import type { Frame } from '../../suites/garou/frames.js';

const shard = (n: number): RoomStream => ({ kind: 'shard', shard: n, id: `s${n}` });
const hot = (room: number, id = `h${room}`): RoomStream => ({ kind: 'hot', roomId: room, id });
const init = (room: number, seq: number): Frame => ({ name: 'RoomInit', payload: { room_id: room, seq, name: 'r', room_type: 'group', members: [], history: [] } });
const msg = (room: number, seq: number): Frame => ({ name: 'RoomMessage', payload: { room_id: room, seq, message_id: `m${seq}`, user_id: 'u', body: 'b', ts: 0 } });
const rules = (vs: { rule: string }[]): string[] => vs.map((v) => v.rule);

t.test('a clean feed: RoomInit, then seq on the shard stream, then the hot-room stream', async (t) => {
  const f = new RoomFeed('me', 8);
  t.same(f.receive(shard(3), init(11, 4)), []);
  for (const s of [5, 6]) t.same(f.receive(shard(3), msg(11, s)), []);
  // promotion: 7 and 8 on the hot stream arrive before 6's neighbour… interleaving is allowed
  t.same(f.receive(hot(11), msg(11, 8)), [], 'ahead of a gap');
  t.same(f.gaps(11), [7]);
  t.same(f.receive(shard(3), msg(11, 7)), [], 'the gap filled from the other stream');
  t.same(f.gaps(11), []);
  t.equal(f.contiguous(11), 8);
});

t.test('each rule the feed checks', async (t) => {
  const f = new RoomFeed('me', 8);
  t.same(rules(f.receive(shard(2), msg(11, 1))), ['GAROU-3.6', 'GAROU-7.4'], 'wrong shard, and before RoomInit');
  f.receive(shard(3), init(11, 0));
  t.same(rules(f.receive(hot(12), msg(11, 1))), ['GAROU-3.6'], 'on another room\'s hot-room stream');
  t.same(rules(f.receive(shard(3), msg(11, 1))), ['GAROU-8.5'], 'seq 1 again (it came on the wrong stream first): duplicate');
  t.same(rules(f.receive(shard(3), msg(11, 1))), ['GAROU-7.3', 'GAROU-8.5'], 'seq 1 again on the same stream: out of order and duplicate');
  f.receive(shard(3), msg(11, 3));
  t.same(rules(f.receive(shard(3), msg(11, 2))), ['GAROU-7.3'], 'backwards on one stream');
  t.same(rules(f.receive(hot(11), msg(11, 3))), ['GAROU-8.5'], 'duplicate across streams');
  f.receive(shard(3), { name: 'RoomUserLeft', payload: { room_id: 11, seq: 4, user_id: 'me' } });
  t.ok(f.ended(11));
  t.same(rules(f.receive(shard(3), msg(11, 5))), ['GAROU-7.2'], 'after leaving');
  t.same(f.receive(shard(3), init(11, 9)), [], 'rejoining starts afresh');
  t.same(rules(f.receive(shard(3), init(11, 9))), ['GAROU-7.4'], 'a second RoomInit while a member');
});

t.test('property: any interleaving of shard and hot runs is clean; a lost event shows as a gap', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 30 }), fc.array(fc.nat(), { maxLength: 4 }), fc.array(fc.boolean(), { minLength: 60, maxLength: 60 }), fc.option(fc.nat()), (n, cutsRaw, picks, lostRaw) => {
      // Runs alternate shard, hot, shard, … split at the cut points.
      const cuts = [...new Set(cutsRaw.map((c) => 1 + (c % (n - 1))))].sort((a, b) => a - b);
      const streams = new Map<string, number[]>();
      let run = 0;
      let hotGen = 0;
      let id = 's1';
      for (let s = 1; s <= n; s++) {
        if (cuts.includes(s - 1)) {
          run++;
          id = run % 2 === 1 ? `h${++hotGen}` : 's1';
        }
        if (!streams.has(id)) streams.set(id, []);
        streams.get(id)!.push(s);
      }
      const lost = lostRaw === null ? undefined : 1 + (lostRaw % (n - 1)); // never the last one
      const f = new RoomFeed('me', 8);
      f.receive(shard(1), init(9, 0));
      const queues = [...streams.entries()].map(([sid, seqs]) => ({ sid, seqs: seqs.filter((s) => s !== lost) }));
      let k = 0;
      while (queues.some((q) => q.seqs.length > 0)) {
        const open = queues.filter((q) => q.seqs.length > 0);
        const q = open[(picks[k++ % picks.length] ? 1 : 0) % open.length]!;
        const s = q.seqs.shift()!;
        const stream: RoomStream = q.sid === 's1' ? shard(1) : hot(9, q.sid);
        const vs = f.receive(stream, msg(9, s));
        if (vs.length > 0) throw new Error(`${JSON.stringify(vs)}`);
      }
      const gaps = f.gaps(9);
      if (lost === undefined ? gaps.length !== 0 : gaps.join() !== String(lost)) throw new Error(`gaps ${gaps.join()} with lost ${String(lost)}`);
    }),
    { numRuns: 300 },
  );
  t.pass('runs interleave freely; losses are found');
});

t.test('a leave without its own RoomUserLeft (leaverGetsOwnLeave false)', async (t) => {
  const f = new RoomFeed('me', 8);
  f.receive(shard(3), init(11, 0));
  f.leave(11, 3);
  t.same(f.receive(shard(3), msg(11, 1)), [], 'events before the leave may still arrive');
  t.same(rules(f.receive(shard(3), msg(11, 3))), ['GAROU-7.2'], 'none from the leave on');
  t.same(f.receive(shard(3), init(11, 5)), [], 'a RoomInit after the leave starts afresh');
  t.same(f.receive(shard(3), msg(11, 6)), []);
});
