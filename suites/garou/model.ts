/**
 * The Garou model: one state machine for the whole server as many clients
 * see it (SPEC.md), composed of the pure pieces — the codec (`codec.ts`),
 * the session (`session.ts`), rooms, roles and seq (`rooms.ts`,
 * `permissions.ts`), hot rooms (`hot-rooms.ts`), uploads (`uploads.ts`) and
 * what one connection receives (`feed.ts`). Time is passed in (µs, trace
 * events' `t`); no clock, no I/O.
 *
 * Both uses run the same code over client input (`c2s` events):
 *
 *  - **server mode** (`mode: 'server'`): the reference server's Sans-I/O
 *    core. Every effect the pieces decide is performed at once as
 *    {@link OutItem}s (frames on the control stream, on shard and hot-room
 *    streams it opens, datagram relays, closes), encoded to engine actions;
 *  - **monitor mode** (`mode: 'monitor'`): the same effects are armed as
 *    timed obligations (harness/engine/obligations.ts, records in
 *    {@link garouObligations}) and the server's output (`s2c` events, several
 *    connections in one trace) is matched against them: answers in order,
 *    every member connection receiving each room event on the right stream
 *    in `seq` order, RoomInit first, no loss or duplicate across a promotion
 *    or demotion, closes owed, relays (a SHOULD), all within deadlines.
 *
 * Concurrent writers (SPEC GAROU-7.7): the monitor does not take the
 * server's order of commands from the times they were sent. A command sent
 * is pending until the server's output places it — its answer (whose `seq`
 * says which seqs others took before it), or one of its room events (found
 * by content among each connection's pending commands, sent before the
 * event arrived) — and is then applied after everything placed so far,
 * each connection's commands in the order sent. A server frame whose place
 * is ambiguous (several connections could have taken the seqs below it) is
 * held, its stream's later frames behind it, until more output decides, at
 * most a reply deadline; then, and for commands never answered, the order
 * sent is taken. An Error answer the rooms as placed so far do not
 * explain waits, while another connection's command in the same room is
 * pending, for that one to be placed (it may be the cause: a message
 * deleted meanwhile). Limits: a connection's pending commands to other
 * rooms ahead of the one placed are placed with it; uploads are applied
 * when sent.
 *
 * The handshake's race (SPEC GAROU-3.4, 11.2): what a client sends on its
 * unidirectional streams and in datagrams after its Auth and before AuthOk
 * reaches it may be read by the server before it sent AuthOk or after (QUIC
 * orders only the control stream). The monitor keeps it until AuthOk comes
 * and judges it as sent then; a close 0x1 within a reply deadline of the
 * first such stream conforms too (the server read the stream first).
 */
import { isDeepStrictEqual } from 'node:util';
import { fromHex, toHex, type TraceEvent } from '../../harness/engine/trace.js';
import type { Monitor, Severity, Violation } from '../../harness/engine/types.js';
import type { ServerAction, ServerModel } from '../../harness/engine/server-core.js';
import {
  arm,
  defineObligations,
  dueBy,
  earliest,
  judge,
  nextDeadlineOf,
  nextDueOf,
  overdueAt,
  type Armed,
  type ObligationTable,
} from '../../harness/engine/obligations.js';
import {
  decodeDatagram,
  encodeFrameOf,
  encodeStreamHeader,
  GarouCodecError,
  SchemaError,
  StreamDecoder,
  validatePayload,
  type DecodedFrame,
  type StreamHeader,
} from './codec.js';
import { CLOSE_CODES, closeCodeName, ERROR_CODES, type Carrier, type Frame, type FrameName } from './frames.js';
import { countsTowardRate, HotRooms, type Transition } from './hot-rooms.js';
import { RoomFeed, type RoomStream } from './feed.js';
import type { GarouProfile } from './profile.js';
import { Rooms, type CommandFrame, type Delivery, type Outcome, type RoomsOptions } from './rooms.js';
import { Session, type SessionAction } from './session.js';
import { Uploads, type UploadFrame } from './uploads.js';

const US_PER_MS = 1000;
/** Monitor: rooms it creates are numbered from here (beyond any u32) until the server's answer names their id. */
const PROVISIONAL_ROOM_ID = 2 ** 32;

/** What arms a Garou obligation (model terms). */
export type GarouTrigger =
  | 'conn-open'
  | 'violation'
  | 'hello'
  | 'auth'
  | 'auth-ok'
  | 'command'
  | 'upload'
  | 'event'
  | 'init'
  | 'ping'
  | 'relay'
  | 'goodbye'
  | 'promote'
  | 'demote';

/**
 * Garou's timed obligations, one record per rule (SPEC "Profile":
 * `replyDeadlineMs`, `handshakeTimeoutMs`, `toleranceMs`, `cooldownMs`).
 * Server mode acts at `nominalMs`; the monitor judges the bands.
 */
export function garouObligations(p: GarouProfile): ObligationTable<GarouTrigger> {
  const tol = p.toleranceMs;
  const R = p.replyDeadlineMs + tol;
  const reply = { should: { earliestMs: 0, latestMs: R }, must: { earliestMs: 0, latestMs: R }, nominalMs: 0, severity: 'must' as const };
  const T = p.handshakeTimeoutMs;
  return defineObligations<GarouTrigger>([
    { rule: 'GAROU-4.5', triggers: ['conn-open'], nominalMs: T, should: { earliestMs: T - tol, latestMs: T + tol }, must: { earliestMs: T - tol, latestMs: T + tol }, severity: 'must', owed: { kind: 'close', code: CLOSE_CODES.HANDSHAKE_TIMEOUT }, summary: `close 0x3 HANDSHAKE_TIMEOUT when no AuthOk is sent within ${T} ms` },
    { rule: 'GAROU-13.3', triggers: ['violation'], ...reply, owed: { kind: 'close', code: CLOSE_CODES.PROTOCOL_VIOLATION }, summary: 'close the connection on a violation, with the code of GAROU-13.2' },
    { rule: 'GAROU-4.1', triggers: ['hello', 'auth'], ...reply, owed: { kind: 'answer', what: 'HelloAck to Hello, AuthOk or AuthFailed to Auth' }, summary: 'answer the handshake' },
    { rule: 'GAROU-3.5', triggers: ['auth-ok'], ...reply, owed: { kind: 'action', what: 'ShardAssignment and the shard streams' }, summary: 'open the shard streams and send ShardAssignment after AuthOk' },
    { rule: 'GAROU-5.2', triggers: ['command'], ...reply, owed: { kind: 'answer', what: 'MessageAck or Error, in order' }, summary: 'answer each command in order' },
    { rule: 'GAROU-10.1', triggers: ['upload'], ...reply, owed: { kind: 'answer', what: 'UploadAck or Error, in order' }, summary: 'answer each upload frame in order' },
    { rule: 'GAROU-7.2', triggers: ['event'], ...reply, owed: { kind: 'action', what: 'the room event on the room stream' }, summary: 'deliver each room event to every member connection' },
    { rule: 'GAROU-7.4', triggers: ['init'], ...reply, owed: { kind: 'action', what: 'RoomInit on the room stream' }, summary: 'RoomInit to a member entering a room' },
    { rule: 'GAROU-12.1', triggers: ['ping'], ...reply, owed: { kind: 'answer', what: 'Pong with the same nonce' }, summary: 'answer Ping with Pong' },
    { rule: 'GAROU-11.3', triggers: ['relay'], nominalMs: 0, should: { earliestMs: 0, latestMs: R }, must: { earliestMs: 0, latestMs: Infinity }, severity: 'should', owed: { kind: 'action', what: 'the datagram relayed' }, summary: 'relay typing and presence datagrams' },
    { rule: 'GAROU-13.4', triggers: ['goodbye'], ...reply, owed: { kind: 'close', code: CLOSE_CODES.NO_ERROR }, summary: 'close 0x0 after a Goodbye' },
    { rule: 'GAROU-8.2', triggers: ['promote'], ...reply, owed: { kind: 'action', what: 'RoomPromoted and a hot-room stream' }, summary: 'promote a room whose rate exceeds the hot threshold' },
    { rule: 'GAROU-8.3', triggers: ['demote'], nominalMs: 0, should: { earliestMs: -tol, latestMs: R }, must: { earliestMs: -Infinity, latestMs: R }, severity: 'must', owed: { kind: 'action', what: 'RoomDemoted and FIN of the hot-room stream' }, summary: 'demote a hot room after the cooldown below the cold threshold' },
  ]);
}

/** What an armed obligation is about. */
export interface Subject {
  /** The frame owed (answers, room frames, relays, Pong), compared without server-chosen fields. */
  readonly frame?: Frame;
  /** The close code owed and the rule that requires it. */
  readonly code?: number;
  readonly rule?: string;
  readonly reason?: string;
  readonly roomId?: number;
  readonly seq?: number;
  /** Allowed, not owed: a relay of a datagram that raced the AuthOk (the server may have read it before, and dropped it: GAROU-11.2). */
  readonly may?: true;
}
type GArmed = Armed<GarouTrigger, Subject>;

/**
 * What the server does, before encoding (server mode). Faults rewrite
 * these (reference-server/garou/faults.ts); {@link encodeOut} makes them
 * engine actions.
 */
export type OutItem =
  | { readonly kind: 'frame'; readonly conn: number; readonly stream: number; readonly carrier: Carrier; readonly frame: Frame }
  | { readonly kind: 'header'; readonly conn: number; readonly stream: number; readonly header: StreamHeader }
  | { readonly kind: 'fin'; readonly conn: number; readonly stream: number }
  | { readonly kind: 'dgram'; readonly conn: number; readonly bytes: Uint8Array; readonly from: number }
  | { readonly kind: 'close'; readonly conn: number; readonly code: number; readonly reason: string; readonly rule: string }
  | { readonly kind: 'log'; readonly level: 'debug' | 'info' | 'warn'; readonly msg: string; readonly data?: Record<string, unknown> };

/** Encodes an {@link OutItem} as an engine action. */
export function encodeOut(o: OutItem): ServerAction {
  switch (o.kind) {
    case 'frame':
      return { type: 'send', conn: o.conn, stream: o.stream, bytes: encodeFrameOf(o.frame, { validate: false }) };
    case 'header':
      return { type: 'send', conn: o.conn, stream: o.stream, bytes: encodeStreamHeader(o.header) };
    case 'fin':
      return { type: 'fin', conn: o.conn, stream: o.stream };
    case 'dgram':
      return { type: 'dgram', conn: o.conn, bytes: o.bytes };
    case 'close':
      return { type: 'close', conn: o.conn, code: o.code, reason: o.reason, rule: o.rule };
    case 'log':
      return { type: 'log', level: o.level, msg: o.msg, ...(o.data ? { data: o.data } : {}) };
  }
}

