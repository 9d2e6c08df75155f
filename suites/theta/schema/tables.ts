/**
 * The Theta control schema (theta.fbs, ../shared/PROTOCOLS.md § "Theta
 * session") as the verifier's table descriptions. Field ids follow the
 * declaration order of theta.fbs (a union takes two ids: `body_type`, then
 * `body`); a test checks them against buffers built by the flatc-generated
 * code, so a schema change that is not mirrored here fails.
 *
 * `ControlFrame.body` is marked required: a control frame without a
 * message carries nothing a peer could answer (SPEC THETA-2.3).
 */
import type { TableSchema } from '../../../harness/flatbuffers/verifier.js';

/** File identifier of every control buffer (theta.fbs `file_identifier`). */
export const FILE_IDENTIFIER = 'THTA';

/** Union `ControlBody` type values (theta.fbs declaration order, NONE = 0). */
export const BodyType = {
  NONE: 0,
  SessionHello: 1,
  SessionAcknowledge: 2,
  Heartbeat: 3,
  SessionError: 4,
} as const;

export const SessionHelloTable: TableSchema = {
  name: 'SessionHello',
  fields: [
    { name: 'protocol_version', id: 0, kind: 'scalar', size: 2 },
    { name: 'schema_hash', id: 1, kind: 'scalar', size: 8 },
    { name: 'client_nonce', id: 2, kind: 'vector', elemSize: 1 },
    { name: 'capabilities', id: 3, kind: 'vector', elemSize: 2 },
    { name: 'auth_token', id: 4, kind: 'string' },
    { name: 'public_key', id: 5, kind: 'vector', elemSize: 1 },
  ],
};

export const SessionAcknowledgeTable: TableSchema = {
  name: 'SessionAcknowledge',
  fields: [
    { name: 'protocol_version', id: 0, kind: 'scalar', size: 2 },
    { name: 'schema_hash', id: 1, kind: 'scalar', size: 8 },
    { name: 'server_nonce', id: 2, kind: 'vector', elemSize: 1 },
    { name: 'session_id', id: 3, kind: 'scalar', size: 8 },
    { name: 'role', id: 4, kind: 'scalar', size: 4 },
    { name: 'capabilities', id: 5, kind: 'vector', elemSize: 2 },
    { name: 'public_key', id: 6, kind: 'vector', elemSize: 1 },
  ],
};

export const HeartbeatTable: TableSchema = {
  name: 'Heartbeat',
  fields: [
    { name: 'seq', id: 0, kind: 'scalar', size: 4 },
    { name: 'sent_at_us', id: 1, kind: 'scalar', size: 8 },
    { name: 'echo_seq', id: 2, kind: 'scalar', size: 4 },
    { name: 'echo_sent_at_us', id: 3, kind: 'scalar', size: 8 },
    { name: 'rtt_us', id: 4, kind: 'scalar', size: 4 },
    { name: 'jitter_us', id: 5, kind: 'scalar', size: 4 },
  ],
};

export const SessionErrorTable: TableSchema = {
  name: 'SessionError',
  fields: [
    { name: 'code', id: 0, kind: 'scalar', size: 2 },
    { name: 'reason', id: 1, kind: 'string' },
  ],
};

/** The root table of every control frame. */
export const ControlFrameTable: TableSchema = {
  name: 'ControlFrame',
  fields: [
    {
      name: 'body',
      id: 1,
      kind: 'union',
      required: true,
      members: {
        [BodyType.SessionHello]: () => SessionHelloTable,
        [BodyType.SessionAcknowledge]: () => SessionAcknowledgeTable,
        [BodyType.Heartbeat]: () => HeartbeatTable,
        [BodyType.SessionError]: () => SessionErrorTable,
      },
    },
  ],
};
