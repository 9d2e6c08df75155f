/**
 * One Garou connection as the server sees it (SPEC GAROU-3.1, 3.4, 3.5, 3.7,
 * 4, 12.1, 13.3, 13.4): the handshake on the control stream, its timeout,
 * which client streams may be opened when, Ping/Pong, Goodbye, and the
 * connection close every violation costs. Pure: inputs (client frames and
 * stream events, already decoded by the codec, and the time) in, actions
 * (frames for the control stream, shard streams to open, a close) out.
 * Commands, acks and uploads are the caller's once the session is
 * authenticated (rooms.ts, uploads.ts).
 */
import { CLOSE_CODES, type Frame } from './frames.js';
import type { GarouCodecError } from './codec.js';
import type { GarouProfile } from './profile.js';

/** The profile fields a session reads. */
export type SessionProfile = Pick<GarouProfile, 'protocolVersion' | 'handshakeTimeoutMs' | 'numShards' | 'versionMismatch'>;

/** Something that happened on the connection. */
export type SessionInput =
  /** A whole frame on the control stream (client → server). */
  | { readonly kind: 'frame'; readonly frame: Frame }
  /** A client unidirectional stream's header was read. */
  | { readonly kind: 'uni'; readonly stream: 'commands' | 'acks' | 'upload' }
  /** The client opened a bidirectional stream other than the control stream. */
  | { readonly kind: 'bidi' }
  /** The client ended the control stream (FIN). */
  | { readonly kind: 'control-fin' }
  /** The codec rejected bytes on some stream. */
  | { readonly kind: 'codec-error'; readonly error: GarouCodecError };

/** What the server does. */
export type SessionAction =
  /** Send a frame on the control stream. */
  | { readonly kind: 'send'; readonly frame: Frame }
  /** Open the shard streams `0 … count − 1` (GAROU-3.5). */
  | { readonly kind: 'open-shards'; readonly count: number }
  /** Close the connection with an application error code and a reason naming the rule (GAROU-13.2, 13.3). */
  | { readonly kind: 'close'; readonly code: number; readonly reason: string };

/** The verdict on an Auth: a user id, or a reason to refuse (GAROU-4.4). */
export type AuthDecision = { readonly ok: true; readonly userId: string } | { readonly ok: false; readonly reason: string };

/** Handshake phases (GAROU-4.1). */
export type SessionPhase = 'await-hello' | 'await-auth' | 'authenticated' | 'closed';

/** One connection's session state. */
export class Session {
  private phase: SessionPhase = 'await-hello';
  private readonly opened = new Set<string>();
  private user: string | undefined;

  /** When the QUIC handshake completed (ms): the handshake timeout runs from here (GAROU-4.5). */
  readonly startedAt: number;
  private readonly sessionId: string;
  private readonly authenticate: (username: string, token: string | undefined) => AuthDecision;

  /**
   * @param opts.startedAt when the QUIC handshake completed (ms).
   * @param opts.sessionId the HelloAck's `session_id` (unique per connection).
   * @param opts.authenticate decides an Auth with a non-empty username (the server's user directory; duplicate logins, GAROU-4.4).
   */
  constructor(
    readonly profile: SessionProfile,
    opts: { readonly startedAt: number; readonly sessionId: string; readonly authenticate: (username: string, token: string | undefined) => AuthDecision },
  ) {
    this.startedAt = opts.startedAt;
    this.sessionId = opts.sessionId;
    this.authenticate = opts.authenticate;
  }

  /** The current phase. */
  get state(): SessionPhase {
    return this.phase;
  }

  /** The authenticated user id, once AuthOk was sent. */
  get userId(): string | undefined {
    return this.user;
  }

  /** When the handshake timeout fires (ms), while not authenticated; undefined otherwise. */
  deadline(): number | undefined {
    return this.phase === 'await-hello' || this.phase === 'await-auth' ? this.startedAt + this.profile.handshakeTimeoutMs : undefined;
  }

