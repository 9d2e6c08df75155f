/**
 * Malformed envelopes on one connection (SPEC §2, §4, §5, §6): a valid
 * envelope, between valid ones it is coalesced with, is mutated — truncated,
 * extended, its length field lying (larger or smaller than the payload, the
 * maximum with a short payload, over `maxPayloadBytes`, huge u32 values),
 * an oversized or maximum-size payload really sent, a bit flipped in the
 * header or payload — then cut into writes (one write, every byte boundary,
 * chosen offsets, with pauses) and ended in one of the ways the SPEC gives
 * meaning to: FIN (truncated frame, 5.2, or "no more requests", 6.2), a
 * close or an RST mid-frame (6.3), completing the envelope at once or after
 * a silence (a stall mid-frame, 7.2), a silence around a timer, or a PING
 * right after (swallowed by a length that lies). Optionally a PING follows
 * on the same connection, on a new one (served at once: 5.3, 8.5), or on a
 * second connection opened before (each connection has its own framing
 * state: 6.1).
 */
import fc from 'fast-check';
import type { FuzzProgram } from '../../../harness/fuzz/types.js';
import { encodeEnvelope, encodeEnvelopes, encodeHeader, HEADER_SIZE, MAX_LENGTH_FIELD, PING, type Envelope } from '../codec.js';
import type { MoonpoolProfile } from '../profile.js';
import { aroundTimer, chunking, chunkingText, correlationId, cut, oversizedLength, payload, type Chunking } from './_arbs.js';
import { MoonpoolProgramBuilder, type ProgramConn } from './program.js';

/** Largest payload a program really sends (bytes): an oversized or maximum-size envelope is cut there (the server must act on the header). */
export const PAYLOAD_CAP = 1_048_576 + 64;

/** How the target envelope is changed. */
type Mutation =
  | { readonly type: 'none' }
  | { readonly type: 'truncate'; readonly drop: number }
  | { readonly type: 'extend'; readonly extra: readonly number[] }
  | { readonly type: 'len-larger'; readonly by: number }
  | { readonly type: 'len-smaller'; readonly by: number }
  | { readonly type: 'len-max' }
  | { readonly type: 'len-over'; readonly value: number }
  | { readonly type: 'oversized-payload'; readonly extra: number }
  | { readonly type: 'max-payload' }
  | { readonly type: 'bitflip'; readonly at: number; readonly bit: number; readonly header: boolean };

/** What happens after the bytes. */
type Ending = 'none' | 'fin' | 'close' | 'reset' | 'complete' | 'silence-then-complete' | 'silence' | 'ping';

interface Spec {
  readonly before: readonly Envelope[];
  readonly target: Envelope;
  readonly after: readonly Envelope[];
  readonly mutation: Mutation;
  readonly chunking: Chunking;
  /** Pause between writes (ms, below the tolerance). */
  readonly pauseMs: number;
  readonly ending: Ending;
  /** The wait of a `silence` ending (duration expression). */
  readonly silence: string;
  readonly followUp: 'none' | 'same' | 'new';
  /** A second connection opened first, with a PING before and after (MOONPOOL-6.1). */
  readonly bystander: boolean;
}

const envelope: fc.Arbitrary<Envelope> = fc.record({ correlationId, payload });

function mutation(max: number): fc.Arbitrary<Mutation> {
  return fc.oneof(
    { withCrossShrink: true },
    { arbitrary: fc.constant<Mutation>({ type: 'none' }), weight: 1 },
    { arbitrary: fc.integer({ min: 1, max: 20 }).map((drop): Mutation => ({ type: 'truncate', drop })), weight: 2 },
    { arbitrary: fc.array(fc.nat(0xff), { minLength: 1, maxLength: 14 }).map((extra): Mutation => ({ type: 'extend', extra })), weight: 1 },
    { arbitrary: fc.integer({ min: 1, max: 40 }).map((by): Mutation => ({ type: 'len-larger', by })), weight: 2 },
    { arbitrary: fc.integer({ min: 1, max: 16 }).map((by): Mutation => ({ type: 'len-smaller', by })), weight: 2 },
    { arbitrary: fc.constant<Mutation>({ type: 'len-max' }), weight: 1 },
    { arbitrary: oversizedLength(max).map((value): Mutation => ({ type: 'len-over', value })), weight: 2 },
    { arbitrary: fc.integer({ min: 1, max: 16 }).map((extra): Mutation => ({ type: 'oversized-payload', extra })), weight: 1 },
    { arbitrary: fc.constant<Mutation>({ type: 'max-payload' }), weight: 1 },
    { arbitrary: fc.record({ at: fc.nat(63), bit: fc.nat(7), header: fc.boolean() }).map((m): Mutation => ({ type: 'bitflip', ...m })), weight: 2 },
  );
}

