/**
 * Rooms as the server keeps them (SPEC GAROU-5, 6, 7): users, rooms,
 * membership and roles, the per-room `seq`, the circular history, reactions.
 * Pure: a command in (with the time passed in), its answer (MessageAck or
 * Error) and the room frames it causes out, each with the users it must
 * reach. Streams, connections and hot rooms are the caller's (the model's
 * connection layer routes each delivery to the right stream, GAROU-3.6).
 */
import { ERROR_CODES, type ErrorCodeName, type Frame, type Payloads, type Role, type RoomMessagePayload, type RoomType } from './frames.js';
import type { GarouProfile } from './profile.js';
import { actionOf, permitted, refusal, type CommandFacts } from './permissions.js';

/** The profile fields rooms read. */
export type RoomProfile = Pick<GarouProfile, 'historySize' | 'maxBodyBytes' | 'userRoles' | 'guestsMayReact' | 'joinerGetsOwnJoin' | 'leaverGetsOwnLeave' | 'ownerLeave'>;

/** The chat commands (GAROU-5.1). */
export type CommandName = 'SendMessage' | 'EditMessage' | 'DeleteMessage' | 'AddReaction' | 'RemoveReaction' | 'JoinRoom' | 'LeaveRoom' | 'CreateRoom';
/** A chat command frame. */
export type CommandFrame = Extract<Frame, { name: CommandName }>;

/** A room frame (event or RoomInit) and the users it must reach, in sequencing order (GAROU-7.2, 7.4). */
export interface Delivery {
  readonly roomId: number;
  /** User ids, ascending. */
  readonly to: readonly string[];
  readonly frame: Frame;
}

/** What a command does. */
export interface Outcome {
  /** MessageAck or Error, for the sender's control stream (GAROU-5.2). */
  readonly answer: Extract<Frame, { name: 'MessageAck' | 'Error' }>;
  /** Room frames to deliver, in order. */
  readonly deliveries: readonly Delivery[];
}

/**
 * Options of {@link Rooms}. `permitted` replaces the permission table's
 * judgement (GAROU-6.4): only the reference server's deliberate faults use
 * it (e.g. guests allowed to post), so that the suite can show it catches them.
 */
export interface RoomsOptions {
  readonly permitted?: typeof permitted;
  /**
   * The first room id handed out (default 1). A monitor, which cannot know
   * the ids a server chooses, numbers its rooms from 2^32 (beyond any u32
   * id) and {@link Rooms.renumber}s each once the server's answer names it.
   */
  readonly firstRoomId?: number;
}

/** Largest emoji, UTF-8 bytes (GAROU-6.5). */
export const MAX_EMOJI_BYTES = 64;

interface Posted {
  msg: RoomMessagePayload;
  deleted: boolean;
  /** `user_id` NUL `emoji` of each reaction. */
  reactions: Set<string>;
}

interface Room {
  readonly id: number;
  readonly name: string;
  readonly type: RoomType;
  seq: number;
  readonly members: Map<string, Role>;
  /** The last `historySize` posted messages, oldest first (GAROU-7.5). */
  readonly posted: Posted[];
}

const bytesOf = (s: string): number => Buffer.byteLength(s, 'utf8');
const sorted = (ids: Iterable<string>): string[] => [...ids].sort();

/** The rooms of one server (GAROU-6, 7). */
export class Rooms {
  private readonly users = new Map<string, string>();
  private readonly rooms = new Map<number, Room>();
  private nextRoomId = 1;

  private readonly permitted: typeof permitted;

  constructor(
    readonly profile: RoomProfile,
    opts: RoomsOptions = {},
  ) {
    this.permitted = opts.permitted ?? permitted;
    this.nextRoomId = opts.firstRoomId ?? 1;
  }

  /** Does a room with this id exist? */
  has(roomId: number): boolean {
    return this.rooms.has(roomId);
  }

