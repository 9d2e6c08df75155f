/**
 * Model-based sequences: `fc.commands` over the Moonpool model. Each command
 * is a client operation, valid — connect (a second and third connection at
 * once when `concurrentConnections`), PINGs whole, coalesced or split, a
 * payload that is not a ping, an id reused after its reply, await the
 * replies, silences around every timer of the profile (reply deadline,
 * stall, idle timeout), FIN, close — or a deviation the SPEC gives a
 * verdict to: an oversized header, a length field that lies (larger or
 * smaller), a truncated frame then FIN, an RST or a close mid-frame, a
 * duplicate id in flight, the id of an unanswered request reused, a bit
 * flipped in a header, a header cut by a silence (a stall mid-frame).
 *
 * A command's `check` asks the program builder, whose state is the model's
 * prediction (program.ts), whether it applies now: a framing error closes
 * the connection, after which only another connection (or waits) apply.
 * `run` appends the command's steps. `fc.modelRun` compiles a command list
 * into a program eagerly (inside `map`), so fast-check's command shrinker,
 * which keeps only commands that ran, sees the same flags on replay: a seed
 * and a path reproduce a counterexample.
 */
import fc from 'fast-check';
import type { FuzzProgram } from '../../../harness/fuzz/types.js';
import { encodeEnvelope, encodeEnvelopes, encodeHeader, HEADER_SIZE, PING, type Envelope } from '../codec.js';
import type { MoonpoolProfile } from '../profile.js';
import { aroundTimer, otherPayload, oversizedLength } from './_arbs.js';
import { MoonpoolProgramBuilder, type ProgramConn } from './program.js';

/** The builder with the sequence's own state: the next fresh id, the commands that ran. */
type Model = MoonpoolProgramBuilder & { nextId: bigint; ran: string[] };
type Real = Record<string, never>;
type Cmd = fc.Command<Model, Real>;

/** A command from its name, precondition and steps. */
function command(name: string, deviation: boolean, check: (m: Model) => boolean, run: (m: Model) => void): Cmd {
  const label = deviation ? `${name}!` : name;
  return {
    check,
    run: (m) => {
      run(m);
      m.ran.push(label);
    },
    toString: () => label,
  };
}

/** The live connection `pick` selects (modulo the live ones), if any. */
const on = (m: Model, pick: number): ProgramConn | undefined => {
  const live = m.liveConns();
  return live.length ? live[pick % live.length] : undefined;
};
/** A live connection between envelopes (no partial one held). */
const clean = (m: Model, pick: number): ProgramConn | undefined => {
  const c = on(m, pick);
  return c && c.framer.partial === 0 ? c : undefined;
};
const fresh = (m: Model, n = 1): bigint[] => Array.from({ length: n }, () => m.nextId++);
const pingOf = (id: bigint): Envelope => ({ correlationId: id, payload: PING });

// ------------------------------------------------------------------ valid

