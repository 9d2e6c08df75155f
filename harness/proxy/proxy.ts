/**
 * A TCP chaos proxy in the style of Toxiproxy: it listens, connects each
 * client to the upstream server, and pipes bytes both ways through the
 * toxics currently set (toxics.ts). Toxics can be added and removed while
 * connections are live; they act on those connections at once.
 *
 * Protocol-agnostic: any suite of a TCP protocol can put it between the
 * harness and a target (`startChaosProxy` from code, `wirecheck proxy` from
 * the CLI, with an optional HTTP control API, control.ts).
 *
 * Deterministic when seeded: every random draw (toxicity, jitter, slice
 * sizes) comes from a generator seeded by the proxy's seed, the connection's
 * index (in accept order) and the toxic, so a run with the same seed, the
 * same connection order and the same chunks makes the same choices.
 */
import { randomInt } from 'node:crypto';
import net from 'node:net';
import { createRng } from './rng.js';
import { Pipe, createStage, type Item } from './pipeline.js';
import { ToxicError, checkToxic, type Toxic, type ToxicInput, type ToxicType } from './toxics.js';
import { formatAddress, isResetError, resetSocket } from '../tcp/util.js';

/** Options of {@link startChaosProxy}. */
export interface ChaosProxyOptions {
  /** Address to listen on. Default `'127.0.0.1'`. */
  readonly listenHost?: string;
  /** Port to listen on; 0 (default) picks a free one (read it from {@link ChaosProxy.port}). */
  readonly listenPort?: number;
  /** The server the proxy forwards to. */
  readonly upstreamHost: string;
  readonly upstreamPort: number;
  /** Toxics in effect from the start, in chain order. */
  readonly toxics?: readonly ToxicInput[];
  /** Seed of every random draw (an integer); default: a random one, reported by {@link ChaosProxy.stats}. */
  readonly seed?: number;
  /** Deadline for each connect to the upstream (ms); on failure the client is reset. Default 5000. */
  readonly upstreamConnectTimeoutMs?: number;
}

/** Counters of a proxy. */
export interface ChaosProxyStats {
  /** The seed in use. */
  readonly seed: number;
  /** Client connections accepted so far. */
  readonly connections: number;
  /** Connections with a leg still open. */
  readonly active: number;
  /** Upstream connects that failed (the client was reset). */
  readonly upstreamFailures: number;
  /** Bytes delivered to the upstream server (client → server). */
  readonly bytesUpstream: number;
  /** Bytes delivered to clients (server → client). */
  readonly bytesDownstream: number;
  /** Per toxic: how many times it took effect (connections for per-connection toxics, chunks for `latency` / `slicer`). */
  readonly toxics: ReadonlyArray<{ readonly name: string; readonly type: ToxicType; readonly applied: number }>;
}

/** A running chaos proxy. */
export interface ChaosProxy {
  /** Address it listens on. */
  readonly host: string;
  /** Port it listens on. */
  readonly port: number;
  /** The seed in use. */
  readonly seed: number;
  /** The toxics in effect, in chain order (normalized, defaults filled in). */
  toxics(): Toxic[];
  /**
   * Adds a toxic at the end of the chain; live connections get it at once.
   * Returns it normalized.
   * @throws ToxicError when it is invalid or its name is taken.
   */
  addToxic(t: ToxicInput): Toxic;
  /** Removes a toxic; bytes it held move on at once, in order. Returns false when no toxic has that name. */
  removeToxic(name: string): boolean;
  /**
   * Replaces all toxics (all are checked first: on error nothing changes).
   * @throws ToxicError for an invalid toxic or a duplicate name.
   */
  setToxics(ts: readonly ToxicInput[]): Toxic[];
  /** Counters (a snapshot). */
  stats(): ChaosProxyStats;
  /**
   * Stops listening and closes every connection (both legs destroyed).
   * Idempotent; bounded; afterwards the proxy holds no socket or timer.
   */
  stop(): Promise<void>;
}

/** Bytes held inside one direction beyond which the source is paused (back-pressure). */
const HIGH_WATER = 1024 * 1024;
/** ... and below which it resumes. */
const LOW_WATER = 256 * 1024;
/** Default upstream connect deadline (ms). */
const DEFAULT_UPSTREAM_TIMEOUT_MS = 5_000;
/** Longest wait for the listener's close at stop (ms). */
const STOP_DEADLINE_MS = 2_000;

