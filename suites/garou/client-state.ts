/**
 * One Garou client connection as a pure state machine (Sans-I/O): bytes
 * and stream events in, with the time passed in (ms); bytes to write and
 * events out. Used by the REPL client, the library (client.ts, the thin
 * driver over the harness's QUIC driver) and the load tool
 * (suites/garou/load.ts).
 *
 * Wire: PROTOCOLS.md § "Garou chat" and suites/garou/SPEC.md. The client
 * side of the handshake (GAROU-4.1: Hello → HelloAck → Auth → AuthOk →
 * ShardAssignment), the client streams opened lazily with their stream
 * header (GAROU-3.2, 3.4: at most one of each, after AuthOk), commands
 * with client-chosen `cmd_id`s matched to their answers in order
 * (GAROU-5.2), upload frames matched to their answers in order (GAROU-10.1),
 * Pong for every server Ping (GAROU-12.1), and the live view of the room
 * events received: each one checked by {@link RoomFeed} (right stream,
 * RoomInit first, `seq` in order per stream, no duplicate; GAROU-3.6, 7.2,
 * 7.3, 7.4, 8.5), the gaps still open kept per room.
 *
 * The client judges the server only through the project's pure pieces
 * (codec, feed); what they reject comes out as a `violation` event, never
 * as a throw.
 */
import {
  GarouCodecError,
  StreamDecoder,
  decodeDatagram,
  encodeDatagram,
  encodeFrame,
  encodeStreamHeader,
  type DecodedFrame,
  type StreamHeader,
} from './codec.js';
import { RoomFeed, type FeedViolation, type RoomStream } from './feed.js';
import type { DatagramName, Frame, Payloads, RoomMessagePayload, RoomType, Role } from './frames.js';

/** The client streams (GAROU-3.2), and the control stream. */
export type ClientCarrier = 'control' | 'commands' | 'acks' | 'upload';

/** Bytes to write on a client stream (the first write on a uni stream starts with its header). */
export interface ClientWrite {
  readonly carrier: ClientCarrier;
  readonly bytes: Uint8Array;
}

/** The chat commands (GAROU-5.1), by frame name. */
export type ChatCommandName = 'SendMessage' | 'EditMessage' | 'DeleteMessage' | 'AddReaction' | 'RemoveReaction' | 'JoinRoom' | 'LeaveRoom' | 'CreateRoom';
/** A chat command's payload without its `cmd_id` (the machine allocates it). */
export type CommandArgs<K extends ChatCommandName> = Omit<Payloads[K], 'cmd_id'>;
/** Upload frames (GAROU-10.1). */
export type UploadFrameName = 'UploadStart' | 'UploadChunk' | 'UploadComplete' | 'UploadCancel';

/** A command sent and not answered yet. */
export interface PendingCommand {
  readonly cmdId: number;
  readonly name: ChatCommandName;
  readonly roomId?: number;
  /** When it was handed to the transport (ms, the caller's clock). */
  readonly sentAt: number;
}

/** An upload frame sent and not answered yet. */
export interface PendingUpload {
  readonly uploadId: string;
  readonly name: UploadFrameName;
  readonly sentAt: number;
}

/** The answer to a command: MessageAck or Error (GAROU-5.2). */
export type CommandAnswer = Extract<Frame, { name: 'MessageAck' | 'Error' }>;

/** Handshake phases, as the client sees them. */
export type ClientPhase = 'idle' | 'hello-sent' | 'auth-sent' | 'authenticated' | 'failed' | 'closed';

