/**
 * The Aura wire (shared/PROTOCOLS.md § "Aura choreographies"; SPEC §16):
 * frames `[len:u32 BE][payload]`, the payload a UTF-8 JSON object. The first
 * frame of a stream starts a session; every later one is one message.
 * Pure: bytes in, frames out.
 */

/** RESET_STREAM code of a session that breaks the choreography, and the connection close code of a malformed frame (PROTOCOLS). */
export const AURA_PROTOCOL_VIOLATION = 0x1;

/** Default largest frame payload accepted (bytes): 1 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;

/** Payload fields of a message: field name → JSON value. */
export type AuraPayload = Readonly<Record<string, unknown>>;

/** The first frame of a session (AURA-16.2). `roles` maps each role to `you` (the receiver of this frame plays it) or `peer`. */
export interface StartFrame {
  readonly start: string;
  readonly session: string;
  readonly roles: Readonly<Record<string, 'you' | 'peer'>>;
  readonly params: Readonly<Record<string, unknown>>;
}

/** One message between a role of one side and a role of the other (AURA-16.3). */
export interface MessageFrame {
  readonly from: string;
  readonly to: string;
  readonly label: string;
  readonly payload: AuraPayload;
}

/** A frame: the session start or a message. */
export type AuraFrame = StartFrame | MessageFrame;

/** True for a start frame. */
export const isStart = (f: AuraFrame): f is StartFrame => 'start' in f;

/** Encodes one frame (`[len:u32 BE][UTF-8 JSON]`). */
export function encodeAuraFrame(f: AuraFrame | Readonly<Record<string, unknown>>): Uint8Array {
  const body = Buffer.from(JSON.stringify(f), 'utf8');
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  body.copy(out, 4);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** A malformed frame (AURA-16.1): the reason names what was wrong. */
export class AuraFrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuraFrameError';
  }
}

/**
 * Checks a decoded JSON value is a start frame (`start` first) or a message
 * frame; returns it typed.
 * @throws AuraFrameError naming the missing or mistyped field
 */
export function checkAuraFrame(v: unknown, first: boolean): AuraFrame {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new AuraFrameError('the frame is not a JSON object');
  const o = v as Record<string, unknown>;
  const str = (k: string) => {
    if (typeof o[k] !== 'string') throw new AuraFrameError(`field "${k}" must be a string`);
    return o[k] as string;
  };
  const obj = (k: string) => {
    const x = o[k];
    if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new AuraFrameError(`field "${k}" must be an object`);
    return x as Record<string, unknown>;
  };
  if (first) {
    const roles = obj('roles');
    for (const [r, side] of Object.entries(roles)) if (side !== 'you' && side !== 'peer') throw new AuraFrameError(`roles.${r} must be "you" or "peer"`);
    return { start: str('start'), session: String(o['session'] ?? ''), roles: roles as StartFrame['roles'], params: o['params'] === undefined ? {} : obj('params') };
  }
  return { from: str('from'), to: str('to'), label: str('label'), payload: o['payload'] === undefined ? {} : obj('payload') };
}

/** Splits a byte stream into frames. */
export class AuraFrameDecoder {
  private buf: Buffer = Buffer.alloc(0);
  private count = 0;

  /**
   * @param startFirst the stream's first frame is a start frame (the harness's direction); false for the target's direction
   * @param maxFrameBytes largest payload accepted
   */
  constructor(private readonly startFirst = true, private readonly maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES) {}

  /**
   * Adds bytes; returns the whole frames now available (the first one of
   * the stream checked as a start frame).
   * @throws AuraFrameError on a frame over the limit, bad UTF-8/JSON or a malformed frame
   */
  push(bytes: Uint8Array): AuraFrame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, bytes]) : Buffer.from(bytes);
    const out: AuraFrame[] = [];
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0);
      if (len > this.maxFrameBytes) throw new AuraFrameError(`frame length ${len} exceeds the limit ${this.maxFrameBytes}`);
      if (this.buf.length < 4 + len) break;
      const text = this.buf.subarray(4, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      let v: unknown;
      try {
        v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(text));
      } catch (e) {
        throw new AuraFrameError(`frame ${this.count} is not UTF-8 JSON (${(e as Error).message})`);
      }
      out.push(checkAuraFrame(v, this.startFirst && this.count === 0));
      this.count++;
    }
    return out;
  }

  /** Bytes of an incomplete frame held. */
  get pending(): number {
    return this.buf.length;
  }
}
