/**
 * wirecheck benchmark: `wirecheck load --protocol garou` against the Garou
 * reference server, on this machine. Run:
 * `npm run bench:garou-load [-- --quick]` (or `node --import=tsx bench/garou-load.ts`).
 *
 * The server runs in a process of its own (`wirecheck serve garou`, a
 * fresh one per run, promotions out of reach), the clients in this one, so
 * that each can have a core. It is stopped (SIGINT, SIGKILL after 5 s) at
 * the end of each run and killed on every way out of the bench.
 * `--server-prof DIR` runs it with `node --cpu-prof --cpu-prof-dir DIR`;
 * profile the clients with `node --cpu-prof --import=tsx bench/garou-load.ts`.
 *
 * 1. Capacity: the largest N (connections) that holds for `--duration`
 *    seconds (default 60; `--quick`: 10) with every connection held to the
 *    end, no violation, and fan-out p99 under `--p99` ms (default 100).
 *    N grows through `--steps` (default 100,200,300,500,700,1000; `--quick`:
 *    50,100,200) until a step fails (`--keep-going`: every step). Load per
 *    step: rooms of `--members` clients (default 20), each client sending
 *    `--per-client` messages/s (default 0.05: one message every 20 s), so
 *    deliveries/s ≈ N × per-client × members. Per step: delivered/s, fan-out
 *    p50/p99/p99.9, and over the send phase the CPU of the server and client
 *    processes (share of one core) and the share of time their JavaScript
 *    threads were runnable but waiting for a CPU (/proc/PID/schedstat: on a
 *    shared machine, how much the others' load starved them), and the load
 *    average.
 * 2. Model overhead and baseline, at that N (or `--sat-n`), saturated
 *    (offered rate `--saturate` × the step's rate, default 20×, so that
 *    delivered/s is the capacity rather than the offered rate), `--rounds`
 *    rounds (default 3; `--quick`: 1; 0: capacity only) of `--sat-duration`
 *    seconds (default 20; `--quick`: 5), variants interleaved with their
 *    order rotated each round:
 *      - load, model on: the harness's load tool (QUIC driver, trace,
 *        codec with schema validation, the feed's checks);
 *      - load, model off: the same without the feed's checks (`--no-check`);
 *      - bare (BASELINE): the same clients written directly on
 *        @matrixai/quic: frames built and read by hand, JSON.parse only,
 *        the same pacing and keep-alive.
 *    Figures: delivered/s (median over rounds), fan-out p99, CPU µs per
 *    delivery of the server and of the clients over the send phase, and
 *    ratios to the baseline. Target: model on ≥ 0.85 × model off in
 *    delivered/s.
 *
 * Absolute figures move with the machine (2 cores shared with other
 * work: the load average and the run-queue waits are printed); the ratios
 * measured in the same run are the numbers to read.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { QUICClient, events as quicEvents } from '@matrixai/quic';
import type { QUICStream } from '@matrixai/quic';
import { clientCryptoOps, quietLogger } from '../harness/quic/util.js';
import { latencySummary } from '../harness/engine/load.js';
import { noop } from '../harness/engine/util.js';
import { loadSupport, LOAD_BODY_PREFIX, parseLoadBody } from '../suites/garou/load.js';
import { defaultProfile, type GarouProfile } from '../suites/garou/profile.js';
import { median } from './_stats.js';
import { bareClose, settlesWithin } from './bare-quic.js';

interface Options {
  readonly quick: boolean;
  readonly durationMs: number;
  readonly steps: readonly number[];
  readonly members: number;
  readonly perClient: number;
  readonly p99Ms: number;
  readonly saturate: number;
  readonly rounds: number;
  readonly satMs: number;
  /** N of the saturated comparison (default: the largest N that held). */
  readonly satN: number | undefined;
  /** Run every step even after one fails (on a shared machine a step can fail for the others' load). */
  readonly keepGoing: boolean;
  /** Node flags of the server process (e.g. `--cpu-prof --cpu-prof-dir DIR`). */
  readonly serverNodeArgs: readonly string[];
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      duration: { type: 'string' },
      steps: { type: 'string' },
      members: { type: 'string' },
      'per-client': { type: 'string' },
      p99: { type: 'string' },
      saturate: { type: 'string' },
      rounds: { type: 'string' },
      'sat-duration': { type: 'string' },
      'sat-n': { type: 'string' },
      'server-prof': { type: 'string' },
      'keep-going': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log('usage: node --import=tsx bench/garou-load.ts [--quick] [--duration S] [--steps N,N,…] [--members M] [--per-client R] [--p99 MS] [--saturate X] [--rounds K (0: capacity only)] [--sat-duration S] [--sat-n N] [--server-prof DIR] [--keep-going]');
    process.exit(0);
  }
  const num = (name: string, v: string | undefined, def: number): number => {
    if (v === undefined) return def;
    const n = Number(v);
    if (!(n > 0)) throw new Error(`--${name} must be a positive number, got ${JSON.stringify(v)}`);
    return n;
  };
  const quick = values.quick === true;
  const steps = (values.steps ?? (quick ? '50,100,200' : '100,200,300,500,700,1000')).split(',').map((s) => num('steps', s, 0));
  return {
    quick,
    durationMs: num('duration', values.duration, quick ? 10 : 60) * 1000,
    steps: steps.map((s) => Math.round(s)),
    members: Math.round(num('members', values.members, 20)),
    perClient: num('per-client', values['per-client'], 0.05),
    p99Ms: num('p99', values.p99, 100),
    saturate: num('saturate', values.saturate, 20),
    rounds: values.rounds === '0' ? 0 : Math.round(num('rounds', values.rounds, quick ? 1 : 3)),
    satMs: num('sat-duration', values['sat-duration'], quick ? 5 : 20) * 1000,
    satN: values['sat-n'] === undefined ? undefined : Math.round(num('sat-n', values['sat-n'], 0)),
    keepGoing: values['keep-going'] === true,
    serverNodeArgs: values['server-prof'] === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', values['server-prof']],
  };
}