/** What the machine reports. */
export type ClientEvent =
  /** HelloAck, AuthOk, AuthFailed or ShardAssignment arrived. */
  | { readonly kind: 'handshake'; readonly frame: Extract<Frame, { name: 'HelloAck' | 'AuthOk' | 'AuthFailed' | 'ShardAssignment' }> }
  /** A command's answer (matched in order, GAROU-5.2). */
  | { readonly kind: 'answer'; readonly command: PendingCommand; readonly answer: CommandAnswer; readonly at: number }
  /** An upload frame's answer (GAROU-10.1). */
  | { readonly kind: 'upload-answer'; readonly upload: PendingUpload; readonly answer: Extract<Frame, { name: 'UploadAck' | 'Error' }>; readonly at: number }
  /**
   * A room frame arrived on a shard or hot-room stream; `violations` are the
   * rules it breaks as {@link RoomFeed} sees them (empty when fine, and
   * always empty when checking is off).
   */
  | { readonly kind: 'room'; readonly stream: RoomStream; readonly frame: DecodedFrame; readonly violations: readonly FeedViolation[]; readonly at: number }
  /** RoomPromoted / RoomDemoted on the control stream (GAROU-8.2, 8.3). */
  | { readonly kind: 'hot'; readonly promoted: boolean; readonly roomId: number; readonly at: number }
  /** Any other server frame on the control stream (Ping, Pong, Throttle, Goodbye, ServerCommand). */
  | { readonly kind: 'control'; readonly frame: DecodedFrame; readonly at: number }
  /** A datagram arrived (GAROU-11). */
  | { readonly kind: 'datagram'; readonly frame: DecodedFrame; readonly at: number }
  /** A server stream was opened (its header read). */
  | { readonly kind: 'stream'; readonly stream: RoomStream; readonly at: number }
  /** A server stream ended (FIN): a hot-room stream after a demotion (GAROU-8.3). */
  | { readonly kind: 'stream-end'; readonly streamId: string; readonly at: number }
  /** The server broke a rule as the client sees it. */
  | { readonly kind: 'violation'; readonly rule: string; readonly message: string; readonly at: number };

/** What one input produces. */
export interface Step {
  /** Bytes to write, in order. */
  readonly writes: ClientWrite[];
  readonly events: ClientEvent[];
}

/** A room as this connection sees it (the live view). */
export interface RoomView {
  readonly roomId: number;
  name?: string;
  roomType?: RoomType;
  /** user_id → role, from RoomInit and joins/leaves. */
  readonly members: Map<string, Role | undefined>;
  /** The last messages (at most {@link GarouClientOptions.keepMessages}), oldest first, with their current body. */
  readonly messages: RoomMessagePayload[];
  /** Highest seq received. */
  lastSeq: number;
  /** The stream that carried the latest event (`shard 3`, `hot 7`). */
  lastStream?: string;
  /** True while the room is promoted (RoomPromoted seen, no RoomDemoted after it). */
  hot: boolean;
}

/** Options of a {@link GarouClientState}. */
export interface GarouClientOptions {
  /** Protocol version sent in Hello (GAROU-4.1; default 1). */
  readonly version?: number;
  /** `client` of Hello (default `wirecheck`). */
  readonly clientName?: string;
  /** Largest frame payload accepted from the server (bytes, GAROU-2.3; default 1 MiB). */
  readonly maxFrameBytes?: number;
  /** Shard count assumed until ShardAssignment arrives (GAROU-3.5; default 8). */
  readonly numShards?: number;
  /** Check every room frame with {@link RoomFeed} (default true); off, room frames are decoded only. */
  readonly check?: boolean;
  /** Validate payloads against their schemas (default true). */
  readonly validate?: boolean;
  /** Keep the live view of rooms (members, last messages; default true). */
  readonly view?: boolean;
  /** Messages kept per room in the live view (default 50). */
  readonly keepMessages?: number;
  /** First `cmd_id` (default 1). */
  readonly firstCmdId?: number;
}

/** Room frame names carried by shard and hot-room streams. */
const ROOM_FRAMES = new Set(['RoomMessage', 'RoomMessageEdited', 'RoomMessageDeleted', 'RoomReactionAdded', 'RoomReactionRemoved', 'RoomUserJoined', 'RoomUserLeft', 'RoomInit', 'RoomClose']);

interface ServerStream {
  readonly id: string;
  readonly decoder: StreamDecoder;
  header?: RoomStream;
}

/**
 * One client connection's Garou state. Feed it what arrives
 * ({@link receiveControl}, {@link openServerStream} + {@link receiveStream},
 * {@link receiveDatagram}); ask it for bytes to send ({@link hello},
 * {@link auth}, {@link command}, {@link upload}, {@link ack},
 * {@link datagram}, {@link ping}, {@link goodbye}). Never throws on server
 * bytes.
 */
