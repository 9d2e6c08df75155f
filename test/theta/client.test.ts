/**
 * The Theta reference client (reference-server/theta/client/): the command
 * language, the Sans-I/O session's checks, and the client against an
 * in-process server (the Theta model's server core over the memory
 * driver, on the real clock): handshake, heartbeats and live diagnostics,
 * replication, a 2 MiB asset with its SHA-256, and server deviations
 * reported through the monitor (a tampered acknowledgement, heartbeats that
 * stop, a wrong asset hash).
 */
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createMemoryTarget } from '../../harness/drivers/memory.js';
import { realClock } from '../../harness/engine/clock.js';
import { modelCore, type ServerAction, type ServerCore } from '../../harness/engine/server-core.js';
import { encodeFrame, FRAME_HEADER } from '../../suites/theta/codec.js';
import { decodeControl, encodeControl } from '../../suites/theta/messages.js';
import { ThetaModel, type ThetaServerEnv } from '../../suites/theta/model.js';
import { fastProfile, type ThetaProfile } from '../../suites/theta/profile.js';
import { checkAck, completeLine, isParseError, parseLine, runClient, ThetaClient, ThetaClientSession } from '../../reference-server/theta/client/index.js';
import { ed25519PublicKey } from '../../suites/theta/keys.js';

/** Real-clock timers with room for a loaded machine (client and server share this process). */
const profile: ThetaProfile = { ...fastProfile, heartbeatIntervalMs: 100, heartbeatTimeoutMs: 2_000, handshakeTimeoutMs: 2_000, answerDeadlineMs: 800, toleranceMs: 150 };

const serverKey = ed25519PublicKey;

/** The model's server core on the real clock, with `tamper` applied to what it sends. */
function target(tamper: (a: ServerAction) => ServerAction | undefined = (a) => a) {
  let id = 0n;
  const env: ThetaServerEnv = { epochUs: () => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)), randomBytes: (n) => new Uint8Array(randomBytes(n)), publicKey: serverKey(), sessionId: () => ++id };
  const inner = modelCore(new ThetaModel(profile, 'server', env));
  const core: ServerCore = { ...inner, handle: (ev) => inner.handle(ev), sendStalled: (c, s, tt) => inner.sendStalled(c, s, tt), nextTimer: () => inner.nextTimer(), poll: (tt) => inner.poll(tt).flatMap((a) => tamper(a) ?? []) };
  return createMemoryTarget({ core, clock: realClock, alpn: ['theta'] });
}

function client(tamper?: (a: ServerAction) => ServerAction | undefined) {
  const lines: string[] = [];
  const mem = target(tamper);
  const c = new ThetaClient({ connect: { ...mem.connect, alpn: ['theta'] }, profile, print: (l) => lines.push(l), driver: mem.driver });
  return { c, lines, mem };
}

/** Resolves when `cond()` holds, polled every 20 ms; gives up after 10 s (the assertion that follows then fails). */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
}

/** Rewrites one control message the server sends. */
function rewriteControl(a: ServerAction, f: (m: ReturnType<typeof decodeControl>) => Uint8Array | undefined): ServerAction | undefined {
  if (a.type !== 'send' || a.stream !== 0) return a;
  const d = decodeControl(a.bytes.subarray(FRAME_HEADER));
  const out = f(d);
  return out === undefined ? undefined : { ...a, bytes: encodeFrame(out) };
}

t.test('command language: chains, repeats, comments, errors, completion', async (t) => {
  const r = parseLine('connect 1,2 3; 2 replicate hello world # note');
  t.ok(!isParseError(r));
  if (!isParseError(r)) {
    t.same(r.map((c) => c.name), ['connect', 'replicate']);
    const [c0, c1] = r;
    t.same(c0?.name === 'connect' ? c0.capabilities : undefined, [1, 2, 3]);
    t.equal(c1?.repeat, 2);
    t.equal(c1?.name === 'replicate' ? c1.text : undefined, 'hello world');
  }
  const u = parseLine('upload_random 2m 65537');
  const u0 = isParseError(u) ? undefined : u[0];
  t.same(u0?.name === 'upload_random' ? [u0.bytes, u0.frameBytes] : undefined, [2 * 1024 * 1024, 65537]);
  for (const bad of ['conect', 'sleep x', 'heartbeat maybe', 'connect 70000', 'upload_random 5g', '0 status', '3']) {
    const e = parseLine(bad);
    t.ok(isParseError(e), `${bad} is rejected${isParseError(e) ? `: ${e.message}` : ''}`);
  }
  t.same(completeLine('status; up'), [['upload', 'upload_random'], 'up']);
});

