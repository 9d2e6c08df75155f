/**
 * A Garou server shutting down says Goodbye on every connection, then
 * closes it with 0x5 SERVER_SHUTDOWN (SPEC GAROU-13.5). The harness cannot
 * ask a target to shut down, so this is checked on the reference server:
 * its core (the order of its actions), and the server over QUIC (what real
 * clients receive, and the monitor's verdict on the server's own trace).
 */
import t from 'tap';
import { TraceRecorder, type TraceEvent } from '../../harness/engine/trace.js';
import type { Violation } from '../../harness/engine/types.js';
import { createReferenceCore, startGarouServer } from '../../reference-server/garou/index.js';
import { GarouConnection, type ClientEvent } from '../../reference-server/garou/client/index.js';
import { encodeFrame } from '../../suites/garou/codec.js';
import { CLOSE_CODES, FRAME_CODES } from '../../suites/garou/frames.js';
import { GarouModel } from '../../suites/garou/model.js';
import { fastProfile } from '../../suites/garou/profile.js';
import { judgeTrace } from '../_support/monitor.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const GOODBYE = FRAME_CODES.Goodbye.toString(16).padStart(2, '0');

t.test('the core: Goodbye on each control stream, then close 0x5, for every open connection', async (t) => {
  const core = createReferenceCore({ profile: fastProfile });
  const feed = (ev: TraceEvent): void => core.handle(ev);
  feed({ type: 'conn_open', t: 0, conn: 0, remote: 'sim' });
  feed({ type: 'data', t: 1, conn: 0, stream: 0, dir: 'c2s', hex: hex(encodeFrame('Hello', { version: 1, client: 'sim' })) + hex(encodeFrame('Auth', { username: 'alice' })) });
  feed({ type: 'conn_open', t: 2, conn: 1, remote: 'sim' }); // no control stream yet: nothing to say Goodbye on
  core.poll(3);
  core.shutdown!(10);
  const acts = core.poll(10).filter((a) => a.type !== 'log');
  t.same(
    acts.map((a) => (a.type === 'send' ? `send ${a.conn}:${a.stream} ${Buffer.from(a.bytes).toString('hex').slice(0, 2)}` : a.type === 'close' ? `close ${a.conn} ${a.code}` : a.type)),
    [`send 0:0 ${GOODBYE}`, `close 0 ${CLOSE_CODES.SERVER_SHUTDOWN}`, `close 1 ${CLOSE_CODES.SERVER_SHUTDOWN}`],
  );
  t.same(core.poll(20), [], 'nothing after');
});

/** Runs a fresh monitor over a trace and to its end + 2 s. */
function judge(trace: readonly TraceEvent[]): Violation[] {
  return judgeTrace(new GarouModel(fastProfile, 'monitor'), trace, (trace.at(-1)?.t ?? 0) + 2_000_000);
}

t.test('over QUIC: stop() says Goodbye to each client before the close 0x5; the monitor accepts the trace', async (t) => {
  const profile = { ...fastProfile, replyDeadlineMs: 1_500, toleranceMs: 450, handshakeTimeoutMs: 3_000 };
  const server = await startGarouServer({ profile });
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await server.stop();
  });
  const trace = new TraceRecorder();
  const goodbyes = new Map<string, string>();
  const open = (username: string): Promise<GarouConnection> =>
    GarouConnection.open({
      connect: { host: server.host, port: server.port, connectTimeoutMs: 5_000, insecure: true },
      username,
      handshakeTimeoutMs: 5_000,
      trace,
      onEvent: (ev: ClientEvent) => {
        if (ev.kind === 'control' && ev.frame.name === 'Goodbye') goodbyes.set(username, (ev.frame.payload as { reason: string }).reason);
      },
    });
  const alice = await open('alice');
  const bob = await open('bob');
  const made = await alice.request('CreateRoom', { name: 'bye', room_type: 'group', members: ['bob'] }, 5_000);
  t.equal(made.kind === 'ok' ? made.value.name : made.kind, 'MessageAck', 'a room with bob');
  await server.stop();
  stopped = true;
  for (const c of [alice, bob]) {
    await c.waitFor(() => c.closed, 3_000);
    t.equal(c.closed?.by, 'server', `${c.userId}: closed by the server`);
    t.equal(c.closed?.code, CLOSE_CODES.SERVER_SHUTDOWN, `${c.userId}: with 0x5 SERVER_SHUTDOWN`);
    t.equal(goodbyes.get(c.userId), 'server shutting down', `${c.userId}: Goodbye first`);
  }
  const serverView = [...server.trace.events];
  t.ok(serverView.some((e) => e.type === 'data' && e.dir === 's2c' && e.hex.startsWith(GOODBYE)), 'the server trace holds its Goodbyes');
  t.same(judge(serverView).map((v) => `${v.rule} ${v.severity}: ${v.expected} / ${v.seen}`), [], 'the monitor accepts the shutdown');
  // The same trace without the Goodbyes: each close 0x5 is then non-strict (a SHOULD).
  const silent = serverView.filter((e) => !(e.type === 'data' && e.dir === 's2c' && e.stream === 0 && e.hex.startsWith(GOODBYE)));
  t.same(
    judge(silent).map((v) => `${v.rule} ${v.severity}`),
    ['GAROU-13.5 should', 'GAROU-13.5 should'],
    'a close 0x5 without Goodbye is a SHOULD violation, on each connection',
  );
});
