import t from 'tap';
import type { TraceEvent } from '../../harness/engine/trace.js';
import { simulate } from '../../harness/engine/sim.js';
import { CloseCode, Discriminator as D, encodeItems } from '../../suites/proton/codec.js';
import { fastProfile as P, type ProtonProfile } from '../../suites/proton/profile.js';
import { ProtonServerCore } from '../../reference-server/proton/core.js';
import { faults } from '../../reference-server/proton/faults.js';
import { check, ev, firstMust } from './_trace.js';

/** Client scripts: each is a list of client-side events (ms). */
const scripts: Record<string, { events: TraceEvent[]; endMs: number; close?: { conn: number; code: number } }> = {
  'events pipelined': { events: [ev.open(0, 0), ev.stream(0, 0, 1), ev.typed(0, 0, D.Event, [1, 2, 3], 1)], endMs: 100 },
  'events one by one': { events: [ev.open(0, 0), ev.typed(0, 0, D.Event, [1], 1), ev.c2s(0, 0, encodeItems([5]), 20), ev.c2s(0, 0, new Uint8Array([0, 0]), 30), ev.c2s(0, 0, new Uint8Array([0, 9]), 31)], endMs: 100 },
  'event fin': { events: [ev.open(0, 0), ev.typed(0, 0, D.Event, [1, 2], 1), ev.cfin(0, 0, 2)], endMs: 100 },
  commit: { events: [ev.open(0, 0), ev.typed(0, 4, D.StateCommit, [21], 1)], endMs: P.commitDelayMs + 50 },
  'commit fin': { events: [ev.open(0, 0), ev.typed(0, 4, D.StateCommit, [21], 1), ev.cfin(0, 4, 2)], endMs: P.commitDelayMs + 50 },
  action: { events: [ev.open(0, 0), ev.typed(0, 8, D.Action, [], 1)], endMs: 20 * P.actionIntervalMs },
  'unknown discriminator': { events: [ev.open(0, 0), ev.c2s(0, 0, new Uint8Array([7]), 1)], endMs: 50, close: { conn: 0, code: CloseCode.PROTOCOL_VIOLATION } },
  'duplicate event stream': { events: [ev.open(0, 0), ev.typed(0, 0, D.Event, [], 1), ev.typed(0, 4, D.Event, [], 2)], endMs: 50, close: { conn: 0, code: CloseCode.PROTOCOL_VIOLATION } },
  'non-increasing id': { events: [ev.open(0, 0), ev.typed(0, 0, D.Event, [3, 3], 1)], endMs: 50, close: { conn: 0, code: CloseCode.PROTOCOL_VIOLATION } },
  'second commit outstanding': { events: [ev.open(0, 0), ev.typed(0, 0, D.StateCommit, [1, 2], 1)], endMs: 50, close: { conn: 0, code: CloseCode.PROTOCOL_VIOLATION } },
  'ident timeout': { events: [ev.open(0, 0)], endMs: P.identTimeoutMs + 50, close: { conn: 0, code: CloseCode.IDENT_TIMEOUT } },
  'io timeout': { events: [ev.open(0, 0), ev.c2s(0, 0, new Uint8Array([D.Event, 0, 0]), 1)], endMs: P.ioTimeoutMs + 50, close: { conn: 0, code: CloseCode.IO_TIMEOUT } },
  'second connection': { events: [ev.open(0, 0), ev.typed(0, 0, D.Event, [1], 1), ev.open(1, 10)], endMs: 50, close: { conn: 1, code: CloseCode.SECOND_CONNECTION } },
  reset: { events: [ev.open(0, 0), ev.c2s(0, 0, new Uint8Array([0xff, 1, 2]), 1)], endMs: 50, close: { conn: 0, code: CloseCode.RESET_OK } },
  'client reset stream': { events: [ev.open(0, 0), ev.typed(0, 0, D.Event, [1], 1), ev.creset(0, 0, 3, 5)], endMs: 50, close: { conn: 0, code: CloseCode.PROTOCOL_VIOLATION } },
  'action client bytes': { events: [ev.open(0, 0), ev.typed(0, 0, D.Action, [9], 1)], endMs: 50, close: { conn: 0, code: CloseCode.PROTOCOL_VIOLATION } },
  'action, 30 intervals': { events: [ev.open(0, 0), ev.typed(0, 0, D.Action, [], 1)], endMs: 30 * P.actionIntervalMs },
  '40 events': { events: [ev.open(0, 0), ev.typed(0, 0, D.Event, Array.from({ length: 40 }, (_, i) => i + 1), 1)], endMs: 50 },
};

