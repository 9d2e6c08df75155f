/**
 * wirecheck benchmark: what the chaos proxy (harness/proxy/) costs with no
 * toxics, against talking to the server directly.
 * Run: `node --import=tsx bench/tcp-proxy.ts [options]`.
 *
 * Everything runs on 127.0.0.1 in one process, one run, two variants:
 *   - direct: a node:net client to a node:net echo server (the baseline);
 *   - proxy:  the same client through `startChaosProxy` (no toxics) to the
 *     same echo server.
 *
 * 1. Round trip: one 16-byte write and its 16-byte echo on one long-lived
 *    connection per variant (Nagle off), timed from just before the write to
 *    the moment all 16 bytes are back; every echo is checked. Variants run in
 *    alternating batches (`--batch`, order rotated every round) so that the
 *    noise of a shared machine hits both alike; `--warmup` round trips are
 *    discarded.
 * 2. Throughput: `--mb` MiB written at once on a fresh connection and echoed
 *    back whole (so the proxy carries the payload both ways), timed until the
 *    last echoed byte arrives; MB/s = payload MiB / s. `--rounds` rounds,
 *    variant order alternating; each echo is checked for length and content.
 *
 * Reported: median (and p90 for round trips) per variant, and the ratio
 * proxy / direct of the medians. Absolute figures move with the machine's
 * load; the ratio much less.
 *
 * Options: --rounds R (7), --rtt N (round trips per variant per round, 300),
 * --batch B (50), --warmup W (200), --mb M (16).
 */
import net from 'node:net';
import { availableParallelism, cpus, loadavg, platform, arch } from 'node:os';
import { parseArgs } from 'node:util';
import { startChaosProxy } from '../harness/proxy/index.js';
import { median, quantile } from './_stats.js';

interface Options {
  readonly rounds: number;
  readonly rtt: number;
  readonly batch: number;
  readonly warmup: number;
  readonly mb: number;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '7' },
      rtt: { type: 'string', default: '300' },
      batch: { type: 'string', default: '50' },
      warmup: { type: 'string', default: '200' },
      mb: { type: 'string', default: '16' },
    },
  });
  const int = (name: keyof typeof values, min: number): number => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
    return n;
  };
  return { rounds: int('rounds', 1), rtt: int('rtt', 1), batch: int('batch', 1), warmup: int('warmup', 0), mb: int('mb', 1) };
}

/** An echo server on 127.0.0.1. */
async function startEcho(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.setNoDelay(true);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    s.pipe(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A client connection that can wait for `n` more bytes (chunks are joined once, when enough arrived). */
class Conn {
  private chunks: Buffer[] = [];
  private have = 0;
  private want = 0;
  private wake: (() => void) | undefined;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.have += d.length;
      if (this.wake && this.have >= this.want) {
        const w = this.wake;
        this.wake = undefined;
        w();
      }
    });
  }

  static async open(port: number): Promise<Conn> {
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new Conn(socket);
  }

  /** Resolves with (and consumes) the next `n` bytes. */
  read(n: number): Promise<Buffer> {
    const take = (): Buffer => {
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.have);
      const out = all.subarray(0, n);
      const rest = all.subarray(n);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.have = rest.length;
      return out;
    };
    if (this.have >= n) return Promise.resolve(take());
    this.want = n;
    return new Promise((resolve) => {
      this.wake = () => resolve(take());
    });
  }

  close(): void {
    this.socket.destroy();
  }
}


async function roundTrips(c: Conn, n: number, out: number[] | undefined, seq: { i: number }): Promise<void> {
  const msg = Buffer.alloc(16);
  for (let k = 0; k < n; k++) {
    msg.writeUInt32BE(seq.i++ >>> 0, 0);
    const started = performance.now();
    c.socket.write(msg);
    const got = await c.read(16);
    const us = (performance.now() - started) * 1000;
    if (!got.equals(msg)) throw new Error('bench: wrong echo');
    out?.push(us);
  }
}

async function throughput(port: number, payload: Buffer): Promise<number> {
  const c = await Conn.open(port);
  try {
    const started = performance.now();
    c.socket.write(payload);
    const got = await c.read(payload.length);
    const secs = (performance.now() - started) / 1000;
    if (!got.equals(payload)) throw new Error('bench: wrong echo (throughput)');
    return payload.length / (1024 * 1024) / secs;
  } finally {
    c.close();
  }
}

