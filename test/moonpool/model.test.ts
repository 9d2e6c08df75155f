/**
 * The Moonpool model as monitor (hand-written traces: each violation names
 * the right rule; conforming traces pass) and as the reference server's
 * core (simulated in memory against client scripts, its trace checked by
 * the monitor), and each fault's core caught with the right rule.
 */
import t from 'tap';
import type { TraceEvent } from '../../harness/engine/trace.js';
import { simulate } from '../../harness/engine/sim.js';
import { encodeHeader, PING } from '../../suites/moonpool/codec.js';
import { fastProfile as P, type MoonpoolProfile } from '../../suites/moonpool/profile.js';
import { MoonpoolServerCore } from '../../reference-server/moonpool/core.js';
import { faults } from '../../reference-server/moonpool/faults.js';
import { check, envl, ev, frames, ping, pong } from './_trace.js';

const D = P.replyDeadlineMs;
/** A deliberate impairment of connection `conn` at `ms` (trace v2 `impair` event, SPEC §10). */
const impair = (kind: 'stall' | 'restore' | 'cut', conn: number, ms: number): TraceEvent => ({ type: 'impair', t: ms * 1000, kind, conn });
const withP = (over: Partial<MoonpoolProfile>): MoonpoolProfile => ({ ...P, ...over });
const oversized = (id: number) => encodeHeader(BigInt(id), P.maxPayloadBytes + 1);
const partial = ping(9).subarray(0, 14);

t.test('monitor: hand-written violations name the rule', async (t) => {
  const base = [ev.open(0, 0), ev.c2s(0, ping(1), 1)];
  const cases: [string, TraceEvent[], number | undefined, string, 'must' | 'should', boolean?, MoonpoolProfile?][] = [
    ['reply with the wrong correlation id', [...base, ev.s2c(0, pong(2), 2)], undefined, 'MOONPOOL-3.2', 'must'],
    ['a second reply', [...base, ev.s2c(0, pong(1), 2), ev.s2c(0, pong(1), 3)], undefined, 'MOONPOOL-3.3', 'must'],
    ['unsolicited reply', [ev.open(0, 0), ev.s2c(0, pong(5), 2)], undefined, 'MOONPOOL-3.2', 'must'],
    ['reply on another connection', [...base, ev.open(1, 2), ev.s2c(1, pong(1), 3)], undefined, 'MOONPOOL-3.2', 'must'],
    ['PING answered PING', [...base, ev.s2c(0, ping(1), 2)], undefined, 'MOONPOOL-4.1', 'must'],
    ['reply to a non-PING (otherPayloads: ignore)', [ev.open(0, 0), ev.c2s(0, frames(envl(1, 'hello')), 1), ev.s2c(0, frames(envl(1, 'hello')), 2)], undefined, 'MOONPOOL-4.3', 'must'],
    ['missing PONG', base, 1 + D + 5, 'MOONPOOL-4.2', 'must', true],
    ['close for no reason', [...base, ev.s2c(0, pong(1), 2), ev.sclose(0, 10)], undefined, 'MOONPOOL-6.4', 'must'],
    ['FIN for no reason', [...base, ev.s2c(0, pong(1), 2), ev.sfin(0, 10)], undefined, 'MOONPOOL-6.4', 'must'],
    ['idle close before the idle timeout (the timer\'s own rule)', [...base, ev.s2c(0, pong(1), 2), ev.sclose(0, 1000)], undefined, 'MOONPOOL-7.4', 'must', false, withP({ idleTimeoutMs: 2000 })],
    ['early idle close of a stalled connection', [...base, ev.s2c(0, pong(1), 2), impair('stall', 0, 3), ev.sclose(0, 1000)], undefined, 'MOONPOOL-7.1', 'must', false, withP({ idleTimeoutMs: 2000 })],
    ['no close after an oversized length', [ev.open(0, 0), ev.c2s(0, oversized(1), 1)], 1 + D + 5, 'MOONPOOL-5.1', 'must', true],
    ['close after an oversized length, PING before it unanswered', [ev.open(0, 0), ev.c2s(0, new Uint8Array([...ping(1), ...oversized(2)]), 1), ev.sclose(0, 2)], undefined, 'MOONPOOL-5.1', 'must'],
    ['no close after a truncated frame and FIN', [ev.open(0, 0), ev.c2s(0, partial, 1), ev.cfin(0, 2)], 2 + D + 5, 'MOONPOOL-5.2', 'must', true],
    ['close after FIN with replies owed', [...base, ev.cfin(0, 2), ev.sclose(0, 3)], undefined, 'MOONPOOL-6.2', 'must'],
    ['no close after FIN (SHOULD)', [...base, ev.cfin(0, 2), ev.s2c(0, pong(1), 3)], 3 + D + 5, 'MOONPOOL-6.2', 'should', true],
    ['close during a stall', [...base, ev.s2c(0, pong(1), 2), impair('stall', 0, 3), ev.sclose(0, 200)], undefined, 'MOONPOOL-7.1', 'must'],
    ['close right after a stall', [...base, ev.s2c(0, pong(1), 2), impair('stall', 0, 3), impair('restore', 0, 400), ev.sclose(0, 410)], undefined, 'MOONPOOL-7.1', 'must'],
    ['PONG lost across a stall', [...base, impair('stall', 0, 2), ev.c2s(0, ping(2), 3), impair('restore', 0, 400)], 400 + D + 5, 'MOONPOOL-7.2', 'must', true],
    ['server stops serving after a framing error', [ev.open(0, 0), ev.c2s(0, oversized(1), 1), ev.sclose(0, 2), ev.open(1, 3), ev.sclose(1, 4, 'reset')], undefined, 'MOONPOOL-5.3', 'must'],
    ['server stops serving after a client vanished mid-frame', [ev.open(0, 0), ev.c2s(0, partial, 1), ev.creset(0, 2), ev.open(1, 3), ev.c2s(1, ping(1), 4)], 4 + D + 5, 'MOONPOOL-6.3', 'must', true],
    ['server ends inside a reply', [...base, ev.s2c(0, pong(1).subarray(0, 13), 2), ev.sclose(0, 3)], undefined, 'MOONPOOL-2.5', 'must'],
    ['server sends an oversized length', [...base, ev.s2c(0, oversized(1), 2)], undefined, 'MOONPOOL-2.5', 'must'],
    ['unreadable hex', [ev.open(0, 0), { type: 'data', t: 1000, conn: 0, stream: 0, dir: 's2c', hex: 'zz' }], undefined, 'MOONPOOL-2.1', 'must'],
  ];
  for (const [name, trace, end, rule, severity, missing, profile] of cases) {
    const vs = check(profile ?? P, trace, end);
    t.equal(vs[0]?.rule, rule, `${name}: rule`);
    t.equal(vs[0]?.severity, severity, `${name}: severity`);
    t.equal(vs[0]?.missing ?? false, missing ?? false, `${name}: missing`);
    t.ok(vs[0]?.state && vs[0].expected, `${name}: carries the model state and what was expected`);
  }
});