const closeOf = (trace: TraceEvent[], conn: number) => trace.find((e) => e.type === 'conn_close' && e.conn === conn && e.by === 'server');

t.test('the reference core conforms to its own model on every script', async (t) => {
  for (const [name, s] of Object.entries(scripts)) {
    const trace = simulate(new ProtonServerCore(P), s.events, s.endMs * 1000);
    const vs = check(P, trace, s.endMs);
    t.same(vs.map((v) => `${v.rule} ${v.expected} / ${v.seen}`), [], name);
    if (s.close) {
      const c = closeOf(trace, s.close.conn);
      t.ok(c, `${name}: server closed`);
      if (c?.type === 'conn_close') t.equal(c.code, s.close.code, `${name}: close code`);
    } else {
      t.notOk(closeOf(trace, 0), `${name}: no close`);
    }
  }
});

t.test('the core answers what the SPEC says', async (t) => {
  const trace = simulate(new ProtonServerCore(P), scripts['commit']!.events, (P.commitDelayMs + 50) * 1000);
  const answer = trace.find((e) => e.type === 'data' && e.dir === 's2c');
  t.equal(answer?.type === 'data' ? answer.hex : '', '0000002a');
  t.equal(answer!.t, 1000 + P.commitDelayMs * 1000, 'answer exactly after the processing delay');
  const actions = simulate(new ProtonServerCore(P), scripts['action']!.events, 20 * P.actionIntervalMs * 1000).filter((e) => e.type === 'data' && e.dir === 's2c');
  t.same(actions.slice(0, 3).map((e) => (e.type === 'data' ? e.hex : '')), ['00000001', '00000002', '00000003']);
  t.equal(actions.length, 19, 'one item per interval');
});

/** Which script exposes which fault, and the rule the monitor must name. */
const faultExpectations: Record<string, { script: string; rule: string }> = {
  'accept-second-connection': { script: 'second connection', rule: 'PROTON-2.2' },
  'ignore-unknown-discriminator': { script: 'unknown discriminator', rule: 'PROTON-3.2' },
  'allow-duplicate-stream': { script: 'duplicate event stream', rule: 'PROTON-3.3' },
  'never-time-out': { script: 'ident timeout', rule: 'PROTON-3.4' },
  'wrong-ack-id': { script: 'events pipelined', rule: 'PROTON-4.3' },
  'accept-non-increasing-ids': { script: 'non-increasing id', rule: 'PROTON-4.2' },
  'wrong-commit-answer': { script: 'commit', rule: 'PROTON-5.1' },
  'skip-action-items': { script: 'action', rule: 'PROTON-6.2' },
  'stop-actions-after-10': { script: 'action, 30 intervals', rule: 'PROTON-6.3' },
  'stop-acks-after-30': { script: '40 events', rule: 'PROTON-4.3' },
  'wrong-close-code': { script: 'unknown discriminator', rule: 'PROTON-3.2' },
  'ignore-reset': { script: 'reset', rule: 'PROTON-9.1' },
};

t.test('each fault is caught by the monitor with the right rule', async (t) => {
  t.same(Object.keys(faultExpectations).sort(), Object.keys(faults).sort(), 'every fault has an expectation');
  for (const [name, { script, rule }] of Object.entries(faultExpectations)) {
    const s = scripts[script]!;
    const trace = simulate(faults[name]!.create(P), s.events, s.endMs * 1000);
    const v = firstMust(check(P, trace, s.endMs + P.toleranceMs + 10));
    t.equal(v?.rule, rule, `${name} → ${rule} (${v?.expected ?? ''} / ${v?.seen ?? ''})`);
  }
});