function valid(profile: MoonpoolProfile): fc.Arbitrary<Cmd> {
  const maxLive = profile.concurrentConnections ? 3 : 1;
  const connect = fc.constant(command('connect', false, (m) => m.liveConns().length < maxLive, (m) => void m.connect()));

  const pings = fc.record({ n: fc.integer({ min: 1, max: 3 }), how: fc.constantFrom('whole', 'each', 'split'), at: fc.integer({ min: 1, max: 15 }), pick: fc.nat(2) }).map(({ n, how, at, pick }) =>
    command(`${n} PING${n > 1 ? 's' : ''} ${how}`, false, (m) => clean(m, pick) !== undefined, (m) => {
      const c = clean(m, pick)!;
      const envs = fresh(m, n).map(pingOf);
      if (how === 'each') for (const e of envs) m.write(c, encodeEnvelope(e));
      else if (how === 'whole') m.write(c, encodeEnvelopes(envs));
      else {
        const bytes = encodeEnvelopes(envs);
        m.write(c, bytes.subarray(0, at), 'split');
        m.write(c, bytes.subarray(at), 'split, rest');
      }
    }),
  );

  const other = fc.record({ payload: otherPayload(), pick: fc.nat(2) }).map(({ payload, pick }) =>
    command('not a ping', false, (m) => clean(m, pick) !== undefined, (m) => m.write(clean(m, pick)!, encodeEnvelope({ correlationId: fresh(m)[0]!, payload }), 'a payload that is not a ping (MOONPOOL-4.3)')),
  );

  const reuse = fc.record({ k: fc.nat(10), pick: fc.nat(2) }).map(({ k, pick }) =>
    command('reuse an answered id', false, (m) => {
      const c = clean(m, pick);
      return c !== undefined && m.unawaited === 0 && c.requests.some((r) => r.ping);
    }, (m) => {
      const c = clean(m, pick)!;
      const answered = c.requests.filter((r) => r.ping);
      m.write(c, encodeEnvelope(pingOf(answered[k % answered.length]!.id)), 'an id reused after its reply (MOONPOOL-3.1)');
    }),
  );

  const await_ = fc.constant(command('await replies', false, (m) => m.unawaited > 0, (m) => m.awaitReplies()));

  const timers = ['replyDeadlineMs', 'stallMs', ...(profile.idleTimeoutMs > 0 ? ['idleTimeoutMs'] : [])];
  const silence = fc.constantFrom(...timers).chain((field) =>
    fc.oneof(aroundTimer(field), fc.constant(field)).map((expr) => command(`silence ${expr}`, false, (m) => m.liveConns().length > 0, (m) => m.wait(expr, `silence around ${field}: ${expr}`))),
  );

  const fin = fc.nat(2).map((pick) => command('FIN', false, (m) => clean(m, pick) !== undefined, (m) => m.fin(clean(m, pick)!)));
  const close = fc.nat(2).map((pick) => command('close', false, (m) => on(m, pick) !== undefined, (m) => m.close(on(m, pick)!)));

  return fc.oneof(
    { arbitrary: connect, weight: 2 },
    { arbitrary: pings, weight: 4 },
    { arbitrary: other, weight: 1 },
    { arbitrary: reuse, weight: 1 },
    { arbitrary: await_, weight: 1 },
    { arbitrary: silence, weight: 2 },
    { arbitrary: fin, weight: 1 },
    { arbitrary: close, weight: 1 },
  );
}

// -------------------------------------------------------------- deviations

