/**
 * Soak (`npm run bench:soak`, issue 13): long fuzz campaigns against each
 * protocol's reference server, in two modes:
 * - `in-process`: the Sans-I/O core behind the memory driver, in virtual time;
 * - `sockets`: the reference server listening on loopback (QUIC or TCP, the
 *   protocol's transport) in a child process of its own (this script, forked
 *   with `--serve-child PROTOCOL`), fuzzed from this process through the real
 *   driver as `wirecheck fuzz --target` does (closes overlapped). Fuzzer and
 *   server in separate processes, as in use: a busy fuzzer does not delay the
 *   server's reactions (which the monitor times against the profile).
 * Prints what the server process holds at the start, every 1,000 cases and at
 * the end: active handles and requests by kind
 * (`process.getActiveResourcesInfo()`: sockets, timers as `Timeout`), the
 * virtual clock's pending timers (in process), and the heap after a full
 * GC. In the sockets mode these are the child's figures, reported over the
 * IPC channel (whose pipe is one of its handles), and the fuzzer's own heap
 * is an extra column. A leak shows as a column that grows with the case
 * count; the closing line gives the heap at the end ÷ the heap at the
 * first sample at or after 1,000 cases (the warm baseline: code and caches
 * loaded, whatever --every is; target 1.00 ±
 * 0.10), and ÷ the cold start, the heap slope (least-squares MB per 1,000
 * cases over the samples from the warm one, ± its standard error: a slope
 * within about two standard errors of 0 is noise, a leak shows as a slope
 * many standard errors above it), and the handles at the start and the end
 * (after the server stopped, in the sockets mode). In the in-process mode
 * the heap is the fuzzer's and the server's together (one process): the
 * fuzz arbitraries' caches are part of the warm baseline (Garou's binary
 * strings: fast-check keeps a ~90 MB table of every code point). Over
 * sockets, the server's QUIC or TCP host keeps its last 10,000 to 20,000
 * trace events (`HOST_TRACE_RETAIN_EVENTS`, engine/trace.ts), about 125
 * bytes each: its heap climbs ~1.2 MB while that ring fills, then drops
 * (Proton over QUIC: ~8.8 events per case, a period of ~1,130 cases;
 * sampled every 1,000 cases that aliases into a slow rise over ~8,000
 * cases and a fall): bounded, not a leak.
 *
 * Options: --cases N (cases per protocol and mode, default 10,000), --every K
 * (snapshot interval, default 1,000), --protocols a,b (default: every
 * protocol with a reference core), --modes in-process,sockets (default
 * both), --seed S (default 1), --tolerance-ms T (the profile's `toleranceMs`
 * over the suite's fast profile, checked like a profile file; default the fast
 * profile's own: a wider tolerance keeps a heavily loaded machine's late
 * reactions from becoming timing findings, at the cost of longer waits).
 * --heap-snapshots N,M (write a V8 heap snapshot of the server's process,
 * this one in process or the child over sockets, at the first sample at or
 * after N, M cases: compare two to find what a growing heap holds),
 * --heap-snapshot-dir D (default the OS temp folder).
 * Run as `node --expose-gc --import=tsx bench/soak.ts` (`npm run
 * bench:soak`) for heap figures after a forced full GC (without --expose-gc
 * the heap includes garbage).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeHeapSnapshot } from 'node:v8';
import { driverFor } from '../harness/drivers/index.js';
import { createMemoryTarget } from '../harness/drivers/memory.js';
import { VirtualClock } from '../harness/engine/clock.js';
import { listProtocols, loadReferenceCore, loadReferenceServer, loadSuite } from '../harness/engine/registry.js';
import { checkProfileData } from '../harness/engine/profile.js';
import { runCampaign, type FuzzTarget } from '../harness/fuzz/campaign.js';
import { overlapCloses } from '../harness/fuzz/overlap.js';
import { intArg, linearFit, stringArg } from './_stats.js';


/** What the process holds now. */
interface Snapshot {
  cases: number;
  handles: string;
  virtualTimers: number;
  heapMb: number;
  rssMb: number;
}

