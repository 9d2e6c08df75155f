/**
 * Data events read as bytes (harness/traces/fast-event.ts `dataBytes`,
 * readTrace's DataHandler, Monitor.feedData): the same verdicts, violations,
 * decoded frames and report window as the same events read as objects.
 */
import t from 'tap';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readTrace } from '../../harness/traces/file.js';
import { validateTraceFile, type TraceValidation } from '../../harness/traces/validate.js';
import { loadMonitorSuite } from '../../harness/engine/registry.js';
import { DATA_EVENT_KEYS, dataEventOf, fromHex, type DataBytes, type DataEvent, type TraceEvent } from '../../harness/engine/trace.js';
import type { Monitor } from '../../harness/engine/types.js';

const fixtures = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const dir = await mkdtemp(path.join(tmpdir(), 'wirecheck-data-bytes-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

/** Every trace of the fixture corpus (all protocols). */
async function corpus(): Promise<string[]> {
  const out: string[] = [];
  for (const p of await readdir(fixtures)) {
    const d = path.join(fixtures, p, 'traces');
    const files = await readdir(d).catch(() => [] as string[]);
    for (const f of files.filter((f) => f.endsWith('.jsonl')).sort()) out.push(path.join(d, f));
  }
  return out;
}

/**
 * A copy of a trace with each line as JSON.stringify writes it (`compact`:
 * data events read as bytes), and `recorded` as a run writes one too (`t`
 * last, the data events with `frames`: read as bytes, not plain); with
 * `objects`, every data event starts with a blank (`{ "type"…`: read by the
 * general scanner, as an event).
 */
async function rewrite(file: string, how: 'compact' | 'recorded', objects = false): Promise<string> {
  const lines = (await readFile(file, 'utf8')).split('\n');
  let n = 0;
  const out = lines.map((l) => {
    if (l.trim() === '') return l;
    const ev = JSON.parse(l) as { type: string; t: number };
    if (ev.type !== 'data') return JSON.stringify(ev);
    const { t: time, ...rest } = ev;
    const line = JSON.stringify(how === 'compact' ? ev : { ...rest, t: time, frames: [{ frame: n++ }, { note: 'a \u001b "quoted" \u00e9' }] });
    return objects ? `{ ${line.slice(1)}` : line;
  });
  const to = path.join(dir, `${how}${objects ? '-objects' : ''}-${path.basename(path.dirname(path.dirname(file)))}-${path.basename(file)}`);
  await writeFile(to, out.join('\n'));
  return to;
}

/** A Proton trace of a long session, compact (most of its data events are read as bytes). */
const longSession = await rewrite(path.join(fixtures, 'proton', 'traces', 'bad-long-session-wrong-ack.jsonl'), 'compact');

/** What two validations of the same trace must share (the window's events as JSON: key order too). */
function outcome(r: TraceValidation): string {
  return JSON.stringify({ verdict: r.verdict, events: r.events, violation: r.violation, window: r.window });
}

t.test('every corpus trace: the same verdict, violation, event count and window whether data events are read as bytes or as objects', async (t) => {
  const files = await corpus();
  t.ok(files.length >= 40, `${files.length} traces`);
  for (const file of files) {
    const bytes = await validateTraceFile(await rewrite(file, 'compact'));
    const name = `${path.relative(fixtures, file)}: ${bytes.verdict}${bytes.violation ? ` ${bytes.violation.rule} at #${bytes.violation.index}` : ''}`;
    t.equal(outcome(bytes), outcome(await validateTraceFile(await rewrite(file, 'compact', true))), name);
    const recorded = await validateTraceFile(await rewrite(file, 'recorded'));
    t.equal(outcome(recorded), outcome(await validateTraceFile(await rewrite(file, 'recorded', true))), `${name}, as a run records it`);
    t.equal(recorded.verdict, bytes.verdict, `${name}: recorded, the same verdict`);
    const { verdict, events, violation } = await validateTraceFile(file);
    t.strictSame({ verdict, events, violation }, { verdict: bytes.verdict, events: bytes.events, violation: bytes.violation }, `${name}, as the file itself gives`);
  }
});

t.test('readTrace hands the data events of a trace to the DataHandler onHeader returns, in the one index sequence', async (t) => {
  const file = longSession;
  const expected: TraceEvent[] = [];
  await readTrace(file, () => undefined, (ev) => void expected.push(ev));
  const got: TraceEvent[] = [];
  let asBytes = 0;
  const n = await readTrace(
    file,
    () => (d: DataBytes, index: number) => {
      asBytes++;
      t.equal(index, got.length, 'index in sequence');
      got.push(dataEventOf(d));
    },
    (ev, index) => {
      t.equal(index, got.length, 'index in sequence');
      got.push(ev);
    },
  );
  t.equal(n, expected.length, 'every event counted');
  t.strictSame(got, expected, 'the same events, in order');
  const data = expected.filter((e) => e.type === 'data').length;
  t.ok(asBytes > data / 2, `${asBytes} of ${data} data events read as bytes`);
});

t.test('a payload longer than the record holds (64 KiB) is read as an event, with its whole hex, between ones read as bytes', async (t) => {
  const header = { type: 'header', format: 'wirecheck-trace', version: 2, protocol: 'proton' };
  const big = Buffer.alloc(100_000, 0xab).toString('hex');
  const evs = [
    { type: 'conn_open', t: 0, conn: 0, remote: 'x:1' },
    ...[1, 2, 3].map((i) => ({ type: 'data', t: i, conn: 0, stream: 2, dir: 'c2s', hex: '0102' })),
    { type: 'data', t: 4, conn: 0, stream: 2, dir: 'c2s', hex: big },
    ...[5, 6].map((i) => ({ type: 'data', t: i, conn: 0, stream: 2, dir: 'c2s', hex: '0304' })),
  ];
  const file = path.join(dir, 'big-payload.jsonl');
  await writeFile(file, [header, ...evs].map((e) => JSON.stringify(e)).join('\n') + '\n');
  const got: { index: number; how: string; hex: string }[] = [];
  await readTrace(
    file,
    () => (d: DataBytes, index: number) => void got.push({ index, how: 'bytes', hex: dataEventOf(d).hex }),
    (ev, index) => void got.push({ index, how: 'event', hex: ev.type === 'data' ? ev.hex : '' }),
  );
  t.strictSame(got.map((g) => g.index), [0, 1, 2, 3, 4, 5, 6], 'every event, in order');
  t.strictSame(got.map((g) => g.hex), evs.map((e) => ('hex' in e ? e.hex : '')), 'every payload whole');
  t.equal(got[4]!.how, 'event', 'the long payload as an event');
  t.ok(got.filter((g) => g.how === 'bytes').length >= 3, 'short ones after it as bytes');
});

t.test('a monitor with feedData: the same violations and decoded frames, event by event, as feed', async (t) => {
  const suite = await loadMonitorSuite('proton');
  const files = (await corpus()).filter((f) => f.includes(`${path.sep}proton${path.sep}`));
  let fed = 0;
  for (const file of files) {
    let a: Monitor | undefined;
    let b: Monitor | undefined;
    await readTrace(
      file,
      (h) => {
        const profile = { ...suite.defaultProfile, ...(h.profile ?? {}) };
        a = suite.createMonitor(profile);
        b = suite.createMonitor(profile);
      },
      (ev, index) => {
        const want = a!.feed(ev, index);
        let got: readonly unknown[];
        if (ev.type === 'data' && !('elided' in ev)) {
          const bytes = fromHex((ev as DataEvent).hex);
          got = b!.feedData!({ t: ev.t, conn: ev.conn, stream: ev.stream, dir: ev.dir, bytes, length: bytes.length, keys: DATA_EVENT_KEYS, line: bytes, framesStart: 0, framesEnd: 0 }, index);
          fed++;
          t.strictSame(b!.decoded?.(), a!.decoded?.(), `${path.basename(file)} #${index}: decoded`);
        } else got = b!.feed(ev, index);
        t.strictSame(got, want, `${path.basename(file)} #${index}: violations`);
        return !want.some((v) => v.severity === 'must');
      },
    );
    t.strictSame(b!.advance(Number.MAX_SAFE_INTEGER), a!.advance(Number.MAX_SAFE_INTEGER), `${path.basename(file)}: deadlines at the end`);
  }
  t.ok(fed > 100, `${fed} data events fed both ways`);
});

t.test('validate hands data events to the monitor\u2019s feedData, compact or as a run records them', async (t) => {
  const suite = (await loadMonitorSuite('proton')) as { createMonitor: (p: object) => Monitor };
  const create = suite.createMonitor;
  let viaBytes = 0;
  suite.createMonitor = (p) => {
    const m = create(p);
    return { ...m, feedData: (d, index) => (viaBytes++, m.feedData!(d, index)) };
  };
  t.teardown(() => void (suite.createMonitor = create));
  const recorded = await rewrite(path.join(fixtures, 'proton', 'traces', 'bad-long-session-wrong-ack.jsonl'), 'recorded');
  for (const file of [longSession, recorded]) {
    viaBytes = 0;
    const r = await validateTraceFile(file);
    t.equal(r.verdict, 'fail', 'the wrong ack found');
    t.ok(viaBytes > r.events / 2, `${viaBytes} of ${r.events} events through feedData`);
  }
});
