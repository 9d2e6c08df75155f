/**
 * Proton's timed obligations (suites/proton/model.ts, `protonObligations`):
 * for every record and every trigger, the reference core acts at the
 * nominal time, and its act moved inside / outside the record's window
 * passes / fails the monitor under the record's rule (test/engine/_obligations.ts).
 */
import t from 'tap';
import type { TraceEvent } from '../../harness/engine/trace.js';
import { ProtonServerCore } from '../../reference-server/proton/core.js';
import { CloseCode, Discriminator as D } from '../../suites/proton/codec.js';
import { protonObligations, VIOLATION_RULES, type ProtonTrigger } from '../../suites/proton/model.js';
import { fastProfile, type ProtonProfile } from '../../suites/proton/profile.js';
import { checkRecords, type Scenario } from '../engine/_obligations.js';
import { check, ev } from './_trace.js';

const us = (ms: number) => ms * 1000;
const closeOn = (events: TraceEvent[], sinceMs: number, conn = 0): Scenario => ({ events, since: us(sinceMs), conn, act: 'close' });
const bytes = (...b: number[]) => new Uint8Array(b);

/** Client events that arm each trigger (connection 0 opens at 0 ms; one stream, 0, unless a scenario needs more: a higher stream makes 0 visible, PROTON-3.4 `stream`). */
function scenario(trigger: string, p: ProtonProfile): Scenario | undefined {
  const open = ev.open(0, 0);
  switch (trigger as ProtonTrigger) {
    case 'handshake':
      return closeOn([open], 0);
    case 'stream-visible':
      // Stream 4's discriminator makes stream 0 visible (RFC 9000 §3.2); stream 0 stays silent.
      return closeOn([open, ev.typed(0, 4, D.Event, [], 1)], 1);
    case 'aborted-end':
      // resetStream ends-stream: a RESET_STREAM on the Action stream is owed the server's FIN.
      return p.resetStream === 'ends-stream' ? { events: [open, ev.typed(0, 0, D.Action, [], 1), ev.creset(0, 0, 3, 2)], since: us(2), conn: 0, stream: 0, act: 'fin' } : undefined;
    case 'event-id':
      return { events: [open, ev.typed(0, 0, D.Event, [1], 1)], since: us(1), conn: 0, stream: 0, act: 'data' };
    case 'commit-request':
      return { events: [open, ev.typed(0, 0, D.StateCommit, [21], 1)], since: us(1), conn: 0, stream: 0, act: 'data' };
    case 'action-item':
      return { events: [open, ev.typed(0, 0, D.Action, [], 1)], since: us(1), conn: 0, stream: 0, act: 'data' };
    case 'event-fin':
      return { events: [open, ev.typed(0, 0, D.Event, [1], 1), ev.cfin(0, 0, 2)], since: us(2), conn: 0, stream: 0, act: 'fin' };
    case 'commit-fin': {
      // The FIN is owed once the answer is sent, at the commit record's nominal time.
      const answered = 1 + protonObligations(p).byTrigger('commit-request')[0]!.nominalMs;
      return { events: [open, ev.typed(0, 0, D.StateCommit, [21], 1), ev.cfin(0, 0, 2)], since: us(answered), conn: 0, stream: 0, act: 'fin' };
    }
    case 'partial-item':
      return closeOn([open, ev.c2s(0, 0, bytes(D.Event, 0, 0), 1)], 1);
    case 'idle-request-stream':
      return closeOn([open, ev.typed(0, 0, D.Event, [1], 1)], 1);
    case 'second-connection':
      return closeOn([open, ev.typed(0, 0, D.Event, [1], 1), ev.open(1, 10)], 10, 1);
    case 'reset-requested':
      return closeOn([open, ev.c2s(0, 0, bytes(0xff), 1)], 1);
    case 'violation:PROTON-3.2':
      return closeOn([open, ev.c2s(0, 0, bytes(7), 1)], 1);
    case 'violation:PROTON-3.3':
      return closeOn([open, ev.typed(0, 0, D.Event, [], 1), ev.typed(0, 4, D.Event, [], 2)], 2);
    case 'violation:PROTON-3.5':
      return closeOn([open, ev.cfin(0, 0, 1)], 1);
    case 'violation:PROTON-4.2':
      return closeOn([open, ev.typed(0, 0, D.Event, [3, 3], 1)], 1);
    case 'violation:PROTON-4.6':
      return closeOn([open, ev.c2s(0, 0, bytes(D.Event, 0, 0), 1), ev.cfin(0, 0, 2)], 2);
    case 'violation:PROTON-5.2':
      return closeOn([open, ev.typed(0, 0, D.StateCommit, [1, 2], 1)], 1);
    case 'violation:PROTON-5.5':
      return closeOn([open, ev.c2s(0, 0, bytes(D.StateCommit, 0), 1), ev.cfin(0, 0, 2)], 2);
    case 'violation:PROTON-6.1':
      return closeOn([open, ev.typed(0, 0, D.Action, [9], 1)], 1);
    case 'violation:PROTON-8.3':
      return closeOn([open, ev.typed(0, 0, D.Event, [1], 1), ev.creset(0, 0, 3, 2)], 2);
    case 'violation:PROTON-8.6':
      return closeOn([open, ev.typed(0, 0, D.Action, [], 1), ev.cstop(0, 0, 3, 2)], 2);
    default:
      return undefined;
  }
}

