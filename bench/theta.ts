/**
 * Theta benchmarks (`npm run bench:theta [-- options]`), everything on
 * 127.0.0.1 in one process, each figure with a baseline measured in the
 * same run:
 *
 * 1. **Handshake**: a fresh connect, then the SessionHello frame written on
 *    stream 0 and the answer read:
 *      - harness → Theta: the harness's QUIC driver (trace recorded) to the
 *        Theta reference server (the SessionAcknowledge frame awaited);
 *      - bare → echo (BASELINE): a bare `QUICClient` writing the same hello
 *        bytes to a bare `QUICServer` that echoes them (bench/bare-quic.ts),
 *        until as many bytes came back.
 *    Variants interleaved one sample at a time; ratio of medians.
 * 2. **Heartbeat timing accuracy** of the reference server: the arrival
 *    times of its heartbeats at the client (trace times, µs) over
 *    `--beats` intervals of `--interval` ms; error = |gap − interval|, p50
 *    and p99. BASELINE: a bare `setInterval` of the same interval in the
 *    same process over the same time (the machine's timer jitter), measured
 *    the same way.
 * 3. **Asset throughput**: `--asset` bytes in `--frame`-byte frames then
 *    FIN, until the 32-byte SHA-256 answer and FIN came back:
 *      - harness → Theta: the harness's driver to the reference server;
 *      - bare → hash (BASELINE): the same bytes from a bare `QUICClient` to
 *        a bare `QUICServer` that reads the stream, hashes it (SHA-256) and
 *        answers 32 bytes then FIN (below): the same job without the harness.
 *    Each answer is checked against the SHA-256 of the bytes sent. MiB/s,
 *    medians over `--uploads` interleaved uploads; ratio of medians.
 *
 * The server is the Theta reference server (reference-server/theta) with
 * the fast profile's timers, a heartbeat interval of `--interval` ms and a
 * heartbeat timeout of 60 s (uploads through the harness send no
 * heartbeats).
 *
 * Options: --handshakes N (30), --interval MS (100), --beats N (50),
 * --asset BYTES (2097152), --frame BYTES (65536), --uploads N (7).
 */
import { createHash, randomBytes } from 'node:crypto';
import { QUICServer, events as quicEvents, type QUICStream } from '@matrixai/quic';
import { quicDriver } from '../harness/drivers/quic.js';
import type { ClientConnection, ConnectOptions } from '../harness/drivers/types.js';
import { fromHex, TraceRecorder, type TraceEvent } from '../harness/engine/trace.js';
import { quietLogger, serverCryptoOps } from '../harness/quic/util.js';
import { generateSelfSigned } from '../harness/tls/cert.js';
import { startThetaServer } from '../reference-server/theta/index.js';
import { encodeFrame, FrameDecoder, Stream } from '../suites/theta/codec.js';
import { decodeControl, encodeControl } from '../suites/theta/messages.js';
import { fastProfile, type ThetaProfile } from '../suites/theta/profile.js';
import { validHello } from '../suites/theta/fuzz/program.js';
import { bareClose, bareConnect, settlesWithin, startEchoServer, type TransportTimers } from './bare-quic.js';
import { intArg, median, quantile } from './_stats.js';

const handshakes = intArg('handshakes', 30);
const intervalMs = intArg('interval', 100);
const beats = intArg('beats', 50);
const assetBytes = intArg('asset', 2 * 1024 * 1024);
const frameBytes = intArg('frame', 65_536);
const uploads = intArg('uploads', 7);

const HOST = '127.0.0.1';
const SERVER_NAME = 'localhost';
const ALPN = 'theta';
const timers: TransportTimers = { idleTimeoutMs: 30_000, keepAliveMs: 5_000 };
const profile: ThetaProfile = { ...fastProfile, heartbeatIntervalMs: intervalMs, heartbeatTimeoutMs: 60_000, handshakeTimeoutMs: 10_000 };
const helloFrame = encodeFrame(encodeControl(validHello(profile)));

