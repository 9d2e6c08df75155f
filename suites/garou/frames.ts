/**
 * Garou's tables, written once (SPEC §2, §3; PROTOCOLS.md § "Garou chat"):
 * the frame type codes, the stream-type bytes, which frame types each kind
 * of stream may carry in each direction, the error and close codes, and the
 * payload types (the runtime shape is checked by `schemas/frames.schema.json`;
 * these interfaces are its TypeScript view).
 */

/** Frame type code → name, numbered as PROTOCOLS fixes them (GAROU-2.2). */
export const FRAME_TYPES = {
  0x00: 'Hello',
  0x01: 'HelloAck',
  0x02: 'Auth',
  0x03: 'AuthOk',
  0x04: 'AuthFailed',
  0x05: 'Ping',
  0x06: 'Pong',
  0x07: 'Throttle',
  0x08: 'Goodbye',
  0x09: 'ServerCommand',
  0x10: 'SendMessage',
  0x11: 'EditMessage',
  0x12: 'DeleteMessage',
  0x13: 'AddReaction',
  0x14: 'RemoveReaction',
  0x15: 'JoinRoom',
  0x16: 'LeaveRoom',
  0x17: 'CreateRoom',
  0x30: 'RoomMessage',
  0x31: 'RoomMessageEdited',
  0x32: 'RoomMessageDeleted',
  0x33: 'RoomReactionAdded',
  0x34: 'RoomReactionRemoved',
  0x35: 'RoomUserJoined',
  0x36: 'RoomUserLeft',
  0x37: 'RoomInit',
  0x38: 'RoomClose',
  0x50: 'ShardAssignment',
  0x51: 'RoomPromoted',
  0x52: 'RoomDemoted',
  0x60: 'MessageDelivered',
  0x61: 'MessageRead',
  0x62: 'MessageAck',
  0x70: 'UploadStart',
  0x71: 'UploadChunk',
  0x72: 'UploadComplete',
  0x73: 'UploadCancel',
  0x74: 'UploadAck',
  0x80: 'Typing',
  0x81: 'StopTyping',
  0x82: 'PresenceOnline',
  0x83: 'PresenceOffline',
  0x84: 'PresenceAway',
  0xff: 'Error',
} as const;

/** A frame type's name (GAROU-2.2). */
export type FrameName = (typeof FRAME_TYPES)[keyof typeof FRAME_TYPES];

/** Name → code, the inverse of {@link FRAME_TYPES}. */
export const FRAME_CODES: Readonly<Record<FrameName, number>> = Object.fromEntries(
  Object.entries(FRAME_TYPES).map(([code, name]) => [name, Number(code)]),
) as Record<FrameName, number>;

/** Every defined frame name, in code order. */
export const FRAME_NAMES: readonly FrameName[] = Object.keys(FRAME_TYPES)
  .map(Number)
  .sort((a, b) => a - b)
  .map((c) => FRAME_TYPES[c as keyof typeof FRAME_TYPES]);

/** The name of a frame type code, or undefined when the code is not defined (GAROU-2.2). */
export function frameName(code: number): FrameName | undefined {
  return (FRAME_TYPES as Record<number, FrameName | undefined>)[code];
}

/** Who sent the bytes: client → server or server → client. */
export type Direction = 'c2s' | 's2c';

/** The kinds of unidirectional stream (GAROU-3.2). */
export type UniStreamKind = 'commands' | 'acks' | 'upload' | 'shard' | 'hot';

/** Where frames travel: the control stream, a unidirectional stream, or a datagram. */
export type Carrier = 'control' | UniStreamKind | 'datagram';

/** One row of the stream-type byte table (GAROU-3.2). */
export interface StreamType {
  /** The stream-type byte, the stream's first byte. */
  readonly byte: number;
  readonly kind: UniStreamKind;
  /** Who opens it. */
  readonly dir: Direction;
  /** Human name for reports. */
  readonly title: string;
  /** Bytes of the header after the type byte: 1 (shard index, u8), 4 (room id, u32 BE) or 0. */
  readonly paramBytes: 0 | 1 | 4;
}

