/**
 * The Garou reference server's Sans-I/O core: the Garou model in server
 * mode (suites/garou/model.ts) behind the engine's {@link ServerCore}
 * contract, serving many connections at once. Every rule it follows is the
 * model's; this file only takes the model's output, lets an optional fault
 * rewrite it (tests and demonstrations), encodes it and logs.
 */
import type { ServerAction, ServerCore } from '../../harness/engine/server-core.js';
import type { TraceEvent } from '../../harness/engine/trace.js';
import { encodeOut, GarouModel, type GarouModelOptions, type OutItem } from '../../suites/garou/model.js';
import type { GarouProfile } from '../../suites/garou/profile.js';

/** What a fault may ask of the model while it rewrites: stream ids and users of connections. */
export interface FaultContext {
  /** The stream id of a connection's shard stream `shard` (opened if needed: its header is then among the next actions). */
  shardStream(conn: number, shard: number): number | undefined;
  /** The user id of a connection, once authenticated. */
  userOf(conn: number): string | undefined;
  /** The profile in force. */
  readonly profile: GarouProfile;
}

/**
 * A fault's rewriter: gets the conforming output of one poll, in order, and
 * returns what to perform instead. It may keep state between polls (the
 * fault's `create` makes a fresh one per core).
 */
export type Rewriter = (items: OutItem[], ctx: FaultContext) => OutItem[];

/** Options of a {@link GarouServerCore}. */
export interface GarouCoreOptions extends GarouModelOptions {
  /** Rewrites the output (a deliberate fault). */
  readonly rewrite?: Rewriter;
}

/** The Garou server core. */
export class GarouServerCore implements ServerCore {
  private readonly model: GarouModel;
  private readonly pending: ServerAction[] = [];
  private readonly ctx: FaultContext;
  /** No send timeout: a stalled reader only slows its own streams (GAROU-14.3). */
  readonly sendTimeoutMs = undefined;

  constructor(
    readonly profile: GarouProfile,
    private readonly opts: GarouCoreOptions = {},
  ) {
    this.model = new GarouModel(profile, 'server', opts);
    const model = this.model;
    this.ctx = { profile, shardStream: (conn, shard) => model.shardStreamOf(conn, shard), userOf: (conn) => model.userOf(conn) };
  }

  handle(ev: TraceEvent): void {
    this.model.input(ev, -1);
    if (ev.type === 'conn_open' || ev.type === 'conn_close') this.pending.push({ type: 'log', level: 'info', msg: ev.type, data: { conn: ev.conn } });
  }

  sendStalled(): void {
    // No send timeout (sendTimeoutMs undefined): never called.
  }

  poll(t: number): ServerAction[] {
    let items = this.model.dueItems(t);
    if (this.opts.rewrite && items.length > 0) {
      items = this.opts.rewrite(items, this.ctx);
      // A rewriter that opened a stream (wrong-shard) left its header in the model's output.
      items = [...this.model.dueItems(t), ...items];
    }
    const out = this.pending.splice(0);
    // A room event goes to every member as one frame object (the model's fan-out, GAROU-7.2): encoded once.
    let lastFrame: OutItem | undefined;
    let lastBytes: Uint8Array | undefined;
    for (const it of items) {
      if (it.kind === 'frame' && lastFrame?.kind === 'frame' && it.frame === lastFrame.frame) {
        out.push({ type: 'send', conn: it.conn, stream: it.stream, bytes: lastBytes! });
        continue;
      }
      const action = encodeOut(it);
      out.push(action);
      if (it.kind === 'frame' && action.type === 'send') {
        lastFrame = it;
        lastBytes = action.bytes;
      }
      if (it.kind === 'close') out.push({ type: 'log', level: 'info', msg: 'close', data: { conn: it.conn, code: it.code, reason: it.reason, rule: it.rule } });
    }
    return out;
  }

  /** The server shuts down (GAROU-13.5): Goodbye to every connection, then close 0x5; performed at the next poll. */
  shutdown(t: number): void {
    this.model.shutdown(t);
  }

  nextTimer(): number | undefined {
    return this.model.nextDue();
  }
}
