/**
 * Deterministic simulation of Moonpool (SPEC §7, §8; the seed's "Simulation
 * Tests … with chaos and determinism", "100+ iterations", "Deterministic
 * failure reproduction", buggify).
 *
 * The client's pure {@link TransportProtocol} and a server's pure
 * {@link ServerCore} (the reference core, or a faulty one) exchange bytes
 * over an in-memory network, in virtual time, driven by one seeded
 * scheduler. Per run, the seed decides which chaos is switched on
 * (FoundationDB's buggify): random delays, splits of every write into
 * pieces, stalls (nothing lost, delivery resumes later), cuts (the
 * connection is reset both ways, in-flight bytes lost) and refused connects.
 * The same seed replays the same run, event for event.
 *
 * Nothing here reads a clock or touches a socket; a run of a few hundred
 * events takes well under a millisecond of real time per hundred events.
 */
import { actionToEvent, modelCore, type ServerAction, type ServerCore } from '../../harness/engine/server-core.js';
import { toHex, type TraceEvent } from '../../harness/engine/trace.js';
import { bytesEqual, isPing, PING, PONG } from './codec.js';
import type { RequestError } from './errors.js';
import { MoonpoolModel } from './model.js';
import { defaultProfile, type MoonpoolProfile } from './profile.js';
import { TransportProtocol, type LossPolicy } from './transport.js';