/** The default readings, and every other one of each profile choice (PROTON-3.4, 7.1, 8.3, 8.6). */
const profiles: ProtonProfile[] = [
  fastProfile,
  { ...fastProfile, ioTimeoutScope: 'idle-request-stream' },
  { ...fastProfile, identTimeoutScope: 'stream', ioTimeoutStreams: ['event'], resetStream: 'ends-stream', stopSending: 'ends-stream' },
];

t.test('every obligation record: the core acts at the nominal time; the monitor accepts the window and names the rule outside it', async (t) => {
  const checked = checkRecords(t, {
    profiles,
    table: protonObligations,
    core: (p) => new ProtonServerCore(p),
    check: (p, trace, endUs) => check(p, trace, endUs / 1000),
    scenario,
    unobservable: { 'send-stalled': 'PROTON-7.2 (a client that does not read; not checked black-box, SPEC §7.2)' },
  });
  const all = new Set(profiles.flatMap((p) => protonObligations(p).records.map((r) => r.rule)));
  all.delete('PROTON-7.2');
  t.same([...checked].sort(), [...all].sort(), 'every record is checked (PROTON-7.2 below)');
  t.ok(VIOLATION_RULES.every((r) => checked.has(r)), 'every client violation close');
});

t.test('PROTON-7.2 (server side only): a stalled write is owed an IO_TIMEOUT close at the record\'s nominal time, with its rule', async (t) => {
  const r = protonObligations(fastProfile).byRule('PROTON-7.2');
  const core = new ProtonServerCore(fastProfile);
  for (const e of [ev.open(0, 0), ev.typed(0, 0, D.Event, [1], 1)]) {
    core.handle(e);
    core.poll(e.t);
  }
  const since = us(5);
  core.sendStalled(0, 0, since);
  t.equal(core.nextTimer(), since + us(r.nominalMs), 'due at the nominal time');
  const close = core.poll(since + us(r.nominalMs)).find((a) => a.type === 'close');
  t.same(close && close.type === 'close' ? [close.code, close.rule] : [], [r.owed.kind === 'close' ? r.owed.code : -1, 'PROTON-7.2']);
  t.equal(r.owed.kind === 'close' && r.owed.code, CloseCode.IO_TIMEOUT);
});

t.test('the profile chooses the triggers of PROTON-7.1; the derivations are unchanged', async (t) => {
  t.same(protonObligations(fastProfile).byRule('PROTON-7.1').triggers, ['partial-item']);
  t.same(protonObligations({ ...fastProfile, ioTimeoutScope: 'idle-request-stream' }).byRule('PROTON-7.1').triggers, ['idle-request-stream']);
  t.same(protonObligations(fastProfile).byTrigger('idle-request-stream'), [], 'partial-item scope: an idle stream arms nothing');
  t.same(protonObligations({ ...fastProfile, identTimeoutScope: 'stream' }).byRule('PROTON-3.4').triggers, ['stream-visible']);
  t.same(protonObligations({ ...fastProfile, resetStream: 'ends-stream' }).records.filter((r) => r.rule === 'PROTON-8.3'), [], 'resetStream ends-stream: a RESET_STREAM arms no close');
  t.same(protonObligations(fastProfile).records.filter((r) => r.rule === 'PROTON-8.7'), [], 'violation readings: no stream end is owed after an abort');
});