  /**
   * Gives room `from` the id `to` (a monitor learning the id the server
   * chose, GAROU-6.2), in the room and its history.
   * @throws RangeError when `from` does not exist or `to` is taken.
   */
  renumber(from: number, to: number): void {
    const r = this.rooms.get(from);
    if (!r) throw new RangeError(`renumber: no room ${from}`);
    if (this.rooms.has(to)) throw new RangeError(`renumber: room ${to} exists`);
    this.rooms.delete(from);
    (r as { id: number }).id = to;
    for (const p of r.posted) p.msg.room_id = to;
    this.rooms.set(to, r);
  }

  /** A user authenticated (GAROU-4.4): `userId` as sent in AuthOk, `username` for its base role. */
  connect(userId: string, username: string): void {
    this.users.set(userId, username);
  }

  /** Is the user connected? */
  connected(userId: string): boolean {
    return this.users.has(userId);
  }

  /** The user's base role (GAROU-4.7). */
  baseRole(userId: string): Exclude<Role, 'owner'> {
    return this.profile.userRoles[this.users.get(userId) ?? ''] ?? 'member';
  }

  /** The room ids the user is a member of, ascending. */
  roomsOf(userId: string): number[] {
    return [...this.rooms.values()].filter((r) => r.members.has(userId)).map((r) => r.id).sort((a, b) => a - b);
  }

  /** Members of a room and their roles, or undefined for no such room. */
  members(roomId: number): ReadonlyMap<string, Role> | undefined {
    return this.rooms.get(roomId)?.members;
  }

  /** The room's latest seq, or undefined for no such room. */
  seq(roomId: number): number | undefined {
    return this.rooms.get(roomId)?.seq;
  }

  /** RoomInit for a member entering (or re-entering, GAROU-6.3 `keep`) the room (GAROU-7.4, 7.5). */
  roomInit(roomId: number, seq?: number, without?: string): Extract<Frame, { name: 'RoomInit' }> {
    const r = this.rooms.get(roomId);
    if (!r) throw new RangeError(`roomInit: no room ${roomId}`);
    return {
      name: 'RoomInit',
      payload: {
        room_id: r.id,
        seq: seq ?? r.seq,
        name: r.name,
        room_type: r.type,
        members: sorted(r.members.keys())
          .filter((u) => u !== without)
          .map((u) => ({ user_id: u, role: r.members.get(u)! })),
        history: r.posted.filter((p) => !p.deleted).map((p) => ({ ...p.msg })),
      },
    };
  }

  /**
   * Would a post by `userId` in `roomId` be refused, and with what code
   * (GAROU-5.5, 6.4)? UploadStart is judged so (GAROU-10.2).
   */
  postRefusal(userId: string, roomId: number, rateLimited = false): ErrorCodeName | undefined {
    const room = this.rooms.get(roomId);
    const role = room?.members.get(userId);
    return refusal({
      badRequest: false,
      rateLimited,
      roomFound: room !== undefined,
      member: role !== undefined,
      permitted: room !== undefined && role !== undefined && this.permitted('post', room.type, role, this.profile),
    });
  }

  /**
   * The users a datagram from `senderId` is relayed to (GAROU-11.2, 11.3):
   * Typing / StopTyping to the room's other members, presence to every
   * other user sharing a room with the sender, ascending. Empty — dropped —
   * when `user_id` is not the sender's or the sender is not in the room.
   */
  datagramRecipients(senderId: string, frame: Extract<Frame, { name: 'Typing' | 'StopTyping' | 'PresenceOnline' | 'PresenceOffline' | 'PresenceAway' }>): string[] {
    if (frame.payload.user_id !== senderId) return [];
    if (frame.name === 'Typing' || frame.name === 'StopTyping') {
      const members = this.rooms.get(frame.payload.room_id)?.members;
      if (!members?.has(senderId)) return [];
      return sorted([...members.keys()].filter((u) => u !== senderId));
    }
    const peers = new Set<string>();
    for (const r of this.rooms.values()) if (r.members.has(senderId)) for (const u of r.members.keys()) if (u !== senderId) peers.add(u);
    return sorted(peers);
  }

