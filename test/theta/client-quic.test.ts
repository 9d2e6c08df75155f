/**
 * The Theta reference client over QUIC against the Theta reference server
 * running in this process (loopback): a session with heartbeats and RTT,
 * replication, a 32 KiB asset with its SHA-256 (the 2 MiB one runs in
 * memory: client.test.ts); and a faulty server
 * (`union-capabilities`, `hash-all-but-last`) reported through the monitor.
 * Timers from test/theta/_run.ts's socket profile (room for a loaded machine).
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { startThetaServer, type ThetaServer } from '../../reference-server/theta/index.js';
import { ThetaClient } from '../../reference-server/theta/client/index.js';
import { socketProfile } from './_run.js';

async function withServer(fault: string | undefined, body: (s: ThetaServer, c: ThetaClient, lines: string[]) => Promise<void>): Promise<void> {
  const server = await startThetaServer({ profile: socketProfile, ...(fault ? { fault } : {}) });
  const lines: string[] = [];
  const c = new ThetaClient({ connect: { host: server.host, port: server.port, ca: server.certPem!, serverName: 'localhost', connectTimeoutMs: 5_000 }, profile: socketProfile, print: (l) => lines.push(l) });
  try {
    await body(server, c, lines);
  } finally {
    await c.closeAll();
    await server.stop();
  }
}

t.test('a session with the reference server: handshake, heartbeats, replication, an asset', async (t) => {
  await withServer(undefined, async (_s, c, lines) => {
    t.ok(await c.connect([2, 7, 1]), lines.join('\n'));
    t.same(c.acknowledgement?.capabilities, [1, 2]);
    await new Promise((r) => setTimeout(r, 3 * socketProfile.heartbeatIntervalMs + 100));
    const d = c.diagnostics()!;
    t.ok(d.samples >= 1 && d.serverSeq >= 2, `RTT measured from the server's echoes: ${JSON.stringify(d)}`);
    t.ok(d.rttMs < 1_000, `RTT ${d.rttMs} ms is plausible on loopback`);
    t.ok(await c.replicate(new Uint8Array([1, 2, 3, 4])), 'echoed');
    t.ok(await c.upload(new Uint8Array(randomBytes(32 * 1024)), 5_000, '32 KiB'), lines.join('\n'));
    // SHOULD windows (heartbeat timing ± tolerance) are wall time, and client and server share this loaded process: only MUSTs are asserted.
    t.same(c.violations.filter((v) => v.severity === 'must').map((v) => `${v.rule}: ${v.seen}`), [], 'the monitor found no MUST violation');
  });
});

t.test('a faulty reference server is reported through the monitor', async (t) => {
  await withServer('union-capabilities', async (_s, c, lines) => {
    t.notOk(await c.connect([1, 9]), 'the client refuses the acknowledgement');
    t.ok(c.violations.some((v) => v.rule === 'THETA-4.5'), lines.join('\n'));
  });
  await withServer('hash-all-but-last', async (_s, c, lines) => {
    t.ok(await c.connect());
    t.notOk(await c.upload(new Uint8Array(randomBytes(3000)), 1000, '3 frames'));
    t.ok(c.violations.some((v) => v.rule === 'THETA-7.1'), lines.join('\n'));
  });
});