t.test('the session checks the acknowledgement (THETA-9.1) and measures RTT', async (t) => {
  const s = new ThetaClientSession(profile, { publicKey: serverKey(), nonce: new Uint8Array(24) }, [1, 2]);
  const ack = { type: 'SessionAcknowledge' as const, protocolVersion: s.hello.protocolVersion, schemaHash: s.hello.schemaHash, serverNonce: new Uint8Array(24), sessionId: 1n, role: 1, capabilities: [1, 2], publicKey: serverKey() };
  t.equal(checkAck(profile, s.hello, ack), undefined, 'a conforming acknowledgement is accepted');
  t.equal(checkAck(profile, s.hello, { ...ack, protocolVersion: 9 })?.code, 1);
  t.equal(checkAck(profile, s.hello, { ...ack, schemaHash: 1n })?.code, 2);
  t.equal(checkAck(profile, s.hello, { ...ack, publicKey: new Uint8Array(31) })?.code, 3);
  t.equal(checkAck(profile, s.hello, { ...ack, serverNonce: new Uint8Array(23) })?.code, 4);
  t.equal(checkAck(profile, s.hello, { ...ack, capabilities: [1, 2, 3] })?.code, 5, 'a capability not asked for');
  t.equal(checkAck(profile, s.hello, { ...ack, capabilities: [2, 1] })?.code, 5, 'unsorted');
  t.equal(s.receive(encodeControl(ack), 0n).type, 'ack');
  const mine = s.nextHeartbeat(1_000_000n);
  t.same([mine.seq, mine.echoSeq], [1, 0], 'first heartbeat: seq 1, no echo');
  const hb = (echoSentAtUs: bigint, seq: number) => encodeControl({ type: 'Heartbeat', seq, sentAtUs: 5n, echoSeq: 1, echoSentAtUs, rttUs: 0, jitterUs: 0 });
  s.receive(hb(1_000_000n, 1), 1_003_000n);
  s.receive(hb(1_000_000n, 2), 1_004_500n);
  const d = s.diagnostics();
  t.same([d.rttMs, d.jitterMs, d.samples, d.packetsReceived], [4.5, 1.5, 2, 3], 'RTT 3 ms then 4.5 ms: jitter 1.5 ms');
  s.receive(hb(9_000_000n, 3), 1_005_000n);
  t.equal(s.diagnostics().rttMs, 0, 'a future-dated echo clamps RTT to 0 (seed heartbeat_metrics_clamp_future_timestamps)');
  t.same(s.nextHeartbeat(2n).echoSeq, 3, 'the next heartbeat echoes the latest server one');
  t.equal(s.receive(new Uint8Array([1, 2, 3]), 0n).type, 'violation', 'a malformed frame is a violation');
});

t.test('against a conforming server: handshake, heartbeats with diagnostics, replication, a 2 MiB asset', async (t) => {
  const { c, lines } = client();
  t.ok(await c.connect([3, 1, 9]), lines.join('\n'));
  t.same(c.acknowledgement?.capabilities, [1, 3], 'capabilities: the intersection, ascending');
  await until(() => (c.diagnostics()?.samples ?? 0) >= 2);
  const d = c.diagnostics()!;
  t.ok(d.samples >= 2 && d.packetsSent >= 3 && d.packetsReceived >= 3, `heartbeats both ways, RTT measured: ${JSON.stringify(d)}`);
  t.ok(await c.replicate(new TextEncoder().encode('ecs delta 1')), 'replication echoed');
  const asset = new Uint8Array(randomBytes(2 * 1024 * 1024));
  t.ok(await c.upload(asset, 65_537, '2 MiB'), 'the asset hash matches');
  t.match(lines.join('\n'), new RegExp(`SHA-256 ${createHash('sha256').update(asset).digest('hex')} matches`));
  t.ok(!(await c.upload(asset, 1000, 'again')), 'one asset per session');
  t.ok(c.status());
  // SHOULD windows are wall time on a shared machine: only MUSTs are asserted.
  t.same(c.violations.filter((v) => v.severity === 'must').map((v) => `${v.rule}: ${v.seen}`), [], 'the monitor found no MUST violation');
  await c.closeAll();
});