function deviation(profile: MoonpoolProfile): fc.Arbitrary<Cmd> {
  const oversized = fc.record({ len: oversizedLength(profile.maxPayloadBytes), pick: fc.nat(2) }).map(({ len, pick }) =>
    command(`oversized header ${len}`, true, (m) => clean(m, pick) !== undefined, (m) => m.write(clean(m, pick)!, encodeHeader(fresh(m)[0]!, len), 'deviation')),
  );

  const lies = fc.record({ by: fc.integer({ min: -4, max: 24 }).filter((x) => x !== 0), pick: fc.nat(2) }).map(({ by, pick }) =>
    command(`length lies ${by > 0 ? '+' : ''}${by}`, true, (m) => clean(m, pick) !== undefined, (m) => {
      const len = Math.min(4 + by, profile.maxPayloadBytes);
      m.write(clean(m, pick)!, new Uint8Array([...encodeHeader(fresh(m)[0]!, len), ...PING]), `deviation: a length of ${len} for the 4-byte PING`);
    }),
  );

  const midFrame = fc.record({ keep: fc.integer({ min: 1, max: 15 }), then: fc.constantFrom('fin', 'reset', 'close'), pick: fc.nat(2) }).map(({ keep, then, pick }) =>
    command(`${keep} bytes then ${then}`, true, (m) => clean(m, pick) !== undefined, (m) => {
      const c = clean(m, pick)!;
      m.write(c, encodeEnvelope(pingOf(fresh(m)[0]!)).subarray(0, keep), 'deviation: part of a PING');
      if (then === 'fin') m.fin(c, 'deviation');
      else if (then === 'reset') m.reset(c, 'deviation');
      else m.close(c, 'deviation');
    }),
  );

  const duplicate = fc.record({ n: fc.integer({ min: 2, max: 3 }), pick: fc.nat(2) }).map(({ n, pick }) =>
    command(`id ×${n} in flight`, true, (m) => clean(m, pick) !== undefined, (m) => {
      const id = fresh(m)[0]!;
      m.write(clean(m, pick)!, encodeEnvelopes(Array.from({ length: n }, () => pingOf(id))), `deviation: one id ${n} times in flight (MOONPOOL-3.1)`);
    }),
  );

  const reuseUnanswered = fc.record({ payload: otherPayload(), pick: fc.nat(2) }).map(({ payload, pick }) =>
    command('reuse an unanswered id', true, (m) => clean(m, pick) !== undefined, (m) => {
      const c = clean(m, pick)!;
      const id = fresh(m)[0]!;
      m.write(c, encodeEnvelopes([{ correlationId: id, payload }, pingOf(id)]), `deviation: a PING reusing the id of a request ${profile.otherPayloads === 'ignore' ? 'never answered' : 'not yet answered'} (MOONPOOL-3.1)`);
    }),
  );

  const bitflip = fc.record({ at: fc.nat(HEADER_SIZE - 1), bit: fc.nat(7), pick: fc.nat(2) }).map(({ at, bit, pick }) =>
    command(`header bit ${at}.${bit} flipped`, true, (m) => clean(m, pick) !== undefined, (m) => {
      const bytes = new Uint8Array(encodeEnvelope(pingOf(fresh(m)[0]!)));
      bytes[at]! ^= 1 << bit;
      m.write(clean(m, pick)!, bytes, `deviation: bit ${bit} of header byte ${at} flipped`);
    }),
  );

  const stallMidFrame = fc.record({ keep: fc.integer({ min: 1, max: 15 }), pick: fc.nat(2) }).map(({ keep, pick }) =>
    command(`stall after ${keep} bytes`, true, (m) => clean(m, pick) !== undefined, (m) => {
      const c = clean(m, pick)!;
      const bytes = encodeEnvelope(pingOf(fresh(m)[0]!));
      m.write(c, bytes.subarray(0, keep), 'part of a PING');
      m.wait('stallMs', 'silence mid-frame for stallMs (MOONPOOL-7.1, 7.2)');
      if (m.isLive(c)) m.write(c, bytes.subarray(keep), 'the rest of the PING');
    }),
  );

  return fc.oneof(oversized, lies, midFrame, duplicate, reuseUnanswered, bitflip, stallMidFrame);
}

/** Compiles a command list into a program: runs it against a fresh builder (model) and builds. */
function compile(profile: MoonpoolProfile, cmds: Iterable<Cmd>): FuzzProgram {
  const b: Model = Object.assign(new MoonpoolProgramBuilder(profile, 'sequences'), { nextId: 1n, ran: [] as string[] });
  b.connect(); // Every sequence starts connected: the commands then apply from the first one.
  fc.modelRun(() => ({ model: b, real: {} }), cmds);
  const deviations = b.ran.filter((r) => r.endsWith('!')).length;
  const desc = b.ran.length ? `Runs ${b.ran.length} operation${b.ran.length > 1 ? 's' : ''} (${deviations} deviation${deviations === 1 ? '' : 's'}): ${b.ran.join(', ')}.` : 'Runs no operation.';
  return b.build(desc);
}

/** Model-based sequences for a profile (name `sequences`): valid operations three times as often as deviations. */
export function sequences(profile: MoonpoolProfile): fc.Arbitrary<FuzzProgram> {
  const one = fc.oneof({ arbitrary: valid(profile), weight: 3 }, { arbitrary: deviation(profile), weight: 1 });
  return fc.commands([one], { maxCommands: 14 }).map((cmds) => compile(profile, cmds));
}