/** The profile of every run: the seed's, with promotions out of reach (the capacity is the shard path's). */
const profile: GarouProfile = { ...defaultProfile, hotThreshold: 1_000_000, coldThreshold: 1 };

// ---------------------------------------------------------------------------
// The server: `wirecheck serve garou` in a process of its own (a core of its own).

const BIN = fileURLToPath(new URL('../bin/wirecheck.js', import.meta.url));
/** Server processes not yet reaped: killed on every way out of the bench. */
const children = new Set<ChildProcess>();
function killChildren(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
process.on('exit', killChildren);
for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(sig, () => {
    killChildren();
    process.exit(code);
  });
}

/**
 * CPU time (ms, user + system) used so far by process `pid`, from
 * /proc/PID/stat (utime, stime in USER_HZ = 100 ticks/s: 10 ms resolution);
 * NaN where /proc is not readable (not Linux).
 */
function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/**
 * Time (ms) the main thread (the JavaScript thread) of process `pid` ('self'
 * for this one) has spent waiting on a run queue, runnable but without a CPU
 * (/proc/PID/schedstat, second field, ns): on a shared machine, the share of
 * the run a process was starved. NaN where unreadable.
 */
function runQueueWaitMs(pid: number | 'self'): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e6;
  } catch {
    return Number.NaN;
  }
}

/** A Garou reference server running in a child process. */
interface ServerProcess {
  readonly host: string;
  readonly port: number;
  /** CPU time (ms) the server process used since it started. */
  cpuMs(): number;
  /** Time (ms) its main thread waited for a CPU since it started ({@link runQueueWaitMs}). */
  waitMs(): number;
  /** SIGINT (the server closes its connections and exits; a `--cpu-prof` profile is written), SIGKILL after 5 s (60 s when profiling). */
  stop(): Promise<void>;
}

/**
 * Starts `wirecheck serve garou` (promotions out of reach, see `profile`)
 * on a free port in a child process with `nodeArgs` (e.g. `--cpu-prof`).
 * @throws Error with the child's stderr when it exits or prints no
 *   "listening" line within 60 s.
 */