t.test('server deviations are reported through the monitor', async (t) => {
  // The acknowledgement answers the union of capabilities (THETA-4.5): the client closes 0x5.
  const union = client((a) => rewriteControl(a, (d) => (d.ok && d.msg.type === 'SessionAcknowledge' ? encodeControl({ ...d.msg, capabilities: [1, 2, 3, 9] }) : d.ok ? encodeControl(d.msg) : undefined)));
  t.notOk(await union.c.connect([1, 9]), 'the session is refused');
  t.ok(union.c.violations.some((v) => v.rule === 'THETA-4.5'), `monitor: THETA-4.5 (${union.c.violations.map((v) => v.rule).join(', ')})`);
  t.match(union.lines.join('\n'), /server deviation: .*THETA-4\.5/);
  t.match(union.lines.join('\n'), /not asked for/);
  await union.c.closeAll();

  // Heartbeats stop after the acknowledgement (THETA-5.1): the client closes 0x6 (THETA-9.2).
  const silent = client((a) => rewriteControl(a, (d) => (d.ok && d.msg.type === 'Heartbeat' ? undefined : d.ok ? encodeControl(d.msg) : undefined)));
  t.ok(await silent.c.connect());
  await until(() => silent.lines.some((l) => l.includes('no server heartbeat')));
  t.ok(silent.c.violations.some((v) => v.rule === 'THETA-5.1'), `monitor: THETA-5.1 (${silent.c.violations.map((v) => v.rule).join(', ')}) ${silent.lines.join(' / ')}`);
  t.match(silent.lines.join('\n'), /no server heartbeat for 2000 ms \(THETA-9\.2\); closing with 0x6/);
  await silent.c.closeAll();

  // A wrong asset hash (THETA-7.1).
  const wrong = client((a) => (a.type === 'send' && a.stream === 8 ? { ...a, bytes: encodeFrame(new Uint8Array(32).fill(7)) } : a));
  t.ok(await wrong.c.connect());
  t.notOk(await wrong.c.upload(new Uint8Array(1000), 300, '1000 bytes'), 'the upload fails');
  t.ok(wrong.c.violations.some((v) => v.rule === 'THETA-7.1'));
  t.match(wrong.lines.join('\n'), /Asset hash mismatch/);
  await wrong.c.closeAll();
});

t.test('the REPL: exec scripts, files, exit codes', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'theta-client-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'asset.bin');
  writeFileSync(file, randomBytes(70_000));
  const mem = target();
  let out = '';
  let err = '';
  const io = { out: (s: string) => void (out += s), err: (s: string) => void (err += s) };
  const code = await runClient({ connect: { ...mem.connect, alpn: ['theta'] }, profile, exec: `connect; 2 replicate hi; upload ${file} 4k\nwatch 0.1; status; heartbeat off; close`, io, driver: mem.driver });
  t.equal(code, 0, out);
  t.match(out, /theta> connect; 2 replicate hi/);
  t.match(out, /Execution 2 of 2:\nReplicated 2 bytes/);
  t.match(out, /Uploaded file .* \(70000 bytes in 18 frame\(s\)/);
  t.match(err, /Theta REPL client for/);
  t.equal(await runClient({ connect: mem.connect, profile, exec: 'connect\nbogus', io, driver: mem.driver }), 2, 'a script that does not parse runs nothing');
  t.equal(await runClient({ connect: mem.connect, profile, exec: 'replicate x', io, driver: mem.driver }), 1, 'a failing command: exit 1');
});