  /** Time passes to `now` (ms): closes with `0x3 HANDSHAKE_TIMEOUT` when no AuthOk was sent in time (GAROU-4.5). */
  tick(now: number): SessionAction[] {
    const due = this.deadline();
    if (due === undefined || now < due) return [];
    return this.close(CLOSE_CODES.HANDSHAKE_TIMEOUT, `GAROU-4.5 no AuthOk within ${this.profile.handshakeTimeoutMs} ms`);
  }

  /** Handles one input; returns the actions, in order. Nothing happens after a close. */
  input(i: SessionInput): SessionAction[] {
    if (this.phase === 'closed') return [];
    switch (i.kind) {
      case 'codec-error':
        return this.close(i.error.closeCode, i.error.reason());
      case 'bidi':
        return this.close(CLOSE_CODES.PROTOCOL_VIOLATION, 'GAROU-3.1 a second bidirectional stream');
      case 'control-fin':
        return this.close(CLOSE_CODES.NO_ERROR, 'GAROU-3.7 control stream ended');
      case 'uni':
        if (this.phase !== 'authenticated') return this.close(CLOSE_CODES.PROTOCOL_VIOLATION, `GAROU-3.4 ${i.stream} stream opened before AuthOk`);
        if (this.opened.has(i.stream)) return this.close(CLOSE_CODES.PROTOCOL_VIOLATION, `GAROU-3.4 a second ${i.stream} stream`);
        this.opened.add(i.stream);
        return [];
      case 'frame':
        return this.frame(i.frame);
    }
  }

  private frame(f: Frame): SessionAction[] {
    const violation = (what: string): SessionAction[] => this.close(CLOSE_CODES.PROTOCOL_VIOLATION, `GAROU-4.3 ${what}`);
    switch (f.name) {
      case 'Hello': {
        if (this.phase !== 'await-hello') return violation('a second Hello');
        const v = this.profile.protocolVersion;
        if (f.payload.version !== v && this.profile.versionMismatch === 'close') {
          return this.close(CLOSE_CODES.PROTOCOL_VIOLATION, `GAROU-4.2 unsupported version ${f.payload.version} (server speaks ${v})`);
        }
        this.phase = 'await-auth';
        return [{ kind: 'send', frame: { name: 'HelloAck', payload: { version: v, session_id: this.sessionId } } }];
      }
      case 'Auth': {
        if (this.phase === 'await-hello') return violation('Auth before Hello');
        if (this.phase === 'authenticated') return violation('Auth after AuthOk');
        const d = f.payload.username === '' ? ({ ok: false, reason: 'empty username' } as const) : this.authenticate(f.payload.username, f.payload.token);
        if (!d.ok) {
          return [{ kind: 'send', frame: { name: 'AuthFailed', payload: { reason: d.reason } } }, ...this.close(CLOSE_CODES.AUTH_FAILED, `GAROU-4.4 ${d.reason}`)];
        }
        this.phase = 'authenticated';
        this.user = d.userId;
        return [
          { kind: 'send', frame: { name: 'AuthOk', payload: { user_id: d.userId } } },
          { kind: 'open-shards', count: this.profile.numShards },
          { kind: 'send', frame: { name: 'ShardAssignment', payload: { num_shards: this.profile.numShards } } },
        ];
      }
      case 'Ping':
        if (this.phase === 'await-hello') return violation('Ping before Hello');
        return [{ kind: 'send', frame: { name: 'Pong', payload: { nonce: f.payload.nonce } } }];
      case 'Pong':
        if (this.phase === 'await-hello') return violation('Pong before Hello');
        return [];
      case 'Goodbye':
        if (this.phase !== 'authenticated') return violation('Goodbye before AuthOk');
        return this.close(CLOSE_CODES.NO_ERROR, `GAROU-13.4 goodbye: ${f.payload.reason.slice(0, 100)}`);
      default:
        // The codec only lets control frames through; anything else here is the caller's mistake.
        return violation(`${f.name} on the control stream`);
    }
  }

  private close(code: number, reason: string): SessionAction[] {
    this.phase = 'closed';
    return [{ kind: 'close', code, reason }];
  }
}