function snapshot(cases: number, clock: VirtualClock | undefined): Snapshot {
  (globalThis as { gc?: () => void }).gc?.();
  const kinds = new Map<string, number>();
  for (const k of process.getActiveResourcesInfo()) kinds.set(k, (kinds.get(k) ?? 0) + 1);
  const m = process.memoryUsage();
  return {
    cases,
    handles: [...kinds].map(([k, n]) => `${k}×${n}`).join(' ') || 'none',
    virtualTimers: clock?.pending ?? 0,
    heapMb: m.heapUsed / 1048576,
    rssMb: m.rss / 1048576,
  };
}

const row = (s: Snapshot, clientHeapMb?: number) =>
  `${String(s.cases).padStart(7)}  ${s.heapMb.toFixed(1).padStart(8)}  ${s.rssMb.toFixed(0).padStart(6)}  ${String(s.virtualTimers).padStart(6)}  ${clientHeapMb === undefined ? '' : `${clientHeapMb.toFixed(1).padStart(9)}  `}${s.handles}`;

/** Cases after which the server is warm (code compiled, caches filled): the heap's baseline and the slope start there. */
const WARM_CASES = 1000;

const gcExposed = (): boolean => typeof (globalThis as { gc?: unknown }).gc === 'function';

/** Messages between this script and its server child (`--serve-child`). */
type ToChild = { type: 'snap'; cases: number; /** Also write a V8 heap snapshot to this file first. */ heapSnapshot?: string } | { type: 'stop'; cases: number };
type FromChild =
  | { type: 'ready'; host: string; port: number; certPem?: string; cold: Snapshot; first: Snapshot }
  | { type: 'snap'; snap: Snapshot }
  | { type: 'stopped'; snap: Snapshot };

/**
 * The server child: starts `protocol`'s reference server on loopback with the
 * profile it is given (the parent's, as JSON), reports where it listens, answers snapshot requests,
 * and on `stop` (or when the parent goes away) stops the server, waits for its
 * sockets and timers to go, reports a last snapshot and exits.
 */
async function serveChild(protocol: string, profile: object): Promise<void> {
  const send = (m: FromChild) => process.send!(m);
  const start = await loadReferenceServer(protocol);
  if (!start) throw new Error(`${protocol}: no reference server`);
  const cold = snapshot(0, undefined);
  const server = await start({ host: '127.0.0.1', port: 0, profile });
  let stopping = false;
  const stop = async (cases: number) => {
    if (stopping) return;
    stopping = true;
    await server.stop();
    await new Promise((r) => setTimeout(r, 200));
    if (process.connected) send({ type: 'stopped', snap: snapshot(cases, undefined) });
    process.disconnect?.();
  };
  process.on('message', (m: ToChild) => {
    if (m.type === 'snap') {
      if (m.heapSnapshot) writeHeapSnapshot(m.heapSnapshot);
      send({ type: 'snap', snap: snapshot(m.cases, undefined) });
    }
    else void stop(m.cases);
  });
  process.on('disconnect', () => void stop(0));
  send({ type: 'ready', host: server.host, port: server.port, ...(server.certPem ? { certPem: server.certPem } : {}), cold, first: snapshot(0, undefined) });
}

/** The parent's side of a server child: its address, and requests answered in order. */
interface ChildServer {
  readonly host: string;
  readonly port: number;
  readonly certPem?: string;
  readonly cold: Snapshot;
  readonly first: Snapshot;
  ask(m: ToChild): Promise<Snapshot>;
}

/** Forks this script as `protocol`'s server child with `profile` and waits until it listens (deadline 60 s). */
function forkServer(protocol: string, profile: object): Promise<ChildServer> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--serve-child', protocol, '--profile-json', JSON.stringify(profile)], {
    execArgv: ['--expose-gc', '--import=tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting: ((s: Snapshot) => void)[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${protocol}: the server child did not report within 60 s`)), 60_000);
    child.once('exit', (code) => reject(new Error(`${protocol}: the server child exited (code ${String(code)}) before it listened`)));
    child.on('message', (m: FromChild) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve({
          host: m.host,
          port: m.port,
          ...(m.certPem ? { certPem: m.certPem } : {}),
          cold: m.cold,
          first: m.first,
          ask: (q) =>
            new Promise<Snapshot>((res, rej) => {
              if (!child.connected) return rej(new Error(`${protocol}: the server child is gone`));
              waiting.push(res);
              child.send(q);
            }),
        });
      } else waiting.shift()?.(m.snap);
    });
  });
}

