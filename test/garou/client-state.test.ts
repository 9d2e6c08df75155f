/** The Garou client state machine, Sans-I/O: bytes in, events and writes out. */
import t from 'tap';
import { decodeStream, encodeDatagram, encodeFrame, encodeRawFrame, encodeStreamHeader } from '../../suites/garou/codec.js';
import type { Frame, FrameName, Payloads } from '../../suites/garou/frames.js';
import { GarouClientState, type ClientEvent, type ClientWrite } from '../../suites/garou/client-state.js';

const f = <K extends FrameName>(name: K, payload: Payloads[K]): Uint8Array => encodeFrame(name, payload);
const cat = (...parts: Uint8Array[]): Uint8Array => Buffer.concat(parts);
const kinds = (evs: readonly ClientEvent[]): string[] => evs.map((e) => e.kind);
const rulesOf = (evs: readonly ClientEvent[]): string[] =>
  evs.flatMap((e) => (e.kind === 'violation' ? [e.rule] : e.kind === 'room' ? e.violations.map((v) => v.rule) : []));
/** Decodes what the client wrote on one carrier (uni streams start with their header). */
const decoded = (ws: readonly ClientWrite[], carrier: ClientWrite['carrier']): Frame[] => {
  const bytes = cat(...ws.filter((w) => w.carrier === carrier).map((w) => w.bytes));
  const r = decodeStream(bytes, { stream: carrier === 'control' ? 'control' : 'uni', dir: 'c2s' });
  if (r.error) throw r.error;
  return r.frames.map((x) => ({ name: x.name, payload: x.payload }) as Frame);
};

/** A client through the handshake, with 4 shards. */
function authenticated(opts: ConstructorParameters<typeof GarouClientState>[0] = {}): GarouClientState {
  const c = new GarouClientState({ numShards: 8, ...opts });
  c.hello();
  c.auth('alice');
  c.receiveControl(cat(f('HelloAck', { version: 1, session_id: 's1' }), f('AuthOk', { user_id: 'u-alice' }), f('ShardAssignment', { num_shards: 4 })), 0);
  return c;
}

t.test('handshake: Hello and Auth bytes, then HelloAck, AuthOk, ShardAssignment split byte by byte', async (t) => {
  const c = new GarouClientState({ clientName: 'test', numShards: 8 });
  const writes = [c.hello(), c.auth('alice', 'tok')];
  t.same(decoded(writes, 'control'), [
    { name: 'Hello', payload: { version: 1, client: 'test' } },
    { name: 'Auth', payload: { username: 'alice', token: 'tok' } },
  ]);
  t.same([...writes[0]!.bytes.subarray(0, 5)], [0x00, 0, 0, 0, writes[0]!.bytes.length - 5], 'frame header [type][len BE]');
  t.throws(() => c.hello(), /already sent/);
  const bytes = cat(f('HelloAck', { version: 1, session_id: 's1' }), f('AuthOk', { user_id: 'u-alice' }), f('ShardAssignment', { num_shards: 4 }));
  const events: ClientEvent[] = [];
  for (const b of bytes) events.push(...c.receiveControl(Uint8Array.of(b), 5).events);
  t.same(kinds(events), ['handshake', 'handshake', 'handshake']);
  t.equal(c.phase, 'authenticated');
  t.equal(c.userId, 'u-alice');
  t.equal(c.sessionId, 's1');
  t.equal(c.numShards, 4);
});

t.test('AuthFailed ends the handshake', async (t) => {
  const c = new GarouClientState();
  c.hello();
  c.auth('x');
  const s = c.receiveControl(cat(f('HelloAck', { version: 1, session_id: 's' }), f('AuthFailed', { reason: 'nope' })), 1);
  t.same(kinds(s.events), ['handshake', 'handshake']);
  t.equal(c.phase, 'failed');
  t.throws(() => c.command('SendMessage', { room_id: 1, body: 'x' }, 2), /not authenticated/);
});

