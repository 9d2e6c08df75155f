import t from 'tap';
import fc from 'fast-check';
import { Rooms, type CommandFrame, type Delivery, type RoomProfile } from '../../suites/garou/rooms.js';
import { defaultProfile } from '../../suites/garou/profile.js';
import { validatePayload } from '../../suites/garou/codec.js';
import type { Frame } from '../../suites/garou/frames.js';

const profile: RoomProfile = { ...defaultProfile, historySize: 3, userRoles: { mod: 'moderator', guest: 'guest', admin: 'admin' } };
let cmdId = 0;
const c = (name: CommandFrame['name'], payload: Record<string, unknown>): CommandFrame => ({ name, payload: { cmd_id: ++cmdId, ...payload } }) as CommandFrame;

function world(p: RoomProfile = profile): Rooms {
  const r = new Rooms(p);
  for (const u of ['alice', 'bob', 'carol', 'mod', 'guest', 'admin']) r.connect(`u-${u}`, u);
  return r;
}
const errorCode = (o: { answer: Frame }): number | undefined => (o.answer.name === 'Error' ? o.answer.payload.code : undefined);
const seqOf = (d: Delivery): number => (d.frame.payload as { seq: number }).seq;

t.test('create, join, post: RoomInit first, then events with seq to every member, the sender included (GAROU-6.2, 7.1, 7.2, 7.4)', async (t) => {
  const w = world();
  const created = w.command('u-alice', c('CreateRoom', { name: 'general', room_type: 'group', members: ['u-bob', 'u-alice', 'u-bob'] }), 1000);
  t.same(created.answer, { name: 'MessageAck', payload: { cmd_id: cmdId, room_id: 1 } });
  t.same(created.deliveries, [{ roomId: 1, to: ['u-alice', 'u-bob'], frame: { name: 'RoomInit', payload: { room_id: 1, seq: 0, name: 'general', room_type: 'group', members: [{ user_id: 'u-alice', role: 'owner' }, { user_id: 'u-bob', role: 'member' }], history: [] } } }]);
  const joined = w.command('u-carol', c('JoinRoom', { room_id: 1 }), 1001);
  t.same(joined.answer, { name: 'MessageAck', payload: { cmd_id: cmdId, room_id: 1, seq: 1 } });
  t.same(joined.deliveries.map((d) => [d.frame.name, d.to, seqOf(d)]), [
    ['RoomUserJoined', ['u-alice', 'u-bob'], 1],
    ['RoomInit', ['u-carol'], 1],
  ], 'the joiner gets RoomInit with the join included (joinerGetsOwnJoin false)');
  const posted = w.command('u-bob', c('SendMessage', { room_id: 1, body: 'hi' }), 1002);
  t.same(posted.answer, { name: 'MessageAck', payload: { cmd_id: cmdId, room_id: 1, message_id: 'm2', seq: 2 } });
  t.same(posted.deliveries, [{ roomId: 1, to: ['u-alice', 'u-bob', 'u-carol'], frame: { name: 'RoomMessage', payload: { room_id: 1, seq: 2, message_id: 'm2', user_id: 'u-bob', body: 'hi', ts: 1002 } } }]);
  for (const d of [...created.deliveries, ...joined.deliveries, ...posted.deliveries]) t.same(validatePayload(d.frame.name, d.frame.payload), [], `${d.frame.name} fits its schema`);

  const w2 = world({ ...profile, joinerGetsOwnJoin: true });
  w2.command('u-alice', c('CreateRoom', { name: 'g', room_type: 'group' }), 0);
  const j2 = w2.command('u-carol', c('JoinRoom', { room_id: 1 }), 1);
  t.same(j2.deliveries.map((d) => [d.frame.name, d.to, seqOf(d)]), [
    ['RoomInit', ['u-carol'], 0],
    ['RoomUserJoined', ['u-alice', 'u-carol'], 1],
  ], 'joinerGetsOwnJoin true: RoomInit s − 1, then the join to everyone');
});

