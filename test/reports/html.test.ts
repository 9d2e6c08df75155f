/**
 * The HTML report without a browser: the sequence layout (lanes, arrows and
 * their directions, frames, datagrams, the missed deadline, long traces),
 * SPEC links, escaping of everything from the target, the coverage
 * diagram, and `--reporter html` through writeReports.
 */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { TraceEvent } from '../../harness/engine/trace.js';
import type { CaseResult } from '../../harness/engine/types.js';
import { caseAnchor, coverageModel, layoutSequence, specSections, toHtmlReport } from '../../harness/reports/html/index.js';
import { ruleSection } from '../../harness/reports/html/spec.js';
import { reportFormats, specIndexFor, writeReports } from '../../harness/cli/outputs.js';
import { fastProfile } from '../../suites/proton/profile.js';
import { failCase, fullTrace, longTrace, makeRun, passCase, timeoutCase } from './fixtures.js';

t.test('layout: one lane per connection (with its role), then the server; arrows by direction', async (t) => {
  const trace: TraceEvent[] = [
    { type: 'conn_open', t: 0, conn: 0, remote: 'h:1', role: 'alice' },
    { type: 'conn_open', t: 5, conn: 1, remote: 'h:1' },
    { type: 'data', t: 10, conn: 1, stream: 0, dir: 'c2s', hex: '0100000001', frames: [{ discriminator: 'event' }, { event: 1 }] },
    { type: 'data', t: 20, conn: 1, stream: 0, dir: 's2c', hex: '00000001' },
    { type: 'stream_reset', t: 30, conn: 0, stream: 4, dir: 'c2s', kind: 'reset', code: 2 },
    { type: 'stream_reset', t: 31, conn: 0, stream: 4, dir: 's2c', kind: 'stop_sending', code: 3 },
    { type: 'dgram', t: 40, conn: 0, dir: 's2c', hex: 'ff' },
    { type: 'impair', t: 45, conn: 0, kind: 'stall', detail: 'proxy' },
    { type: 'stream_open', t: 50, conn: 1, stream: 3, by: 'server', dir: 'uni' },
    { type: 'conn_close', t: 60, conn: 1, by: 'transport', isApp: false, code: 0, reason: '' },
    { type: 'note', t: 70, text: 'done' },
  ];
  const l = layoutSequence(trace);
  t.same(l.lanes.map((x) => x.label), ['alice · conn 0', 'client · conn 1', 'server']);
  const arrows = l.rows.filter((r) => r.kind === 'arrow');
  const at = (i: number) => l.rows.filter((r) => r.index === i);
  t.same(at(2).map((r) => r.kind === 'arrow' && [r.from, r.to, r.label]), [[1, 2, 'discriminator event'], [1, 2, 'event 1']], 'one arrow per decoded frame, client to server');
  t.same(at(3).map((r) => r.kind === 'arrow' && [r.from, r.to, r.label]), [[2, 1, '00000001']], 'hex when nothing was decoded, server to client');
  t.same(at(4).map((r) => r.kind === 'arrow' && [r.from, r.to, r.label]), [[0, 2, 'RESET_STREAM code 0x2']], 'RESET_STREAM travels with the aborted data');
  t.same(at(5).map((r) => r.kind === 'arrow' && [r.from, r.to, r.label]), [[0, 2, 'STOP_SENDING code 0x3']], 'STOP_SENDING travels against it (RFC 9000 §19.5)');
  t.same(at(6).map((r) => r.kind === 'arrow' && [r.dashed, r.style]), [[true, 'dgram']], 'a datagram is dashed');
  t.same(at(7).map((r) => r.kind === 'mark' && [r.lane, r.label]), [[0, 'network stall: proxy']]);
  t.same(at(8).map((r) => r.kind === 'mark' && [r.lane, r.label]), [[2, 'opens stream 3 (uni)']], 'server-opened stream on the server lane');
  t.same(at(9).map((r) => r.kind === 'arrow' && [r.dashed, r.label]), [[true, 'connection close (transport) code 0x0 by the transport']]);
  t.same(at(10).map((r) => r.kind), ['note']);
  t.equal(arrows.length, 9);
  t.equal(l.violationIndex, undefined);
});