  /**
   * The user's last connection ended (GAROU-6.3): with profile
   * `membershipOnDisconnect` `leave` the caller calls this, and the user
   * leaves each of its rooms as by LeaveRoom (its own RoomUserLeft reaches
   * nobody). The user is forgotten either way.
   */
  disconnect(userId: string, leave: boolean): Delivery[] {
    const out: Delivery[] = [];
    if (leave) for (const id of this.roomsOf(userId)) out.push(...this.leave(this.rooms.get(id)!, userId, false));
    this.users.delete(userId);
    return out;
  }

  /**
   * Applies a command of `userId` at `now` (ms since the epoch, the `ts` of a
   * RoomMessage): refused (GAROU-5.5) or done (GAROU-6, 7).
   * @param rateLimited the connection is over its command rate (GAROU-12.2).
   * @throws RangeError when `userId` is not connected (local misuse).
   */
  command(userId: string, cmd: CommandFrame, now: number, rateLimited = false): Outcome {
    return this.decide(userId, cmd, now, rateLimited, true);
  }

  /**
   * The error code a command of `userId` would be refused with now
   * (GAROU-5.5, 6.4, 13.1), or undefined when it would be accepted; nothing
   * changes. A monitor asks before placing a command the server refused.
   * @throws RangeError when `userId` is not connected (local misuse).
   */
  refusalCode(userId: string, cmd: CommandFrame, rateLimited = false): number | undefined {
    const a = this.decide(userId, cmd, 0, rateLimited, false).answer;
    return a.name === 'Error' ? a.payload.code : undefined;
  }