function spec(profile: MoonpoolProfile): fc.Arbitrary<Spec> {
  const timers = ['replyDeadlineMs', 'stallMs', ...(profile.idleTimeoutMs > 0 ? ['idleTimeoutMs'] : [])];
  return fc.record({
    before: fc.array(envelope, { maxLength: 2 }),
    target: envelope,
    after: fc.array(envelope, { maxLength: 1 }),
    mutation: mutation(profile.maxPayloadBytes),
    chunking,
    pauseMs: fc.constantFrom(0, 0, 0, 1, 5),
    ending: fc.constantFrom<Ending>('none', 'fin', 'close', 'reset', 'complete', 'silence-then-complete', 'silence', 'ping'),
    silence: fc.constantFrom(...timers).chain(aroundTimer),
    followUp: fc.constantFrom('none' as const, 'same' as const, 'new' as const),
    bystander: fc.boolean(),
  });
}

/** A header with `len` and `body` after it. */
function framed(id: bigint, len: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE + body.length);
  out.set(encodeHeader(id, len), 0);
  out.set(body, HEADER_SIZE);
  return out;
}

/** The target's bytes after the mutation, and the mutation in words. */
function mutate(profile: MoonpoolProfile, e: Envelope, m: Mutation): { bytes: Uint8Array; text: string } {
  const max = profile.maxPayloadBytes;
  const original = encodeEnvelope(e);
  const id = e.correlationId;
  const n = e.payload.length;
  switch (m.type) {
    case 'none':
      return { bytes: original, text: 'intact' };
    case 'truncate': {
      const drop = Math.min(m.drop, original.length - 1);
      return { bytes: original.subarray(0, original.length - drop), text: `truncated by ${drop} byte${drop > 1 ? 's' : ''} (${original.length - drop} of ${original.length})` };
    }
    case 'extend':
      return { bytes: new Uint8Array([...original, ...m.extra]), text: `with ${m.extra.length} stray byte${m.extra.length > 1 ? 's' : ''} appended (read as the start of a next header)` };
    case 'len-larger': {
      const len = Math.min(n + m.by, max);
      return { bytes: framed(id, len, e.payload), text: `with a length field that lies: ${len} for a ${n}-byte payload (the server waits for ${len - n} more)` };
    }
    case 'len-smaller': {
      const len = Math.max(0, n - m.by);
      return { bytes: framed(id, len, e.payload), text: `with a length field that lies: ${len} for a ${n}-byte payload (the rest is read as a next header)` };
    }
    case 'len-max':
      return { bytes: framed(id, max, e.payload), text: `with a length field of maxPayloadBytes (${max}) for a ${n}-byte payload` };
    case 'len-over':
      return { bytes: framed(id, m.value, e.payload), text: `with a length field of ${m.value} (0x${m.value.toString(16)}), over maxPayloadBytes ${max}` };
    case 'oversized-payload': {
      const len = Math.min(max + m.extra, MAX_LENGTH_FIELD);
      const sent = Math.min(len, PAYLOAD_CAP);
      return { bytes: framed(id, len, new Uint8Array(sent).fill(0x41)), text: `with an oversized payload: ${len} bytes announced, over maxPayloadBytes ${max}, ${sent === len ? 'all sent' : `${sent} sent`}` };
    }
    case 'max-payload': {
      const sent = Math.min(max, PAYLOAD_CAP);
      return { bytes: framed(id, max, new Uint8Array(sent).fill(0x5a)), text: `with a payload of exactly maxPayloadBytes (${max})${sent < max ? `, ${sent} bytes of it sent` : ''}` };
    }
    case 'bitflip': {
      const at = m.header || n === 0 ? m.at % HEADER_SIZE : HEADER_SIZE + (m.at % n);
      const bytes = new Uint8Array(original);
      bytes[at]! ^= 1 << m.bit;
      const field = at < 8 ? 'correlation id' : at < HEADER_SIZE ? 'length field' : 'payload';
      return { bytes, text: `with bit ${m.bit} of byte ${at} (${field}) flipped: 0x${original[at]!.toString(16).padStart(2, '0')} → 0x${bytes[at]!.toString(16).padStart(2, '0')}` };
    }
  }
}