t.test('monitor: conforming traces', async (t) => {
  const ok: [string, TraceEvent[], number?, MoonpoolProfile?][] = [
    ['ping pong', [ev.open(0, 0), ev.c2s(0, ping(1), 1), ev.s2c(0, pong(1), 2)], 1000],
    ['replies in any order, split anyhow', [ev.open(0, 0), ev.c2s(0, frames(envl(1, PING), envl(2, PING), envl(3, PING)), 1), ev.s2c(0, pong(3).subarray(0, 5), 2), ev.s2c(0, new Uint8Array([...pong(3).subarray(5), ...pong(1), ...pong(2)]), 3)], 1000],
    ['the same id on two connections', [ev.open(0, 0), ev.open(1, 0), ev.c2s(0, ping(7), 1), ev.c2s(1, ping(7), 1), ev.s2c(1, pong(7), 2), ev.s2c(0, pong(7), 2)], 1000],
    ['other payloads ignored', [ev.open(0, 0), ev.c2s(0, frames(envl(1, ''), envl(2, 'ping'), envl(3, PING)), 1), ev.s2c(0, pong(3), 2)], 1000],
    ['other payloads echoed (otherPayloads: reply)', [ev.open(0, 0), ev.c2s(0, frames(envl(1, 'abc')), 1), ev.s2c(0, frames(envl(1, 'abc')), 2)], 1000, withP({ otherPayloads: 'reply' })],
    ['client closes with replies owed', [ev.open(0, 0), ev.c2s(0, ping(1), 1), ev.cclose(0, 2)], 5000],
    ['oversized: earlier PING answered, then the close', [ev.open(0, 0), ev.c2s(0, new Uint8Array([...ping(1), ...oversized(2)]), 1), ev.s2c(0, pong(1), 2), ev.sclose(0, 3)], 5000],
    ['truncated then FIN: close', [ev.open(0, 0), ev.c2s(0, partial, 1), ev.cfin(0, 2), ev.sfin(0, 3), ev.cclose(0, 3)], 5000],
    ['FIN: replies, then the server FIN', [ev.open(0, 0), ev.c2s(0, ping(1), 1), ev.cfin(0, 2), ev.s2c(0, pong(1), 3), ev.sfin(0, 4)], 5000],
    ['idle timeout declared', [ev.open(0, 0), ev.c2s(0, ping(1), 1), ev.s2c(0, pong(1), 2), ev.sclose(0, 1900)], 5000, withP({ idleTimeoutMs: 2000 })],
    ['cut: the end and the missing replies are expected', [ev.open(0, 0), ev.c2s(0, ping(1), 1), impair('cut', 0, 2), ev.sclose(0, 3, 'reset')], 5000],
    ['a stall longer than the deadline, the PONG after the restore', [ev.open(0, 0), impair('stall', 0, 0), ev.c2s(0, ping(1), 1), impair('restore', 0, 2 * D), ev.s2c(0, pong(1), 2 * D + 10)], 5000],
    ['a new connection after a framing error is served', [ev.open(0, 0), ev.c2s(0, oversized(1), 1), ev.sclose(0, 2), ev.open(1, 3), ev.c2s(1, ping(1), 4), ev.s2c(1, pong(1), 5)], 5000],
  ];
  for (const [name, trace, end, profile] of ok) t.same(check(profile ?? P, trace, end).map((v) => `${v.rule} ${v.expected} / ${v.seen}`), [], name);
});

