import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Parser, type FinalResults, type Result } from 'tap-parser';
import { toTap, writeTapReport } from '../../harness/reports/tap.js';
import type { CaseResult } from '../../harness/engine/types.js';
import { allCases, errorCase, failCase, makeRun, nonStrictCase, passCase, skippedCase, timeoutCase } from './fixtures.js';

interface Parsed {
  results: FinalResults;
  asserts: Result[];
  comments: string[];
  extra: string[];
}

/** Parses TAP in strict mode (non-TAP lines are errors), collecting test points and comments. */
function parse(tap: string): Parsed {
  const asserts: Result[] = [];
  const comments: string[] = [];
  const extra: string[] = [];
  let results: FinalResults | undefined;
  const p = new Parser({ strict: true }, (r) => (results = r));
  p.on('assert', (a: Result) => asserts.push(a));
  p.on('comment', (c: string) => comments.push(c));
  p.on('extra', (e: string) => extra.push(e));
  p.end(tap);
  if (results === undefined) throw new Error('tap-parser did not complete');
  return { results, asserts, comments, extra };
}

t.test('TAP 14 structure: version, header comments, plan, one point per case', async (t) => {
  const tap = toTap(makeRun());
  const lines = tap.split('\n');
  t.equal(lines[0], 'TAP version 14');
  t.equal(lines[1], '# wirecheck 0.1.0: protocol proton, spec 1.0, target quic://127.0.0.1:4433');
  t.ok(tap.endsWith('\n'));
  t.ok(lines.includes('1..6'));
  t.ok(lines.indexOf('1..6') < lines.findIndex((l) => l.startsWith('ok 1 ')), 'plan comes first');
  t.match(tap, /^# probe after proton\/connect\/basic: FAILED: handshake timed out$/m);
  t.match(tap, /^# probe before run: ok$/m);
  t.match(tap, /^# 6 cases: 1 pass, 1 fail, 1 non-strict, 1 timeout, 1 error, 1 skipped$/m);
  t.match(tap, /^not ok 2 - proton\/event\/wrong-stream: Sends a request \\# with a hash and a \\\\ backslash$/m);
  t.match(tap, /^ok 3 - proton\/close\/reason: Closes with an unknown code # TODO non-strict: PROTON-8\.3$/m);
  t.match(tap, /^ok 6 - proton\/stream\/reopen: Reopens a stream type # SKIP profile: reopenStreamType is false$/m);
});

t.test('tap-parser counts: non-strict is todo and does not fail; fail/timeout/error fail', async (t) => {
  const { results, asserts, comments, extra } = parse(toTap(makeRun()));
  t.same(extra, [], 'no non-TAP lines');
  t.same(results.failures.filter((f) => 'tapError' in f && f.tapError), [], 'no TAP errors');
  t.equal(results.count, 6);
  t.equal(results.pass, 3, 'pass, non-strict and skipped are ok');
  t.equal(results.fail, 3);
  t.equal(results.skip, 1);
  t.equal(results.todo, 1);
  t.equal(results.ok, false);
  t.equal(results.plan.start, 1);
  t.equal(results.plan.end, 6);
  t.same(
    asserts.map((a) => [a.id, a.ok, a.name]),
    [
      [1, true, 'proton/event/pipelined: Sends two requests back to back'],
      [2, false, 'proton/event/wrong-stream: Sends a request # with a hash and a \\ backslash'],
      [3, true, 'proton/close/reason: Closes with an unknown code'],
      [4, false, 'proton/timer/ident: Never identifies'],
      [5, false, 'proton/connect/basic: Connects'],
      [6, true, 'proton/stream/reopen: Reopens a stream type'],
    ],
  );
  t.equal(asserts[2]?.todo, 'non-strict: PROTON-8.3');
  t.equal(asserts[5]?.skip, 'profile: reopenStreamType is false');
  t.same(
    results.failures.map((f) => (f as Result).name.split(':')[0]),
    ['proton/event/wrong-stream', 'proton/timer/ident', 'proton/connect/basic'],
  );
  t.ok(comments.some((c) => /target failed the sanity probe after proton\/connect\/basic/.test(c)));
});

t.test('only pass, non-strict and skipped: the TAP run is ok', async (t) => {
  const { results } = parse(toTap(makeRun([passCase, nonStrictCase, skippedCase])));
  t.equal(results.ok, true);
  t.equal(results.fail, 0);
  t.equal(results.todo, 1);
  t.equal(results.skip, 1);
});

t.test('YAML diagnostics parse and carry the facts', async (t) => {
  const { asserts } = parse(toTap(makeRun()));
  const diag = (i: number): Record<string, unknown> => {
    const d: unknown = asserts[i]?.diag;
    if (d === null || typeof d !== 'object') throw new Error(`no diagnostics on point ${i + 1}`);
    return d as Record<string, unknown>;
  };
  allCases.forEach((c, i) => {
    const d = diag(i);
    t.equal(d['verdict'], c.verdict, `${c.id}: verdict`);
    t.equal(d['id'], c.id);
    t.same(d['rules'], c.rules, `${c.id}: rules`);
    t.equal(d['requirement'], c.requirement);
    t.same(d['expected'], c.expected);
    // tap-parser moves a numeric `duration_ms` diagnostic to the point's `time`.
    t.equal(asserts[i]?.time ?? d['duration_ms'], c.durationMs, `${c.id}: duration_ms`);
  });

  const fail = diag(1);
  t.equal(fail['rule'], 'PROTON-4.2');
  t.equal(fail['severity'], 'must');
  t.equal(fail['seen'], failCase.violation?.seen);
  t.equal(fail['model_expected'], 'nothing on stream 0 until FIN');
  t.equal(fail['state'], 'awaiting-request');
  t.same(fail['at'], { index: 5, t_ms: 12.345 });
  const trace = fail['trace'] as string[];
  t.ok(Array.isArray(trace));
  t.ok(trace.length <= 13 + 2);
  t.equal(trace.filter((l) => l.endsWith('<-- violation')).length, 1);
  t.ok(trace.includes('+12.345ms conn0 s2c stream 0 data 00000001  <-- violation'), 'violating event marked');
  t.ok(trace.includes('+20.000ms conn0 close by server app code 0x1d reason "bad item"'));

  const nonStrict = diag(2);
  t.equal(nonStrict['rule'], 'PROTON-8.3');
  t.equal(nonStrict['severity'], 'should');
  t.equal(nonStrict['message'], 'close reason was empty');

  const timeout = diag(3);
  t.equal(timeout['rule'], 'PROTON-3.4');
  t.same(timeout['at'], { deadline_ms: 520, missing: true });
  const ttrace = timeout['trace'] as string[];
  t.equal(ttrace[0], '(27 earlier events)', 'last events of the trace when a deadline passed');
  t.equal(ttrace.at(-1), '+520.000ms deadline passed: close by server within 500 ms  <-- violation');
  t.equal(ttrace.at(-2), '+39.000ms conn0 s2c stream 4 data 27');

  const error = diag(4);
  t.equal(error['message'], errorCase.message);
  t.equal(error['target_died_after'], true);
  t.notOk('rule' in error);

  t.notOk('trace' in diag(0), 'no trace excerpt for a pass by default');
  t.notOk('trace' in diag(5), 'no trace excerpt for a skip');
  t.equal(diag(5)['message'], skippedCase.message);
});

t.test('options: pass traces and excerpt radius', async (t) => {
  const { asserts } = parse(toTap(makeRun([passCase, timeoutCase]), { passTrace: true, traceRadius: 1 }));
  const passDiag = asserts[0]?.diag as Record<string, unknown>;
  t.same(passDiag['trace'], [
    '(3 earlier events)',
    '+1.350ms conn0 c2s stream 0 data 0100000a',
    '+1.400ms conn0 c2s stream 0 fin',
    '+12.345ms conn0 s2c stream 0 data 00000001',
  ]);
  const tdiag = asserts[1]?.diag as Record<string, unknown>;
  t.equal((tdiag['trace'] as string[]).length, 1 + 3 + 1);
});

t.test('hostile text cannot break the TAP or YAML framing', async (t) => {
  const nasty: CaseResult = {
    ...failCase,
    id: 'proton/weird/text',
    description: 'ends with # SKIP not really\nnot ok 99 - injected',
    requirement: 'line one\n  ...\n---\nnot ok 98 - injected\n# comment',
    expected: ['key: value', '- dash', '"quoted"', '  ...'],
    message: 'multi\nline # TODO fake',
    violation: { rule: 'PROTON-X', severity: 'must', expected: '...', seen: '---\n...' },
    trace: [{ type: 'note', t: 1, text: '\n  ...\nnot ok 97' }],
  };
  const tap = toTap(makeRun([nasty, { ...nonStrictCase, rule: 'R#1' }]));
  const { results, asserts, extra } = parse(tap);
  t.same(extra, []);
  t.equal(results.count, 2, 'no injected test points');
  t.equal(results.fail, 1);
  t.equal(results.skip, 0, 'no injected SKIP');
  t.equal(results.todo, 1);
  t.equal(asserts[0]?.name, 'proton/weird/text: ends with # SKIP not really not ok 99 - injected');
  t.equal(asserts[1]?.todo, 'non-strict: R#1');
  const d = asserts[0]?.diag as Record<string, unknown>;
  t.equal(d['requirement'], nasty.requirement, 'multi-line requirement round-trips');
  t.same(d['expected'], nasty.expected);
  t.equal(d['seen'], '---\n...');
  t.equal(d['message'], nasty.message);
});

t.test('an empty run is a skip-all plan', async (t) => {
  const tap = toTap(makeRun([]));
  t.match(tap, /^1\.\.0 # SKIP no cases$/m);
  const { results } = parse(tap);
  t.equal(results.ok, true);
  t.equal(results.count, 0);
});

t.test('writeTapReport writes the TAP to a new directory', async (t) => {
  const dir = t.testdir({});
  const file = join(dir, 'out', 'run.tap');
  const written = await writeTapReport(makeRun(), file);
  t.equal(written, file);
  const text = await readFile(file, 'utf8');
  t.equal(text, toTap(makeRun()));
  t.equal(parse(text).results.count, 6);
});