t.test('refusals and their codes (GAROU-5.5, 6.4)', async (t) => {
  const w = world();
  w.command('u-alice', c('CreateRoom', { name: 'g', room_type: 'group', members: ['u-guest'] }), 0); // room 1
  w.command('u-alice', c('CreateRoom', { name: 'news', room_type: 'channel', members: ['u-bob', 'u-mod'] }), 0); // room 2
  const m = w.command('u-alice', c('SendMessage', { room_id: 2, body: 'news!' }), 1).answer.payload as { message_id: string };
  const cases: [string, string, CommandFrame, number | undefined][] = [
    ['empty body', 'u-alice', c('SendMessage', { room_id: 1, body: '' }), 1],
    ['body too long', 'u-alice', c('SendMessage', { room_id: 1, body: 'x'.repeat(4097) }), 1],
    ['no such room', 'u-alice', c('SendMessage', { room_id: 99, body: 'x' }), 2],
    ['not a member', 'u-carol', c('SendMessage', { room_id: 1, body: 'x' }), 4],
    ['guest posts in a group', 'u-guest', c('SendMessage', { room_id: 1, body: 'x' }), 3],
    ['member posts in a channel', 'u-bob', c('SendMessage', { room_id: 2, body: 'x' }), 3],
    ['moderator posts in a channel', 'u-mod', c('SendMessage', { room_id: 2, body: 'x' }), undefined],
    ['no such message', 'u-bob', c('AddReaction', { room_id: 2, message_id: 'nope', emoji: '👍' }), 2],
    ['member reacts in a channel', 'u-bob', c('AddReaction', { room_id: 2, message_id: m.message_id, emoji: '👍' }), undefined],
    ['the same reaction twice', 'u-bob', c('AddReaction', { room_id: 2, message_id: m.message_id, emoji: '👍' }), 1],
    ['remove a reaction never added', 'u-bob', c('RemoveReaction', { room_id: 2, message_id: m.message_id, emoji: '🎉' }), 2],
    ['edit another\'s message', 'u-mod', c('EditMessage', { room_id: 2, message_id: m.message_id, body: 'y' }), 3],
    ['member deletes another\'s message', 'u-bob', c('DeleteMessage', { room_id: 2, message_id: m.message_id }), 3],
    ['moderator deletes another\'s message', 'u-mod', c('DeleteMessage', { room_id: 2, message_id: m.message_id }), undefined],
    ['a deleted message is gone', 'u-alice', c('EditMessage', { room_id: 2, message_id: m.message_id, body: 'z' }), 2],
    ['join twice', 'u-bob', c('JoinRoom', { room_id: 2 }), 1],
    ['guest creates a room', 'u-guest', c('CreateRoom', { name: 'x', room_type: 'group' }), 3],
    ['direct room with two others', 'u-alice', c('CreateRoom', { name: 'd', room_type: 'direct', members: ['u-bob', 'u-carol'] }), 1],
    ['direct room with an unknown user', 'u-alice', c('CreateRoom', { name: 'd', room_type: 'direct', members: ['u-nobody'] }), 2],
  ];
  for (const [what, user, cmd, code] of cases) {
    const o = w.command(user, cmd, 2);
    t.equal(errorCode(o), code, what);
    if (code !== undefined) {
      t.same(o.deliveries, [], `${what}: no event`);
      t.equal((o.answer.payload as { cmd_id: number }).cmd_id, cmd.payload.cmd_id, `${what}: the Error names the cmd_id`);
    }
  }
  t.equal(errorCode(w.command('u-alice', c('SendMessage', { room_id: 1, body: 'x' }), 3, true)), 5, 'rate limited');
  t.throws(() => w.command('u-nobody', c('JoinRoom', { room_id: 1 }), 0), RangeError);
});

t.test('history is a circular buffer; messages out of it are not found (GAROU-7.5)', async (t) => {
  const w = world();
  w.command('u-alice', c('CreateRoom', { name: 'g', room_type: 'group' }), 0);
  for (let i = 1; i <= 5; i++) w.command('u-alice', c('SendMessage', { room_id: 1, body: `msg ${i}` }), i);
  w.command('u-alice', c('EditMessage', { room_id: 1, message_id: 'm5', body: 'msg 5 (edited)' }), 6);
  w.command('u-alice', c('DeleteMessage', { room_id: 1, message_id: 'm4' }), 7);
  const init = w.command('u-bob', c('JoinRoom', { room_id: 1 }), 8).deliveries.find((d) => d.frame.name === 'RoomInit')!;
  const p = init.frame.payload as { seq: number; history: { seq: number; body: string }[] };
  t.equal(p.seq, 8, 'five posts, an edit, a delete, the join');
  t.same(p.history.map((h) => [h.seq, h.body]), [[3, 'msg 3'], [5, 'msg 5 (edited)']], 'the last 3 posts, edited, the deleted one left out');
  t.equal(errorCode(w.command('u-alice', c('EditMessage', { room_id: 1, message_id: 'm2', body: 'late' }), 9)), 2, 'm2 left the buffer');
});