/**
 * A command or upload frame waiting for its answer (monitor). The answer
 * owed is known once the command is placed in the server's order (`frame`);
 * until then `pending` is the command.
 */
interface OwedAnswer {
  readonly armed: GArmed;
  frame: Extract<Frame, { name: 'MessageAck' | 'Error' | 'UploadAck' }> | undefined;
  pending: PendingCommand | undefined;
}

/**
 * Monitor: a command sent and not yet placed in the server's order. It is
 * placed (applied to the rooms) when the server's output shows where: its
 * answer, or one of its room events; or, failing both, a reply deadline
 * after it was sent (then in the order sent).
 */
interface PendingCommand {
  readonly cmd: CommandFrame;
  /** When it was sent (µs): its answer and its events are owed from here. */
  readonly t: number;
  /** The connection was over its command rate (GAROU-12.2), judged when sent. */
  readonly limited: boolean;
  readonly owed: OwedAnswer;
}

/** Monitor: a server frame not judged yet, waiting for the commands before it to be placed. */
interface HeldFrame {
  readonly t: number;
  readonly index: number;
  readonly stream: number;
  readonly frame: Frame;
  /** The room stream it came on (room frames), or undefined (control stream). */
  readonly room: RoomStream | undefined;
}

/** Monitor: a frame on a client unidirectional stream, or a datagram, sent between the client's Auth and the AuthOk's arrival. */
type PreAuthOk = { readonly carrier: Carrier; readonly frame: DecodedFrame } | { readonly dgram: DecodedFrame };

/** Per-connection state. */
interface Conn {
  readonly id: number;
  readonly session: Session;
  closed: boolean;
  /** Username from Auth, user id once AuthOk was sent (server) or seen (monitor). */
  username: string | undefined;
  userId: string | undefined;
  /** Client-written streams (the control stream is 0), by stream id. */
  readonly c2s: Map<number, StreamDecoder>;
  readonly uploads: Uploads;
  /** Times (ms) of the commands in the last second (GAROU-12.2). */
  cmdTimes: number[];
  throttled: boolean;
  /** Server mode: shard stream ids by index (opened), hot-room stream ids by room, the next server uni stream id. */
  readonly shard: (number | undefined)[];
  readonly hot: Map<number, number>;
  nextUni: number;
  /** Monitor: server-written streams, the room feed, obligations. */
  readonly s2c: Map<number, StreamDecoder>;
  feed: RoomFeed | undefined;
  armed: GArmed[];
  readonly answers: OwedAnswer[];
  readonly uploadAnswers: OwedAnswer[];
  /** Monitor: commands sent and not yet placed, in the order sent. */
  readonly pending: PendingCommand[];
  /** Monitor: server frames held, per stream (order kept), until the commands they depend on are placed. */
  readonly backlog: Map<number, HeldFrame[]>;
  /** Room frames owed to this connection, by `room:seq` (`room:init` for RoomInit). */
  readonly owed: Map<string, GArmed>;
  /** The client broke a rule: only the close is owed. */
  violated: boolean;
  /** Monitor: the server sent Goodbye on this connection (GAROU-13.5). */
  goodbyeSeen: boolean;
  /** Hot rooms this connection was told of (RoomPromoted seen), monitor. */
  readonly promoted: Set<number>;
  shardsSeen: Set<number>;
  /**
   * Monitor: what the client sent on its unidirectional streams and in
   * datagrams after its Auth and before AuthOk reached it, in order
   * (GAROU-3.4's race): judged as sent when AuthOk comes.
   */
  readonly preAuthOk: PreAuthOk[];
  /** Monitor: the close 0x1 the first client stream of that window allows, in its band (not owed: the server may see the stream after AuthOk). */
  raced: GArmed | undefined;
}

/** Coverage labels (states and transitions) the model reports. */
export const COVERAGE_LABELS: readonly string[] = [
  'state:await-hello',
  'state:await-auth',
  'state:authenticated',
  'transition:hello',
  'transition:auth-ok',
  'transition:auth-failed',
  'transition:command-ok',
  'transition:command-refused',
  'transition:room-event',
  'transition:room-init',
  'transition:promote',
  'transition:demote',
  'transition:upload-ack',
  'transition:relay',
  'transition:ping',
  'transition:goodbye',
  'transition:close-owed',
  'transition:handshake-timeout',
  'transition:close-by-client',
];

/** Options of a {@link GarouModel}. */
export interface GarouModelOptions {
  /** `ts` of RoomMessages = this + trace time (ms); server mode (default 0). */
  readonly epochMs?: number;
  /** Deliberate misbehaviour of the server mode's room rules (reference-server/garou/faults.ts only). */
  readonly rooms?: RoomsOptions;
}

const roomFrameNames: ReadonlySet<FrameName> = new Set(['RoomMessage', 'RoomMessageEdited', 'RoomMessageDeleted', 'RoomReactionAdded', 'RoomReactionRemoved', 'RoomUserJoined', 'RoomUserLeft', 'RoomInit', 'RoomClose']);

/** Is this frame a room frame (GAROU-7)? */
export function isRoomFrame(f: Frame): boolean {
  return roomFrameNames.has(f.name);
}

/** A frame's payload without the fields the server chooses freely (`ts`, `session_id`, `user_id` of AuthOk), for comparison. */
function comparable(f: Frame): unknown {
  const p = f.payload as Record<string, unknown>;
  if (f.name === 'RoomMessage') return { ...p, ts: 0 };
  if (f.name === 'RoomInit') return { ...p, history: (p['history'] as Record<string, unknown>[]).map((h) => ({ ...h, ts: 0 })) };
  return p;
}

const short = (f: Frame): string => {
  const s = `${f.name} ${JSON.stringify(f.payload)}`;
  return s.length > 160 ? `${s.slice(0, 157)}...` : s;
};

/**
 * The Garou state machine, monitor and server mode. Methods return
 * violations; they never throw on any trace.
 */
export class GarouModel implements Monitor, ServerModel {
  private readonly conns = new Map<number, Conn>();
  /** User id → its open authenticated connections. */
  private readonly userConns = new Map<string, Set<number>>();
  private readonly table: ObligationTable<GarouTrigger>;
  readonly rooms: Rooms;
  /** Server mode: exact hot-room state. Monitor: the oracle with exact thresholds (demotions owed). */
  private readonly hot: HotRooms;
  /** Monitor: promotions required (rate over threshold × (1 + rateTolerance)) and allowed (× (1 − rateTolerance)), GAROU-8.7. */
  private readonly hotHigh: HotRooms | undefined;
  private readonly hotLow: HotRooms | undefined;
  /** Monitor: rooms the server promoted (seen on any connection), and rooms the low oracle held hot since. */
  private readonly serverHot = new Set<number>();
  /** Monitor: provisional room id → the server's. */
  private readonly renumbered = new Map<number, number>();
  private readonly lowEverHot = new Set<number>();
  /** Monitor: hot rooms whose first RoomDemoted was judged for being early (GAROU-8.3). */
  private readonly earlyJudged = new Set<number>();
  private readonly labels = new Set<string>();
  private out: OutItem[] = [];
  private now = 0;
  /** Monitor: the time (µs) the hot-room machines are at; behind {@link now} while commands wait to be placed. */
  private hotT = 0;
  private sessions = 0;
  private lastDecoded: Record<string, unknown>[] | undefined;
  private readonly epochMs: number;

  constructor(
    readonly profile: GarouProfile,
    readonly mode: 'monitor' | 'server' = 'monitor',
    opts: GarouModelOptions = {},
  ) {
    this.table = garouObligations(profile);
    this.rooms = new Rooms(profile, { ...opts.rooms, ...(mode === 'monitor' ? { firstRoomId: PROVISIONAL_ROOM_ID } : {}) });
    this.epochMs = opts.epochMs ?? 0;
    const hotCfg = { ...profile, maxHotRooms: mode === 'server' ? profile.maxHotRooms : Number.MAX_SAFE_INTEGER };
    this.hot = new HotRooms(hotCfg);
    if (mode === 'monitor') {
      const tol = profile.rateTolerance;
      this.hotHigh = new HotRooms({ ...hotCfg, hotThreshold: profile.hotThreshold * (1 + tol), coldThreshold: profile.coldThreshold * (1 + tol) });
      // The lenient oracle: the earliest promotion and the earliest demotion a conforming server may make (GAROU-8.3, 8.7).
      this.hotLow = new HotRooms({ ...hotCfg, hotThreshold: profile.hotThreshold * (1 - tol), coldThreshold: Math.min(profile.coldThreshold * (1 + tol), profile.hotThreshold * (1 - tol) * 0.99) });
    }
  }

  // -------------------------------------------------------------------------
  // Shared

  private label(l: string): void {
    this.labels.add(l);
  }

  private violation(rule: string, index: number, t: number, expected: string, seen: string, severity: Severity = 'must', missing = false): Violation {
    return { rule, severity, index, t, expected, seen, state: this.describe(), missing };
  }

  private newConn(id: number, t: number): Conn {
    const sid = `s${++this.sessions}`;
    const session = new Session(this.profile, {
      startedAt: t / US_PER_MS,
      sessionId: sid,
      authenticate: (username) => {
        if (this.profile.duplicateLogin === 'reject' && [...this.conns.values()].some((c) => !c.closed && c.username === username && c.userId !== undefined)) {
          return { ok: false, reason: `user ${username} is already connected` };
        }
        return { ok: true, userId: username };
      },
    });
    return {
      id,
      session,
      closed: false,
      username: undefined,
      userId: undefined,
      c2s: new Map(),
      uploads: new Uploads(this.profile),
      cmdTimes: [],
      throttled: false,
      shard: [],
      hot: new Map(),
      nextUni: 3,
      s2c: new Map(),
      feed: undefined,
      armed: [],
      answers: [],
      uploadAnswers: [],
      pending: [],
      backlog: new Map(),
      owed: new Map(),
      violated: false,
      goodbyeSeen: false,
      promoted: new Set(),
      shardsSeen: new Set(),
      preAuthOk: [],
      raced: undefined,
    };
  }

  private armOn(c: Conn, trigger: GarouTrigger, t: number, subject: Subject): GArmed | undefined {
    let last: GArmed | undefined;
    for (const r of this.table.byTrigger(trigger)) {
      last = arm(r, trigger, t, subject);
      c.armed.push(last);
    }
    return last;
  }

