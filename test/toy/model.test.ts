/**
 * Knock's model: the server mode (as a core, in virtual time) answers as the
 * SPEC says, and the monitor accepts its traces; a trace that deviates is
 * caught under the rule it breaks.
 */
import t from 'tap';
import { simulate } from '../../harness/engine/sim.js';
import { modelCore } from '../../harness/engine/server-core.js';
import { toHex, type TraceEvent } from '../../harness/engine/trace.js';
import type { Violation } from '../../harness/engine/types.js';
import { KnockModel } from './suites/knock/model.js';
import { fastProfile as P } from './suites/knock/profile.js';
import { judgeTrace } from '../_support/monitor.js';

const ms = (x: number): number => x * 1000;
const hex = (s: string): string => toHex(new TextEncoder().encode(s));
const open = (t: number): TraceEvent => ({ type: 'conn_open', t, conn: 0, remote: 'mem' });
const knock = (t: number, line: string, stream = 2): TraceEvent[] => [
  { type: 'stream_open', t, conn: 0, stream, by: 'client', dir: 'uni' },
  { type: 'data', t, conn: 0, stream, dir: 'c2s', hex: hex(line) },
  { type: 'stream_fin', t, conn: 0, stream, dir: 'c2s' },
];
const ping = (t: number, n: number): TraceEvent => ({ type: 'dgram', t, conn: 0, dir: 'c2s', hex: hex(`PING ${n}`) });

/** The monitor's verdicts on a whole trace, with time running to `end` (µs). */
function judge(trace: readonly TraceEvent[], end: number): Violation[] {
  return judgeTrace(new KnockModel(P), trace, end);
}

/** Client events and what the model's server mode does, in time order. */
function withServer(input: TraceEvent[], end: number): TraceEvent[] {
  return simulate(modelCore(new KnockModel(P, 'server')), input, end);
}

t.test('server mode: welcome on a server uni stream, pong, closes; the monitor accepts them', async (t) => {
  const ok = withServer([open(0), ...knock(ms(10), 'KNOCK alice\n'), ping(ms(20), 7)], ms(3000));
  const server = ok.filter((e) => e.type === 'data' && e.dir === 's2c');
  t.same(server.map((e) => e.type === 'data' && [e.stream, Buffer.from(e.hex, 'hex').toString()]), [[3, 'WELCOME alice\n']], 'welcome on stream 3 (the server\'s first uni stream)');
  t.ok(ok.some((e) => e.type === 'dgram' && e.dir === 's2c' && Buffer.from(e.hex, 'hex').toString() === 'PONG 7'), 'PONG 7');
  t.same(judge(ok, ms(3000)), [], 'the monitor accepts the conforming trace');

  const timeout = withServer([open(0)], ms(3000));
  const close = timeout.find((e) => e.type === 'conn_close');
  t.equal(close?.type === 'conn_close' && close.code, 2, 'no knock: close 0x2');
  t.equal(close?.t, ms(P.knockTimeoutMs), 'at the knock timeout');
  t.same(judge(timeout, ms(3000)), []);

  const bad = withServer([open(0), ...knock(ms(5), 'HELLO\n')], ms(3000));
  t.equal(bad.find((e) => e.type === 'conn_close')?.type === 'conn_close' && (bad.find((e) => e.type === 'conn_close') as { code: number }).code, 1, 'a bad knock: close 0x1');
  t.same(judge(bad, ms(3000)), []);
});

t.test('the monitor catches each deviation under its rule', async (t) => {
  const base = [open(0), ...knock(ms(10), 'KNOCK bob\n')];
  const welcome = (t0: number, text: string, stream = 3): TraceEvent[] => [
    { type: 'stream_open', t: t0, conn: 0, stream, by: 'server', dir: stream % 4 === 3 ? 'uni' : 'bidi' },
    { type: 'data', t: t0, conn: 0, stream, dir: 's2c', hex: hex(text) },
    { type: 'stream_fin', t: t0, conn: 0, stream, dir: 's2c' },
  ];
  const rules = (vs: Violation[]): string[] => vs.map((v) => `${v.rule}/${v.severity}`);
  t.same(rules(judge(base, ms(2000))), ['KNOCK-1.1/must'], 'no welcome: KNOCK-1.1 missed');
  t.same(rules(judge([...base, ...welcome(ms(20), 'WELCOME eve\n')], ms(2000))), ['KNOCK-1.1/must'], 'wrong name');
  t.same(rules(judge([...base, ...welcome(ms(20), 'WELCOME bob\n', 1)], ms(2000))), ['KNOCK-1.2/must', 'KNOCK-1.2/must', 'KNOCK-1.1/must'], 'welcome on a server bidi stream');
  t.same(rules(judge([...base, ...welcome(ms(20 + P.answerDeadlineMs), 'WELCOME bob\n')], ms(2000))), ['KNOCK-1.1/must'], 'late welcome');
  t.same(rules(judge([...base, ...welcome(ms(20), 'WELCOME bob\n'), ping(ms(30), 1)], ms(2000))), ['KNOCK-2.1/should'], 'no pong: a SHOULD');
  t.same(rules(judge([...base, ...welcome(ms(20), 'WELCOME bob\n'), { type: 'dgram', t: ms(30), conn: 0, dir: 's2c', hex: hex('PONG 9') }], ms(2000))), ['KNOCK-2.2/must'], 'unsolicited datagram');
  t.same(rules(judge([...base, ...welcome(ms(20), 'WELCOME bob\n'), { type: 'conn_close', t: ms(40), conn: 0, by: 'server', isApp: true, code: 0, reason: '' }], ms(2000))), ['KNOCK-3.3/must'], 'close of a conforming connection');
  t.same(rules(judge([open(0), { type: 'conn_close', t: ms(100), conn: 0, by: 'server', isApp: true, code: 2, reason: '' }], ms(2000))), ['KNOCK-3.2/must'], 'knock timeout too early');
  t.same(rules(judge([open(0), ...knock(ms(5), 'HELLO\n')], ms(2000))), ['KNOCK-3.1/must'], 'bad knock not closed');
});