/** The stream-type bytes (GAROU-3.2; PROTOCOLS "Streams"). */
export const STREAM_TYPES: readonly StreamType[] = [
  { byte: 0x01, kind: 'commands', dir: 'c2s', title: 'chat commands', paramBytes: 0 },
  { byte: 0x02, kind: 'acks', dir: 'c2s', title: 'acks', paramBytes: 0 },
  { byte: 0x03, kind: 'upload', dir: 'c2s', title: 'bulk upload', paramBytes: 0 },
  { byte: 0x10, kind: 'shard', dir: 's2c', title: 'shard', paramBytes: 1 },
  { byte: 0x11, kind: 'hot', dir: 's2c', title: 'hot room', paramBytes: 4 },
];

/** The row of a stream-type byte, or undefined for an unknown byte (GAROU-3.3). */
export function streamType(byte: number): StreamType | undefined {
  return STREAM_TYPES.find((s) => s.byte === byte);
}

/** The row of a stream kind. */
export function streamTypeOf(kind: UniStreamKind): StreamType {
  return STREAM_TYPES.find((s) => s.kind === kind)!;
}

const ROOM_EVENTS: readonly FrameName[] = [
  'RoomMessage',
  'RoomMessageEdited',
  'RoomMessageDeleted',
  'RoomReactionAdded',
  'RoomReactionRemoved',
  'RoomUserJoined',
  'RoomUserLeft',
  'RoomInit',
  'RoomClose',
];

const DATAGRAMS: readonly FrameName[] = ['Typing', 'StopTyping', 'PresenceOnline', 'PresenceOffline', 'PresenceAway'];

/**
 * Which frame types each carrier may carry, per direction (GAROU-3.2, 3.3,
 * 11.1). A carrier absent for a direction carries nothing that way.
 */
export const ALLOWED_FRAMES: Readonly<Record<Carrier, Partial<Record<Direction, readonly FrameName[]>>>> = {
  control: {
    c2s: ['Hello', 'Auth', 'Ping', 'Pong', 'Goodbye'],
    s2c: ['HelloAck', 'AuthOk', 'AuthFailed', 'Ping', 'Pong', 'Throttle', 'Goodbye', 'ServerCommand', 'ShardAssignment', 'RoomPromoted', 'RoomDemoted', 'MessageAck', 'UploadAck', 'Error'],
  },
  commands: { c2s: ['SendMessage', 'EditMessage', 'DeleteMessage', 'AddReaction', 'RemoveReaction', 'JoinRoom', 'LeaveRoom', 'CreateRoom'] },
  acks: { c2s: ['MessageDelivered', 'MessageRead'] },
  upload: { c2s: ['UploadStart', 'UploadChunk', 'UploadComplete', 'UploadCancel'] },
  shard: { s2c: ROOM_EVENTS },
  hot: { s2c: ROOM_EVENTS },
  datagram: { c2s: DATAGRAMS, s2c: DATAGRAMS },
};

const ALLOWED_SETS = new Map<string, ReadonlySet<FrameName>>(
  Object.entries(ALLOWED_FRAMES).flatMap(([carrier, dirs]) => Object.entries(dirs).map(([dir, names]) => [`${carrier} ${dir}`, new Set(names)] as const)),
);

/** True when `carrier` may carry frame `name` in direction `dir`. */
export function allowedOn(carrier: Carrier, dir: Direction, name: FrameName): boolean {
  return ALLOWED_SETS.get(`${carrier} ${dir}`)?.has(name) ?? false;
}

/** Human name of a carrier for messages: `control stream`, `chat-commands stream`, `datagram`. */
export function carrierTitle(carrier: Carrier): string {
  if (carrier === 'control') return 'control stream';
  if (carrier === 'datagram') return 'datagram';
  return `${streamTypeOf(carrier).title.replace(' ', '-')} stream`;
}

/** Error codes carried in Error frames, not fatal (GAROU-13.1). */
export const ERROR_CODES = { BAD_REQUEST: 1, NOT_FOUND: 2, FORBIDDEN: 3, NOT_A_MEMBER: 4, RATE_LIMITED: 5 } as const;
/** An Error frame's code name. */
export type ErrorCodeName = keyof typeof ERROR_CODES;

/** QUIC application close codes (GAROU-13.2). */
export const CLOSE_CODES = { NO_ERROR: 0x0, PROTOCOL_VIOLATION: 0x1, AUTH_FAILED: 0x2, HANDSHAKE_TIMEOUT: 0x3, FRAME_TOO_LARGE: 0x4, SERVER_SHUTDOWN: 0x5 } as const;
/** A close code's name. */
export type CloseCodeName = keyof typeof CLOSE_CODES;