  /** Judges a command; with `apply` false it stops before changing anything (an accepted command's outcome is then a bare MessageAck). */
  private decide(userId: string, cmd: CommandFrame, now: number, rateLimited: boolean, apply: boolean): Outcome {
    if (!this.users.has(userId)) throw new RangeError(`Rooms.command: user ${userId} is not connected`);
    const refuse = (code: keyof typeof ERROR_CODES, message: string): Outcome => ({
      answer: { name: 'Error', payload: { cmd_id: cmd.payload.cmd_id, code: ERROR_CODES[code], message } },
      deliveries: [],
    });
    if (cmd.name === 'CreateRoom') return this.create(userId, cmd.payload, rateLimited, refuse, apply);
    const p = cmd.payload;
    const room = this.rooms.get(p.room_id);
    const role = room?.members.get(userId);
    const isJoin = cmd.name === 'JoinRoom';
    let badRequest = '';
    let target: Posted | undefined;
    let targetFound: boolean | undefined;
    let own = true;
    if ((cmd.name === 'SendMessage' || cmd.name === 'EditMessage') && (cmd.payload.body === '' || bytesOf(cmd.payload.body) > this.profile.maxBodyBytes)) {
      badRequest = `body must be 1 to ${this.profile.maxBodyBytes} bytes`;
    }
    if ((cmd.name === 'AddReaction' || cmd.name === 'RemoveReaction') && (cmd.payload.emoji === '' || bytesOf(cmd.payload.emoji) > MAX_EMOJI_BYTES)) {
      badRequest = `emoji must be 1 to ${MAX_EMOJI_BYTES} bytes`;
    }
    if (isJoin && role !== undefined) badRequest = `already a member of room ${p.room_id}`;
    if (room && role !== undefined && 'message_id' in p) {
      target = room.posted.find((x) => x.msg.message_id === p.message_id && !x.deleted);
      targetFound = target !== undefined;
      if (target) {
        own = target.msg.user_id === userId;
        if (cmd.name === 'RemoveReaction') targetFound = target.reactions.has(`${userId}\0${cmd.payload.emoji}`);
        if (cmd.name === 'AddReaction' && target.reactions.has(`${userId}\0${cmd.payload.emoji}`)) badRequest = 'the same reaction twice';
      }
    }
    const action = actionOf(cmd.name, own);
    const facts: CommandFacts = {
      badRequest: badRequest !== '',
      rateLimited,
      roomFound: room !== undefined,
      ...(isJoin ? {} : { member: role !== undefined }),
      ...(targetFound === undefined ? {} : { targetFound }),
      permitted: room !== undefined && this.permitted(action, room.type, isJoin ? this.baseRole(userId) : (role ?? 'guest'), this.profile),
    };
    const code = refusal(facts);
    if (code) {
      const why: Record<typeof code, string> = {
        BAD_REQUEST: badRequest,
        RATE_LIMITED: 'too many commands',
        NOT_FOUND: room ? `no such ${cmd.name === 'RemoveReaction' && target ? 'reaction' : 'message'} in room ${p.room_id}` : `no room ${p.room_id}`,
        NOT_A_MEMBER: `not a member of room ${p.room_id}`,
        FORBIDDEN: `${cmd.name} is not allowed to a ${isJoin ? this.baseRole(userId) : role} in a ${room?.type} room`,
      };
      return refuse(code, why[code]);
    }
    if (!apply) return { answer: { name: 'MessageAck', payload: { cmd_id: p.cmd_id } }, deliveries: [] };
    const r = room!;
    const ack = (seq: number, messageId?: string): Outcome['answer'] => ({
      name: 'MessageAck',
      payload: { cmd_id: p.cmd_id, room_id: r.id, ...(messageId === undefined ? {} : { message_id: messageId }), seq },
    });
    switch (cmd.name) {
      case 'SendMessage': {
        const seq = ++r.seq;
        const msg: RoomMessagePayload = { room_id: r.id, seq, message_id: `m${seq}`, user_id: userId, body: cmd.payload.body, ts: now };
        r.posted.push({ msg, deleted: false, reactions: new Set() });
        while (r.posted.length > this.profile.historySize) r.posted.shift();
        return { answer: ack(seq, msg.message_id), deliveries: [this.toAll(r, { name: 'RoomMessage', payload: { ...msg } })] };
      }
      case 'EditMessage': {
        const seq = ++r.seq;
        target!.msg.body = cmd.payload.body;
        return { answer: ack(seq, cmd.payload.message_id), deliveries: [this.toAll(r, { name: 'RoomMessageEdited', payload: { room_id: r.id, seq, message_id: cmd.payload.message_id, body: cmd.payload.body } })] };
      }
      case 'DeleteMessage': {
        const seq = ++r.seq;
        target!.deleted = true;
        return { answer: ack(seq, cmd.payload.message_id), deliveries: [this.toAll(r, { name: 'RoomMessageDeleted', payload: { room_id: r.id, seq, message_id: cmd.payload.message_id } })] };
      }
      case 'AddReaction':
      case 'RemoveReaction': {
        const seq = ++r.seq;
        const key = `${userId}\0${cmd.payload.emoji}`;
        if (cmd.name === 'AddReaction') target!.reactions.add(key);
        else target!.reactions.delete(key);
        const payload = { room_id: r.id, seq, message_id: cmd.payload.message_id, user_id: userId, emoji: cmd.payload.emoji };
        const frame: Frame = cmd.name === 'AddReaction' ? { name: 'RoomReactionAdded', payload } : { name: 'RoomReactionRemoved', payload };
        return { answer: ack(seq, cmd.payload.message_id), deliveries: [this.toAll(r, frame)] };
      }
      case 'JoinRoom': {
        const before = sorted(r.members.keys());
        const seq = ++r.seq;
        const joinedRole = this.baseRole(userId);
        r.members.set(userId, joinedRole);
        const joined: Frame = { name: 'RoomUserJoined', payload: { room_id: r.id, seq, user_id: userId, role: joinedRole } };
        const deliveries: Delivery[] = this.profile.joinerGetsOwnJoin
          ? [{ roomId: r.id, to: [userId], frame: this.roomInit(r.id, seq - 1, userId) }, this.toAll(r, joined)]
          : [{ roomId: r.id, to: before, frame: joined }, { roomId: r.id, to: [userId], frame: this.roomInit(r.id) }];
        return { answer: ack(seq), deliveries: deliveries.filter((d) => d.to.length > 0) };
      }
      case 'LeaveRoom': {
        const seq = r.seq + 1;
        return { answer: ack(seq), deliveries: this.leave(r, userId, this.profile.leaverGetsOwnLeave) };
      }
    }
  }

