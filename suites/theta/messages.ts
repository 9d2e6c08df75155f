/**
 * Theta control messages (../shared/PROTOCOLS.md § "Theta session"): plain
 * values, encoded to and decoded from FlatBuffers with the flatc-generated
 * code (./schema/generated). Decoding verifies the buffer first
 * (harness/flatbuffers/verifier.ts): no generated accessor ever reads a
 * buffer the verifier has not accepted. Pure; no I/O.
 */
import * as flatbuffers from 'flatbuffers';
import { verifyFlatBuffer, type FlatBufferProblem } from '../../harness/flatbuffers/verifier.js';
import { ControlBody } from './schema/generated/theta/control-body.js';
import { ControlFrame } from './schema/generated/theta/control-frame.js';
import { Heartbeat } from './schema/generated/theta/heartbeat.js';
import { SessionAcknowledge } from './schema/generated/theta/session-acknowledge.js';
import { SessionError } from './schema/generated/theta/session-error.js';
import { SessionHello } from './schema/generated/theta/session-hello.js';
import { ControlFrameTable, FILE_IDENTIFIER } from './schema/tables.js';

/** The client's handshake (first control frame). Nonce 24 bytes, key 32 bytes when well-formed. */
export interface SessionHelloMsg {
  readonly type: 'SessionHello';
  readonly protocolVersion: number;
  /** SipHash-2-4 of the component manifest (u64). */
  readonly schemaHash: bigint;
  readonly clientNonce: Uint8Array;
  /** Requested capability ids (u16), in the client's order. */
  readonly capabilities: readonly number[];
  readonly authToken: string;
  /** Ed25519 public key, raw bytes. */
  readonly publicKey: Uint8Array;
}

/** The server's answer to an accepted SessionHello. */
export interface SessionAcknowledgeMsg {
  readonly type: 'SessionAcknowledge';
  readonly protocolVersion: number;
  readonly schemaHash: bigint;
  readonly serverNonce: Uint8Array;
  readonly sessionId: bigint;
  readonly role: number;
  /** Intersection of requested and server capabilities, ascending. */
  readonly capabilities: readonly number[];
  readonly publicKey: Uint8Array;
}

/** A heartbeat; times are µs since the Unix epoch on the sender's clock. */
export interface HeartbeatMsg {
  readonly type: 'Heartbeat';
  readonly seq: number;
  readonly sentAtUs: bigint;
  readonly echoSeq: number;
  readonly echoSentAtUs: bigint;
  readonly rttUs: number;
  readonly jitterUs: number;
}

/** An error the server may send before closing; `code` is the close code. */
export interface SessionErrorMsg {
  readonly type: 'SessionError';
  readonly code: number;
  readonly reason: string;
}

/** One control message (the `ControlBody` union). */
export type ControlMessage = SessionHelloMsg | SessionAcknowledgeMsg | HeartbeatMsg | SessionErrorMsg;

/**
 * Encodes a control message as a FlatBuffer (`ControlFrame` root, file
 * identifier `THTA`), without the frame's length prefix.
 */
export function encodeControl(msg: ControlMessage): Uint8Array {
  const b = new flatbuffers.Builder(128);
  let body: flatbuffers.Offset;
  let type: ControlBody;
  switch (msg.type) {
    case 'SessionHello': {
      const nonce = SessionHello.createClientNonceVector(b, msg.clientNonce);
      const caps = SessionHello.createCapabilitiesVector(b, [...msg.capabilities]);
      const token = b.createString(msg.authToken);
      const key = SessionHello.createPublicKeyVector(b, msg.publicKey);
      body = SessionHello.createSessionHello(b, msg.protocolVersion, msg.schemaHash, nonce, caps, token, key);
      type = ControlBody.SessionHello;
      break;
    }
    case 'SessionAcknowledge': {
      const nonce = SessionAcknowledge.createServerNonceVector(b, msg.serverNonce);
      const caps = SessionAcknowledge.createCapabilitiesVector(b, [...msg.capabilities]);
      const key = SessionAcknowledge.createPublicKeyVector(b, msg.publicKey);
      body = SessionAcknowledge.createSessionAcknowledge(b, msg.protocolVersion, msg.schemaHash, nonce, msg.sessionId, msg.role, caps, key);
      type = ControlBody.SessionAcknowledge;
      break;
    }
    case 'Heartbeat':
      body = Heartbeat.createHeartbeat(b, msg.seq, msg.sentAtUs, msg.echoSeq, msg.echoSentAtUs, msg.rttUs, msg.jitterUs);
      type = ControlBody.Heartbeat;
      break;
    case 'SessionError': {
      const reason = b.createString(msg.reason);
      body = SessionError.createSessionError(b, msg.code, reason);
      type = ControlBody.SessionError;
      break;
    }
  }
  b.finish(ControlFrame.createControlFrame(b, type, body), FILE_IDENTIFIER);
  return b.asUint8Array().slice();
}

