/**
 * readTrace's reused read buffers (harness/traces/file.ts): lines across
 * read boundaries, a line longer than the buffer (it grows), CRLF endings,
 * blank lines and a last line with no newline are read as JSON.parse reads them,
 * from a regular file (read synchronously, the event loop turning between
 * chunks) and from a pipe (read through the thread pool).
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readTrace } from '../../harness/traces/file.js';

const dir = await mkdtemp(path.join(tmpdir(), 'wirecheck-readbuf-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

const header = { type: 'header', format: 'wirecheck-trace', version: 2, protocol: 'proton' };
const events: object[] = [];
for (let i = 0; i < 30_000; i++) events.push({ type: 'data', t: i, conn: 0, stream: 0, dir: i % 2 ? 's2c' : 'c2s', hex: '00'.repeat(i % 7) });
events.splice(12_345, 0, { type: 'note', t: 12_344, text: 'x'.repeat(700_000) }, { type: 'note', t: 12_344, text: 'h\u00f6st \u2014 "quoted"' });
const lines = [header, ...events].map((o, i) => JSON.stringify(o) + (i % 3 === 0 ? '\r\n' : i % 101 === 0 ? '\n\n' : '\n'));
const text = lines.join('').replace(/\r?\n+$/, ''); // the last line has no newline (1.7 MB)

t.test('events across read boundaries and a line longer than the buffer', async (t) => {
  const file = path.join(dir, 'a.jsonl');
  await writeFile(file, text);
  const got: object[] = [];
  const n = await readTrace(file, () => undefined, (ev) => void got.push(ev));
  t.equal(n, events.length, 'every event');
  t.strictSame(got, events, 'each as JSON.parse reads it');
});

t.test('a pipe is read as a file is', { skip: process.platform === 'win32' ? 'no mkfifo' : false }, async (t) => {
  const fifo = path.join(dir, 'pipe.jsonl');
  execFileSync('mkfifo', [fifo]);
  const writer = createWriteStream(fifo);
  writer.end(text);
  const got: object[] = [];
  const n = await readTrace(fifo, () => undefined, (ev) => void got.push(ev));
  t.equal(n, events.length, 'every event');
  t.strictSame(got, events, 'each as JSON.parse reads it');
});

t.test('the event loop turns while a large file is read', async (t) => {
  // 8 MiB of events: a regular file is read synchronously, with a turn of the loop every 4 MiB.
  const file = path.join(dir, 'big.jsonl');
  const line = `${JSON.stringify({ type: 'note', t: 1, text: 'y'.repeat(1000) })}\n`;
  await writeFile(file, `${JSON.stringify(header)}\n${line.repeat(Math.ceil((8 * 1024 * 1024) / line.length))}`);
  let turned = false;
  let firstTurnAt = -1;
  const n = await readTrace(file, () => undefined, (_ev, i) => {
    if (i === 0) setImmediate(() => (turned = true)); // (opening the file turned the loop before)
    if (turned && firstTurnAt < 0) firstTurnAt = i;
  });
  t.ok(firstTurnAt > 0 && firstTurnAt < n - 1, `a setImmediate callback ran during the read (first seen at event ${firstTurnAt} of ${n})`);
});

t.test('reading stops when onEvent returns false', async (t) => {
  const file = path.join(dir, 'b.jsonl');
  await writeFile(file, `${JSON.stringify({ type: 'header', format: 'wirecheck-trace', version: 2, protocol: 'proton' })}\n${'{"type":"note","t":1,"text":"a"}\n'.repeat(100)}`);
  let seen = 0;
  t.equal(await readTrace(file, () => undefined, () => ++seen < 10), 10);
  t.equal(seen, 10);
});