/** Waits until `check()` gives a value, re-checked on every trace event; rejects after `ms`. */
function until<T>(trace: TraceRecorder, check: () => T | undefined, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const first = check();
    if (first !== undefined) return resolve(first);
    let stop: () => void = () => undefined;
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`bench: no ${what} within ${ms} ms`));
    }, ms);
    stop = trace.listen(() => {
      const v = check();
      if (v === undefined) return;
      clearTimeout(timer);
      stop();
      resolve(v);
    });
  });
}

/** A harness connection with the server's frames decoded per stream as they arrive. */
async function driverSession(port: number, ca: string): Promise<{ conn: ClientConnection; trace: TraceRecorder; frames: Map<number, { t: number; f: Uint8Array }[]> }> {
  const trace = new TraceRecorder();
  const frames = new Map<number, { t: number; f: Uint8Array }[]>();
  const decoders = new Map<number, FrameDecoder>();
  trace.listen((ev: TraceEvent) => {
    if (ev.type !== 'data' || ev.dir !== 's2c') return;
    let d = decoders.get(ev.stream);
    if (!d) decoders.set(ev.stream, (d = new FrameDecoder()));
    const list = frames.get(ev.stream) ?? [];
    for (const f of d.push(fromHex(ev.hex))) list.push({ t: ev.t, f });
    frames.set(ev.stream, list);
  });
  const opts: ConnectOptions = { host: HOST, port, alpn: [ALPN], ca, serverName: SERVER_NAME, connectTimeoutMs: 5_000, idleTimeoutMs: timers.idleTimeoutMs, keepAliveMs: timers.keepAliveMs };
  const conn = await quicDriver.connect(trace, opts);
  return { conn, trace, frames };
}

/** Connect + hello + acknowledgement through the harness; returns ms and the open session. */
async function harnessHandshake(port: number, ca: string) {
  const t0 = performance.now();
  const s = await driverSession(port, ca);
  const control = s.conn.openStream();
  await control.write(helloFrame);
  await until(s.trace, () => (s.frames.get(Stream.control) ?? []).find((x) => {
    const d = decodeControl(x.f);
    return d.ok && d.msg.type === 'SessionAcknowledge';
  }), 5_000, 'SessionAcknowledge');
  return { ms: performance.now() - t0, ...s, control };
}

/** Connect + the same hello bytes echoed by the bare server. */
async function bareHandshake(port: number, ca: string): Promise<number> {
  const t0 = performance.now();
  const client = await bareConnect({ host: HOST, port, alpn: ALPN, serverName: SERVER_NAME, ca, timers, timerMs: 5_000 });
  const s = client.connection.newStream('bidi');
  const w = s.writable.getWriter();
  const r = s.readable.getReader();
  await w.write(helloFrame);
  let got = 0;
  while (got < helloFrame.length) {
    const x = await r.read();
    if (x.done) throw new Error('bench: the echo server ended the stream');
    got += x.value.length;
  }
  const ms = performance.now() - t0;
  await bareClose(client);
  return ms;
}

