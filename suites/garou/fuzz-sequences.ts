/**
 * Model-based multi-user sequences (`sequences`): `fc.commands` over 2–4
 * users (the profile's `userRoles` names — admin, moderator, guest — and
 * plain members) × up to 3 rooms (group, channel, direct) × commands:
 * create (one room, or two in one write), join, leave, send, edit, delete,
 * react, ack, upload (start, chunks, complete or cancel), ping, typing and
 * presence datagrams, Goodbye, disconnect and reconnect, waits that let the
 * model's owed reactions come (the reply deadline, a demotion's cooldown),
 * and bursts of messages that cross the hot-room threshold (with `--fast`:
 * promotion, then demotion after a wait).
 *
 * Ids the server chooses come from its answers: each user's `user_id`
 * (AuthOk), each room's `room_id` (CreateRoom's MessageAck) and each
 * message's `message_id` (SendMessage's MessageAck) are bound by the
 * expectation that reads the answer (the fixture language's `bind`,
 * harness/fixtures/vars.ts) and used as `{ "$var": … }` in later frames;
 * the prediction (harness/fuzz/builder.ts) runs on the model's own ids.
 *
 * No rule is written here: whether a command is allowed, what it answers
 * and which room events, RoomInit, promotions and demotions follow is the
 * Garou model's (model.ts, server mode), which the builder asks. After each
 * command the program reads the connection's control stream up to its
 * answer (the frames the model predicts there), so commands of different
 * users reach the server in the order the trace shows (the model's monitor
 * assumption, model.ts). A command's `check` only asks whether it can be
 * sent (its user connected, a room or message to name); `fc.modelRun`
 * compiles a command list eagerly, so fast-check's command shrinker keeps
 * working (as suites/proton/fuzz/sequences.ts).
 */
import fc from 'fast-check';
import { toHex } from '../../harness/engine/trace.js';
import type { FramesExpect } from '../../harness/fixtures/format.js';
import { DRAIN_MARGIN_MS } from '../../harness/fuzz/builder.js';
import type { FuzzProgram } from '../../harness/fuzz/types.js';
import { encodeFrame } from './codec.js';
import { decodeFrames, encodeFixtureFrame } from './fixture-frames.js';
import { streamTypeOf, type RoomType } from './frames.js';
import type { GarouBuilder, GConn } from './fuzz.js';
import type { GarouProfile } from './profile.js';

/** A decoded control-stream frame the model predicts (fixture-frames.ts shape). */
interface PredictedFrame {
  readonly frame: { readonly name: string | number; readonly payload: Record<string, unknown> };
  /** A timer of the server sent it (a demotion), not a client event. */
  readonly timer: boolean;
}

/** A user of the program: its name, its connection, and the variable holding its `user_id`. */
interface User {
  readonly name: string;
  conn: GConn | undefined;
  readonly uidVar: string;
}

/** A value the program has bound: a room or a message (its room's variable too). */
interface Named {
  readonly v: string;
  readonly room: string;
  readonly type?: RoomType;
}

type Carrier = 'control' | 'commands' | 'acks' | 'upload';

/** The rule an expectation reading up to `last` on the control stream checks: the answer's (GAROU-5.2 commands, 10.1 uploads, 12.1 Ping), a promotion's (8.2). */
function ruleOf(last: string | number | undefined): string {
  if (last === 'UploadAck') return 'GAROU-10.1';
  if (last === 'Pong') return 'GAROU-12.1';
  if (last === 'RoomPromoted') return 'GAROU-8.2';
  return 'GAROU-5.2';
}
const REPLY: FramesExpect['within'] = 'replyDeadlineMs + toleranceMs';

/**
 * The sequence builder, made from Garou's builder class (passed in by
 * fuzz.ts, which imports this module: a class extending an import of a
 * module that imports this one could not be defined at load time).
 */