async function startServerProcess(nodeArgs: readonly string[]): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    [...nodeArgs, BIN, 'serve', 'garou', '--port', '0', '--hot-threshold', String(profile.hotThreshold), '--cold-threshold', String(profile.coldThreshold)],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    children.delete(child);
    resolve();
  }));
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    stderr = (stderr + d).slice(-4_000);
  });
  // A saturated server drains its backlog before it exits: wait for that only when its profile is wanted.
  const profiling = nodeArgs.includes('--cpu-prof');
  const exitWaitMs = profiling ? 60_000 : 5_000;
  const kill = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGINT');
    if (!(await settlesWithin(exited, exitWaitMs))) {
      if (profiling) console.error(`server: no exit within ${exitWaitMs / 1000} s of SIGINT; killed (its profile is lost)`);
      child.kill('SIGKILL');
      await exited;
    }
  };
  try {
    const { host, port } = await new Promise<{ host: string; port: number }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server: no "listening" line within 60 s; stderr: ${stderr}`)), 60_000);
      const onData = (): void => {
        const m = /listening on quic:\/\/(\S+):(\d+)/.exec(stderr);
        if (!m) return;
        clearTimeout(timer);
        child.stderr!.off('data', onData);
        resolve({ host: m[1]!, port: Number(m[2]) });
      };
      child.stderr!.on('data', onData);
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`server exited (${String(child.exitCode ?? child.signalCode)}) before listening; stderr: ${stderr}`));
      });
    });
    return { host, port, cpuMs: () => cpuMsOf(child.pid!), waitMs: () => runQueueWaitMs(child.pid!), stop: kill };
  } catch (err) {
    await kill();
    throw err;
  }
}

/** What one variant measured. */
interface Measure {
  readonly established: number;
  readonly held: number;
  readonly sent: number;
  readonly delivered: number;
  readonly expected: number;
  readonly deliveredPerSec: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly violations: number;
  /** Violations by rule, and the first error (for a failing step's line). */
  readonly why?: string;
  /** Wall time of the run (ms): connect, setup, send, drain. */
  readonly wallMs: number;
  /** CPU ms of the client (this) process during the run. */
  readonly clientCpuMs: number;
  /** CPU ms of the server process during the run. */
  readonly serverCpuMs: number;
  /** 1-minute load average at the end of the run. */
  readonly load1: number;
  /** The send phase alone: wall ms, both processes' CPU ms and their main threads' run-queue waits (ms) over it. */
  readonly send: { readonly ms: number; readonly clientCpuMs: number; readonly serverCpuMs: number; readonly clientWaitMs: number; readonly serverWaitMs: number };
}

/** Marks the send phase's start and end (CPU of both processes at each). */
class SendWindow {
  private t0 = 0;
  private c0 = 0;
  private s0 = 0;
  private cw0 = 0;
  private sw0 = 0;
  private result = { ms: Number.NaN, clientCpuMs: Number.NaN, serverCpuMs: Number.NaN, clientWaitMs: Number.NaN, serverWaitMs: Number.NaN };
  constructor(private readonly server: ServerProcess) {}
  private static cpu(): number {
    const c = process.cpuUsage();
    return (c.user + c.system) / 1000;
  }
  start(): void {
    this.t0 = performance.now();
    this.c0 = SendWindow.cpu();
    this.s0 = this.server.cpuMs();
    this.cw0 = runQueueWaitMs('self');
    this.sw0 = this.server.waitMs();
  }
  end(): void {
    if (this.t0 === 0 || Number.isFinite(this.result.ms)) return;
    this.result = {
      ms: performance.now() - this.t0,
      clientCpuMs: SendWindow.cpu() - this.c0,
      serverCpuMs: this.server.cpuMs() - this.s0,
      clientWaitMs: runQueueWaitMs('self') - this.cw0,
      serverWaitMs: this.server.waitMs() - this.sw0,
    };
  }
  get value(): Measure['send'] {
    return this.result;
  }
}
type Measured = Omit<Measure, 'wallMs' | 'clientCpuMs' | 'serverCpuMs' | 'load1' | 'send'>;

const roomsFor = (n: number, members: number): number => Math.max(1, Math.floor(n / members));

/** Runs `body` against a fresh server process; measures both processes' CPU over it. */
async function withServer(
  nodeArgs: readonly string[],
  body: (server: ServerProcess, send: SendWindow) => Promise<Measured>,
): Promise<Measure> {
  const server = await startServerProcess(nodeArgs);
  try {
    const cpu0 = process.cpuUsage();
    const s0 = server.cpuMs();
    const t0 = performance.now();
    const send = new SendWindow(server);
    const m = await body(server, send);
    const cpu = process.cpuUsage(cpu0);
    return { ...m, wallMs: performance.now() - t0, clientCpuMs: (cpu.user + cpu.system) / 1000, serverCpuMs: server.cpuMs() - s0, load1: loadavg()[0]!, send: send.value };
  } finally {
    await server.stop();
  }
}

function harnessLoad(o: Options, n: number, rate: number, ms: number, check: boolean): Promise<Measure> {
  return withServer(o.serverNodeArgs, async (server, send) => {
    const s = await loadSupport.run({
      onPhase: (p) => {
        if (p === 'send') send.start();
        else if (p === 'drain') send.end();
      },
      connect: { host: server.host, port: server.port, connectTimeoutMs: 10_000, insecure: true },
      profile,
      targetUrl: `quic://${server.host}:${server.port}`,
      clients: n,
      rooms: roomsFor(n, o.members),
      ratePerSec: rate,
      durationMs: ms,
      check,
    });
    return {
      established: s.connections.established,
      held: s.connections.held,
      sent: s.sent,
      delivered: s.delivered,
      expected: s.expectedDeliveries,
      deliveredPerSec: s.deliveredPerSec,
      p50: s.latencyMs.p50,
      p99: s.latencyMs.p99,
      p999: s.latencyMs.p999,
      violations: s.violations.count,
      why: [Object.entries(s.violations.byRule).map(([r, k]) => `${r}×${k}`).join(' '), s.errors[0] ?? ''].filter(Boolean).join('; '),
    };
  });
}