export class GarouClientState {
  private phaseNow: ClientPhase = 'idle';
  private readonly control: StreamDecoder;
  private readonly opened = new Set<ClientCarrier>();
  private readonly pending: PendingCommand[] = [];
  private readonly pendingUploads: PendingUpload[] = [];
  private readonly streams = new Map<string, ServerStream>();
  private readonly roomViews = new Map<number, RoomView>();
  private feedNow: RoomFeed | undefined;
  private nextCmd: number;
  private nextNonce = 1;
  private shards: number;
  private user: string | undefined;
  private session: string | undefined;
  private readonly check: boolean;
  private readonly view: boolean;
  private readonly keep: number;
  private readonly maxFrameBytes: number;
  private readonly validate: boolean;

  constructor(readonly options: GarouClientOptions = {}) {
    this.maxFrameBytes = options.maxFrameBytes ?? 1_048_576;
    this.validate = options.validate !== false;
    this.control = new StreamDecoder({ stream: 'control', dir: 's2c', maxFrameBytes: this.maxFrameBytes, validate: this.validate });
    this.nextCmd = options.firstCmdId ?? 1;
    this.shards = options.numShards ?? 8;
    this.check = options.check !== false;
    this.view = options.view !== false;
    this.keep = options.keepMessages ?? 50;
  }

  /** The handshake phase. */
  get phase(): ClientPhase {
    return this.phaseNow;
  }

  /** The authenticated user id (AuthOk), once known. */
  get userId(): string | undefined {
    return this.user;
  }

  /** HelloAck's `session_id`, once known. */
  get sessionId(): string | undefined {
    return this.session;
  }

  /** Shard count: ShardAssignment's, or the assumed one before it. */
  get numShards(): number {
    return this.shards;
  }

  /** Commands sent and not answered yet, oldest first. */
  get pendingCommands(): readonly PendingCommand[] {
    return this.pending;
  }

  /** Upload frames sent and not answered yet, oldest first. */
  get pendingUploadFrames(): readonly PendingUpload[] {
    return this.pendingUploads;
  }

  /** The live view of the rooms this connection received frames of. */
  get rooms(): ReadonlyMap<number, RoomView> {
    return this.roomViews;
  }

  /** The feed's gaps of a room: seqs missing below the highest received (empty when none, or with checking off). */
  gaps(roomId: number): number[] {
    return this.feedNow?.gaps(roomId) ?? [];
  }

  /** The highest seq of a room received with nothing missing below it (undefined before its RoomInit, or with checking off). */
  contiguous(roomId: number): number | undefined {
    return this.feedNow?.contiguous(roomId);
  }

  // ---- output ----------------------------------------------------------

  private frameOn<K extends keyof Payloads>(carrier: ClientCarrier, name: K, payload: Payloads[K]): ClientWrite {
    const frame = encodeFrame(name, payload, { validate: this.validate });
    if (carrier === 'control' || this.opened.has(carrier)) return { carrier, bytes: frame };
    this.opened.add(carrier);
    const header = encodeStreamHeader({ kind: carrier });
    const bytes = new Uint8Array(header.length + frame.length);
    bytes.set(header, 0);
    bytes.set(frame, header.length);
    return { carrier, bytes };
  }

  /**
   * Hello `{version, client}` on the control stream (GAROU-4.1).
   * @throws Error when called twice.
   */
  hello(): ClientWrite {
    if (this.phaseNow !== 'idle') throw new Error(`hello: already sent (phase ${this.phaseNow})`);
    this.phaseNow = 'hello-sent';
    return this.frameOn('control', 'Hello', { version: this.options.version ?? 1, client: this.options.clientName ?? 'wirecheck' });
  }

  /**
   * Auth `{username, token?}` (GAROU-4.1, 4.3: may follow Hello at once).
   * @throws Error before Hello or after Auth.
   */
  auth(username: string, token?: string): ClientWrite {
    if (this.phaseNow !== 'hello-sent') throw new Error(`auth: expected after hello, phase is ${this.phaseNow}`);
    this.phaseNow = 'auth-sent';
    return this.frameOn('control', 'Auth', token === undefined ? { username } : { username, token });
  }