function sequenceBuilder(Base: typeof GarouBuilder) {
  return class SequenceBuilder extends Base {
    readonly users: User[] = [];
    readonly rooms: Named[] = [];
    readonly msgs: Named[] = [];
    readonly ran: string[] = [];
    private readonly cmdIds = new Map<number, number>();
    /** Control-stream frames read by expectations, per connection. */
    private readonly consumed = new Map<number, number>();
    private uploads = 0;

    /** The user's connection when it can send: connected, not closed by either side (as predicted). */
    live(u: User): GConn | undefined {
      const c = u.conn;
      return c && !c.clientClosed && !this.serverClosed(c) ? c : undefined;
    }

    /** Live users. */
    liveUsers(): User[] {
      return this.users.filter((u) => this.live(u) !== undefined);
    }

    /** The control-stream frames the model predicts for `c` by now, in order. */
    private controlFrames(c: GConn): PredictedFrame[] {
      return this.predict().flatMap((p) =>
        p.ev.type === 'data' && p.ev.dir === 's2c' && p.ev.conn === c.index && p.ev.stream === 0
          ? decodeFrames(Buffer.from(p.ev.hex, 'hex')).map((d) => ({ frame: d.frame as PredictedFrame['frame'], timer: p.timer }))
          : [],
      );
    }

    /**
     * Reads `c`'s control stream up to the last frame a client event caused
     * (the answers), binding `binds` (variable → which predicted frame and
     * field); returns the variables bound.
     */
    sync(c: GConn, binds: readonly { readonly v: string; readonly which: (f: PredictedFrame['frame']) => boolean; readonly field: string }[] = [], comment = 'the answer'): Set<string> {
      const bound = new Set<string>();
      if (this.serverClosed(c) || c.clientClosed) return bound;
      const frames = this.controlFrames(c);
      const from = this.consumed.get(c.index) ?? 0;
      let last = -1;
      frames.forEach((f, i) => {
        if (!f.timer && i >= from) last = i;
      });
      const n = last + 1 - from;
      if (n <= 0) return bound;
      const bind: Record<string, string> = {};
      for (const b of binds) {
        const j = frames.findIndex((f, i) => i >= from && i <= last && b.which(f.frame));
        const value = j >= 0 ? frames[j]!.frame.payload[b.field] : undefined;
        if (value === undefined) continue;
        bind[b.v] = `/${j - from}/payload/${b.field}`;
        this.bindPredicted(b.v, value);
        bound.add(b.v);
      }
      const read = frames.slice(from, last + 1).map((f) => f.frame.name);
      const rule = ruleOf(read[read.length - 1]);
      this.exercises(rule);
      this.push({ expect: 'frames', stream: c.control, count: n, within: REPLY, ...(bound.size ? { bind } : {}), rule, comment: `${comment} (${read.join(', ')})` });
      this.consumed.set(c.index, last + 1);
      this.now += 1000;
      return bound;
    }

    /**
     * The last steps: wait past the deadline of the last reaction the model
     * predicts within a demotion's horizon (a hot room's RoomDemoted,
     * GAROU-8.3), then `settled` within the reply deadline (a missing
     * reaction is then the monitor's finding, under its rule).
     */
    protected override drain(): number {
      const p = this.profile;
      const horizon = p.rateWindowMs + p.cooldownMs + p.replyDeadlineMs + p.toleranceMs;
      const rest = this.msUntilLast(this.predict(this.now + horizon * 1000));
      // The model's `settled` does not wait for a demotion owed (model.ts): wait past its deadline.
      if (rest > 0) this.appendWait(`${rest} + replyDeadlineMs + toleranceMs + 50`, (v) => `past the last predicted timer-driven reaction and its deadline (${v} ms: a demotion, GAROU-8.3)`);
      this.push({ expect: 'settled', within: `replyDeadlineMs + toleranceMs + ${DRAIN_MARGIN_MS}`, comment: 'let every owed reaction come' });
      return horizon;
    }

    /** Logs a user in; its `user_id` is bound from AuthOk. */
    enter(u: User): GConn {
      const c = this.login(u.name);
      this.consumed.set(c.index, 3);
      const authOk = this.controlFrames(c)[1];
      const last = this.steps[this.steps.length - 1] as FramesExpect;
      if (authOk?.frame.name === 'AuthOk') {
        this.steps[this.steps.length - 1] = { ...last, bind: { [u.uidVar]: '/1/payload/user_id' } };
        this.bindPredicted(u.uidVar, authOk.frame.payload['user_id']);
      }
      u.conn = c;
      return c;
    }

    /** Writes one fixture frame object on a carrier (a new uni stream gets its type byte first); the prediction gets it with the model's ids. */
    writeFrame(c: GConn, carrier: Carrier, frame: { readonly name: string; readonly payload: object }, comment: string): void {
      let stream = c.control;
      let id = 0;
      let fr: object = frame;
      if (carrier !== 'control') {
        const s = this.uni(c, streamTypeOf(carrier).byte);
        stream = s.name;
        id = s.id;
        if (s.isNew) fr = { streamType: carrier, ...frame };
      }
      const hex = toHex(encodeFixtureFrame(this.predictedFrame(fr)));
      this.push({ do: 'write', stream, frame: fr, comment }, [{ type: 'data', t: 0, conn: c.index, stream: id, dir: 'c2s', hex }], () => true);
    }

    /** A chat command with the connection's next `cmd_id`; returns it. */
    command(c: GConn, name: string, payload: Record<string, unknown>, comment: string): number {
      const cmdId = (this.cmdIds.get(c.index) ?? 0) + 1;
      this.cmdIds.set(c.index, cmdId);
      this.writeFrame(c, 'commands', { name, payload: { cmd_id: cmdId, ...payload } }, comment);
      return cmdId;
    }

    /** The next `cmd_id`s of a connection, taken together (a pipelined write). */
    cmdIdsFor(c: GConn, n: number): number[] {
      const first = (this.cmdIds.get(c.index) ?? 0) + 1;
      this.cmdIds.set(c.index, first + n - 1);
      return Array.from({ length: n }, (_, i) => first + i);
    }

    /** A datagram of one fixture frame object. */
    datagramFrame(c: GConn, frame: { readonly name: string; readonly payload: object }, comment: string): void {
      const hex = toHex(encodeFixtureFrame(this.predictedFrame(frame)));
      this.push({ do: 'dgram', conn: c.name, frame, comment }, [{ type: 'dgram', t: 0, conn: c.index, dir: 'c2s', hex }], () => true);
    }

    /** Closes the connection from the client. */
    disconnect(c: GConn): void {
      this.push({ do: 'close', conn: c.name, comment: `${c.user} disconnects` }, [{ type: 'conn_close', t: 0, conn: c.index, by: 'client', isApp: true, code: 0, reason: '' }], () => true);
      c.clientClosed = true;
    }

    /** A named wait (a duration expression over the profile). */
    waitFor(ms: string, comment: string): void {
      this.appendWait(ms, (v) => `${comment} (${v} ms)`);
    }

    /** A fresh `upload_id`. */
    nextUploadId(): string {
      return `up${++this.uploads}`;
    }

    /** Raw bytes on a carrier (the pipelined pair, which names no variable). */
    writeBytes(c: GConn, carrier: Carrier, bytes: Uint8Array, comment: string): void {
      this.write(c, carrier, bytes, comment);
    }
  };
}

