/**
 * The Moonpool reference client (node:net) against the reference server:
 * requests, timeouts, many in flight, the message stream, reconnection
 * (server restart, chaos-proxy resets), typed errors; BindFailed; the
 * command runner; and the CLI (`serve moonpool` as a process, `run`,
 * `list --faults`, `client moonpool --exec`).
 */
import t from 'tap';
import { serveProcess } from '../_support/serve.js';
import net from 'node:net';
import { cli } from '../_support/cli.js';
import { startChaosProxy } from '../../harness/proxy/index.js';
import { startMoonpoolServer } from '../../reference-server/moonpool/index.js';
import { MoonpoolClient, netConnector, parseCommand, runClient, type ClientMessage } from '../../reference-server/moonpool/client/index.js';
import { BindFailedError, ClientClosedError, ConnectionLostError, TimeoutError } from '../../suites/moonpool/errors.js';
import { fastProfile } from '../../suites/moonpool/profile.js';
import { PONG } from '../../suites/moonpool/codec.js';


/** The rejection of `p` (fails the test if it resolves). */
async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

t.test('requests: ping, many in flight, timeout, other payloads, stray', async (t) => {
  const server = await startMoonpoolServer({ profile: fastProfile });
  t.teardown(() => server.stop());
  const client = new MoonpoolClient({ connector: netConnector(server.host, server.port), profile: fastProfile });
  t.teardown(() => client.close());
  t.same(await client.request('PING'), PONG, 'PING → PONG');
  await Promise.all(Array.from({ length: 1_000 }, () => client.ping()));
  t.equal(client.stats.replies, 1_001, '1,000 in flight, each matched');
  await t.rejects(client.request('hello', { timeoutMs: 100 }), TimeoutError, 'a non-PING is ignored by the server: Timeout');
  t.match(await caught(client.requestWithTimeout('hello', 50)), { kind: 'Timeout', timeoutMs: 50 });
  const ac = new AbortController();
  const aborted = client.request('never', { signal: ac.signal, timeoutMs: 10_000 });
  ac.abort();
  await t.rejects(aborted, { code: 'Aborted' });
  t.equal(client.pendingCount, 0, 'nothing left pending');
  t.throws(() => client.send({ correlationId: 1n, payload: new Uint8Array(fastProfile.maxPayloadBytes + 1) }), RangeError, 'local misuse is a RangeError');
});

t.test('messages(): replies and errors as results; reconnection after a server restart', async (t) => {
  const server = await startMoonpoolServer({ profile: fastProfile });
  const port = server.port;
  const client = new MoonpoolClient({ connector: netConnector('127.0.0.1', port), profile: fastProfile });
  t.teardown(() => client.close());
  const seen: ClientMessage[] = [];
  const consumer = (async () => {
    for await (const m of client.messages()) seen.push(m);
  })();
  await client.ping();
  await server.stop();
  const lost = await caught(client.ping({ timeoutMs: 300 }));
  t.ok(lost instanceof ConnectionLostError || lost instanceof TimeoutError, `a request across the loss fails with a typed error (${String(lost)})`);
  const again = await startMoonpoolServer({ port, profile: fastProfile });
  t.teardown(() => again.stop());
  await client.ping({ timeoutMs: 3_000 });
  t.ok(client.stats.connects >= 2, `reconnected by itself (${client.stats.connects} connects)`);
  await client.close();
  await consumer;
  const types = new Set(seen.map((m) => m.type));
  for (const ty of ['connected', 'reply', 'disconnected']) t.ok(types.has(ty as ClientMessage['type']), `the stream yielded ${ty}`);
  t.ok(seen.some((m) => m.type === 'failed' || m.type === 'error'), 'and errors, as results');
  await t.rejects(client.ping(), ClientClosedError, 'a closed client refuses requests');
});

t.test('through the chaos proxy: resets are survived with policy resend', async (t) => {
  const server = await startMoonpoolServer({ profile: fastProfile });
  t.teardown(() => server.stop());
  const proxy = await startChaosProxy({ upstreamHost: server.host, upstreamPort: server.port, seed: 3 });
  t.teardown(() => proxy.stop());
  const client = new MoonpoolClient({ connector: netConnector(proxy.host, proxy.port), profile: fastProfile, onConnectionLoss: 'resend' });
  t.teardown(() => client.close());
  await client.ping();
  proxy.addToxic({ type: 'reset_peer', name: 'reset', stream: 'both', delayMs: 0 });
  const during = Promise.all(Array.from({ length: 50 }, () => client.ping({ timeoutMs: 3_000 })));
  await new Promise((r) => setTimeout(r, 250));
  proxy.removeToxic('reset');
  await during;
  t.ok(client.stats.connects >= 3, `reconnected with backoff (${client.stats.connects} connects)`);
  // With policy fail, requests written on a lost connection fail with a typed error.
  const failing = new MoonpoolClient({ connector: netConnector(proxy.host, proxy.port), profile: fastProfile, onConnectionLoss: 'fail' });
  t.teardown(() => failing.close());
  await failing.ping();
  proxy.addToxic({ type: 'stall', name: 'hold', stream: 'downstream', durationMs: 2_000 });
  const held = failing.ping({ timeoutMs: 3_000 });
  await new Promise((r) => setTimeout(r, 50));
  proxy.addToxic({ type: 'reset_peer', name: 'reset2', stream: 'both', delayMs: 0 });
  t.match(await caught(held), { kind: 'ReadError' }, 'the reset request fails with ReadError');
  proxy.setToxics([]);
  await failing.ping({ timeoutMs: 3_000 });
});