/** `0x1 PROTOCOL_VIOLATION` for a known code, else the hex code alone. */
export function closeCodeName(code: number): string {
  const hit = Object.entries(CLOSE_CODES).find(([, c]) => c === code);
  return hit ? `0x${code.toString(16)} ${hit[0]}` : `0x${code.toString(16)}`;
}

/** Room types (GAROU-6.1). */
export type RoomType = 'direct' | 'group' | 'channel';
/** Roles, strongest first (GAROU-6.1). */
export const ROLES = ['owner', 'admin', 'moderator', 'member', 'guest'] as const;
/** A member's role in a room. */
export type Role = (typeof ROLES)[number];

/** A RoomMessage payload (also a RoomInit history entry). */
export interface RoomMessagePayload {
  room_id: number;
  seq: number;
  message_id: string;
  user_id: string;
  body: string;
  /** ms since the Unix epoch. */
  ts: number;
}

/** Payload of each frame type (GAROU-4 … 13; field names as on the wire). */
export interface Payloads {
  Hello: { version: number; client: string };
  HelloAck: { version: number; session_id: string };
  Auth: { username: string; token?: string };
  AuthOk: { user_id: string };
  AuthFailed: { reason: string };
  Ping: { nonce: number };
  Pong: { nonce: number };
  Throttle: { retry_after_ms: number };
  Goodbye: { reason: string };
  ServerCommand: { command: string; args?: unknown };
  SendMessage: { cmd_id: number; room_id: number; body: string };
  EditMessage: { cmd_id: number; room_id: number; message_id: string; body: string };
  DeleteMessage: { cmd_id: number; room_id: number; message_id: string };
  AddReaction: { cmd_id: number; room_id: number; message_id: string; emoji: string };
  RemoveReaction: { cmd_id: number; room_id: number; message_id: string; emoji: string };
  JoinRoom: { cmd_id: number; room_id: number };
  LeaveRoom: { cmd_id: number; room_id: number };
  CreateRoom: { cmd_id: number; name: string; room_type: RoomType; members?: string[] };
  RoomMessage: RoomMessagePayload;
  RoomMessageEdited: { room_id: number; seq: number; message_id: string; body: string };
  RoomMessageDeleted: { room_id: number; seq: number; message_id: string };
  RoomReactionAdded: { room_id: number; seq: number; message_id: string; user_id: string; emoji: string };
  RoomReactionRemoved: { room_id: number; seq: number; message_id: string; user_id: string; emoji: string };
  RoomUserJoined: { room_id: number; seq: number; user_id: string; role?: Role };
  RoomUserLeft: { room_id: number; seq: number; user_id: string; role?: Role };
  RoomInit: { room_id: number; seq: number; name: string; room_type: RoomType; members: { user_id: string; role: Role }[]; history: RoomMessagePayload[] };
  RoomClose: { room_id: number; seq: number; reason: string };
  ShardAssignment: { num_shards: number };
  RoomPromoted: { room_id: number };
  RoomDemoted: { room_id: number };
  MessageDelivered: { room_id: number; seq: number };
  MessageRead: { room_id: number; seq: number };
  MessageAck: { cmd_id: number; room_id?: number; message_id?: string; seq?: number };
  UploadStart: { upload_id: string; room_id: number; name: string; size: number };
  /** `data`: base64 (RFC 4648 §4). */
  UploadChunk: { upload_id: string; offset: number; data: string };
  UploadComplete: { upload_id: string };
  UploadCancel: { upload_id: string };
  UploadAck: { upload_id: string; received: number; done: boolean };
  Typing: { room_id: number; user_id: string };
  StopTyping: { room_id: number; user_id: string };
  PresenceOnline: { user_id: string };
  PresenceOffline: { user_id: string };
  PresenceAway: { user_id: string };
  Error: { cmd_id?: number; upload_id?: string; code: number; message: string };
}

/** A frame as the codec hands it out: name and payload (a discriminated union on `name`). */
export type Frame = { [K in FrameName]: { readonly name: K; readonly payload: Payloads[K] } }[FrameName];

/** The names that may travel in a datagram. */
export type DatagramName = 'Typing' | 'StopTyping' | 'PresenceOnline' | 'PresenceOffline' | 'PresenceAway';