t.test('commands: the chat-commands stream header once, cmd_ids in order, answers matched in order', async (t) => {
  const c = authenticated();
  const a = c.command('CreateRoom', { name: 'r', room_type: 'group' }, 10);
  const b = c.command('SendMessage', { room_id: 7, body: 'hi' }, 11);
  t.equal(a.cmdId, 1);
  t.equal(b.cmdId, 2);
  t.same([...a.write.bytes.subarray(0, 1)], [0x01], 'stream-type byte 0x01 first');
  t.same([...b.write.bytes.subarray(0, 1)], [0x10], 'then frames only');
  t.same(decoded([a.write, b.write], 'commands').map((x) => x.payload), [
    { name: 'r', room_type: 'group', cmd_id: 1 },
    { room_id: 7, body: 'hi', cmd_id: 2 },
  ]);
  t.equal(c.pendingCommands.length, 2);
  const s = c.receiveControl(cat(f('MessageAck', { cmd_id: 1, room_id: 7 }), f('Error', { cmd_id: 2, code: 3, message: 'forbidden' })), 20);
  t.same(kinds(s.events), ['answer', 'answer']);
  const [first, second] = s.events as Extract<ClientEvent, { kind: 'answer' }>[];
  t.equal(first!.command.name, 'CreateRoom');
  t.equal(first!.command.sentAt, 10);
  t.equal(second!.answer.name, 'Error');
  t.equal(c.pendingCommands.length, 0);
});

t.test('answers out of order and answers to nothing are violations (GAROU-5.2)', async (t) => {
  const c = authenticated();
  c.command('SendMessage', { room_id: 7, body: 'a' }, 0);
  c.command('SendMessage', { room_id: 7, body: 'b' }, 0);
  const s = c.receiveControl(f('MessageAck', { cmd_id: 2 }), 1);
  t.same(kinds(s.events), ['violation', 'answer']);
  t.same(rulesOf(s.events), ['GAROU-5.2']);
  t.equal(c.pendingCommands[0]!.cmdId, 1, 'the older command still waits');
  t.same(rulesOf(c.receiveControl(f('MessageAck', { cmd_id: 1 }), 2).events), []);
  t.same(rulesOf(c.receiveControl(f('MessageAck', { cmd_id: 9 }), 3).events), ['GAROU-5.2'], 'no command outstanding');
});

t.test('room events: shard and hot-room streams, the live view, and the feed\'s verdicts', async (t) => {
  const c = authenticated();
  const shard3 = cat(encodeStreamHeader({ kind: 'shard', shard: 3 }), f('RoomInit', { room_id: 7, seq: 1, name: 'lobby', room_type: 'group', members: [{ user_id: 'u-alice', role: 'owner' }], history: [] }));
  c.openServerStream('3');
  let s = c.receiveStream('3', shard3, 1);
  t.same(kinds(s.events), ['stream', 'room']);
  t.same(rulesOf(s.events), []);
  s = c.receiveStream('3', f('RoomMessage', { room_id: 7, seq: 2, message_id: 'm2', user_id: 'u-bob', body: 'hi', ts: 1 }), 2);
  t.same(rulesOf(s.events), []);
  // A promotion: then seq 4 on the hot-room stream before 3 on the shard stream (allowed: no order across streams).
  s = c.receiveControl(f('RoomPromoted', { room_id: 7 }), 3);
  t.same(s.events.map((e) => (e.kind === 'hot' ? [e.promoted, e.roomId] : e.kind)), [[true, 7]]);
  s = c.receiveStream('15', cat(encodeStreamHeader({ kind: 'hot', roomId: 7 }), f('RoomMessageEdited', { room_id: 7, seq: 4, message_id: 'm2', body: 'hey' })), 4);
  t.same(rulesOf(s.events), []);
  t.same(c.gaps(7), [3], 'seq 3 still missing');
  s = c.receiveStream('3', f('RoomUserJoined', { room_id: 7, seq: 3, user_id: 'u-carol', role: 'member' }), 5);
  t.same(c.gaps(7), []);
  t.equal(c.contiguous(7), 4);
  const view = c.rooms.get(7)!;
  t.equal(view.name, 'lobby');
  t.same([...view.members.keys()], ['u-alice', 'u-carol']);
  t.same(view.messages.map((m) => m.body), ['hey'], 'edited in place');
  t.equal(view.hot, true);
  t.equal(view.lastSeq, 4);
  // Wrong shard (room 7 is shard 3 of 4), a duplicate, a reorder on one stream.
  s = c.receiveStream('3', f('RoomMessage', { room_id: 7, seq: 4, message_id: 'm4', user_id: 'u', body: 'x', ts: 1 }), 6);
  t.same(rulesOf(s.events), ['GAROU-8.5'], 'seq 4 again: a duplicate across streams');
  c.receiveStream('5', encodeStreamHeader({ kind: 'shard', shard: 1 }), 6);
  s = c.receiveStream('5', f('RoomMessage', { room_id: 7, seq: 5, message_id: 'm5', user_id: 'u', body: 'x', ts: 1 }), 7);
  t.same(rulesOf(s.events), ['GAROU-3.6'], 'room 7 on shard stream 1');
  t.same(kinds(c.streamEnded('15', 8).events), ['stream-end'], 'the hot-room stream ends cleanly');
});

