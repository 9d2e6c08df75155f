/**
 * Hot-room promotion and demotion (SPEC GAROU-8.1 – 8.4) as a pure state
 * machine over the whole server: time is passed in (ms), rates are computed
 * from the timestamps of counted events. The same machine is the reference
 * server's core (it arms one timer at {@link HotRooms.nextDue}) and the
 * monitor's oracle (fed the timestamps of a trace).
 *
 * Exactness: a room's rate only changes when a counted event arrives or an
 * event leaves the window (at its timestamp + `rateWindowMs`). The machine
 * evaluates every such point, so its transitions do not depend on how often
 * {@link HotRooms.advance} is called.
 */
import type { GarouProfile } from './profile.js';
import type { FrameName } from './frames.js';

/** The profile fields the machine reads. */
export type HotRoomConfig = Pick<GarouProfile, 'hotThreshold' | 'coldThreshold' | 'cooldownMs' | 'maxHotRooms' | 'rateWindowMs' | 'cooldownFrom'>;

/** A promotion or demotion, at a time in ms. */
export interface Transition {
  readonly kind: 'promote' | 'demote';
  readonly roomId: number;
  /** When it happens (ms); a demotion's exact due time, which may precede the call that reports it. */
  readonly at: number;
}

interface RoomRate {
  /** Timestamps of counted events still in the window, ascending. */
  readonly window: number[];
  hot: boolean;
  promotedAt: number;
  /** While hot: since when the rate has been below the cold threshold without interruption. */
  coldSince: number | undefined;
}

/** Does this room event count toward the rate (GAROU-8.1, profile `rateCounts`)? */
export function countsTowardRate(name: FrameName, rateCounts: GarouProfile['rateCounts']): boolean {
  if (rateCounts === 'messages') return name === 'RoomMessage';
  return name !== 'RoomInit';
}

/** The hot-room state of every room on a server (GAROU-8). */
export class HotRooms {
  private readonly rooms = new Map<number, RoomRate>();
  private hot = 0;
  private now = Number.NEGATIVE_INFINITY;

  constructor(readonly config: HotRoomConfig) {
    if (!(config.rateWindowMs > 0)) throw new RangeError(`HotRooms: rateWindowMs must be > 0, got ${config.rateWindowMs}`);
  }

  /** Rooms hot now. */
  get hotCount(): number {
    return this.hot;
  }

  /** Is the room hot? */
  isHot(roomId: number): boolean {
    return this.rooms.get(roomId)?.hot ?? false;
  }

  /** The ids of the hot rooms, ascending. */
  hotRooms(): number[] {
    return [...this.rooms].filter(([, r]) => r.hot).map(([id]) => id).sort((a, b) => a - b);
  }

  /** A room's rate at the last time seen, events/s (GAROU-8.1). */
  rate(roomId: number): number {
    return this.rateOf(this.rooms.get(roomId)?.window.length ?? 0);
  }

  private rateOf(count: number): number {
    return (count * 1000) / this.config.rateWindowMs;
  }

  private checkTime(t: number, fn: string): void {
    if (!Number.isFinite(t)) throw new RangeError(`HotRooms.${fn}: time must be a finite number of ms, got ${t}`);
    if (t < this.now) throw new RangeError(`HotRooms.${fn}: time went back from ${this.now} to ${t}`);
    this.now = t;
  }

  /**
   * Time passes to `t` (ms) with no counted event: returns the demotions due
   * at or before `t`, in time order (GAROU-8.3).
   * @throws RangeError when `t` is before the last time seen.
   */
  advance(t: number): Transition[] {
    this.checkTime(t, 'advance');
    const out: Transition[] = [];
    for (const [roomId, r] of this.rooms) {
      this.expire(r, t);
      if (!r.hot) continue;
      const due = this.demotionDue(r);
      if (due !== undefined && due <= t) {
        r.hot = false;
        r.coldSince = undefined;
        this.hot--;
        out.push({ kind: 'demote', roomId, at: due });
      }
    }
    for (const [roomId, r] of this.rooms) if (!r.hot && r.window.length === 0) this.rooms.delete(roomId);
    return out.sort((a, b) => a.at - b.at || a.roomId - b.roomId);
  }

