/**
 * Garou's fuzz generators, built with the engine's generic program builder
 * (harness/fuzz/builder.ts) and predicted by the Garou model in server mode
 * (model.ts): no rule is written here. Each program sends one kind of
 * hostile input:
 *
 *  - `malformed-frames`: a user logs in (or stays silent, or sends Hello
 *    alone, past the handshake timeout), then sends frames: every frame
 *    type code (defined or not) on every client carrier (control, chat
 *    commands, acks, upload), with a payload that is valid for its type
 *    (arbitraries.ts, from the schemas), not JSON, not UTF-8, of wrong
 *    field types, deeply nested, huge, or with a lying length (over the
 *    profile's `maxFrameBytes`, one short); sometimes cut short and
 *    followed by FIN; Pings among them; or 2–3 valid commands pipelined
 *    in one write (distinct `cmd_id`s: their answers are owed in order);
 *  - `datagrams`: three users share a room (CreateRoom names the members,
 *    not a room id); one sends valid typing/presence datagrams (in its name
 *    or another's) and garbage; then members may leave by disconnecting
 *    (room events with seq 1, 2 to those who stay);
 *  - `stream-types`: unidirectional streams starting with any byte, a
 *    second stream of a type, then a frame.
 *
 * Every program ends with the drain ({@link GarouBuilder.drain}): what the
 * model predicts is let come, and what it owes is watched past its
 * deadline, so a missing reaction is the monitor's finding under its rule.
 *
 * Room ids are the server's, so these programs only address rooms by ids
 * no server has handed out yet (4,000,000,000 and up) or reach the rooms
 * they create through membership (presence relays, leaving on
 * disconnect). `sequences` (fuzz-sequences.ts) runs model-based
 * multi-user commands over real rooms, binding the ids from the server's
 * answers.
 *
 * Adding a generator: one entry in {@link garouArbitraries}' result.
 */
import fc from 'fast-check';
import { toHex, type TraceEvent } from '../../harness/engine/trace.js';
import { DRAIN_MARGIN_MS, GUARD_MARGIN_MS, ProgramBuilder, US, type BuilderConn } from '../../harness/fuzz/builder.js';
import type { FuzzProgram } from '../../harness/fuzz/types.js';
import { payloadArbitrary } from './arbitraries.js';
import { encodeFrame, encodeFrameHeader, encodeRawFrame, encodeStreamHeader, explain } from './codec.js';
import { ALLOWED_FRAMES, FRAME_CODES, FRAME_NAMES, frameName, streamTypeOf, type FrameName } from './frames.js';
import { sequences } from './fuzz-sequences.js';
import { GarouModel } from './model.js';
import type { GarouProfile } from './profile.js';

/** A connection of a program: its control stream's name and its uni streams by type byte. */
export interface GConn extends BuilderConn {
  readonly control: string;
  readonly uni: Map<number, { readonly name: string; readonly id: number }>;
  user: string;
}

type Carrier = 'control' | 'commands' | 'acks' | 'upload';

/** Garou's adapter of the generic builder (fuzz-sequences.ts extends it). */
export class GarouBuilder extends ProgramBuilder<GarouProfile, GConn, GarouModel> {
  private nextUni = new Map<number, number>();