async function soak(protocol: string, mode: 'in-process' | 'sockets', cases: number, every: number, seed: number, tolerance: number | undefined, heapSnapshots: readonly number[], heapSnapshotDir: string): Promise<void> {
  const suite = await loadSuite(protocol);
  const create = await loadReferenceCore(protocol);
  const start = await loadReferenceServer(protocol);
  if (!create || !start || !suite.fuzz) {
    console.log(`${protocol}: no reference server or no fuzz generators; skipped`);
    return;
  }
  const profile = tolerance === undefined ? suite.fastProfile : checkProfileData(suite, { toleranceMs: tolerance }, '--tolerance-ms', suite.fastProfile);
  let clock: VirtualClock | undefined;
  let target: FuzzTarget;
  let server: ChildServer | undefined;
  let cold = snapshot(0, undefined);
  if (mode === 'in-process') {
    const core = create({ profile });
    clock = new VirtualClock();
    const alpn = suite.connectOptions(profile).alpn;
    const mem = createMemoryTarget({ core, clock, transport: suite.transport, ...(alpn ? { alpn } : {}) });
    target = { url: `memory:${protocol}`, driver: mem.driver, connect: mem.connect, clock };
    console.log(`\n${protocol}: ${cases.toLocaleString('en-US')} cases in process (memory driver, virtual time), seed ${seed}`);
  } else {
    server = await forkServer(protocol, profile);
    cold = server.cold;
    const ov = overlapCloses(driverFor(suite.transport));
    target = {
      url: `${suite.transport}://127.0.0.1:${server.port}`,
      driver: ov.driver,
      connect: { host: server.host, port: server.port, connectTimeoutMs: 5000, ...(server.certPem ? { ca: server.certPem, serverName: 'localhost' } : {}) },
      drain: () => ov.drain(),
    };
    console.log(`\n${protocol}: ${cases.toLocaleString('en-US')} cases over ${suite.transport.toUpperCase()} on loopback (${target.url}, server in a child process: its figures), seed ${seed}`);
  }
  if (tolerance !== undefined) console.log(`  profile: the fast profile with toleranceMs ${tolerance}`);
  const clientHeap = () => {
    if (!server) return undefined;
    (globalThis as { gc?: () => void }).gc?.();
    return process.memoryUsage().heapUsed / 1048576;
  };
  console.log(`  cases   heap MB  rss MB  vtimers  ${server ? 'fuzzer MB  ' : ''}active handles${gcExposed() ? '   (heaps after a forced full GC)' : '   (heaps include garbage: run with --expose-gc)'}`);
  const first = server ? server.first : snapshot(0, clock);
  console.log(row(first, clientHeap()));
  const rows: Promise<void>[] = [];
  let next = every;
  let warm: Snapshot | undefined;
  const snapshotsDue = [...heapSnapshots].sort((a, b) => a - b);
  /** The snapshots taken every `every` cases from the warm baseline on (the first one at or after {@link WARM_CASES}). */
  const samples: Snapshot[] = [];
  const started = performance.now();
  let result;
  try {
    result = await runCampaign({
      suite,
      profile,
      target,
      seed,
      runs: cases,
      onProgress: (p) => {
        if (p.stats.cases >= next) {
          next += every;
          const at = p.stats.cases;
          const fuzzerMb = clientHeap();
          let heapFile: string | undefined;
          if (snapshotsDue.length && snapshotsDue[0]! <= at) {
            while (snapshotsDue.length && snapshotsDue[0]! <= at) snapshotsDue.shift();
            heapFile = join(heapSnapshotDir, `soak-${protocol}-${mode}-${at}.heapsnapshot`);
            console.log(`  heap snapshot at ${at} cases (${server ? 'the server child' : 'this process'}): ${heapFile}`);
            if (!server) writeHeapSnapshot(heapFile);
          }
          const got = server ? server.ask({ type: 'snap', cases: at, ...(heapFile ? { heapSnapshot: heapFile } : {}) }) : Promise.resolve(snapshot(at, clock));
          rows.push(
            got.then((snap) => {
              if (snap.cases >= WARM_CASES) {
                warm ??= snap;
                samples.push(snap);
              }
              console.log(row(snap, fuzzerMb));
            }),
          );
        }
      },
    });
  } finally {
    await Promise.all(rows);
  }
  for (const f of result.findings) console.log(`  finding: ${f.rule} (${f.verdict}) after ${f.foundAfter.cases} cases: ${f.message.split('\n')[0]!.slice(0, 200)}`);
  let end: Snapshot;
  if (server) {
    (globalThis as { gc?: () => void }).gc?.();
    const fuzzerMb = clientHeap();
    // The child stops the server and lets its sockets and timers go before its last snapshot.
    end = await server.ask({ type: 'stop', cases: result.stats.cases });
    console.log(row(end, fuzzerMb));
  } else {
    end = snapshot(result.stats.cases, clock);
    console.log(row(end));
  }
  const s = (performance.now() - started) / 1000;
  const fit = linearFit(samples.map((p) => ({ x: p.cases / 1000, y: p.heapMb })));
  console.log(
    `  end: ${result.stats.cases.toLocaleString('en-US')} cases in ${s.toFixed(1)} s (${Math.round(result.stats.cases / s)} cases/s), ${result.findings.length} findings${result.stopped ? ` (stopped: ${result.stopped})` : ''}, ` +
      `heap end/warm ${(end.heapMb / (warm ?? first).heapMb).toFixed(2)} (end/cold ${(end.heapMb / first.heapMb).toFixed(2)}), ` +
      `heap slope ${fit ? `${fit.slope >= 0 ? '+' : ''}${fit.slope.toFixed(3)} ± ${fit.slopeSe.toFixed(3)} MB per 1,000 cases (least squares over the ${fit.n} samples from the warm one ± its standard error; residual sd ${fit.residualSd.toFixed(2)} MB)` : 'n/a (fewer than 3 samples)'}, vtimers ${first.virtualTimers} → ${end.virtualTimers}, handles "${cold.handles}" → "${first.handles}" (started) → "${end.handles}" (end${server ? ', server stopped' : ''})`,
  );
}