/** One proxied connection: the client's leg, the server's leg and a pipe each way. */
class ProxyConnection {
  private readonly up: Pipe;
  private readonly down: Pipe;
  private server: net.Socket | undefined;
  private closed = false;
  private readonly enabled = new Map<string, boolean>();
  private readonly legsClosed: Promise<void>;
  /** A sink is waiting for 'drain' on the socket it writes to. */
  private upDrain = false;
  private downDrain = false;

  constructor(
    readonly index: number,
    private readonly client: net.Socket,
    private readonly proxy: ProxyState,
  ) {
    this.up = new Pipe(
      (item) => this.sinkTo('up', item),
      () => this.flow('up'),
    );
    this.down = new Pipe(
      (item) => this.sinkTo('down', item),
      () => this.flow('down'),
    );
    this.legsClosed = new Promise<void>((resolve) => {
      let n = 0;
      const one = (): void => {
        if (++n === 2) resolve();
      };
      client.once('close', one);
      this.serverClosed = one;
    });
    client.on('error', (err: Error) => this.onLegError('client', err));
    client.once('close', () => this.onLegClose());
  }

  /** Called once the server leg is gone (or never came). */
  private serverClosed: () => void = () => {};

  /** Resolves when both legs are closed. */
  get done(): Promise<void> {
    return this.legsClosed;
  }

  /** Connects the server leg, then starts piping. */
  start(host: string, port: number, timeoutMs: number): void {
    const server = net.connect({ host, port, allowHalfOpen: true });
    this.server = server;
    let connected = false;
    const failed = (): void => {
      clearTimeout(timer);
      if (connected || this.closed) return;
      this.proxy.upstreamFailures++;
      this.abort(true, false);
    };
    const timer = setTimeout(failed, timeoutMs);
    server.once('close', () => {
      clearTimeout(timer);
      this.serverClosed();
      this.onLegClose();
    });
    server.on('error', (err: Error) => {
      if (connected) this.onLegError('server', err);
      else failed();
    });
    server.once('connect', () => {
      clearTimeout(timer);
      if (this.closed) return;
      connected = true;
      server.setNoDelay(true);
      this.client.setNoDelay(true);
      for (const t of this.proxy.toxics) this.addToxic(t);
      this.client.on('data', (buf: Buffer) => this.up.push({ kind: 'data', buf }));
      this.client.on('end', () => this.up.push({ kind: 'end' }));
      server.on('data', (buf: Buffer) => this.down.push({ kind: 'data', buf }));
      server.on('end', () => this.down.push({ kind: 'end' }));
      this.client.resume();
    });
  }

  /** Adds the stage(s) of `t` to the pipes. */
  addToxic(t: Toxic): void {
    if (this.closed) return;
    if (!this.enabled.has(t.name)) {
      const on = createRng(this.proxy.seed, this.index, t.name, 'toxicity').float() < t.toxicity;
      this.enabled.set(t.name, on);
      if (on && t.type !== 'latency' && t.type !== 'slicer') this.proxy.applied(t.name);
    }
    const enabled = this.enabled.get(t.name) === true;
    const dirs: Array<'up' | 'down'> = t.stream === 'both' ? ['up', 'down'] : t.stream === 'upstream' ? ['up'] : ['down'];
    for (const dir of dirs) {
      const pipe = dir === 'up' ? this.up : this.down;
      pipe.add((out) =>
        createStage(
          t,
          {
            now: () => performance.now(),
            rng: createRng(this.proxy.seed, this.index, dir, t.name),
            enabled,
            applied: () => this.proxy.applied(t.name),
            close: (reason) => this.finish(reason),
            reset: (client, server, reason) => this.reset(client, server, reason),
          },
          out,
        ),
      );
    }
  }

  /** Removes the stage(s) of toxic `name`. */
  removeToxic(name: string): void {
    this.enabled.delete(name);
    if (this.closed) return;
    this.up.remove(name);
    this.down.remove(name);
  }

  /** Writes an item that left the pipe `dir` to its destination socket. */
  private sinkTo(dir: 'up' | 'down', item: Item): void {
    const dest = dir === 'up' ? this.server : this.client;
    if (this.closed || dest === undefined || dest.destroyed) return;
    switch (item.kind) {
      case 'data': {
        if (dest.writableEnded) return;
        if (dir === 'up') this.proxy.bytesUpstream += item.buf.byteLength;
        else this.proxy.bytesDownstream += item.buf.byteLength;
        if (!dest.write(item.buf) && !(dir === 'up' ? this.upDrain : this.downDrain)) {
          if (dir === 'up') this.upDrain = true;
          else this.downDrain = true;
          dest.once('drain', () => {
            if (dir === 'up') this.upDrain = false;
            else this.downDrain = false;
            this.flow(dir);
          });
          this.flow(dir);
        }
        return;
      }
      case 'end':
        if (!dest.writableEnded) dest.end();
        return;
      case 'close':
        this.finish(item.reason);
        return;
    }
  }

