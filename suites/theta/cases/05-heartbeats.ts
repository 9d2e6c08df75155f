/** SPEC §5 Heartbeats: rate, seq, echo, RTT (plausible, clamped), the timeout. */
import type { ThetaProfile } from '../profile.js';
import { defineCase, Session, slack, type ThetaCase } from './_helpers.js';

const RATE = 'After the handshake the server MUST send a Heartbeat every interval: the first within one interval of the acknowledgement, then one per interval (SHOULD within ± toleranceMs; MUST within twice the interval); seq counts from 1.';

/**
 * How many intervals the rate and echo cases watch: at least 8, and past
 * the point where a server echoing nothing is a MUST violation (THETA-5.3:
 * the acknowledgement + heartbeatTimeoutMs + answerDeadlineMs).
 */
const beats = (p: ThetaProfile): number => Math.max(8, Math.ceil((p.heartbeatTimeoutMs + p.answerDeadlineMs) / p.heartbeatIntervalMs) + 4);

export const heartbeatCases: ThetaCase[] = [
  defineCase({
    id: 'theta/heartbeat/rate',
    section: '5',
    rules: ['THETA-5.1', 'THETA-5.2', 'THETA-5.4'],
    description: 'Handshakes, heartbeats every interval and watches at least 8 of the server\u2019s intervals.',
    requirement: RATE,
    expected: (p) => [`a server Heartbeat every ${p.heartbeatIntervalMs} ms (± ${p.toleranceMs} ms), seq 1, 2, 3, …`],
    deadlineMs: (p) => beats(p) * p.heartbeatIntervalMs + 3 * slack(p),
    async run(ctx) {
      const s = await Session.open(ctx);
      if (!(await s.handshake())) return;
      await ctx.sleep(beats(ctx.profile) * ctx.profile.heartbeatIntervalMs);
      const n = s.of('Heartbeat').length;
      if (!s.conn.isClosed && n < beats(ctx.profile) / 2) ctx.report({ rule: 'THETA-5.1', severity: 'must', expected: `about ${beats(ctx.profile)} heartbeats in as many intervals`, seen: `${n}` });
    },
  }),
  defineCase({
    id: 'theta/heartbeat/echo',
    section: '5',
    rules: ['THETA-5.3'],
    description: 'Handshakes and heartbeats every interval (each echoing the server\u2019s latest) for at least 8 intervals.',
    requirement: 'echo_seq and echo_sent_at_us repeat the latest client heartbeat the server had received when it sent (0 and 0 before the first); they never go backwards.',
    expected: () => ['every server heartbeat echoes one of ours, unchanged, the latest the server had'],
    deadlineMs: (p) => beats(p) * p.heartbeatIntervalMs + 3 * slack(p),
    async run(ctx) {
      const s = await Session.open(ctx);
      if (!(await s.handshake())) return;
      await ctx.sleep(beats(ctx.profile) * ctx.profile.heartbeatIntervalMs);
      const echoed = s.of('Heartbeat').filter((h) => h.echoSeq > 0).length;
      if (!s.conn.isClosed && echoed === 0) ctx.report({ rule: 'THETA-5.3', severity: 'must', expected: 'server heartbeats echoing ours', seen: 'no echo at all' });
    },
  }),
  defineCase({
    id: 'theta/heartbeat/rtt-plausible',
    section: '5',
    rules: ['THETA-5.5'],
    description: 'Handshakes and heartbeats for at least 8 intervals; compares each rtt_us and jitter_us with the time the session has lasted on the harness\u2019s clock.',
    requirement: 'RTT never exceeds the time the exchange took on the harness\u2019s clock plus clockSkewMs (SHOULD); jitter is the absolute change of RTT.',
    expected: (p) => [`rtt_us and jitter_us at most the session\u2019s age + ${p.clockSkewMs} ms`],
    deadlineMs: (p) => beats(p) * p.heartbeatIntervalMs + 3 * slack(p),
    async run(ctx) {
      const s = await Session.open(ctx);
      const start = ctx.trace.now();
      if (!(await s.handshake())) return;
      await ctx.sleep(beats(ctx.profile) * ctx.profile.heartbeatIntervalMs);
      const bound = ctx.trace.now() - start + ctx.profile.clockSkewMs * 1000;
      const bad = s.of('Heartbeat').find((h) => h.rttUs > bound || h.jitterUs > bound);
      if (bad) ctx.report({ rule: 'THETA-5.5', severity: 'should', expected: `rtt_us and jitter_us ≤ ${bound} µs`, seen: `heartbeat ${bad.seq}: rtt_us ${bad.rttUs}, jitter_us ${bad.jitterUs}` });
    },
  }),
  defineCase({
    id: 'theta/heartbeat/future-echo',
    section: '5',
    rules: ['THETA-5.5'],
    description: 'Handshakes, waits for the server\u2019s first heartbeat and echoes it dated one hour in the future, then heartbeats normally.',
    requirement: 'A client echo dated in the future yields rtt_us = 0 in the server\u2019s heartbeat that echoes it (RTT clamped at 0).',
    expected: () => ['the server heartbeat echoing the future-dated one says rtt_us 0'],
    deadlineMs: (p) => 6 * p.heartbeatIntervalMs + 3 * slack(p),
    async run(ctx) {
      const s = await Session.open(ctx);
      if (!(await s.handshake(undefined, false))) return;
      if (!(await s.until((x) => x.of('Heartbeat').length > 0, 2 * ctx.profile.heartbeatIntervalMs + slack(ctx.profile)))) return;
      const first = s.of('Heartbeat')[0]!;
      const future = s.heartbeat({ echoSeq: first.seq, echoSentAtUs: first.sentAtUs + 3_600_000_000n });
      await s.send(future);
      await s.until((x) => x.of('Heartbeat').some((h) => h.echoSeq === future.seq), 2 * ctx.profile.heartbeatIntervalMs + slack(ctx.profile));
      s.startHeartbeats();
      await ctx.sleep(3 * ctx.profile.heartbeatIntervalMs);
    },
  }),
  defineCase({
    id: 'theta/heartbeat/timeout',
    section: '5',
    rules: ['THETA-5.6'],
    description: 'Handshakes, heartbeats for 3 intervals, then stops.',
    requirement: 'No client heartbeat for the heartbeat timeout MUST end the session with 0x6 HEARTBEAT_TIMEOUT, not before it.',
    expected: (p) => [`connection closed with 0x6 HEARTBEAT_TIMEOUT ${p.heartbeatTimeoutMs} ms (± ${p.toleranceMs} ms) after our last heartbeat`],
    deadlineMs: (p) => 3 * p.heartbeatIntervalMs + p.heartbeatTimeoutMs + 3 * slack(p),
    async run(ctx) {
      const s = await Session.open(ctx);
      if (!(await s.handshake())) return;
      await ctx.sleep(3 * ctx.profile.heartbeatIntervalMs);
      s.stopHeartbeats();
      await s.closed(ctx.profile.heartbeatTimeoutMs + 2 * slack(ctx.profile));
      await ctx.settle(slack(ctx.profile));
    },
  }),
  defineCase({
    id: 'theta/heartbeat/timeout-without-heartbeats',
    section: '5',
    rules: ['THETA-5.6'],
    description: 'Handshakes and never heartbeats.',
    requirement: 'No client heartbeat for the heartbeat timeout (from the acknowledgement) MUST end the session with 0x6 HEARTBEAT_TIMEOUT.',
    expected: (p) => [`connection closed with 0x6 HEARTBEAT_TIMEOUT ${p.heartbeatTimeoutMs} ms (± ${p.toleranceMs} ms) after the acknowledgement`],
    deadlineMs: (p) => p.heartbeatTimeoutMs + 3 * slack(p),
    async run(ctx) {
      const s = await Session.open(ctx);
      if (!(await s.handshake(undefined, false))) return;
      await s.closed(ctx.profile.heartbeatTimeoutMs + 2 * slack(ctx.profile));
      await ctx.settle(slack(ctx.profile));
    },
  }),
];