  /**
   * A chat command on the chat-commands stream (opened with its header on
   * first use, GAROU-3.2), with the next `cmd_id` (GAROU-5.1).
   * @param now ms (the caller's clock), kept as the command's send time.
   * @throws RangeError when the payload breaks its schema; Error before AuthOk (GAROU-3.4).
   */
  command<K extends ChatCommandName>(name: K, args: CommandArgs<K>, now: number): { readonly cmdId: number; readonly write: ClientWrite } {
    if (this.phaseNow !== 'authenticated') throw new Error(`${name}: not authenticated (phase ${this.phaseNow}); client streams open after AuthOk (GAROU-3.4)`);
    const cmdId = this.nextCmd;
    const write = this.frameOn('commands', name, { ...args, cmd_id: cmdId } as unknown as Payloads[K]);
    this.nextCmd = this.nextCmd >= 0xffff_ffff ? 0 : this.nextCmd + 1;
    const roomId = (args as { room_id?: number }).room_id;
    this.pending.push({ cmdId, name, sentAt: now, ...(roomId !== undefined ? { roomId } : {}) });
    return { cmdId, write };
  }

  /**
   * An upload frame on the bulk-upload stream (GAROU-10.1); its answer is awaited in order.
   * @throws RangeError when the payload breaks its schema; Error before AuthOk.
   */
  upload<K extends UploadFrameName>(name: K, payload: Payloads[K], now: number): ClientWrite {
    if (this.phaseNow !== 'authenticated') throw new Error(`${name}: not authenticated (phase ${this.phaseNow})`);
    const write = this.frameOn('upload', name, payload);
    this.pendingUploads.push({ uploadId: (payload as { upload_id: string }).upload_id, name, sentAt: now });
    return write;
  }

  /**
   * MessageDelivered / MessageRead on the acks stream (GAROU-9.1; no answer).
   * @throws Error before AuthOk.
   */
  ack(name: 'MessageDelivered' | 'MessageRead', roomId: number, seq: number): ClientWrite {
    if (this.phaseNow !== 'authenticated') throw new Error(`${name}: not authenticated (phase ${this.phaseNow})`);
    return this.frameOn('acks', name, { room_id: roomId, seq });
  }

  /** A datagram frame (GAROU-11.1): Typing, StopTyping, PresenceOnline/Offline/Away. */
  datagram<K extends DatagramName>(name: K, payload: Payloads[K]): Uint8Array {
    return encodeDatagram(name, payload);
  }

  /** Ping with the next nonce on the control stream (GAROU-12.1). */
  ping(): { readonly nonce: number; readonly write: ClientWrite } {
    const nonce = this.nextNonce++;
    return { nonce, write: this.frameOn('control', 'Ping', { nonce }) };
  }

  /** Goodbye `{reason}` on the control stream (GAROU-13.4). */
  goodbye(reason: string): ClientWrite {
    return this.frameOn('control', 'Goodbye', { reason });
  }

  // ---- input -----------------------------------------------------------

  /** Bytes arrived on the control stream. */
  receiveControl(bytes: Uint8Array, now: number): Step {
    const step: Step = { writes: [], events: [] };
    const r = this.control.push(bytes);
    for (const f of r.frames) this.onControl(f, now, step);
    if (r.error) this.codecError(r.error, now, step);
    return step;
  }

  /** The control stream ended (FIN; GAROU-3.7: it stays open for the connection's life). */
  controlEnded(now: number): Step {
    const events: ClientEvent[] = [];
    const t = this.control.finish();
    if (t) events.push({ kind: 'violation', rule: t.rule, message: t.message, at: now });
    if (this.phaseNow !== 'closed') events.push({ kind: 'violation', rule: 'GAROU-3.7', message: 'the server ended the control stream', at: now });
    return { writes: [], events };
  }

  /** A server-opened unidirectional stream appeared; `id` names it in messages (e.g. the QUIC stream id). */
  openServerStream(id: string): void {
    if (!this.streams.has(id)) this.streams.set(id, { id, decoder: new StreamDecoder({ stream: 'uni', dir: 's2c', maxFrameBytes: this.maxFrameBytes, validate: this.validate }) });
  }