const withP = (over: Partial<ProtonProfile>): ProtonProfile => ({ ...P, ...over });

t.test('monitor: hand-written violations', async (t) => {
  const base = [ev.open(0, 0), ev.typed(0, 0, D.Event, [1], 1)];
  const cases: [string, TraceEvent[], number | undefined, string, 'must' | 'should', boolean?][] = [
    ['wrong ack', [...base, ev.s2c(0, 0, encodeItems([2]), 2)], undefined, 'PROTON-4.3', 'must'],
    ['unsolicited ack', [ev.open(0, 0), ev.typed(0, 0, D.Event, [], 1), ev.s2c(0, 0, encodeItems([1]), 2)], undefined, 'PROTON-4.3', 'must'],
    ['missing ack', base, 1 + P.toleranceMs + 5, 'PROTON-4.3', 'must', true],
    ['ack split in two frames is fine, then missing second', [...base, ev.s2c(0, 0, new Uint8Array([0, 0]), 2), ev.s2c(0, 0, new Uint8Array([0, 1]), 3), ev.c2s(0, 0, encodeItems([2]), 4)], 4 + P.toleranceMs + 5, 'PROTON-4.3', 'must', true],
    ['close without cause', [...base, ev.s2c(0, 0, encodeItems([1]), 2), ev.sclose(0, 1, 'x', 10)], undefined, 'PROTON-2.7', 'must'],
    ['wrong close code', [ev.open(0, 0), ev.c2s(0, 0, new Uint8Array([9]), 1), ev.sclose(0, 4, 'x', 2)], undefined, 'PROTON-3.2', 'must'],
    ['empty reason', [ev.open(0, 0), ev.c2s(0, 0, new Uint8Array([9]), 1), ev.sclose(0, 1, '', 2)], undefined, 'PROTON-8.1', 'should'],
    ['reset reason', [ev.open(0, 0), ev.c2s(0, 0, new Uint8Array([0xff]), 1), ev.sclose(0, 0, 'bye', 2)], undefined, 'PROTON-9.1', 'must'],
    ['ident close too early (the timer\'s own rule)', [ev.open(0, 0), ev.sclose(0, 3, 'x', P.identTimeoutMs - P.toleranceMs - 10)], undefined, 'PROTON-3.4', 'must'],
    ['early close with a code no timer owes', [ev.open(0, 0), ev.sclose(0, 4, 'x', P.identTimeoutMs - P.toleranceMs - 10)], undefined, 'PROTON-2.7', 'must'],
    ['ident close missing', [ev.open(0, 0)], P.identTimeoutMs + P.toleranceMs + 5, 'PROTON-3.4', 'must', true],
    ['server stream reset (held for toleranceMs: no close came with it)', [...base, ev.s2c(0, 0, encodeItems([1]), 2), ev.sreset(0, 0, 1, 3)], 3 + P.toleranceMs + 5, 'PROTON-8.4', 'must'],
    ['server stream reset, then a client close before toleranceMs', [...base, ev.s2c(0, 0, encodeItems([1]), 2), ev.sreset(0, 0, 1, 3), ev.cclose(0, 5)], undefined, 'PROTON-8.4', 'must'],
    ['server STOP_SENDING, the client stack\'s RESET_STREAM answering it, then a close nothing owes: the close is judged', [...base, ev.s2c(0, 0, encodeItems([1]), 2), { type: 'stream_reset', t: 3000, conn: 0, stream: 0, dir: 'c2s', kind: 'stop_sending', code: 0 }, ev.creset(0, 0, 0, 3.5), ev.sclose(0, 4, 'x', 4)], undefined, 'PROTON-2.7', 'must'],
    ['server stream reset just before a close nothing owes: the close is judged', [...base, ev.s2c(0, 0, encodeItems([1]), 2), ev.sreset(0, 0, 1, 3), ev.sclose(0, 4, 'x', 4)], undefined, 'PROTON-2.7', 'must'],
    ['server FIN on action', [ev.open(0, 0), ev.typed(0, 0, D.Action, [], 1), ev.sfin(0, 0, 5)], undefined, 'PROTON-6.2', 'must'],
    ['server FIN before acks', [...base, ev.sfin(0, 0, 2)], undefined, 'PROTON-4.5', 'must'],
    ['late commit answer', [ev.open(0, 0), ev.typed(0, 0, D.StateCommit, [1], 1), ev.s2c(0, 0, encodeItems([2]), 1 + P.commitDelayMs + P.toleranceMs + 20)], undefined, 'PROTON-5.3', 'should'],
    ['early commit answer', [ev.open(0, 0), ev.typed(0, 0, D.StateCommit, [1], 1), ev.s2c(0, 0, encodeItems([2]), 2)], undefined, 'PROTON-5.3', 'should'],
    ['missing commit answer', [ev.open(0, 0), ev.typed(0, 0, D.StateCommit, [1], 1)], 1 + P.ioTimeoutMs + 5, 'PROTON-5.3', 'must', true],
    ['late action item', [ev.open(0, 0), ev.typed(0, 0, D.Action, [], 1), ev.s2c(0, 0, encodeItems([1]), 1 + P.actionIntervalMs + P.toleranceMs + 20)], undefined, 'PROTON-6.3', 'should'],
    ['action stops', [ev.open(0, 0), ev.typed(0, 0, D.Action, [], 1)], 1 + 2 * P.actionIntervalMs + P.toleranceMs + 5, 'PROTON-6.3', 'must', true],
    ['server-initiated stream', [...base, { type: 'stream_open', t: 2000, conn: 0, stream: 1, by: 'server' }], undefined, 'PROTON-2.1', 'must'],
    ['transport close', [...base, ev.s2c(0, 0, encodeItems([1]), 2), { type: 'conn_close', t: 9000, conn: 0, by: 'transport', isApp: false, code: 0, reason: 'idle' }], undefined, 'PROTON-2.4', 'must'],
    ['second connection not closed', [...base, ev.s2c(0, 0, encodeItems([1]), 2), ev.open(1, 10)], 10 + P.toleranceMs + 5, 'PROTON-2.2', 'must', true],
  ];
  for (const [name, trace, end, rule, severity, missing] of cases) {
    const vs = check(P, trace, end);
    t.equal(vs[0]?.rule, rule, `${name}: rule`);
    t.equal(vs[0]?.severity, severity, `${name}: severity`);
    t.equal(vs[0]?.missing ?? false, missing ?? false, `${name}: missing`);
    t.ok(vs[0]?.state, `${name}: carries the model state`);
  }
});

