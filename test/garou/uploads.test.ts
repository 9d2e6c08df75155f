import t from 'tap';
import { base64Length, Uploads, type UploadFrame } from '../../suites/garou/uploads.js';
import { Rooms } from '../../suites/garou/rooms.js';
import { defaultProfile } from '../../suites/garou/profile.js';
import { validatePayload } from '../../suites/garou/codec.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const start = (id: string, room: number, size: number): UploadFrame => ({ name: 'UploadStart', payload: { upload_id: id, room_id: room, name: 'f.txt', size } });
const chunk = (id: string, offset: number, text: string): UploadFrame => ({ name: 'UploadChunk', payload: { upload_id: id, offset, data: b64(text) } });
const complete = (id: string): UploadFrame => ({ name: 'UploadComplete', payload: { upload_id: id } });
const cancel = (id: string): UploadFrame => ({ name: 'UploadCancel', payload: { upload_id: id } });

t.test('base64 lengths', async (t) => {
  for (const s of ['', 'a', 'ab', 'abc', 'abcd', 'héllo']) t.equal(base64Length(b64(s)), Buffer.byteLength(s), JSON.stringify(s));
});

t.test('an upload: one answer per frame, in order (GAROU-10.1, 10.2)', async (t) => {
  const rooms = new Rooms(defaultProfile);
  rooms.connect('a', 'alice');
  rooms.connect('g', 'guest');
  rooms.command('a', { name: 'CreateRoom', payload: { cmd_id: 1, name: 'r', room_type: 'group', members: ['g'] } }, 0);
  const judge = (user: string) => (room: number) => rooms.postRefusal(user, room);
  const u = new Uploads({ maxUploadBytes: 10 });
  const steps: [UploadFrame, string, unknown][] = [
    [start('x', 1, 6), 'UploadAck', { upload_id: 'x', received: 0, done: false }],
    [start('x', 1, 6), 'Error', { upload_id: 'x', code: 1 }],
    [chunk('x', 0, 'abc'), 'UploadAck', { upload_id: 'x', received: 3, done: false }],
    [chunk('x', 0, 'abc'), 'Error', { upload_id: 'x', code: 1 }], // out-of-order offset
    [complete('x'), 'Error', { upload_id: 'x', code: 1 }], // not all received
    [chunk('x', 3, 'defg'), 'Error', { upload_id: 'x', code: 1 }], // past the size
    [chunk('x', 3, 'def'), 'UploadAck', { upload_id: 'x', received: 6, done: false }],
    [complete('x'), 'UploadAck', { upload_id: 'x', received: 6, done: true }],
    [chunk('x', 6, 'g'), 'Error', { upload_id: 'x', code: 2 }], // finished: the id is free
    [start('big', 1, 11), 'Error', { upload_id: 'big', code: 1 }],
    [start('nope', 9, 1), 'Error', { upload_id: 'nope', code: 2 }],
    [start('y', 1, 2), 'UploadAck', { upload_id: 'y', received: 0, done: false }],
    [chunk('y', 0, 'h'), 'UploadAck', { upload_id: 'y', received: 1, done: false }],
    [cancel('y'), 'UploadAck', { upload_id: 'y', received: 1, done: false }],
    [cancel('y'), 'Error', { upload_id: 'y', code: 2 }],
  ];
  for (const [f, name, payload] of steps) {
    const o = u.frame(f, judge('a'));
    t.equal(o.answer.name, name, `${f.name} ${JSON.stringify(f.payload)}`);
    t.match(o.answer.payload, payload as object);
    t.same(validatePayload(o.answer.name, o.answer.payload), [], 'the answer fits its schema');
  }
  t.same(u.inProgress(), []);
  t.match(u.frame(start('z', 1, 1), judge('g')).answer, { name: 'Error', payload: { code: 3 } }, 'a guest may not upload in a group (as it may not post)');
  const done = new Uploads({ maxUploadBytes: 10 });
  done.frame(start('q', 1, 0), judge('a'));
  t.same(done.frame(complete('q'), judge('a')).finished, { uploadId: 'q', roomId: 1, name: 'f.txt', size: 0 }, 'an empty file');
});