  /** Bytes arrived on a server-opened unidirectional stream (opened with {@link openServerStream} first, else it is now). */
  receiveStream(id: string, bytes: Uint8Array, now: number): Step {
    this.openServerStream(id);
    const s = this.streams.get(id)!;
    const step: Step = { writes: [], events: [] };
    const r = s.decoder.push(bytes);
    if (r.header) {
      s.header = this.roomStream(id, r.header);
      step.events.push({ kind: 'stream', stream: s.header, at: now });
    }
    for (const f of r.frames) this.onRoomFrame(s.header!, f, now, step);
    if (r.error) this.codecError(r.error, now, step);
    return step;
  }

  /** A server stream ended (FIN): a frame cut short is a violation (GAROU-2.7). */
  streamEnded(id: string, now: number): Step {
    const s = this.streams.get(id);
    const events: ClientEvent[] = [];
    if (s) {
      const t = s.decoder.finish();
      if (t) events.push({ kind: 'violation', rule: t.rule, message: t.message, at: now });
      events.push({ kind: 'stream-end', streamId: id, at: now });
    }
    return { writes: [], events };
  }

  /** A datagram arrived (GAROU-11.1). */
  receiveDatagram(bytes: Uint8Array, now: number): Step {
    const step: Step = { writes: [], events: [] };
    try {
      step.events.push({ kind: 'datagram', frame: decodeDatagram(bytes, 's2c', { maxFrameBytes: this.maxFrameBytes, validate: this.validate }), at: now });
    } catch (err) {
      if (err instanceof GarouCodecError) this.codecError(err, now, step);
      else throw err;
    }
    return step;
  }

  /** The connection closed: nothing more is expected. */
  closed(): void {
    if (this.phaseNow !== 'failed') this.phaseNow = 'closed';
  }

  // ---- internals -------------------------------------------------------

  private roomStream(id: string, h: StreamHeader): RoomStream {
    if (h.kind === 'shard') return { kind: 'shard', shard: h.shard, id };
    if (h.kind === 'hot') return { kind: 'hot', roomId: h.roomId, id };
    // The decoder refuses client stream types in s2c (StreamDirectionError): unreachable.
    throw new Error(`unreachable: client stream type ${h.kind} on a server stream`);
  }

  private codecError(e: GarouCodecError, now: number, step: Step): void {
    step.events.push({ kind: 'violation', rule: e.rule, message: e.message, at: now });
  }

  private feed(): RoomFeed {
    this.feedNow ??= new RoomFeed(this.user ?? '', this.shards);
    return this.feedNow;
  }

  private onControl(f: DecodedFrame, now: number, step: Step): void {
    const v = (rule: string, message: string): void => void step.events.push({ kind: 'violation', rule, message, at: now });
    switch (f.name) {
      case 'HelloAck':
        if (this.phaseNow !== 'hello-sent' && this.phaseNow !== 'auth-sent') v('GAROU-4.1', `HelloAck in phase ${this.phaseNow}`);
        this.session = f.payload.session_id;
        step.events.push({ kind: 'handshake', frame: f });
        return;
      case 'AuthOk':
        if (this.phaseNow !== 'auth-sent') v('GAROU-4.1', `AuthOk in phase ${this.phaseNow}`);
        this.phaseNow = 'authenticated';
        this.user = f.payload.user_id;
        step.events.push({ kind: 'handshake', frame: f });
        return;
      case 'AuthFailed':
        this.phaseNow = 'failed';
        step.events.push({ kind: 'handshake', frame: f });
        return;
      case 'ShardAssignment':
        if (this.phaseNow !== 'authenticated') v('GAROU-4.6', `ShardAssignment before AuthOk`);
        this.shards = f.payload.num_shards;
        // The feed routes by the assigned count; events read before it used the assumed one.
        if (this.feedNow && this.feedNow.numShards !== this.shards) this.feedNow = undefined;
        step.events.push({ kind: 'handshake', frame: f });
        return;
      case 'MessageAck':
      case 'Error': {
        if (f.name === 'Error' && f.payload.upload_id !== undefined && f.payload.cmd_id === undefined) return this.onUploadAnswer(f, now, step);
        const head = this.pending[0];
        const cmdId = f.payload.cmd_id;
        if (!head) {
          v('GAROU-5.2', `${f.name} for cmd_id ${String(cmdId)} with no command outstanding`);
          return;
        }
        if (cmdId !== head.cmdId) {
          const at = this.pending.findIndex((p) => p.cmdId === cmdId);
          v('GAROU-5.2', `${f.name} for cmd_id ${String(cmdId)} while cmd_id ${head.cmdId} (${head.name}) is the oldest unanswered command: answers out of order`);
          if (at < 0) return;
          const [cmd] = this.pending.splice(at, 1);
          step.events.push({ kind: 'answer', command: cmd!, answer: f, at: now });
          return;
        }
        this.pending.shift();
        step.events.push({ kind: 'answer', command: head, answer: f, at: now });
        return;
      }
      case 'UploadAck':
        return this.onUploadAnswer(f, now, step);
      case 'RoomPromoted':
      case 'RoomDemoted': {
        const promoted = f.name === 'RoomPromoted';
        const view = this.roomViews.get(f.payload.room_id);
        if (view) view.hot = promoted;
        step.events.push({ kind: 'hot', promoted, roomId: f.payload.room_id, at: now });
        return;
      }
      case 'Ping':
        step.writes.push(this.frameOn('control', 'Pong', { nonce: f.payload.nonce }));
        step.events.push({ kind: 'control', frame: f, at: now });
        return;
      default:
        step.events.push({ kind: 'control', frame: f, at: now });
    }
  }