t.test('monitor: conforming hand-written traces', async (t) => {
  const ok: [string, TraceEvent[], number?, ProtonProfile?][] = [
    ['client closes with acks pending is fine', [ev.open(0, 0), ev.typed(0, 0, D.Event, [1], 1), ev.cclose(0, 2)], 1000],
    ['ident close within tolerance before the nominal time', [ev.open(0, 0), ev.sclose(0, 3, 'PROTON-3.4', P.identTimeoutMs - P.toleranceMs / 2)]],
    ['reopen allowed by profile', [ev.open(0, 0), ev.typed(0, 0, D.Event, [1], 1), ev.cfin(0, 0, 1), ev.s2c(0, 0, encodeItems([1]), 2), ev.sfin(0, 0, 3), ev.typed(0, 4, D.Event, [2], 4), ev.s2c(0, 4, encodeItems([2]), 5)], 6, withP({ reopenStreamType: true })],
    ['second connection after the first closed', [ev.open(0, 0), ev.typed(0, 0, D.Event, [1], 1), ev.s2c(0, 0, encodeItems([1]), 2), ev.cclose(0, 3), ev.open(1, 4), ev.typed(1, 0, D.Event, [1], 5), ev.s2c(1, 0, encodeItems([1]), 6)]],
  ];
  for (const [name, trace, end, profile] of ok) {
    t.same(check(profile ?? P, trace, end).map((v) => v.rule), [], name);
  }
});
