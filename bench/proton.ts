/**
 * wirecheck benchmark: what the harness costs over bare @matrixai/quic, and
 * how long the Proton suite takes. Run: `npm run bench [-- options]`.
 *
 * What is measured (everything on 127.0.0.1, one process, one run):
 *
 * 1. Round trip of one 4-byte request and its 4-byte response, timed from
 *    just before the write to the moment the waiting code resumes with the
 *    answer, on one long-lived connection and stream per variant:
 *      - driver → Proton: the harness's QUIC driver (`quicDriver`, recording
 *        a trace; the answer is noticed by listening to the TraceRecorder and
 *        reading `received()`) sending Proton event ids on an Event stream
 *        (identified with 0x01 at once) to the Proton reference server
 *        (`startProtonServer`, fastProfile), which acks each id;
 *      - bare → echo: the BASELINE, a bare `QUICClient` writing to a bare
 *        `QUICServer` that echoes stream bytes (bench/bare-quic.ts);
 *      - driver → echo: the driver against the bare echo server, which
 *        splits the overhead: driver→echo / bare→echo is the client side
 *        (driver + trace), driver→Proton / driver→echo the server side
 *        (generic host + Proton core + its trace);
 *      - bare → Proton: the bare client against a second Proton reference
 *        server (one live connection per server, PROTON-2.2), identifying
 *        its stream first: bare→Proton / bare→echo is the reference
 *        server's round trip over bare QUIC's with the same client, the
 *        server side measured directly (issue 13's target: ≤ 1.10).
 *    Each answer is checked (the ack or echo equals the id sent, nothing
 *    else arrives), so the bench cannot time nothing. Variants run in
 *    alternating batches (`--batch`, order rotated every round) so that the
 *    noise of a shared machine hits all of them alike; `--warmup` round trips
 *    per variant are run the same way and discarded.
 * 2. Handshake: time for a connect to resolve (a fresh socket, a stateless
 *    retry, TLS 1.3 with certificate verification against the generated CA,
 *    SNI `localhost`), same three variants, interleaved one connect at a
 *    time; bare connects use `QUICClient.createQUICClient(…, { timer: 2000 })`.
 *    Each connection is closed (awaited) before the next sample, outside the
 *    timed part.
 * 3. Wall time of the whole Proton suite against an in-process reference
 *    server with fastProfile (server start and stop included, like
 *    test/suite/_run.ts does it), with the number of cases and verdicts.
 *
 * How to read it: look at medians and at the ratios to the baseline row
 * (ratio of medians, and of p90s); absolute figures move a lot from run to
 * run on a shared 2-core machine, ratios much less. "round spread" is the
 * p10–p90 range of the per-round ratio of batch medians: a wide range means
 * the machine was noisy during this run. p90 shows the tail (scheduling,
 * GC). Small numbers of samples (e.g. `--handshakes 20`) make p90 coarse.
 * Under heavy load (load average well above the 2 cores) medians measure the
 * scheduler more than the code: then p10 (and its ratio) is the steadier
 * figure of what an exchange costs. "CPU µs" is the process's CPU time per
 * round trip (client and servers share the process), median over batches,
 * "×CPU" its per-round ratio to the baseline; on a VM it moves with load too.
 * "drift" is the median of the last quarter of rounds over the first
 * quarter: it should be about 1.00. The driver rows drift upwards because
 * `ClientStream.received()` concatenates every chunk received so far on
 * each call (its cache is dropped by every new chunk), so waiting on it
 * costs O(bytes on the stream) per answer; their figures therefore grow
 * with `--n` (about +30 µs per 1,000 round trips on one stream, measured
 * 2026-11), while the bare baseline stays flat.
 *
 * Options: --n N (measured round trips per variant, default 2000),
 * --warmup W (200), --batch B (100), --handshakes M (50), --hs-warmup (5),
 * --suite-runs K (1; the median is reported), --skip-suite.
 */
