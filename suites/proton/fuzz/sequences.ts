/**
 * Model-based sequences: `fc.commands` over the Proton model. Each command
 * is a client operation, valid (open a stream, send ids, a commit, wait
 * for its answer, FIN, close, reconnect, waits around every timer of the
 * profile) or a deviation the SPEC gives a verdict to (a non-increasing id,
 * a second request outstanding, an unknown or duplicate discriminator, bytes
 * on the Action stream, a stream aborted, FIN or a pause past the receive
 * timeout inside an item, a second connection, a reset, silence past the
 * identification timeout).
 *
 * A command's `check` asks the program builder, whose state is the model's
 * prediction (program.ts), whether it applies now: a deviation closes the
 * connection, after which only a new connection (or waits) apply. `run`
 * appends the command's steps. `fc.modelRun` compiles a command list into a
 * program eagerly (inside `map`), so fast-check's command shrinker, which
 * keeps only commands that ran, sees the same flags on replay: a seed and
 * a path reproduce a counterexample without fast-check's `replayPath`.
 */
import fc from 'fast-check';
import { sequenceCommand, sequencePrograms } from '../../../harness/fuzz/sequences.js';
import type { FuzzProgram } from '../../../harness/fuzz/types.js';
import { Discriminator, DISCRIMINATORS, MAX_ITEM, type StreamKind } from '../codec.js';
import type { ProtonProfile } from '../profile.js';
import { aroundTimer, idGap, increasingIds, streamCode, u32 } from './_arbs.js';
import { ProtonProgramBuilder, type ProgramConn, type ProgramStream } from './program.js';

type Model = ProtonProgramBuilder;
type Real = Record<string, never>;
type Cmd = fc.Command<Model, Real>;


const command = sequenceCommand<Model>;

const live = (m: Model): ProgramConn | undefined => m.liveConn();
const streamOf = (m: Model, kind: StreamKind): ProgramStream | undefined => {
  const c = live(m);
  return c ? m.streamOf(c, kind) : undefined;
};
/** An identified stream of `kind` on the live connection that the client can still write on, with no partial item. */
const writable = (m: Model, kind: StreamKind): ProgramStream | undefined => {
  const s = streamOf(m, kind);
  return s && !s.ended && m.partial(s) === 0 ? s : undefined;
};

// ------------------------------------------------------------------ valid

const connect = fc.constant(command('connect', false, (m) => live(m) === undefined, (m) => void m.connect()));

const openStream = fc
  .record({ kind: fc.constantFrom<StreamKind>('event', 'commit', 'action'), gaps: fc.array(idGap, { maxLength: 2 }), id: u32 })
  .map(({ kind, gaps, id }) =>
    command(
      `open ${kind}`,
      false,
      (m) => live(m) !== undefined && streamOf(m, kind) === undefined,
      (m) => {
        const c = live(m)!;
        const items = kind === 'event' ? increasingIds(0, gaps) : kind === 'commit' && gaps.length > 0 ? [id] : [];
        m.send(m.open(c), DISCRIMINATORS[kind], items, `open a ${kind} stream`);
      },
    ),
  );

const sendEvents = fc.record({ gaps: fc.array(idGap, { minLength: 1, maxLength: 3 }), split: fc.boolean() }).map(({ gaps, split }) =>
  command(
    `send ${gaps.length} event${gaps.length > 1 ? 's' : ''}${split ? ' split' : ''}`,
    false,
    (m) => {
      const s = writable(m, 'event');
      return s !== undefined && s.lastId + gaps.reduce((a, g) => a + g, 0) <= MAX_ITEM;
    },
    (m) => {
      const s = writable(m, 'event')!;
      const ids = increasingIds(s.lastId, gaps);
      if (!split) return m.send(s, undefined, ids);
      // The same ids, cut in the middle of the first item.
      const bytes = new Uint8Array(ids.length * 4);
      ids.forEach((id, i) => new DataView(bytes.buffer).setUint32(i * 4, id, false));
      m.write(s, bytes.subarray(0, 2), 'split id');
      m.write(s, bytes.subarray(2), 'split id, rest');
    },
  ),
);

const sendCommit = u32.map((id) =>
  command(
    'send commit',
    false,
    (m) => {
      const s = writable(m, 'commit');
      return s !== undefined && !m.commitOutstanding(s);
    },
    (m) => m.send(writable(m, 'commit')!, undefined, [id]),
  ),
);

const awaitAnswer = fc.constant(
  command(
    'await answer',
    false,
    (m) => {
      const s = streamOf(m, 'commit');
      return s !== undefined && m.commitOutstanding(s);
    },
    (m) => m.wait('commitDelayMs + toleranceMs + 20', 'wait for the commit answer (PROTON-5.3)'),
  ),
);

const finStream = fc.constantFrom<StreamKind>('event', 'commit', 'action').map((kind) =>
  command(`fin ${kind}`, false, (m) => writable(m, kind) !== undefined, (m) => m.fin(writable(m, kind)!)),
);

const waitTimer = fc.constantFrom('identTimeoutMs', 'ioTimeoutMs', 'commitDelayMs', 'actionIntervalMs').chain((field) =>
  aroundTimer(field).map((expr) => command(`wait ${expr}`, false, (m) => live(m) !== undefined, (m) => m.wait(expr, `wait around ${field}: ${expr}`))),
);

const closeConn = fc.constant(command('close', false, (m) => live(m) !== undefined, (m) => m.close(live(m)!)));

const valid: fc.Arbitrary<Cmd> = fc.oneof({ withCrossShrink: true }, connect, openStream, sendEvents, sendCommit, awaitAnswer, finStream, waitTimer, closeConn);

