/**
 * wirecheck benchmark: the Moonpool reference client and server against a
 * bare node:net baseline. Run: `node --import=tsx bench/moonpool.ts [options]`.
 *
 * Everything on 127.0.0.1, one process, one run. Variants (each on one
 * long-lived connection opened before the measurements):
 *   - client → server: the reference client (`MoonpoolClient`: pure
 *     TransportProtocol + node:net connector) sending PING to the reference
 *     server (`startMoonpoolServer`: the model's server core on the generic
 *     TCP host, which records a trace);
 *   - bare → server: a bare node:net socket writing the same 16-byte PING
 *     frames to the reference server and counting reply bytes (splits the
 *     overhead: client side vs server side);
 *   - bare → echo (BASELINE): the same bare socket to a bare node:net server
 *     that echoes every byte (`socket.pipe(socket)`).
 *
 * Two measurements, interleaved round by round (variant order rotated each
 * round, so that machine noise hits all variants alike):
 *   1. round trip: one request in flight, `--n` sequential requests per
 *      round; the median of each round, then the median over rounds (and
 *      the p90 of all samples);
 *   2. throughput: `--requests` requests per round with `--window` in
 *      flight; requests per second per round, then the median over rounds.
 * Every answer is checked (16 bytes back per request; the client checks
 * each PONG), so the bench cannot time nothing. The ratios to the baseline
 * are the numbers to read; absolute figures move with the machine.
 *
 * Options: --rounds R (default 10), --n N (300), --requests M (10000),
 * --window W (64), --warmup K (500 requests per variant, discarded).
 */
import net from 'node:net';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { MoonpoolClient } from '../reference-server/moonpool/client/client.js';
import { netConnector } from '../reference-server/moonpool/client/connector.js';
import { startMoonpoolServer } from '../reference-server/moonpool/index.js';
import { encodeEnvelope, PING } from '../suites/moonpool/codec.js';
import { defaultProfile } from '../suites/moonpool/profile.js';
import { median, quantile } from './_stats.js';