  protected createModel(): GarouModel {
    return new GarouModel(this.profile, 'server');
  }
  protected get toleranceMs(): number {
    return this.profile.toleranceMs;
  }
  protected serverText(ev: TraceEvent): string {
    const who = (conn: number): string => this.conns[conn]?.name ?? `#${conn}`;
    if (ev.type === 'data' && ev.stream === 0) return `${who(ev.conn)}: ${explain(Buffer.from(ev.hex, 'hex'), { on: 'control', dir: 's2c' }).slice(0, 120)}`;
    if (ev.type === 'data') return `${who(ev.conn)}: ${ev.hex.length / 2} bytes on server stream ${ev.stream}`;
    if (ev.type === 'dgram') return `${who(ev.conn)}: datagram ${ev.hex.slice(0, 40)}`;
    if (ev.type === 'conn_close') return `close ${who(ev.conn)} 0x${ev.code.toString(16)}`;
    if (ev.type === 'stream_fin') return `${who(ev.conn)}: FIN stream ${ev.stream}`;
    return `${who('conn' in ev ? ev.conn : -1)}: ${ev.type}`;
  }
  /**
   * The drain: first, while something the monitor does not wait for is
   * predicted (a relay, best effort: GAROU-11.3; a timer-driven close: the
   * handshake timeout, GAROU-4.5; model.ts `settled()` leaves both out), a
   * wait until its deadline has passed, so that a missing one is seen; then
   * `expect settled` within the last predicted reaction plus the reply
   * deadline, so that a missing answer is the monitor's finding (its rule),
   * not the step's.
   */
  protected drain(): number {
    const P = this.profile;
    const horizon = Math.max(P.handshakeTimeoutMs, P.replyDeadlineMs) + P.toleranceMs;
    const all = this.predict(this.now + horizon * US);
    const unwatched = all.filter((p) => p.ev.type === 'dgram' || (p.timer && p.ev.type === 'conn_close'));
    const watchUs = Math.max(0, ...unwatched.map((p) => p.ev.t + (p.ev.type === 'dgram' ? P.replyDeadlineMs + P.toleranceMs : P.toleranceMs) * US - this.now));
    if (watchUs > 0) {
      const ms = Math.ceil(watchUs / US) + GUARD_MARGIN_MS;
      this.push({ do: 'wait', ms, comment: `watch ${ms} ms, past the deadline of what the monitor does not wait for: ${unwatched.map((p) => this.serverText(p.ev)).join(', ')}` });
      this.now += ms * US;
    }
    const restMs = this.msUntilLast(this.predict(this.now + horizon * US));
    this.push({
      expect: 'settled',
      within: `${restMs > 0 ? `${restMs} + ` : ''}replyDeadlineMs + toleranceMs + ${DRAIN_MARGIN_MS}`,
      comment: `let every owed reaction come (the model predicts the last ${restMs} ms from now)`,
    });
    return horizon;
  }

  /**
   * Connects `user` without authenticating: nothing on the control stream
   * (`silent`) or Hello alone (`hello`). A conforming server closes it
   * with HANDSHAKE_TIMEOUT after `handshakeTimeoutMs` (the model says when).
   */
  connectOnly(user: string, opening: 'silent' | 'hello'): GConn {
    const index = this.conns.length;
    const c: GConn = { name: this.nextConnName(), index, clientClosed: false, control: `${this.nextConnName()}c`, uni: new Map(), user };
    this.push({ do: 'connect', conn: c.name, datagrams: true, comment: `connect ${c.name} (${user}), no Auth` }, [{ type: 'conn_open', t: 0, conn: index, remote: 'target' }]);
    this.conns.push(c);
    this.push({ do: 'open', stream: c.control, conn: c.name, comment: 'the control stream' }, [{ type: 'stream_open', t: 0, conn: index, stream: 0, by: 'client', dir: 'bidi' }]);
    if (opening === 'hello') {
      const hex = toHex(encodeFrame('Hello', { version: this.profile.protocolVersion, client: 'fuzz' }));
      this.push({ do: 'write', stream: c.control, hex, comment: 'Hello, and no Auth' }, [{ type: 'data', t: 0, conn: index, stream: 0, dir: 'c2s', hex }]);
    }
    return c;
  }

  /** The client closes `c` (application code 0). */
  close(c: GConn, comment: string): void {
    this.push({ do: 'close', conn: c.name, comment }, [{ type: 'conn_close', t: 0, conn: c.index, by: 'client', isApp: true, code: 0, reason: '' }], () => true);
    c.clientClosed = true;
  }

