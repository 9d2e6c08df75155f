/**
 * Moonpool's timed obligations (suites/moonpool/model.ts,
 * `moonpoolObligations`): for every record and every trigger, the reference
 * core acts at the nominal time, and its act moved inside / outside the
 * record's window passes / fails the monitor under the record's rule
 * (test/engine/_obligations.ts).
 */
import t from 'tap';
import type { ImpairKind, TraceEvent } from '../../harness/engine/trace.js';
import { MoonpoolServerCore } from '../../reference-server/moonpool/core.js';
import { encodeHeader } from '../../suites/moonpool/codec.js';
import { moonpoolObligations, type MoonpoolTrigger } from '../../suites/moonpool/model.js';
import { fastProfile, checkProfile, type MoonpoolProfile } from '../../suites/moonpool/profile.js';
import { checkRecords, type Scenario } from '../engine/_obligations.js';
import { check, envl, ev, frames, ping } from './_trace.js';

const us = (ms: number) => ms * 1000;
const impair = (kind: ImpairKind, conn: number, ms: number): TraceEvent => ({ type: 'impair', t: us(ms), kind, conn });

/** Client events that arm each trigger (connection 0 opens at 0 ms). */
function scenario(trigger: string, p: MoonpoolProfile): Scenario | undefined {
  const open = ev.open(0, 0);
  switch (trigger as MoonpoolTrigger) {
    case 'ping':
      return { events: [open, ev.c2s(0, ping(1), 1)], since: us(1), conn: 0, act: 'data' };
    case 'restore':
      // The server answers at once; the stall holds the reply until the restore (the server does not see stalls).
      return { events: [open, impair('stall', 0, 1), ev.c2s(0, ping(1), 2), impair('restore', 0, 3)], since: us(3), conn: 0, act: 'data', held: true };
    case 'other-payload':
      return { events: [open, ev.c2s(0, frames(envl(1, 'abc')), 1)], since: us(1), conn: 0, act: 'data' };
    case 'oversized-header':
      return { events: [open, ev.c2s(0, encodeHeader(1n, p.maxPayloadBytes + 1), 1)], since: us(1), conn: 0, act: 'close' };
    case 'truncated-fin':
      return { events: [open, ev.c2s(0, ping(1).subarray(0, 14), 1), ev.cfin(0, 2)], since: us(2), conn: 0, act: 'close' };
    case 'client-fin':
      return { events: [open, ev.cfin(0, 1)], since: us(1), conn: 0, act: 'close' };
    case 'idle':
      return { events: [open, ev.c2s(0, ping(1), 1)], since: us(1), conn: 0, act: 'close' };
    default:
      return undefined;
  }
}

const profiles: MoonpoolProfile[] = [fastProfile, { ...fastProfile, otherPayloads: 'reply', idleTimeoutMs: 2_000 }];

t.test('the profiles are valid', async (t) => {
  for (const p of profiles) t.same(checkProfile(p), []);
});

t.test('every obligation record: the core acts at the nominal time; the monitor accepts the window and names the rule outside it', async (t) => {
  const checked = checkRecords(t, {
    profiles,
    table: moonpoolObligations,
    core: (p) => new MoonpoolServerCore(p),
    check: (p, trace, endUs) => check(p, trace, endUs / 1000),
    scenario,
  });
  const all = new Set(profiles.flatMap((p) => moonpoolObligations(p).records.map((r) => r.rule)));
  t.same([...checked].sort(), [...all].sort(), 'every record is checked');
});

t.test('the profile arms the MAY records (MOONPOOL-4.3, 7.4) or not', async (t) => {
  t.same(moonpoolObligations(fastProfile).byTrigger('other-payload'), [], 'otherPayloads: ignore');
  t.same(moonpoolObligations(fastProfile).byTrigger('idle'), [], 'no idle timeout');
  t.same(moonpoolObligations(profiles[1]!).byTrigger('idle').map((r) => r.rule), ['MOONPOOL-7.4']);
});

t.test('a stall suspends a close owed; the restore restarts its clock (MOONPOOL-5.1, SPEC §10)', async (t) => {
  const D = fastProfile.replyDeadlineMs;
  const oversized = ev.c2s(0, encodeHeader(1n, fastProfile.maxPayloadBytes + 1), 2);
  const base = [ev.open(0, 0), impair('stall', 0, 1), oversized];
  t.same(check(fastProfile, base, 3 * D), [], 'no deadline while stalled');
  const restored = [...base, impair('restore', 0, 3 * D)];
  t.same(check(fastProfile, restored, 4 * D).map((v) => v.rule), [], 'the close is due within the deadline of the restore');
  t.same(check(fastProfile, restored, 4 * D + 1).map((v) => v.rule), ['MOONPOOL-5.1'], 'then missed, under its own rule');
});
