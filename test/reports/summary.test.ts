import t from 'tap';
import {
  formatDuration,
  formatProgress,
  formatSummary,
  shouldColor,
} from '../../harness/reports/summary.js';
import {
  allCases,
  errorCase,
  failCase,
  makeRun,
  nonStrictCase,
  passCase,
  skippedCase,
  timeoutCase,
} from './fixtures.js';

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/;

t.test('formatSummary: counts, each non-pass case with expected vs actual', async (t) => {
  const out = formatSummary(makeRun(), { color: false });
  t.notMatch(out, ANSI, 'no escapes with color: false');
  t.ok(out.endsWith('\n'));
  t.match(out, /^wirecheck 0\.1\.0 {2}proton \(spec 1\.0\) {2}target quic:\/\/127\.0\.0\.1:4433$/m);
  t.match(out, /^6 cases: 1 pass, 1 fail, 1 non-strict, 1 timeout, 1 error, 1 skipped$/m);
  for (const c of [failCase, nonStrictCase, timeoutCase, errorCase, skippedCase]) {
    t.ok(out.includes(c.id), `${c.id} (${c.verdict}) listed`);
  }
  t.notOk(out.includes(passCase.id), 'passing cases are not listed');

  // The failing case, h2spec style.
  const failBlock = out.slice(out.indexOf('FAIL       proton/event/wrong-stream'), out.indexOf('NON-STRICT proton/close/reason'));
  t.match(out, /^ {2}FAIL {7}proton\/event\/wrong-stream {2}\(30 ms\)$/m);
  t.match(failBlock, /-> PROTON-4\.2 \(MUST\): The server MUST answer every request on the stream it came on\./);
  t.match(failBlock, /^ +Expected: an answer on stream 0$/m);
  t.match(failBlock, /^ +or: a close with code 0x3$/m);
  t.match(failBlock, /^ +Actual: data on stream 0 before the request ended$/m);
  t.match(failBlock, /Model: expected nothing on stream 0 until FIN; state awaiting-request \(event 5 at \+12\.345ms\)/);
  t.match(failBlock, /\+12\.345ms conn0 s2c stream 0 data 00000001 {2}<-- violation/);

  const nsBlock = out.slice(out.indexOf('NON-STRICT proton/close/reason'));
  t.match(nsBlock, /-> PROTON-8\.3 \(SHOULD\)/);
  t.match(nsBlock, /Actual: an empty reason/);
  t.match(nsBlock, /Message: close reason was empty/);

  t.match(out, /TIMEOUT {4}proton\/timer\/ident {2}\(1\.52 s\)/);
  t.match(out, /deadline \+520\.000ms, nothing seen/);
  t.match(out, /\+520\.000ms deadline passed {2}<-- violation/);
  t.match(out, /ERROR {6}proton\/connect\/basic/);
  t.match(out, /Error: harness: connect ECONNREFUSED 127\.0\.0\.1:4433/);
  t.match(out, /The target failed the sanity probe after this case\./);
  t.match(out, /^Sanity probe failed:\n {2}after proton\/connect\/basic: handshake timed out$/m);
  t.match(out, /^Skipped:\n {2}proton\/stream\/reopen: profile: reopenStreamType is false$/m);
  t.match(out, /^Result: FAILED \(1 fail, 1 timeout, 1 error\) in 1\.57 s\n$/m);

  // Cases are listed in run order.
  const order = [failCase, nonStrictCase, timeoutCase, errorCase].map((c) =>
    out.indexOf(`${c.verdict.toUpperCase().padEnd(10)} ${c.id}`),
  );
  t.notOk(order.includes(-1));
  t.same(order, [...order].sort((a, b) => a - b));
});

t.test('formatSummary: overall result lines', async (t) => {
  const result = (cases: typeof allCases): string => {
    const out = formatSummary(makeRun(cases), { color: false });
    return out.trimEnd().split('\n').at(-1) ?? '';
  };
  t.equal(result([passCase]), 'Result: PASSED in 1.57 s');
  t.equal(result([passCase, nonStrictCase, skippedCase]), 'Result: PASSED (NOT STRICT) (1 non-strict) in 1.57 s');
  t.equal(result([passCase, errorCase]), 'Result: INCOMPLETE (1 error) in 1.57 s');
  t.equal(result([passCase, timeoutCase]), 'Result: FAILED (1 timeout) in 1.57 s');
  t.equal(result([skippedCase]), 'Result: NOTHING RUN in 1.57 s');
  t.equal(result([]), 'Result: NOTHING RUN in 1.57 s');
});