t.test('a seq gap stays open; with checking off nothing is judged', async (t) => {
  for (const check of [true, false]) {
    const c = authenticated({ check });
    c.receiveStream('3', cat(encodeStreamHeader({ kind: 'shard', shard: 3 }), f('RoomInit', { room_id: 7, seq: 0, name: 'r', room_type: 'group', members: [], history: [] })), 0);
    c.receiveStream('3', f('RoomMessage', { room_id: 7, seq: 2, message_id: 'm', user_id: 'u', body: 'b', ts: 0 }), 1);
    const s = c.receiveStream('3', f('RoomMessage', { room_id: 7, seq: 1, message_id: 'm', user_id: 'u', body: 'b', ts: 0 }), 2);
    t.same(c.gaps(7), [], `check ${String(check)}: gap filled or not tracked`);
    t.same(rulesOf(s.events), check ? ['GAROU-7.3'] : [], `check ${String(check)}: backwards on one stream`);
  }
});

t.test('malformed server bytes are violations, never throws', async (t) => {
  const c = authenticated();
  t.same(rulesOf(c.receiveControl(encodeRawFrame(0x10, '{}'), 1).events), ['GAROU-3.3'], 'SendMessage on the control stream (s2c)');
  t.same(rulesOf(c.receiveStream('3', Uint8Array.of(0x01), 1).events), ['GAROU-3.3'], 'a client stream type from the server');
  t.same(rulesOf(c.receiveStream('7', cat(encodeStreamHeader({ kind: 'shard', shard: 0 }), encodeRawFrame(0x30, 'not json')), 1).events), ['GAROU-2.4']);
  c.receiveStream('11', cat(encodeStreamHeader({ kind: 'shard', shard: 1 }), encodeRawFrame(0x30, '{"room').subarray(0, 8)), 1);
  t.same(rulesOf(c.streamEnded('11', 2).events), ['GAROU-2.7'], 'FIN inside a frame');
  t.same(rulesOf(c.receiveDatagram(Uint8Array.of(0x80, 0, 0), 1).events), ['GAROU-2.7'], 'a truncated datagram');
  t.same(rulesOf(c.controlEnded(3).events), ['GAROU-3.7']);
});

t.test('Ping is answered with Pong; acks, uploads, datagrams', async (t) => {
  const c = authenticated();
  const s = c.receiveControl(f('Ping', { nonce: 42 }), 1);
  t.same(decoded(s.writes, 'control'), [{ name: 'Pong', payload: { nonce: 42 } }]);
  const acks = [c.ack('MessageDelivered', 7, 3), c.ack('MessageRead', 7, 3)];
  t.equal(acks[0]!.bytes[0], 0x02, 'acks stream header');
  t.same(decoded(acks, 'acks').map((x) => x.name), ['MessageDelivered', 'MessageRead']);
  const up = [c.upload('UploadStart', { upload_id: 'u1', room_id: 7, name: 'a.txt', size: 3 }, 1), c.upload('UploadChunk', { upload_id: 'u1', offset: 0, data: 'YWJj' }, 1)];
  t.equal(up[0]!.bytes[0], 0x03);
  const ans = c.receiveControl(cat(f('UploadAck', { upload_id: 'u1', received: 0, done: false }), f('Error', { upload_id: 'u1', code: 1, message: 'bad' })), 2);
  t.same(ans.events.map((e) => (e.kind === 'upload-answer' ? `${e.upload.name}:${e.answer.name}` : e.kind)), ['UploadStart:UploadAck', 'UploadChunk:Error']);
  t.same(rulesOf(c.receiveControl(f('UploadAck', { upload_id: 'zz', received: 0, done: false }), 3).events), ['GAROU-10.1']);
  const d = c.datagram('Typing', { room_id: 7, user_id: 'u-alice' });
  t.same(d, encodeDatagram('Typing', { room_id: 7, user_id: 'u-alice' }));
  const got = c.receiveDatagram(encodeDatagram('PresenceAway', { user_id: 'u-bob' }), 4);
  t.same(got.events.map((e) => (e.kind === 'datagram' ? e.frame.name : e.kind)), ['PresenceAway']);
});