t.test('BindFailed when the port is taken (MOONPOOL-9.3)', async (t) => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => blocker.close(() => r())));
  const port = (blocker.address() as net.AddressInfo).port;
  await t.rejects(startMoonpoolServer({ port }), BindFailedError);
  t.match(await caught(startMoonpoolServer({ port })), { kind: 'BindFailed', recoverable: false, message: new RegExp(`127\\.0\\.0\\.1:${port}: EADDRINUSE`) });
  await t.rejects(startMoonpoolServer({ fault: 'nope' }), RangeError);
  await t.rejects(startMoonpoolServer({ profile: { replyDeadlineMs: 9_000 } }), /replyDeadlineMs/);
});

t.test('command runner and `wirecheck client moonpool`', async (t) => {
  t.match(parseCommand('ping 3'), { name: 'ping', n: 3 });
  t.match(parseCommand('request hello world'), { name: 'request', text: 'hello world' });
  t.match(parseCommand('ping x'), { error: /N must be/ });
  t.match(parseCommand('fly'), { error: /unknown command/ });
  const server = await startMoonpoolServer({ profile: fastProfile });
  t.teardown(() => server.stop());
  let out = '';
  const io = { out: (s: string) => void (out += s), err: () => undefined };
  const connect = { host: server.host, port: server.port, connectTimeoutMs: 2_000 };
  t.equal(await runClient({ connect, profile: fastProfile, io, exec: 'ping; ping 50; stats' }), 0);
  t.match(out, /PONG x50/);
  t.equal(await runClient({ connect, profile: fastProfile, io, exec: 'timeout 100; request hello' }), 1, 'a failed request exits 1');
  t.match(out, /error Timeout/);
  t.equal(await runClient({ connect, profile: fastProfile, io, exec: 'ping; bogus' }), 2, 'a script that does not parse exits 2');
  const r = await cli('client', 'moonpool', '--target', `tcp://127.0.0.1:${server.port}`, '--fast', '--exec', 'ping 5; request PING');
  t.equal(r.code, 0, r.err);
  t.match(r.out, /reply "PONG"/);
});

t.test('the command runner judges a faulty server with the monitor over its own trace', async (t) => {
  for (const [fault, exec, msg] of [
    ['wrong-pong-payload', 'ping', /1\/1 replies in [\d.]+ ms; MOONPOOL-4\.1: expected /],
    ['wrong-correlation-id', 'timeout 300; ping', /0\/1 replies in [\d.]+ ms; first failure: Timeout[^\n]*; MOONPOOL-3\.2: expected /],
  ] as const) {
    const server = await startMoonpoolServer({ profile: fastProfile, fault });
    try {
      let out = '';
      const io = { out: (s: string) => void (out += s), err: () => undefined };
      t.equal(await runClient({ connect: { host: server.host, port: server.port, connectTimeoutMs: 2_000 }, profile: fastProfile, io, exec }), 1, `${fault}: exit 1`);
      t.match(out, msg, `${fault}: reported under its rule`);
    } finally {
      await server.stop();
    }
  }
});

t.test('CLI: list, run against the reference and a faulty server, serve as a process', async (t) => {
  const list = await cli('list', 'moonpool', '--faults');
  t.match(list.out, /wrong-correlation-id/);
  t.match((await cli('list')).out, /moonpool\s+tcp/);
  const good = await startMoonpoolServer({ profile: fastProfile });
  t.teardown(() => good.stop());
  const out = t.testdirName;
  const ok = await cli('run', '--target', `tcp://127.0.0.1:${good.port}`, '--protocol', 'moonpool', '--fast', '--cases', 'moonpool/correlation/*,moonpool/framing/*', '--out', out, '--quiet');
  t.equal(ok.code, 0, ok.out + ok.err);
  const bad = await startMoonpoolServer({ profile: fastProfile, fault: 'accept-oversized' });
  t.teardown(() => bad.stop());
  const failed = await cli('run', '--target', `tcp://127.0.0.1:${bad.port}`, '--protocol', 'moonpool', '--fast', '--cases', 'moonpool/framing/oversized-length', '--out', out, '--quiet');
  t.equal(failed.code, 1, 'conformance failure exits 1');
  t.match(failed.out, /MOONPOOL-5\.1/);

  const server = await serveProcess(t, ['moonpool', '--port', '0', '--fast', '--max-payload-bytes', '1024']);
  const port = server.port;
  t.match(server.stderr(), /"maxPayloadBytes":1024/, 'profile flags reach the server');
  const viaProcess = await cli('run', '--target', `tcp://127.0.0.1:${port}`, '--protocol', 'moonpool', '--fast', '--cases', 'moonpool/correlation/single', '--out', out, '--quiet');
  t.equal(viaProcess.code, 0, viaProcess.out + viaProcess.err);
  t.equal(await server.interrupt(), 0, 'exits 0 on SIGINT');
});