/** A small seeded PRNG (mulberry32): deterministic across platforms. */
export class SimRandom {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer uniform in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** The chaos of one run (drawn from the seed unless given). Times in ms. */
export interface SimChaos {
  /** Largest one-way delay of a piece of bytes (uniform from 0). */
  readonly maxDelayMs: number;
  /** Probability that a write is split into 2–4 pieces. */
  readonly splitProbability: number;
  /** Stalls: [start, duration] pairs (ms from the start), applied to whatever connection is live then. */
  readonly stalls: readonly (readonly [number, number])[];
  /** Cuts: times (ms) at which the live connection is reset both ways. */
  readonly cuts: readonly number[];
  /** Probability that a connect attempt is refused. */
  readonly refuseProbability: number;
}

/** Options of {@link runSimulation}. */
export interface SimOptions {
  /** The seed: the same seed replays the same run. */
  readonly seed: number;
  /** Server and client limits and timers. Default {@link simProfile}. */
  readonly profile?: MoonpoolProfile;
  /** Number of requests the application makes (default 40). */
  readonly requests?: number;
  /** Requests are made at random times in [0, spreadMs) (default 2000). */
  readonly spreadMs?: number;
  /** Fraction of requests that are PING (default 0.7); the rest carry a unique payload. */
  readonly pingShare?: number;
  /** Request timeouts are uniform in this range (ms; default [1500, 4000]). */
  readonly timeoutMs?: readonly [number, number];
  /** Client policy for requests written on a lost connection (MOONPOOL-8.3). Default: drawn from the seed. */
  readonly lossPolicy?: LossPolicy;
  /** Force the chaos instead of drawing it; `cuts: false` draws everything but cuts and refusals. */
  readonly chaos?: SimChaos | { readonly cuts: false };
  /** The server core to run (default: the reference core). */
  readonly server?: (profile: MoonpoolProfile) => ServerCore;
  /** Step limit (default 200,000): more is reported as a livelock. */
  readonly maxSteps?: number;
}

/** One application request and how it ended. */
export interface SimRequest {
  readonly n: number;
  readonly correlationId: bigint;
  readonly payload: Uint8Array;
  readonly madeAtMs: number;
  readonly timeoutMs: number;
  outcome: { readonly type: 'reply'; readonly payload: Uint8Array; readonly atMs: number } | { readonly type: 'failed'; readonly error: RequestError; readonly atMs: number } | undefined;
  /** Outcomes after the first (each one is a bug: a request ends exactly once). */
  readonly extraOutcomes: string[];
}

/** What a run produced. */
export interface SimResult {
  readonly seed: number;
  readonly chaos: SimChaos;
  readonly lossPolicy: LossPolicy;
  readonly requests: readonly SimRequest[];
  /** Everything the server saw and did (server's view, µs). */
  readonly serverTrace: readonly TraceEvent[];
  /** Human-readable log of the run, one line per happening (for replays). */
  readonly log: readonly string[];
  /** Reconnection delays checked against MOONPOOL-8.4, independently re-computed: `[gap, expected]` in ms. */
  readonly backoffGaps: readonly (readonly [number, number])[];
  /** Strays the client saw (replies matching no pending request). */
  readonly strays: number;
  /** Connect attempts. */
  readonly connects: number;
  /** Virtual time at the end (ms). */
  readonly endMs: number;
  /** Steps executed. */
  readonly steps: number;
  /** Set when the run did not finish: requests without an outcome, or the step limit. */
  readonly hung?: string;
}

/** Profile of simulations: the fast one with 'reply' (echo) so that any mismatch of replies is visible. */
export const simProfile: MoonpoolProfile = { ...defaultProfile, maxPayloadBytes: 4096, otherPayloads: 'reply', requestTimeoutMs: 3_000 };

/** Draws the chaos of a run from its random stream (buggify: each kind is on in about half the runs). */
export function drawChaos(rng: SimRandom, spreadMs: number, cuts: boolean): SimChaos {
  const maxDelayMs = [0, 1, 5, 20, 60][rng.int(0, 4)]!;
  const splitProbability = rng.chance(0.5) ? rng.next() : 0;
  const stalls: [number, number][] = [];
  if (rng.chance(0.5)) for (let i = rng.int(1, 3); i > 0; i--) stalls.push([rng.int(0, spreadMs), rng.int(10, 800)]);
  const cutTimes: number[] = [];
  if (cuts && rng.chance(0.5)) for (let i = rng.int(1, 4); i > 0; i--) cutTimes.push(rng.int(0, spreadMs));
  const refuseProbability = cuts && rng.chance(0.3) ? 0.4 : 0;
  return { maxDelayMs, splitProbability, stalls, cuts: cutTimes.sort((a, b) => a - b), refuseProbability };
}

/** One direction of a connection: a FIFO of deliveries (bytes, or an end), each with its earliest time. */
interface Pipe {
  /** Earliest delivery time of the last item queued (µs): later items never overtake it. */
  last: number;
  readonly items: { readonly t: number; readonly deliver: () => void }[];
  /** A delivery task is scheduled for the head item. */
  scheduled: boolean;
}

/** A simulated connection. */
interface SimConn {
  readonly gen: number;
  readonly server: number;
  /** Bytes and ends still flow (false once cut, reset, or fully closed). */
  alive: boolean;
  /** Server-side open (the server core knows it). */
  serverOpen: boolean;
  readonly c2s: Pipe;
  readonly s2c: Pipe;
  /** Deliveries wait until this time (µs): a stall. */
  stalledUntil: number;
}

interface Task {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

const US = 1000;

/**
 * Runs one simulation. Deterministic: the same options give the same result.
 * Never throws for anything the cores do; a core that throws is reported in
 * `hung` (with the error) rather than crashing the caller.
 */
export function runSimulation(opts: SimOptions): SimResult {
  const rng = new SimRandom(opts.seed);
  const profile = opts.profile ?? simProfile;
  const nRequests = opts.requests ?? 40;
  const spreadMs = opts.spreadMs ?? 2_000;
  const pingShare = opts.pingShare ?? 0.7;
  const [tLo, tHi] = opts.timeoutMs ?? [1_500, 4_000];
  const lossPolicy: LossPolicy = opts.lossPolicy ?? (rng.chance(0.5) ? 'resend' : 'fail');
  const chaos: SimChaos = opts.chaos && 'maxDelayMs' in opts.chaos ? opts.chaos : drawChaos(rng, spreadMs, !(opts.chaos && opts.chaos.cuts === false));
  const maxSteps = opts.maxSteps ?? 200_000;
  const log: string[] = [];
  const serverTrace: TraceEvent[] = [];
  const backoffGaps: [number, number][] = [];

  // ---- scheduler (virtual time, µs) ----
  const queue: Task[] = [];
  let now = 0;
  let seq = 0;
  let steps = 0;
  const at = (t: number, fn: () => void) => {
    const task = { at: Math.max(t, now), seq: seq++, fn };
    // Binary insertion keeps (at, seq) order: ties run in scheduling order.
    let lo = 0;
    let hi = queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const q = queue[mid]!;
      if (q.at < task.at || (q.at === task.at && q.seq < task.seq)) lo = mid + 1;
      else hi = mid;
    }
    queue.splice(lo, 0, task);
  };
  const ms = () => now / US;
  const say = (text: string) => log.push(`${(now / US).toFixed(3).padStart(10)}ms ${text}`);
  const delay = () => rng.int(0, chaos.maxDelayMs * US);