t.test('leaving, closing, disconnecting (GAROU-6.3, 7.2)', async (t) => {
  const w = world();
  w.command('u-alice', c('CreateRoom', { name: 'dm', room_type: 'direct', members: ['u-bob'] }), 0);
  t.equal(errorCode(w.command('u-carol', c('JoinRoom', { room_id: 1 }), 1)), 3, 'nobody joins a direct room');
  const left = w.command('u-bob', c('LeaveRoom', { room_id: 1 }), 2);
  t.same(left.answer, { name: 'MessageAck', payload: { cmd_id: cmdId, room_id: 1, seq: 1 } });
  t.same(left.deliveries.map((d) => [d.frame.name, d.to, seqOf(d)]), [
    ['RoomUserLeft', ['u-alice', 'u-bob'], 1],
    ['RoomClose', ['u-alice'], 2],
  ]);
  t.equal(errorCode(w.command('u-alice', c('SendMessage', { room_id: 1, body: 'x' }), 3)), 2, 'a closed room is gone');

  w.command('u-alice', c('CreateRoom', { name: 'g', room_type: 'group', members: ['u-bob', 'u-carol'] }), 4); // room 2
  const gone = w.disconnect('u-carol', true);
  t.same(gone.map((d) => [d.frame.name, d.to, seqOf(d)]), [['RoomUserLeft', ['u-alice', 'u-bob'], 1]], 'a disconnected user leaves; its own RoomUserLeft reaches nobody');
  const quiet = new Rooms({ ...profile, leaverGetsOwnLeave: false });
  quiet.connect('a', 'a');
  quiet.command('a', c('CreateRoom', { name: 'g', room_type: 'group' }), 0);
  t.same(quiet.command('a', c('LeaveRoom', { room_id: 1 }), 1).deliveries, [], 'the last member leaves silently (leaverGetsOwnLeave false)');
  t.equal(quiet.seq(1), undefined, 'and the room is gone');
  const strict = world({ ...profile, ownerLeave: 'close' });
  strict.command('u-alice', c('CreateRoom', { name: 'g', room_type: 'group', members: ['u-bob'] }), 0);
  t.same(strict.command('u-alice', c('LeaveRoom', { room_id: 1 }), 1).deliveries.map((d) => d.frame.name), ['RoomUserLeft', 'RoomClose'], 'ownerLeave close');
});

t.test('property: every member sees its rooms as RoomInit then seq without gaps; non-members see nothing', async (t) => {
  const users = ['u-alice', 'u-bob', 'u-carol', 'u-mod', 'u-guest'];
  const cmdArb = fc.record({
    user: fc.constantFrom(...users),
    kind: fc.constantFrom('create', 'join', 'leave', 'send', 'edit', 'delete', 'react', 'unreact'),
    room: fc.integer({ min: 1, max: 4 }),
    msg: fc.integer({ min: 1, max: 12 }),
    type: fc.constantFrom('direct', 'group', 'channel'),
    other: fc.constantFrom(...users),
  });
  fc.assert(
    fc.property(fc.array(cmdArb, { maxLength: 60 }), fc.boolean(), (cmds, joinerGetsOwnJoin) => {
      const w = world({ ...profile, joinerGetsOwnJoin });
      const last = new Map<string, number>(); // `${user} ${room}` → last seq seen
      for (const [i, x] of cmds.entries()) {
        const frame: CommandFrame =
          x.kind === 'create' ? c('CreateRoom', { name: 'r', room_type: x.type, members: [x.other] })
          : x.kind === 'join' ? c('JoinRoom', { room_id: x.room })
          : x.kind === 'leave' ? c('LeaveRoom', { room_id: x.room })
          : x.kind === 'send' ? c('SendMessage', { room_id: x.room, body: 'b' })
          : x.kind === 'edit' ? c('EditMessage', { room_id: x.room, message_id: `m${x.msg}`, body: 'e' })
          : x.kind === 'delete' ? c('DeleteMessage', { room_id: x.room, message_id: `m${x.msg}` })
          : c(x.kind === 'react' ? 'AddReaction' : 'RemoveReaction', { room_id: x.room, message_id: `m${x.msg}`, emoji: '+' });
        const o = w.command(x.user, frame, i);
        for (const d of o.deliveries) {
          for (const u of d.to) {
            const key = `${u} ${d.roomId}`;
            const seq = (d.frame.payload as { seq: number }).seq;
            if (d.frame.name === 'RoomInit') {
              last.set(key, seq);
              continue;
            }
            const prev = last.get(key);
            if (prev === undefined) throw new Error(`${u} got ${d.frame.name} of room ${d.roomId} before its RoomInit`);
            if (seq !== prev + 1) throw new Error(`${u} room ${d.roomId}: seq ${seq} after ${prev}`);
            last.set(key, seq);
            if (d.frame.name === 'RoomUserLeft' && (d.frame.payload as { user_id: string }).user_id === u) last.delete(key);
            if (d.frame.name === 'RoomClose') last.delete(key);
          }
          const members = w.members(d.roomId);
          if (members && d.frame.name !== 'RoomUserLeft' && d.frame.name !== 'RoomClose') {
            for (const u of d.to) if (!members.has(u)) throw new Error(`${d.frame.name} to non-member ${u}`);
          }
          if (validatePayload(d.frame.name, d.frame.payload).length > 0) throw new Error(`${d.frame.name} breaks its schema`);
        }
        if (o.answer.name === 'MessageAck' && o.answer.payload.seq !== undefined && w.seq(o.answer.payload.room_id!) !== undefined && o.answer.payload.seq > w.seq(o.answer.payload.room_id!)!) {
          throw new Error('ack seq beyond the room');
        }
      }
      // Every member still in a room has seen it up to its latest seq.
      for (const u of users) for (const r of w.roomsOf(u)) if (last.get(`${u} ${r}`) !== w.seq(r)) throw new Error(`${u} missed events of room ${r}`);
    }),
    { numRuns: 300 },
  );
  t.pass('fan-out and seq hold');
});

