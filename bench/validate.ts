/**
 * Offline validation throughput and memory (`npm run bench:validate`).
 *
 * 1. Generates a conforming Proton trace of about 1,000,000 events with the
 *    reference server's Sans-I/O core in virtual time (harness/engine/sim.ts):
 *    sequential connections, each with a pipelined Event stream, a commit and
 *    an Action stream, closed by the client. A wrong ack is planted as the
 *    very last event, so the validator must read everything and then find it.
 * 2. Validates it in a fresh child process (`wirecheck validate` code path,
 *    streaming; `validate` the TypeScript sources through tsx, and, when
 *    `npm run build` made a dist/ newer than the sources, `validate-dist`
 *    the compiled JavaScript users run) and prints events per second, wall time and the child's peak
 *    RSS and peak heap, and its CPU time (user + system: steadier than wall
 *    time on a shared machine), next to the same figures for just reading and parsing
 *    the file (JSON.parse per line, no schema, no model) as the baseline.
 *
 * A `split` row gives the floor: the file read and split into lines, nothing parsed.
 * 3. Start-up, apart from the per-event rate: `wirecheck validate` (bin/wirecheck.js,
 *    as a user starts it: dist/ when fresh) on a trace of the header and one event,
 *    wall time (ms) from spawning `node` to its exit, next to a bare `node -e ""`
 *    in the same run; and the per-event rate of the `validate` rows without their
 *    start-up (their time minus the 1-event run's, both measured in the child).
 * The load average is printed before and after (a shared machine's figures vary with it).
 *
 * Options: --events N (default 1,000,000), --runs K (default 3; medians);
 * --generate FILE only writes the trace to FILE (for profiling:
 * `node --cpu-prof bin/wirecheck.js validate FILE`).
 */
import { createWriteStream, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir, cpus, loadavg } from 'node:os';
import path from 'node:path';
import { fork, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { simulate } from '../harness/engine/sim.js';
import type { TraceEvent } from '../harness/engine/trace.js';
import { ProtonServerCore } from '../reference-server/proton/core.js';
import { Discriminator, encodeItems, streamBytes } from '../suites/proton/codec.js';
import { fastProfile } from '../suites/proton/profile.js';
import { intArg, median } from './_stats.js';


/** Child mode: validate (or just parse) the file, report figures on IPC. */
async function child(mode: string, file: string): Promise<void> {
  let peakHeap = 0;
  const sample = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 20);
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  let events = 0;
  let verdict = '';
  if (mode === 'validate' || mode === 'validate-dist') {
    // validate-dist: the compiled JavaScript users run (dist/, `npm run build`); validate: the TypeScript sources through tsx.
    const mod = mode === 'validate-dist' ? new URL('../dist/harness/traces/validate.js', import.meta.url).href : '../harness/traces/validate.js';
    const { validateTraceFile } = (await import(mod)) as typeof import('../harness/traces/validate.js');
    const r = await validateTraceFile(file);
    events = r.events;
    verdict = `${r.verdict} ${r.violation?.rule ?? ''} at #${r.violation?.index ?? '-'}`;
  } else if (mode === 'split') {
    // The floor: the file's bytes read and split into lines (no string, no parse), for context.
    const { open } = await import('node:fs/promises');
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
  } else {
    const { createInterface } = await import('node:readline');
    const { createReadStream } = await import('node:fs');
    for await (const line of createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })) {
      if (line) JSON.parse(line);
      events++;
    }
    events--; // header
    verdict = 'parsed';
  }
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  clearInterval(sample);
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  process.send!({ events, ms, cpuMs, verdict, maxRssKb: process.resourceUsage().maxRSS, peakHeap });
}