  /** Connects and authenticates `user` (Hello and Auth in one write), then waits for the three answers. */
  login(user: string): GConn {
    const index = this.conns.length;
    const c: GConn = { name: this.nextConnName(), index, clientClosed: false, control: '', uni: new Map(), user };
    const control = `${c.name}c`;
    (c as { control: string }).control = control;
    this.push({ do: 'connect', conn: c.name, datagrams: true, comment: `connect ${c.name} (${user})` }, [{ type: 'conn_open', t: 0, conn: index, remote: 'target' }]);
    this.conns.push(c);
    this.push({ do: 'open', stream: control, conn: c.name, comment: 'the control stream' }, [{ type: 'stream_open', t: 0, conn: index, stream: 0, by: 'client', dir: 'bidi' }]);
    const hex = toHex(Buffer.concat([encodeFrame('Hello', { version: this.profile.protocolVersion, client: 'fuzz' }), encodeFrame('Auth', { username: user })]));
    this.push({ do: 'write', stream: control, hex, comment: `Hello, Auth ${user}` }, [{ type: 'data', t: 0, conn: index, stream: 0, dir: 'c2s', hex }]);
    this.push({ expect: 'frames', stream: control, count: 3, within: 'replyDeadlineMs + toleranceMs', comment: 'HelloAck, AuthOk, ShardAssignment (before any uni stream: QUIC orders no two streams)' });
    this.now += 1000;
    return c;
  }

  /** A client uni stream starting with `byte`, opened on first use. */
  uni(c: GConn, byte: number, fresh = false): { readonly name: string; readonly id: number; readonly isNew: boolean } {
    const had = c.uni.get(byte);
    if (had && !fresh) return { ...had, isNew: false };
    const n = this.nextUni.get(c.index) ?? 0;
    this.nextUni.set(c.index, n + 1);
    const s = { name: `${c.name}u${n}`, id: 2 + 4 * n };
    c.uni.set(byte, s);
    this.push({ do: 'open', stream: s.name, conn: c.name, kind: 'uni', comment: `uni stream ${s.name}` }, [{ type: 'stream_open', t: 0, conn: c.index, stream: s.id, by: 'client', dir: 'uni' }]);
    return { ...s, isNew: true };
  }

  /** Writes bytes on a carrier (a uni stream gets its type byte first, once). */
  write(c: GConn, carrier: Carrier, bytes: Uint8Array, comment: string): { readonly stream: string; readonly id: number } {
    let stream = c.control;
    let id = 0;
    let all = bytes;
    if (carrier !== 'control') {
      const byte = streamTypeOf(carrier).byte;
      const s = this.uni(c, byte);
      stream = s.name;
      id = s.id;
      if (s.isNew) all = Buffer.concat([encodeStreamHeader({ kind: carrier }), bytes]);
    }
    const hex = toHex(all);
    this.push({ do: 'write', stream, hex, comment }, [{ type: 'data', t: 0, conn: c.index, stream: id, dir: 'c2s', hex }], () => true);
    return { stream, id };
  }

  /** Writes raw bytes on a new uni stream (any first byte). */
  rawUni(c: GConn, bytes: Uint8Array, comment: string): void {
    const s = this.uni(c, 0x100 + this.steps.length, true);
    const hex = toHex(bytes);
    this.push({ do: 'write', stream: s.name, hex, comment }, [{ type: 'data', t: 0, conn: c.index, stream: s.id, dir: 'c2s', hex }], () => true);
  }

  /** Waits for one more frame on the control stream (an answer). */
  expectAnswer(c: GConn): void {
    this.push({ expect: 'frames', stream: c.control, count: 1, within: 'replyDeadlineMs + toleranceMs', comment: 'the answer' });
    this.now += 1000;
  }

  fin(c: GConn, stream: string, id: number): void {
    this.push({ do: 'fin', stream, comment: `FIN ${stream}` }, [{ type: 'stream_fin', t: 0, conn: c.index, stream: id, dir: 'c2s' }], () => true);
  }

  datagram(c: GConn, bytes: Uint8Array, comment: string): void {
    const hex = toHex(bytes);
    this.push({ do: 'dgram', conn: c.name, hex, comment }, [{ type: 'dgram', t: 0, conn: c.index, dir: 'c2s', hex }], () => true);
  }
}

const FAR_ROOM = 4_000_000_000;
const u8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A hostile payload: what it is, its bytes, and for a valid one its value (to renumber `cmd_id`s). */
interface HostilePayload {
  readonly what: string;
  readonly bytes: Uint8Array;
  readonly value?: object;
}