  // ---- endpoints ----
  const client = new TransportProtocol({
    maxPayloadBytes: profile.maxPayloadBytes,
    backoff: { initialMs: profile.reconnectInitialMs, maxMs: profile.reconnectMaxMs, growth: profile.reconnectGrowth },
    onConnectionLoss: lossPolicy,
    connectTimeoutMs: 1_000,
  });
  const server = (opts.server ?? ((p) => modelCore(new MoonpoolModel(p, 'server'))))(profile);
  const conns = new Map<number, SimConn>(); // by client generation
  const byServer = new Map<number, SimConn>();
  let nextServerConn = 0;
  let connects = 0;
  let strays = 0;
  let failure: string | undefined;

  // Backoff check (MOONPOOL-8.4), re-computed here independently of the protocol.
  let expectedDelay = profile.reconnectInitialMs;
  let failedAt: number | undefined;

  // ---- the server side ----
  let serverTimerAt: number | undefined;
  const serverFeed = (ev: TraceEvent) => {
    serverTrace.push(ev);
    try {
      server.handle(ev);
    } catch (err) {
      failure ??= `server core threw on ${ev.type}: ${String(err)}`;
    }
    serverPump();
  };
  const serverPump = () => {
    let acts: ServerAction[];
    try {
      acts = server.poll(now);
    } catch (err) {
      failure ??= `server core threw in poll: ${String(err)}`;
      return;
    }
    for (const act of acts) serverAct(act);
    const next = server.nextTimer();
    if (next !== undefined && next !== serverTimerAt) {
      serverTimerAt = next;
      at(next, () => {
        if (serverTimerAt !== next) return;
        serverTimerAt = undefined;
        serverPump();
      });
    }
  };
  const serverAct = (act: ServerAction) => {
    if (act.type === 'log') return;
    const c = byServer.get(act.conn);
    if (!c || !c.serverOpen) return;
    const ev = actionToEvent(act, now);
    if (ev) serverTrace.push(ev);
    if (act.type === 'send') {
      send(c, c.s2c, act.bytes, (piece) => {
        client.handleReceived(c.gen, piece, ms());
        if (piece.length > 0 && failedAt === undefined) expectedDelay = profile.reconnectInitialMs; // a working connection
        clientPump();
      });
    } else {
      // close / fin: EOF after the bytes in flight; reset: at once, in-flight bytes lost.
      c.serverOpen = false;
      if (ev?.type !== 'conn_close') {
        const close: TraceEvent = { type: 'conn_close', t: now, conn: c.server, by: 'server', isApp: false, code: 0, reason: act.type };
        serverTrace.push(close);
      }
      try {
        server.handle({ type: 'conn_close', t: now, conn: c.server, by: 'server', isApp: false, code: 0, reason: act.type });
      } catch (err) {
        failure ??= `server core threw on its own close: ${String(err)}`;
      }
      const reset = act.type === 'reset';
      say(`server ${reset ? 'resets' : 'closes'} conn ${c.server} (gen ${c.gen})`);
      if (reset) {
        c.alive = false; // An RST: bytes in flight either way are lost.
        at(now + delay(), () => {
          client.handleDisconnected(c.gen, ms(), { kind: 'error', message: 'ECONNRESET' });
          clientPump();
        });
      } else {
        enqueue(c, c.s2c, () => {
          c.alive = false;
          client.handleDisconnected(c.gen, ms(), { kind: 'eof' });
          clientPump();
        });
      }
    }
  };

