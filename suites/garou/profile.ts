/**
 * Garou target profile: the limits, timers, thresholds and open readings of
 * a server under test (SPEC.md "Profile"). Defaults are the seed's where it
 * names a value (8 shards, 100 / 20 msgs/s, 60 s cooldown, 10 hot rooms,
 * 10,000 connections), PROTOCOLS.md's (1 MiB frames, 5 s handshake timeout)
 * and the reference server's otherwise.
 */
import schema from './profile.schema.json' with { type: 'json' };
import type { Role } from './frames.js';

/** Limits (bytes), timers (ms), thresholds (events/s) and readings of a Garou target. */
export interface GarouProfile {
  /** ALPN id (GAROU-1.1). */
  readonly alpn: string;
  /** Protocol version sent in Hello (GAROU-4.1). */
  readonly protocolVersion: number;
  /** Largest frame payload accepted, bytes (GAROU-2.3, 14.1). */
  readonly maxFrameBytes: number;
  /** Authenticated connections the server holds at once (GAROU-14.2). */
  readonly maxConnections: number;
  /** AuthOk must come within this of the QUIC handshake (GAROU-4.5). */
  readonly handshakeTimeoutMs: number;
  /** Answers, fan-out, relays and owed closes must come within this (GAROU-5.2, 7.2, 10.1, 11.3, 12.1, 13.3). */
  readonly replyDeadlineMs: number;
  /** Timing tolerance around every deadline the harness checks. */
  readonly toleranceMs: number;
  /** Shard streams per connection (GAROU-3.5, 4.6); 1–255. */
  readonly numShards: number;
  /** Messages kept in a room's circular history buffer (GAROU-7.5). */
  readonly historySize: number;
  /** Largest `body` / `name`, UTF-8 bytes (GAROU-6.5). */
  readonly maxBodyBytes: number;
  /** Largest upload `size`, bytes (GAROU-10.2). */
  readonly maxUploadBytes: number;
  /** Promotion threshold, events/s; promote when the rate exceeds it (GAROU-8.2). */
  readonly hotThreshold: number;
  /** Demotion threshold, events/s (GAROU-8.3). */
  readonly coldThreshold: number;
  /** Cooldown before a demotion (GAROU-8.3). */
  readonly cooldownMs: number;
  /** Rooms hot at once on the server (GAROU-8.2, 8.4). */
  readonly maxHotRooms: number;
  /** Window over which a room's rate is measured (GAROU-8.1). */
  readonly rateWindowMs: number;
  /** Relative slack the harness allows around rate thresholds (GAROU-8.7). */
  readonly rateTolerance: number;
  /** Commands per second per connection before RATE_LIMITED; 0 = no limit (GAROU-12.2). */
  readonly commandRateLimit: number;
  /** Base role of a username in the server's directory; others are `member` (GAROU-4.7). */
  readonly userRoles: Readonly<Record<string, Exclude<Role, 'owner'>>>;
  /** A command with a valid cmd_id breaking its schema: Error BAD_REQUEST, or close 0x1 (GAROU-2.5). */
  readonly badPayload: 'error' | 'close';
  /** An unsupported Hello version: close 0x1, or HelloAck with the server's version (GAROU-4.2). */
  readonly versionMismatch: 'close' | 'answer';
  /** A second connection of a connected user: allowed, or AuthFailed (GAROU-4.4). */
  readonly duplicateLogin: 'allow' | 'reject';
  /** Shard stream headers written at once after AuthOk, or with the first event (GAROU-3.5). */
  readonly shardStreamOpen: 'eager' | 'lazy';
  /** When a user's last connection ends: it leaves its rooms, or stays a member (GAROU-6.3). */
  readonly membershipOnDisconnect: 'leave' | 'keep';
  /** The owner leaving a group or channel: the room continues, or closes (GAROU-6.3). */
  readonly ownerLeave: 'continue' | 'close';
  /** May guests add and remove reactions (GAROU-6.4)? */
  readonly guestsMayReact: boolean;
  /** Does a joiner get RoomInit `s − 1` then its own RoomUserJoined `s` (GAROU-7.4)? */
  readonly joinerGetsOwnJoin: boolean;
  /** Does a leaver get its own RoomUserLeft (GAROU-7.2)? */
  readonly leaverGetsOwnLeave: boolean;
  /** What counts toward a room's rate: RoomMessages only, or every room event (GAROU-8.1). */
  readonly rateCounts: 'messages' | 'events';
  /** The cooldown runs from the moment the rate fell below the cold threshold, or from the promotion (GAROU-8.3). */
  readonly cooldownFrom: 'cold' | 'promotion';
  /** A malformed datagram: close 0x1, or drop it (GAROU-11.2). */
  readonly badDatagram: 'close' | 'drop';
  /** A finished upload: no room event, or a RoomMessage naming the file (GAROU-10.2). */
  readonly uploadAnnounce: 'none' | 'message';
}