/** A hostile payload for a frame type. */
const payloadOf = (name: FrameName | undefined): fc.Arbitrary<HostilePayload> =>
  fc.oneof(
    { weight: 4, arbitrary: (name ? payloadArbitrary(name) : fc.constant({})).map((p) => withFarRoom(p) as object).map((value) => ({ what: 'a valid payload', bytes: u8(JSON.stringify(value)), value })) },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map((s) => ({ what: 'not JSON', bytes: u8(`{${s}`) })) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 6 }).map((b) => ({ what: 'not UTF-8', bytes: Uint8Array.from([0x22, 0xc3, 0x28, ...b, 0x22]) })) },
    { weight: 1, arbitrary: fc.constantFrom('{"cmd_id":"1"}', '{"cmd_id":1,"room_id":-1,"body":5}', '[]', '"x"', 'null', '{"nonce":1.5}', '{"upload_id":7}').map((s) => ({ what: 'wrong field types', bytes: u8(s) })) },
    { weight: 1, arbitrary: fc.integer({ min: 10, max: 200 }).map((d) => ({ what: `nested ${d} deep`, bytes: u8(`${'['.repeat(d)}${']'.repeat(d)}`) })) },
    { weight: 1, arbitrary: fc.integer({ min: 100, max: 3000 }).map((n) => ({ what: `a ${n}-byte string`, bytes: u8(JSON.stringify({ cmd_id: 1, room_id: FAR_ROOM, body: 'x'.repeat(n) })) })) },
  );

/** Room ids in generated payloads point at rooms no server handed out (see the module docstring). */
function withFarRoom(p: unknown): unknown {
  if (p && typeof p === 'object' && !Array.isArray(p) && 'room_id' in p) return { ...(p as object), room_id: FAR_ROOM + ((p as { room_id: number }).room_id % 1000) };
  return p;
}

const carrier = fc.constantFrom<Carrier>('control', 'commands', 'acks', 'upload');

/** One hostile frame of `malformed-frames`: carrier, type code, payload, and how its length lies. */
interface HostileFrame {
  readonly carrier: Carrier;
  readonly type: number;
  readonly lie: 'none' | 'over-limit' | 'short' | 'truncate';
  readonly pl: HostilePayload;
}

/** Hostile frames on any client carrier, and now and then a valid Ping. */
function hostileFrame(): fc.Arbitrary<HostileFrame> {
  const any = carrier.chain((c) =>
    fc.record({
      carrier: fc.constant(c),
      // Mostly a type the carrier may carry (the model then judges the payload), else any defined type, else any byte.
      type: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...(ALLOWED_FRAMES[c].c2s ?? FRAME_NAMES)).map((n) => FRAME_CODES[n]) },
        { weight: 1, arbitrary: fc.constantFrom(...FRAME_NAMES).map((n) => FRAME_CODES[n]) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
      ),
      lie: fc.oneof(
        { weight: 6, arbitrary: fc.constant<HostileFrame['lie']>('none') },
        { weight: 2, arbitrary: fc.constant<HostileFrame['lie']>('over-limit') },
        { weight: 2, arbitrary: fc.constantFrom<HostileFrame['lie']>('short', 'truncate') },
      ),
    }),
  ).chain((f) => payloadOf(frameName(f.type)).map((pl) => ({ ...f, pl })));
  // A valid Ping now and then, on the control stream (GAROU-12.1; the model says what it owes in each state).
  const ping = payloadArbitrary('Ping').map((value): HostileFrame => ({ carrier: 'control', type: FRAME_CODES.Ping, lie: 'none', pl: { what: 'a valid payload', bytes: u8(JSON.stringify(value)), value } }));
  return fc.oneof({ weight: 5, arbitrary: any }, { weight: 2, arbitrary: ping });
}

/** A frame of a type `on` carries, with a valid payload (commands to pipeline). */
const validFrame = (on: Carrier): fc.Arbitrary<HostileFrame> =>
  fc.constantFrom(...(ALLOWED_FRAMES[on].c2s ?? [])).chain((name) =>
    payloadArbitrary(name).map((p): HostileFrame => {
      const value = withFarRoom(p) as object;
      return { carrier: on, type: FRAME_CODES[name], lie: 'none', pl: { what: 'a valid payload', bytes: u8(JSON.stringify(value)), value } };
    }),
  );

