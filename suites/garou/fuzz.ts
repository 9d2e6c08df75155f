/**
 * Garou's fuzz generators, built with the engine's generic program builder
 * (harness/fuzz/builder.ts) and predicted by the Garou model in server mode
 * (model.ts): no rule is written here. Each program logs users in, then
 * sends one kind of hostile input:
 *
 *  - `malformed-frames`: every frame type code (defined or not) on every
 *    client carrier (control, chat commands, acks, upload), with a payload
 *    that is valid for its type (arbitraries.ts, from the schemas), not
 *    JSON, not UTF-8, of wrong field types, deeply nested, huge, or with a
 *    lying length; sometimes cut short and followed by FIN;
 *  - `stream-types`: unidirectional streams starting with any byte, a
 *    second stream of a type, then a frame;
 *  - `datagrams`: two users share a room; one sends valid typing/presence
 *    datagrams (in its name or another's) and garbage.
 *
 * Room ids are the server's, so these programs only address rooms by ids
 * no server has handed out yet (4,000,000,000 and up). `sequences`
 * (fuzz-sequences.ts) runs model-based multi-user commands over real rooms,
 * binding the ids from the server's answers.
 */
import fc from 'fast-check';
import { toHex, type TraceEvent } from '../../harness/engine/trace.js';
import { ProgramBuilder, type BuilderConn } from '../../harness/fuzz/builder.js';
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
  protected drain(): number {
    const horizon = this.profile.replyDeadlineMs + this.profile.toleranceMs;
    this.push(this.settledDrain(this.msUntilLast(this.predict(this.now + horizon * 1000)), 'let every owed reaction come'));
    return horizon;
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

/** A hostile payload for a frame type: what it is, and its bytes. */
const payloadOf = (name: FrameName | undefined): fc.Arbitrary<{ readonly what: string; readonly bytes: Uint8Array }> =>
  fc.oneof(
    { weight: 4, arbitrary: (name ? payloadArbitrary(name) : fc.constant({})).map((p) => ({ what: 'a valid payload', bytes: u8(JSON.stringify(withFarRoom(p))) })) },
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

/** The generators, by name (see the module docstring). */
export function garouArbitraries(p: GarouProfile): Readonly<Record<string, fc.Arbitrary<FuzzProgram>>> {
  const frame = carrier.chain((on) => fc.record({
    carrier: fc.constant(on),
    // Mostly a type the carrier may carry (the model then judges the payload), else any defined type, else any byte.
    type: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...(ALLOWED_FRAMES[on].c2s ?? FRAME_NAMES)).map((n) => FRAME_CODES[n]) },
      { weight: 1, arbitrary: fc.constantFrom(...FRAME_NAMES).map((n) => FRAME_CODES[n]) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
    ),
    lie: fc.oneof({ weight: 4, arbitrary: fc.constant<'none' | 'over-limit' | 'short' | 'truncate'>('none') }, { weight: 1, arbitrary: fc.constantFrom<'over-limit' | 'short' | 'truncate'>('over-limit', 'short', 'truncate') }),
  })).chain((f) => payloadOf(frameName(f.type)).map((pl) => ({ ...f, pl })));
  return {
    'malformed-frames': fc.array(frame, { minLength: 1, maxLength: 3 }).map((frames) => {
      const b = new GarouBuilder(p, 'malformed-frames');
      const c = b.login('fuzz-a');
      for (const f of frames) {
        if (b.serverClosed(c)) break;
        let bytes = encodeRawFrame(f.type, f.pl.bytes);
        let what = `frame 0x${f.type.toString(16).padStart(2, '0')} ${frameName(f.type) ?? '(undefined)'} with ${f.pl.what}`;
        if (f.lie === 'over-limit') {
          bytes = encodeFrameHeader(f.type, p.maxFrameBytes + 1);
          what += `, length ${p.maxFrameBytes + 1} (over the limit: GAROU-2.3)`;
        } else if (f.lie === 'short' && f.pl.bytes.length > 1) {
          bytes.set(encodeFrameHeader(f.type, f.pl.bytes.length - 1));
          what += ', length one short';
        } else if (f.lie === 'truncate') {
          bytes = bytes.subarray(0, Math.max(1, bytes.length - 2));
          what += ', cut 2 bytes short';
        }
        const s = b.write(c, f.carrier, bytes, `${what} on ${f.carrier}`);
        if (f.lie === 'truncate' && f.carrier !== 'control') b.fin(c, s.stream, s.id);
      }
      return b.build(`Logs in, then sends ${frames.length} hostile frame(s).`);
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
    datagrams: fc.array(
      fc.oneof(
        fc.record({ name: fc.constantFrom<'Typing' | 'StopTyping'>('Typing', 'StopTyping'), own: fc.boolean() }).map(({ name, own }) => ({ what: `${name}${own ? '' : ' in another\'s name'}`, make: (u: string) => encodeFrame(name, { room_id: FAR_ROOM, user_id: own ? u : `${u}-x` }) })),
        fc.constantFrom<'PresenceOnline' | 'PresenceOffline' | 'PresenceAway'>('PresenceOnline', 'PresenceOffline', 'PresenceAway').map((name) => ({ what: name, make: (u: string) => encodeFrame(name, { user_id: u }) })),
        fc.uint8Array({ minLength: 0, maxLength: 24 }).map((g) => ({ what: `garbage ${toHex(g)}`, make: () => g })),
      ),
      { minLength: 1, maxLength: 4 },
    ).map((ds) => {
      const b = new GarouBuilder(p, 'datagrams');
      const c = b.login('fuzz-c');
      b.login('fuzz-d');
      // A room the two share (CreateRoom names no room id), so that presence has someone to go to (GAROU-11.3).
      b.write(c, 'commands', encodeFrame('CreateRoom', { cmd_id: 1, name: 'fuzz', room_type: 'group', members: ['fuzz-d'] }), 'CreateRoom with fuzz-d');
      b.expectAnswer(c);
      for (const d of ds) if (!b.serverClosed(c) && d.make(c.user).length > 0) b.datagram(c, d.make(c.user), `datagram: ${d.what}`);
      return b.build(`Two users; one sends ${ds.length} datagram(s).`);
    }),
    sequences: sequences(p, GarouBuilder),
  };
}
