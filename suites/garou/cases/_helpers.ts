/**
 * Small helpers shared by the Garou cases: a case-side client that drives
 * one connection over the harness's CaseContext (handshake, commands,
 * uploads, datagrams) and reads what arrived. They only drive the wire and
 * wait; what the server must do is the model's business (model.ts),
 * checked live by the monitor over every connection of the case.
 */
import type { ClientConnection, ClientStream } from '../../../harness/drivers/types.js';
import type { CaseContext, ConformanceCase } from '../../../harness/engine/types.js';
import { encodeFrame, encodeRawFrame, encodeStreamHeader, StreamDecoder, type DecodedFrame } from '../codec.js';
import { closeCodeName, streamTypeOf, type Frame, type FrameName, type Payloads } from '../frames.js';
import type { GarouProfile } from '../profile.js';

/** A Garou case. */
export type GarouCase = ConformanceCase<GarouProfile>;
/** A Garou case context. */
export type Ctx = CaseContext<GarouProfile>;

/** Declares a case (identity, for typing). */
export const defineCase = (c: GarouCase): GarouCase => c;

/** Time for one exchange and its checks (ms). */
export function slack(p: GarouProfile): number {
  return 2 * p.replyDeadlineMs + 4 * p.toleranceMs + 1_500;
}

/** "close 0x1 PROTOCOL_VIOLATION within 700 ms of the violation" */
export function closeWithin(code: number, p: GarouProfile, after = 'the violation'): string {
  return `connection closed with ${closeCodeName(code)} within ${p.replyDeadlineMs + p.toleranceMs} ms of ${after}`;
}

/** Client uni stream kinds. */
export type ClientStreamKind = 'commands' | 'acks' | 'upload';

/**
 * One client connection of a case. Reads decode everything received so far
 * afresh (cases exchange few frames), so nothing is consumed or lost.
 */
export class GClient {
  readonly control: ClientStream;
  private readonly uni = new Map<ClientStreamKind, ClientStream>();
  private nextCmd = 1;
  userId: string | undefined;

  private constructor(
    readonly ctx: Ctx,
    readonly conn: ClientConnection,
    readonly name: string,
  ) {
    this.control = conn.openStream('bidi');
  }

  /** Opens a connection (role = `name` in the trace) with its control stream; nothing is written yet. */
  static async open(ctx: Ctx, name: string): Promise<GClient> {
    const conn = await ctx.connect({ datagrams: true }, name);
    return new GClient(ctx, conn, name);
  }

  /**
   * Opens a connection and authenticates as `username` (default `name`):
   * Hello and Auth in one write, then waits for AuthOk and ShardAssignment.
   * @throws Error when they do not come in time (the monitor says why).
   */
  static async login(ctx: Ctx, name: string, username = name): Promise<GClient> {
    const c = await GClient.open(ctx, name);
    await c.write(frame('Hello', { version: ctx.profile.protocolVersion, client: 'wirecheck' }), frame('Auth', { username }));
    const ok = await c.waitControl((f) => f.name === 'ShardAssignment' || f.name === 'AuthFailed');
    const auth = c.controlFrames().find((f) => f.name === 'AuthOk');
    if (!ok || auth?.name !== 'AuthOk') throw new Error(`${name}: no AuthOk and ShardAssignment within ${c.wait} ms`);
    c.userId = auth.payload.user_id;
    return c;
  }

  /** How long a helper waits for an answer (ms). */
  get wait(): number {
    return this.ctx.profile.replyDeadlineMs + 2 * this.ctx.profile.toleranceMs;
  }

  /** Writes bytes on the control stream (one write). A write to a closed connection is not an error here: the monitor judges the close. */
  async write(...parts: Uint8Array[]): Promise<void> {
    await guard(this.conn, this.control.write(concat(parts)));
  }

  /** The client uni stream of a kind, opened with its type byte on first use. */
  async stream(kind: ClientStreamKind): Promise<ClientStream> {
    let s = this.uni.get(kind);
    if (!s) {
      s = this.conn.openStream('uni');
      this.uni.set(kind, s);
      await guard(this.conn, s.write(encodeStreamHeader({ kind })));
    }
    return s;
  }

  /** Writes frames on a client uni stream (opened on first use), in one write. */
  async send(kind: ClientStreamKind, ...frames: Uint8Array[]): Promise<void> {
    const s = await this.stream(kind);
    await guard(this.conn, s.write(concat(frames)));
  }

  /** A fresh command id. */
  cmdId(): number {
    return this.nextCmd++;
  }

  /**
   * Sends one command (its `cmd_id` filled in) and waits for its answer.
   * @returns the MessageAck or Error, or undefined when none came in time.
   */
  async cmd<K extends CommandName>(name: K, payload: Omit<Payloads[K], 'cmd_id'>): Promise<Extract<Frame, { name: 'MessageAck' | 'Error' }> | undefined> {
    const id = this.cmdId();
    await this.send('commands', encodeFrame(name, { ...payload, cmd_id: id } as Payloads[K]));
    return this.answer(id);
  }