type Builder = InstanceType<ReturnType<typeof sequenceBuilder>>;
type Cmd = fc.Command<Builder, Record<string, never>>;

/** A command from its name, precondition and steps; `check` says whether it can be sent now. */
function command(name: (m: Builder) => string, check: (m: Builder) => boolean, run: (m: Builder) => void): Cmd {
  let label = '';
  return {
    check,
    run: (m) => {
      label = name(m);
      run(m);
      m.ran.push(label);
    },
    toString: () => label || name.toString(),
  };
}

const pick = <T>(xs: readonly T[], i: number): T => xs[i % xs.length]!;
const ref = (v: string) => ({ $var: v });
const isAnswer = (cmdId: number) => (f: PredictedFrame['frame']): boolean => f.name === 'MessageAck' && f.payload['cmd_id'] === cmdId;
/** A user who can send, by index among the live ones. */
const userAt = (m: Builder, i: number): User => pick(m.liveUsers(), i);
const anyLive = (m: Builder): boolean => m.liveUsers().length > 0;

/** The sequence commands for a profile (see the module docstring). */
function commands(p: GarouProfile): fc.Arbitrary<Cmd> {
  const who = fc.nat(7);
  const room = fc.nat(5);
  const body = fc.oneof({ weight: 4, arbitrary: fc.string({ minLength: 1, maxLength: 12 }) }, { weight: 1, arbitrary: fc.constant('') });
  const burstSize = Math.floor((p.hotThreshold * p.rateWindowMs) / 1000) + 3;

  const create = fc.record({ u: who, type: fc.constantFrom<RoomType>('group', 'channel', 'direct'), members: fc.subarray([0, 1, 2, 3], { maxLength: 2 }) }).map(({ u, type, members }) =>
    command(
      (m) => `${userAt(m, u).name} creates a ${type}`,
      (m) => anyLive(m) && m.rooms.length < 3,
      (m) => {
        const user = userAt(m, u);
        const c = user.conn!;
        const others = m.users.filter((x) => x !== user);
        const ids = [...new Set(members.map((i) => pick(others, i)))].filter((x) => m.users.indexOf(x) >= 0).map((x) => ref(x.uidVar));
        const k = m.rooms.length;
        const cmdId = m.command(c, 'CreateRoom', { name: `r${k}`, room_type: type, ...(ids.length ? { members: ids } : {}) }, `${user.name}: CreateRoom ${type} with ${ids.length} member(s)`);
        const v = `room${k}`;
        if (m.sync(c, [{ v, which: isAnswer(cmdId), field: 'room_id' }]).has(v)) m.rooms.push({ v, room: v, type });
      },
    ),
  );

  const createTwo = fc.record({ u: who, type: fc.constantFrom<RoomType>('group', 'channel') }).map(({ u, type }) =>
    command(
      (m) => `${userAt(m, u).name} creates two ${type}s in one write`,
      (m) => anyLive(m) && m.rooms.length <= 1,
      (m) => {
        const user = userAt(m, u);
        const c = user.conn!;
        const [a, b] = m.cmdIdsFor(c, 2) as [number, number];
        const k = m.rooms.length;
        const bytes = Buffer.concat([encodeFrame('CreateRoom', { cmd_id: a, name: `r${k}`, room_type: type }), encodeFrame('CreateRoom', { cmd_id: b, name: `r${k + 1}`, room_type: type })]);
        m.writeBytes(c, 'commands', bytes, `${user.name}: two CreateRooms in one write (answered in order, GAROU-5.2)`);
        const got = m.sync(c, [{ v: `room${k}`, which: isAnswer(a), field: 'room_id' }, { v: `room${k + 1}`, which: isAnswer(b), field: 'room_id' }], 'the two answers');
        for (const v of [`room${k}`, `room${k + 1}`]) if (got.has(v)) m.rooms.push({ v, room: v, type });
      },
    ),
  );

  const joinLeave = fc.record({ u: who, r: room, how: fc.constantFrom('JoinRoom', 'LeaveRoom') }).map(({ u, r, how }) =>
    command(
      (m) => `${userAt(m, u).name} ${how === 'JoinRoom' ? 'joins' : 'leaves'} ${pick(m.rooms, r).v}`,
      (m) => anyLive(m) && m.rooms.length > 0,
      (m) => {
        const user = userAt(m, u);
        const rm = pick(m.rooms, r);
        m.command(user.conn!, how, { room_id: ref(rm.v) }, `${user.name}: ${how} ${rm.v}`);
        m.sync(user.conn!);
      },
    ),
  );

  const send = fc.record({ u: who, r: room, body }).map(({ u, r, body }) =>
    command(
      (m) => `${userAt(m, u).name} sends to ${pick(m.rooms, r).v}`,
      (m) => anyLive(m) && m.rooms.length > 0,
      (m) => {
        const user = userAt(m, u);
        const rm = pick(m.rooms, r);
        const cmdId = m.command(user.conn!, 'SendMessage', { room_id: ref(rm.v), body }, `${user.name}: SendMessage to ${rm.v}`);
        const v = `msg${m.msgs.length}`;
        if (m.sync(user.conn!, [{ v, which: isAnswer(cmdId), field: 'message_id' }]).has(v)) m.msgs.push({ v, room: rm.v });
      },
    ),
  );

  const onMessage = fc.record({ u: who, i: fc.nat(9), what: fc.constantFrom('EditMessage', 'DeleteMessage', 'AddReaction', 'RemoveReaction'), emoji: fc.constantFrom('👍', '🎉', 'x') }).map(({ u, i, what, emoji }) =>
    command(
      (m) => `${userAt(m, u).name}: ${what} ${pick(m.msgs, i).v}`,
      (m) => anyLive(m) && m.msgs.length > 0,
      (m) => {
        const user = userAt(m, u);
        const msg = pick(m.msgs, i);
        const extra = what === 'EditMessage' ? { body: 'edited' } : what === 'DeleteMessage' ? {} : { emoji };
        m.command(user.conn!, what, { room_id: ref(msg.room), message_id: ref(msg.v), ...extra }, `${user.name}: ${what} ${msg.v}`);
        m.sync(user.conn!);
      },
    ),
  );

  const ack = fc.record({ u: who, r: room, read: fc.boolean(), seq: fc.integer({ min: 1, max: 6 }) }).map(({ u, r, read, seq }) =>
    command(
      (m) => `${userAt(m, u).name} acks seq ${seq} of ${pick(m.rooms, r).v}`,
      (m) => anyLive(m) && m.rooms.length > 0,
      (m) => {
        const user = userAt(m, u);
        const rm = pick(m.rooms, r);
        m.writeFrame(user.conn!, 'acks', { name: read ? 'MessageRead' : 'MessageDelivered', payload: { room_id: ref(rm.v), seq } }, `${user.name}: ${read ? 'MessageRead' : 'MessageDelivered'} ${rm.v} seq ${seq}`);
      },
    ),
  );

  const upload = fc.record({ u: who, r: room, size: fc.integer({ min: 1, max: 48 }), chunks: fc.integer({ min: 0, max: 2 }), end: fc.constantFrom('complete', 'cancel', 'none'), skip: fc.boolean() }).map(({ u, r, size, chunks, end, skip }) =>
    command(
      (m) => `${userAt(m, u).name} uploads ${size} bytes to ${pick(m.rooms, r).v} (${chunks} chunk(s), ${end}${skip ? ', an offset skipped' : ''})`,
      (m) => anyLive(m) && m.rooms.length > 0,
      (m) => {
        const user = userAt(m, u);
        const c = user.conn!;
        const rm = pick(m.rooms, r);
        const id = m.nextUploadId();
        m.writeFrame(c, 'upload', { name: 'UploadStart', payload: { upload_id: id, room_id: ref(rm.v), name: `f${id}.bin`, size } }, `${user.name}: UploadStart ${id} (${size} bytes) in ${rm.v}`);
        m.sync(c);
        const data = Buffer.alloc(size, 0x61);
        const half = Math.ceil(size / 2);
        const parts = chunks === 1 ? [[0, size]] : chunks === 2 ? [[0, half], [half, size]] : [];
        for (const [a, b] of parts as [number, number][]) {
          const offset = skip && a > 0 ? a + 1 : a;
          m.writeFrame(c, 'upload', { name: 'UploadChunk', payload: { upload_id: id, offset, data: data.subarray(a, b).toString('base64') } }, `${user.name}: UploadChunk ${id} offset ${offset}, ${b - a} bytes`);
          m.sync(c);
        }
        if (end !== 'none') {
          m.writeFrame(c, 'upload', { name: end === 'complete' ? 'UploadComplete' : 'UploadCancel', payload: { upload_id: id } }, `${user.name}: ${end === 'complete' ? 'UploadComplete' : 'UploadCancel'} ${id}`);
          m.sync(c);
        }
      },
    ),
  );

  const ping = fc.record({ u: who, nonce: fc.nat() }).map(({ u, nonce }) =>
    command(
      (m) => `${userAt(m, u).name} pings`,
      anyLive,
      (m) => {
        const user = userAt(m, u);
        m.writeFrame(user.conn!, 'control', { name: 'Ping', payload: { nonce } }, `${user.name}: Ping ${nonce}`);
        m.sync(user.conn!, [], 'the Pong');
      },
    ),
  );

  const typing = fc.record({ u: who, r: room, stop: fc.boolean() }).map(({ u, r, stop }) =>
    command(
      (m) => `${userAt(m, u).name} ${stop ? 'stops typing' : 'types'} in ${pick(m.rooms, r).v}`,
      (m) => anyLive(m) && m.rooms.length > 0,
      (m) => {
        const user = userAt(m, u);
        const rm = pick(m.rooms, r);
        m.datagramFrame(user.conn!, { name: stop ? 'StopTyping' : 'Typing', payload: { room_id: ref(rm.v), user_id: ref(user.uidVar) } }, `${user.name}: ${stop ? 'StopTyping' : 'Typing'} datagram in ${rm.v}`);
      },
    ),
  );

  const presence = fc.record({ u: who, kind: fc.constantFrom('PresenceOnline', 'PresenceOffline', 'PresenceAway') }).map(({ u, kind }) =>
    command(
      (m) => `${userAt(m, u).name}: ${kind}`,
      anyLive,
      (m) => {
        const user = userAt(m, u);
        m.datagramFrame(user.conn!, { name: kind, payload: { user_id: ref(user.uidVar) } }, `${user.name}: ${kind} datagram`);
      },
    ),
  );

  const leaveServer = fc.record({ u: who, how: fc.constantFrom('goodbye', 'disconnect') }).map(({ u, how }) =>
    command(
      (m) => `${userAt(m, u).name}: ${how}`,
      (m) => m.liveUsers().length > 1,
      (m) => {
        const user = userAt(m, u);
        if (how === 'goodbye') m.writeFrame(user.conn!, 'control', { name: 'Goodbye', payload: { reason: 'bye' } }, `${user.name}: Goodbye`);
        else m.disconnect(user.conn!);
      },
    ),
  );

  const reconnect = fc.nat(7).map((u) =>
    command(
      (m) => `${pick(m.users.filter((x) => !m.live(x)), u).name} reconnects`,
      (m) => m.users.some((x) => !m.live(x)),
      (m) => {
        const user = pick(m.users.filter((x) => !m.live(x)), u);
        m.enter(user);
      },
    ),
  );

  const wait = fc.constantFrom('replyDeadlineMs', 'rateWindowMs + cooldownMs + toleranceMs + 100').map((ms) =>
    command(
      () => `wait ${ms}`,
      anyLive,
      (m) => m.waitFor(ms, ms === 'replyDeadlineMs' ? 'let owed reactions come' : 'past the rate window and the cooldown (a hot room demotes, GAROU-8.3)'),
    ),
  );

  const burst = fc.record({ u: who, r: room }).map(({ u, r }) =>
    command(
      (m) => `${userAt(m, u).name} sends ${burstSize} messages at once to ${pick(m.rooms, r).v}`,
      (m) => anyLive(m) && m.rooms.length > 0,
      (m) => {
        const user = userAt(m, u);
        const rm = pick(m.rooms, r);
        for (let i = 0; i < burstSize; i++) m.command(user.conn!, 'SendMessage', { room_id: ref(rm.v), body: `burst ${i}` }, `${user.name}: burst ${i + 1}/${burstSize} to ${rm.v} (over ${p.hotThreshold} msgs/s: promotion, GAROU-8.2)`);
        m.sync(user.conn!, [], 'the answers');
      },
    ),
  );

  return fc.oneof(
    { weight: 3, arbitrary: create },
    { weight: 1, arbitrary: createTwo },
    { weight: 3, arbitrary: joinLeave },
    { weight: 4, arbitrary: send },
    { weight: 2, arbitrary: onMessage },
    { weight: 1, arbitrary: ack },
    { weight: 1, arbitrary: upload },
    { weight: 1, arbitrary: ping },
    { weight: 1, arbitrary: typing },
    { weight: 1, arbitrary: presence },
    { weight: 1, arbitrary: leaveServer },
    { weight: 1, arbitrary: reconnect },
    { weight: 1, arbitrary: wait },
    { weight: 2, arbitrary: burst },
  );
}

