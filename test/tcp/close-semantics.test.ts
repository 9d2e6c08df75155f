/**
 * TCP FIN/RST/close semantics (tcp/close-semantics.ts), pure: who closed,
 * half-close, both FINs → the close is the first FIN's sender's, RSTs,
 * refusals, nothing after the close; and applyTcp's re-entrancy rule.
 */
import t from 'tap';
import { applyTcp, tcpStep, tcpView, type TcpHappening, type TcpTraceEvent, type TcpView } from '../../harness/tcp/close-semantics.js';

/** Runs happenings from a fresh view; returns the events as short strings and the last view. */
function run(local: 'client' | 'server', answerPeerFin: boolean, hs: TcpHappening[]): { lines: string[]; view: TcpView; refused: string[]; fins: number } {
  let view = tcpView(7, local, { answerPeerFin });
  const lines: string[] = [];
  const refused: string[] = [];
  let fins = 0;
  for (const h of hs) {
    const d = tcpStep(view, h);
    view = d.view;
    if (d.refused !== undefined) refused.push(d.refused);
    if (d.sendFin) fins++;
    lines.push(...d.events.map(short));
  }
  return { lines, view, refused, fins };
}
function short(e: TcpTraceEvent): string {
  switch (e.type) {
    case 'stream_open':
      return `open ${e.stream} ${e.by}`;
    case 'data':
      return `data ${e.dir} ${e.hex}`;
    case 'stream_fin':
      return `fin ${e.dir}`;
    case 'stream_reset':
      return `reset ${e.dir} ${e.code}`;
    case 'conn_close':
      return `close ${e.by} ${e.isApp} ${e.code} ${e.reason}`;
    default:
      return e.type;
  }
}

t.test('the client driver view: our FIN first, then the server FIN: the close is ours', async (t) => {
  const r = run('client', true, [{ type: 'send', hex: '01' }, { type: 'receive', hex: '02' }, { type: 'local_fin' }, { type: 'receive', hex: '03' }, { type: 'peer_fin' }, { type: 'socket_closed' }, { type: 'receive', hex: '04' }]);
  t.same(r.lines, ['open 0 client', 'data c2s 01', 'data s2c 02', 'fin c2s', 'data s2c 03', 'fin s2c', 'close client false 0 fin']);
  t.equal(r.fins, 1, 'one FIN to send');
  t.ok(r.view.closed);
});

t.test('the client driver view: the server FIN first is answered at once; the close is the server\'s', async (t) => {
  const r = run('client', true, [{ type: 'receive', hex: 'aa' }, { type: 'peer_fin' }, { type: 'send', hex: '01' }, { type: 'local_fin' }, { type: 'socket_closed' }]);
  t.same(r.lines, ['open 0 client', 'data s2c aa', 'fin s2c', 'fin c2s', 'close server false 0 fin']);
  t.same(r.refused, ['write on stream 0: sending side already ended (the server sent FIN, the driver answered with FIN)', 'end on stream 0: sending side already ended (the server sent FIN, the driver answered with FIN)']);
  t.equal(r.fins, 1);
});

t.test('the server host view keeps a half-open connection after the client FIN', async (t) => {
  const r = run('server', false, [{ type: 'receive', hex: '01' }, { type: 'peer_fin' }, { type: 'send', hex: '02' }, { type: 'local_fin' }, { type: 'socket_closed' }]);
  t.same(r.lines, ['open 0 client', 'data c2s 01', 'fin c2s', 'data s2c 02', 'fin s2c', 'close client false 0 fin']);
});

t.test('RSTs, closes, errors: one conn_close, nothing after it', async (t) => {
  t.same(run('client', true, [{ type: 'local_reset', code: 9, sent: true }, { type: 'peer_fin' }, { type: 'socket_closed' }]).lines, ['open 0 client', 'reset c2s 9', 'close client false 0 reset']);
  t.same(run('client', true, [{ type: 'local_reset', code: 1, sent: false }]).lines, ['open 0 client', 'reset c2s 1', 'close client false 0 reset (sent as FIN)']);
  t.same(run('server', false, [{ type: 'peer_reset' }, { type: 'peer_reset' }]).lines, ['close client false 0 reset']);
  t.same(run('client', true, [{ type: 'peer_reset' }]).lines, ['close server false 0 reset']);
  t.same(run('client', true, [{ type: 'local_close', code: 3, reason: 'bye' }, { type: 'socket_closed' }]).lines, ['close client false 3 bye'], 'a close code is recorded (not on the wire)');
  t.same(run('client', true, [{ type: 'local_close', by: 'transport', code: 0, reason: 'idle' }]).lines, ['close transport false 0 idle']);
  t.same(run('server', false, [{ type: 'socket_error', reason: 'socket error EHOSTUNREACH' }]).lines, ['close transport false 0 socket error EHOSTUNREACH']);
  t.same(run('client', true, [{ type: 'socket_closed' }]).lines, ['close server false 0 closed'], 'gone with no FIN: the peer, reason closed');
  const closed = run('client', true, [{ type: 'local_close', code: 0, reason: '' }, { type: 'send', hex: '01' }, { type: 'local_fin' }, { type: 'local_reset', code: 2, sent: true }]);
  t.same(closed.lines, ['close client false 0 ']);
  t.same(closed.refused, ['write on stream 0: connection closed', 'end on stream 0: connection closed', 'reset(2) not sent: connection already closed']);
});

t.test('applyTcp: a close made while stream_open is recorded drops the operation', async (t) => {
  const holder = { view: tcpView(0, 'server', { answerPeerFin: false }) };
  const got: string[] = [];
  const r = applyTcp(holder, { type: 'send', hex: '01' }, (ev) => {
    got.push(short(ev));
    if (ev.type === 'stream_open') applyTcp(holder, { type: 'local_close', code: 5, reason: 'no' }, (e) => got.push(short(e)));
  });
  t.same(got, ['open 0 client', 'close server false 5 no']);
  t.equal(r.complete, false);
  t.ok(holder.view.closed);
  const plain = { view: tcpView(0, 'client', { answerPeerFin: true }) };
  t.equal(applyTcp(plain, { type: 'send', hex: '01' }, () => undefined).complete, true);
});
