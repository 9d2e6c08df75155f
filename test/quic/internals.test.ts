/**
 * Every reach into @matrixai/quic internals (harness/quic/internals.ts) is
 * still where it was in the version it was checked against: these tests
 * fail when an upgrade moves or renames one, so that internals.ts is
 * re-read before the harness relies on it again.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createSocket } from 'node:dgram';
import t from 'tap';
import { QUICServer, QUICSocket, utils as quicUtils } from '@matrixai/quic';
import {
  CHECKED_LIBRARY_VERSION,
  OUT_OF_RANGE_STREAM_CODE,
  abortWritableNow,
  closeNativelyFirst,
  createClientConnection,
  dgramMaxSize,
  earlyPeerStreams,
  forgetClientConnection,
  guardSocketMessages,
  nativeConnectionPrototype,
  nativeEnding,
  nativeOf,
  negotiatedAlpn,
  serverSocketOf,
  shieldStreamCodes,
  tapDatagrams,
} from '../../harness/quic/internals.js';
import { clientDefault } from '@matrixai/quic/config.js';
import { quietLogger, serverCryptoOps } from '../../harness/quic/util.js';
import { generateSelfSigned } from '../../harness/tls/cert.js';
import { startQuicHost } from '../../harness/quic/server-host.js';
import type { ServerCore } from '../../harness/engine/server-core.js';
import { TraceRecorder } from '../../harness/engine/trace.js';
import { quicDriver } from '../../harness/drivers/quic.js';

const require = createRequire(import.meta.url);

t.test('the installed library is the version internals.ts was checked against', async (t) => {
  const pkg = JSON.parse(readFileSync(require.resolve('@matrixai/quic/package.json'), 'utf8')) as { version: string };
  t.equal(pkg.version, CHECKED_LIBRARY_VERSION, 'upgraded? re-read every reach in harness/quic/internals.ts, then update CHECKED_LIBRARY_VERSION');
});

t.test('the native connection class has every method wirecheck calls or wraps', async (t) => {
  const proto = nativeConnectionPrototype() as Record<string, unknown>;
  for (const name of [
    'send', 'recv', 'timeout', 'isClosed', 'isDraining', 'isTimedOut', 'localError', 'peerError', 'close', 'applicationProto',
    'dgramSend', 'dgramRecvVec', 'dgramMaxWritableLen', 'isDgramSendQueueFull',
    'streamRecv', 'streamSend', 'streamCapacity', 'streamWritable', 'streamReadable', 'streamShutdown', 'streamFinished',
  ]) {
    t.type(proto[name], 'function', `quiche.Connection.prototype.${name}`);
  }
});

t.test('the library still parses stream codes of at most 16 digits (the shield is still needed)', async (t) => {
  t.equal(quicUtils.isStreamReset(new Error('StreamReset(1234567890123456)')), 1234567890123456);
  t.equal(quicUtils.isStreamReset(new Error('StreamReset(12345678901234567)')), false, 'a 17-digit code is not parsed');
  t.equal(quicUtils.isStreamStopped(new Error('StreamStopped(12345678901234567)')), false);
});

t.test('shieldStreamCodes rewrites out-of-range codes and keeps the exact one', async (t) => {
  class Fake {
    streamRecv(id: number): never {
      throw new Error(id === 0 ? 'StreamReset(4611686018427387392)' : 'StreamReset(7)');
    }
  }
  shieldStreamCodes(Fake.prototype);
  shieldStreamCodes(Fake.prototype); // idempotent
  const f = new Fake();
  t.throws(() => f.streamRecv(0), { message: `StreamReset(${String(OUT_OF_RANGE_STREAM_CODE)})` });
  t.throws(() => f.streamRecv(4), { message: 'StreamReset(7)' }, 'in-range codes untouched');
  t.equal(quicUtils.isStreamReset(new Error(`StreamReset(${String(OUT_OF_RANGE_STREAM_CODE)})`)), OUT_OF_RANGE_STREAM_CODE, 'the library parses the stand-in');
});

t.test('sockets, servers, connections and streams have the internals used', async (t) => {
  const identity = await generateSelfSigned();
  // QUICSocket.handleSocketMessage / connectionMap, QUICServer.socket.
  const socket = new QUICSocket({ logger: quietLogger('internals-test') });
  t.ok(guardSocketMessages(socket, () => undefined), 'QUICSocket.handleSocketMessage');
  t.type((socket as unknown as { connectionMap?: unknown }).connectionMap, 'object', 'QUICSocket.connectionMap');
  const server = new QUICServer({
    crypto: { key: new Uint8Array(32).buffer, ops: serverCryptoOps },
    config: { key: identity.keyPem, cert: identity.certPem, applicationProtos: ['x'], verifyPeer: false },
    logger: quietLogger('internals-test'),
  });
  t.ok(serverSocketOf(server) instanceof QUICSocket, 'QUICServer.socket');

  // A direct client QUICConnection (QUICClient's constructor call), registered and forgotten.
  await socket.start({ host: '127.0.0.1', port: 0 });
  t.teardown(() => socket.stop({ force: true }));
  const qc = createClientConnection({
    socket, serverName: null, address: '127.0.0.1', port: 9, config: { ...clientDefault, applicationProtos: ['x'], verifyPeer: false },
    logger: quietLogger('internals-test'),
  });
  t.ok(nativeOf(qc), 'QUICConnection.conn');
  t.type((qc as unknown as { send?: unknown }).send, 'function', 'QUICConnection.send');
  t.ok((qc as unknown as { streamMap?: unknown }).streamMap instanceof Map, 'QUICConnection.streamMap');
  t.same(earlyPeerStreams(qc), []);
  t.equal(nativeEnding(qc), undefined, 'not ended');
  t.equal(dgramMaxSize(qc), undefined, 'no datagrams before a handshake');
  t.ok(tapDatagrams(qc, () => undefined, () => undefined), 'native recv can be wrapped per connection');
  forgetClientConnection(socket, qc);

  // A live connection: ALPN, datagrams, immediate abort, native close first.
  const core: ServerCore = { sendTimeoutMs: undefined, handle: () => undefined, sendStalled: () => undefined, poll: () => [], nextTimer: () => undefined };
  const host = await startQuicHost({ alpn: ['x'], certPem: identity.certPem, keyPem: identity.keyPem, core, datagrams: true });
  t.teardown(() => host.stop());
  const trace = new TraceRecorder();
  const c = await quicDriver.connect(trace, { host: '127.0.0.1', port: host.port, alpn: ['x'], insecure: true, connectTimeoutMs: 3_000, datagrams: true });
  const live = (c as unknown as { connection: Parameters<typeof negotiatedAlpn>[0] }).connection!;
  t.equal(negotiatedAlpn(live), 'x', 'native applicationProto');
  t.type(dgramMaxSize(live), 'number', 'native dgramMaxWritableLen');
  const qs = live.newStream('bidi');
  t.type((qs as unknown as { writableAbort?: unknown }).writableAbort, 'function', 'QUICStream.writableAbort');
  t.ok(abortWritableNow(qs, undefined));
  t.ok(closeNativelyFirst(live, true, 0, new Uint8Array()), 'native close');
  await c.close();
});

t.test('a packet for a connection that is not running is reported, not an unhandled rejection', async (t) => {
  const rejections: unknown[] = [];
  const onUnhandled = (err: unknown): void => {
    rejections.push(err);
  };
  process.on('unhandledRejection', onUnhandled);
  t.teardown(() => {
    process.off('unhandledRejection', onUnhandled);
  });
  const reported: unknown[] = [];
  const socket = new QUICSocket({ logger: quietLogger('internals-test') });
  t.ok(guardSocketMessages(socket, (err) => reported.push(err)));
  await socket.start({ host: '127.0.0.1', port: 0 });
  t.teardown(() => socket.stop({ force: true }));
  // Mapped but never started: the library's `recv` rejects with ErrorQUICConnectionNotRunning,
  // as it does for a late packet after a stop.
  const qc = createClientConnection({
    socket, serverName: null, address: '127.0.0.1', port: 9, config: { ...clientDefault, applicationProtos: ['x'], verifyPeer: false },
    logger: quietLogger('internals-test'),
  });
  const udp = createSocket('udp4');
  t.teardown(() => udp.close());
  // A QUIC short-header packet (RFC 9000 §17.3) addressed to the connection's id.
  const packet = Buffer.concat([Buffer.from([0x40]), Buffer.from(qc.connectionId), Buffer.alloc(32, 7)]);
  await new Promise<void>((resolve) => udp.send(packet, socket.port, '127.0.0.1', () => resolve()));
  const end = performance.now() + 3_000;
  while (reported.length === 0 && performance.now() < end) await new Promise((resolve) => setTimeout(resolve, 5));
  t.equal(reported.length, 1, 'reported through the guard');
  t.match(String(reported[0]), /NotRunning/);
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.same(rejections, [], 'no unhandled rejection');
  forgetClientConnection(socket, qc);
});