/** A bare @matrixai/quic server that reads each stream to its end, answers its SHA-256 (framed, 36 bytes) and FIN. */
async function startHashServer(certPem: string, keyPem: string): Promise<{ port: number; stop(): Promise<boolean> }> {
  const key = randomBytes(32);
  const server = new QUICServer({
    crypto: { key: key.buffer.slice(key.byteOffset, key.byteOffset + key.byteLength), ops: serverCryptoOps },
    config: { key: keyPem, cert: certPem, applicationProtos: [ALPN], verifyPeer: false, maxIdleTimeout: timers.idleTimeoutMs, keepAliveIntervalTime: timers.keepAliveMs },
    logger: quietLogger('bench-hash'),
  });
  const serve = async (s: QUICStream): Promise<void> => {
    const reader = s.readable.getReader();
    const writer = s.writable.getWriter();
    const dec = new FrameDecoder();
    const h = createHash('sha256');
    try {
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        for (const f of dec.push(r.value)) h.update(f);
      }
      await writer.write(encodeFrame(h.digest()));
      await writer.close();
    } catch {
      /* the connection went away */
    }
  };
  server.addEventListener(quicEvents.EventQUICServerConnection.name, (evt: Event) => {
    try {
      (evt as quicEvents.EventQUICServerConnection).detail.addEventListener(quicEvents.EventQUICConnectionStream.name, (e: Event) => {
        try {
          void serve((e as quicEvents.EventQUICConnectionStream).detail);
        } catch {
          /* never throw from a listener (NOTES.md) */
        }
      });
    } catch {
      /* never throw from a listener */
    }
  });
  await server.start({ host: HOST, port: 0 });
  return { port: server.port as number, stop: () => settlesWithin(server.stop({ force: true }), 5_000) };
}

/** The asset bytes framed, and their SHA-256. */
const asset = new Uint8Array(randomBytes(assetBytes));
const framedAsset: Uint8Array[] = [];
for (let at = 0; at < asset.length; at += frameBytes) framedAsset.push(encodeFrame(asset.subarray(at, at + frameBytes)));
const assetHash = createHash('sha256').update(asset).digest();

async function harnessUpload(port: number, ca: string): Promise<number> {
  const s = await harnessHandshake(port, ca);
  s.conn.openStream(); // replication (id 4): the assets stream is id 8
  const assets = s.conn.openStream();
  const t0 = performance.now();
  for (const f of framedAsset) await assets.write(f);
  await assets.end();
  const answer = await until(s.trace, () => (assets.readEnded ? s.frames.get(Stream.assets)?.[0] : undefined), 30_000, 'asset answer');
  const ms = performance.now() - t0;
  if (!Buffer.from(answer.f).equals(assetHash)) throw new Error('bench: the reference server answered a wrong SHA-256');
  await s.conn.close(0);
  return ms;
}

async function bareUpload(port: number, ca: string): Promise<number> {
  const client = await bareConnect({ host: HOST, port, alpn: ALPN, serverName: SERVER_NAME, ca, timers, timerMs: 5_000 });
  const s = client.connection.newStream('bidi');
  const w = s.writable.getWriter();
  const r = s.readable.getReader();
  const t0 = performance.now();
  for (const f of framedAsset) await w.write(f);
  await w.close();
  const parts: Uint8Array[] = [];
  for (;;) {
    const x = await r.read();
    if (x.done) break;
    parts.push(x.value);
  }
  const ms = performance.now() - t0;
  const answer = Buffer.concat(parts).subarray(4);
  if (!answer.equals(assetHash)) throw new Error('bench: the bare hash server answered a wrong SHA-256');
  await bareClose(client);
  return ms;
}

/** Gaps between consecutive times (µs) as errors |gap − interval| in ms. */
function intervalErrors(timesUs: readonly number[], ms: number): number[] {
  const out: number[] = [];
  for (let i = 1; i < timesUs.length; i++) out.push(Math.abs((timesUs[i]! - timesUs[i - 1]!) / 1000 - ms));
  return out;
}