/** Client scripts (client-side events, ms) and the close the server must do, if any. */
const scripts: Record<string, { events: TraceEvent[]; endMs: number; close?: number }> = {
  ping: { events: [ev.open(0, 0), ev.c2s(0, ping(1), 1)], endMs: 100 },
  'many in flight, split': { events: [ev.open(0, 0), ev.c2s(0, frames(...Array.from({ length: 30 }, (_, i) => envl(i * 7, PING))).subarray(0, 100), 1), ev.c2s(0, frames(...Array.from({ length: 30 }, (_, i) => envl(i * 7, PING))).subarray(100), 2)], endMs: 100 },
  'other payloads': { events: [ev.open(0, 0), ev.c2s(0, frames(envl(1, 'x'), envl(2, ''), envl(3, PING)), 1)], endMs: 100 },
  'max payload': { events: [ev.open(0, 0), ev.c2s(0, frames(envl(1, new Uint8Array(P.maxPayloadBytes)), envl(2, PING)), 1)], endMs: 100 },
  oversized: { events: [ev.open(0, 0), ev.c2s(0, new Uint8Array([...ping(1), ...oversized(2), ...ping(3)]), 1)], endMs: D + 100, close: 0 },
  'truncated then FIN': { events: [ev.open(0, 0), ev.c2s(0, new Uint8Array([...ping(1), ...partial]), 1), ev.cfin(0, 2)], endMs: D + 100, close: 0 },
  'FIN after requests': { events: [ev.open(0, 0), ev.c2s(0, frames(envl(1, PING), envl(2, PING)), 1), ev.cfin(0, 2)], endMs: 100, close: 0 },
  'client vanishes mid-frame, next connection': { events: [ev.open(0, 0), ev.c2s(0, partial, 1), ev.cclose(0, 2), ev.open(1, 3), ev.c2s(1, ping(1), 4)], endMs: D + 100 },
  'silent for a while': { events: [ev.open(0, 0), ev.c2s(0, ping(1), 1), ev.c2s(0, ping(2), 1 + 2 * P.stallMs)], endMs: 2 * P.stallMs + D + 100 },
  'concurrent connections, same ids': { events: [ev.open(0, 0), ev.open(1, 0), ev.c2s(1, ping(5), 1), ev.c2s(0, ping(5), 2)], endMs: 100 },
  '150 pipelined, in 3 writes': { events: [ev.open(0, 0), ...[0, 1, 2].map((w) => ev.c2s(0, frames(...Array.from({ length: 50 }, (_, i) => envl(w * 50 + i, PING))), 1 + w))], endMs: D + 100 },
};

const serverCloses = (trace: TraceEvent[]) => trace.filter((e) => e.type === 'conn_close' && e.by === 'server').map((e) => (e as { conn: number }).conn);