  /**
   * A counted event of `roomId` at `t` (ms). Returns the demotions that fell
   * due up to `t` (see {@link advance}), then this room's promotion when the
   * event made its rate exceed `hotThreshold` and fewer than `maxHotRooms`
   * rooms are hot (GAROU-8.2). The event itself was sequenced before the
   * promotion: it travels on the shard stream.
   * @throws RangeError when `t` is before the last time seen.
   */
  event(roomId: number, t: number): Transition[] {
    const out = this.advance(t);
    let r = this.rooms.get(roomId);
    if (!r) {
      r = { window: [], hot: false, promotedAt: 0, coldSince: undefined };
      this.rooms.set(roomId, r);
    }
    r.window.push(t);
    const rate = this.rateOf(r.window.length);
    if (r.hot) {
      if (rate >= this.config.coldThreshold) r.coldSince = undefined;
    } else if (rate > this.config.hotThreshold && this.hot < this.config.maxHotRooms) {
      r.hot = true;
      r.promotedAt = t;
      r.coldSince = undefined;
      this.hot++;
      out.push({ kind: 'promote', roomId, at: t });
    }
    return out;
  }

  /**
   * The room is gone (closed, GAROU-6.3): it stops counting toward the cap
   * at once, with no demotion (nobody is left to tell).
   */
  forget(roomId: number): void {
    const r = this.rooms.get(roomId);
    if (!r) return;
    if (r.hot) this.hot--;
    this.rooms.delete(roomId);
  }

  /**
   * The earliest time after the last time seen at which {@link advance}
   * would report a demotion (absent new events), or undefined when none is
   * coming. A server arms its one timer here.
   */
  nextDue(): number | undefined {
    let best: number | undefined;
    for (const r of this.rooms.values()) {
      if (!r.hot) continue;
      const due = this.demotionDue(r, true);
      if (due !== undefined && (best === undefined || due < best)) best = due;
    }
    return best;
  }

  /**
   * When a hot room falls due for demotion given the events seen so far and
   * none to come (ms), or undefined when the room is not hot (GAROU-8.3): the
   * monitor's earliest allowed demotion, on an oracle with lenient
   * thresholds (GAROU-8.7).
   */
  demotionDueAt(roomId: number): number | undefined {
    const r = this.rooms.get(roomId);
    return r?.hot ? this.demotionDue(r, true) : undefined;
  }

  /** Drops events that left the window by `t`, noting when a hot room's rate fell below the cold threshold. */
  private expire(r: RoomRate, t: number): void {
    const w = this.config.rateWindowMs;
    while (r.window.length > 0 && r.window[0]! + w <= t) {
      const leftAt = r.window.shift()! + w;
      if (r.hot && r.coldSince === undefined && this.rateOf(r.window.length) < this.config.coldThreshold) r.coldSince = leftAt;
    }
  }

  /**
   * When a hot room is due for demotion given what is known (GAROU-8.3).
   * With `predict`, a room not yet below the cold threshold is predicted from
   * when its window's events will leave (no new events assumed).
   */
  private demotionDue(r: RoomRate, predict = false): number | undefined {
    let coldSince = r.coldSince;
    if (coldSince === undefined && predict) {
      // The rate falls below the threshold once enough events have left.
      const w = this.config.rateWindowMs;
      for (let k = 0; k < r.window.length; k++) {
        if (this.rateOf(r.window.length - k - 1) < this.config.coldThreshold) {
          coldSince = r.window[k]! + w;
          break;
        }
      }
    }
    if (coldSince === undefined) return undefined;
    return this.config.cooldownFrom === 'cold' ? coldSince + this.config.cooldownMs : Math.max(coldSince, r.promotedAt + this.config.cooldownMs);
  }
}
