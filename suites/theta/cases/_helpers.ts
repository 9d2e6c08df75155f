/**
 * Helpers shared by the Theta cases and the probe. They only drive the
 * wire (a client session: its three streams, a SessionHello, heartbeats,
 * reading the server's control messages); what the target must do in reply
 * is the model's business (model.ts), checked live by the monitor. Plus
 * malformed control buffers, one per FlatBuffers verifier rule the Theta
 * schema can reach, built with the official runtime and then mutated.
 */
import { randomBytes } from 'node:crypto';
import type { ClientConnection, ClientStream } from '../../../harness/drivers/types.js';
import type { FlatBufferRule } from '../../../harness/flatbuffers/verifier.js';
import type { CaseContext, ConformanceCase } from '../../../harness/engine/types.js';
import { closeCodeName, encodeFrame, FrameDecoder, schemaHash } from '../codec.js';
import { decodeControl, encodeControl, type ControlMessage, type HeartbeatMsg, type SessionHelloMsg } from '../messages.js';
import { KEY_BYTES, NONCE_BYTES } from '../model.js';
import type { ThetaProfile } from '../profile.js';
import { ed25519PublicKey } from '../keys.js';

/** A Theta case. */
export type ThetaCase = ConformanceCase<ThetaProfile>;
/** A Theta case context. */
export type Ctx = CaseContext<ThetaProfile>;

/** Declares a case (identity, for typing). */
export const defineCase = (c: ThetaCase): ThetaCase => c;

/** Time allowed for one exchange and its checks (ms). */
export function slack(p: ThetaProfile): number {
  return p.answerDeadlineMs + 4 * p.toleranceMs + 1_500;
}

/** "connection closed with 0x5 PROTOCOL_VIOLATION within 300 ms of the violation" */
export function closeWithin(code: number, p: ThetaProfile, after = 'the violation'): string {
  return `connection closed with application error code ${closeCodeName(code)} within ${p.answerDeadlineMs} ms of ${after}`;
}

/** µs since the Unix epoch on the harness's clock (the trace's wall origin plus trace time: virtual time in process). */
export function epochUs(ctx: Ctx): bigint {
  return BigInt(Date.parse(ctx.trace.originWall)) * 1000n + BigInt(Math.round(ctx.trace.now()));
}

/** A valid SessionHello for the profile (fresh nonce, a new Ed25519 key), with `over` applied. */
export function validHello(p: ThetaProfile, over: Partial<SessionHelloMsg> = {}): SessionHelloMsg {
  return {
    type: 'SessionHello',
    protocolVersion: p.protocolVersion,
    schemaHash: schemaHash(p.manifest),
    clientNonce: new Uint8Array(randomBytes(NONCE_BYTES)),
    capabilities: [...p.serverCapabilities],
    authToken: 'wirecheck',
    publicKey: ed25519PublicKey(),
    ...over,
  };
}

/** One control frame's bytes. */
export const controlFrame = (m: ControlMessage): Uint8Array => encodeFrame(encodeControl(m));

/**
 * A client session: one connection with the control (0), replication (4)
 * and assets (8) streams opened in that order (nothing is sent before a
 * write), the server's control messages read as they come, and a heartbeat
 * loop once the acknowledgement arrived.
 */
export class Session {
  readonly control: ClientStream;
  readonly replication: ClientStream;
  readonly assets: ClientStream;
  private readonly reader = new FrameDecoder(0xffff_ffff);
  private readAt = 0;
  /** Server control messages so far (undecodable payloads as undefined). */
  readonly messages: (ControlMessage | undefined)[] = [];
  private beating = false;
  private seq = 0;

  private constructor(
    readonly ctx: Ctx,
    readonly conn: ClientConnection,
  ) {
    this.control = conn.openStream();
    this.replication = conn.openStream();
    this.assets = conn.openStream();
  }

  /** Connects (as `role` in the trace). */
  static async open(ctx: Ctx, role?: string): Promise<Session> {
    return new Session(ctx, await ctx.connect(undefined, role));
  }

  /** Reads what arrived on the control stream into {@link messages}. */
  poll(): readonly (ControlMessage | undefined)[] {
    const n = this.control.receivedLength;
    if (n > this.readAt) {
      const all = this.control.received();
      for (const f of this.reader.push(all.subarray(this.readAt))) {
        const r = decodeControl(f);
        this.messages.push(r.ok ? r.msg : undefined);
      }
      this.readAt = n;
    }
    return this.messages;
  }

