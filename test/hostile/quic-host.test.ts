/**
 * The QUIC server host (quic/server-host.ts) against a client sending the
 * largest legal stream error codes (issue 13): RESET_STREAM and STOP_SENDING
 * with 2^62 − 512 are recorded and fed to the core, the exact code is
 * logged, and nothing escapes to the process.
 */
import t from 'tap';
import { QUICClient } from '@matrixai/quic';
import { startQuicHost, type HostLogEntry } from '../../harness/quic/server-host.js';
import { generateSelfSigned } from '../../harness/tls/cert.js';
import type { ServerAction, ServerCore } from '../../harness/engine/server-core.js';
import type { TraceEvent } from '../../harness/engine/trace.js';
import { clientCryptoOps, quietLogger } from '../../harness/quic/util.js';
import { MAX_LEGAL_CODE } from './quic-server.js';

class Code {
  constructor(readonly code: number) {}
}

t.test('client RESET_STREAM and STOP_SENDING with code 2^62 - 512', async (t) => {
  const escaped: unknown[] = [];
  const onEscape = (err: unknown): void => {
    escaped.push(err);
  };
  process.on('uncaughtException', onEscape);
  process.on('unhandledRejection', onEscape);
  t.teardown(() => {
    process.off('uncaughtException', onEscape);
    process.off('unhandledRejection', onEscape);
  });
  const seen: TraceEvent[] = [];
  const queue: ServerAction[] = [];
  const core: ServerCore = {
    sendTimeoutMs: undefined,
    handle(ev) {
      seen.push(ev);
      // Answer the first byte, so that the client's STOP_SENDING meets a sending side.
      if (ev.type === 'data') queue.push({ type: 'send', conn: ev.conn, stream: ev.stream, bytes: new Uint8Array([1]) });
    },
    sendStalled: () => undefined,
    poll: () => queue.splice(0),
    nextTimer: () => undefined,
  };
  const identity = await generateSelfSigned();
  const logs: HostLogEntry[] = [];
  const host = await startQuicHost({ alpn: ['h'], certPem: identity.certPem, keyPem: identity.keyPem, core, log: (e) => logs.push(e) });
  t.teardown(() => host.stop());
  const client = await QUICClient.createQUICClient(
    {
      host: '127.0.0.1', port: host.port, serverName: 'localhost', crypto: { ops: clientCryptoOps },
      config: { applicationProtos: ['h'], verifyPeer: false },
      reasonToCode: (_type, reason) => (reason instanceof Code ? reason.code : 0),
      codeToReason: (_type, code) => new Code(code),
      logger: quietLogger('hostile-client'),
    },
    { timer: 3_000 },
  );
  t.teardown(() => client.destroy({ force: true }));
  const s = client.connection.newStream('bidi');
  const writer = s.writable.getWriter();
  const reader = s.readable.getReader();
  await writer.write(new Uint8Array([0x61]));
  await reader.read(); // the host answered
  writer.abort(new Code(MAX_LEGAL_CODE)).catch(() => undefined);
  reader.cancel(new Code(MAX_LEGAL_CODE)).catch(() => undefined);
  const end = performance.now() + 5_000;
  const resets = (): TraceEvent[] => seen.filter((e) => e.type === 'stream_reset');
  while (resets().length < 2 && performance.now() < end) await new Promise((resolve) => setTimeout(resolve, 5));
  t.same(
    resets().map((e) => (e.type === 'stream_reset' ? `${e.kind} ${e.dir} ${e.code}` : '')).sort(),
    [`reset c2s ${MAX_LEGAL_CODE}`, `stop_sending s2c ${MAX_LEGAL_CODE}`],
    'both fed to the core with the code (nearest double)',
  );
  t.ok(logs.some((l) => l['exact'] === BigInt(MAX_LEGAL_CODE).toString()), 'the exact code is logged');
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.same(escaped, [], 'nothing escaped to the process');
});
