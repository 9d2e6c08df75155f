import t from 'tap';
import { Session, type AuthDecision, type SessionAction, type SessionInput } from '../../suites/garou/session.js';
import { defaultProfile, fastProfile } from '../../suites/garou/profile.js';
import { decodeStream, encodeRawFrame } from '../../suites/garou/codec.js';
import type { Frame } from '../../suites/garou/frames.js';

const auth = (username: string): AuthDecision => (username === 'taken' ? { ok: false, reason: 'already connected' } : { ok: true, userId: `u-${username}` });
const session = (p = defaultProfile): Session => new Session(p, { startedAt: 1000, sessionId: 'sess-1', authenticate: auth });
const f = (frame: Frame): SessionInput => ({ kind: 'frame', frame });
const hello: SessionInput = f({ name: 'Hello', payload: { version: 1, client: 'test' } });
const authIn = (username: string): SessionInput => f({ name: 'Auth', payload: { username } });
const closeOf = (a: SessionAction[]): [number, string] | undefined => {
  const c = a.find((x) => x.kind === 'close');
  return c && c.kind === 'close' ? [c.code, c.reason] : undefined;
};

t.test('the handshake: HelloAck, AuthOk, shard streams, ShardAssignment (GAROU-4.1, 3.5, 4.6)', async (t) => {
  const s = session();
  t.same(s.input(hello), [{ kind: 'send', frame: { name: 'HelloAck', payload: { version: 1, session_id: 'sess-1' } } }]);
  t.same(s.input(f({ name: 'Ping', payload: { nonce: 9 } })), [{ kind: 'send', frame: { name: 'Pong', payload: { nonce: 9 } } }], 'Ping after Hello');
  t.same(s.input(authIn('alice')), [
    { kind: 'send', frame: { name: 'AuthOk', payload: { user_id: 'u-alice' } } },
    { kind: 'open-shards', count: 8 },
    { kind: 'send', frame: { name: 'ShardAssignment', payload: { num_shards: 8 } } },
  ]);
  t.equal(s.state, 'authenticated');
  t.equal(s.userId, 'u-alice');
  t.equal(s.deadline(), undefined, 'no handshake timeout once authenticated');
  t.same(s.tick(1_000_000), []);
  for (const stream of ['commands', 'acks', 'upload'] as const) t.same(s.input({ kind: 'uni', stream }), [], `${stream} stream after AuthOk`);
  t.same(closeOf(s.input({ kind: 'uni', stream: 'acks' })), [1, 'GAROU-3.4 a second acks stream']);
  t.same(s.input(f({ name: 'Ping', payload: { nonce: 1 } })), [], 'nothing after a close');
});

t.test('violations and their close codes (GAROU-3.1, 3.4, 4.2 – 4.5, 13.3, 13.4)', async (t) => {
  const cases: [string, SessionInput[], number, RegExp][] = [
    ['Auth before Hello', [authIn('a')], 1, /^GAROU-4\.3/],
    ['Ping before Hello', [f({ name: 'Ping', payload: { nonce: 1 } })], 1, /^GAROU-4\.3/],
    ['a second Hello', [hello, hello], 1, /^GAROU-4\.3/],
    ['Auth after AuthOk', [hello, authIn('a'), authIn('b')], 1, /^GAROU-4\.3/],
    ['Goodbye before AuthOk', [hello, f({ name: 'Goodbye', payload: { reason: 'x' } })], 1, /^GAROU-4\.3/],
    ['wrong version', [f({ name: 'Hello', payload: { version: 2, client: 'x' } })], 1, /^GAROU-4\.2 unsupported version 2/],
    ['empty username', [hello, authIn('')], 2, /^GAROU-4\.4 empty username/],
    ['refused by the directory', [hello, authIn('taken')], 2, /^GAROU-4\.4 already connected/],
    ['a uni stream before AuthOk', [hello, { kind: 'uni', stream: 'commands' }], 1, /^GAROU-3\.4/],
    ['a second bidi stream', [hello, authIn('a'), { kind: 'bidi' }], 1, /^GAROU-3\.1/],
    ['Goodbye', [hello, authIn('a'), f({ name: 'Goodbye', payload: { reason: 'bye' } })], 0, /^GAROU-13\.4 goodbye: bye/],
    ['control FIN', [hello, { kind: 'control-fin' }], 0, /^GAROU-3\.7/],
  ];
  for (const [what, inputs, code, reason] of cases) {
    const s = session();
    let last: SessionAction[] = [];
    for (const i of inputs) last = s.input(i);
    const c = closeOf(last);
    t.equal(c?.[0], code, `${what}: code`);
    t.match(c?.[1], reason, `${what}: reason names the rule`);
    t.equal(s.state, 'closed');
  }
  const refused = session();
  refused.input(hello);
  t.same(refused.input(authIn('taken'))[0], { kind: 'send', frame: { name: 'AuthFailed', payload: { reason: 'already connected' } } }, 'AuthFailed before the close');
});

t.test('codec errors close with the code the codec names (GAROU-2.3, 13.3)', async (t) => {
  const big = decodeStream(encodeRawFrame(0x08, 'x'.repeat(100)), { stream: 'control', dir: 'c2s', maxFrameBytes: 10 }).error!;
  const s = session();
  t.same(closeOf(s.input({ kind: 'codec-error', error: big })), [4, big.reason()]);
  const bad = decodeStream(encodeRawFrame(0x2a, '{}'), { stream: 'control', dir: 'c2s' }).error!;
  t.same(closeOf(session().input({ kind: 'codec-error', error: bad }))?.[0], 1);
  t.match(bad.reason(), /^GAROU-2\.2 decode control stream \(c2s\) at byte 0: unknown frame type 0x2a$/);
});

t.test('handshake timeout from the QUIC handshake (GAROU-4.5); version mismatch answered (profile)', async (t) => {
  const s = session(fastProfile);
  t.equal(s.deadline(), 1500);
  t.same(s.tick(1499), []);
  s.input(hello);
  t.same(closeOf(s.tick(1500)), [3, 'GAROU-4.5 no AuthOk within 500 ms'], 'Hello alone does not stop the timer');
  const lenient = session({ ...defaultProfile, versionMismatch: 'answer' });
  t.same(lenient.input(f({ name: 'Hello', payload: { version: 7, client: 'x' } })), [{ kind: 'send', frame: { name: 'HelloAck', payload: { version: 1, session_id: 'sess-1' } } }]);
});