/** Usernames a sequence may log in: the profile's `userRoles` names (admin, moderator, guest, …) and two plain members. */
function candidates(p: GarouProfile): string[] {
  return [...Object.keys(p.userRoles), 'ann', 'bob'];
}

/**
 * The `sequences` generator for a profile: 2–4 users log in, then up to 16
 * commands run (see the module docstring).
 * @param Base  Garou's program builder class (fuzz.ts).
 */
export function sequences(p: GarouProfile, Base: typeof GarouBuilder): fc.Arbitrary<FuzzProgram> {
  const Seq = sequenceBuilder(Base);
  const users = fc.shuffledSubarray(candidates(p), { minLength: 2, maxLength: 4 });
  return fc.tuple(users, fc.commands([commands(p)], { maxCommands: 16 })).map(([names, cmds]) => {
    const b = new Seq(p, 'sequences');
    for (const name of names) b.users.push({ name, conn: undefined, uidVar: `uid_${name}` });
    for (const u of b.users) b.enter(u);
    fc.modelRun(() => ({ model: b, real: {} }), cmds);
    const desc = `${names.length} users (${names.join(', ')}) run ${b.ran.length} command(s)${b.ran.length ? `: ${b.ran.join('; ')}` : ''}.`;
    return b.build(desc);
  });
}