  /** Queues a delivery on a pipe after a random delay, in order, never during a stall. */
  const enqueue = (c: SimConn, pipe: Pipe, deliver: () => void) => {
    const t = Math.max(pipe.last, now + delay());
    pipe.last = t;
    pipe.items.push({ t, deliver });
    schedulePipe(c, pipe);
  };
  const schedulePipe = (c: SimConn, pipe: Pipe) => {
    const head = pipe.items[0];
    if (pipe.scheduled || !head) return;
    pipe.scheduled = true;
    at(Math.max(head.t, c.stalledUntil), () => {
      pipe.scheduled = false;
      if (!c.alive) {
        pipe.items.length = 0; // Cut or reset: what was in flight is lost.
        return;
      }
      if (now < c.stalledUntil) return schedulePipe(c, pipe); // A stall began meanwhile: nothing lost, later.
      pipe.items.shift()!.deliver();
      schedulePipe(c, pipe);
    });
  };

  /** Sends bytes down a pipe: maybe split into pieces, each delivered after a random delay, in order. */
  const send = (c: SimConn, pipe: Pipe, bytes: Uint8Array, deliver: (piece: Uint8Array) => void) => {
    const pieces: Uint8Array[] = [];
    if (bytes.length > 1 && rng.chance(chaos.splitProbability)) {
      const cuts = new Set<number>();
      for (let k = rng.int(1, 3); k > 0; k--) cuts.add(rng.int(1, bytes.length - 1));
      let from = 0;
      for (const cut of [...cuts].sort((a, b) => a - b)) {
        pieces.push(bytes.subarray(from, cut));
        from = cut;
      }
      pieces.push(bytes.subarray(from));
    } else pieces.push(bytes);
    for (const piece of pieces) enqueue(c, pipe, () => deliver(piece));
  };

  // ---- the client side ----
  let clientTimerAt: number | undefined;
  const requests: SimRequest[] = [];
  const byId = new Map<bigint, SimRequest>();
  let closed = false;
  const clientPump = () => {
    for (let tx = client.pollTransmit(); tx; tx = client.pollTransmit()) {
      if (tx.type === 'connect') startConnect(tx.generation);
      else if (tx.type === 'write') {
        const c = conns.get(tx.generation);
        if (c && c.alive) {
          send(c, c.c2s, tx.bytes, (piece) => {
            if (c.serverOpen) serverFeed({ type: 'data', t: now, conn: c.server, stream: 0, dir: 'c2s', hex: toHex(piece) });
          });
        }
      } else {
        const c = conns.get(tx.generation);
        if (c && c.alive) {
          say(`client closes gen ${c.gen} (${tx.reason})`);
          enqueue(c, c.c2s, () => {
            c.alive = false;
            if (c.serverOpen) {
              c.serverOpen = false;
              serverFeed({ type: 'conn_close', t: now, conn: c.server, by: 'client', isApp: false, code: 0, reason: 'fin' });
            }
          });
        }
      }
    }
    for (let ev = client.pollReceive(); ev; ev = client.pollReceive()) {
      if (ev.type === 'reply' || ev.type === 'failed') {
        const r = byId.get(ev.correlationId);
        if (!r) {
          failure ??= `an outcome for #${ev.correlationId}, which no request has`;
          continue;
        }
        const outcome = ev.type === 'reply' ? { type: 'reply' as const, payload: ev.payload, atMs: ms() } : { type: 'failed' as const, error: ev.error, atMs: ms() };
        if (r.outcome) r.extraOutcomes.push(ev.type);
        else r.outcome = outcome;
        say(`request ${r.n} #${r.correlationId} ${ev.type === 'reply' ? 'replied' : `failed: ${ev.error.message}`}`);
      } else if (ev.type === 'stray') {
        strays++;
        say(`stray reply #${ev.correlationId}${ev.late ? ' (late)' : ''}`);
      } else if (ev.type === 'disconnected') {
        failedAt = ms();
        say(`client: gen ${ev.generation} lost (${ev.error.kind}), retry at ${ev.retryAt?.toFixed(3) ?? '-'}ms`);
      } else if (ev.type === 'error') {
        if (ev.error.kind !== 'ParseError') failedAt = ms(); // a failed or timed-out connect
        say(`client error: ${ev.error.kind}: ${ev.error.message}`);
      }
    }
    if (!closed && requests.length === nRequests && requests.every((r) => r.outcome)) {
      closed = true;
      say('all requests ended: client closes');
      client.close(ms());
      clientPump();
      return;
    }
    const next = client.nextTimeout();
    if (next !== undefined && next !== clientTimerAt) {
      clientTimerAt = next;
      at(Math.ceil(next * US), () => {
        if (clientTimerAt !== next) return;
        clientTimerAt = undefined;
        client.handleTimeout(Math.max(ms(), next)); // µs rounding must not leave the timer just short

        clientPump();
      });
    }
  };