async function mainBench(): Promise<void> {
  const o = options();
  const echo = await startEcho();
  const proxy = await startChaosProxy({ upstreamHost: '127.0.0.1', upstreamPort: echo.port, seed: 1 });
  const ports = { direct: echo.port, proxy: proxy.port };
  const variants = ['direct', 'proxy'] as const;
  type V = (typeof variants)[number];

  const cpu = cpus()[0]?.model ?? '?';
  process.stdout.write(
    `tcp-proxy bench: node ${process.version}, ${platform()}/${arch()}, ${availableParallelism()} CPU (${cpu}), load ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n` +
      `rounds ${o.rounds}, round trips ${o.rtt}/variant/round in batches of ${o.batch} (+${o.warmup} warm-up), throughput ${o.mb} MiB echoed per sample\n\n`,
  );

  // ---- round trip ----
  const conns: Record<V, Conn> = { direct: await Conn.open(ports.direct), proxy: await Conn.open(ports.proxy) };
  const seq = { i: 0 };
  for (const v of variants) await roundTrips(conns[v], o.warmup, undefined, seq);
  const rtt: Record<V, number[]> = { direct: [], proxy: [] };
  const roundRatios: number[] = [];
  for (let r = 0; r < o.rounds; r++) {
    const order = r % 2 === 0 ? variants : ([...variants].reverse() as V[]);
    const roundSamples: Record<V, number[]> = { direct: [], proxy: [] };
    for (let done = 0; done < o.rtt; done += o.batch) {
      const n = Math.min(o.batch, o.rtt - done);
      for (const v of order) await roundTrips(conns[v], n, roundSamples[v], seq);
    }
    for (const v of variants) rtt[v].push(...roundSamples[v]);
    roundRatios.push(median(roundSamples.proxy) / median(roundSamples.direct));
  }
  for (const v of variants) conns[v].close();

  // ---- throughput ----
  const payload = Buffer.alloc(o.mb * 1024 * 1024);
  for (let i = 0; i < payload.length; i += 4) payload.writeUInt32LE(i >>> 0, i);
  await throughput(ports.direct, payload.subarray(0, 1024 * 1024));
  await throughput(ports.proxy, payload.subarray(0, 1024 * 1024));
  const mbs: Record<V, number[]> = { direct: [], proxy: [] };
  for (let r = 0; r < o.rounds; r++) {
    const order = r % 2 === 0 ? variants : ([...variants].reverse() as V[]);
    for (const v of order) mbs[v].push(await throughput(ports[v], payload));
  }

  // ---- report ----
  const fmt = (x: number, d = 1) => x.toFixed(d).padStart(8);
  process.stdout.write('round trip (16 B echo), µs      median      p90   samples\n');
  for (const v of variants) {
    const s = [...rtt[v]].sort((a, b) => a - b);
    process.stdout.write(`  ${v.padEnd(28)}${fmt(quantile(s, 0.5))} ${fmt(quantile(s, 0.9))} ${String(s.length).padStart(9)}\n`);
  }
  const rr = [...roundRatios].sort((a, b) => a - b);
  process.stdout.write(
    `  ratio proxy/direct (medians)  ${fmt(median(rtt.proxy) / median(rtt.direct), 2)}   per-round p10–p90 ${quantile(rr, 0.1).toFixed(2)}–${quantile(rr, 0.9).toFixed(2)}\n\n`,
  );
  process.stdout.write(`throughput (${o.mb} MiB echoed), MiB/s   median      min      max\n`);
  for (const v of variants) {
    const s = [...mbs[v]].sort((a, b) => a - b);
    process.stdout.write(`  ${v.padEnd(28)}${fmt(median(s))} ${fmt(s[0]!)} ${fmt(s[s.length - 1]!)}\n`);
  }
  process.stdout.write(`  ratio proxy/direct (medians)  ${fmt(median(mbs.proxy) / median(mbs.direct), 2)}\n`);
  const st = proxy.stats();
  process.stdout.write(`\nproxy: ${st.connections} connections, ${(st.bytesUpstream / 1048576).toFixed(1)} MiB up, ${(st.bytesDownstream / 1048576).toFixed(1)} MiB down\n`);

  await proxy.stop();
  await echo.close();
}

await mainBench();