// ---------------------------------------------------------------------------
// The baseline: Garou clients written directly on @matrixai/quic.

const enc = new TextEncoder();
const dec = new TextDecoder();
function frame(type: number, payload: object): Uint8Array {
  const body = enc.encode(JSON.stringify(payload));
  const out = new Uint8Array(5 + body.length);
  out[0] = type;
  new DataView(out.buffer).setUint32(1, body.length);
  out.set(body, 5);
  return out;
}

/** Reads frames off a stream (skipping `skip` header bytes first); calls `on` for each. */
async function readFrames(s: QUICStream, skipHeader: boolean, on: (type: number, payload: Record<string, unknown>) => void): Promise<void> {
  const reader = s.readable.getReader();
  let buf: Uint8Array = new Uint8Array(0);
  let skip = -1;
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) return;
      buf = buf.length ? Buffer.concat([buf, r.value]) : r.value;
      if (skip < 0) {
        if (!skipHeader) skip = 0;
        else if (buf.length >= 1) skip = buf[0] === 0x10 ? 2 : 5;
        else continue;
      }
      if (skip > 0) {
        if (buf.length < skip) continue;
        buf = buf.subarray(skip);
        skip = 0;
      }
      while (buf.length >= 5) {
        const len = new DataView(buf.buffer, buf.byteOffset, buf.length).getUint32(1);
        if (buf.length < 5 + len) break;
        on(buf[0]!, JSON.parse(dec.decode(buf.subarray(5, 5 + len))) as Record<string, unknown>);
        buf = buf.subarray(5 + len);
      }
    }
  } catch {
    /* the connection went away */
  }
}

interface BareClient {
  readonly quic: QUICClient;
  commands?: WritableStreamDefaultWriter<Uint8Array>;
  readonly answers: Array<(p: Record<string, unknown>) => void>;
  room?: number;
  outstanding: number;
  cmd: number;
}