  /** The server's messages of one type so far. */
  of<T extends ControlMessage['type']>(type: T): Extract<ControlMessage, { type: T }>[] {
    return this.poll().filter((m): m is Extract<ControlMessage, { type: T }> => m?.type === type);
  }

  /** Waits until `pred` holds on the messages (or the connection closed, or `ms` passed). */
  async until(pred: (s: Session) => boolean, ms: number): Promise<boolean> {
    return this.ctx.until(() => pred(this) || this.conn.isClosed, ms).then(() => pred(this));
  }

  /** The acknowledgement, once it came. */
  get ack(): Extract<ControlMessage, { type: 'SessionAcknowledge' }> | undefined {
    return this.of('SessionAcknowledge')[0];
  }

  /** Writes one control message. */
  async send(m: ControlMessage): Promise<void> {
    await this.control.write(controlFrame(m));
  }

  /**
   * Sends `hello` (default a valid one) and waits for the acknowledgement
   * (or a close); with `beat` (default true) heartbeats start once it came.
   * Returns whether it came.
   */
  async handshake(hello: SessionHelloMsg = validHello(this.ctx.profile), beat = true): Promise<boolean> {
    await this.send(hello);
    const ok = await this.until((s) => s.ack !== undefined, slack(this.ctx.profile));
    if (ok && beat) this.startHeartbeats();
    return ok;
  }

  /** The next client heartbeat: seq + 1, now, echoing the server's latest heartbeat. */
  heartbeat(over: Partial<HeartbeatMsg> = {}): HeartbeatMsg {
    const last = this.of('Heartbeat').at(-1);
    return { type: 'Heartbeat', seq: ++this.seq, sentAtUs: epochUs(this.ctx), echoSeq: last?.seq ?? 0, echoSentAtUs: last?.sentAtUs ?? 0n, rttUs: 0, jitterUs: 0, ...over };
  }

  /** Sends a heartbeat every interval until {@link stopHeartbeats}, the connection closes or the case ends. */
  startHeartbeats(): void {
    if (this.beating) return;
    this.beating = true;
    const loop = async (): Promise<void> => {
      while (this.beating && !this.conn.isClosed && !this.ctx.signal.aborted) {
        await this.send(this.heartbeat());
        await this.ctx.sleep(this.ctx.profile.heartbeatIntervalMs);
      }
    };
    loop().catch(() => undefined); // the case ended or the connection closed: the loop stops
  }

  /** Stops the heartbeat loop. */
  stopHeartbeats(): void {
    this.beating = false;
  }

  /** Waits until the connection closed (or `ms` passed). */
  closed(ms: number): Promise<boolean> {
    return this.ctx.until(() => this.conn.isClosed, ms);
  }
}

/** `n` bytes of a repeating pattern (assets, replication payloads). */
export function pattern(n: number, seed = 0): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 7 + 1) & 0xff;
  return out;
}

// ---- malformed control buffers --------------------------------------------

/** A SessionHello buffer broken for one verifier rule. */
export interface MalformedBuffer {
  /** The verifier rule it breaks (harness/flatbuffers/verifier.ts). */
  readonly rule: FlatBufferRule;
  /** Case-name slug. */
  readonly name: string;
  /** What was changed. */
  readonly what: string;
  /** The control payload (no length prefix). */
  readonly payload: Uint8Array;
}

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);
const rootTable = (b: Uint8Array): number => view(b).getUint32(0, true);
const vtableOf = (b: Uint8Array, table: number): number => table - view(b).getInt32(table, true);
/** Position of field `id` in the table at `table` (0 when absent), read from its vtable. */
function fieldPos(b: Uint8Array, table: number, id: number): number {
  const vt = vtableOf(b, table);
  if (4 + 2 * id + 2 > view(b).getUint16(vt, true)) return 0;
  const off = view(b).getUint16(vt + 4 + 2 * id, true);
  return off === 0 ? 0 : table + off;
}
const follow = (b: Uint8Array, pos: number): number => pos + view(b).getUint32(pos, true);

/**
 * A valid SessionHello built by the official `flatbuffers` runtime
 * (flatc-generated code), then mutated so that it breaks exactly one rule
 * of the verifier; one buffer per rule the Theta schema can reach (`depth`
 * and `tables` cannot be: theta.fbs has no recursive table and at most two
 * tables per buffer). Positions are found by walking the buffer.
 */