  /** Open authenticated connections of a user, ascending. */
  private connsOf(userId: string): Conn[] {
    return [...(this.userConns.get(userId) ?? [])]
      .sort((a, b) => a - b)
      .map((id) => this.conns.get(id)!)
      .filter((c) => !c.closed && !c.violated);
  }

  input(ev: TraceEvent, index: number): Violation[] {
    return this.feed(ev, index);
  }

  feed(ev: TraceEvent, index: number): Violation[] {
    this.lastDecoded = undefined;
    const out = this.advance(ev.t);
    this.now = Math.max(this.now, ev.t);
    if (ev.type === 'note' || ev.type === 'impair' || ev.type === 'conn_fail') return out;
    if (ev.type === 'conn_open') {
      const c = this.newConn(ev.conn, ev.t);
      this.conns.set(ev.conn, c);
      this.label('state:await-hello');
      if (this.mode === 'monitor') this.armOn(c, 'conn-open', ev.t, { code: CLOSE_CODES.HANDSHAKE_TIMEOUT, rule: 'GAROU-4.5' });
      else if (this.authenticatedCount() >= this.profile.maxConnections) this.closeConn(c, ev.t, CLOSE_CODES.NO_ERROR, `GAROU-14.2 more than ${this.profile.maxConnections} connections`, 'GAROU-14.2');
      else this.armOn(c, 'conn-open', ev.t, { code: CLOSE_CODES.HANDSHAKE_TIMEOUT, rule: 'GAROU-4.5' });
      return out;
    }
    const c = this.conns.get(ev.conn);
    if (c === undefined) return out;
    if (ev.type === 'conn_close') {
      out.push(...this.connClosed(c, ev, index));
      // Nothing more is judged or done on a closed connection: forget it, so that state stays bounded over
      // many connections (a soak of 10,000 cases grew 25 MB per 1,000 cases and every event walked them all).
      this.conns.delete(c.id);
      return out;
    }
    if (c.closed) return out;
    const isServer = ev.type === 'dgram' ? ev.dir === 's2c' : ev.type === 'stream_open' ? ev.by === 'server' : 'dir' in ev && ev.dir === 's2c';
    if (ev.type === 'stream_reset' && ev.kind === 'stop_sending') return out; // Aborting our reading side is not the peer's data.
    if (isServer) {
      if (this.mode === 'server' || c.violated) return out;
      out.push(...this.serverEvent(c, ev, index));
      if (this.held()) this.drain(out);
      return out;
    }
    this.clientEvent(c, ev);
    return out;
  }

  private authenticatedCount(): number {
    let n = 0;
    for (const c of this.conns.values()) if (!c.closed && c.userId !== undefined) n++;
    return n;
  }

  // -------------------------------------------------------------------------
  // Client input (both modes): decides the server's effects.

  private clientEvent(c: Conn, ev: TraceEvent): void {
    const t = ev.t;
    switch (ev.type) {
      case 'stream_open':
        if (ev.dir === 'uni') this.decoderFor(c, ev.stream, 'uni');
        else if (ev.stream !== 0) this.sessionInput(c, t, { kind: 'bidi' });
        else this.decoderFor(c, 0, 'control');
        return;
      case 'data': {
        const uni = ev.stream % 4 === 2; // client-initiated unidirectional (RFC 9000 §2.1)
        if (!uni && ev.stream !== 0) {
          if (!c.c2s.has(ev.stream)) {
            this.sessionInput(c, t, { kind: 'bidi' });
            c.c2s.set(ev.stream, new StreamDecoder({ stream: 'control', dir: 'c2s' }));
          }
          return;
        }
        const d = this.decoderFor(c, ev.stream, uni ? 'uni' : 'control');
        const r = d.push(fromHex(ev.hex));
        this.lastDecoded = r.frames.map((f) => ({ frame: f.name, ...(f.payload as object) }));
        if (r.header && (r.header.kind === 'commands' || r.header.kind === 'acks' || r.header.kind === 'upload')) {
          if (this.racing(c)) c.raced ??= arm(this.table.byRule('GAROU-13.3'), 'violation', t, { code: CLOSE_CODES.PROTOCOL_VIOLATION, rule: 'GAROU-3.4' });
          this.sessionInput(c, t, { kind: 'uni', stream: r.header.kind });
        }
        for (const f of r.frames) {
          if (c.closed || c.violated) return;
          if (uni && this.racing(c)) c.preAuthOk.push({ carrier: d.carrier!, frame: f });
          else this.clientFrame(c, t, d.carrier!, f);
        }
        if (r.error && !c.closed && !c.violated) this.sessionInput(c, t, { kind: 'codec-error', error: r.error });
        return;
      }
      case 'stream_fin': {
        const d = c.c2s.get(ev.stream);
        const err = d?.finish();
        if (err) this.sessionInput(c, t, { kind: 'codec-error', error: err });
        else if (ev.stream === 0) this.sessionInput(c, t, { kind: 'control-fin' });
        return;
      }
      case 'stream_reset':
        // Not judged: a driver records resets when a connection closes under its streams.
        return;
      case 'dgram':
        this.clientDatagram(c, t, fromHex(ev.hex));
        return;
      default:
        return;
    }
  }

  /**
   * Monitor: the session took the client's Auth and AuthOk has not reached
   * the client. What it sends now on a unidirectional stream or in a
   * datagram races the handshake (GAROU-3.4, 11.2): the server reads the
   * control stream in order, the other streams and datagrams in any order,
   * so it may see them before it sent AuthOk (a stream: close 0x1, also
   * after a refused Auth; a datagram: dropped) or after it (as usual). The
   * server mode answers the Auth when it reads it, so reads them after.
   */
  private racing(c: Conn): boolean {
    return this.mode === 'monitor' && c.username !== undefined && c.userId === undefined;
  }

  /** Monitor: AuthOk came: what the client sent since its Auth is judged as sent now, after it. */
  private replayPreAuthOk(c: Conn, t: number): void {
    for (const p of c.preAuthOk.splice(0)) {
      if (c.closed || c.violated) return;
      if ('dgram' in p) this.relay(c, t, p.dgram, true);
      else this.clientFrame(c, t, p.carrier, p.frame);
    }
  }

  private decoderFor(c: Conn, stream: number, kind: 'control' | 'uni'): StreamDecoder {
    let d = c.c2s.get(stream);
    if (!d) {
      d = new StreamDecoder({ stream: kind, dir: 'c2s', maxFrameBytes: this.profile.maxFrameBytes, validate: false });
      c.c2s.set(stream, d);
    }
    return d;
  }

  /** One whole client frame, not yet checked against its schema (GAROU-2.5). */
  private clientFrame(c: Conn, t: number, carrier: Carrier, f: DecodedFrame): void {
    const problems = validatePayload(f.name, f.payload);
    if (problems.length > 0) {
      const err = new SchemaError(`${carrier} (c2s)`, f.offset + 5, f.name, problems, f.payload);
      const cmdId = carrier === 'commands' ? err.cmdId : undefined;
      const uploadId = carrier === 'upload' ? err.uploadId : undefined;
      if (this.profile.badPayload === 'error' && c.session.state === 'authenticated' && (cmdId !== undefined || uploadId !== undefined)) {
        const frame: Extract<Frame, { name: 'Error' }> = { name: 'Error', payload: { ...(cmdId !== undefined ? { cmd_id: cmdId } : { upload_id: uploadId! }), code: ERROR_CODES.BAD_REQUEST, message: `GAROU-2.5 ${problems.join('; ').slice(0, 150)}` } };
        this.answer(c, t, cmdId !== undefined ? 'command' : 'upload', frame);
        return;
      }
      this.sessionInput(c, t, { kind: 'codec-error', error: err });
      return;
    }
    if (carrier === 'control') {
      const frame = f as Frame;
      if (frame.name === 'Goodbye' && c.session.state === 'authenticated') this.label('transition:goodbye');
      if (frame.name === 'Ping' && c.session.state !== 'await-hello') this.label('transition:ping');
      this.sessionInput(c, t, { kind: 'frame', frame });
      return;
    }
    if (carrier === 'commands') return this.command(c, t, f as CommandFrame);
    if (carrier === 'acks') return; // GAROU-9.1: no answer.
    if (carrier === 'upload') return this.upload(c, t, f as UploadFrame);
  }

  private sessionInput(c: Conn, t: number, i: Parameters<Session['input']>[0]): void {
    const before = c.session.state;
    const acts = c.session.input(i);
    if (i.kind === 'frame' && i.frame.name === 'Hello' && c.session.state === 'await-auth') this.label('transition:hello');
    if (i.kind === 'frame' && i.frame.name === 'Auth' && before === 'await-auth') {
      c.username = i.frame.payload.username;
      this.label(c.session.state === 'authenticated' ? 'transition:auth-ok' : 'transition:auth-failed');
    }
    this.sessionActions(c, t, acts);
  }

  private sessionActions(c: Conn, t: number, acts: readonly SessionAction[]): void {
    if (this.mode === 'server' && acts.some((a) => a.kind === 'open-shards')) {
      this.sessionActionsIn(c, t, acts);
      this.rejoin(c, t);
      return;
    }
    this.sessionActionsIn(c, t, acts);
  }

  /**
   * Profile `membershipOnDisconnect` `keep`: a new connection of a user who
   * stayed a member gets RoomInit of each of its rooms after ShardAssignment
   * (GAROU-6.3); served (server mode) or owed (monitor, from the AuthOk seen).
   */
  private rejoin(c: Conn, t: number): void {
    if (this.profile.membershipOnDisconnect !== 'keep' || c.userId === undefined) return;
    for (const id of this.rooms.roomsOf(c.userId)) {
      const frame = this.rooms.roomInit(id);
      if (this.mode === 'server') {
        const { stream, carrier } = this.roomStream(c, id);
        this.out.push({ kind: 'frame', conn: c.id, stream, carrier, frame });
      } else {
        const a = arm(this.table.byRule('GAROU-7.4'), 'init', t, { frame, roomId: id, seq: frame.payload.seq });
        c.owed.set(`${id}:init`, a);
      }
    }
  }

  private sessionActionsIn(c: Conn, t: number, acts: readonly SessionAction[]): void {
    for (const a of acts) {
      if (a.kind === 'close') {
        const rule = /^GAROU-[0-9.]+/.exec(a.reason)?.[0] ?? 'GAROU-13.3';
        this.closeConn(c, t, a.code, a.reason, rule);
      } else if (a.kind === 'open-shards') {
        this.openShards(c, t);
      } else {
        this.control(c, t, a.frame);
      }
    }
  }