t.test('the reference core conforms to its own model on every script', async (t) => {
  for (const [name, s] of Object.entries(scripts)) {
    const trace = simulate(new MoonpoolServerCore(P), s.events, s.endMs * 1000);
    t.same(check(P, trace, s.endMs).map((v) => `${v.rule} ${v.expected} / ${v.seen}`), [], name);
    t.same(serverCloses(trace), s.close === undefined ? [] : [s.close], `${name}: closes`);
  }
  const pongs = simulate(new MoonpoolServerCore(P), scripts['many in flight, split']!.events, 100_000).filter((e) => e.type === 'data' && e.dir === 's2c');
  t.equal(pongs.length, 2, 'one write per received chunk');
  const echo = simulate(new MoonpoolServerCore(withP({ otherPayloads: 'reply' })), scripts['other payloads']!.events, 100_000);
  t.same(echo.filter((e) => e.type === 'data' && e.dir === 's2c').map((e) => (e as { hex: string }).hex), [Buffer.from(frames(envl(1, 'x'), envl(2, ''), envl(3, 'PONG'))).toString('hex')], 'otherPayloads: reply echoes');
  const idle = simulate(new MoonpoolServerCore(withP({ idleTimeoutMs: 300 })), scripts['ping']!.events, 1_000_000);
  t.same(serverCloses(idle), [0], 'an idle timeout, when declared, closes');
  t.equal(idle.find((e) => e.type === 'conn_close')!.t, 301_000, 'exactly idleTimeoutMs after the last byte');
});

/** Which script exposes which fault, and the rule the monitor must name. */
const faultExpectations: Record<string, { script: string; rules: string[] }> = {
  'wrong-correlation-id': { script: 'ping', rules: ['MOONPOOL-3.2'] },
  'wrong-pong-payload': { script: 'ping', rules: ['MOONPOOL-4.1'] },
  'drop-replies-after-stall': { script: 'silent for a while', rules: ['MOONPOOL-4.2'] },
  'close-stalled-connection': { script: 'silent for a while', rules: ['MOONPOOL-6.4'] },
  'accept-oversized': { script: 'oversized', rules: ['MOONPOOL-5.1'] },
  'crash-on-truncated': { script: 'client vanishes mid-frame, next connection', rules: ['MOONPOOL-6.3'] },
  'stop-after-100': { script: '150 pipelined, in 3 writes', rules: ['MOONPOOL-4.2'] },
  'drop-every-7th': { script: '150 pipelined, in 3 writes', rules: ['MOONPOOL-4.2'] },
};

t.test('every fault breaks its rule in the model', async (t) => {
  t.same(Object.keys(faultExpectations).sort(), Object.keys(faults).sort(), 'every fault has an expectation');
  for (const [name, exp] of Object.entries(faultExpectations)) {
    const s = scripts[exp.script]!;
    const trace = simulate(faults[name]!.create(P), s.events, s.endMs * 1000);
    const vs = check(P, trace, s.endMs);
    t.ok(vs.length > 0, `${name}: caught`);
    t.ok(exp.rules.includes(vs[0]?.rule ?? ''), `${name}: names ${exp.rules.join(' or ')} (got ${vs[0]?.rule ?? 'none'}: ${vs[0]?.seen ?? ''})`);
  }
});

t.test('v1 stall notes are still read as impair events (transitional, until fuzz programs emit impair steps)', async (t) => {
  const base = [ev.open(0, 0), ev.c2s(0, ping(1), 1), ev.s2c(0, pong(1), 2)];
  t.same(check(P, [...base, ev.note('moonpool:stall conn=0', 3), ev.sclose(0, 200)]).map((v) => v.rule), ['MOONPOOL-7.1'], 'a stall note');
  t.same(check(P, [...base, ev.note('fixture: moonpool:stall conn=0 — a falls silent', 3), ev.sclose(0, 200)]).map((v) => v.rule), ['MOONPOOL-7.1'], 'as a fixture step comment');
  t.same(check(P, [...base, impair('stall', 0, 3), ev.sclose(0, 200)]).map((v) => v.rule), ['MOONPOOL-7.1'], 'the same as an impair event');
});

t.test('server mode ignores impair events (the server\'s own view has none)', async (t) => {
  const trace = simulate(new MoonpoolServerCore(P), [ev.open(0, 0), impair('stall', 0, 1), ev.c2s(0, ping(1), 2), impair('cut', 0, 3), ev.c2s(0, ping(2), 4)], 100_000);
  t.equal(trace.filter((e) => e.type === 'data' && e.dir === 's2c').length, 2, 'both PINGs answered at once');
});

t.test('PING constant', async (t) => {
  t.equal(Buffer.from(PING).toString(), 'PING');
});