t.test('layout: the violating event, a missed deadline, and a window over long traces', async (t) => {
  t.equal(layoutSequence(failCase.trace, failCase.violation).violationIndex, 5);
  const timeout = layoutSequence(timeoutCase.trace, timeoutCase.violation, { maxEvents: 10 });
  const last = timeout.rows.at(-1)!;
  t.same([last.kind, last.index, last.t], ['note', -1, 520000], 'missed deadline is the last row');
  t.equal(timeout.violationIndex, -1);
  t.equal(timeout.rows.length, 11, '10 events and the deadline');
  t.equal(timeout.omittedBefore, 30, 'no centre: the end of the trace');
  const centred = layoutSequence(longTrace(100), { ...failCase.violation!, index: 50 } as typeof failCase.violation, { maxEvents: 10 });
  t.same([centred.omittedBefore, centred.omittedAfter], [45, 45], 'a window around the violation');
  t.ok(centred.rows.some((r) => r.index === 50));
});

t.test('SPEC links: GitHub anchors of numbered headings', async (t) => {
  const md = '# Title\n\n## 1. Conventions\n\n```\n## 9. not a heading\n```\n\n## 4. Event stream (`0x01`)\n\n### 4.2 Ids\n## 4. Event stream (`0x01`)\n';
  const s = specSections(md);
  t.same(s.get('1'), { number: '1', title: 'Conventions', anchor: '1-conventions' });
  t.same(s.get('4'), { number: '4', title: 'Event stream (0x01)', anchor: '4-event-stream-0x01' });
  t.same(s.get('4.2')?.anchor, '42-ids');
  t.notOk(s.has('9'), 'fenced code is not a heading');
  t.equal(ruleSection('PROTON-4.2'), '4');
  t.equal(ruleSection('MOONPOOL-10.1'), '10');
  t.equal(ruleSection('nonsense'), undefined);
  const spec = await specIndexFor('proton', path.join(process.cwd(), 'reports'));
  t.ok(spec, 'the suite SPEC is found');
  t.equal(spec!.href, '../suites/proton/SPEC.md', 'relative to the report folder');
  t.equal(spec!.sections.get('4')?.anchor, '4-event-stream-0x01');
  const page = toHtmlReport(makeRun([failCase]), { spec: spec! });
  t.match(page, /<a class="rule" href="\.\.\/suites\/proton\/SPEC\.md#4-event-stream-0x01" title="SPEC §4 Event stream \(0x01\)"><code>PROTON-4\.2<\/code><\/a>/);
  t.notMatch(toHtmlReport(makeRun([failCase])), /<a class="rule"/, 'without a SPEC: plain rule ids');
});