/**
 * A hostile frame's bytes (its length lie applied) and what it is; with
 * `cmdId`, a valid payload's `cmd_id` (when it has one) is that number, so
 * that pipelined commands have distinct ids.
 */
function hostileBytes(f: HostileFrame, p: GarouProfile, cmdId?: number): { readonly bytes: Uint8Array; readonly what: string } {
  const renumber = cmdId !== undefined && f.pl.value !== undefined && 'cmd_id' in f.pl.value;
  const payload = renumber ? u8(JSON.stringify({ ...f.pl.value, cmd_id: cmdId })) : f.pl.bytes;
  let bytes = encodeRawFrame(f.type, payload);
  let what = `frame 0x${f.type.toString(16).padStart(2, '0')} ${frameName(f.type) ?? '(undefined)'} with ${f.pl.what}`;
  if (f.lie === 'over-limit') {
    bytes = encodeFrameHeader(f.type, p.maxFrameBytes + 1);
    what += `, length ${p.maxFrameBytes + 1} (over maxFrameBytes)`;
  } else if (f.lie === 'short' && payload.length > 1) {
    bytes.set(encodeFrameHeader(f.type, payload.length - 1));
    what += ', length one short';
  } else if (f.lie === 'truncate') {
    bytes = bytes.subarray(0, Math.max(1, bytes.length - 2));
    what += ', cut 2 bytes short';
  }
  return { bytes, what };
}

/** How a `malformed-frames` program starts: logged in, or not (then the frames, if any, come before Auth). */
type Opening = 'login' | 'silent' | 'hello';

/**
 * The generators, by name (see the module docstring), in campaign order: a
 * campaign runs them round-robin, 20 programs a round
 * (harness/fuzz/campaign.ts), so the order sets when each is first tried.
 */