  /** A frame the server owes (or sends) on the control stream: handshake answers, Pong. */
  private control(c: Conn, t: number, frame: Frame): void {
    if (this.mode === 'server') {
      if (frame.name === 'AuthOk') {
        c.userId = frame.payload.user_id;
        this.authenticated(c);
        c.armed = c.armed.filter((a) => a.trigger !== 'conn-open');
      }
      this.out.push({ kind: 'frame', conn: c.id, stream: 0, carrier: 'control', frame });
      return;
    }
    const trigger: GarouTrigger = frame.name === 'HelloAck' ? 'hello' : frame.name === 'AuthOk' || frame.name === 'AuthFailed' ? 'auth' : frame.name === 'Pong' ? 'ping' : frame.name === 'ShardAssignment' ? 'auth-ok' : 'hello';
    this.armOn(c, trigger, t, { frame });
  }

  /** Server mode: the user is authenticated (AuthOk sent). */
  private authenticated(c: Conn): void {
    const set = this.userConns.get(c.userId!) ?? new Set();
    set.add(c.id);
    this.userConns.set(c.userId!, set);
    if (!this.rooms.connected(c.userId!)) this.rooms.connect(c.userId!, c.username ?? c.userId!);
    c.feed = new RoomFeed(c.userId!, this.profile.numShards);
  }

  private openShards(c: Conn, t: number): void {
    // Monitor: the shard streams are owed from the AuthOk seen (serverControl); ShardAssignment is a control frame.
    if (this.mode === 'server' && this.profile.shardStreamOpen === 'eager') for (let i = 0; i < this.profile.numShards; i++) this.shardStream(c, i);
    void t;
  }

  /** Server mode: the shard stream of index `i`, opened (header written) on first use. */
  shardStream(c: Conn | number, i: number): number {
    const conn = typeof c === 'number' ? this.conns.get(c)! : c;
    let id = conn.shard[i];
    if (id === undefined) {
      id = conn.nextUni;
      conn.nextUni += 4;
      conn.shard[i] = id;
      this.out.push({ kind: 'header', conn: conn.id, stream: id, header: { kind: 'shard', shard: i } });
    }
    return id;
  }

  /** Server mode: the stream a room's frames take on a connection (GAROU-3.6, 8.2, 8.6). */
  private roomStream(c: Conn, roomId: number): { stream: number; carrier: 'shard' | 'hot' } {
    if (this.hot.isHot(roomId)) return { stream: this.ensureHot(c, roomId), carrier: 'hot' };
    return { stream: this.shardStream(c, roomId % this.profile.numShards), carrier: 'shard' };
  }

  /** Server mode: RoomPromoted and the hot-room stream for `roomId` on `c`, once. */
  private ensureHot(c: Conn, roomId: number): number {
    let id = c.hot.get(roomId);
    if (id === undefined) {
      id = c.nextUni;
      c.nextUni += 4;
      c.hot.set(roomId, id);
      this.out.push({ kind: 'frame', conn: c.id, stream: 0, carrier: 'control', frame: { name: 'RoomPromoted', payload: { room_id: roomId } } });
      this.out.push({ kind: 'header', conn: c.id, stream: id, header: { kind: 'hot', roomId } });
    }
    return id;
  }

  private closeConn(c: Conn, t: number, code: number, reason: string, rule: string): void {
    this.label('transition:close-owed');
    if (code === CLOSE_CODES.HANDSHAKE_TIMEOUT) this.label('transition:handshake-timeout');
    if (this.mode === 'server') {
      this.out.push({ kind: 'close', conn: c.id, code, reason, rule });
      this.dropConn(c, t);
      return;
    }
    // Monitor: only the close is owed now (the client broke a rule, or said Goodbye). The server had read the commands before.
    this.placeAll(c);
    c.backlog.clear();
    c.violated = true;
    c.armed = [];
    c.answers.length = 0;
    c.uploadAnswers.length = 0;
    c.owed.clear();
    c.preAuthOk.length = 0;
    this.armOn(c, code === CLOSE_CODES.NO_ERROR && rule === 'GAROU-13.4' ? 'goodbye' : 'violation', t, { code, rule, reason });
    this.leaveRooms(c, t);
  }

  /** A connection ended (either mode): the user's last connection leaves its rooms (GAROU-6.3). */
  private dropConn(c: Conn, t: number): void {
    if (c.closed) return;
    c.closed = true;
    c.armed = [];
    this.leaveRooms(c, t);
  }

  /**
   * The connection no longer counts as the user's (closed, or a close is
   * owed: a conforming server drops it at once); the user's last connection
   * leaves its rooms (GAROU-6.3).
   */
  private leaveRooms(c: Conn, t: number): void {
    const uid = c.userId;
    if (uid === undefined) return;
    const set = this.userConns.get(uid);
    if (!set?.has(c.id)) return;
    set.delete(c.id);
    if (set && set.size === 0) {
      this.userConns.delete(uid);
      const leave = this.profile.membershipOnDisconnect === 'leave';
      const deliveries = this.rooms.disconnect(uid, leave);
      this.deliver(t, deliveries);
      if (leave) this.forgetClosedRooms();
    }
  }

  // Commands (GAROU-5, 6, 7)

  private rateLimited(c: Conn, t: number): boolean {
    const limit = this.profile.commandRateLimit;
    if (limit <= 0) return false;
    const ms = t / US_PER_MS;
    c.cmdTimes = c.cmdTimes.filter((x) => x > ms - 1000);
    if (c.cmdTimes.length >= limit) {
      if (!c.throttled) {
        c.throttled = true;
        if (this.mode === 'server') this.out.push({ kind: 'frame', conn: c.id, stream: 0, carrier: 'control', frame: { name: 'Throttle', payload: { retry_after_ms: Math.max(1, Math.ceil(c.cmdTimes[0]! + 1000 - ms)) } } });
      }
      return true;
    }
    c.throttled = false;
    c.cmdTimes.push(ms);
    return false;
  }

  private command(c: Conn, t: number, cmd: CommandFrame): void {
    if (c.userId === undefined) return;
    const limited = this.rateLimited(c, t);
    if (this.mode === 'server') {
      this.apply(c, cmd, t, limited, t, (answer) => this.answer(c, t, 'command', answer));
      return;
    }
    // Monitor: the answer is owed from now; where the server put the command among other connections' is seen later.
    const armed = this.armOn(c, 'command', t, {})!;
    const owed: OwedAnswer = { armed, frame: undefined, pending: undefined };
    const p: PendingCommand = { cmd, t, limited, owed };
    owed.pending = p;
    c.answers.push(owed);
    c.pending.push(p);
  }

  /**
   * Applies a command to the rooms (GAROU-5, 6, 7): its events are owed (or
   * sent) from `t`, the time it was sent; `rateT` (µs, never before the
   * last one) is when it counts toward its room's rate (GAROU-8.1);
   * `answered` runs before the events go out (the answer first, GAROU-5.2).
   */
  private apply(c: Conn, cmd: CommandFrame, t: number, limited: boolean, rateT: number, answered?: (answer: Outcome['answer']) => void): Outcome {
    const outcome = this.rooms.command(c.userId!, cmd, this.epochMs + Math.floor(t / US_PER_MS), limited);
    this.label(outcome.answer.name === 'MessageAck' ? 'transition:command-ok' : 'transition:command-refused');
    answered?.(outcome.answer);
    this.deliver(t, outcome.deliveries, rateT);
    if (cmd.name === 'LeaveRoom') this.forgetClosedRooms();
    return outcome;
  }

  /**
   * Monitor: places `c`'s pending commands up to and including `p` (a
   * connection's commands are applied in the order sent, GAROU-5.2) after
   * every command placed so far: the server's order, as its output showed it.
   */
  private place(c: Conn, p: PendingCommand): void {
    while (c.pending.length > 0) {
      const q = c.pending.shift()!;
      if (c.userId !== undefined && this.rooms.connected(c.userId)) {
        q.owed.frame = this.apply(c, q.cmd, q.t, q.limited, q.t).answer;
      }
      q.owed.pending = undefined;
      if (q === p) return;
    }
  }

  /** Monitor: places every pending command of `c`, in the order sent (a deadline passed, or the connection ends). */
  private placeAll(c: Conn): void {
    const last = c.pending[c.pending.length - 1];
    if (last) this.place(c, last);
  }

  /** The room a pending command is about (undefined for CreateRoom). */
  private static roomOf(p: PendingCommand): number | undefined {
    return p.cmd.name === 'CreateRoom' ? undefined : p.cmd.payload.room_id;
  }

  /**
   * Monitor: the commands that can take room `roomId`'s next seq: the first
   * pending command about the room of each open connection, sent by
   * `before` (µs: a command sent later cannot explain what the server did
   * before). `upTo` (a connection's command placed next) excludes itself
   * and later ones of its connection.
   */
  private nextInRoom(roomId: number, before: number, upTo?: { c: Conn; p: PendingCommand }): { c: Conn; p: PendingCommand }[] {
    const out: { c: Conn; p: PendingCommand }[] = [];
    for (const c of this.conns.values()) {
      if (c.closed) continue;
      const p = c.pending.find((q) => GarouModel.roomOf(q) === roomId || q === upTo?.p);
      if (p && p !== upTo?.p && GarouModel.roomOf(p) === roomId && p.t <= before) out.push({ c, p });
    }
    return out;
  }

  /**
   * Monitor: places commands until room `roomId` reached `seq`, as long as
   * only one connection can have taken each next seq (`upTo`: the command
   * the caller places next, and its connection's later ones, are not
   * candidates). False when several could (wait for more of the server's
   * output) or none can.
   */
  private fill(roomId: number, seq: number, before: number, upTo?: { c: Conn; p: PendingCommand }): boolean {
    for (;;) {
      const cur = this.rooms.seq(roomId);
      if (cur === undefined || cur >= seq) return true;
      const cands = this.nextInRoom(roomId, before, upTo);
      if (cands.length !== 1) return false;
      this.place(cands[0]!.c, cands[0]!.p);
      if (this.rooms.seq(roomId) === cur) return false;
    }
  }

