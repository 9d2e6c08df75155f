/**
 * The measured child of `npm run bench:validate` (bench/validate.ts), in
 * plain JavaScript so that the compiled validator and the baselines run in
 * plain Node, as users run them: only mode `validate` (the TypeScript
 * sources) is started under tsx's loader, whose hooks slow every import.
 *
 * Usage (by the bench, over IPC): `node bench/validate-child.mjs MODE FILE`,
 * MODE one of `split` (read and count lines: the floor), `parse`
 * (JSON.parse per line: the baseline), `validate` (the sources, under
 * `--import=tsx`), `validate-dist` (dist/, `npm run build`). Sends
 * `{ events, ms, cpuMs, verdict, maxRssKb, peakHeap }`: wall and CPU time
 * (user + system) in ms from before the validator's import to the end,
 * peak RSS in KiB, peak heap in bytes (sampled every 20 ms).
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';

const [mode, file] = process.argv.slice(2);
let peakHeap = 0;
const sample = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 20);
const started = performance.now();
const cpu0 = process.cpuUsage();
let events = 0;
let verdict = '';
if (mode === 'validate' || mode === 'validate-dist') {
  const mod = mode === 'validate-dist' ? '../dist/harness/traces/validate.js' : '../harness/traces/validate.js';
  const { validateTraceFile } = await import(mod);
  const r = await validateTraceFile(file);
  events = r.events;
  verdict = `${r.verdict} ${r.violation?.rule ?? ''} at #${r.violation?.index ?? '-'}`;
} else if (mode === 'split') {
  const fh = await open(file, 'r');
  const buf = Buffer.allocUnsafe(256 * 1024);
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, null);
    if (bytesRead === 0) break;
    for (let nl = buf.indexOf(0x0a); nl !== -1 && nl < bytesRead; nl = buf.indexOf(0x0a, nl + 1)) events++;
  }
  await fh.close();
  events--; // header
  verdict = 'split';
} else if (mode === 'parse') {
  for await (const line of createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })) {
    if (line) JSON.parse(line);
    events++;
  }
  events--; // header
  verdict = 'parsed';
} else throw new Error(`validate-child: unknown mode ${mode}`);
const ms = performance.now() - started;
const cpu = process.cpuUsage(cpu0);
clearInterval(sample);
peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
process.send({ events, ms, cpuMs: (cpu.user + cpu.system) / 1000, verdict, maxRssKb: process.resourceUsage().maxRSS, peakHeap });
