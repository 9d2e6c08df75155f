/**
 * Malformed frames on one stream (SPEC §1.3, §4–§7): a valid frame
 * sequence (discriminator, then items) is mutated (truncated, extended,
 * oversized values, a bit flipped), cut into writes (coalesced, split at
 * every byte boundary, split at random offsets), and ended in one of the
 * ways the SPEC gives meaning to (FIN, RESET_STREAM, STOP_SENDING mid-frame,
 * a close, a wait past the receive timeout, completing the item).
 *
 * Proton has no length fields: every item is 4 bytes, so "a length that
 * lies" has no wire form here; its nearest analogue, a frame shorter or
 * longer than the receiver assumes, is truncation and extension.
 */
import fc from 'fast-check';
import type { FuzzProgram } from '../../../harness/fuzz/types.js';
import { Discriminator, encodeItems } from '../codec.js';
import type { ProtonProfile } from '../profile.js';
import { chunking, chunkingText, cut, edgeItem, idGap, increasingIds, streamCode, u32, type Chunking } from './_arbs.js';
import { ProtonProgramBuilder } from './program.js';

/** How the valid bytes are changed. */
type Mutation =
  | { readonly type: 'none' }
  | { readonly type: 'truncate'; readonly drop: number }
  | { readonly type: 'extend'; readonly extra: readonly number[] }
  | { readonly type: 'oversized'; readonly value: number }
  | { readonly type: 'bitflip'; readonly at: number; readonly bit: number };

/** What happens after the bytes. */
type Ending = 'none' | 'fin' | 'reset' | 'stopSending' | 'close' | 'complete-at-once' | 'complete-before-timeout' | 'wait-past-timeout';

interface Spec {
  readonly kind: 'event' | 'commit' | 'action';
  readonly gaps: readonly number[];
  readonly commitId: number;
  readonly mutation: Mutation;
  readonly chunking: Chunking;
  /** Pause between writes (ms). */
  readonly pauseMs: number;
  readonly ending: Ending;
  readonly code: number;
  /** Then a valid exchange on a fresh Event stream (or Commit when the mutated one is the Event stream). */
  readonly followUp: boolean;
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { withCrossShrink: true },
  fc.constant<Mutation>({ type: 'none' }),
  fc.integer({ min: 1, max: 3 }).map((drop): Mutation => ({ type: 'truncate', drop })),
  fc.array(fc.nat(0xff), { minLength: 1, maxLength: 3 }).map((extra): Mutation => ({ type: 'extend', extra })),
  edgeItem.map((value): Mutation => ({ type: 'oversized', value })),
  fc.tuple(fc.nat(40), fc.nat(7)).map(([at, bit]): Mutation => ({ type: 'bitflip', at, bit })),
);

const spec: fc.Arbitrary<Spec> = fc.record({
  kind: fc.constantFrom('event' as const, 'commit' as const, 'action' as const),
  gaps: fc.array(idGap, { minLength: 1, maxLength: 4 }),
  commitId: u32,
  mutation,
  chunking,
  pauseMs: fc.constantFrom(0, 0, 1, 5),
  ending: fc.constantFrom<Ending>('none', 'fin', 'reset', 'stopSending', 'close', 'complete-at-once', 'complete-before-timeout', 'wait-past-timeout'),
  code: streamCode,
  followUp: fc.boolean(),
});

function mutationText(m: Mutation, bytes: Uint8Array, original: Uint8Array): string {
  switch (m.type) {
    case 'none':
      return 'unchanged';
    case 'truncate':
      return `the last item truncated by ${m.drop} byte${m.drop > 1 ? 's' : ''}`;
    case 'extend':
      return `${m.extra.length} extra byte${m.extra.length > 1 ? 's' : ''} appended`;
    case 'oversized':
      return `the last item set to ${m.value} (0x${m.value.toString(16)})`;
    case 'bitflip': {
      const at = m.at % original.length;
      return `bit ${m.bit} of byte ${at} flipped (0x${original[at]!.toString(16).padStart(2, '0')} → 0x${bytes[at]!.toString(16).padStart(2, '0')})`;
    }
  }
}