// -------------------------------------------------------------- deviations

const nonIncreasing = fc.constantFrom('repeat', 'smaller', 'zero').map((how) =>
  command(
    `event id ${how}`,
    true,
    (m) => {
      const s = writable(m, 'event');
      return s !== undefined && s.lastId >= 1;
    },
    (m) => {
      const s = writable(m, 'event')!;
      const id = how === 'repeat' ? s.lastId : how === 'smaller' ? Math.max(0, s.lastId - 1) : 0;
      m.send(s, undefined, [id], `deviation: event id ${id} after ${s.lastId} (PROTON-4.2)`);
    },
  ),
);

const secondCommit = u32.map((id) =>
  command(
    'second commit outstanding',
    true,
    (m) => {
      const s = writable(m, 'commit');
      return s !== undefined && m.commitOutstanding(s);
    },
    (m) => m.send(writable(m, 'commit')!, undefined, [id], 'deviation: a second request before the answer (PROTON-5.2)'),
  ),
);

const unknownDisc = fc.nat(0xff).filter((b) => ![1, 2, 3, 0xff].includes(b)).map((byte) =>
  command(`discriminator 0x${byte.toString(16)}`, true, (m) => live(m) !== undefined, (m) => m.send(m.open(live(m)!), byte, [], 'deviation: unknown discriminator')),
);

const duplicate = fc.constantFrom<StreamKind>('event', 'commit', 'action').map((kind) =>
  command(`duplicate ${kind}`, true, (m) => streamOf(m, kind) !== undefined, (m) => m.send(m.open(live(m)!), DISCRIMINATORS[kind], [], `deviation: a second ${kind} stream`)),
);

const bytesOnAction = fc.integer({ min: 1, max: 5 }).map((n) =>
  command(`bytes on action`, true, (m) => writable(m, 'action') !== undefined, (m) => m.write(writable(m, 'action')!, new Uint8Array(n).fill(0x2a), 'deviation')),
);

const abortStream = fc.record({ kind: fc.constantFrom<StreamKind>('event', 'commit', 'action'), how: fc.constantFrom('reset', 'stopSending'), code: streamCode }).map(({ kind, how, code }) =>
  command(
    `${how} ${kind}`,
    true,
    (m) => {
      const s = streamOf(m, kind);
      return s !== undefined && (how === 'stopSending' || !s.ended);
    },
    (m) => {
      const s = streamOf(m, kind)!;
      if (how === 'reset') m.reset(s, code, 'deviation');
      else m.stopSending(s, code, 'deviation');
    },
  ),
);

const midItem = fc.record({ kind: fc.constantFrom<StreamKind>('event', 'commit'), n: fc.integer({ min: 1, max: 3 }), then: fc.constantFrom('fin', 'timeout') }).map(({ kind, n, then }) =>
  command(
    `${n} bytes of a ${kind} item then ${then}`,
    true,
    (m) => {
      const s = writable(m, kind);
      return s !== undefined && !m.commitOutstanding(s);
    },
    (m) => {
      const s = writable(m, kind)!;
      m.write(s, new Uint8Array(n).fill(0x7f), 'deviation: a partial item');
      if (then === 'fin') m.fin(s, 'deviation');
      else m.wait('ioTimeoutMs + toleranceMs + 20', 'deviation: pause past the receive timeout inside the item (PROTON-7.1)');
    },
  ),
);

const secondConnection = fc.constant(command('second connection', true, (m) => live(m) !== undefined, (m) => void m.connect()));

const reset = fc.array(fc.nat(0xff), { maxLength: 3 }).map((trailing) =>
  command(`reset${trailing.length ? ` + ${trailing.length} bytes` : ''}`, true, (m) => live(m) !== undefined, (m) => m.write(m.open(live(m)!), new Uint8Array([Discriminator.Reset, ...trailing]), 'reset (PROTON-9.1)')),
);

const finBeforeDisc = fc.constant(command('FIN before discriminator', true, (m) => live(m) !== undefined, (m) => m.fin(m.open(live(m)!), 'deviation')));

const identTimeout = fc.constant(
  command(
    'stay unidentified',
    true,
    (m) => {
      const c = live(m);
      return c !== undefined && c.streams.every((s) => s.disc === undefined);
    },
    (m) => m.wait('identTimeoutMs + toleranceMs + 20', 'deviation: no stream identified past the identification timeout (PROTON-3.4)'),
  ),
);

const deviation: fc.Arbitrary<Cmd> = fc.oneof(
  { arbitrary: nonIncreasing, weight: 2 },
  { arbitrary: secondCommit, weight: 1 },
  { arbitrary: unknownDisc, weight: 1 },
  { arbitrary: duplicate, weight: 1 },
  { arbitrary: bytesOnAction, weight: 1 },
  { arbitrary: abortStream, weight: 1 },
  { arbitrary: midItem, weight: 1 },
  // Only sequences open a second connection: more often.
  { arbitrary: secondConnection, weight: 3 },
  { arbitrary: reset, weight: 1 },
  { arbitrary: finBeforeDisc, weight: 1 },
  { arbitrary: identTimeout, weight: 1 },
);

/** Model-based sequences for a profile (name `sequences`): valid operations three times as often as deviations. */
export function sequences(profile: ProtonProfile): fc.Arbitrary<FuzzProgram> {
  // Every sequence starts connected: the commands then apply from the first one.
  return sequencePrograms(valid, deviation, 14, () => {
    const b = new ProtonProgramBuilder(profile, 'sequences');
    b.connect();
    return b;
  });
}
