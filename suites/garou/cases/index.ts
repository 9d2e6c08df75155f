/** Every Garou case, in SPEC section order. */
import type { GarouCase } from './_helpers.js';
import { streamCases } from './03-streams.js';
import { handshakeCases } from './04-handshake.js';
import { commandCases } from './05-commands.js';
import { roomEventCases } from './07-room-events.js';
import { hotRoomCases } from './08-hot-rooms.js';
import { miscCases } from './10-misc.js';

/** The Garou cases. */
export const allCases: readonly GarouCase[] = [...handshakeCases, ...streamCases, ...commandCases, ...roomEventCases, ...hotRoomCases, ...miscCases];