function build(profile: ProtonProfile, s: Spec): FuzzProgram {
  const b = new ProtonProgramBuilder(profile, 'malformed-frames');
  const conn = b.connect();
  const st = b.open(conn);
  const disc = s.kind === 'event' ? Discriminator.Event : s.kind === 'commit' ? Discriminator.StateCommit : Discriminator.Action;
  // StateCommit: one request, or (one time in four) two coalesced, the second one outstanding (PROTON-5.2).
  const items = s.kind === 'event' ? increasingIds(0, s.gaps) : s.kind === 'commit' ? (s.gaps.length === 4 ? [s.commitId, s.gaps[0]!] : [s.commitId]) : [];
  const original = new Uint8Array([disc, ...encodeItems(items)]);
  let bytes = original;
  const m = s.mutation;
  if (m.type === 'truncate') bytes = original.subarray(0, Math.max(1, original.length - m.drop));
  else if (m.type === 'extend') bytes = new Uint8Array([...original, ...m.extra]);
  else if (m.type === 'oversized') bytes = items.length ? new Uint8Array([disc, ...encodeItems([...items.slice(0, -1), m.value])]) : new Uint8Array([disc, ...encodeItems([m.value])]);
  else if (m.type === 'bitflip') {
    bytes = new Uint8Array(original);
    bytes[m.at % bytes.length]! ^= 1 << m.bit;
  }
  const mText = mutationText(m, bytes, original);
  const pieces = cut(bytes, s.chunking);
  pieces.forEach((p, i) => {
    if (i > 0 && s.pauseMs > 0) b.wait(s.pauseMs, `pause ${s.pauseMs} ms between writes`);
    b.write(st, p, pieces.length > 1 ? `piece ${i + 1}/${pieces.length}` : undefined);
  });
  let endText = '';
  if (b.isLive(conn)) {
    switch (s.ending) {
      case 'none':
        break;
      case 'fin':
        b.fin(st);
        endText = ', then FIN';
        break;
      case 'reset':
        b.reset(st, s.code);
        endText = `, then RESET_STREAM ${s.code}`;
        break;
      case 'stopSending':
        b.stopSending(st, s.code);
        endText = `, then STOP_SENDING ${s.code}`;
        break;
      case 'close':
        b.close(conn);
        endText = ', then closes the connection';
        break;
      case 'complete-at-once':
      case 'complete-before-timeout': {
        const partial = b.partial(st);
        if (partial === 0) break;
        if (s.ending === 'complete-before-timeout') b.wait('ioTimeoutMs - toleranceMs - 20', 'wait just under the receive timeout (PROTON-7.1)');
        b.write(st, new Uint8Array(4 - partial).fill(0xff), 'complete the item');
        b.exercises('PROTON-7.1');
        endText = s.ending === 'complete-at-once' ? ', then completes the item' : ', then completes the item just before the receive timeout';
        break;
      }
      case 'wait-past-timeout':
        b.wait('ioTimeoutMs + toleranceMs + 20', 'wait past the receive timeout (PROTON-7.1)');
        b.exercises('PROTON-7.1');
        endText = ', then waits past the receive timeout';
        break;
    }
  }
  if (s.followUp && b.isLive(conn)) {
    const f = b.open(conn);
    if (s.kind === 'event') b.send(f, Discriminator.StateCommit, [7], 'follow-up: a valid request on a fresh stream');
    else b.send(f, Discriminator.Event, [1], 'follow-up: a valid event on a fresh stream');
    endText += ', then a valid exchange on a fresh stream';
  }
  const what = s.kind === 'event' ? `Event stream with ids ${items.join(', ')}` : s.kind === 'commit' ? `StateCommit stream with id${items.length > 1 ? 's' : ''} ${items.join(', ')}` : 'Action stream';
  return b.build(`Sends a malformed ${what}: ${mText}, ${chunkingText(s.chunking, pieces.length)}${endText}.`);
}

/** Malformed frames for a profile (name `malformed-frames`). */
export function malformedFrames(profile: ProtonProfile): fc.Arbitrary<FuzzProgram> {
  return spec.map((s) => build(profile, s));
}