/** Verifier options for every control buffer (one object, not one per call). */
const VERIFY_OPTIONS = { identifier: FILE_IDENTIFIER } as const;

/** Result of {@link decodeControl}: the message, or why the buffer was rejected. */
export type DecodeResult = { readonly ok: true; readonly msg: ControlMessage } | { readonly ok: false; readonly problem: FlatBufferProblem };

/** Bytes of a vector accessor (`fooArray()` returns a view into the buffer, or null when absent). */
function bytesOf(view: Uint8Array | null): Uint8Array {
  return view === null ? new Uint8Array(0) : view.slice();
}

/**
 * Verifies `buf` (one frame's payload) and, when sound, reads it into a
 * {@link ControlMessage}. Never throws on any input: a malformed buffer is
 * `{ ok: false, problem }` naming the verifier rule and byte offset.
 */
export function decodeControl(input: Uint8Array): DecodeResult {
  // Generated vector accessors view the bytes in place as Uint16Array etc.,
  // which needs the buffer's own address aligned: copy when it is not.
  const buf = input.byteOffset % 8 === 0 ? input : input.slice();
  const problem = verifyFlatBuffer(buf, ControlFrameTable, VERIFY_OPTIONS);
  if (problem !== undefined) return { ok: false, problem };
  return readVerifiedControl(buf);
}

/**
 * Reads a control buffer that {@link verifyFlatBuffer} accepted, aligned to
 * 8 bytes. Not for untrusted bytes: use {@link decodeControl}. Exported for
 * the verifier's cost benchmark (bench/flatbuffers.ts: read alone vs. verify + read).
 */
export function readVerifiedControl(buf: Uint8Array): DecodeResult {
  const frame = ControlFrame.getRootAsControlFrame(new flatbuffers.ByteBuffer(buf));
  switch (frame.bodyType()) {
    case ControlBody.SessionHello: {
      const m = frame.body(new SessionHello()) as SessionHello;
      return {
        ok: true,
        msg: {
          type: 'SessionHello',
          protocolVersion: m.protocolVersion(),
          schemaHash: m.schemaHash(),
          clientNonce: bytesOf(m.clientNonceArray()),
          capabilities: [...(m.capabilitiesArray() ?? [])],
          authToken: m.authToken() ?? '',
          publicKey: bytesOf(m.publicKeyArray()),
        },
      };
    }
    case ControlBody.SessionAcknowledge: {
      const m = frame.body(new SessionAcknowledge()) as SessionAcknowledge;
      return {
        ok: true,
        msg: {
          type: 'SessionAcknowledge',
          protocolVersion: m.protocolVersion(),
          schemaHash: m.schemaHash(),
          serverNonce: bytesOf(m.serverNonceArray()),
          sessionId: m.sessionId(),
          role: m.role(),
          capabilities: [...(m.capabilitiesArray() ?? [])],
          publicKey: bytesOf(m.publicKeyArray()),
        },
      };
    }
    case ControlBody.Heartbeat: {
      const m = frame.body(new Heartbeat()) as Heartbeat;
      return {
        ok: true,
        msg: { type: 'Heartbeat', seq: m.seq(), sentAtUs: m.sentAtUs(), echoSeq: m.echoSeq(), echoSentAtUs: m.echoSentAtUs(), rttUs: m.rttUs(), jitterUs: m.jitterUs() },
      };
    }
    case ControlBody.SessionError: {
      const m = frame.body(new SessionError()) as SessionError;
      return { ok: true, msg: { type: 'SessionError', code: m.code(), reason: m.reason() ?? '' } };
    }
    default:
      // Unreachable: the verifier accepts only known, present union members.
      return { ok: false, problem: { rule: 'union-unknown', offset: 0, path: 'ControlFrame.body', message: `ControlFrame.body: union type ${String(frame.bodyType())} is not a member (union-unknown)` } };
  }
}