  private onUploadAnswer(f: Extract<DecodedFrame, { name: 'UploadAck' | 'Error' }>, now: number, step: Step): void {
    const id = f.payload.upload_id;
    const head = this.pendingUploads[0];
    if (!head || head.uploadId !== id) {
      step.events.push({ kind: 'violation', rule: 'GAROU-10.1', message: `${f.name} for upload ${JSON.stringify(id)} ${head ? `while ${head.name} of ${JSON.stringify(head.uploadId)} is the oldest unanswered upload frame` : 'with no upload frame outstanding'}`, at: now });
      const at = this.pendingUploads.findIndex((p) => p.uploadId === id);
      if (at < 0) return;
      const [u] = this.pendingUploads.splice(at, 1);
      step.events.push({ kind: 'upload-answer', upload: u!, answer: f, at: now });
      return;
    }
    this.pendingUploads.shift();
    step.events.push({ kind: 'upload-answer', upload: head, answer: f, at: now });
  }

  private onRoomFrame(stream: RoomStream, f: DecodedFrame, now: number, step: Step): void {
    if (!ROOM_FRAMES.has(f.name)) return; // the decoder lets only room frames through on these streams
    const violations = this.check ? this.feed().receive(stream, f) : [];
    if (this.view) this.updateView(stream, f);
    step.events.push({ kind: 'room', stream, frame: f, violations, at: now });
  }

  private updateView(stream: RoomStream, f: DecodedFrame): void {
    const p = f.payload as { room_id: number; seq: number };
    let r = this.roomViews.get(p.room_id);
    if (!r) {
      r = { roomId: p.room_id, members: new Map(), messages: [], lastSeq: 0, hot: false };
      this.roomViews.set(p.room_id, r);
    }
    r.lastSeq = Math.max(r.lastSeq, p.seq);
    r.lastStream = stream.kind === 'shard' ? `shard ${stream.shard}` : `hot ${stream.roomId}`;
    const byId = (id: string) => r.messages.find((m) => m.message_id === id);
    switch (f.name) {
      case 'RoomInit':
        r.name = f.payload.name;
        r.roomType = f.payload.room_type;
        r.members.clear();
        for (const m of f.payload.members) r.members.set(m.user_id, m.role);
        r.messages.splice(0, r.messages.length, ...f.payload.history.slice(-this.keep));
        return;
      case 'RoomMessage':
        r.messages.push({ ...f.payload });
        if (r.messages.length > this.keep) r.messages.shift();
        return;
      case 'RoomMessageEdited': {
        const m = byId(f.payload.message_id);
        if (m) m.body = f.payload.body;
        return;
      }
      case 'RoomMessageDeleted': {
        const i = r.messages.findIndex((m) => m.message_id === f.payload.message_id);
        if (i >= 0) r.messages.splice(i, 1);
        return;
      }
      case 'RoomUserJoined':
        r.members.set(f.payload.user_id, f.payload.role);
        return;
      case 'RoomUserLeft':
        r.members.delete(f.payload.user_id);
        return;
      default:
        return;
    }
  }
}