  /** Could pending command `p` of `c` have caused room event `f` (its content, not its seq)? */
  private static causes(c: Conn, p: PendingCommand, f: Frame): boolean {
    const e = f.payload as Record<string, unknown>;
    const q = p.cmd.payload as Record<string, unknown>;
    const same = (...keys: string[]): boolean => keys.every((k) => e[k] === q[k]);
    const mine = e['user_id'] === c.userId;
    switch (p.cmd.name) {
      case 'SendMessage':
        return f.name === 'RoomMessage' && mine && same('room_id', 'body');
      case 'EditMessage':
        return f.name === 'RoomMessageEdited' && same('room_id', 'message_id', 'body');
      case 'DeleteMessage':
        return f.name === 'RoomMessageDeleted' && same('room_id', 'message_id');
      case 'AddReaction':
        return f.name === 'RoomReactionAdded' && mine && same('room_id', 'message_id', 'emoji');
      case 'RemoveReaction':
        return f.name === 'RoomReactionRemoved' && mine && same('room_id', 'message_id', 'emoji');
      case 'JoinRoom':
        return (f.name === 'RoomUserJoined' && mine && same('room_id')) || (f.name === 'RoomInit' && same('room_id'));
      case 'LeaveRoom':
        return f.name === 'RoomUserLeft' && mine && same('room_id');
      case 'CreateRoom':
        return f.name === 'RoomInit' && same('name', 'room_type') && (f.payload.members as { user_id: string; role: string }[]).some((m) => m.user_id === c.userId && m.role === 'owner');
    }
  }

  /**
   * Monitor: can server frame `h` on `c` be judged now? Places the commands
   * it shows placed (its answer; the command that caused a room event, after
   * those before it in the room's seq). False when the order is not known
   * yet; with `force` (its deadline passed) it places what it can and says
   * yes: the frame is then judged against the order seen.
   */
  private ready(c: Conn, h: HeldFrame, force: boolean): boolean {
    const f = h.frame;
    if (h.room === undefined) {
      if (f.name === 'RoomPromoted') {
        // A promotion the rate seen does not justify yet may be justified by commands the server applied that the trace does not place yet (GAROU-8.7).
        const r = f.payload.room_id;
        if (force || this.serverHot.has(r) || this.lowEverHot.has(r) || this.hotLow!.isHot(r)) return true;
        return !this.nextInRoom(r, h.t).length;
      }
      if (f.name !== 'MessageAck' && !(f.name === 'Error' && f.payload.cmd_id !== undefined)) return true;
      const p = c.answers[0]?.pending;
      if (!p) return true;
      if (f.name === 'MessageAck' && f.payload.cmd_id === p.cmd.payload.cmd_id && f.payload.seq !== undefined && f.payload.room_id !== undefined && p.cmd.name !== 'CreateRoom') {
        // Others' commands took the seqs below this one's (GAROU-7.1).
        if (!this.fill(f.payload.room_id, f.payload.seq - 1, h.t, { c, p }) && !force) return false;
      }
      if (f.name === 'Error' && !force && f.payload.cmd_id === p.cmd.payload.cmd_id && c.userId !== undefined && this.rooms.connected(c.userId)) {
        // A refusal the rooms as placed so far do not explain may be caused by another connection's command the trace has not placed yet: wait for it.
        const room = GarouModel.roomOf(p);
        if (room !== undefined && this.rooms.refusalCode(c.userId, p.cmd, p.limited) !== f.payload.code && this.nextInRoom(room, h.t, { c, p }).length > 0) return false;
      }
      this.place(c, p);
      return true;
    }
    const e = f.payload as { room_id: number; seq: number };
    if (c.owed.has(f.name === 'RoomInit' ? `${e.room_id}:init` : `${e.room_id}:${e.seq}`)) return true;
    const known = this.rooms.has(e.room_id);
    if (f.name === 'RoomInit' && !known) {
      // A new room: the CreateRoom that made it (GAROU-6.2).
      const made = [...this.conns.values()].flatMap((x) => (x.closed ? [] : x.pending.filter((q) => q.cmd.name === 'CreateRoom' && q.t <= h.t && GarouModel.causes(x, q, f)).map((q) => ({ c: x, p: q }))));
      made.sort((a, b) => a.p.t - b.p.t);
      if (made[0]) this.place(made[0].c, made[0].p);
      return true;
    }
    const cur = this.rooms.seq(e.room_id);
    // The seq the command that caused this frame took: RoomInit's is the join's (or the one before it, profile joinerGetsOwnJoin).
    const seq = f.name === 'RoomInit' ? e.seq + (this.profile.joinerGetsOwnJoin ? 1 : 0) : e.seq;
    if (cur === undefined || seq <= cur) return true;
    // The command that caused it: of each connection, the first pending one that could (its earlier ones come first).
    const cands = [...this.conns.values()].flatMap((x) => {
      if (x.closed || (f.name === 'RoomInit' && x.userId !== c.userId)) return [];
      const p = x.pending.find((q) => q.t <= h.t && GarouModel.roomOf(q) === e.room_id && GarouModel.causes(x, q, f));
      return p ? [{ c: x, p }] : [];
    });
    if (cands.length === 0) return true;
    cands.sort((a, b) => a.p.t - b.p.t);
    const by = cands[0]!;
    if (!this.fill(e.room_id, seq - 1, h.t, by) && !force) return false;
    this.place(by.c, by.p);
    return true;
  }

  /** Monitor: a server frame on a control or room stream, judged now or held behind earlier ones of its stream. */
  private offer(c: Conn, h: HeldFrame, out: Violation[]): void {
    const q = c.backlog.get(h.stream);
    if (q) {
      q.push(h);
      return;
    }
    if (!this.ready(c, h, false)) {
      c.backlog.set(h.stream, [h]);
      return;
    }
    this.judgeFrame(c, h, out);
  }

  private judgeFrame(c: Conn, h: HeldFrame, out: Violation[]): void {
    const v = (rule: string, expected: string, seen: string, severity: Severity = 'must'): void => void out.push(this.violation(rule, h.index, h.t, expected, seen, severity));
    if (h.room === undefined) this.serverControl(c, h.t, h.frame, v);
    else this.serverRoomFrame(c, h.t, h.room, h.frame, v);
  }

  /**
   * Monitor: judges the held frames that can be now; with `forceUpTo` (µs)
   * also those that arrived by then, against the order seen.
   */
  private drain(out: Violation[], forceUpTo?: number): void {
    for (let progress = true; progress; ) {
      progress = false;
      for (const c of this.conns.values()) {
        for (const [stream, q] of c.backlog) {
          while (q.length > 0 && !c.closed && !c.violated) {
            const h = q[0]!;
            if (!this.ready(c, h, forceUpTo !== undefined && h.t <= forceUpTo)) break;
            q.shift();
            this.judgeFrame(c, h, out);
            progress = true;
          }
          if (q.length === 0 || c.closed || c.violated) c.backlog.delete(stream);
        }
      }
    }
  }

  private held(): boolean {
    for (const c of this.conns.values()) if (c.backlog.size > 0) return true;
    return false;
  }

  private upload(c: Conn, t: number, f: UploadFrame): void {
    if (c.userId === undefined) return;
    const uid = c.userId;
    const o = c.uploads.frame(f, (roomId) => this.rooms.postRefusal(uid, roomId));
    this.label('transition:upload-ack');
    this.answer(c, t, 'upload', o.answer);
    if (o.finished && this.profile.uploadAnnounce === 'message') {
      const post = this.rooms.command(uid, { name: 'SendMessage', payload: { cmd_id: 0, room_id: o.finished.roomId, body: `uploaded ${o.finished.name} (${o.finished.size} bytes)` } }, this.epochMs + Math.floor(t / US_PER_MS));
      this.deliver(t, post.deliveries);
    }
  }

  private answer(c: Conn, t: number, queue: 'command' | 'upload', frame: Extract<Frame, { name: 'MessageAck' | 'Error' | 'UploadAck' }>): void {
    if (this.mode === 'server') {
      this.out.push({ kind: 'frame', conn: c.id, stream: 0, carrier: 'control', frame });
      return;
    }
    const armed = this.armOn(c, queue, t, { frame })!;
    (queue === 'command' ? c.answers : c.uploadAnswers).push({ armed, frame, pending: undefined });
  }

  /** Room frames to their recipients' connections; counted events drive the hot-room state (GAROU-7.2, 8). */
  private deliver(t: number, deliveries: readonly Delivery[], rateT = t): void {
    // The hot-room machines' time never goes back: a command placed late counts when sent, or when they last were.
    this.hotT = Math.max(this.hotT, rateT);
    const ms = this.hotT / US_PER_MS;
    // A closed room no longer counts toward the hot-room cap (GAROU-8.4); rooms close only by a leave.
    if (deliveries.some((d) => d.frame.name === 'RoomUserLeft' || d.frame.name === 'RoomClose')) this.forgetClosedRooms();
    for (const d of deliveries) {
      this.label(d.frame.name === 'RoomInit' ? 'transition:room-init' : 'transition:room-event');
      for (const u of d.to) {
        for (const c of this.connsOf(u)) {
          if (this.mode === 'server') {
            const { stream, carrier } = this.roomStream(c, d.roomId);
            this.out.push({ kind: 'frame', conn: c.id, stream, carrier, frame: d.frame });
          } else {
            const seq = (d.frame.payload as { seq: number }).seq;
            const key = d.frame.name === 'RoomInit' ? `${d.roomId}:init` : `${d.roomId}:${seq}`;
            const a = this.armOn(c, d.frame.name === 'RoomInit' ? 'init' : 'event', t, { frame: d.frame, roomId: d.roomId, seq })!;
            c.armed = c.armed.filter((x) => x !== a);
            c.owed.set(key, a);
          }
        }
      }
      // A leaver not sent its own RoomUserLeft: its connections' feeds expect nothing of the room from this seq on.
      if (this.mode === 'monitor' && d.frame.name === 'RoomUserLeft' && !d.to.includes(d.frame.payload.user_id)) {
        for (const c of this.connsOf(d.frame.payload.user_id)) c.feed?.leave(d.roomId, d.frame.payload.seq);
      }
      // A leaver's hot-room stream ends after its last event (GAROU-8.6); a closed room's too.
      if (this.mode === 'server' && (d.frame.name === 'RoomUserLeft' || d.frame.name === 'RoomClose')) {
        const gone = d.frame.name === 'RoomClose' ? d.to : [d.frame.payload.user_id];
        for (const u of gone) for (const c of this.connsOf(u)) this.endHot(c, d.roomId);
      }
      if (d.frame.name !== 'RoomInit' && countsTowardRate(d.frame.name, this.profile.rateCounts)) this.hotTransitions(t, this.hot.event(d.roomId, ms));
      if (this.hotHigh && d.frame.name !== 'RoomInit' && countsTowardRate(d.frame.name, this.profile.rateCounts)) {
        for (const tr of this.hotHigh.event(d.roomId, ms)) this.highTransition(tr);
        for (const tr of this.hotLow!.event(d.roomId, ms)) if (tr.kind === 'promote') this.lowEverHot.add(tr.roomId);
      }
    }
  }

