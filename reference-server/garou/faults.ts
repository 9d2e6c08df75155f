/**
 * Deliberate faults of the Garou reference server, at least one per rule
 * family, so that the project's tests can show the suite catches each one
 * (and users can see what a failure looks like: `wirecheck serve garou
 * --fault NAME`). Each is the engine's one fault shape
 * (harness/engine/reference.ts {@link ReferenceFault}): the conforming core
 * with a rewriter of its output ({@link Rewriter}), or, for a permission
 * fault, a different judgement in the room rules.
 */
import type { ReferenceFault } from '../../harness/engine/reference.js';
import { CLOSE_CODES, type Frame } from '../../suites/garou/frames.js';
import type { OutItem } from '../../suites/garou/model.js';
import { permitted } from '../../suites/garou/permissions.js';
import type { GarouProfile } from '../../suites/garou/profile.js';
import { GarouServerCore, type GarouCoreOptions, type Rewriter } from './core.js';

type FrameItem = Extract<OutItem, { kind: 'frame' }>;
const isFrame = (o: OutItem): o is FrameItem => o.kind === 'frame';
const onRoomStream = (o: OutItem): o is FrameItem => isFrame(o) && (o.carrier === 'shard' || o.carrier === 'hot');
const isEvent = (o: OutItem): o is FrameItem => onRoomStream(o) && o.frame.name !== 'RoomInit';
const dropWhere = (pred: (o: OutItem) => boolean): Rewriter => (items) => items.filter((o) => !pred(o));
const mapFrames = (fn: (o: FrameItem) => OutItem): Rewriter => (items) => items.map((o) => (isFrame(o) ? fn(o) : o));
const withPayload = (o: FrameItem, patch: Record<string, unknown>): FrameItem => ({ ...o, frame: { ...o.frame, payload: { ...o.frame.payload, ...patch } } as Frame });

/**
 * The faults' definitions: a description with the rule ids, the core options
 * that misbehave (a fresh state per core) and, for a fault of the hot-room
 * timing, the profile the core runs on instead of the one announced.
 */