  const startConnect = (gen: number) => {
    connects++;
    if (failedAt !== undefined) {
      backoffGaps.push([ms() - failedAt, expectedDelay]);
      expectedDelay = Math.min(profile.reconnectMaxMs, expectedDelay * profile.reconnectGrowth);
      failedAt = undefined;
    }
    const refused = rng.chance(chaos.refuseProbability);
    at(now + delay(), () => {
      if (refused) {
        say(`connect gen ${gen} refused`);
        client.handleConnectFailed(gen, ms(), 'ECONNREFUSED (sim)');
        clientPump();
        return;
      }
      const c: SimConn = { gen, server: nextServerConn++, alive: true, serverOpen: true, c2s: { last: now, items: [], scheduled: false }, s2c: { last: now, items: [], scheduled: false }, stalledUntil: 0 };
      conns.set(gen, c);
      byServer.set(c.server, c);
      say(`connect gen ${gen} = server conn ${c.server}`);
      serverFeed({ type: 'conn_open', t: now, conn: c.server, remote: 'sim:1' });
      client.handleConnected(gen, ms());
      if (client.state !== 'connected' || client.generation !== gen) {
        // The client gave up on this attempt meanwhile (connect timeout): it is closed at once.
        c.alive = false;
        c.serverOpen = false;
        serverFeed({ type: 'conn_close', t: now, conn: c.server, by: 'client', isApp: false, code: 0, reason: 'abandoned' });
      }
      clientPump();
    });
  };

  // ---- the application and the chaos ----
  const times = Array.from({ length: nRequests }, () => rng.int(0, spreadMs * US)).sort((a, b) => a - b);
  times.forEach((t, n) => {
    const ping = rng.chance(pingShare);
    const payload = ping ? PING : new TextEncoder().encode(`REQ-${opts.seed}-${n}`);
    const timeoutMs = rng.int(tLo, tHi);
    at(t, () => {
      const correlationId = client.request(payload, ms(), timeoutMs);
      const r: SimRequest = { n, correlationId, payload, madeAtMs: ms(), timeoutMs, outcome: undefined, extraOutcomes: [] };
      requests.push(r);
      byId.set(correlationId, r);
      say(`request ${n} #${correlationId} ${ping ? 'PING' : 'other'} timeout ${timeoutMs}ms`);
      clientPump();
    });
  });
  const live = () => [...conns.values()].find((c) => c.alive);
  for (const [start, dur] of chaos.stalls) {
    at(start * US, () => {
      const c = live();
      if (!c) return;
      c.stalledUntil = Math.max(c.stalledUntil, now + dur * US);
      say(`stall gen ${c.gen} for ${dur}ms`);
    });
  }
  for (const t of chaos.cuts) {
    at(t * US, () => {
      const c = live();
      if (!c) return;
      c.alive = false;
      say(`cut gen ${c.gen} (server conn ${c.server})`);
      if (c.serverOpen) {
        c.serverOpen = false;
        serverFeed({ type: 'conn_close', t: now, conn: c.server, by: 'client', isApp: false, code: 0, reason: 'reset' });
      }
      at(now + delay(), () => {
        client.handleDisconnected(c.gen, ms(), { kind: 'error', message: 'ECONNRESET (sim cut)' });
        clientPump();
      });
    });
  }