/** Runs the soak over the protocols and modes given on the command line. */
async function main(): Promise<void> {
  const cases = intArg('cases', 10_000);
  const every = intArg('every', 1_000);
  const seed = intArg('seed', 1);
  const tolerance = process.argv.includes('--tolerance-ms') ? intArg('tolerance-ms', 1) : undefined;
  const modes = stringArg('modes', 'in-process,sockets').split(',').map((m) => m.trim()).filter(Boolean);
  for (const m of modes) if (m !== 'in-process' && m !== 'sockets') throw new Error(`--modes: unknown mode ${JSON.stringify(m)} (in-process, sockets)`);
  const protocols = stringArg('protocols', listProtocols().join(',')).split(',').map((p) => p.trim()).filter(Boolean);
  console.log(`soak: node ${process.version}, gc ${gcExposed() ? 'exposed' : 'NOT exposed (heap figures include garbage)'}, ${new Date().toISOString()}`);
  const heapSnapshots = stringArg('heap-snapshots', '').split(',').filter(Boolean).map((n) => {
    const v = Number(n);
    if (!Number.isInteger(v) || v <= 0) throw new Error(`--heap-snapshots: ${JSON.stringify(n)} is not a positive case count`);
    return v;
  });
  const heapSnapshotDir = stringArg('heap-snapshot-dir', tmpdir());
  for (const p of protocols) for (const m of modes) await soak(p, m as 'in-process' | 'sockets', cases, every, seed, tolerance, heapSnapshots, heapSnapshotDir);
}

const child = process.argv.indexOf('--serve-child');
await (child >= 0 ? serveChild(process.argv[child + 1] ?? '', JSON.parse(stringArg('profile-json', '{}')) as object) : main());