t.test('datagram relay: typing to the room\'s other members, presence to users sharing a room (GAROU-11.2, 11.3)', async (t) => {
  const w = world();
  w.command('u-alice', c('CreateRoom', { name: 'a', room_type: 'group', members: ['u-bob', 'u-carol'] }), 0);
  w.command('u-bob', c('CreateRoom', { name: 'b', room_type: 'group', members: ['u-mod'] }), 0);
  t.same(w.datagramRecipients('u-alice', { name: 'Typing', payload: { room_id: 1, user_id: 'u-alice' } }), ['u-bob', 'u-carol'], 'not to the sender');
  t.same(w.datagramRecipients('u-mod', { name: 'StopTyping', payload: { room_id: 1, user_id: 'u-mod' } }), [], 'not a member: dropped');
  t.same(w.datagramRecipients('u-alice', { name: 'Typing', payload: { room_id: 1, user_id: 'u-bob' } }), [], 'another user\'s id: dropped');
  t.same(w.datagramRecipients('u-bob', { name: 'PresenceAway', payload: { user_id: 'u-bob' } }), ['u-alice', 'u-carol', 'u-mod'], 'everyone sharing a room');
  t.same(w.datagramRecipients('u-guest', { name: 'PresenceOnline', payload: { user_id: 'u-guest' } }), [], 'no shared room');
});

t.test('refusalCode: the code a command would get now, and nothing changes (a monitor asks it, GAROU-7.7)', async (t) => {
  const r = new Rooms(profile);
  for (const u of ['alice', 'bob', 'guest']) r.connect(u, u);
  const room = (r.command('alice', c('CreateRoom', { name: 'g', room_type: 'group', members: ['bob', 'guest'] }), 0).answer.payload as { room_id: number }).room_id;
  r.command('alice', c('SendMessage', { room_id: room, body: 'x' }), 0);
  t.equal(r.refusalCode('bob', c('AddReaction', { room_id: room, message_id: 'm1', emoji: '+1' })), undefined, 'a reaction would be accepted');
  t.equal(r.refusalCode('guest', c('SendMessage', { room_id: room, body: 'y' })), 3, 'a guest post FORBIDDEN');
  t.equal(r.refusalCode('bob', c('SendMessage', { room_id: room, body: 'y' }), true), 5, 'RATE_LIMITED');
  t.equal(r.refusalCode('bob', c('CreateRoom', { name: 'h', room_type: 'group' })), undefined, 'a CreateRoom would be accepted');
  t.equal(r.seq(room), 1, 'no seq taken');
  t.equal(r.roomsOf('bob').length, 1, 'no room made');
  t.equal(r.command('bob', c('AddReaction', { room_id: room, message_id: 'm1', emoji: '+1' }), 0).answer.name, 'MessageAck', 'the reaction, applied, takes seq 2');
  r.command('alice', c('DeleteMessage', { room_id: room, message_id: 'm1' }), 0);
  t.equal(r.refusalCode('bob', c('AddReaction', { room_id: room, message_id: 'm1', emoji: 'x' })), 2, 'NOT_FOUND once deleted');
});