  /** Closed rooms leave the hot-room machines (and the monitor's view of the server's hot rooms). */
  private forgetClosedRooms(): void {
    for (const h of [this.hot, this.hotHigh, this.hotLow]) for (const id of h?.hotRooms() ?? []) if (!this.rooms.has(id)) h!.forget(id);
    for (const id of [...this.serverHot]) {
      if (this.rooms.has(id)) continue;
      this.serverHot.delete(id);
      this.earlyJudged.delete(id);
    }
  }

  private endHot(c: Conn, roomId: number): void {
    const id = c.hot.get(roomId);
    if (id === undefined) return;
    c.hot.delete(roomId);
    this.out.push({ kind: 'fin', conn: c.id, stream: id });
  }

  /** Hot-room transitions of the exact machine: server mode performs them; the monitor owes demotions of rooms the server promoted. */
  private hotTransitions(t: number, trs: readonly Transition[]): void {
    for (const tr of trs) {
      this.label(tr.kind === 'promote' ? 'transition:promote' : 'transition:demote');
      const members = [...(this.rooms.members(tr.roomId)?.keys() ?? [])].sort();
      if (this.mode === 'server') {
        for (const u of members) {
          for (const c of this.connsOf(u)) {
            if (tr.kind === 'promote') this.ensureHot(c, tr.roomId);
            else if (c.hot.has(tr.roomId)) {
              this.out.push({ kind: 'frame', conn: c.id, stream: 0, carrier: 'control', frame: { name: 'RoomDemoted', payload: { room_id: tr.roomId } } });
              this.endHot(c, tr.roomId);
            }
          }
        }
        continue;
      }
      if (tr.kind === 'demote' && this.serverHot.has(tr.roomId)) {
        for (const u of members) for (const c of this.connsOf(u)) if (c.promoted.has(tr.roomId)) this.armOn(c, 'demote', tr.at * US_PER_MS, { roomId: tr.roomId, frame: { name: 'RoomDemoted', payload: { room_id: tr.roomId } } });
      }
    }
    void t;
  }

  /** Monitor: the high oracle promoted a room: every member connection is owed RoomPromoted, unless the cap is reached (GAROU-8.2, 8.7). */
  private highTransition(tr: Transition): void {
    if (tr.kind !== 'promote' || this.serverHot.has(tr.roomId) || this.serverHot.size >= this.profile.maxHotRooms) return;
    for (const u of [...(this.rooms.members(tr.roomId)?.keys() ?? [])].sort()) {
      for (const c of this.connsOf(u)) this.armOn(c, 'promote', tr.at * US_PER_MS, { roomId: tr.roomId, frame: { name: 'RoomPromoted', payload: { room_id: tr.roomId } } });
    }
  }

  // Datagrams (GAROU-11)

  private clientDatagram(c: Conn, t: number, bytes: Uint8Array): void {
    let f: DecodedFrame;
    try {
      f = decodeDatagram(bytes, 'c2s', { maxFrameBytes: this.profile.maxFrameBytes });
    } catch (err) {
      if (!(err instanceof GarouCodecError)) throw err;
      if (this.profile.badDatagram === 'close' && c.session.state !== 'closed') this.sessionInput(c, t, { kind: 'codec-error', error: err });
      return;
    }
    if (this.racing(c)) {
      if (!c.violated) c.preAuthOk.push({ dgram: f });
      return;
    }
    if (c.userId === undefined) return;
    this.relay(c, t, f, false, bytes);
  }

  /**
   * A well-formed datagram of an authenticated client to the connections it
   * goes to (GAROU-11.3): relayed (server mode) or owed; with `may`, only
   * allowed (a datagram that raced the AuthOk, GAROU-11.2).
   */
  private relay(c: Conn, t: number, f: DecodedFrame, may: boolean, bytes?: Uint8Array): void {
    const to = this.rooms.datagramRecipients(c.userId!, f as Parameters<Rooms['datagramRecipients']>[1]);
    if (to.length > 0) this.label('transition:relay');
    for (const u of to) {
      for (const d of this.connsOf(u)) {
        if (this.mode === 'server') this.out.push({ kind: 'dgram', conn: d.id, bytes: bytes!, from: c.id });
        else this.armOn(d, 'relay', t, { frame: f as Frame, ...(may ? { may: true as const } : {}) });
      }
    }
  }

  // -------------------------------------------------------------------------
  // Server mode

  due(t: number): ServerAction[] {
    return this.dueItems(t).map(encodeOut);
  }

  /** Server mode: what the server does by `t` (µs), before encoding (faults rewrite these). */
  dueItems(t: number): OutItem[] {
    this.now = Math.max(this.now, t);
    this.hotTransitions(t, this.hot.advance(t / US_PER_MS));
    for (const c of this.conns.values()) {
      if (c.closed) continue;
      for (const a of dueBy(c.armed, t)) {
        if (a.trigger === 'conn-open') this.sessionActions(c, t, c.session.tick(t / US_PER_MS));
      }
    }
    const out = this.out;
    this.out = [];
    return out;
  }

  nextDue(): number | undefined {
    const hot = this.hot.nextDue();
    return earliest([
      ...[...this.conns.values()].map((c) => (c.closed ? undefined : nextDueOf(c.armed, this.now))),
      this.out.length > 0 ? this.now : undefined,
      hot === undefined ? undefined : Math.max(this.now, Math.ceil(hot * US_PER_MS)),
    ]);
  }

  /**
   * Server mode: the server shuts down at `t` (µs, GAROU-13.5): Goodbye
   * `{reason}` on the control stream of every open connection whose client
   * opened it, then its close `0x5 SERVER_SHUTDOWN`. No room event follows
   * (nobody stays to get one). Returns nothing: the items are due at once.
   */
  shutdown(t: number, reason = 'server shutting down'): void {
    this.now = Math.max(this.now, t);
    for (const c of this.conns.values()) {
      if (c.closed) continue;
      if (c.c2s.has(0)) this.out.push({ kind: 'frame', conn: c.id, stream: 0, carrier: 'control', frame: { name: 'Goodbye', payload: { reason } } });
      this.out.push({ kind: 'close', conn: c.id, code: CLOSE_CODES.SERVER_SHUTDOWN, reason: `GAROU-13.5 ${reason}`, rule: 'GAROU-13.5' });
      c.closed = true;
      c.armed = [];
    }
  }

  /** Server mode: the stream ids of a connection's shard streams (for faults). */
  shardStreamOf(conn: number, shard: number): number | undefined {
    const c = this.conns.get(conn);
    return c && !c.closed ? this.shardStream(c, shard) : undefined;
  }

  /**
   * Number of connections whose state the model keeps: open ones, and ones
   * closed (or owing their close) whose `conn_close` was not fed yet.
   * Bounded by the connections in flight, whatever the number served.
   */
  trackedConnections(): number {
    return this.conns.size;
  }

  /** The user id of a connection, once authenticated. */
  userOf(conn: number): string | undefined {
    return this.conns.get(conn)?.userId;
  }

  // -------------------------------------------------------------------------
  // Monitor mode: the server's output judged.

  private serverEvent(c: Conn, ev: TraceEvent, index: number): Violation[] {
    const out: Violation[] = [];
    const v = (rule: string, expected: string, seen: string, severity: Severity = 'must'): void => void out.push(this.violation(rule, index, ev.t, expected, seen, severity));
    switch (ev.type) {
      case 'stream_open':
        if (ev.dir !== 'uni') v('GAROU-3.1', 'no server-opened bidirectional stream', `server opened bidirectional stream ${ev.stream}`);
        return out;
      case 'data': {
        if (ev.stream % 4 === 1) {
          v('GAROU-3.1', 'no server-opened bidirectional stream', `data on server bidirectional stream ${ev.stream}`);
          return out;
        }
        let d = c.s2c.get(ev.stream);
        if (!d) {
          d = new StreamDecoder({ stream: ev.stream === 0 ? 'control' : 'uni', dir: 's2c', maxFrameBytes: this.profile.maxFrameBytes });
          c.s2c.set(ev.stream, d);
        }
        const r = d.push(fromHex(ev.hex));
        this.lastDecoded = r.frames.map((f) => ({ frame: f.name, ...(f.payload as object) }));
        if (r.header) this.serverHeader(c, ev.stream, r.header, v);
        for (const f of r.frames) {
          const room = d.carrier === 'shard' || d.carrier === 'hot' ? { ...(d.header as Extract<StreamHeader, { kind: 'shard' | 'hot' }>), id: `stream ${ev.stream}` } : undefined;
          if (d.carrier === 'control' || room) this.offer(c, { t: ev.t, index, stream: ev.stream, frame: f as Frame, room }, out);
        }
        if (r.error) v(r.error.rule, 'well-formed frames from the server', r.error.message);
        return out;
      }
      case 'stream_fin':
        if (ev.stream === 0) v('GAROU-3.7', 'the control stream open for the connection\'s life', 'server FIN on the control stream');
        return out;
      case 'dgram': {
        let f: DecodedFrame;
        try {
          f = decodeDatagram(fromHex(ev.hex), 's2c', { maxFrameBytes: this.profile.maxFrameBytes });
        } catch (err) {
          v(err instanceof GarouCodecError ? err.rule : 'GAROU-11.1', 'a well-formed datagram', err instanceof Error ? err.message : String(err));
          return out;
        }
        const owed = c.armed.find((a) => a.trigger === 'relay' && a.subject.frame && isDeepStrictEqual(a.subject.frame.payload, f.payload) && a.subject.frame.name === f.name);
        if (!owed) v('GAROU-11.3', 'datagrams relayed only to the room\'s other members or users sharing a room', `${short(f as Frame)} to ${c.userId ?? `conn ${c.id}`}`);
        else c.armed = c.armed.filter((a) => a !== owed);
        return out;
      }
      default:
        return out;
    }
  }

  private serverHeader(c: Conn, stream: number, h: StreamHeader, v: (rule: string, expected: string, seen: string, severity?: Severity) => void): void {
    if (h.kind === 'shard') {
      if (h.shard >= this.profile.numShards) v('GAROU-3.5', `shard index below ${this.profile.numShards}`, `shard stream ${stream} with index ${h.shard}`);
      else if (c.shardsSeen.has(h.shard)) v('GAROU-3.5', 'one shard stream per index', `a second shard stream with index ${h.shard} (stream ${stream})`);
      c.shardsSeen.add(h.shard);
      // No check against AuthOk: QUIC orders no two streams, a shard header may overtake the control stream.
      this.settleShards(c);
    }
  }

