/**
 * Trace format v2: the new events (`dgram`, `impair`, `stream_open.dir`,
 * `role`) against the schema; reading version-1 traces: their impairment
 * notes (`moonpool:stall|restore|cut conn=N`, bare or as a fixture comment)
 * come out as v2 `impair` events, so a v1 trace validates as its v2 form;
 * a v2 trace's notes are left alone.
 */
import t from 'tap';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TRACE_FORMAT_VERSION, type TraceEvent } from '../../harness/engine/trace.js';
import { checkEvent, checkHeader, readTrace, upgradeV1Event, writeTrace } from '../../harness/traces/file.js';
import { validateTraceFile } from '../../harness/traces/validate.js';

const dir = await mkdtemp(path.join(tmpdir(), 'wirecheck-upgrade-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

t.test('upgradeV1Event: impairment notes become impair events, the rest is unchanged', async (t) => {
  const note = (text: string, t = 5): TraceEvent => ({ type: 'note', t, text });
  t.same(upgradeV1Event(note('moonpool:stall conn=3')), { type: 'impair', t: 5, kind: 'stall', conn: 3 });
  t.same(upgradeV1Event(note('moonpool:restore conn=0')), { type: 'impair', t: 5, kind: 'restore', conn: 0 });
  t.same(upgradeV1Event(note('moonpool:cut conn=12 reset_peer toxic')), { type: 'impair', t: 5, kind: 'cut', conn: 12, detail: 'reset_peer toxic' });
  t.same(upgradeV1Event(note('fixture: moonpool:stall conn=0 — a falls silent: a stall')), { type: 'impair', t: 5, kind: 'stall', conn: 0, detail: 'a falls silent: a stall' }, 'fixture comment, separator dropped');
  for (const text of ['fixture: a falls silent: moonpool:stall conn=0', 'moonpool:stall conn=x', 'moonpool:stall conn=10x', 'moonpool:pause conn=1', 'fixture:moonpool:stall conn=1']) {
    t.same(upgradeV1Event(note(text)), note(text), `left as a note: ${text}`);
  }
  const data: TraceEvent = { type: 'data', t: 1, conn: 0, stream: 0, dir: 'c2s', hex: '00' };
  t.equal(upgradeV1Event(data), data, 'other events pass through');
});

t.test('readTrace upgrades v1 traces only', async (t) => {
  const lines = (version: number) =>
    [
      { type: 'header', format: 'wirecheck-trace', version, protocol: 'moonpool' },
      { type: 'conn_open', t: 0, conn: 0, remote: 'x' },
      { type: 'note', t: 1, text: 'moonpool:stall conn=0' },
      { type: 'note', t: 2, text: 'fixture: moonpool:restore conn=0 — over' },
    ].map((x) => JSON.stringify(x)).join('\n') + '\n';
  const read = async (version: number): Promise<TraceEvent[]> => {
    const file = path.join(dir, `v${version}.jsonl`);
    await writeFile(file, lines(version));
    const evs: TraceEvent[] = [];
    await readTrace(file, () => undefined, (ev) => void evs.push(ev));
    return evs;
  };
  t.same((await read(1)).map((e) => e.type), ['conn_open', 'impair', 'impair']);
  t.match((await read(1))[2], { type: 'impair', kind: 'restore', conn: 0, detail: 'over', t: 2 });
  t.same((await read(2)).map((e) => e.type), ['conn_open', 'note', 'note'], 'a v2 note is a note');
});

t.test('trace v2 events pass the event schema; malformed ones are named', async (t) => {
  const good: unknown[] = [
    { type: 'dgram', t: 1, conn: 0, dir: 'c2s', hex: '0a0b' },
    { type: 'dgram', t: 1, conn: 0, dir: 's2c', hex: '', frames: [{ kind: 'ping' }], role: 'alice' },
    { type: 'impair', t: 2, kind: 'stall', conn: 1 },
    { type: 'impair', t: 2, kind: 'cut', conn: 1, detail: 'reset_peer', role: 'bob' },
    { type: 'stream_open', t: 3, conn: 0, stream: 3, by: 'server', dir: 'uni' },
    { type: 'stream_open', t: 3, conn: 0, stream: 0, by: 'client' },
    { type: 'conn_open', t: 0, conn: 0, remote: 'x', role: 'a' },
    { type: 'note', t: 0, text: 'x', role: 'a' },
  ];
  for (const ev of good) t.doesNotThrow(() => checkEvent(ev, 'f', 2), JSON.stringify(ev));
  const bad: [unknown, RegExp][] = [
    [{ type: 'dgram', t: 1, conn: 0, dir: 'c2s', hex: 'ABC' }, /f:2: \/hex: /],
    [{ type: 'dgram', t: 1, conn: 0, hex: '00' }, /f:2: .*dir/],
    [{ type: 'impair', t: 1, kind: 'slow', conn: 0 }, /f:2: \/kind: /],
    [{ type: 'impair', t: 1, kind: 'stall' }, /f:2: .*conn/],
    [{ type: 'stream_open', t: 1, conn: 0, stream: 2, by: 'client', dir: 'both' }, /f:2: \/dir: /],
    [{ type: 'data', t: 1, conn: 0, stream: 0, dir: 'c2s', hex: '00', role: '' }, /f:2: \/role: /],
  ];
  for (const [ev, re] of bad) t.throws(() => checkEvent(ev, 'f', 2), { name: 'TraceFileError', message: re }, JSON.stringify(ev));
  t.doesNotThrow(() => checkHeader({ type: 'header', format: 'wirecheck-trace', version: TRACE_FORMAT_VERSION, protocol: 'proton' }, 'f'));
  t.throws(() => checkHeader({ type: 'header', format: 'wirecheck-trace', version: 3, protocol: 'proton' }, 'f'), { message: /f:1: header \/version: / });
});

t.test('writeTrace / readTrace round-trip v2 events', async (t) => {
  const file = path.join(dir, 'round.jsonl');
  const events: TraceEvent[] = [
    { type: 'conn_open', t: 0, conn: 0, remote: 'x', role: 'alice' },
    { type: 'stream_open', t: 1, conn: 0, stream: 3, by: 'server', dir: 'uni' },
    { type: 'dgram', t: 2, conn: 0, dir: 's2c', hex: 'ff' },
    { type: 'impair', t: 3, kind: 'stall', conn: 0, detail: 'moonpool:stall conn=0' },
    { type: 'note', t: 4, text: 'moonpool:stall conn=0' },
  ];
  await writeTrace(file, { type: 'header', format: 'wirecheck-trace', version: TRACE_FORMAT_VERSION, protocol: 'proton' }, events);
  const got: TraceEvent[] = [];
  await readTrace(file, () => undefined, (ev) => void got.push(ev));
  t.same(got, events);
});

t.test('a v1 trace with stall notes validates as its v2 form with impair events', async (t) => {
  const corpus = fileURLToPath(new URL('../../fixtures/moonpool/traces/', import.meta.url));
  const files = (await readdir(corpus)).filter((f) => f.endsWith('.jsonl')).sort();
  let withNotes = 0;
  for (const f of files) {
    const lines = (await readFile(path.join(corpus, f), 'utf8')).split('\n').filter((l) => l.trim() !== '');
    const header = JSON.parse(lines[0]!) as Record<string, unknown>;
    t.equal(header.version, 1, `${f}: a v1 trace`);
    const events = lines.slice(1).map((l) => JSON.parse(l) as TraceEvent);
    // The v2 form written by hand (not by upgradeV1Event): each impairment note as an impair event.
    const v2 = events.map((ev) => {
      const m = ev.type === 'note' ? /^moonpool:(stall|restore|cut) conn=(\d+)$/.exec(ev.text) : null;
      return m ? { type: 'impair', t: ev.t, kind: m[1], conn: Number(m[2]) } : ev;
    });
    if (v2.some((ev, i) => ev !== events[i])) withNotes++;
    const file2 = path.join(dir, f);
    await writeFile(file2, [JSON.stringify({ ...header, version: 2 }), ...v2.map((e) => JSON.stringify(e))].join('\n') + '\n');
    const [a, b] = [await validateTraceFile(path.join(corpus, f)), await validateTraceFile(file2)];
    const gist = (r: typeof a) => ({ verdict: r.verdict, rule: r.violation?.rule, index: r.violation?.index, t: r.violation?.t, events: r.events, window: r.window.map((w) => ({ ...w.event, ...(w.event.type === 'impair' ? { detail: undefined } : {}) })) });
    t.same(gist(a), gist(b), `${f}: same verdict, rule, index and window`);
  }
  t.ok(withNotes >= 3, `${withNotes} corpus traces carry impairment notes`);
});
