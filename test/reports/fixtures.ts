/**
 * Hand-built runs for the reporter tests: every verdict, monitor violations
 * and case findings, and traces holding every event type.
 */
import type { CaseResult, RunResult, Verdict } from '../../harness/engine/types.js';
import type { TraceEvent } from '../../harness/engine/trace.js';

/** A trace with every event type (index in comments). */
export const fullTrace: readonly TraceEvent[] = [
  /* 0 */ { type: 'note', t: 0, text: 'opening a connection' },
  /* 1 */ { type: 'conn_open', t: 1200, conn: 0, remote: '127.0.0.1:4433', alpn: 'proton/1' },
  /* 2 */ { type: 'stream_open', t: 1300, conn: 0, stream: 0, by: 'client' },
  /* 3 */ { type: 'data', t: 1350, conn: 0, stream: 0, dir: 'c2s', hex: '0100000a' },
  /* 4 */ { type: 'stream_fin', t: 1400, conn: 0, stream: 0, dir: 'c2s' },
  /* 5 */ { type: 'data', t: 12345, conn: 0, stream: 0, dir: 's2c', hex: '00000001' },
  /* 6 */ { type: 'stream_reset', t: 13000, conn: 0, stream: 0, dir: 's2c', kind: 'reset', code: 2 },
  /* 7 */ { type: 'stream_reset', t: 13100, conn: 0, stream: 0, dir: 'c2s', kind: 'stop_sending', code: 0 },
  /* 8 */ { type: 'conn_close', t: 20000, conn: 0, by: 'server', isApp: true, code: 0x1d, reason: 'bad item' },
  /* 9 */ { type: 'conn_fail', t: 25000, conn: 1, message: 'connect ECONNREFUSED 127.0.0.1:4433' },
];

/** A long trace (40 data events) to test excerpts. */
export function longTrace(n = 40): TraceEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    type: 'data' as const,
    t: i * 1000,
    conn: 0,
    stream: 4,
    dir: i % 2 === 0 ? ('c2s' as const) : ('s2c' as const),
    hex: i.toString(16).padStart(2, '0'),
  }));
}

const base = {
  section: '4',
  rules: ['PROTON-4.1', 'PROTON-4.2'],
  requirement: 'The server MUST answer every request on the stream it came on.',
  expected: ['an answer on stream 0', 'a close with code 0x3'],
} as const;

export const passCase: CaseResult = {
  ...base,
  id: 'proton/event/pipelined',
  description: 'Sends two requests back to back',
  verdict: 'pass',
  durationMs: 12.4,
  trace: fullTrace.slice(0, 6),
};

export const failCase: CaseResult = {
  ...base,
  id: 'proton/event/wrong-stream',
  description: 'Sends a request # with a hash and a \\ backslash',
  verdict: 'fail',
  rule: 'PROTON-4.2',
  message: 'data on stream 0 before the request ended',
  violation: {
    rule: 'PROTON-4.2',
    severity: 'must',
    index: 5,
    t: 12345,
    expected: 'nothing on stream 0 until FIN',
    seen: 'data on stream 0 before the request ended',
    state: 'awaiting-request',
    missing: false,
  },
  durationMs: 30,
  trace: fullTrace,
};

export const nonStrictCase: CaseResult = {
  ...base,
  id: 'proton/close/reason',
  description: 'Closes with an unknown code',
  verdict: 'non-strict',
  rule: 'PROTON-8.3',
  message: 'close reason was empty',
  violation: { rule: 'PROTON-8.3', severity: 'should', expected: 'a non-empty reason', seen: 'an empty reason' },
  durationMs: 8,
  trace: fullTrace.slice(0, 9),
};

export const timeoutCase: CaseResult = {
  ...base,
  id: 'proton/timer/ident',
  description: 'Never identifies',
  verdict: 'timeout',
  rule: 'PROTON-3.4',
  message: 'no close within 500 ms',
  violation: {
    rule: 'PROTON-3.4',
    severity: 'must',
    index: -1,
    t: 520000,
    expected: 'close by server within 500 ms',
    seen: 'nothing',
    state: 'identifying',
    missing: true,
  },
  durationMs: 1520,
  trace: longTrace(),
};

export const errorCase: CaseResult = {
  ...base,
  id: 'proton/connect/basic',
  description: 'Connects',
  verdict: 'error',
  message: 'harness: connect ECONNREFUSED 127.0.0.1:4433',
  durationMs: 3,
  trace: [fullTrace[9] as TraceEvent],
  targetDiedAfter: true,
};

export const skippedCase: CaseResult = {
  ...base,
  id: 'proton/stream/reopen',
  description: 'Reopens a stream type',
  verdict: 'skipped',
  message: 'profile: reopenStreamType is false',
  durationMs: 0,
  trace: [],
};

export const allCases: readonly CaseResult[] = [passCase, failCase, nonStrictCase, timeoutCase, errorCase, skippedCase];

/** Counts per verdict, as the engine fills `summary`. */
export function summarise(cases: readonly CaseResult[]): RunResult['summary'] {
  const s: Record<Verdict, number> = { pass: 0, fail: 0, 'non-strict': 0, timeout: 0, error: 0, skipped: 0 };
  for (const c of cases) s[c.verdict]++;
  return { ...s, total: cases.length };
}

/** A run with the given cases (every verdict by default). */
export function makeRun(cases: readonly CaseResult[] = allCases): RunResult {
  return {
    tool: { name: 'wirecheck', version: '0.1.0' },
    protocol: 'proton',
    specVersion: '1.0',
    target: 'quic://127.0.0.1:4433',
    profile: { identTimeoutMs: 500, ioTimeoutScope: 'partial-item' },
    startedAt: '2025-03-01T10:00:00.000Z',
    durationMs: 1573.5,
    probes: [
      { when: 'before run', ok: true },
      { when: 'after proton/connect/basic', ok: false, message: 'handshake timed out' },
    ],
    cases,
    summary: summarise(cases),
  };
}
