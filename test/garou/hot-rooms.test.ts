import t from 'tap';
import fc from 'fast-check';
import { deepStrictEqual } from 'node:assert';
import { countsTowardRate, HotRooms, type HotRoomConfig, type Transition } from '../../suites/garou/hot-rooms.js';

const cfg: HotRoomConfig = { hotThreshold: 10, coldThreshold: 2, cooldownMs: 500, maxHotRooms: 1, rateWindowMs: 1000, cooldownFrom: 'cold' };
/** Ten events 100 ms apart from `start`, then an eleventh 50 ms after the last: 11 in one window. */
const burst = (start: number): number[] => [...Array.from({ length: 10 }, (_, i) => start + i * 100), start + 950];

t.test('promotion when the rate exceeds the threshold, not when it reaches it (GAROU-8.2)', async (t) => {
  const h = new HotRooms(cfg);
  const times = burst(0);
  for (const ts of times.slice(0, 10)) t.same(h.event(7, ts), [], `event at ${ts}`);
  t.equal(h.rate(7), 10, '10 events in the window: rate 10, not above 10');
  t.same(h.event(7, times[10]!), [{ kind: 'promote', roomId: 7, at: 950 }]);
  t.ok(h.isHot(7));
  t.same(h.hotRooms(), [7]);
});

t.test('demotion after the cooldown below the cold threshold, at its exact time whatever the ticks (GAROU-8.3)', async (t) => {
  const fine = new HotRooms(cfg);
  for (const ts of burst(0)) fine.event(7, ts);
  // Count falls to 1 (< 2/s) when the event of 900 leaves at 1900; demotion due at 1900 + 500.
  t.equal(fine.nextDue(), 2400, 'the timer a server arms');
  const seen: Transition[] = [];
  for (let ts = 1000; ts <= 3000; ts += 37) seen.push(...fine.advance(ts));
  t.same(seen, [{ kind: 'demote', roomId: 7, at: 2400 }], 'fine ticks');
  t.notOk(fine.isHot(7));
  t.equal(fine.nextDue(), undefined);

  const coarse = new HotRooms(cfg);
  for (const ts of burst(0)) coarse.event(7, ts);
  t.same(coarse.advance(2399), [], 'not before the due time');
  t.same(coarse.advance(2400), [{ kind: 'demote', roomId: 7, at: 2400 }], 'at the due time');

  const late = new HotRooms(cfg);
  for (const ts of burst(0)) late.event(7, ts);
  t.same(late.advance(100_000), [{ kind: 'demote', roomId: 7, at: 2400 }], 'one late tick reports the exact due time');
});

t.test('a rate back at the cold threshold restarts the cooldown', async (t) => {
  const h = new HotRooms(cfg);
  for (const ts of burst(0)) h.event(7, ts);
  t.same(h.advance(2000), [], 'cold since 1900');
  t.same(h.event(7, 2000), [], 'count 1: still cold');
  t.equal(h.nextDue(), 2400);
  t.same(h.event(7, 2100), [], 'count 2 in (1100, 2100]: rate 2, not below 2');
  t.equal(h.nextDue(), 3000 + 500, 'cold again when the event of 2000 leaves the window at 3000 (count 1)');
  t.same(h.advance(3099), []);
  t.same(h.advance(4000), [{ kind: 'demote', roomId: 7, at: 3500 }]);
});

t.test('the cap on hot rooms (GAROU-8.4)', async (t) => {
  const h = new HotRooms(cfg);
  for (const ts of burst(0)) h.event(1, ts);
  t.ok(h.isHot(1));
  for (const ts of burst(1000)) t.same(h.event(2, ts), [], 'room 2 over the threshold, cap reached');
  t.notOk(h.isHot(2));
  t.equal(h.hotCount, 1);
  // Room 1 goes quiet; room 2 keeps a high rate: promoted at its first event after room 1's demotion.
  const out: Transition[] = [];
  for (let ts = 2000; ts <= 2600; ts += 50) out.push(...h.event(2, ts));
  t.same(out, [
    { kind: 'demote', roomId: 1, at: 2400 },
    { kind: 'promote', roomId: 2, at: 2400 },
  ]);
  t.same(h.hotRooms(), [2]);
});

