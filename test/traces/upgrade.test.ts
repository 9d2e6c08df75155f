/**
 * Reading version-1 traces: their impairment notes (`moonpool:stall|restore|cut
 * conn=N`, bare or as a fixture comment) come out as v2 `impair` events; a
 * v2 trace's notes are left alone.
 */
import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TraceEvent } from '../../harness/engine/trace.js';
import { readTrace, upgradeV1Event } from '../../harness/traces/file.js';

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
