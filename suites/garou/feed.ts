/**
 * What one connection receives of its rooms, checked (SPEC GAROU-3.6, 7.2,
 * 7.3, 7.4, 8.5): each room frame on the right stream, RoomInit before a
 * room's events, per stream in increasing `seq`, across streams no
 * duplicate, and the gaps still open (an event lost, once a deadline has
 * passed: the caller's judgement, with time). Pure. Used by the monitor,
 * the load tool's oracle and the reference client's live view.
 */
import type { Frame } from './frames.js';
import type { StreamHeader } from './codec.js';

/** A broken rule, as the feed sees it. */
export interface FeedViolation {
  /** `GAROU-7.3` … */
  readonly rule: string;
  readonly roomId: number;
  readonly seq?: number;
  readonly message: string;
}

/** A server stream that carries room frames: its header and a name for messages (e.g. the QUIC stream id). */
export type RoomStream = Extract<StreamHeader, { kind: 'shard' | 'hot' }> & { readonly id: string };

interface RoomView {
  /** Every seq up to this one has arrived (RoomInit's seq at first). */
  upTo: number;
  /** Seqs above `upTo` that arrived (ahead of a gap). */
  readonly ahead: Set<number>;
  /** Last seq per stream id. */
  readonly lastOn: Map<string, number>;
  /** The member left or the room closed: nothing more may come. */
  ended: boolean;
  /** The member left at this seq without being sent its own RoomUserLeft (profile `leaverGetsOwnLeave` false): events from it on may not come. */
  leftAt?: number;
}

/** One connection's view of its rooms. */
export class RoomFeed {
  private readonly rooms = new Map<number, RoomView>();

  /**
   * @param userId the connection's user (its own RoomUserLeft ends its view of a room).
   * @param numShards from ShardAssignment (GAROU-3.6).
   */
  constructor(
    readonly userId: string,
    readonly numShards: number,
  ) {}

  /** A room frame arrived on `stream`; returns the rules it breaks (empty when fine). */
  receive(stream: RoomStream, frame: Frame): FeedViolation[] {
    const p = frame.payload as { room_id: number; seq: number; user_id?: string };
    const roomId = p.room_id;
    const seq = p.seq;
    const out: FeedViolation[] = [];
    const v = (rule: string, message: string): void => void out.push({ rule, roomId, seq, message });
    if (stream.kind === 'shard' && roomId % this.numShards !== stream.shard) {
      v('GAROU-3.6', `${frame.name} of room ${roomId} on shard stream ${stream.shard} (${stream.id}); its shard is ${roomId % this.numShards}`);
    }
    if (stream.kind === 'hot' && roomId !== stream.roomId) v('GAROU-3.6', `${frame.name} of room ${roomId} on the hot-room stream of room ${stream.roomId} (${stream.id})`);
    if (frame.name === 'RoomInit') {
      const old = this.rooms.get(roomId);
      if (old && !old.ended && old.leftAt === undefined) v('GAROU-7.4', `a second RoomInit of room ${roomId} while a member`);
      this.rooms.set(roomId, { upTo: seq, ahead: new Set(), lastOn: new Map([[stream.id, seq]]), ended: false });
      return out;
    }
    const r = this.rooms.get(roomId);
    if (!r) {
      v('GAROU-7.4', `${frame.name} seq ${seq} of room ${roomId} before its RoomInit`);
      return out;
    }
    if (r.ended || (r.leftAt !== undefined && seq >= r.leftAt)) {
      v('GAROU-7.2', `${frame.name} seq ${seq} of room ${roomId} after this user left it or it closed`);
      return out;
    }
    const last = r.lastOn.get(stream.id);
    if (last !== undefined && seq <= last) v('GAROU-7.3', `seq ${seq} of room ${roomId} after seq ${last} on ${stream.id}`);
    if (seq <= r.upTo || r.ahead.has(seq)) v('GAROU-8.5', `seq ${seq} of room ${roomId} again (duplicate)`);
    else {
      r.ahead.add(seq);
      while (r.ahead.delete(r.upTo + 1)) r.upTo++;
    }
    r.lastOn.set(stream.id, Math.max(seq, last ?? 0));
    if ((frame.name === 'RoomUserLeft' && p.user_id === this.userId) || frame.name === 'RoomClose') r.ended = true;
    return out;
  }

  /**
   * The user left `roomId` with event `seq` and is not sent its own
   * RoomUserLeft (profile `leaverGetsOwnLeave` false, GAROU-7.2): events
   * before it may still arrive, none from it on; a later RoomInit starts
   * afresh.
   */
  leave(roomId: number, seq: number): void {
    const r = this.rooms.get(roomId);
    if (r) r.leftAt = seq;
  }

  /** The seqs of `roomId` still missing below the highest that arrived (empty when none). */
  gaps(roomId: number): number[] {
    const r = this.rooms.get(roomId);
    if (!r || r.ahead.size === 0) return [];
    const top = Math.max(...r.ahead);
    const missing: number[] = [];
    for (let s = r.upTo + 1; s < top; s++) if (!r.ahead.has(s)) missing.push(s);
    return missing;
  }

  /** The highest seq of `roomId` received with nothing missing below it, or undefined before its RoomInit. */
  contiguous(roomId: number): number | undefined {
    return this.rooms.get(roomId)?.upTo;
  }

  /** Has this connection's view of the room ended (left, closed)? */
  ended(roomId: number): boolean {
    return this.rooms.get(roomId)?.ended ?? false;
  }
}
