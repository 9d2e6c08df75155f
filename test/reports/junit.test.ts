import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { toJunit, writeJunitReport } from '../../harness/reports/junit.js';
import type { CaseResult } from '../../harness/engine/types.js';
import { allCases, errorCase, failCase, makeRun, nonStrictCase, passCase, skippedCase, timeoutCase } from './fixtures.js';

/** A parsed element: attributes (no prefix), `#text`, and child elements (always arrays for repeatable ones). */
type El = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: false,
  // Elements that may repeat are always arrays; the rest are single objects.
  isArray: (name, _path, _leaf, isAttribute) =>
    isAttribute !== true && ['testsuite', 'properties', 'testcase', 'property', 'failure', 'error', 'skipped', 'system-out'].includes(name),
});

/** Checks well-formedness with fast-xml-parser's validator, then parses. */
function parse(xml: string): { root: El; suite: El; cases: El[] } {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`not well-formed XML: ${JSON.stringify(valid.err)}`);
  const doc = parser.parse(xml) as El;
  const root = doc['testsuites'] as El | undefined;
  if (root === undefined) throw new Error('no <testsuites> root');
  const suites = root['testsuite'] as El[];
  const suite = suites[0];
  if (suites.length !== 1 || suite === undefined) throw new Error(`expected one <testsuite>, got ${suites.length}`);
  return { root, suite, cases: (suite['testcase'] as El[] | undefined) ?? [] };
}

/** The only child `name` of an element (throws when absent or repeated). */
function only(el: El | undefined, name: string): El {
  const list = el?.[name] as El[] | undefined;
  if (list === undefined || list.length !== 1 || list[0] === undefined) throw new Error(`expected one <${name}>`);
  return list[0];
}

/** Text content of a parsed element (a text-only element with attributes keeps it in `#text`). */
function text(el: El | string | undefined): string {
  if (typeof el === 'string') return el;
  return String(el?.['#text'] ?? '');
}

/** Child element names of a testcase, sorted. */
function children(el: El): string[] {
  return Object.keys(el)
    .filter((k) => !['classname', 'name', 'time', '#text'].includes(k))
    .sort();
}