function bareLoad(o: Options, n: number, rate: number, ms: number): Promise<Measure> {
  return withServer(o.serverNodeArgs, (server, send) => bareClients(server, send, n, o.members, rate, ms));
}

async function bareClients(server: ServerProcess, window: SendWindow, n: number, members: number, rate: number, ms: number): Promise<Measured> {
  const clients: BareClient[] = [];
  const lat: number[] = [];
  let delivered = 0;
  let expected = 0;
  let sent = 0;
  const r = roomsFor(n, members);
  const memberCount = new Map<number, number>();
  try {
    const open = async (i: number): Promise<void> => {
      const quic = await QUICClient.createQUICClient(
        {
          host: server.host,
          port: server.port,
          localHost: '0.0.0.0',
          crypto: { ops: clientCryptoOps },
          config: { applicationProtos: ['garou'], verifyPeer: false, keepAliveIntervalTime: 10_000 },
          logger: quietLogger('bench-garou-bare'),
        },
        { timer: 10_000 },
      );
      let ready: () => void = noop;
      const authed = new Promise<void>((res) => (ready = res));
      const c: BareClient = { quic, answers: [], outstanding: 0, cmd: 1 };
      quic.connection.addEventListener(quicEvents.EventQUICConnectionStream.name, (e: Event) => {
        const s = (e as quicEvents.EventQUICConnectionStream).detail;
        void readFrames(s, true, (type, p) => {
          if (type !== 0x30) return;
          const b = parseLoadBody(String(p['body']));
          if (b) {
            delivered++;
            lat.push(performance.timeOrigin + performance.now() - b.sentAt);
          }
        });
      });
      const ctl = quic.connection.newStream('bidi');
      const cw = ctl.writable.getWriter();
      cw.closed.catch(noop);
      void readFrames(ctl, false, (type, p) => {
        if (type === 0x50) ready();
        else if (type === 0x62 || type === 0xff) c.answers.shift()?.(p);
      });
      await cw.write(Buffer.concat([frame(0x00, { version: 1, client: 'bare' }), frame(0x02, { username: `bare-${i}` })]));
      await authed;
      const cmds = quic.connection.newStream('uni');
      const w = cmds.writable.getWriter();
      w.closed.catch(noop);
      await w.write(Uint8Array.of(0x01));
      c.commands = w;
      clients[i] = c;
    };
    const request = (c: BareClient, type: number, payload: object): Promise<Record<string, unknown>> =>
      new Promise((res) => {
        c.answers.push(res);
        void c.commands!.write(frame(type, { ...payload, cmd_id: c.cmd++ })).catch(noop);
      });
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < n) await open(next++);
    }));
    const rooms: number[] = [];
    await Promise.all(clients.slice(0, r).map(async (c, j) => {
      const a = await request(c, 0x17, { name: `bare-${j}`, room_type: 'group' });
      rooms[j] = a['room_id'] as number;
      c.room = rooms[j];
      memberCount.set(rooms[j]!, 1);
    }));
    for (let i = r; i < n; i++) {
      const c = clients[i]!;
      c.room = rooms[i % r];
      await request(c, 0x15, { room_id: c.room });
      memberCount.set(c.room!, memberCount.get(c.room!)! + 1);
    }
    window.start();
    const start = performance.now();
    let turn = 0;
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const elapsed = performance.now() - start;
        const due = Math.floor((Math.min(elapsed, ms) * rate) / 1000);
        let tries = 0;
        while (sent < due && tries < n) {
          const c = clients[turn++ % n]!;
          if (c.outstanding >= 256) {
            tries++;
            continue;
          }
          tries = 0;
          c.outstanding++;
          sent++;
          const room = c.room!;
          c.answers.push((p) => {
            c.outstanding--;
            if (p['seq'] !== undefined) expected += memberCount.get(room) ?? 0;
          });
          void c.commands!.write(frame(0x10, { room_id: room, body: `${LOAD_BODY_PREFIX}${turn % n} ${(performance.timeOrigin + performance.now()).toFixed(3)}`, cmd_id: c.cmd++ })).catch(noop);
        }
        if (elapsed >= ms) return resolve();
        // The load tool's pacing (suites/garou/load.ts): sleep until the next message is due, 5 to 250 ms.
        const nextDue = sent < due ? 0 : ((sent + 1) * 1000) / rate - elapsed;
        setTimeout(tick, Math.max(5, Math.min(250, nextDue, ms - elapsed)));
      };
      tick();
    });
    const sendMs = performance.now() - start;
    window.end();
    const deliveredBySend = delivered;
    const drainUntil = performance.now() + 5_000;
    while (performance.now() < drainUntil && (delivered < expected || clients.some((c) => c.outstanding > 0))) await new Promise((res) => setTimeout(res, 20));
    const l = latencySummary(lat);
    return {
      established: clients.length,
      held: clients.filter((c) => c && !(c.quic.connection as unknown as { closed?: boolean }).closed).length,
      sent,
      delivered,
      expected,
      deliveredPerSec: Math.round((deliveredBySend * 1000) / sendMs),
      p50: l.p50,
      p99: l.p99,
      p999: l.p999,
      violations: 0,
    };
  } finally {
    await Promise.all(clients.map((c) => (c ? bareClose(c.quic, 5_000) : true)));
  }
}