export function malformedHellos(p: ThetaProfile): MalformedBuffer[] {
  const base = encodeControl({ ...validHello(p), publicKey: new Uint8Array(KEY_BYTES).fill(9), clientNonce: new Uint8Array(NONCE_BYTES).fill(7) });
  const root = rootTable(base);
  const body = fieldPos(base, root, 1);
  const hello = follow(base, body);
  const hvt = vtableOf(base, hello);
  const edit = (f: (c: Uint8Array, v: DataView) => void): Uint8Array => {
    const c = base.slice();
    f(c, view(c));
    return c;
  };
  const caps = follow(base, fieldPos(base, hello, 3));
  const token = follow(base, fieldPos(base, hello, 4));
  const tokenLen = view(base).getUint32(token, true);
  const typePos = fieldPos(base, root, 0);
  const rvt = vtableOf(base, root);
  const pv = view(base).getUint16(hvt + 4, true);
  return [
    { rule: 'buffer-size', name: 'too-short', what: '7 bytes: shorter than a root offset and the identifier', payload: base.slice(0, 7) },
    { rule: 'identifier', name: 'wrong-identifier', what: 'file identifier TXTA instead of THTA', payload: edit((c) => void (c[5] = 0x58)) },
    { rule: 'offset-zero', name: 'root-offset-zero', what: 'root offset 0', payload: edit((_c, v) => v.setUint32(0, 0, true)) },
    { rule: 'offset-sign', name: 'root-offset-negative', what: 'root offset 2^31 (negative as a signed offset)', payload: edit((_c, v) => v.setUint32(0, 0x8000_0000, true)) },
    { rule: 'offset-bounds', name: 'root-offset-past-end', what: 'root offset past the end of the buffer', payload: edit((c, v) => v.setUint32(0, c.length + 100, true)) },
    { rule: 'offset-alignment', name: 'root-table-misaligned', what: 'root offset moved by 2 bytes (table not 4-aligned)', payload: edit((_c, v) => v.setUint32(0, root + 2, true)) },
    { rule: 'vtable-bounds', name: 'vtable-out-of-bounds', what: 'root table soffset pointing past the end', payload: edit((c, v) => v.setInt32(root, -c.length, true)) },
    { rule: 'vtable-alignment', name: 'vtable-misaligned', what: 'root vtable at an odd byte', payload: edit((_c, v) => v.setInt32(root, v.getInt32(root, true) + 1, true)) },
    { rule: 'vtable-size', name: 'vtable-size-odd', what: 'root vtable size 7 (odd)', payload: edit((_c, v) => v.setUint16(rvt, 7, true)) },
    { rule: 'field-bounds', name: 'table-past-end', what: 'SessionHello inline size past the end of the buffer', payload: edit((_c, v) => v.setUint16(hvt + 2, 0xfff0, true)) },
    { rule: 'field-alignment', name: 'field-misaligned', what: 'protocol_version (u16) at an odd byte', payload: edit((_c, v) => v.setUint16(hvt + 4, pv + 1, true)) },
    { rule: 'field-outside-table', name: 'field-outside-table', what: 'protocol_version slot beyond the table\u2019s inline size', payload: edit((_c, v) => v.setUint16(hvt + 4, v.getUint16(hvt + 2, true) + 2, true)) },
    { rule: 'vector-count', name: 'vector-count-overflow', what: 'capabilities count 0x7ffffff0 (× 2 bytes overflows)', payload: edit((_c, v) => v.setUint32(caps, 0x7fff_fff0, true)) },
    { rule: 'vector-bounds', name: 'vector-past-end', what: 'capabilities count 1000 (past the end)', payload: edit((_c, v) => v.setUint32(caps, 1000, true)) },
    { rule: 'string-nul', name: 'string-without-nul', what: 'auth_token\u2019s NUL overwritten', payload: edit((c) => void (c[token + 4 + tokenLen] = 0x41)) },
    { rule: 'union-unknown', name: 'union-type-unknown', what: 'body type 9 (not a ControlBody member)', payload: edit((c) => void (c[typePos] = 9)) },
    { rule: 'union-mismatch', name: 'union-type-none-with-value', what: 'body type NONE with a value', payload: edit((c) => void (c[typePos] = 0)) },
    { rule: 'required', name: 'no-body', what: 'no body (type and value slots cleared)', payload: edit((_c, v) => { v.setUint16(rvt + 4, 0, true); v.setUint16(rvt + 6, 0, true); }) },
  ];
}