  /** Waits for the answer to `cmdId`. */
  async answer(cmdId: number): Promise<Extract<Frame, { name: 'MessageAck' | 'Error' }> | undefined> {
    const find = (): Extract<Frame, { name: 'MessageAck' | 'Error' }> | undefined =>
      (this.controlFrames() as readonly Frame[]).find((f): f is Extract<Frame, { name: 'MessageAck' | 'Error' }> => (f.name === 'MessageAck' || f.name === 'Error') && f.payload.cmd_id === cmdId);
    await this.ctx.until(() => find() !== undefined || this.conn.isClosed, this.wait);
    return find();
  }

  /** Creates a room and returns its id (throws when refused: the case cannot go on). */
  async createRoom(name: string, roomType: 'direct' | 'group' | 'channel', members: readonly string[] = []): Promise<number> {
    const a = await this.cmd('CreateRoom', { name, room_type: roomType, members: [...members] });
    if (a?.name !== 'MessageAck' || a.payload.room_id === undefined) throw new Error(`${this.name}: CreateRoom ${name} was not acknowledged (${a ? JSON.stringify(a) : 'no answer'})`);
    return a.payload.room_id;
  }

  /** Frames received on the control stream so far. */
  controlFrames(): readonly DecodedFrame[] {
    return this.framesOf(this.control, 'control');
  }

  /** Room frames received so far on every server stream, in stream order. */
  roomFrames(): DecodedFrame[] {
    return this.conn.serverStreams().flatMap((s) => (s.kind === 'uni' ? this.framesOf(s, 'uni') : []));
  }

  /** The frames of a stream, decoded incrementally (only the bytes that arrived since the last call). */
  private framesOf(s: ClientStream, kind: 'control' | 'uni'): readonly DecodedFrame[] {
    let d = this.decoded.get(s);
    if (!d) {
      d = { decoder: new StreamDecoder({ stream: kind, dir: 's2c', validate: false }), len: 0, frames: [] };
      this.decoded.set(s, d);
    }
    if (s.receivedLength > d.len) {
      const fresh = s.received().subarray(d.len);
      d.len += fresh.length;
      d.frames.push(...d.decoder.push(fresh).frames);
    }
    return d.frames;
  }
  private readonly decoded = new Map<ClientStream, { decoder: StreamDecoder; len: number; frames: DecodedFrame[] }>();

  /** The room frames of `roomId` received so far. */
  roomEvents(roomId: number): DecodedFrame[] {
    return this.roomFrames().filter((f) => (f.payload as { room_id?: number }).room_id === roomId);
  }

  /** Waits until a control frame satisfies `pred`. */
  waitControl(pred: (f: DecodedFrame) => boolean, ms = this.wait): Promise<boolean> {
    return this.ctx.until(() => this.controlFrames().some(pred) || this.conn.isClosed, ms);
  }

  /** Waits until the room frames of `roomId` include seq `seq` (a RoomInit with that seq counts). */
  waitSeq(roomId: number, seq: number, ms = this.wait): Promise<boolean> {
    return this.ctx.until(() => this.roomEvents(roomId).some((f) => (f.payload as { seq: number }).seq >= seq) || this.conn.isClosed, ms);
  }

  /** Waits until the connection closes. */
  waitClosed(ms: number): Promise<boolean> {
    return this.ctx.until(() => this.conn.isClosed, ms);
  }

  /** Closes the connection (application code 0). */
  async close(): Promise<void> {
    await this.conn.close(0, 'wirecheck: case done');
  }
}

/** Chat command names. */
export type CommandName = 'SendMessage' | 'EditMessage' | 'DeleteMessage' | 'AddReaction' | 'RemoveReaction' | 'JoinRoom' | 'LeaveRoom' | 'CreateRoom';

/** Encodes a valid frame. */
export function frame<K extends FrameName>(name: K, payload: Payloads[K]): Uint8Array {
  return encodeFrame(name, payload);
}

/** Encodes a frame with any type code and raw payload (malformed input). */
export const raw = encodeRawFrame;

/** The type byte of a client stream kind. */
export const typeByte = (kind: ClientStreamKind): number => streamTypeOf(kind).byte;

/** Concatenates byte arrays. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  return parts.length === 1 ? parts[0]! : new Uint8Array(Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))));
}

/** Awaits a write; a failure on a connection that has closed is the server's close, judged by the monitor, not a harness error. */
export async function guard(conn: ClientConnection, p: Promise<void>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!conn.isClosed) throw err;
  }
}

/** Logs in several users (roles in the trace = names). */
export async function loginAll(ctx: Ctx, names: readonly string[]): Promise<GClient[]> {
  const out: GClient[] = [];
  for (const n of names) out.push(await GClient.login(ctx, n));
  return out;
}

/** Closes every client. */
export async function closeAll(clients: readonly GClient[]): Promise<void> {
  for (const c of clients) await c.close();
}

/** Ends a case: waits until the monitor owes nothing, then closes the clients. */
export async function finish(ctx: Ctx, clients: readonly GClient[]): Promise<void> {
  await ctx.settle(ctx.profile.replyDeadlineMs + 2 * ctx.profile.toleranceMs);
  await closeAll(clients);
}