// ---------------------------------------------------------------------------

const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '-');
/** CPU µs per delivery in the send phase. */
const perDeliveryUs = (m: Measure, cpuMs: number): number => (cpuMs * 1000) / Math.max(1, (m.deliveredPerSec * m.send.ms) / 1000);
const pct = (cpuMs: number, wallMs: number): string => (Number.isFinite(cpuMs) ? `${Math.round((cpuMs * 100) / wallMs)}%` : '-');

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  console.log(`garou load bench: node ${process.version}, ${availableParallelism()} CPU(s) ${cpus()[0]?.model ?? ''}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} (1, 5, 15 min; the machine is shared)`);
  console.log(`server: \`wirecheck serve garou\` in its own process${o.serverNodeArgs.length ? ` (node ${o.serverNodeArgs.join(' ')})` : ''}; clients in this one`);
  console.log(`capacity: ${o.durationMs / 1000} s per step, rooms of ${o.members}, ${o.perClient} msgs/s per client, p99 < ${o.p99Ms} ms; steps ${o.steps.join(', ')}`);
  console.log('CPU: share of one core during the send phase (server process, client process); wait: share of the send phase their JavaScript threads were runnable but waiting for a CPU (the machine is shared); load: 1-min load average at the step\'s end\n');
  console.log(`${'N'.padStart(6)} ${'rooms'.padStart(6)} ${'rate/s'.padStart(7)} ${'held'.padStart(6)} ${'deliv/s'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'p99.9 ms'.padStart(9)} ${'viol'.padStart(5)} ${'srv CPU'.padStart(8)} ${'cli CPU'.padStart(8)} ${'srv wait'.padStart(9)} ${'cli wait'.padStart(9)} ${'load'.padStart(5)}  verdict`);
  let best: { n: number; m: Measure } | undefined;
  for (const n of o.steps) {
    const rate = n * o.perClient;
    const m = await harnessLoad(o, n, rate, o.durationMs, true);
    const ok = m.held === n && m.violations === 0 && m.p99 < o.p99Ms && m.delivered === m.expected;
    console.log(
      `${String(n).padStart(6)} ${String(roomsFor(n, o.members)).padStart(6)} ${f1(rate).padStart(7)} ${String(m.held).padStart(6)} ${f1(m.deliveredPerSec).padStart(9)} ${f1(m.p50).padStart(8)} ${f1(m.p99).padStart(8)} ${f1(m.p999).padStart(9)} ${String(m.violations).padStart(5)} ${pct(m.send.serverCpuMs, m.send.ms).padStart(8)} ${pct(m.send.clientCpuMs, m.send.ms).padStart(8)} ${pct(m.send.serverWaitMs, m.send.ms).padStart(9)} ${pct(m.send.clientWaitMs, m.send.ms).padStart(9)} ${m.load1.toFixed(2).padStart(5)}  ${ok ? 'holds' : `fails${m.why ? ` (${m.why.slice(0, 160)})` : ''}`}`,
    );
    if (!ok) {
      if (o.keepGoing) continue;
      break;
    }
    if (!best || n > best.n) best = { n, m };
  }
  if (best) console.log(`\nlargest N that holds ${o.durationMs / 1000} s with p99 < ${o.p99Ms} ms: ${best.n} connections, ${f1(best.m.deliveredPerSec)} delivered msgs/s (target ≥ 500 connections: ${best.n >= 500 ? 'met' : 'not met'})`);
  else console.log(`\nno step held (the first, N = ${o.steps[0]}, failed)`);
  if (o.rounds === 0) return;

  const n = o.satN ?? best?.n ?? o.steps[0]!;
  const rate = n * o.perClient * o.saturate;
  console.log(`\nsaturated at N = ${n}: offered ${f1(rate)} msgs/s, ${o.rounds} round(s) of ${o.satMs / 1000} s, variants interleaved; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
  const variants: { name: string; run: () => Promise<Measure> }[] = [
    { name: 'load, model on', run: () => harnessLoad(o, n, rate, o.satMs, true) },
    { name: 'load, model off', run: () => harnessLoad(o, n, rate, o.satMs, false) },
    { name: 'bare @matrixai/quic (BASE)', run: () => bareLoad(o, n, rate, o.satMs) },
  ];
  const results = new Map<string, Measure[]>(variants.map((v) => [v.name, []]));
  for (let round = 0; round < o.rounds; round++) {
    for (let k = 0; k < variants.length; k++) {
      const v = variants[(k + round) % variants.length]!;
      results.get(v.name)!.push(await v.run());
    }
  }
  const summary = variants.map((v) => {
    const ms = results.get(v.name)!;
    return {
      name: v.name,
      dps: median(ms.map((m) => m.deliveredPerSec)),
      p99: median(ms.map((m) => m.p99)),
      srvUs: median(ms.map((m) => perDeliveryUs(m, m.send.serverCpuMs))),
      cliUs: median(ms.map((m) => perDeliveryUs(m, m.send.clientCpuMs))),
      viol: ms.reduce((a, m) => a + m.violations, 0),
      load1: median(ms.map((m) => m.load1)),
    };
  });
  const base = summary[2]!;
  const on = summary[0]!;
  const off = summary[1]!;
  console.log(`${'variant'.padEnd(28)} ${'deliv/s median'.padStart(15)} ${'÷ base'.padStart(7)} ${'p99 ms'.padStart(8)} ${'srv µs/deliv'.padStart(13)} ${'cli µs/deliv'.padStart(13)} ${'cli × base'.padStart(11)} ${'viol'.padStart(5)} ${'load'.padStart(5)}`);
  for (const s of summary) {
    console.log(
      `${s.name.padEnd(28)} ${f1(s.dps).padStart(15)} ${(s.dps / base.dps).toFixed(2).padStart(7)} ${f1(s.p99).padStart(8)} ${f1(s.srvUs).padStart(13)} ${f1(s.cliUs).padStart(13)} ${(s.cliUs / base.cliUs).toFixed(2).padStart(11)} ${String(s.viol).padStart(5)} ${s.load1.toFixed(2).padStart(5)}`,
    );
  }
  const fewer = 1 - on.dps / off.dps;
  const change = fewer >= 0 ? `${(fewer * 100).toFixed(1)} % fewer` : `${(-fewer * 100).toFixed(1)} % more (noise: the model costs nothing measurable here)`;
  console.log(`\nmodel overhead: ${change} delivered msgs/s with the model than without (target ≤ 15 % fewer: ${fewer <= 0.15 ? 'met' : 'not met'}); client CPU per delivery ×${(on.cliUs / off.cliUs).toFixed(2)}`);
  console.log(`load tool (model on) ÷ bare @matrixai/quic clients: ${(on.dps / base.dps).toFixed(2)} in delivered msgs/s, ×${(on.cliUs / base.cliUs).toFixed(2)} client CPU per delivery`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