import { availableParallelism, cpus, loadavg, platform, arch } from 'node:os';
import { parseArgs } from 'node:util';
import type { QUICClient } from '@matrixai/quic';
import { quicDriver } from '../harness/drivers/quic.js';
import type { ClientConnection, ClientStream, ConnectOptions } from '../harness/drivers/types.js';
import { TraceRecorder, type TraceEvent } from '../harness/engine/trace.js';
import { runSuite } from '../harness/engine/runner.js';
import type { RunResult, Verdict } from '../harness/engine/types.js';
import { generateSelfSigned } from '../harness/tls/cert.js';
import { startProtonServer, type ProtonServer } from '../reference-server/proton/index.js';
import { Discriminator, encodeItem } from '../suites/proton/codec.js';
import { suite } from '../suites/proton/index.js';
import { fastProfile } from '../suites/proton/profile.js';
import { errorText } from '../harness/engine/util.js';
import { median, quantile } from './_stats.js';
import {
  BareStream,
  bareClose,
  bareConnect,
  settlesWithin,
  startEchoServer,
  type EchoServer,
  type TransportTimers,
} from './bare-quic.js';

// ---- options ----------------------------------------------------------------

interface BenchOptions {
  readonly n: number;
  readonly warmup: number;
  readonly batch: number;
  readonly handshakes: number;
  readonly hsWarmup: number;
  readonly suiteRuns: number;
  readonly skipSuite: boolean;
}

const USAGE = `usage: npm run bench -- [--n N] [--warmup W] [--batch B] [--handshakes M] [--hs-warmup H] [--suite-runs K] [--skip-suite]`;

function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      n: { type: 'string' },
      warmup: { type: 'string' },
      batch: { type: 'string' },
      handshakes: { type: 'string' },
      'hs-warmup': { type: 'string' },
      'suite-runs': { type: 'string' },
      'skip-suite': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name: string, v: string | undefined, def: number, min: number): number => {
    if (v === undefined) return def;
    const x = Number(v);
    if (!Number.isSafeInteger(x) || x < min) throw new RangeError(`--${name} must be an integer ≥ ${String(min)}, got ${JSON.stringify(v)}`);
    return x;
  };
  return {
    n: int('n', values.n, 2_000, 1),
    warmup: int('warmup', values.warmup, 200, 0),
    batch: int('batch', values.batch, 100, 1),
    handshakes: int('handshakes', values.handshakes, 50, 1),
    hsWarmup: int('hs-warmup', values['hs-warmup'], 5, 0),
    suiteRuns: int('suite-runs', values['suite-runs'], 1, 1),
    skipSuite: values['skip-suite'] === true,
  };
}

// ---- constants --------------------------------------------------------------

const HOST = '127.0.0.1';
/** Name in the generated certificate, sent as SNI by every client. */
const SERVER_NAME = 'localhost';
const ALPN = fastProfile.alpn;
/** Same idle timeout and keep-alive for every connection of the bench, taken from the profile. */
const TIMERS: TransportTimers = { idleTimeoutMs: fastProfile.idleTimeoutMs, keepAliveMs: fastProfile.heartbeatMs };
/** Handshake deadline of every connect (ms). */
const CONNECT_TIMEOUT_MS = 2_000;
/** Longest one batch of round trips may take before the bench gives up (ms). */
const BATCH_DEADLINE_MS = 30_000;
/** Longest a close / stop may take (ms). */
const CLOSE_DEADLINE_MS = 5_000;
/** How long the process may linger after cleanup before it is declared hung (ms). */
const EXIT_GRACE_MS = 10_000;

// ---- statistics -------------------------------------------------------------

interface Stats {
  readonly count: number;
  /** 10th percentile: the round trip without most of a shared machine's preemptions. */
  readonly p10: number;
  readonly median: number;
  readonly p90: number;
  readonly min: number;
}

function stats(values: readonly number[]): Stats {
  const s = [...values].sort((a, b) => a - b);
  return { count: s.length, p10: quantile(s, 0.1), median: quantile(s, 0.5), p90: quantile(s, 0.9), min: s[0] ?? Number.NaN };
}

// ---- helpers ----------------------------------------------------------------

/** Rejects with a message naming `what` if `p` has not settled after `ms`. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result after ${String(ms)} ms`)), ms);
  });
  p.catch(() => undefined); // a late rejection after the deadline is not unhandled
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Things to close at the end, whatever happened; each entry closes one client or server. */
const cleanups: { what: string; run: () => Promise<boolean> }[] = [];