export function garouArbitraries(p: GarouProfile): Readonly<Record<string, fc.Arbitrary<FuzzProgram>>> {
  const malformed = fc.oneof(
    // Logged in, then frames one by one, each on its carrier.
    { weight: 8, arbitrary: fc.record({ opening: fc.constant<Opening>('login'), frames: fc.array(hostileFrame(), { minLength: 1, maxLength: 3 }), pipelined: fc.constant(false) }) },
    // Logged in, then 2-3 valid commands in one write: their answers are owed in order (GAROU-5.2, 10.1). (No hostile frame
    // among them: once the monitor reads a violation it judges nothing but the close owed, so answers before it go unchecked.)
    {
      weight: 2,
      arbitrary: fc.constantFrom<Carrier>('commands', 'upload').chain((on) => fc.record({ opening: fc.constant<Opening>('login'), frames: fc.array(validFrame(on), { minLength: 2, maxLength: 3 }), pipelined: fc.constant(true) })),
    },
    // Not authenticated: silent, or Hello alone, maybe one frame, then past the handshake timeout.
    {
      weight: 2,
      arbitrary: fc.record({
        opening: fc.constantFrom<Opening>('silent', 'hello'),
        frames: fc.oneof({ weight: 2, arbitrary: fc.constant<HostileFrame[]>([]) }, { weight: 1, arbitrary: fc.array(hostileFrame(), { minLength: 1, maxLength: 1 }) }),
        pipelined: fc.constant(false),
      }),
    },
  );
  return {
    'malformed-frames': malformed.map(({ opening, frames, pipelined }) => {
      const b = new GarouBuilder(p, 'malformed-frames');
      const c = opening === 'login' ? b.login('fuzz-a') : b.connectOnly('fuzz-a', opening);
      if (pipelined) {
        const parts = frames.map((f, i) => hostileBytes(f, p, i + 1));
        b.write(c, frames[0]!.carrier, Buffer.concat(parts.map((x) => x.bytes)), `${parts.map((x) => x.what).join('; ')}: in one write on ${frames[0]!.carrier}`);
      } else {
        for (const f of frames) {
          if (b.serverClosed(c)) break;
          const { bytes, what } = hostileBytes(f, p);
          const s = b.write(c, f.carrier, bytes, `${what} on ${f.carrier}`);
          if (f.lie === 'truncate' && f.carrier !== 'control') b.fin(c, s.stream, s.id);
        }
      }
      const how = opening === 'login' ? 'Logs in' : opening === 'silent' ? 'Connects and says nothing' : 'Connects and sends Hello alone';
      return b.build(`${how}, then sends ${frames.length} hostile frame(s)${pipelined ? ' in one write' : ''}.`);
    }),
    datagrams: fc.record({
      from: fc.nat({ max: 1 }),
      ds: fc.array(
        fc.oneof(
          fc.record({ name: fc.constantFrom<'Typing' | 'StopTyping'>('Typing', 'StopTyping'), own: fc.boolean() }).map(({ name, own }) => ({ what: `${name}${own ? '' : ' in another\'s name'}`, make: (u: string) => encodeFrame(name, { room_id: FAR_ROOM, user_id: own ? u : `${u}-x` }) })),
          fc.constantFrom<'PresenceOnline' | 'PresenceOffline' | 'PresenceAway'>('PresenceOnline', 'PresenceOffline', 'PresenceAway').map((name) => ({ what: name, make: (u: string) => encodeFrame(name, { user_id: u }) })),
          fc.uint8Array({ minLength: 0, maxLength: 24 }).map((g) => ({ what: `garbage ${toHex(g)}`, make: () => g })),
        ),
        { minLength: 1, maxLength: 4 },
      ),
      // Members who then leave by disconnecting (in this order), each leave a room event for those who stay.
      leave: fc.subarray([0, 1], { minLength: 0, maxLength: 2 }),
    }).map(({ from, ds, leave }) => {
      const b = new GarouBuilder(p, 'datagrams');
      const users = [b.login('fuzz-c'), b.login('fuzz-d'), b.login('fuzz-e')];
      const [c] = users;
      // A room the three share (CreateRoom names no room id), so that presence has someone to go to (GAROU-11.3).
      b.write(c!, 'commands', encodeFrame('CreateRoom', { cmd_id: 1, name: 'fuzz', room_type: 'group', members: ['fuzz-d', 'fuzz-e'] }), 'CreateRoom with fuzz-d and fuzz-e');
      b.expectAnswer(c!);
      const sender = users[from]!;
      for (const d of ds) if (!b.serverClosed(sender) && d.make(sender.user).length > 0) b.datagram(sender, d.make(sender.user), `datagram: ${d.what}`);
      for (const i of leave) {
        const u = users[i]!;
        if (b.isLive(u)) b.close(u, `${u.user} disconnects (leaves the room)`);
      }
      return b.build(`Three users in a room; ${sender.user} sends ${ds.length} datagram(s)${leave.length ? `; ${leave.map((i) => users[i]!.user).join(', ')} disconnect(s)` : ''}.`);
    }),
    'stream-types': fc.record({ byte: fc.integer({ min: 0, max: 255 }), twice: fc.boolean(), then: fc.constantFrom<FrameName>('SendMessage', 'MessageRead', 'UploadCancel', 'Ping') }).map(({ byte, twice, then }) => {
      const b = new GarouBuilder(p, 'stream-types');
      const c = b.login('fuzz-b');
      const payload = withFarRoom({ cmd_id: 1, room_id: 1, body: 'x', seq: 1, upload_id: 'u', nonce: 1 });
      const body = encodeRawFrame(FRAME_CODES[then], JSON.stringify(payload));
      b.rawUni(c, Buffer.concat([Uint8Array.of(byte), body]), `uni stream type 0x${byte.toString(16).padStart(2, '0')}, then ${then}`);
      if (twice && !b.serverClosed(c)) b.rawUni(c, Uint8Array.of(byte), `a second stream of type 0x${byte.toString(16).padStart(2, '0')}`);
      return b.build(`Logs in, opens a uni stream of type 0x${byte.toString(16)}${twice ? ' twice' : ''}.`);
    }),
    sequences: sequences(p, GarouBuilder),
  };
}