t.test('cooldown from the promotion (profile cooldownFrom)', async (t) => {
  const h = new HotRooms({ ...cfg, cooldownFrom: 'promotion' });
  for (const ts of burst(0)) h.event(7, ts);
  t.same(h.advance(5000), [{ kind: 'demote', roomId: 7, at: 1900 }], 'promoted at 950, cooldown 500 passed before the rate fell at 1900');
  const h2 = new HotRooms({ ...cfg, cooldownFrom: 'promotion', cooldownMs: 5000 });
  for (const ts of burst(0)) h2.event(7, ts);
  t.equal(h2.nextDue(), 5950);
  t.same(h2.advance(10_000), [{ kind: 'demote', roomId: 7, at: 5950 }]);
});

t.test('what counts toward the rate; time never goes back', async (t) => {
  t.equal(countsTowardRate('RoomMessage', 'messages'), true);
  t.equal(countsTowardRate('RoomUserJoined', 'messages'), false);
  t.equal(countsTowardRate('RoomUserJoined', 'events'), true);
  t.equal(countsTowardRate('RoomInit', 'events'), false, 'RoomInit is no event of the room');
  const h = new HotRooms(cfg);
  h.event(1, 100);
  t.throws(() => h.advance(99), RangeError);
  t.throws(() => h.event(1, Number.NaN), RangeError);
  t.throws(() => new HotRooms({ ...cfg, rateWindowMs: 0 }), RangeError);
});

/** Rate of `room` at `s` from all its events, by brute force. */
function bruteRate(events: readonly [number, number][], room: number, s: number, w: number): number {
  return (events.filter(([r, ts]) => r === room && ts > s - w && ts <= s).length * 1000) / w;
}

t.test('property: ticks never change the transitions; every transition is justified by the rates', async (t) => {
  const step = fc.record({ room: fc.integer({ min: 1, max: 3 }), gap: fc.integer({ min: 0, max: 400 }), tick: fc.boolean() });
  fc.assert(
    fc.property(fc.array(step, { minLength: 1, maxLength: 120 }), fc.constantFrom<'cold' | 'promotion'>('cold', 'promotion'), (steps, cooldownFrom) => {
      const c: HotRoomConfig = { ...cfg, hotThreshold: 5, coldThreshold: 2, maxHotRooms: 2, cooldownFrom };
      const ticked = new HotRooms(c);
      const plain = new HotRooms(c);
      const a: Transition[] = [];
      const b: Transition[] = [];
      const allEvents: [number, number][] = [];
      let now = 0;
      for (const s of steps) {
        now += s.gap;
        if (s.tick) a.push(...ticked.advance(Math.max(0, now - (s.gap >> 1))));
        a.push(...ticked.event(s.room, now));
        b.push(...plain.event(s.room, now));
        allEvents.push([s.room, now]);
        if (ticked.hotCount > c.maxHotRooms) throw new Error('cap broken');
      }
      a.push(...ticked.advance(now + 100_000));
      b.push(...plain.advance(now + 100_000));
      deepStrictEqual(a, b);
      for (const tr of a) {
        if (tr.kind === 'promote' && !(bruteRate(allEvents, tr.roomId, tr.at, c.rateWindowMs) > c.hotThreshold)) throw new Error(`promotion without the rate: ${JSON.stringify(tr)}`);
        if (tr.kind === 'demote') {
          // A demotion due at t comes before an event at t (HotRooms.event).
          const events = allEvents.filter(([, ts]) => ts < tr.at);
          if (!(bruteRate(events, tr.roomId, tr.at, c.rateWindowMs) < c.coldThreshold)) throw new Error(`demotion while not cold: ${JSON.stringify(tr)}`);
          if (cooldownFrom === 'cold') {
            const from = tr.at - c.cooldownMs;
            const points = [from, ...events.filter(([r, ts]) => r === tr.roomId && ts >= from && ts <= tr.at).flatMap(([, ts]) => [ts, ts + c.rateWindowMs])].filter((p) => p >= from && p <= tr.at);
            for (const p of points) if (!(bruteRate(events, tr.roomId, p, c.rateWindowMs) < c.coldThreshold)) throw new Error(`demotion at ${tr.at} but rate not cold at ${p}`);
            // Exactness: the cooldown started when the rate fell, so just before it the rate was not cold yet.
            if (!(bruteRate(events, tr.roomId, from - 0.5, c.rateWindowMs) >= c.coldThreshold)) throw new Error(`demotion at ${tr.at} is late: the rate was already cold before ${from}`);
          }
        }
      }
    }),
    { numRuns: 400 },
  );
  t.pass('transitions agree and are justified');
});