interface Options {
  readonly rounds: number;
  readonly n: number;
  readonly requests: number;
  readonly window: number;
  readonly warmup: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: { rounds: { type: 'string' }, n: { type: 'string' }, requests: { type: 'string' }, window: { type: 'string' }, warmup: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    console.log('usage: node --import=tsx bench/moonpool.ts [--rounds R] [--n N] [--requests M] [--window W] [--warmup K]');
    process.exit(0);
  }
  const int = (name: string, v: string | undefined, def: number, min: number): number => {
    if (v === undefined) return def;
    const x = Number(v);
    if (!Number.isSafeInteger(x) || x < min) throw new RangeError(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
    return x;
  };
  return {
    rounds: int('rounds', values.rounds, 10, 1),
    n: int('n', values.n, 300, 1),
    requests: int('requests', values.requests, 10_000, 1),
    window: int('window', values.window, 64, 1),
    warmup: int('warmup', values.warmup, 500, 0),
  };
}

// ---- statistics ---------------------------------------------------------------


// ---- variants -----------------------------------------------------------------

/** A way to send one PING and learn of its answer. */
interface Variant {
  readonly name: string;
  /** Sends `count` requests keeping at most `window` in flight; resolves when all are answered. */
  run(count: number, window: number): Promise<void>;
  close(): Promise<void>;
}

const FRAME = encodeEnvelope({ correlationId: 1n, payload: PING });
const DEADLINE_MS = 60_000;

/** A bare node:net client writing PING frames and counting 16-byte answers. */
async function bareVariant(name: string, port: number): Promise<Variant> {
  const socket = net.createConnection({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let received = 0;
  let waiter: (() => void) | undefined;
  socket.on('data', (d: Buffer) => {
    received += d.length;
    waiter?.();
  });
  return {
    name,
    async run(count, window) {
      const target = received + count * FRAME.length;
      let sent = 0;
      const base = received;
      const fill = () => {
        const answered = Math.floor((received - base) / FRAME.length);
        const burst: Uint8Array[] = [];
        while (sent < count && sent - answered < window) {
          burst.push(FRAME);
          sent++;
        }
        if (burst.length) socket.write(burst.length === 1 ? FRAME : Buffer.concat(burst));
      };
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: no answers within ${DEADLINE_MS} ms`)), DEADLINE_MS);
        waiter = () => {
          if (received >= target) {
            clearTimeout(timer);
            waiter = undefined;
            resolve();
          } else fill();
        };
        fill();
      });
      if (received !== target) throw new Error(`${name}: ${received - target} unexpected bytes`);
    },
    async close() {
      socket.destroy();
    },
  };
}

/** The reference client. */
async function clientVariant(port: number): Promise<Variant> {
  const client = new MoonpoolClient({ connector: netConnector('127.0.0.1', port), profile: defaultProfile });
  await client.connect();
  return {
    name: 'client → server',
    async run(count, window) {
      let next = 0;
      const worker = async () => {
        while (next < count) {
          next++;
          await client.ping({ timeoutMs: DEADLINE_MS });
        }
      };
      await Promise.all(Array.from({ length: Math.min(window, count) }, worker));
    },
    close: () => client.close(),
  };
}

// ---- main -------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const server = await startMoonpoolServer({ profile: defaultProfile });
  const echo = net.createServer((s) => {
    s.setNoDelay(true);
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  const echoPort = (echo.address() as net.AddressInfo).port;
  const variants = [await clientVariant(server.port), await bareVariant('bare → server', server.port), await bareVariant('bare → echo (baseline)', echoPort)];
  try {
    for (const v of variants) await v.run(opts.warmup, opts.window);
    const rtt = new Map<string, { roundMedians: number[]; all: number[] }>(variants.map((v) => [v.name, { roundMedians: [], all: [] }]));
    const rps = new Map<string, number[]>(variants.map((v) => [v.name, []]));
    for (let round = 0; round < opts.rounds; round++) {
      const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
      for (const v of order) {
        const samples: number[] = [];
        for (let i = 0; i < opts.n; i++) {
          const t0 = performance.now();
          await v.run(1, 1);
          samples.push((performance.now() - t0) * 1000);
        }
        const r = rtt.get(v.name)!;
        r.roundMedians.push(median(samples));
        r.all.push(...samples);
      }
      for (const v of order) {
        const t0 = performance.now();
        await v.run(opts.requests, opts.window);
        rps.get(v.name)!.push(opts.requests / ((performance.now() - t0) / 1000));
      }
    }
    const base = variants[2]!.name;
    const baseRtt = median(rtt.get(base)!.roundMedians);
    const baseRps = median(rps.get(base)!);
    console.log(`moonpool bench: node ${process.version}, ${availableParallelism()} CPU(s) ${cpus()[0]?.model ?? ''}, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    console.log(`rounds ${opts.rounds}; round trip: ${opts.n} sequential requests per round; throughput: ${opts.requests} requests per round, window ${opts.window}\n`);
    console.log(`${'variant'.padEnd(24)} ${'RTT median'.padStart(11)} ${'RTT p90'.padStart(9)} ${'× base'.padStart(7)} ${'req/s median'.padStart(13)} ${'÷ base'.padStart(7)}`);
    for (const v of variants) {
      const r = rtt.get(v.name)!;
      const m = median(r.roundMedians);
      const x = median(rps.get(v.name)!);
      console.log(`${v.name.padEnd(24)} ${`${m.toFixed(1)} µs`.padStart(11)} ${`${quantile(r.all, 0.9).toFixed(0)} µs`.padStart(9)} ${(m / baseRtt).toFixed(2).padStart(7)} ${x.toFixed(0).padStart(13)} ${(baseRps / x).toFixed(2).padStart(7)}`);
    }
    const c = variants[0]!.name;
    const b = variants[1]!.name;
    console.log(`\nratio client → server / bare → echo: round trip ×${(median(rtt.get(c)!.roundMedians) / baseRtt).toFixed(2)}, throughput ÷${(baseRps / median(rps.get(c)!)).toFixed(2)}`);
    console.log(`split: server side (bare → server / baseline) ×${(median(rtt.get(b)!.roundMedians) / baseRtt).toFixed(2)} RTT; client side (client → server / bare → server) ×${(median(rtt.get(c)!.roundMedians) / median(rtt.get(b)!.roundMedians)).toFixed(2)} RTT`);
    console.log(`server trace: ${server.trace.events.length} events recorded`);
  } finally {
    for (const v of variants) await v.close();
    await server.stop();
    await new Promise<void>((r) => echo.close(() => r()));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