  /** The eager shard streams and ShardAssignment owed after AuthOk are met once every index was opened (GAROU-3.5). */
  private settleShards(c: Conn): void {
    if (this.profile.shardStreamOpen === 'lazy' || c.shardsSeen.size >= this.profile.numShards) {
      c.armed = c.armed.filter((a) => !(a.trigger === 'auth-ok' && a.subject.frame === undefined));
    }
  }

  private serverControl(c: Conn, t: number, f: Frame, v: (rule: string, expected: string, seen: string, severity?: Severity) => void): void {
    const take = (trigger: GarouTrigger, pred: (a: GArmed) => boolean): GArmed | undefined => {
      const a = c.armed.find((x) => x.trigger === trigger && pred(x));
      if (a) {
        c.armed = c.armed.filter((x) => x !== a);
        const j = judge(a, t);
        if (j) v(j.rule, a.record.summary, `${j.when}: after ${((t - a.since) / US_PER_MS).toFixed(1)} ms`, j.severity);
      }
      return a;
    };
    switch (f.name) {
      case 'HelloAck': {
        const a = take('hello', (x) => x.subject.frame?.name === 'HelloAck');
        if (!a) v('GAROU-4.1', 'HelloAck only in answer to Hello', short(f));
        else if (f.payload.version !== this.profile.protocolVersion) v('GAROU-4.2', `HelloAck version ${this.profile.protocolVersion}`, short(f));
        return;
      }
      case 'AuthOk': {
        const a = take('auth', (x) => x.subject.frame?.name === 'AuthOk');
        if (!a) {
          v('GAROU-4.4', c.armed.some((x) => x.subject.frame?.name === 'AuthFailed') ? 'AuthFailed' : 'AuthOk only in answer to Auth', short(f));
          return;
        }
        c.userId = f.payload.user_id;
        c.armed = c.armed.filter((x) => x.trigger !== 'conn-open');
        this.label('state:authenticated');
        this.authenticated(c);
        this.rejoin(c, t);
        this.armOn(c, 'auth-ok', t, {}); // the shard streams (GAROU-3.5)
        this.settleShards(c);
        this.replayPreAuthOk(c, t);
        return;
      }
      case 'AuthFailed':
        if (!take('auth', (x) => x.subject.frame?.name === 'AuthFailed')) v('GAROU-4.4', 'AuthOk', short(f));
        return;
      case 'ShardAssignment': {
        const a = take('auth-ok', (x) => x.subject.frame?.name === 'ShardAssignment');
        if (!a) v('GAROU-4.6', 'ShardAssignment exactly once, after AuthOk', short(f));
        else if (f.payload.num_shards !== this.profile.numShards) v('GAROU-4.6', `num_shards ${this.profile.numShards}`, short(f));
        if (c.feed) c.feed = new RoomFeed(c.userId!, f.payload.num_shards);
        return;
      }
      case 'Pong':
        if (!take('ping', (x) => x.subject.frame?.name === 'Pong' && (x.subject.frame.payload as { nonce: number }).nonce === f.payload.nonce)) v('GAROU-12.1', 'Pong only with the nonce of an unanswered Ping', short(f));
        return;
      case 'MessageAck':
      case 'Error':
      case 'UploadAck': {
        const isUpload = f.name === 'UploadAck' || (f.name === 'Error' && f.payload.upload_id !== undefined);
        const q = isUpload ? c.uploadAnswers : c.answers;
        const head = q.shift();
        // A command not placed yet (ready() places it; a Goodbye or close may have cleared it): placed now.
        if (head?.pending) this.place(c, head.pending);
        if (!head?.frame) {
          v(isUpload ? 'GAROU-10.1' : 'GAROU-5.2', 'no answer (nothing unanswered)', short(f));
          return;
        }
        c.armed = c.armed.filter((x) => x !== head.armed);
        const j = judge(head.armed, t);
        if (j) v(j.rule, head.armed.record.summary, `${j.when}: after ${((t - head.armed.since) / US_PER_MS).toFixed(1)} ms`, j.severity);
        const want: Extract<Frame, { name: 'MessageAck' | 'Error' | 'UploadAck' }> = head.frame;
        const wid = (want.payload as { cmd_id?: number; upload_id?: string }).cmd_id ?? (want.payload as { upload_id?: string }).upload_id;
        const gid = (f.payload as { cmd_id?: number; upload_id?: string }).cmd_id ?? (f.payload as { upload_id?: string }).upload_id;
        if (wid !== gid) {
          v(isUpload ? 'GAROU-10.1' : 'GAROU-5.2', `the answer to ${isUpload ? 'upload' : 'cmd_id'} ${String(wid)} first (answers in order)`, short(f));
          return;
        }
        if (want.name !== f.name || (f.name === 'Error' && want.name === 'Error' && f.payload.code !== want.payload.code)) {
          const code = want.name === 'Error' ? want.payload.code : f.name === 'Error' ? f.payload.code : 0;
          const rule = code === ERROR_CODES.FORBIDDEN ? 'GAROU-6.4' : isUpload ? 'GAROU-10.2' : 'GAROU-5.5';
          v(rule, short(want), short(f));
          return;
        }
        if (want.name === 'MessageAck' && f.name === 'MessageAck' && (want.payload.room_id ?? 0) >= PROVISIONAL_ROOM_ID) {
          // CreateRoom: the server chose the id (GAROU-6.2).
          const got = f.payload.room_id;
          const known = this.renumbered.get(want.payload.room_id!);
          if (known !== undefined) {
            if (got !== known) v('GAROU-6.2', `MessageAck with the new room's id ${known} (its RoomInit's)`, short(f));
            return;
          }
          if (got === undefined || this.rooms.has(got)) {
            v('GAROU-6.2', 'MessageAck with the new room\'s id, never one in use', short(f));
            return;
          }
          this.renumber(want.payload.room_id!, got);
          return;
        }
        if (want.name !== 'Error' && !isDeepStrictEqual(want.payload, f.payload)) v(isUpload ? 'GAROU-10.2' : 'GAROU-5.3', short(want), short(f));
        return;
      }
      case 'RoomPromoted': {
        const roomId = f.payload.room_id;
        if (c.promoted.has(roomId)) v('GAROU-8.4', 'one RoomPromoted per hot room and connection', short(f));
        c.promoted.add(roomId);
        c.armed = c.armed.filter((x) => !(x.trigger === 'promote' && x.subject.roomId === roomId));
        if (!this.serverHot.has(roomId)) {
          if (!this.lowEverHot.has(roomId) && !this.hotLow!.isHot(roomId)) v('GAROU-8.7', `a promotion only after the rate exceeded ${(this.profile.hotThreshold * (1 - this.profile.rateTolerance)).toFixed(1)} events/s`, `${short(f)} at a rate of ${this.hotLow!.rate(roomId)} events/s`);
          this.serverHot.add(roomId);
          // The cap reached: promotions the monitor expected of other rooms are off (GAROU-8.2).
          if (this.serverHot.size >= this.profile.maxHotRooms) for (const x of this.conns.values()) x.armed = x.armed.filter((a) => a.trigger !== 'promote' || this.serverHot.has(a.subject.roomId ?? -1));
          if (this.serverHot.size > this.profile.maxHotRooms) v('GAROU-8.4', `at most ${this.profile.maxHotRooms} hot rooms`, `${this.serverHot.size} hot rooms: ${[...this.serverHot].join(', ')}`);
        }
        return;
      }
      case 'RoomDemoted': {
        const roomId = f.payload.room_id;
        if (!c.promoted.has(roomId)) v('GAROU-8.3', 'RoomDemoted only for a room promoted on this connection', short(f));
        else if (!this.earlyJudged.has(roomId)) {
          // Not before the cooldown below the cold threshold (GAROU-8.3), judged once per hot period on the lenient oracle (GAROU-8.7).
          this.earlyJudged.add(roomId);
          const due = this.hotLow!.demotionDueAt(roomId);
          const ms = t / US_PER_MS;
          if (due !== undefined && ms < due - this.profile.toleranceMs) {
            const cold = this.profile.coldThreshold * (1 + this.profile.rateTolerance);
            v('GAROU-8.3', `RoomDemoted not before ${due.toFixed(0)} ms: the rate below ${cold.toFixed(1)} events/s ${this.profile.cooldownFrom === 'cold' ? `for ${this.profile.cooldownMs} ms` : `and ${this.profile.cooldownMs} ms after the promotion`}`, `${short(f)} at ${ms.toFixed(0)} ms (${(due - ms).toFixed(0)} ms early), rate ${this.hotLow!.rate(roomId)} events/s`);
          }
        }
        c.promoted.delete(roomId);
        c.armed = c.armed.filter((x) => !(x.trigger === 'demote' && x.subject.roomId === roomId));
        if (![...this.conns.values()].some((x) => !x.closed && x.promoted.has(roomId))) {
          this.serverHot.delete(roomId);
          this.lowEverHot.delete(roomId);
          this.earlyJudged.delete(roomId);
        }
        return;
      }
      case 'Goodbye':
        // The server is going (GAROU-13.5): its close 0x5 may follow.
        c.goodbyeSeen = true;
        return;
      case 'Throttle':
      case 'ServerCommand':
      case 'Ping':
        return;
      default:
        return;
    }
  }