/** The defaults (seed, PROTOCOLS.md and the reference server). */
export const defaultProfile: GarouProfile = {
  alpn: 'garou',
  protocolVersion: 1,
  maxFrameBytes: 1_048_576,
  maxConnections: 10_000,
  handshakeTimeoutMs: 5_000,
  replyDeadlineMs: 1_000,
  toleranceMs: 250,
  numShards: 8,
  historySize: 100,
  maxBodyBytes: 4_096,
  maxUploadBytes: 10_485_760,
  hotThreshold: 100,
  coldThreshold: 20,
  cooldownMs: 60_000,
  maxHotRooms: 10,
  rateWindowMs: 1_000,
  rateTolerance: 0.25,
  commandRateLimit: 0,
  userRoles: { admin: 'admin', mod: 'moderator', guest: 'guest' },
  badPayload: 'error',
  versionMismatch: 'close',
  duplicateLogin: 'allow',
  shardStreamOpen: 'eager',
  membershipOnDisconnect: 'leave',
  ownerLeave: 'continue',
  guestsMayReact: false,
  joinerGetsOwnJoin: false,
  leaverGetsOwnLeave: true,
  rateCounts: 'messages',
  cooldownFrom: 'cold',
  badDatagram: 'close',
  uploadAnnounce: 'none',
};

/**
 * Short timers, low thresholds and small limits for in-process runs and CI:
 * a promotion after 10 messages/s, a demotion after 600 ms, the whole suite
 * in seconds.
 */
export const fastProfile: GarouProfile = {
  ...defaultProfile,
  maxFrameBytes: 65_536,
  handshakeTimeoutMs: 500,
  replyDeadlineMs: 500,
  toleranceMs: 200,
  numShards: 4,
  historySize: 5,
  maxBodyBytes: 1_024,
  maxUploadBytes: 65_536,
  hotThreshold: 10,
  coldThreshold: 2,
  cooldownMs: 600,
  maxHotRooms: 2,
  rateWindowMs: 500,
};

/** JSON Schema (2020-12) of a profile file. */
export const profileSchema: object = schema;

/**
 * Checks relations between fields that a JSON Schema cannot express.
 * @returns messages naming each field that is wrong (empty when consistent).
 */
export function checkProfile(p: GarouProfile): string[] {
  const errs: string[] = [];
  if (p.coldThreshold >= p.hotThreshold) {
    errs.push(`/coldThreshold (${p.coldThreshold}) must be below /hotThreshold (${p.hotThreshold}) (GAROU-8.2, 8.3)`);
  }
  if (p.toleranceMs >= p.handshakeTimeoutMs) {
    errs.push(`/toleranceMs (${p.toleranceMs}) must be below /handshakeTimeoutMs (${p.handshakeTimeoutMs}) (GAROU-4.5)`);
  }
  if (p.toleranceMs >= p.replyDeadlineMs) {
    errs.push(`/toleranceMs (${p.toleranceMs}) must be below /replyDeadlineMs (${p.replyDeadlineMs}) (GAROU-5.2)`);
  }
  if (p.maxBodyBytes >= p.maxFrameBytes) {
    errs.push(`/maxBodyBytes (${p.maxBodyBytes}) must be below /maxFrameBytes (${p.maxFrameBytes}): a body travels in a frame (GAROU-6.5, 2.3)`);
  }
  return errs;
}
