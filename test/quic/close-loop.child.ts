/**
 * Child process of send-guard.test.ts (run with `node --import tsx`): drives
 * quiche 0.18 into its endless send loop and reports, as one JSON line on
 * stdout, whether the process got out of it. Without the send guard this
 * process freezes (and grows by GBs a minute), so the parent kills it after a
 * deadline: a separate process keeps that failure bounded.
 *
 * The scenario is the one CPU load produced in server-host.test.ts, made
 * deterministic with a UDP relay: the client completes its handshake, but the
 * relay drops every 1-RTT (short header) packet of the server, so the client
 * never sees HANDSHAKE_DONE nor an ACK; it writes 80 KB (its congestion window
 * fills), then `destroy()`s (an application close, code 0), which quiche
 * cannot send; at the next Handshake PTO quiche's send() never returns Done.
 */
import { createSocket } from 'node:dgram';
import { QUICClient } from '@matrixai/quic';
import type { ServerAction, ServerCore } from '../../harness/engine/server-core.js';
import { fromHex, type TraceEvent } from '../../harness/engine/trace.js';
import { startQuicHost, type HostLogEntry } from '../../harness/quic/server-host.js';
import { onSendGuardEvent, sendGuardStats } from '../../harness/quic/send-guard.js';
import { clientCryptoOps, quietLogger } from '../../harness/quic/util.js';
import { generateSelfSigned } from '../../harness/tls/cert.js';

const ALPN = 'wcloop';

/** Echoes every chunk. */
class Echo implements ServerCore {
  readonly sendTimeoutMs = undefined;
  private queue: ServerAction[] = [];
  handle(ev: TraceEvent): void {
    if (ev.type === 'data') this.queue.push({ type: 'send', conn: ev.conn, stream: ev.stream, bytes: fromHex(ev.hex) });
  }
  sendStalled(): void {}
  poll(): ServerAction[] {
    const out = this.queue;
    this.queue = [];
    return out;
  }
  nextTimer(): undefined {
    return undefined;
  }
}

function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)))]).finally(() => clearTimeout(timer));
}

const client = (port: number) =>
  QUICClient.createQUICClient(
    {
      host: '127.0.0.1',
      port,
      serverName: 'localhost',
      crypto: { ops: clientCryptoOps },
      config: { applicationProtos: [ALPN], verifyPeer: false },
      logger: quietLogger('loop-client'),
    },
    { timer: 3000 },
  );

const guardEvents: string[] = [];
onSendGuardEvent((ev) => guardEvents.push(ev.kind));
const identity = await generateSelfSigned();
const logs: HostLogEntry[] = [];
const host = await startQuicHost({
  alpn: [ALPN],
  certPem: identity.certPem,
  keyPem: identity.keyPem,
  core: new Echo(),
  idleTimeoutMs: 1000,
  log: (e) => logs.push(e),
});

// Relay: client datagrams go to the host; of the host's, only long-header ones (Retry, Initial, Handshake) come back.
const relay = createSocket('udp4');
let peer: { address: string; port: number } | undefined;
let dropped = 0;
relay.on('message', (msg, rinfo) => {
  if (rinfo.port === host.port) {
    if ((msg[0]! & 0x80) === 0) {
      dropped++;
      return;
    }
    if (peer) relay.send(msg, peer.port, peer.address);
  } else {
    peer = { address: rinfo.address, port: rinfo.port };
    relay.send(msg, host.port, '127.0.0.1');
  }
});
await new Promise<void>((resolve) => relay.bind(0, '127.0.0.1', resolve));

const c = await client(relay.address().port);
for (let k = 0; k < 4; k++) {
  void c.connection.newStream('bidi').writable.getWriter().write(new Uint8Array(20_000).fill(k)).catch(() => undefined);
}
await new Promise((r) => setTimeout(r, 30));
const started = performance.now();
const destroyed = await within(c.destroy({ force: true }).then(() => 'done' as const), 5000);
const destroyMs = performance.now() - started;
relay.close();

// The host still serves (a direct client gets its echo) and reaped the vanished client.
const c2 = await client(host.port);
const s = c2.connection.newStream('bidi');
await s.writable.getWriter().write(Uint8Array.of(0x42));
const echo = await within(s.readable.getReader().read(), 3000);
await c2.destroy({ force: true });
const reaped = await within(
  new Promise<boolean>((resolve) => {
    const check = () => host.trace.events.some((e) => e.type === 'conn_close' && e.conn === 0);
    if (check()) return resolve(true);
    const off = host.trace.listen(() => {
      if (check()) {
        off();
        resolve(true);
      }
    });
  }),
  4000,
);
const close0 = host.trace.events.find((e) => e.type === 'conn_close' && e.conn === 0);
await host.stop();

process.stdout.write(
  `${JSON.stringify({
    destroyed,
    destroyMs: Math.round(destroyMs),
    dropped,
    guardEvents,
    stats: sendGuardStats(),
    echo: echo === 'timeout' ? 'timeout' : [...(echo.value ?? [])],
    reaped: reaped === true,
    close0: close0 && close0.type === 'conn_close' ? { by: close0.by, reason: close0.reason } : undefined,
    hostGuardLogs: logs.filter((e) => String(e['msg']).startsWith('library send')).length,
  })}\n`,
);
process.exit(0);