/** Writes the generated trace; returns the number of events and the index of the planted violation. */
async function generate(file: string, target: number): Promise<{ events: number; planted: number }> {
  const out = createWriteStream(file, 'utf8');
  const write = async (o: unknown) => {
    if (!out.write(`${JSON.stringify(o)}\n`)) await once(out, 'drain');
  };
  await write({ type: 'header', format: 'wirecheck-trace', version: 1, protocol: 'proton', specVersion: '1', profile: fastProfile, recordedBy: 'converted', description: 'generated by bench/validate.ts' });
  let n = 0;
  let offset = 0;
  let lastConn = 0;
  let lastT = 0;
  for (let conn = 0; n < target - 4; conn++) {
    lastConn = conn;
    const input: TraceEvent[] = [{ type: 'conn_open', t: 0, conn, remote: 'bench:1' }];
    let t = 100;
    input.push({ type: 'data', t, conn, stream: 8, dir: 'c2s', hex: Buffer.from(streamBytes(Discriminator.Action)).toString('hex') });
    input.push({ type: 'data', t, conn, stream: 4, dir: 'c2s', hex: Buffer.from(streamBytes(Discriminator.StateCommit, [conn])).toString('hex') });
    input.push({ type: 'data', t, conn, stream: 0, dir: 'c2s', hex: Buffer.from(streamBytes(Discriminator.Event)).toString('hex') });
    for (let id = 1; id <= 500; id++) input.push({ type: 'data', t: (t += 1000), conn, stream: 0, dir: 'c2s', hex: Buffer.from(encodeItems([id])).toString('hex') });
    input.push({ type: 'conn_close', t: (t += 1000), conn, by: 'client', isApp: true, code: 0, reason: '' });
    const events = simulate(new ProtonServerCore(fastProfile), input, t);
    for (const ev of events) {
      if (n >= target - 4) break;
      const shifted = { ...ev, t: ev.t + offset };
      lastT = shifted.t;
      await write(shifted);
      n++;
    }
    offset += t + 1000;
  }
  // The planted violation: a wrong ack on a fresh connection (after closing the last one, which may have been cut short).
  await write({ type: 'conn_close', t: lastT, conn: lastConn, by: 'client', isApp: true, code: 0, reason: '' });
  const c = n + 1;
  await write({ type: 'conn_open', t: lastT + 1, conn: 1_000_000, remote: 'bench:1' });
  await write({ type: 'data', t: lastT + 10, conn: 1_000_000, stream: 0, dir: 'c2s', hex: '0100000001' });
  await write({ type: 'data', t: lastT + 20, conn: 1_000_000, stream: 0, dir: 's2c', hex: '00000002' });
  out.end();
  await once(out, 'finish');
  return { events: c + 3, planted: c + 2 };
}

/** True when dist/ holds a build newer than every source file (bin/wirecheck.js's rule). */
function distIsFresh(): boolean {
  const root = new URL('../', import.meta.url);
  const stamp = new URL('dist/.built', root);
  if (!existsSync(stamp)) return false;
  const builtAt = statSync(stamp).mtimeMs;
  const newest = (dir: URL): number => {
    let t = statSync(dir).mtimeMs;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = new URL(e.isDirectory() ? `${e.name}/` : e.name, dir);
      t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }
    return t;
  };
  return ['harness/', 'suites/', 'reference-server/'].every((d) => !existsSync(new URL(d, root)) || newest(new URL(d, root)) <= builtAt);
}

function runChild(mode: string, file: string): Promise<{ events: number; ms: number; cpuMs: number; verdict: string; maxRssKb: number; peakHeap: number }> {
  return new Promise((resolve, reject) => {
    const p = fork(fileURLToPath(import.meta.url), ['--child', mode, file], { execArgv: ['--import=tsx'], stdio: 'inherit' });
    // (The dist child runs this file through tsx too, but the validator it times is dist/'s compiled JavaScript.)
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`${mode} child did not finish within 10 minutes`));
    }, 600_000);
    p.once('message', (m) => {
      clearTimeout(timer);
      resolve(m as never);
    });
    p.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`${mode} child exited with ${code}`));
    });
  });
}