const FOLLOW_ID = 9001n;

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function build(profile: MoonpoolProfile, s: Spec): FuzzProgram {
  const b = new MoonpoolProgramBuilder(profile, 'malformed-envelopes');
  const ping = (c: ProgramConn, id: bigint, name: string) => b.write(c, encodeEnvelope({ correlationId: id, payload: PING }), name);
  const bystander = s.bystander && profile.concurrentConnections ? b.connect('a bystander connection (each connection has its own framing: MOONPOOL-6.1)') : undefined;
  if (bystander) ping(bystander, 1n, 'bystander');
  const conn = b.connect();
  const { bytes: target, text } = mutate(profile, s.target, s.mutation);
  const bytes = concat([encodeEnvelopes(s.before), target, encodeEnvelopes(s.after)]);
  const pieces = cut(bytes, s.chunking);
  pieces.forEach((p, i) => {
    if (i > 0 && s.pauseMs > 0) b.pause(s.pauseMs, conn, `pause ${s.pauseMs} ms between writes`);
    b.write(conn, p, pieces.length > 1 ? `piece ${i + 1}/${pieces.length}` : undefined);
  });
  let endText = '';
  if (b.isLive(conn)) {
    const partial = conn.framer.partial;
    switch (s.ending) {
      case 'none':
        break;
      case 'fin':
        b.fin(conn);
        endText = partial > 0 ? ', then FIN mid-frame' : ', then FIN';
        break;
      case 'close':
        b.close(conn);
        endText = partial > 0 ? ', then closes mid-frame' : ', then closes';
        break;
      case 'reset':
        b.reset(conn);
        endText = partial > 0 ? ', then an RST mid-frame' : ', then an RST';
        break;
      case 'complete':
      case 'silence-then-complete': {
        const need = conn.framer.need;
        if (need === undefined || partial === 0 || need - partial > PAYLOAD_CAP) break; // (A length of GiBs is left incomplete.)
        if (s.ending === 'silence-then-complete') b.wait('stallMs', 'stay silent for stallMs mid-frame (a stall mid-frame: MOONPOOL-7.1, 7.2)');
        if (!b.isLive(conn)) break;
        // A header completed with zeros has length 0: its envelope is then complete.
        b.write(conn, new Uint8Array(partial < HEADER_SIZE ? HEADER_SIZE - partial : need - partial).fill(partial < HEADER_SIZE ? 0 : 0x2e), 'complete the envelope');
        endText = s.ending === 'complete' ? ', then completes the envelope' : ', then completes it after a silence of stallMs';
        break;
      }
      case 'silence':
        b.wait(s.silence, `stay silent${partial > 0 ? ' mid-frame' : ''}: ${s.silence}`);
        endText = `, then stays silent (${s.silence})`;
        break;
      case 'ping':
        ping(conn, FOLLOW_ID - 1n, 'a PING right after (swallowed if a length lied)');
        endText = ', then a PING right after';
        break;
    }
  }
  if (s.followUp === 'same' && b.isLive(conn)) {
    ping(conn, FOLLOW_ID, 'follow-up on the same connection');
    endText += ', then a PING on the same connection';
  } else if (s.followUp === 'new') {
    ping(b.connect('a new connection: served at once (MOONPOOL-5.3, 8.5)'), FOLLOW_ID, 'follow-up on a new connection');
    endText += ', then a PING on a new connection';
  }
  if (bystander && b.isLive(bystander)) {
    ping(bystander, 2n, 'the bystander is still served (MOONPOOL-5.3, 6.1)');
    endText += ', and one on the bystander connection';
  }
  const others = [s.before.length ? `${s.before.length} before` : '', s.after.length ? `${s.after.length} after` : ''].filter(Boolean).join(' and ');
  const coalesced = others ? `, coalesced with valid envelopes (${others})` : '';
  return b.build(`Sends envelope #${s.target.correlationId} ${text}${coalesced}, ${chunkingText(s.chunking, pieces.length, bytes.length)}${endText}.`);
}

/** Malformed envelopes for a profile (name `malformed-envelopes`). */
export function malformedEnvelopes(profile: MoonpoolProfile): fc.Arbitrary<FuzzProgram> {
  return spec(profile).map((s) => build(profile, s));
}