t.test('everything from the target is escaped; the page is self-contained', async (t) => {
  const evil = '</title><script>alert(1)</script><img src=x onerror=alert(2)>';
  const c: CaseResult = {
    ...failCase,
    id: 'proton/x/"><b>',
    description: evil,
    message: evil,
    trace: [
      ...fullTrace.slice(0, 5),
      { type: 'data', t: 12345, conn: 0, stream: 0, dir: 's2c', hex: '00', frames: [{ [evil]: evil }] },
      { type: 'note', t: 12400, text: evil },
      { type: 'conn_close', t: 13000, conn: 0, by: 'server', isApp: true, code: 1, reason: evil },
    ],
    violation: { rule: 'PROTON-4.2', severity: 'must', index: 5, t: 12345, expected: evil, seen: evil, state: evil, missing: false },
  };
  const page = toHtmlReport({ ...makeRun([c]), target: evil });
  t.equal(page.match(/<script/g)?.length, 1, 'only the report\u2019s own script');
  t.notMatch(page, /<img/, 'no markup from the target');
  t.notMatch(page, /"><b>/, 'the case id stays in its attribute');
  t.match(page, /&lt;script>alert\(1\)&lt;\/script>/, 'shown as text');
  t.notMatch(page, /\s(src|href)="(https?:)?\/\//, 'nothing loaded from the network');
  t.notMatch(page, /<link\b/);
  t.ok(page.startsWith('<!doctype html>\n<html lang="en">'));
  t.match(page, new RegExp(`id="${caseAnchor(c.id)}"`));
  t.equal(caseAnchor(c.id), 'case-proton-x-b-');
});

t.test('per case: verdicts, requirement, expected vs seen, the diagram with the violation marked', async (t) => {
  const page = toHtmlReport(makeRun());
  for (const v of ['pass', 'fail', 'non-strict', 'timeout', 'error', 'skipped']) t.match(page, new RegExp(`data-verdict="${v}"`));
  t.match(page, /<details class="case" id="case-proton-event-wrong-stream" data-verdict="fail" data-section="4" data-rules="PROTON-4.1 PROTON-4.2" open>/, 'failing case open');
  t.match(page, /<details class="case" id="case-proton-event-pipelined" data-verdict="pass" data-section="4" data-rules="PROTON-4.1 PROTON-4.2">/, 'passing case closed');
  t.match(page, /The server MUST answer every request on the stream it came on\./);
  t.match(page, /<th>model expected<\/th><td>nothing on stream 0 until FIN<\/td>/);
  t.match(page, /<g class="row arrow data violating" data-index="5">/);
  t.match(page, /class="expectation"/);
  t.match(page, /<g class="row note deadline violating" data-index="-1">/, 'the missed deadline of the timeout case');
  t.match(page, /<option value="4">§4<\/option>/, 'section filter');
  t.match(page, /No trace recorded\./, 'the skipped case');
});

t.test('coverage diagram: reached in colour, never reached in grey', async (t) => {
  const m = coverageModel(['state:conn-open', 'state:stream-event', 'transition:conn-open', 'transition:ack', 'odd'], { 'state:conn-open': 3, 'transition:ack': 1 });
  t.equal(m.reached, 2);
  t.equal(m.total, 5);
  t.same(m.states.map((g) => g.group), ['conn', 'stream']);
  t.same(m.transitions.flatMap((g) => g.items.map((i) => i.name)), ['conn-open', 'ack', 'odd']);
  const page = toHtmlReport(makeRun([passCase]), {
    campaign: {
      seed: 7,
      shard: { index: 0, count: 1 },
      arbitraries: ['sequences'],
      durationMs: 100,
      stats: { cases: 3, generated: 3, shrinkCases: 0, nonStrict: 0, errors: 0, duplicates: 0, probes: 3, probeFailures: 0 },
      perArbitrary: { sequences: { generated: 3, cases: 3, findings: 0, duplicates: 0 } },
      coverage: { labels: ['state:conn-open', 'state:stream-event', 'transition:ack'], hits: { 'state:conn-open': 3 } },
      findings: [],
    },
  });
  t.match(page, /<g class="cov state reached" data-label="state:conn-open">/);
  t.match(page, /<g class="cov state missed" data-label="state:stream-event">/);
  t.match(page, /<g class="cov transition missed" data-label="transition:ack">/);
  t.match(page, /States \(1\/2 reached\)/);
});

t.test('--reporter html: in `all`, written by writeReports with decoded frames', async (t) => {
  t.same(reportFormats('html'), ['html']);
  t.same(reportFormats('all'), ['tap', 'json', 'junit', 'html']);
  t.same(reportFormats('html,tap'), ['tap', 'html']);
  t.throws(() => reportFormats('htm'), /unknown reporter "htm"\. Allowed choices are .*html/);
  const dir = t.testdir({});
  const trace: TraceEvent[] = [
    { type: 'conn_open', t: 0, conn: 0, remote: '127.0.0.1:1', alpn: 'proton' },
    { type: 'stream_open', t: 10, conn: 0, stream: 0, by: 'client' },
    { type: 'data', t: 20, conn: 0, stream: 0, dir: 'c2s', hex: '0100000001' },
    { type: 'data', t: 30, conn: 0, stream: 0, dir: 's2c', hex: '00000001' },
  ];
  const run = { ...makeRun([{ ...passCase, trace }]), profile: fastProfile };
  const { written } = await writeReports(run, { reporter: 'html', out: dir, color: false });
  t.same(written, [path.join(dir, 'proton.html')]);
  const page = await readFile(written[0]!, 'utf8');
  t.match(page, />discriminator event<\/text>/, 'frames decoded by the suite\u2019s codec');
  t.match(page, />event 1<\/text>/);
  t.match(page, />ack 1<\/text>/);
  t.match(page, /href="traces\/proton\/proton_event_pipelined\.jsonl"/, 'the trace file is linked');
});