  // ---- run ----
  let hung: string | undefined;
  while (queue.length > 0) {
    if (++steps > maxSteps) {
      hung = `more than ${maxSteps} steps (livelock) at ${ms().toFixed(3)} ms`;
      break;
    }
    const task = queue.shift()!;
    now = task.at;
    task.fn();
    if (failure) break;
  }
  if (failure) hung = failure;
  const open = requests.filter((r) => !r.outcome);
  if (!hung && (open.length > 0 || requests.length < nRequests)) {
    hung = `${open.length + nRequests - requests.length} request(s) never ended: ${open.slice(0, 5).map((r) => `#${r.correlationId}`).join(', ')}`;
  }
  return { seed: opts.seed, chaos, lossPolicy, requests, serverTrace, log, backoffGaps, strays, connects, endMs: ms(), steps, ...(hung ? { hung } : {}) };
}

/** A property of a run that does not hold, or undefined (MOONPOOL-8.1, 3.2, 4.1, 7.2, 8.4). */
export function checkRun(r: SimResult, profile: MoonpoolProfile = simProfile): string | undefined {
  if (r.hung) return `hang: ${r.hung}`;
  for (const q of r.requests) {
    if (q.extraOutcomes.length) return `request #${q.correlationId} ended more than once (${q.extraOutcomes.join(', ')})`;
    const o = q.outcome!;
    if (o.type === 'failed') {
      const kind = (o.error as { kind?: string }).kind;
      if (!['Timeout', 'ConnectionLost', 'ReadError', 'ParseError'].includes(kind ?? '')) return `request #${q.correlationId} failed with an untyped error: ${o.error.name}: ${o.error.message}`;
      // Virtual time is in whole µs: allow the rounding of the timer.
      if (o.atMs > q.madeAtMs + q.timeoutMs + 0.0011) return `request #${q.correlationId} ended after its timeout (${(o.atMs - q.madeAtMs).toFixed(3)} > ${q.timeoutMs} ms)`;
      continue;
    }
    if (isPing(q.payload) && !bytesEqual(o.payload, PONG)) return `request #${q.correlationId} PING was answered ${Buffer.from(o.payload).toString('latin1')} (a reply matched to the wrong request?)`;
    if (!isPing(q.payload)) {
      if (profile.otherPayloads === 'ignore') return `request #${q.correlationId} (not PING) got a reply`;
      if (!bytesEqual(o.payload, q.payload)) return `request #${q.correlationId} got the reply of another request: ${Buffer.from(o.payload).toString('latin1')}`;
    }
  }
  for (const [gap, expected] of r.backoffGaps) {
    if (Math.abs(gap - expected) > 0.002 + 1e-9 * expected) return `reconnected after ${gap.toFixed(3)} ms, expected ${expected.toFixed(3)} ms (MOONPOOL-8.4)`;
  }
  return undefined;
}

/** A short replay hint for a failing seed. */
export function replayHint(seed: number): string {
  return `replay: MOONPOOL_SIM_SEED=${seed} npx tap test/moonpool/sim.test.ts (or runSimulation({ seed: ${seed} }) and read result.log)`;
}