function onCleanup(what: string, run: () => Promise<boolean>): () => void {
  const entry = { what, run };
  cleanups.push(entry);
  return () => {
    const i = cleanups.indexOf(entry);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

/** Closes everything still registered, newest first; returns the names of what did not close in time. */
async function cleanupAll(): Promise<string[]> {
  const stuck: string[] = [];
  while (cleanups.length > 0) {
    const { what, run } = cleanups.pop()!;
    let ok = false;
    try {
      ok = await run();
    } catch {
      ok = false;
    }
    if (!ok) stuck.push(what);
  }
  return stuck;
}

function driverConnectOptions(port: number, ca: string): ConnectOptions {
  return {
    host: HOST,
    port,
    alpn: [ALPN],
    serverName: SERVER_NAME,
    ca,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    idleTimeoutMs: TIMERS.idleTimeoutMs,
    keepAliveMs: TIMERS.keepAliveMs,
  };
}

async function closeDriver(conn: ClientConnection): Promise<boolean> {
  return settlesWithin(conn.close(), CLOSE_DEADLINE_MS);
}

// ---- round-trip variants ----------------------------------------------------

/** One way of doing a 4-byte round trip; `roundTrip` returns µs and throws when the answer is wrong. */
interface RoundTripVariant {
  readonly name: string;
  /** Next request id (strictly increasing: Proton requires it, PROTON-4.1). */
  nextId: number;
  roundTrip(id: number): Promise<number>;
  /** Final checks once all round trips are done (nothing extra arrived, still connected). */
  finish(): void;
  close(): Promise<boolean>;
}

/**
 * A driver connection with one stream; the answer is noticed through the
 * trace (a `data` s2c event on that stream, then `received()` long enough).
 */
async function driverVariant(name: string, port: number, ca: string, discriminator: number | undefined): Promise<RoundTripVariant> {
  const trace = new TraceRecorder();
  const conn = await quicDriver.connect(trace, driverConnectOptions(port, ca));
  const unregister = onCleanup(name, () => closeDriver(conn));
  const stream: ClientStream = conn.openStream();
  let expected = 0;
  let waiter: { resolve: (bytes: Uint8Array) => void; reject: (err: Error) => void } | undefined;
  trace.listen((ev: TraceEvent) => {
    if (waiter === undefined) return;
    if (ev.type === 'data' && ev.dir === 's2c' && ev.conn === conn.conn && ev.stream === stream.id) {
      const got = stream.received();
      if (got.byteLength >= expected) {
        const w = waiter;
        waiter = undefined;
        w.resolve(got);
      }
    } else if ((ev.type === 'conn_close' && ev.conn === conn.conn) || (ev.type === 'stream_reset' && ev.stream === stream.id)) {
      const w = waiter;
      waiter = undefined;
      w.reject(new Error(`${name}: ${ev.type} while waiting for an answer: ${JSON.stringify(ev)}`));
    }
  });
  // Identify the stream at once: the Proton server closes a connection with
  // no identified stream after identTimeoutMs (PROTON-3.4).
  if (discriminator !== undefined) await stream.write(new Uint8Array([discriminator]));
  return {
    name,
    nextId: 1,
    async roundTrip(id: number): Promise<number> {
      const req = encodeItem(id);
      expected += req.byteLength;
      const t0 = performance.now();
      const answered = new Promise<Uint8Array>((resolve, reject) => {
        waiter = { resolve, reject };
      });
      await stream.write(req);
      const got = await answered;
      const us = (performance.now() - t0) * 1000;
      const ans = got.subarray(expected - req.byteLength, expected);
      if (got.byteLength !== expected || !sameBytes(ans, req)) {
        throw new Error(`${name}: sent ${hex(req)}, stream holds ${String(got.byteLength)} bytes (want ${String(expected)}), last item ${hex(ans)}`);
      }
      return us;
    },
    finish(): void {
      if (conn.isClosed) throw new Error(`${name}: the connection closed during the bench`);
      const got = stream.received().byteLength;
      if (got !== expected) throw new Error(`${name}: ${String(got)} bytes received, ${String(expected)} expected`);
      if (stream.readEnded) throw new Error(`${name}: the server ended the stream`);
    },
    close: async () => {
      unregister();
      // End the stream both ways first (client FIN, then the server's FIN
      // after its last answer, PROTON-4.5): a close with the stream still
      // open aborts it (STOP_SENDING 0), which Proton calls a violation (PROTON-8.3).
      if (!conn.isClosed && !stream.readEnded) {
        const ended = new Promise<void>((resolve) => {
          const off = trace.listen((ev) => {
            if ((ev.type === 'stream_fin' && ev.dir === 's2c' && ev.stream === stream.id) || ev.type === 'conn_close') {
              off();
              resolve();
            }
          });
        });
        await settlesWithin(stream.end().then(() => ended), CLOSE_DEADLINE_MS);
      }
      return closeDriver(conn);
    },
  };
}

/**
 * A bare QUICClient with one stream, against the bare echo server or (with a
 * `discriminator`, written first to identify the stream) the Proton server.
 */
async function bareVariant(name: string, port: number, ca: string, discriminator?: number): Promise<RoundTripVariant> {
  const client = await bareConnect({ host: HOST, port, alpn: ALPN, serverName: SERVER_NAME, ca, timers: TIMERS, timerMs: CONNECT_TIMEOUT_MS });
  const unregister = onCleanup(name, () => bareClose(client, CLOSE_DEADLINE_MS));
  const stream = new BareStream(client);
  if (discriminator !== undefined) await stream.send(new Uint8Array([discriminator]));
  return {
    name,
    nextId: 1,
    async roundTrip(id: number): Promise<number> {
      const req = encodeItem(id);
      const t0 = performance.now();
      const ans = await stream.roundTrip(req);
      const us = (performance.now() - t0) * 1000;
      if (!sameBytes(ans, req)) throw new Error(`${name}: sent ${hex(req)}, got ${hex(ans)}`);
      return us;
    },
    finish(): void {
      if (client.closed) throw new Error(`${name}: the connection closed during the bench`);
    },
    close: async () => {
      unregister();
      // A stream still open at the close would be aborted (STOP_SENDING), a Proton violation (PROTON-8.6).
      if (discriminator !== undefined && !(await settlesWithin(stream.end(), CLOSE_DEADLINE_MS))) return false;
      return bareClose(client, CLOSE_DEADLINE_MS);
    },
  };
}

/** What one batch gave: the median round trip (µs) and the process's CPU time per round trip (µs, user + system). */
interface BatchFigures {
  readonly median: number;
  readonly cpu: number;
}

async function runBatch(v: RoundTripVariant, count: number, out: number[] | undefined): Promise<BatchFigures> {
  const samples: number[] = [];
  const cpu0 = process.cpuUsage();
  const work = (async () => {
    for (let i = 0; i < count; i++) samples.push(await v.roundTrip(v.nextId++));
  })();
  await within(work, BATCH_DEADLINE_MS, `${v.name}: batch of ${String(count)} round trips`);
  const cpu = process.cpuUsage(cpu0);
  if (out) out.push(...samples);
  return { median: median(samples), cpu: (cpu.user + cpu.system) / count };
}

interface RoundTripResult {
  readonly samples: number[][];
  /** Per variant, the median of each measured batch (same round index for all variants). */
  readonly batchMedians: number[][];
  /**
   * Per variant, the process's CPU time per round trip of each measured
   * batch (µs; client and servers share the process, so this is the whole
   * exchange's CPU): unlike wall time, it hardly moves with other processes'
   * load.
   */
  readonly batchCpu: number[][];
  readonly rounds: number;
}

/** Runs `warmup` then `n` round trips per variant in alternating batches, rotating the order each round. */
async function interleave(variants: readonly RoundTripVariant[], opts: BenchOptions): Promise<RoundTripResult> {
  const samples = variants.map(() => [] as number[]);
  const batchMedians = variants.map(() => [] as number[]);
  const batchCpu = variants.map(() => [] as number[]);
  let round = 0;
  const phase = async (total: number, measure: boolean): Promise<void> => {
    for (let done = 0; done < total; round++) {
      const count = Math.min(opts.batch, total - done);
      for (let k = 0; k < variants.length; k++) {
        const i = (round + k) % variants.length;
        const m = await runBatch(variants[i]!, count, measure ? samples[i] : undefined);
        if (measure) {
          batchMedians[i]!.push(m.median);
          batchCpu[i]!.push(m.cpu);
        }
      }
      done += count;
    }
  };
  await phase(opts.warmup, false);
  const firstMeasured = round;
  await phase(opts.n, true);
  for (const v of variants) v.finish();
  return { samples, batchMedians, batchCpu, rounds: round - firstMeasured };
}

// ---- handshake variants -----------------------------------------------------

interface HandshakeVariant {
  readonly name: string;
  /** Connects, returns the handshake time (ms) and closes (not timed). */
  sample(): Promise<number>;
}

function driverHandshake(name: string, port: number, ca: string): HandshakeVariant {
  return {
    name,
    async sample(): Promise<number> {
      const trace = new TraceRecorder();
      const t0 = performance.now();
      const conn = await quicDriver.connect(trace, driverConnectOptions(port, ca));
      const ms = performance.now() - t0;
      const unregister = onCleanup(name, () => closeDriver(conn));
      const open = trace.events.find((e) => e.type === 'conn_open');
      const closedEarly = conn.isClosed;
      if (!(await closeDriver(conn))) throw new Error(`${name}: close did not finish in ${String(CLOSE_DEADLINE_MS)} ms`);
      unregister();
      if (open?.type !== 'conn_open' || open.alpn !== ALPN) throw new Error(`${name}: no conn_open with ALPN ${ALPN} in the trace`);
      if (closedEarly) throw new Error(`${name}: connection closed right after the handshake`);
      return ms;
    },
  };
}

function bareHandshake(name: string, port: number, ca: string): HandshakeVariant {
  return {
    name,
    async sample(): Promise<number> {
      const t0 = performance.now();
      const client: QUICClient = await bareConnect({ host: HOST, port, alpn: ALPN, serverName: SERVER_NAME, ca, timers: TIMERS, timerMs: CONNECT_TIMEOUT_MS });
      const ms = performance.now() - t0;
      const unregister = onCleanup(name, () => bareClose(client, CLOSE_DEADLINE_MS));
      const closedEarly = client.closed;
      if (!(await bareClose(client, CLOSE_DEADLINE_MS))) throw new Error(`${name}: destroy did not finish in ${String(CLOSE_DEADLINE_MS)} ms`);
      unregister();
      if (closedEarly) throw new Error(`${name}: connection closed right after the handshake`);
      return ms;
    },
  };
}

async function handshakes(variants: readonly HandshakeVariant[], opts: BenchOptions): Promise<number[][]> {
  const samples = variants.map(() => [] as number[]);
  const total = opts.hsWarmup + opts.handshakes;
  for (let r = 0; r < total; r++) {
    for (let k = 0; k < variants.length; k++) {
      const i = (r + k) % variants.length;
      const v = variants[i]!;
      const ms = await within(v.sample(), CONNECT_TIMEOUT_MS + 2 * CLOSE_DEADLINE_MS, `${v.name}: handshake`);
      if (r >= opts.hsWarmup) samples[i]!.push(ms);
    }
  }
  return samples;
}

// ---- suite ------------------------------------------------------------------

interface SuiteRun {
  readonly wallMs: number;
  readonly result: RunResult;
}

/** The whole Proton suite against a fresh in-process reference server (as test/suite/_run.ts does, with fastProfile). */
async function runProtonSuite(): Promise<SuiteRun> {
  const t0 = performance.now();
  const server = await startProtonServer({ profile: fastProfile });
  const unregister = onCleanup('suite reference server', () => settlesWithin(server.stop(), CLOSE_DEADLINE_MS));
  let result: RunResult;
  try {
    result = await runSuite({
      suite,
      driver: quicDriver,
      targetUrl: `quic://${HOST}:${String(server.port)}`,
      connect: { host: server.host, port: server.port, connectTimeoutMs: 3000, ca: server.certPem!, serverName: SERVER_NAME },
      profile: fastProfile,
    });
  } finally {
    unregister();
    await settlesWithin(server.stop(), CLOSE_DEADLINE_MS);
  }
  return { wallMs: performance.now() - t0, result };
}

// ---- report -----------------------------------------------------------------

function fmt(x: number, digits = 0): string {
  return Number.isFinite(x) ? x.toFixed(digits) : 'n/a';
}

function signed(x: number): string {
  return `${x >= 0 ? '+' : '−'}${fmt(Math.abs(x))}`;
}

/** A plain-text table; columns in `left` (default: the first) are left-aligned, the others right-aligned. */
function table(header: readonly string[], rows: readonly (readonly string[])[], left: readonly number[] = [0]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (left.includes(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function envLine(start: { load: number[]; date: Date }): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const load = (l: number[]): string => l.map((x) => x.toFixed(2)).join('/');
  return (
    `node ${process.version}, ${platform()}-${arch()}, ${String(cpus().length)} CPUs (available ${String(availableParallelism())}, ${cpu}), ` +
    `load avg 1/5/15 min ${load(start.load)} at start, ${load(loadavg())} at end, started ${start.date.toISOString()}`
  );
}

const VERDICTS: readonly Verdict[] = ['pass', 'fail', 'non-strict', 'timeout', 'error', 'skipped'];

// ---- main -------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const start = { load: loadavg(), date: new Date() };
  const log = (msg: string): void => console.error(`[bench] ${msg}`);
  const out: string[] = [];

  const id = await generateSelfSigned();
  const ca = id.certPem;

  // 1 + 2: servers for the round trips and handshakes.
  const proton: ProtonServer = await startProtonServer({ profile: fastProfile, cert: id.certPem, key: id.keyPem });
  const unregisterProton = onCleanup('Proton reference server', () => settlesWithin(proton.stop(), CLOSE_DEADLINE_MS));
  // A second Proton server for the bare client: Proton allows one live connection per server (PROTON-2.2).
  const proton2: ProtonServer = await startProtonServer({ profile: fastProfile, cert: id.certPem, key: id.keyPem });
  const unregisterProton2 = onCleanup('second Proton reference server', () => settlesWithin(proton2.stop(), CLOSE_DEADLINE_MS));
  const echo: EchoServer = await startEchoServer({ host: HOST, alpn: ALPN, certPem: id.certPem, keyPem: id.keyPem, timers: TIMERS });
  const unregisterEcho = onCleanup('bare echo server', () => echo.stop(CLOSE_DEADLINE_MS));

  // 1. Round trips.
  log(`round trips: ${String(opts.warmup)} warm-up + ${String(opts.n)} measured per variant, batches of ${String(opts.batch)}`);
  const rtVariants = [
    await bareVariant('bare client → bare echo server', echo.port, ca),
    await driverVariant('driver → Proton reference server', proton.port, ca, Discriminator.Event),
    await driverVariant('driver → bare echo server', echo.port, ca, undefined),
    await bareVariant('bare client → Proton reference server', proton2.port, ca, Discriminator.Event),
  ];
  const rt = await interleave(rtVariants, opts);
  const closesDuringRt = [...proton.trace.events, ...proton2.trace.events].filter((e) => e.type === 'conn_close');
  if (closesDuringRt.length > 0) throw new Error(`the Proton connection closed during the round trips: ${JSON.stringify(closesDuringRt[0])}`);
  for (const v of rtVariants) {
    if (!(await v.close())) throw new Error(`${v.name}: close did not finish in ${String(CLOSE_DEADLINE_MS)} ms`);
  }
  // The Proton server must have seen one valid connection and no violation (it closes on any).
  const protonCloses = [...proton.trace.events, ...proton2.trace.events].filter((e) => e.type === 'conn_close' && e.by === 'server');
  if (protonCloses.length > 0) throw new Error(`Proton server closed a connection during the round trips: ${JSON.stringify(protonCloses[0])}`);

  // 2. Handshakes (after the round-trip connections are gone: Proton allows one live connection, PROTON-2.2).
  log(`handshakes: ${String(opts.hsWarmup)} warm-up + ${String(opts.handshakes)} measured per variant`);
  const hsVariants = [
    bareHandshake('bare client → bare echo server', echo.port, ca),
    driverHandshake('driver → Proton reference server', proton.port, ca),
    driverHandshake('driver → bare echo server', echo.port, ca),
  ];
  const hs = await handshakes(hsVariants, opts);
  const protonHsViolations = proton.trace.events.filter((e) => e.type === 'conn_close' && e.by === 'server' && e.code !== 0);
  const secondConn = protonHsViolations.filter((e) => e.type === 'conn_close' && e.code === 2).length;

  unregisterEcho();
  unregisterProton();
  unregisterProton2();
  const stoppedEcho = await echo.stop(CLOSE_DEADLINE_MS);
  const stoppedProton = await settlesWithin(proton.stop(), CLOSE_DEADLINE_MS);
  const stoppedProton2 = await settlesWithin(proton2.stop(), CLOSE_DEADLINE_MS);
  if (!stoppedEcho || !stoppedProton || !stoppedProton2) throw new Error('a bench server did not stop in time');

  // 3. Suite.
  const suiteRuns: SuiteRun[] = [];
  if (!opts.skipSuite) {
    for (let k = 0; k < opts.suiteRuns; k++) {
      log(`suite run ${String(k + 1)}/${String(opts.suiteRuns)} (fastProfile)`);
      suiteRuns.push(await runProtonSuite());
    }
  }

  // ---- report ----
  const rtStats = rt.samples.map(stats);
  const base = rtStats[0]!;
  const baseBatches = rt.batchMedians[0]!;
  const spread = (i: number): string => {
    if (i === 0) return 'baseline';
    const ratios = rt.batchMedians[i]!.map((m, r) => m / baseBatches[r]!).sort((a, b) => a - b);
    return `${fmt(quantile(ratios, 0.1), 2)}–${fmt(quantile(ratios, 0.9), 2)}`;
  };
  /** Median of the last quarter of rounds over the first quarter: > 1 means the variant got slower as the stream grew. */
  const drift = (i: number): string => {
    const m = rt.batchMedians[i]!;
    const q = Math.max(1, Math.floor(m.length / 4));
    return fmt(median(m.slice(-q)) / median(m.slice(0, q)), 2);
  };
  /** Median over batches of the process's CPU time per round trip (µs). */
  const cpuOf = (i: number): number => median(rt.batchCpu[i]!);
  /** Median over rounds of the variant's batch CPU ÷ the baseline's in the same round. */
  const cpuRatio = (i: number): string => (i === 0 ? '1.00' : fmt(median(rt.batchCpu[i]!.map((c, r) => c / rt.batchCpu[0]![r]!)), 2));
  out.push('');
  out.push(`1. Round trip, 4-byte request → 4-byte answer, one stream (µs); ${String(opts.n)} per variant after ${String(opts.warmup)} warm-up,`);
  out.push(`   ${String(rt.rounds)} interleaved rounds of ${String(opts.batch)}; ratios are to the bare baseline; "CPU µs" is the process's CPU time`);
  out.push(`   per round trip (client and servers together: the whole exchange), median over batches, "×CPU" its per-round ratio to the baseline's`);
  out.push(
    table(
      ['variant', 'median µs', 'p90 µs', 'p10 µs', 'min µs', '×median', '×p90', '×p10', 'round spread', 'drift', 'CPU µs', '×CPU'],
      rtVariants.map((v, i) => {
        const s = rtStats[i]!;
        return [v.name, fmt(s.median), fmt(s.p90), fmt(s.p10), fmt(s.min), fmt(s.median / base.median, 2), fmt(s.p90 / base.p90, 2), fmt(s.p10 / base.p10, 2), spread(i), drift(i), fmt(cpuOf(i)), cpuRatio(i)];
      }),
    ),
  );
  const [bareRt, protonRt, driverEchoRt, bareProtonRt] = rtStats as [Stats, Stats, Stats, Stats];
  out.push(
    `   split of driver→Proton over baseline (medians): client side (driver+trace) ×${fmt(driverEchoRt.median / bareRt.median, 2)} ` +
      `(${signed(driverEchoRt.median - bareRt.median)} µs), server side (host+core) ×${fmt(protonRt.median / driverEchoRt.median, 2)} ` +
      `(${signed(protonRt.median - driverEchoRt.median)} µs)`,
  );
  out.push(
    `   the reference server alone (bare client → Proton ÷ bare client → echo, same client): ×${fmt(bareProtonRt.median / bareRt.median, 2)} ` +
      `(${signed(bareProtonRt.median - bareRt.median)} µs), p10 ×${fmt(bareProtonRt.p10 / bareRt.p10, 2)} (${signed(bareProtonRt.p10 - bareRt.p10)} µs), per-round ratio median ${fmt(median(rt.batchMedians[3]!.map((m, r) => m / baseBatches[r]!)), 3)}; ` +
      `CPU per round trip ×${cpuRatio(3)} (${signed(cpuOf(3) - cpuOf(0))} µs)`,
  );

  const hsStats = hs.map(stats);
  const hsBase = hsStats[0]!;
  out.push('');
  out.push(`2. Handshake (connect until usable, close not timed) (ms); ${String(opts.handshakes)} per variant after ${String(opts.hsWarmup)} warm-up, interleaved`);
  out.push(
    table(
      ['variant', 'median ms', 'p90 ms', 'min ms', '×median', '×p90'],
      hsVariants.map((v, i) => {
        const s = hsStats[i]!;
        return [v.name, fmt(s.median, 2), fmt(s.p90, 2), fmt(s.min, 2), fmt(s.median / hsBase.median, 2), fmt(s.p90 / hsBase.p90, 2)];
      }),
    ),
  );
  if (protonHsViolations.length > 0) {
    out.push(`   note: the Proton server closed ${String(protonHsViolations.length)} handshake connection(s) with a non-zero code (${String(secondConn)} SECOND_CONNECTION)`);
  }

  out.push('');
  if (suiteRuns.length === 0) {
    out.push('3. Proton suite: skipped (--skip-suite)');
  } else {
    const walls = suiteRuns.map((r) => r.wallMs);
    const first = suiteRuns[0]!.result;
    const counts = (r: RunResult): string => VERDICTS.map((v) => `${v} ${String(r.summary[v])}`).join(', ');
    out.push(`3. Proton suite against the reference server, fastProfile, ${String(suiteRuns.length)} run(s)`);
    out.push(
      table(
        ['run', 'wall ms', 'runner ms', 'cases', 'verdicts'],
        suiteRuns.map((r, k) => [`#${String(k + 1)}`, fmt(r.wallMs), fmt(r.result.durationMs), String(r.result.summary.total), counts(r.result)]),
        [0, 4],
      ),
    );
    const s = stats(walls);
    out.push(`   median wall ${fmt(s.median)} ms (${fmt(s.median / 1000, 1)} s) for ${String(first.summary.total)} cases; probes failed: ${String(suiteRuns.reduce((a, r) => a + r.result.probes.filter((p) => !p.ok).length, 0))}`);
    const notPass = suiteRuns.flatMap((r, k) => r.result.cases.filter((c) => c.verdict !== 'pass').map((c) => `#${String(k + 1)} ${c.id}: ${c.verdict}${c.message ? ` (${c.message})` : ''}`));
    for (const line of notPass.slice(0, 20)) out.push(`   not pass: ${line}`);
    if (notPass.length > 20) out.push(`   … and ${String(notPass.length - 20)} more`);
  }
  out.push('');
  out.push(`env: ${envLine(start)}`);
  console.log(out.join('\n'));
}

/** Exits non-zero if the process is still alive `EXIT_GRACE_MS` after cleanup (something hangs). */
function exitWatchdog(): void {
  const t = setTimeout(() => {
    const handles = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles?.() ?? [];
    console.error(
      `[bench] the process did not exit ${String(EXIT_GRACE_MS)} ms after cleanup; ${String(handles.length)} active handle(s): ` +
        handles.map((h) => (h as object)?.constructor?.name ?? typeof h).join(', '),
    );
    process.exit(2);
  }, EXIT_GRACE_MS);
  t.unref();
}

try {
  await main();
} catch (err) {
  console.error(`[bench] FAILED: ${errorText(err)}`);
  process.exitCode = 1;
} finally {
  const stuck = await cleanupAll();
  if (stuck.length > 0) {
    console.error(`[bench] did not close in time: ${stuck.join(', ')}`);
    process.exitCode = 1;
  }
  exitWatchdog();
}
