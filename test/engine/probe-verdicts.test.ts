/**
 * The sanity probe's verdicts (issue 9): unreachable, wrong (the model
 * flags the answer: a conformance failure with rule, bytes and trace) and
 * silent, against Moonpool over TCP; the runner reports a wrong answer as a
 * failing `moonpool/sanity-probe` case and still runs the cases.
 */
import t from 'tap';
import net from 'node:net';
import { tcpDriver } from '../../harness/drivers/tcp.js';
import { runProbe } from '../../harness/engine/probe.js';
import { runSuite } from '../../harness/engine/runner.js';
import { loadSuite } from '../../harness/engine/registry.js';
import { startMoonpoolServer } from '../../reference-server/moonpool/index.js';
import { fastProfile } from '../../suites/moonpool/profile.js';
import { startHostileTcpServer } from '../hostile/tcp-server.js';

const suite = await loadSuite('moonpool');
const connectTo = (port: number) => ({ host: '127.0.0.1', port, connectTimeoutMs: 1000 });

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

t.test('a conforming server: ok', async (t) => {
  const server = await startMoonpoolServer({ profile: fastProfile });
  t.teardown(() => server.stop());
  const r = await runProbe({ suite, driver: tcpDriver, connect: connectTo(server.port), profile: fastProfile, deadlineMs: 5000 });
  t.equal(r.verdict, 'ok');
  t.equal(r.ok, true);
});

t.test('nothing listening: unreachable', async (t) => {
  const r = await runProbe({ suite, driver: tcpDriver, connect: connectTo(await freePort()), profile: fastProfile, deadlineMs: 5000 });
  t.equal(r.verdict, 'unreachable');
  t.equal(r.ok, false, 'not alive');
  t.match(r.message, /^unreachable: /);
});

t.test('a big-endian length: wrong, with the rule and the bytes', async (t) => {
  const server = await startHostileTcpServer('big-endian');
  t.teardown(() => server.close());
  const r = await runProbe({ suite, driver: tcpDriver, connect: connectTo(server.port), profile: fastProfile, deadlineMs: 5000 });
  t.equal(r.verdict, 'wrong');
  t.equal(r.ok, false, 'not serving for fuzz liveness: no reply could be decoded, the exchange did not complete');
  t.match(r.rule, /^MOONPOOL-/);
  t.ok(r.outcome.trace.events.some((e) => e.type === 'data' && e.dir === 's2c' && e.hex.startsWith('0100000000000000' + '00000004')), 'the wrong bytes are in the trace');
  const run = await runSuite({ suite, driver: tcpDriver, targetUrl: server.url, connect: connectTo(server.port), profile: fastProfile, cases: 'moonpool/correlation/single' });
  t.equal(run.probes[0]?.verdict, 'wrong');
  t.equal(run.probes[0]?.ok, false, 'the probe did not pass');
  t.equal(run.cases[0]?.id, 'moonpool/sanity-probe', 'a probe case comes first');
  t.equal(run.cases[0]?.verdict, 'fail');
  t.equal(run.cases[0]?.rule, r.rule);
  t.ok((run.cases[0]?.trace.length ?? 0) > 0, 'with its trace');
  t.equal(run.cases[1]?.id, 'moonpool/correlation/single', 'the cases still run');
  t.not(run.cases[1]?.verdict, 'skipped');
});

t.test('connected but never answering: silent, with the trace as evidence', async (t) => {
  const server = await startHostileTcpServer('silent');
  t.teardown(() => server.close());
  const r = await runProbe({ suite, driver: tcpDriver, connect: connectTo(server.port), profile: fastProfile, deadlineMs: 5000 });
  t.equal(r.verdict, 'silent');
  t.equal(r.ok, false);
  t.ok(r.outcome.trace.events.some((e) => e.type === 'conn_open'), 'it connected');
  const run = await runSuite({ suite, driver: tcpDriver, targetUrl: server.url, connect: connectTo(server.port), profile: fastProfile, cases: 'moonpool/correlation/single', probeDeadlineMs: 3000 });
  t.equal(run.probes[0]?.verdict, 'silent');
  t.equal(run.cases[0]?.id, 'moonpool/sanity-probe');
  t.equal(run.cases[0]?.verdict, 'timeout');
  t.equal(run.cases[1]?.verdict, 'skipped', 'the cases are skipped');
});

t.test('a server that resets with a request outstanding: wrong (the model flags the reset)', async (t) => {
  const server = await startHostileTcpServer('rst');
  t.teardown(() => server.close());
  const r = await runProbe({ suite, driver: tcpDriver, connect: connectTo(server.port), profile: fastProfile, deadlineMs: 5000 });
  t.equal(r.verdict, 'wrong');
  t.match(r.rule, /^MOONPOOL-/);
});