  /** Pauses or resumes the source of `dir` by the bytes held and the destination's drain state. */
  private flow(dir: 'up' | 'down'): void {
    const src = dir === 'up' ? this.client : this.server;
    if (src === undefined || src.destroyed || this.closed) return;
    const pipe = dir === 'up' ? this.up : this.down;
    const drain = dir === 'up' ? this.upDrain : this.downDrain;
    if (drain || pipe.bytesInside > HIGH_WATER) {
      if (!src.isPaused()) src.pause();
    } else if (pipe.bytesInside < LOW_WATER && src.isPaused()) {
      src.resume();
    }
  }

  /** FIN both legs (after what was already written), discarding what the pipes hold. */
  finish(_reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.up.dispose();
    this.down.dispose();
    for (const s of [this.client, this.server]) {
      if (s === undefined || s.destroyed) continue;
      s.resume(); // read (and drop) until the peer closes, so nothing waits on us
      s.destroySoon();
    }
    this.lingerLimit();
  }

  /** RST to the legs named, FIN to the others; discards what the pipes hold. */
  reset(client: boolean, server: boolean, _reason: string): void {
    this.abort(client, server);
  }

  /** Ends the connection at once: RST (or FIN) per leg. */
  abort(rstClient: boolean, rstServer: boolean): void {
    if (this.closed) {
      // Already finishing gracefully: make it immediate.
      for (const s of [this.client, this.server]) s?.destroy();
      return;
    }
    this.closed = true;
    this.up.dispose();
    this.down.dispose();
    if (rstClient) resetSocket(this.client);
    else this.client.destroy();
    if (this.server !== undefined) {
      if (rstServer && !this.server.connecting) resetSocket(this.server);
      else this.server.destroy();
    } else {
      this.serverClosed();
    }
  }

  /** A graceful finish may wait on a peer that never closes: destroy after a while. */
  private lingerLimit(): void {
    const t = setTimeout(() => {
      this.client.destroy();
      this.server?.destroy();
    }, STOP_DEADLINE_MS);
    void this.legsClosed.then(() => clearTimeout(t));
  }

  private onLegError(leg: 'client' | 'server', err: Error): void {
    if (this.closed) return;
    // A reset on one leg is passed on as a reset on the other.
    const reset = isResetError(err);
    this.abort(leg === 'server' && reset, leg === 'client' && reset);
  }

  private onLegClose(): void {
    // Both legs closed normally (each after its FINs): nothing left to do.
    if (this.client.destroyed && (this.server === undefined || this.server.destroyed)) {
      if (!this.closed) {
        this.closed = true;
        this.up.dispose();
        this.down.dispose();
      }
      this.proxy.connectionDone(this);
    }
  }

  /** Destroys both legs now (stop). */
  destroy(): void {
    this.abort(false, false);
  }
}

/** The proxy's shared, mutable state. */
interface ProxyState {
  readonly seed: number;
  toxics: Toxic[];
  upstreamFailures: number;
  bytesUpstream: number;
  bytesDownstream: number;
  applied(name: string): void;
  connectionDone(c: ProxyConnection): void;
}

function checkPort(v: unknown, what: string, allowZero: boolean): number {
  const n = v as number;
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1) || n > 65535) {
    throw new RangeError(`${what} must be an integer in [${allowZero ? 0 : 1}, 65535], got ${JSON.stringify(v)}`);
  }
  return n;
}

/** Checks a list of toxics as a whole (names unique). */
function checkToxicList(ts: readonly ToxicInput[]): Toxic[] {
  const out = ts.map((t) => checkToxic(t));
  const seen = new Set<string>();
  for (const t of out) {
    if (seen.has(t.name)) throw new ToxicError(`duplicate toxic name ${JSON.stringify(t.name)} (give one a name=...)`);
    seen.add(t.name);
  }
  return out;
}