t.test('well-formed, one <testsuites> with one <testsuite> and the counters', async (t) => {
  const xml = toJunit(makeRun());
  t.ok(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n'), 'XML declaration');
  t.ok(xml.endsWith('</testsuites>\n'), 'ends with the root and a newline');
  const { root, suite, cases } = parse(xml);
  const want = { tests: '6', failures: '2', errors: '1', skipped: '1' };
  for (const el of [root, suite]) {
    for (const [k, v] of Object.entries(want)) t.equal(el[k], v, k);
    // 1573.5 ms: toFixed(3) of the binary 1.5735 may round either way.
    t.match(el['time'], /^1\.57[34]$/, 'time in seconds');
  }
  t.equal(root['name'], 'wirecheck');
  t.equal(suite['name'], 'proton');
  t.equal(suite['timestamp'], '2025-03-01T10:00:00.000Z');
  t.equal(cases.length, allCases.length, 'one testcase per case');
  t.same(
    cases.map((c) => [c['classname'], c['name'], c['time']]),
    [
      ['proton.4', 'proton/event/pipelined', '0.012'],
      ['proton.4', 'proton/event/wrong-stream', '0.030'],
      ['proton.4', 'proton/close/reason', '0.008'],
      ['proton.4', 'proton/timer/ident', '1.520'],
      ['proton.4', 'proton/connect/basic', '0.003'],
      ['proton.4', 'proton/stream/reopen', '0.000'],
    ],
  );
});

t.test('suite properties: target, spec version, profile JSON, tool version', async (t) => {
  const run = makeRun();
  const { suite } = parse(toJunit(run));
  const props = Object.fromEntries((only(suite, 'properties')['property'] as El[]).map((p) => [p['name'], p['value']]));
  t.same(props, {
    target: 'quic://127.0.0.1:4433',
    protocol: 'proton',
    specVersion: '1.0',
    profile: JSON.stringify(run.profile),
    tool: 'wirecheck',
    toolVersion: '0.1.0',
    nonStrict: '1',
  });
  t.same(JSON.parse(String(props['profile'])), run.profile, 'profile round-trips as JSON');
  const out = text(only(suite, 'system-out'));
  t.match(out, /^wirecheck 0\.1\.0: protocol proton, spec 1\.0, target quic:\/\/127\.0\.0\.1:4433$/m);
  t.match(out, /^probe before run: ok$/m);
  t.match(out, /^probe after proton\/connect\/basic: FAILED: handshake timed out$/m);
});

t.test('verdict mapping: pass, fail, non-strict, timeout, error, skipped', async (t) => {
  const { cases } = parse(toJunit(makeRun()));
  const [pass, fail, nonStrict, timeout, error, skipped] = cases as [El, El, El, El, El, El];

  t.same(children(pass), [], 'pass: no child element');

  t.same(children(fail), ['failure']);
  const f = only(fail, 'failure');
  t.equal(f['type'], 'fail');
  t.equal(f['message'], 'PROTON-4.2: data on stream 0 before the request ended');
  const ft = text(f);
  t.match(ft, /^Case: proton\/event\/wrong-stream: Sends a request # with a hash and a \\ backslash$/m);
  t.match(ft, /^Rule: PROTON-4\.2 \(MUST\)$/m);
  t.match(ft, /^Requirement: The server MUST answer every request on the stream it came on\.$/m);
  t.match(ft, /^Expected: an answer on stream 0$/m);
  t.match(ft, /^ {6}or: a close with code 0x3$/m);
  t.match(ft, /^Model expected: nothing on stream 0 until FIN$/m);
  t.match(ft, /^Seen: data on stream 0 before the request ended$/m);
  t.match(ft, /^State: awaiting-request \(event 5 at \+12\.345ms\)$/m);
  t.match(ft, /^ {2}\+12\.345ms conn0 s2c stream 0 data 00000001 {2}<-- violation$/m, 'trace excerpt with the violation marked');
  t.match(ft, /^ {2}\+20\.000ms conn0 close by server app code 0x1d reason "bad item"$/m);
  t.notMatch(ft, /Trace file:/, 'no trace file when none was written');
  const linked = parse(toJunit(makeRun([{ ...failCase, traceFile: 'traces/proton/proton_event_wrong-stream.jsonl' }]))).cases[0];
  t.match(text(only(linked, 'failure')), /^Trace file: traces\/proton\/proton_event_wrong-stream\.jsonl$/m, 'trace file linked');

  t.same(children(nonStrict), ['system-out'], 'non-strict: passes, with a note');
  const ns = text(only(nonStrict, 'system-out'));
  t.match(ns, /^non-strict: PROTON-8\.3 \(SHOULD\) was not met: an empty reason$/m);
  t.match(ns, /Every MUST held; the case passes\./);
  t.match(ns, /^Message: close reason was empty$/m);

  t.same(children(timeout), ['failure']);
  const to = only(timeout, 'failure');
  t.equal(to['type'], 'timeout');
  t.equal(to['message'], 'PROTON-3.4: no close within 500 ms');
  t.match(text(to), /^State: identifying \(deadline \+520\.000ms, nothing seen\)$/m);
  t.match(text(to), /^ {2}\(27 earlier events\)$/m);
  t.match(text(to), /^ {2}\+520\.000ms deadline passed: close by server within 500 ms {2}<-- violation$/m);

  t.same(children(error), ['error']);
  const e = only(error, 'error');
  t.equal(e['type'], 'error');
  t.equal(e['message'], errorCase.message);
  t.match(text(e), /^The target failed the sanity probe after this case\.$/m);
  t.notMatch(text(e), /^Rule:/m, 'no rule for a harness error');

  t.same(children(skipped), ['skipped']);
  t.equal(only(skipped, 'skipped')['message'], skippedCase.message);
});

t.test('counters follow the cases; an all-passing run has no failure elements', async (t) => {
  const { root, cases } = parse(toJunit(makeRun([passCase, nonStrictCase, skippedCase])));
  t.equal(root['tests'], '3');
  t.equal(root['failures'], '0');
  t.equal(root['errors'], '0');
  t.equal(root['skipped'], '1');
  t.notOk(cases.some((c) => 'failure' in c || 'error' in c));
  const two = parse(toJunit(makeRun([failCase, timeoutCase, { ...timeoutCase, id: 'proton/timer/two' }]))).root;
  t.equal(two['failures'], '3', 'fail and timeout are both failures');
});

t.test('an empty run is an empty suite', async (t) => {
  const { root, suite, cases } = parse(toJunit(makeRun([])));
  t.equal(root['tests'], '0');
  t.equal(suite['tests'], '0');
  t.equal(cases.length, 0);
});

t.test('hostile text: markup, quotes, line breaks and control characters stay data', async (t) => {
  const nasty: CaseResult = {
    ...failCase,
    id: 'proton/weird/<&>"\'',
    description: 'ends with ]]> and </failure></testcase><testcase name="x">',
    requirement: 'line one\r\nline two\rline three',
    message: 'multi\nline "message" with <tags> & \u0000nul \u001besc \ud800 lone',
    rule: 'R&1',
    violation: { rule: 'R&1', severity: 'must', expected: '<x/>', seen: 'seen\n<y>' },
    trace: [{ type: 'note', t: 1, text: ']]><!-- -->' }],
  };
  const xml = toJunit(makeRun([nasty]));
  const { cases } = parse(xml);
  t.equal(cases.length, 1, 'no injected testcase');
  const c = cases[0] as El;
  t.equal(c['name'], nasty.id, 'name round-trips');
  const f = only(c, 'failure');
  t.equal(f['message'], 'R&1: multi line "message" with <tags> & \\u0000nul \\u001besc \\ud800 lone', 'message is one line, invalid characters escaped');
  const ft = text(f);
  t.match(ft, /^Case: proton\/weird\/<&>"': ends with \]\]> and <\/failure><\/testcase><testcase name="x">$/m);
  t.match(ft, /^Requirement: line one\nline two\nline three$/m, 'line ends normalised');
  t.match(ft, /^Model expected: <x\/>$/m);
  t.match(ft, /^Seen: seen\n<y>$/m);
  t.match(ft, /note "\]\]><!-- -->"/);
  t.notMatch(xml, /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/, 'no control character in the output');
});

t.test('writeJunitReport writes the XML to a new directory', async (t) => {
  const dir = t.testdir({});
  const file = join(dir, 'out', 'proton.xml');
  const written = await writeJunitReport(makeRun(), file);
  t.equal(written, file);
  const xml = await readFile(file, 'utf8');
  t.equal(xml, toJunit(makeRun()));
  t.equal(parse(xml).cases.length, 6);
});

t.test('--reporter values: one format, both, all, comma-separated lists', async (t) => {
  const { reportFormats } = await import('../../harness/cli/outputs.js');
  t.same(reportFormats('tap'), ['tap']);
  t.same(reportFormats('junit'), ['junit']);
  t.same(reportFormats('both'), ['tap', 'json'], 'both is tap and json, as before');
  t.same(reportFormats('all'), ['tap', 'json', 'junit', 'html']);
  t.same(reportFormats('junit, tap'), ['tap', 'junit'], 'listed once each, in a fixed order');
  t.same(reportFormats('both,junit,tap'), ['tap', 'json', 'junit']);
  t.throws(() => reportFormats('xml'), /--reporter "xml": unknown reporter "xml"\. Allowed choices are tap, json, both, junit, all/);
  t.throws(() => reportFormats('tap,'), /empty entry/);
});