t.test('formatSummary: trace radius option', async (t) => {
  const none = formatSummary(makeRun([failCase]), { color: false, traceRadius: -1 });
  t.notMatch(none, /Trace:/);
  const wide = formatSummary(makeRun([failCase]), { color: false, traceRadius: 20 });
  t.match(wide, /\+25\.000ms conn1 fail "connect ECONNREFUSED 127\.0\.0\.1:4433"/);
  t.notMatch(wide, /earlier event/);
});

t.test('colour: explicit option, NO_COLOR, FORCE_COLOR', async (t) => {
  const coloured = formatSummary(makeRun(), { color: true });
  t.match(coloured, ANSI, 'escapes with color: true');
  t.match(coloured, '\u001b[31mFAILED\u001b[39m', 'FAILED in red');
  t.equal(coloured.replace(new RegExp(ANSI.source, 'g'), ''), formatSummary(makeRun(), { color: false }), 'same text');

  const saved = { NO_COLOR: process.env['NO_COLOR'], FORCE_COLOR: process.env['FORCE_COLOR'] };
  t.teardown(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  process.env['FORCE_COLOR'] = '1';
  process.env['NO_COLOR'] = '1';
  t.notMatch(formatSummary(makeRun()), ANSI, 'NO_COLOR wins when no option is given');
  t.notMatch(formatProgress(failCase, 0, 1), ANSI);
  delete process.env['NO_COLOR'];
  t.match(formatProgress(failCase, 0, 1), ANSI, 'FORCE_COLOR turns colour on');

  t.equal(shouldColor({ isTTY: true }, {}), true);
  t.equal(shouldColor({ isTTY: false }, {}), false);
  t.equal(shouldColor(undefined, {}), false);
  t.equal(shouldColor({ isTTY: true }, { NO_COLOR: '1' }), false);
  t.equal(shouldColor({ isTTY: true }, { NO_COLOR: '' }), true, 'empty NO_COLOR is ignored');
  t.equal(shouldColor({ isTTY: true }, { TERM: 'dumb' }), false);
  t.equal(shouldColor({ isTTY: false }, { FORCE_COLOR: '1' }), true);
  t.equal(shouldColor({ isTTY: true }, { FORCE_COLOR: '0' }), false);
  t.equal(shouldColor({ isTTY: true }, { NODE_DISABLE_COLORS: '1' }), false);
});

t.test('formatProgress: one line per case', async (t) => {
  const total = 41;
  t.equal(formatProgress(passCase, 2, total, { color: false }), '[ 3/41] PASS       proton/event/pipelined  (12 ms)');
  t.equal(
    formatProgress(failCase, 40, total, { color: false }),
    '[41/41] FAIL       proton/event/wrong-stream  (30 ms)  PROTON-4.2: data on stream 0 before the request ended',
  );
  t.equal(
    formatProgress(nonStrictCase, 0, 3, { color: false }),
    '[1/3] NON-STRICT proton/close/reason  (8 ms)  PROTON-8.3: close reason was empty',
  );
  t.equal(
    formatProgress(timeoutCase, 0, 3, { color: false }),
    '[1/3] TIMEOUT    proton/timer/ident  (1.52 s)  PROTON-3.4: no close within 500 ms',
  );
  t.equal(
    formatProgress(errorCase, 0, 3, { color: false }),
    '[1/3] ERROR      proton/connect/basic  (3 ms)  harness: connect ECONNREFUSED 127.0.0.1:4433  [target died]',
  );
  t.equal(
    formatProgress(skippedCase, 0, 3, { color: false }),
    '[1/3] SKIPPED    proton/stream/reopen  (0 ms)  profile: reopenStreamType is false',
  );
  const multi = formatProgress({ ...failCase, message: 'one\ntwo' }, 0, 1, { color: false });
  t.notMatch(multi, /\n/);
  t.match(multi, /PROTON-4\.2: one two$/);
  t.match(formatProgress(passCase, 0, 1, { color: true }), '\u001b[32mPASS      \u001b[39m');
});

t.test('formatDuration', async (t) => {
  t.equal(formatDuration(0), '0 ms');
  t.equal(formatDuration(12.4), '12 ms');
  t.equal(formatDuration(999.4), '999 ms');
  t.equal(formatDuration(1573.5), '1.57 s');
  t.equal(formatDuration(125_000), '2 min 5.0 s');
});
