/**
 * Stream discriminators (SPEC §3, §9): every byte value as a stream's first
 * byte, a valid one twice, streams opened (named) in one order and
 * identified in another, and streams opened and left silent around the
 * identification timeout.
 */
import fc from 'fast-check';
import type { FuzzProgram } from '../../../harness/fuzz/types.js';
import { Discriminator, DISCRIMINATORS, STREAM_KINDS, type StreamKind } from '../codec.js';
import type { ProtonProfile } from '../profile.js';
import { u32 } from './_arbs.js';
import { ProtonProgramBuilder, type ProgramStream } from './program.js';


type Variant =
  | { readonly type: 'byte'; readonly byte: number; readonly items: readonly number[]; readonly then: 'nothing' | 'fin' | 'valid-stream' }
  | { readonly type: 'twice'; readonly kind: StreamKind; readonly between: 'nothing' | 'items' | 'fin-both-ways' | 'wait' }
  | { readonly type: 'order'; readonly open: readonly StreamKind[]; readonly identify: readonly number[]; readonly pause: 'none' | 'actionIntervalMs' | 'toleranceMs / 2' }
  | { readonly type: 'silent'; readonly silent: number; readonly identify: 'at-once' | 'before-timeout' | 'after-timeout' | 'never' | 'on-a-silent-one'; readonly silentFirst: boolean };

/** Every byte value, with the valid ones and the edges more often. */
const anyByte: fc.Arbitrary<number> = fc.oneof({ withCrossShrink: true }, { arbitrary: fc.nat(0xff), weight: 3 }, { arbitrary: fc.constantFrom(0x00, 0x01, 0x02, 0x03, 0x04, 0x7f, 0x80, 0xfe, 0xff), weight: 1 });

const variant: fc.Arbitrary<Variant> = fc.oneof(
  { withCrossShrink: true },
  fc.record({ type: fc.constant('byte' as const), byte: anyByte, items: fc.array(u32, { maxLength: 2 }), then: fc.constantFrom('nothing' as const, 'fin' as const, 'valid-stream' as const) }),
  fc.record({ type: fc.constant('twice' as const), kind: fc.constantFrom<StreamKind>('event', 'commit', 'action'), between: fc.constantFrom('nothing' as const, 'items' as const, 'fin-both-ways' as const, 'wait' as const) }),
  fc
    .shuffledSubarray([...STREAM_KINDS], { minLength: 1 })
    .chain((open) => fc.record({ type: fc.constant('order' as const), open: fc.constant(open), identify: fc.shuffledSubarray(open.map((_, i) => i), { minLength: open.length, maxLength: open.length }), pause: fc.constantFrom('none' as const, 'actionIntervalMs' as const, 'toleranceMs / 2' as const) })),
  fc.record({ type: fc.constant('silent' as const), silent: fc.integer({ min: 1, max: 3 }), identify: fc.constantFrom('at-once' as const, 'before-timeout' as const, 'after-timeout' as const, 'never' as const, 'on-a-silent-one' as const), silentFirst: fc.boolean() }),
);

const hex = (b: number) => `0x${b.toString(16).padStart(2, '0')}`;

function build(profile: ProtonProfile, v: Variant): FuzzProgram {
  const b = new ProtonProgramBuilder(profile, 'discriminators');
  const conn = b.connect();
  switch (v.type) {
    case 'byte': {
      const s = b.open(conn);
      b.send(s, v.byte, v.items);
      b.exercises('PROTON-3.1', 'PROTON-3.2');
      let then = '';
      if (b.isLive(conn) && v.then === 'fin') {
        b.fin(s);
        then = ', then FIN';
      } else if (b.isLive(conn) && v.then === 'valid-stream') {
        const kind = v.byte === Discriminator.Event ? 'commit' : 'event';
        b.send(b.open(conn), DISCRIMINATORS[kind], [kind === 'commit' ? 9 : 1], 'a valid stream after it');
        then = `, then a valid ${kind} stream`;
      }
      return b.build(`Sends discriminator ${hex(v.byte)}${v.items.length ? ` and ${v.items.length} item${v.items.length > 1 ? 's' : ''}` : ''} on a new stream${then}.`);
    }
    case 'twice': {
      const first = b.open(conn);
      b.send(first, DISCRIMINATORS[v.kind], v.kind === 'action' ? [] : [v.kind === 'event' ? 1 : 5]);
      if (v.between === 'items' && v.kind === 'event') b.send(first, undefined, [2, 3]);
      if (v.between === 'wait') b.wait('commitDelayMs + toleranceMs + 20', 'wait past the commit answer');
      if (v.between === 'fin-both-ways' && v.kind !== 'action') {
        if (v.kind === 'commit') b.wait('commitDelayMs + toleranceMs + 20', 'wait for the answer');
        b.fin(first);
        b.wait('toleranceMs + 20', 'let the server end its side');
      }
      if (b.isLive(conn)) b.send(b.open(conn), DISCRIMINATORS[v.kind], v.kind === 'event' ? [10] : v.kind === 'commit' ? [6] : [], `second ${v.kind} stream`);
      b.exercises('PROTON-3.3');
      return b.build(`Opens a ${v.kind} stream twice on one connection (${v.between === 'nothing' ? 'back to back' : v.between === 'items' ? 'after items on the first' : v.between === 'wait' ? 'after a wait' : 'after the first ended both ways'}).`);
    }
    case 'order': {
      const streams: ProgramStream[] = v.open.map(() => b.open(conn));
      for (const [n, i] of v.identify.entries()) {
        if (!b.isLive(conn)) break;
        if (n > 0 && v.pause !== 'none') b.wait(v.pause);
        const kind = v.open[i]!;
        b.send(streams[i]!, DISCRIMINATORS[kind], kind === 'event' ? [1] : kind === 'commit' ? [3] : [], `identify ${streams[i]!.name} as ${kind}`);
      }
      b.exercises('PROTON-3.1');
      if (v.open.length === 1) return b.build(`Opens one stream and identifies it as ${v.open[0]}.`);
      return b.build(`Opens ${v.open.length} streams (${v.open.join(', ')}) and identifies them in the order ${v.identify.map((i) => v.open[i]).join(', ')}.`);
    }
    case 'silent': {
      const silent: ProgramStream[] = [];
      const openSilent = () => {
        for (let i = 0; i < v.silent; i++) silent.push(b.open(conn, 'left silent'));
      };
      if (v.silentFirst) openSilent();
      const identify = (s?: ProgramStream) => b.send(s ?? b.open(conn), Discriminator.Event, [1], 'identify');
      if (v.identify === 'at-once') identify();
      if (!v.silentFirst) openSilent();
      if (v.identify === 'before-timeout' || v.identify === 'after-timeout') {
        b.wait(v.identify === 'before-timeout' ? 'identTimeoutMs - toleranceMs - 20' : 'identTimeoutMs + toleranceMs + 20', `wait ${v.identify === 'before-timeout' ? 'just under' : 'past'} the identification timeout (PROTON-3.4)`);
        if (b.isLive(conn)) identify();
      }
      if (v.identify === 'on-a-silent-one') identify(silent[silent.length - 1]);
      b.exercises('PROTON-3.4');
      return b.build(`Opens ${v.silent} stream${v.silent > 1 ? 's' : ''} and leaves ${v.silent > 1 ? 'them' : 'it'} silent; identification: ${v.identify}.`);
    }
  }
}

/** Stream discriminators for a profile (name `discriminators`). */
export function discriminators(profile: ProtonProfile): fc.Arbitrary<FuzzProgram> {
  return variant.map((v) => build(profile, v));
}