async function main(): Promise<void> {
  const target = intArg('events', 1_000_000);
  const runs = intArg('runs', 3);
  const dir = await mkdtemp(path.join(tmpdir(), 'wirecheck-bench-'));
  try {
    const file = path.join(dir, 'trace.jsonl');
    const g0 = performance.now();
    const { events, planted } = await generate(file, target);
    const size = (await stat(file)).size;
    console.log(`generated ${events.toLocaleString('en-US')} events (${(size / 1e6).toFixed(1)} MB) in ${((performance.now() - g0) / 1000).toFixed(1)} s; planted violation at #${planted}`);
    const load0 = loadavg();
    const rows: Record<string, { ms: number[]; cpu: number[]; rss: number[]; heap: number[]; verdict: string; events: number }> = {};
    const dist = distIsFresh();
    if (!dist) console.log('dist/ is missing or older than the sources: run `npm run build` to time the compiled validator (what users run) as well');
    const modes = dist ? ['split', 'parse', 'validate', 'validate-dist'] : ['split', 'parse', 'validate'];
    for (let i = 0; i < runs; i++) {
      for (const mode of i % 2 ? [...modes].reverse() : modes) {
        const r = await runChild(mode, file);
        const row = (rows[mode] ??= { ms: [], cpu: [], rss: [], heap: [], verdict: r.verdict, events: r.events });
        row.ms.push(r.ms);
        row.cpu.push(r.cpuMs);
        row.rss.push(r.maxRssKb / 1024);
        row.heap.push(r.peakHeap / 1048576);
      }
    }
    // Start-up: the same validation of a 1-event trace (the header and the first event of the big one), in the child
    // (to subtract from the rows above) and as a user starts the CLI (spawn to exit), next to a bare node start.
    const one = path.join(dir, 'one.jsonl');
    const text = readFileSync(file, 'latin1');
    writeFileSync(one, text.slice(0, text.indexOf('\n', text.indexOf('\n') + 1) + 1), 'latin1');
    const startModes = modes.filter((m) => m.startsWith('validate'));
    const oneMs: Record<string, number[]> = {};
    const cliMs: number[] = [];
    const bareMs: number[] = [];
    const bin = fileURLToPath(new URL('../bin/wirecheck.js', import.meta.url));
    const wall = (args: string[]): number => {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
      if (r.status !== 0 && r.status !== 1) throw new Error(`node ${args.join(' ')} exited with ${r.status}`);
      return performance.now() - t0;
    };
    for (let i = 0; i < runs * 3; i++) {
      for (const m of startModes) (oneMs[m] ??= []).push((await runChild(m, one)).ms);
      bareMs.push(wall(['-e', '']));
      cliMs.push(wall([bin, 'validate', one]));
    }
    const base = median(rows['parse']!.ms);
    const baseCpu = median(rows['parse']!.cpu);
    // CPU time (user + system) next to wall time: on a shared machine it is the steadier figure.
    console.log(`\nmode           events      median s  events/s   ×parse   cpu s  events/cpu-s  ×parse(cpu)  peak RSS MB  peak heap MB  result`);
    for (const [mode, r] of Object.entries(rows)) {
      const ms = median(r.ms);
      const cpu = median(r.cpu);
      console.log(
        `${mode.padEnd(13)} ${r.events.toLocaleString('en-US').padStart(9)}  ${(ms / 1000).toFixed(2).padStart(8)}  ${Math.round(r.events / (ms / 1000)).toLocaleString('en-US').padStart(9)}  ${(ms / base).toFixed(2).padStart(6)}  ${(cpu / 1000).toFixed(2).padStart(6)}  ${Math.round(r.events / (cpu / 1000)).toLocaleString('en-US').padStart(12)}  ${(cpu / baseCpu).toFixed(2).padStart(11)}  ${median(r.rss).toFixed(0).padStart(11)}  ${median(r.heap).toFixed(0).padStart(12)}  ${r.verdict}`,
      );
    }
    for (const m of modes.filter((x) => x.startsWith('validate'))) {
      const v = rows[m]!;
      if (!v.verdict.startsWith(`fail PROTON-4.3 at #${planted}`)) throw new Error(`${m}: validation did not find the planted violation: ${v.verdict}`);
    }
    console.log(`\nstart-up (medians of ${runs * 3}): \`wirecheck validate\` of a 1-event trace ${median(cliMs).toFixed(0)} ms from spawn to exit (${dist ? 'dist/' : 'the sources through tsx'}), bare \`node -e ""\` ${median(bareMs).toFixed(0)} ms`);
    for (const m of startModes) {
      const first = median(oneMs[m]!);
      const r = rows[m]!;
      console.log(`${m}: ${first.toFixed(0)} ms for 1 event in the child (imports, schemas, suite, model); without it ${Math.round((r.events - 1) / ((median(r.ms) - first) / 1000)).toLocaleString('en-US')} events/s`);
    }
    const load1 = loadavg();
    const la = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
    console.log(`\nenv: node ${process.version}, ${cpus().length} CPUs, ${new Date().toISOString()}; medians of ${runs} runs, each in a fresh process; load average (1, 5, 15 min) ${la(load0)} before, ${la(load1)} after`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const ci = process.argv.indexOf('--child');
const gi = process.argv.indexOf('--generate');
if (ci >= 0) await child(process.argv[ci + 1]!, process.argv[ci + 2]!);
else if (gi >= 0) console.log(await generate(process.argv[gi + 1]!, intArg('events', 1_000_000)));
else await main();