async function main(): Promise<void> {
  const id = await generateSelfSigned();
  const ca = id.certPem;
  const server = await startThetaServer({ host: HOST, port: 0, profile, cert: id.certPem, key: id.keyPem });
  const which = 'the Theta reference server';
  const echo = await startEchoServer({ host: HOST, alpn: ALPN, certPem: id.certPem, keyPem: id.keyPem, timers });
  const hash = await startHashServer(id.certPem, id.keyPem);
  console.log(`Theta bench against ${which}; node ${process.version}`);
  try {
    // 1. Handshake.
    const hs = { harness: [] as number[], bare: [] as number[] };
    for (let i = 0; i < handshakes + 3; i++) {
      const h = await harnessHandshake(server.port, ca);
      await h.conn.close(0);
      const b = await bareHandshake(echo.port, ca);
      if (i >= 3) {
        hs.harness.push(h.ms);
        hs.bare.push(b);
      }
    }
    const hm = median(hs.harness);
    const bm = median(hs.bare);
    console.log(`\n1. handshake (connect + SessionHello ${helloFrame.length} B + answer), ${handshakes} samples each, ms`);
    console.log(`   bare → echo (baseline)   median ${bm.toFixed(2)}  p90 ${quantile(hs.bare, 0.9).toFixed(2)}`);
    console.log(`   harness → Theta          median ${hm.toFixed(2)}  p90 ${quantile(hs.harness, 0.9).toFixed(2)}  ratio ${(hm / bm).toFixed(2)}×`);

    // 2. Heartbeat timing accuracy, with a bare setInterval over the same time as the baseline.
    const s = await harnessHandshake(server.port, ca);
    const ticks: number[] = [];
    const t0 = performance.now();
    const base = setInterval(() => ticks.push((performance.now() - t0) * 1000), intervalMs);
    let seq = 0;
    const keep = setInterval(() => void s.control.write(encodeFrame(encodeControl({ type: 'Heartbeat', seq: ++seq, sentAtUs: BigInt(Date.now()) * 1000n, echoSeq: 0, echoSentAtUs: 0n, rttUs: 0, jitterUs: 0 }))).catch(() => undefined), intervalMs);
    const beatTimes = () => (s.frames.get(Stream.control) ?? []).filter((x) => {
      const d = decodeControl(x.f);
      return d.ok && d.msg.type === 'Heartbeat';
    }).map((x) => x.t);
    await until(s.trace, () => (beatTimes().length >= beats + 1 ? true : undefined), (beats + 10) * intervalMs * 2, `${beats + 1} heartbeats`);
    clearInterval(base);
    clearInterval(keep);
    await s.conn.close(0);
    const se = intervalErrors(beatTimes().slice(0, beats + 1), intervalMs);
    const be = intervalErrors(ticks, intervalMs);
    console.log(`\n2. heartbeat interval error (|gap − ${intervalMs} ms|), ${se.length} gaps, ms`);
    console.log(`   setInterval (baseline)   p50 ${median(be).toFixed(2)}  p99 ${quantile(be, 0.99).toFixed(2)}`);
    console.log(`   reference server         p50 ${median(se).toFixed(2)}  p99 ${quantile(se, 0.99).toFixed(2)}  ratio p50 ${(median(se) / Math.max(median(be), 1e-3)).toFixed(2)}×`);

    // 3. Asset throughput.
    const up = { harness: [] as number[], bare: [] as number[] };
    await harnessUpload(server.port, ca);
    await bareUpload(hash.port, ca);
    for (let i = 0; i < uploads; i++) {
      if (i % 2 === 0) {
        up.harness.push(await harnessUpload(server.port, ca));
        up.bare.push(await bareUpload(hash.port, ca));
      } else {
        up.bare.push(await bareUpload(hash.port, ca));
        up.harness.push(await harnessUpload(server.port, ca));
      }
    }
    const mib = assetBytes / 1024 / 1024;
    const rate = (ms: number) => mib / (ms / 1000);
    const hu = median(up.harness);
    const bu = median(up.bare);
    console.log(`\n3. asset upload (${assetBytes} B in ${framedAsset.length} frames of ${frameBytes} B, then FIN, until the SHA-256 and FIN), ${uploads} uploads each`);
    console.log(`   bare → hash (baseline)   median ${bu.toFixed(1)} ms  ${rate(bu).toFixed(1)} MiB/s`);
    console.log(`   harness → Theta          median ${hu.toFixed(1)} ms  ${rate(hu).toFixed(1)} MiB/s  ratio (time) ${(hu / bu).toFixed(2)}×`);
  } finally {
    await server.stop();
    await echo.stop();
    await hash.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