  private toAll(r: Room, frame: Frame): Delivery {
    return { roomId: r.id, to: sorted(r.members.keys()), frame };
  }

  /** `userId` leaves `r` (GAROU-6.3, 7.2): RoomUserLeft, then RoomClose when the room closes. */
  private leave(r: Room, userId: string, toLeaver: boolean): Delivery[] {
    const role = r.members.get(userId)!;
    const seq = ++r.seq;
    r.members.delete(userId);
    const left: Frame = { name: 'RoomUserLeft', payload: { room_id: r.id, seq, user_id: userId, role } };
    const out: Delivery[] = [{ roomId: r.id, to: sorted([...r.members.keys(), ...(toLeaver ? [userId] : [])]), frame: left }];
    const closes = r.members.size === 0 || r.type === 'direct' || (role === 'owner' && this.profile.ownerLeave === 'close');
    if (closes) {
      if (r.members.size > 0) {
        const reason = r.type === 'direct' ? `${userId} left the direct room` : `the owner ${userId} left`;
        out.push(this.toAll(r, { name: 'RoomClose', payload: { room_id: r.id, seq: ++r.seq, reason } }));
      }
      this.rooms.delete(r.id);
    }
    return out.filter((d) => d.to.length > 0);
  }

  private create(userId: string, p: Payloads['CreateRoom'], rateLimited: boolean, refuse: (code: keyof typeof ERROR_CODES, message: string) => Outcome, apply: boolean): Outcome {
    const others = [...new Set(p.members ?? [])].filter((u) => u !== userId);
    let badRequest = '';
    if (p.name === '' || bytesOf(p.name) > this.profile.maxBodyBytes) badRequest = `name must be 1 to ${this.profile.maxBodyBytes} bytes`;
    else if (p.room_type === 'direct' && others.length !== 1) badRequest = `a direct room has exactly one other member, got ${others.length}`;
    const missing = others.find((u) => !this.users.has(u));
    const code = refusal({ badRequest: badRequest !== '', rateLimited, roomFound: missing === undefined, permitted: this.permitted('create', p.room_type, this.baseRole(userId), this.profile) });
    if (code) {
      const why = { BAD_REQUEST: badRequest, RATE_LIMITED: 'too many commands', NOT_FOUND: `user ${missing} is not connected`, NOT_A_MEMBER: '', FORBIDDEN: `CreateRoom is not allowed to a ${this.baseRole(userId)}` };
      return refuse(code, why[code]);
    }
    if (!apply) return { answer: { name: 'MessageAck', payload: { cmd_id: p.cmd_id } }, deliveries: [] };
    const r: Room = { id: this.nextRoomId++, name: p.name, type: p.room_type, seq: 0, members: new Map([[userId, 'owner' as Role]]), posted: [] };
    for (const u of others) r.members.set(u, this.baseRole(u));
    this.rooms.set(r.id, r);
    return { answer: { name: 'MessageAck', payload: { cmd_id: p.cmd_id, room_id: r.id } }, deliveries: [{ roomId: r.id, to: sorted(r.members.keys()), frame: this.roomInit(r.id) }] };
  }
}
