/**
 * Helpers shared by the Moonpool cases. They only drive the wire; what the
 * target must do in reply is the model's business (model.ts), checked live
 * by the monitor.
 */
import type { ClientConnection, ClientStream } from '../../../harness/drivers/types.js';
import type { CaseContext, ConformanceCase } from '../../../harness/engine/types.js';
import { startChaosProxy, type ChaosProxy, type ToxicInput } from '../../../harness/proxy/index.js';
import { recordedConnector, type Connector } from '../client.js';
import { encodeEnvelope, encodeEnvelopes, FrameDecoder, PING, type Envelope } from '../codec.js';
import type { MoonpoolProfile } from '../profile.js';

/** A Moonpool case. */
export type MoonpoolCase = ConformanceCase<MoonpoolProfile>;
/** A Moonpool case context. */
export type Ctx = CaseContext<MoonpoolProfile>;

/** Declares a case (identity, for typing). */
export const defineCase = (c: MoonpoolCase): MoonpoolCase => c;

/** Time allowed for one exchange and its checks (ms). */
export function slack(p: MoonpoolProfile): number {
  return p.replyDeadlineMs + 4 * p.toleranceMs + 1_000;
}

/** An envelope from a correlation id and a payload (text is UTF-8). */
export function envelope(id: bigint | number, payload: Uint8Array | string): Envelope {
  return { correlationId: BigInt(id), payload: typeof payload === 'string' ? new TextEncoder().encode(payload) : payload };
}

/** The bytes of a PING request with this id. */
export function pingFrame(id: bigint | number): Uint8Array {
  return encodeEnvelope(envelope(id, PING));
}

/** PING requests with these ids, back to back. */
export function pingFrames(ids: readonly (bigint | number)[]): Uint8Array {
  return encodeEnvelopes(ids.map((id) => envelope(id, PING)));
}

/**
 * One harness connection (trace-recording driver) with a reader of the
 * server's envelopes. Replies are decoded from the bytes received so far;
 * the model checks them, this only counts them so that a case knows when
 * to move on.
 */
export class Wire {
  private readonly decoder: FrameDecoder;
  private readonly got: Envelope[] = [];
  private readAt = 0;

  private constructor(
    private readonly ctx: Ctx,
    /** The driver's connection. */
    readonly conn: ClientConnection,
    /** Its one byte stream (TCP: stream 0). */
    readonly stream: ClientStream,
  ) {
    this.decoder = new FrameDecoder(0xffff_ffff);
  }

  /** Connects (to the target, or where `at` says, e.g. a proxy in front of it). */
  static async open(ctx: Ctx, at?: { host: string; port: number }): Promise<Wire> {
    const conn = await ctx.connect(at ? { host: at.host, port: at.port } : undefined);
    return new Wire(ctx, conn, conn.openStream());
  }

  /** Trace connection index. */
  get id(): number {
    return this.conn.conn;
  }

  /** Writes bytes (one write). */
  send(bytes: Uint8Array): Promise<void> {
    return this.stream.write(bytes);
  }

  /** Writes bytes one write per piece of `size` bytes, `gapMs` apart. */
  async sendInPieces(bytes: Uint8Array, size: number, gapMs: number): Promise<void> {
    for (let i = 0; i < bytes.length; i += size) {
      await this.stream.write(bytes.subarray(i, i + size));
      if (gapMs > 0 && i + size < bytes.length) await this.ctx.sleep(gapMs);
    }
  }

  /** The replies received so far, in order. */
  replies(): readonly Envelope[] {
    const n = this.stream.receivedLength;
    if (n > this.readAt) {
      const fresh = this.stream.received().subarray(this.readAt);
      this.readAt = n;
      this.got.push(...this.decoder.push(fresh).envelopes);
    }
    return this.got;
  }

  /** Waits until `n` replies came (or `ms` passed, or a violation was seen); returns whether they did. */
  awaitReplies(n: number, ms: number): Promise<boolean> {
    return this.ctx.until(() => this.replies().length >= n, ms);
  }

  /** Waits until the connection is closed or the server ended its side (or `ms` passed). */
  awaitEnd(ms: number): Promise<boolean> {
    return this.ctx.until(() => this.conn.isClosed || this.stream.readEnded, ms);
  }

  /** Closes the connection from the client side (FIN; recorded as `conn_close` by the client). */
  close(): Promise<void> {
    return this.conn.close(0, 'wirecheck: done');
  }
}

/**
 * Opens a connection that the SPEC says the target must accept now (after a
 * framing error, a disconnect, a loss): a refused or reset connect is then
 * the target's failure under `rule`, reported as a finding, not harness
 * trouble. Returns undefined in that case.
 */
export async function openServed(ctx: Ctx, rule: string, after: string, at?: { host: string; port: number }): Promise<Wire | undefined> {
  try {
    return await Wire.open(ctx, at);
  } catch (err) {
    if ((err as { code?: string }).code !== 'CONNECT') throw err;
    ctx.report({ rule, severity: 'must', expected: `a new connection accepted and served ${after}`, seen: `connect failed: ${(err as Error).message}` });
    return undefined;
  }
}


/**
 * Starts a chaos proxy in front of the target (seeded, so a run replays the
 * same choices) and stops it when the case ends, whatever happens.
 */
export async function withProxy<T>(ctx: Ctx, toxics: readonly ToxicInput[], body: (proxy: ChaosProxy) => Promise<T>): Promise<T> {
  const target = ctx.target;
  const proxy = await startChaosProxy({ upstreamHost: target.host, upstreamPort: target.port, toxics, seed: 0x6d6f6f6e });
  ctx.note(`chaos proxy ${proxy.host}:${proxy.port} in front of ${target.host}:${target.port}`);
  try {
    return await body(proxy);
  } finally {
    // Stopping the proxy ends the connections through it: the harness's doing, not the target's.
    const through = `${proxy.host}:${proxy.port}`;
    for (const e of ctx.trace.events) if (e.type === 'conn_open' && e.remote === through) impair(ctx, 'cut', e.conn);
    await proxy.stop();
  }
}

/** Marks connection `conn` stalled / restored / cut for the monitor (SPEC §10): a trace `impair` event. */
export function impair(ctx: Ctx, what: 'stall' | 'restore' | 'cut', conn: number): void {
  ctx.impair(what, conn);
}

/**
 * A {@link Connector} for the reference client that connects through the
 * harness's recording driver (so the monitor sees every connection the
 * client makes), to `at`. `onOpen` is told each new connection's index
 * (for impairment notes).
 */
export function harnessConnector(ctx: Ctx, at: { host: string; port: number }, onOpen?: (conn: number) => void): Connector {
  return recordedConnector(`tcp://${at.host}:${at.port} (recorded)`, () => ctx.connect({ host: at.host, port: at.port }), ctx.trace, onOpen);
}