const defs: Readonly<Record<string, { readonly description: string; readonly options: () => GarouCoreOptions; readonly profile?: (p: GarouProfile) => GarouProfile }>> = {
  'seq-gap': {
    description: 'skips seq 2 of every room: events from the second on carry seq + 1 (GAROU-7.1, 7.3)',
    options: () => ({ rewrite: mapFrames((o) => (isEvent(o) && (o.frame.payload as { seq: number }).seq >= 2 ? withPayload(o, { seq: (o.frame.payload as { seq: number }).seq + 1 }) : o)) }),
  },
  'wrong-shard': {
    description: "sends room events on the next shard's stream, (room_id + 1) % num_shards (GAROU-3.6)",
    options: () => ({
      rewrite: (items, ctx) =>
        items.map((o) => {
          if (!(isEvent(o) && o.carrier === 'shard')) return o;
          const roomId = (o.frame.payload as { room_id: number }).room_id;
          const stream = ctx.shardStream(o.conn, (roomId + 1) % ctx.profile.numShards);
          return stream === undefined ? o : { ...o, stream };
        }),
    }),
  },
  'no-echo': {
    description: "does not send a RoomMessage to its sender's connections (GAROU-7.2)",
    options: () => ({ rewrite: (items, ctx) => items.filter((o) => !(isEvent(o) && o.frame.name === 'RoomMessage' && o.frame.payload.user_id === ctx.userOf(o.conn))) }),
  },
  'lose-at-promotion': {
    description: 'drops the first event of each hot-room stream: an event lost at promotion (GAROU-8.5, 7.2)',
    options: () => {
      const seen = new Set<string>();
      return {
        rewrite: dropWhere((o) => {
          if (!(isEvent(o) && o.carrier === 'hot')) return false;
          const key = `${o.conn}:${o.stream}`;
          if (seen.has(key)) return false;
          seen.add(key);
          return true;
        }),
      };
    },
  },
  'guests-post': {
    description: 'lets guests post in groups and channels (GAROU-6.4)',
    options: () => ({ rooms: { permitted: (action, type, role, profile) => (action === 'post' && role === 'guest') || permitted(action, type, role, profile) } }),
  },
  'answers-out-of-order': {
    description: 'answers two commands read together in the wrong order (GAROU-5.2)',
    options: () => ({
      rewrite: (items) => {
        const idx = items.flatMap((o, i) => (isFrame(o) && (o.frame.name === 'MessageAck' || (o.frame.name === 'Error' && o.frame.payload.cmd_id !== undefined)) ? [i] : []));
        for (let k = 0; k + 1 < idx.length; k++) {
          const a = idx[k]!;
          const b = idx[k + 1]!;
          if (items[a]!.kind === 'frame' && items[b]!.kind === 'frame' && (items[a] as FrameItem).conn === (items[b] as FrameItem).conn) {
            const out = [...items];
            [out[a], out[b]] = [out[b]!, out[a]!];
            return out;
          }
        }
        return items;
      },
    }),
  },
  'no-datagram-relay': {
    description: 'never relays typing or presence datagrams (GAROU-11.3, a SHOULD)',
    options: () => ({ rewrite: dropWhere((o) => o.kind === 'dgram') }),
  },
  'no-handshake-timeout': {
    description: 'never closes a connection that does not authenticate (GAROU-4.5)',
    options: () => ({ rewrite: dropWhere((o) => o.kind === 'close' && o.code === CLOSE_CODES.HANDSHAKE_TIMEOUT) }),
  },
  'ignore-stream-type': {
    description: 'does not close on an unknown stream-type byte or a frame on the wrong stream (GAROU-3.3)',
    options: () => ({ rewrite: dropWhere((o) => o.kind === 'close' && o.rule === 'GAROU-3.3') }),
  },
  'ignore-frame-limit': {
    description: 'does not close on a frame over maxFrameBytes (GAROU-2.3)',
    options: () => ({ rewrite: dropWhere((o) => o.kind === 'close' && o.code === CLOSE_CODES.FRAME_TOO_LARGE) }),
  },
  'wrong-close-code': {
    description: 'closes protocol violations with 0x0 instead of 0x1 (GAROU-13.2)',
    options: () => ({ rewrite: (items) => items.map((o) => (o.kind === 'close' && o.code === CLOSE_CODES.PROTOCOL_VIOLATION ? { ...o, code: CLOSE_CODES.NO_ERROR } : o)) }),
  },
  'no-room-init': {
    description: 'sends no RoomInit to a member entering a room (GAROU-7.4)',
    options: () => ({ rewrite: dropWhere((o) => isFrame(o) && o.frame.name === 'RoomInit') }),
  },
  'no-demotion': {
    description: 'never demotes a hot room (GAROU-8.3)',
    options: () => ({ rewrite: dropWhere((o) => isFrame(o) && o.frame.name === 'RoomDemoted') }),
  },
  'early-demotion': {
    description: 'demotes a hot room as soon as its rate falls below the cold threshold, without the cooldown (GAROU-8.3)',
    options: () => ({}),
    profile: (p) => ({ ...p, cooldownMs: 0 }),
  },
  'no-pong': {
    description: 'never answers Ping (GAROU-12.1)',
    options: () => ({ rewrite: dropWhere((o) => isFrame(o) && o.frame.name === 'Pong') }),
  },
  'wrong-upload-ack': {
    description: 'reports one byte more than received in UploadAck (GAROU-10.2)',
    options: () => ({ rewrite: mapFrames((o) => (o.frame.name === 'UploadAck' ? withPayload(o, { received: o.frame.payload.received + 1 }) : o)) }),
  },
};

/** The faults, by name (kebab-case, as `--fault` takes them). */
export const faults: Readonly<Record<string, ReferenceFault<GarouProfile>>> = Object.fromEntries(
  Object.entries(defs).map(([name, d]) => [name, { description: d.description, create: (profile: GarouProfile) => new GarouServerCore(d.profile ? d.profile(profile) : profile, d.options()) }]),
);

/** Names of all faults. */
export const faultNames: readonly string[] = Object.keys(faults);