/**
 * Starts a chaos proxy from `listenHost:listenPort` to `upstreamHost:upstreamPort`.
 *
 * Each accepted client gets its own upstream connection (the client is
 * reset when that fails or takes longer than `upstreamConnectTimeoutMs`),
 * then bytes, FINs and RSTs are passed on both ways through the toxics.
 * Half-closes are kept (a FIN travels through the toxics like bytes); an RST
 * on one leg is passed on at once as an RST on the other.
 *
 * @throws RangeError for a bad port or seed, ToxicError for a bad toxic,
 *   the node:net error (`EADDRINUSE` ...) when it cannot listen.
 */
export async function startChaosProxy(opts: ChaosProxyOptions): Promise<ChaosProxy> {
  const listenPort = checkPort(opts.listenPort ?? 0, 'listenPort', true);
  const upstreamPort = checkPort(opts.upstreamPort, 'upstreamPort', false);
  if (typeof opts.upstreamHost !== 'string' || opts.upstreamHost === '') throw new RangeError('upstreamHost must be a non-empty string');
  if (opts.seed !== undefined && !Number.isSafeInteger(opts.seed)) throw new RangeError(`seed must be an integer, got ${String(opts.seed)}`);
  const timeoutMs = opts.upstreamConnectTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > 2 ** 31 - 1) {
    throw new RangeError(`upstreamConnectTimeoutMs must be a number of ms in (0, 2^31), got ${String(timeoutMs)}`);
  }
  const initial = checkToxicList(opts.toxics ?? []);
  const seed = opts.seed ?? randomInt(0, 2 ** 31 - 1);
  const conns = new Set<ProxyConnection>();
  const applied = new Map<string, number>();
  let accepted = 0;
  let stopP: Promise<void> | undefined;

  const state: ProxyState = {
    seed,
    toxics: initial,
    upstreamFailures: 0,
    bytesUpstream: 0,
    bytesDownstream: 0,
    applied: (name) => applied.set(name, (applied.get(name) ?? 0) + 1),
    connectionDone: (c) => conns.delete(c),
  };

  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    client.on('error', () => {
      /* handled per connection; never unhandled */
    });
    if (stopP) {
      client.destroy();
      return;
    }
    const c = new ProxyConnection(accepted++, client, state);
    conns.add(c);
    c.start(opts.upstreamHost, upstreamPort, timeoutMs);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.listenHost ?? '127.0.0.1', port: listenPort }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', () => {
    /* accept errors (EMFILE ...) must not crash the process */
  });
  const addr = server.address() as net.AddressInfo;

  const addToxic = (input: ToxicInput): Toxic => {
    const t = checkToxic(input);
    if (state.toxics.some((x) => x.name === t.name)) {
      throw new ToxicError(`a toxic named ${JSON.stringify(t.name)} already exists (remove it first, or give another name=...)`);
    }
    state.toxics = [...state.toxics, t];
    for (const c of conns) c.addToxic(t);
    return t;
  };

  const removeToxic = (name: string): boolean => {
    const had = state.toxics.some((t) => t.name === name);
    if (!had) return false;
    state.toxics = state.toxics.filter((t) => t.name !== name);
    applied.delete(name);
    for (const c of conns) c.removeToxic(name);
    return true;
  };

  return {
    host: addr.address,
    port: addr.port,
    seed,
    toxics: () => [...state.toxics],
    addToxic,
    removeToxic,
    setToxics(ts) {
      const next = checkToxicList(ts);
      for (const t of [...state.toxics]) removeToxic(t.name);
      for (const t of next) addToxic(t);
      return [...state.toxics];
    },
    stats: () => ({
      seed,
      connections: accepted,
      active: conns.size,
      upstreamFailures: state.upstreamFailures,
      bytesUpstream: state.bytesUpstream,
      bytesDownstream: state.bytesDownstream,
      toxics: state.toxics.map((t) => ({ name: t.name, type: t.type, applied: applied.get(t.name) ?? 0 })),
    }),
    stop() {
      stopP ??= (async () => {
        const listenerClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        const all = [...conns];
        for (const c of all) c.destroy();
        await withTimeout(Promise.all([listenerClosed, ...all.map((c) => c.done)]), STOP_DEADLINE_MS);
        conns.clear();
      })();
      return stopP;
    },
  };
}

/** Waits for `p` at most `ms`; never rejects; leaves no timer. */
async function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    p.catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

/** `host:port` of a proxy (for messages). */
export function proxyAddress(p: Pick<ChaosProxy, 'host' | 'port'>): string {
  return formatAddress(p.host, p.port);
}