  private serverRoomFrame(c: Conn, t: number, stream: RoomStream, f: Frame, v: (rule: string, expected: string, seen: string, severity?: Severity) => void): void {
    if (!c.feed) {
      v('GAROU-3.5', 'room frames after AuthOk and ShardAssignment', short(f));
      return;
    }
    for (const x of c.feed.receive(stream, f)) v(x.rule, x.rule === 'GAROU-3.6' ? 'the room\'s stream' : 'each seq once, in order, after RoomInit', x.message);
    const p = f.payload as { room_id: number; seq: number };
    const key = f.name === 'RoomInit' ? `${p.room_id}:init` : `${p.room_id}:${p.seq}`;
    if (f.name === 'RoomInit' && !c.owed.has(key)) {
      // A RoomInit of a new room may come before the CreateRoom's answer names the room (two streams).
      const prov = [...c.owed.values()].find((x) => x.subject.frame?.name === 'RoomInit' && (x.subject.roomId ?? 0) >= PROVISIONAL_ROOM_ID && !this.rooms.has(p.room_id) && isDeepStrictEqual(comparable({ ...x.subject.frame, payload: { ...x.subject.frame.payload, room_id: p.room_id } } as Frame), comparable(f)));
      if (prov) this.renumber(prov.subject.roomId!, p.room_id);
    }
    const a = c.owed.get(key);
    if (!a) {
      if (f.name !== 'RoomInit' && p.seq > (this.rooms.seq(p.room_id) ?? Number.MAX_SAFE_INTEGER)) {
        v('GAROU-7.1', `seq at most ${this.rooms.seq(p.room_id)} in room ${p.room_id} (1, 2, 3 … without gaps)`, short(f));
        return;
      }
      v(f.name === 'RoomInit' ? 'GAROU-7.4' : 'GAROU-7.2', `room frames only of rooms ${c.userId ?? ''} is in, each once`, short(f));
      return;
    }
    c.owed.delete(key);
    const j = judge(a, t);
    if (j) v(j.rule, a.record.summary, `${j.when}: after ${((t - a.since) / US_PER_MS).toFixed(1)} ms`, j.severity);
    const want = a.subject.frame!;
    if (want.name !== f.name || !isDeepStrictEqual(comparable(want), comparable(f))) {
      v(f.name === 'RoomInit' ? (isDeepStrictEqual((want.payload as { history?: unknown }).history, (f.payload as { history?: unknown }).history) ? 'GAROU-7.4' : 'GAROU-7.5') : 'GAROU-7.1', short(want), short(f));
    }
  }

  /** Monitor: room `from` (provisional) is the server's room `to`: the rooms and everything owed follow. */
  private renumber(from: number, to: number): void {
    this.rooms.renumber(from, to);
    this.renumbered.set(from, to);
    const fix = (fr: Frame | undefined): Frame | undefined => {
      if (!fr || (fr.payload as { room_id?: number }).room_id !== from) return fr;
      const payload: Record<string, unknown> = { ...fr.payload, room_id: to };
      if (fr.name === 'RoomInit') payload['history'] = fr.payload.history.map((h) => ({ ...h, room_id: to }));
      return { ...fr, payload } as Frame;
    };
    for (const c of this.conns.values()) {
      for (const [k, a] of [...c.owed]) {
        if (a.subject.roomId !== from) continue;
        c.owed.delete(k);
        const moved: GArmed = { ...a, subject: { ...a.subject, roomId: to, frame: fix(a.subject.frame)! } };
        c.owed.set(k.replace(`${from}:`, `${to}:`), moved);
      }
    }
  }

  private connClosed(c: Conn, ev: Extract<TraceEvent, { type: 'conn_close' }>, index: number): Violation[] {
    const out: Violation[] = [];
    if (c.closed) return out;
    if (this.mode === 'monitor') {
      // What the server sent before the close is judged against the order seen; commands it read are placed.
      if (c.backlog.size > 0) this.drain(out, ev.t);
      this.placeAll(c);
    }
    if (this.mode === 'monitor' && ev.by === 'server') {
      const owed = c.armed.find((a) => a.record.owed.kind === 'close');
      const want = owed?.subject.code;
      // A close 0x1 soon after a client stream that raced the AuthOk: the server saw the stream before it sent AuthOk (GAROU-3.4).
      const raced = ev.code !== want && ev.code === CLOSE_CODES.PROTOCOL_VIOLATION && c.raced !== undefined && judge(c.raced, ev.t) === undefined;
      const reasonless = (): void => void out.push(this.violation('GAROU-13.3', index, ev.t, 'a reason phrase naming the rule', 'an empty reason', 'should'));
      if (raced) {
        if (!ev.reason) reasonless();
      } else if (!owed && ev.code === CLOSE_CODES.SERVER_SHUTDOWN) {
        // A server may shut down at any time; it should say Goodbye first where the client opened its control stream (GAROU-13.5).
        if (c.c2s.has(0) && !c.goodbyeSeen) out.push(this.violation('GAROU-13.5', index, ev.t, 'Goodbye {reason} on the control stream before the close 0x5 SERVER_SHUTDOWN', `close ${closeCodeName(ev.code)} without Goodbye`, 'should'));
      } else if (!owed) {
        out.push(this.violation('GAROU-13.3', index, ev.t, 'no close (the client broke no rule)', `close by server ${closeCodeName(ev.code)} ${JSON.stringify(ev.reason ?? '')}`));
      } else if (ev.code !== want) {
        out.push(this.violation(owed.subject.rule === 'GAROU-4.5' ? 'GAROU-4.5' : 'GAROU-13.2', index, ev.t, `close ${closeCodeName(want ?? 0)} (${owed.subject.rule ?? owed.record.rule})`, `close ${closeCodeName(ev.code)} ${JSON.stringify(ev.reason ?? '')}`));
      } else {
        const j = judge(owed, ev.t);
        if (j) out.push(this.violation(owed.subject.rule === 'GAROU-4.5' ? 'GAROU-4.5' : (owed.subject.rule ?? j.rule), index, ev.t, owed.record.summary, `${j.when} close after ${((ev.t - owed.since) / US_PER_MS).toFixed(1)} ms`, j.severity));
        else if (!ev.reason && ev.code !== CLOSE_CODES.NO_ERROR) reasonless();
      }
    }
    if (ev.by !== 'server') this.label('transition:close-by-client');
    c.answers.length = 0;
    c.uploadAnswers.length = 0;
    c.owed.clear();
    this.dropConn(c, ev.t);
    return out;
  }

  advance(t: number): Violation[] {
    if (this.mode === 'server') return [];
    this.now = Math.max(this.now, t);
    const out: Violation[] = [];
    // The hot-room machines wait for the commands not placed yet: they count toward the rate from when they were sent (GAROU-8.1, 8.7).
    const unplaced = earliest([...this.conns.values()].map((c) => c.pending[0]?.t));
    this.hotT = Math.max(this.hotT, Math.min(t, unplaced ?? t));
    const ms = this.hotT / US_PER_MS;
    // Demotions owed by the exact oracle (GAROU-8.3) and the high oracle's state.
    this.hotTransitions(t, this.hot.advance(ms));
    this.hotHigh!.advance(ms);
    this.hotLow!.advance(ms);
    // A command whose answer is overdue is placed in the order sent (its events are owed from when it was sent).
    for (const c of this.conns.values()) {
      const late = [...c.pending].reverse().find((p) => overdueAt([p.owed.armed], t).length > 0);
      if (late) this.place(c, late);
    }
    // Held frames wait at most a reply deadline, and never past an obligation's deadline: then they are judged against the order seen.
    if (this.held()) {
      const due = earliest([...this.conns.values()].map((c) => (c.closed ? undefined : nextDeadlineOf([...c.armed, ...c.owed.values()]))));
      this.drain(out, due !== undefined && due <= t ? t : t - this.heldWaitUs());
    }
    for (const c of this.conns.values()) {
      if (c.closed) continue;
      const all = [...c.armed, ...c.owed.values()];
      for (const o of overdueAt(all, t)) {
        const a = o.armed;
        c.armed = c.armed.filter((x) => x !== a);
        if (a.subject.may) continue; // allowed, not owed
        const what = a.subject.frame ? short(a.subject.frame) : a.record.owed.kind === 'close' ? `close ${closeCodeName(a.subject.code ?? 0)}` : a.record.summary;
        const rule = a.record.owed.kind === 'close' && a.subject.rule ? a.subject.rule : a.record.rule;
        out.push(this.violation(rule, -1, o.deadline, `${a.record.summary}: ${what} to conn ${c.id}${c.userId ? ` (${c.userId})` : ''}`, 'nothing in time', o.severity, true));
        for (const [k, x] of c.owed) if (x === a) c.owed.delete(k);
        const qi = c.answers.findIndex((x) => x.armed === a);
        if (qi >= 0) c.answers.splice(qi, 1);
        const ui = c.uploadAnswers.findIndex((x) => x.armed === a);
        if (ui >= 0) c.uploadAnswers.splice(ui, 1);
      }
    }
    return out;
  }

  nextDeadline(): number | undefined {
    if (this.mode === 'server') return undefined;
    const hot = this.hot.nextDue();
    return earliest([
      ...[...this.conns.values()].map((c) => (c.closed ? undefined : nextDeadlineOf([...c.armed, ...c.owed.values()]))),
      ...[...this.conns.values()].flatMap((c) => [...c.backlog.values()].map((q) => q[0]!.t + this.heldWaitUs())),
      hot === undefined ? undefined : Math.ceil(hot * US_PER_MS),
    ]);
  }

  /** How long a held server frame waits for the order to be known (µs): a reply deadline. */
  private heldWaitUs(): number {
    return (this.profile.replyDeadlineMs + this.profile.toleranceMs) * US_PER_MS;
  }

  settled(): boolean {
    for (const c of this.conns.values()) {
      if (c.closed) continue;
      if (c.owed.size > 0 || c.backlog.size > 0 || c.pending.length > 0) return false;
      // The handshake timeout and relays (best effort) do not keep a case waiting; the rest does.
      if (c.armed.some((a) => a.trigger !== 'conn-open' && a.trigger !== 'relay' && a.trigger !== 'demote')) return false;
    }
    return true;
  }

  decoded(): readonly Readonly<Record<string, unknown>>[] | undefined {
    return this.lastDecoded;
  }

  coverage(): string[] {
    return [...this.labels];
  }

  describe(): string {
    const parts = [...this.conns]
      .filter(([, c]) => !c.closed)
      .slice(0, 6)
      .map(([id, c]) => {
        const owes = [...c.armed.map((a) => a.record.rule), ...[...c.owed.keys()].map((k) => `event ${k}`)];
        const waiting = c.pending.length + [...c.backlog.values()].reduce((n, q) => n + q.length, 0);
        return `conn ${id} ${c.userId ?? c.session.state}${c.violated ? ' (close owed)' : ''}: owes ${owes.slice(0, 6).join(', ') || 'nothing'}${owes.length > 6 ? ` (+${owes.length - 6})` : ''}${waiting ? `; ${c.pending.length} commands not placed, ${waiting - c.pending.length} frames held` : ''}`;
      });
    const hot = this.mode === 'server' ? this.hot.hotRooms() : [...this.serverHot];
    return `${parts.join('; ') || 'no open connection'}${hot.length ? `; hot rooms ${hot.join(',')}` : ''}`;
  }
}

/** Re-exported for the fuzz builders and the reference core. */
export { toHex };
