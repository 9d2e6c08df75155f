/**
 * Who may do what in a Garou room (SPEC GAROU-6.4, the permission table)
 * and which error refuses a command (GAROU-5.5, the order of refusals).
 * Pure: the model (as monitor and as the reference server's core) asks
 * these; nothing else encodes the table.
 */
import type { ErrorCodeName, Role, RoomType } from './frames.js';
import type { GarouProfile } from './profile.js';

/** What a command asks to do, as the permission table tells it apart (GAROU-6.4). */
export type Action = 'post' | 'edit-own' | 'delete-own' | 'delete-other' | 'react' | 'join' | 'leave' | 'create';

const STAFF: readonly Role[] = ['owner', 'admin', 'moderator'];
const POSTERS: readonly Role[] = [...STAFF, 'member'];
const EVERYONE: readonly Role[] = [...POSTERS, 'guest'];
const NOBODY: readonly Role[] = [];

/**
 * The permission table (GAROU-6.4): for each action and room type, the roles
 * allowed. `react` for guests is the profile's `guestsMayReact`; `create` is
 * judged on the user's base role (GAROU-4.7), never `owner`.
 */
export const PERMISSIONS: Readonly<Record<Action, Readonly<Record<RoomType, readonly Role[]>>>> = {
  post: { direct: POSTERS, group: POSTERS, channel: STAFF },
  'edit-own': { direct: POSTERS, group: POSTERS, channel: STAFF },
  'delete-own': { direct: POSTERS, group: POSTERS, channel: POSTERS },
  'delete-other': { direct: NOBODY, group: STAFF, channel: STAFF },
  react: { direct: POSTERS, group: POSTERS, channel: POSTERS },
  join: { direct: NOBODY, group: EVERYONE, channel: EVERYONE },
  leave: { direct: EVERYONE, group: EVERYONE, channel: EVERYONE },
  create: { direct: ['admin', 'moderator', 'member'], group: ['admin', 'moderator', 'member'], channel: ['admin', 'moderator', 'member'] },
};

/** The commands the table governs (chat commands and UploadStart). */
export type GovernedCommand = 'SendMessage' | 'EditMessage' | 'DeleteMessage' | 'AddReaction' | 'RemoveReaction' | 'JoinRoom' | 'LeaveRoom' | 'CreateRoom' | 'UploadStart';

/**
 * The action a command asks for (GAROU-6.4).
 * @param ownMessage for EditMessage and DeleteMessage: is the target message the sender's?
 * @returns the action, or `undefined` for an edit of another's message (never allowed).
 */
export function actionOf(command: GovernedCommand, ownMessage = true): Action | undefined {
  switch (command) {
    case 'SendMessage':
    case 'UploadStart':
      return 'post';
    case 'EditMessage':
      return ownMessage ? 'edit-own' : undefined;
    case 'DeleteMessage':
      return ownMessage ? 'delete-own' : 'delete-other';
    case 'AddReaction':
    case 'RemoveReaction':
      return 'react';
    case 'JoinRoom':
      return 'join';
    case 'LeaveRoom':
      return 'leave';
    case 'CreateRoom':
      return 'create';
  }
}

/**
 * May `role` do `action` in a room of type `roomType` (GAROU-6.4)?
 * `role` is the sender's role in the room; for `join` and `create` its base role.
 */
export function permitted(action: Action | undefined, roomType: RoomType, role: Role, profile: Pick<GarouProfile, 'guestsMayReact'>): boolean {
  if (action === undefined) return false;
  if (action === 'react' && role === 'guest') return profile.guestsMayReact;
  return PERMISSIONS[action][roomType].includes(role);
}

/** What the server knows when it judges a command; each fact in the order of GAROU-5.5. */
export interface CommandFacts {
  /** The payload is wrong in itself or against the state: empty body, too long, bad member list, already a member, reaction twice. */
  readonly badRequest: boolean;
  /** Over the command rate limit (GAROU-12.2). */
  readonly rateLimited: boolean;
  /** The room exists (and, for CreateRoom, every listed member is connected); undefined when not asked. */
  readonly roomFound?: boolean;
  /** The sender is a member of the room; undefined for JoinRoom and CreateRoom. */
  readonly member?: boolean;
  /** The target message (in the history buffer) or reaction exists; undefined when the command has none. */
  readonly targetFound?: boolean;
  /** The permission table allows it. */
  readonly permitted: boolean;
}

/**
 * The Error code that refuses a command, or undefined when it takes effect:
 * the first that applies in GAROU-5.5's order — BAD_REQUEST, RATE_LIMITED,
 * NOT_FOUND (room), NOT_A_MEMBER, NOT_FOUND (message, reaction), FORBIDDEN.
 */
export function refusal(f: CommandFacts): ErrorCodeName | undefined {
  if (f.badRequest) return 'BAD_REQUEST';
  if (f.rateLimited) return 'RATE_LIMITED';
  if (f.roomFound === false) return 'NOT_FOUND';
  if (f.member === false) return 'NOT_A_MEMBER';
  if (f.targetFound === false) return 'NOT_FOUND';
  if (!f.permitted) return 'FORBIDDEN';
  return undefined;
}
