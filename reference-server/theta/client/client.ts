/**
 * The Theta reference client: the driver around the Sans-I/O session
 * (session.ts). It connects (ALPN `theta`), opens the three streams in the
 * order that gives them ids 0, 4 and 8 (SPEC THETA-1.1), handshakes with its
 * own Ed25519 key pair (node:crypto, one per client) and a fresh 24-byte
 * nonce per session, heartbeats every interval (THETA-9.2), closes with
 * `0x6` when the server's heartbeats stop for the timeout, shows live
 * diagnostics (the seed's TransportDiagnostics), replicates frames and
 * uploads assets with their SHA-256 checked (THETA-6.1, 7.1).
 *
 * Every deviation of the server is reported through the monitor: the Theta
 * model (monitor mode) runs over the client's own trace, and each violation
 * it finds is printed as it is found (`server deviation: …`), and makes the
 * command under way fail. Everything the server sends is verified
 * (FlatBuffers verifier) before it is read, and its text (reasons, session
 * errors) is sanitised for the terminal. Every wait has a deadline from the
 * profile; nothing the target does throws.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { type ClientConnection, type ClientStream, type CloseInfo, type ConnectOptions, type Driver } from '../../../harness/drivers/types.js';
import { quicDriver } from '../../../harness/drivers/quic.js';
import { TraceJudge, violationText } from '../../../harness/engine/judge.js';
import { fromHex, TraceRecorder, type TraceEvent } from '../../../harness/engine/trace.js';
import type { Violation } from '../../../harness/engine/types.js';
import { forTerminal } from '../../../harness/reports/terminal.js';
import { CloseCode, closeCodeName, encodeFrame, FrameDecoder, OversizedFrameError, Stream } from '../../../suites/theta/codec.js';
import { encodeControl, type ControlMessage } from '../../../suites/theta/messages.js';
import { ed25519PublicKey } from '../../../suites/theta/keys.js';
import { NONCE_BYTES, ThetaModel } from '../../../suites/theta/model.js';
import type { ThetaProfile } from '../../../suites/theta/profile.js';
import type { ParsedCommand } from './commands.js';
import { diagnosticsText, ThetaClientSession, type ClientIdentity, type TransportDiagnostics } from './session.js';
import { executeRepeated, runInOrder, type CommandOutcome, type ReplClientOptions } from '../../../harness/engine/repl.js';
import { errorMessage, sleepUnlessAborted } from '../../../harness/engine/util.js';

export type { CommandOutcome };

/** Options of a {@link ThetaClient}; ALPN defaults to `theta`. */
export type ThetaClientOptions = ReplClientOptions<ThetaProfile>;

/** Slack added to every wait for an answer the profile bounds (ms). */
const ANSWER_SLACK_MS = 2_000;

/** µs since the Unix epoch, from the monotonic clock (sub-ms resolution). */
export function epochUs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
}

/** One session (connection) of the client. */
interface SessionState {
  readonly num: number;
  readonly conn: ClientConnection;
  readonly streams: { readonly control: ClientStream; readonly replication: ClientStream; readonly assets: ClientStream };
  readonly session: ThetaClientSession;
  /** Decoders of what the server sent, per stream id. */
  readonly rx: Map<number, FrameDecoder>;
  /** Replication echoes received and not consumed yet. */
  readonly echoes: Uint8Array[];
  /** Asset answer frames received. */
  readonly assetAnswers: Uint8Array[];
  assetUsed: boolean;
  heartbeatsOn: boolean;
  timer: NodeJS.Timeout | undefined;
  /** Monotonic ms of the last server heartbeat (or of the acknowledgement). */
  lastServerBeatMs: number;
  close?: CloseInfo;
  localClose: boolean;
  awaitingClose: boolean;
}

type WaitResult<T> = { readonly kind: 'ok'; readonly value: T } | { readonly kind: 'timeout' } | { readonly kind: 'closed'; readonly info: CloseInfo } | { readonly kind: 'aborted' };

/** How a connection ended, e.g. `closed by server: 0x2 SCHEMA_MISMATCH (…)`, reason sanitised. */
export function describeClose(info: CloseInfo): string {
  const reason = info.reason !== '' ? ` (${forTerminal(info.reason)})` : '';
  const code = info.isApp ? closeCodeName(info.code) : `transport code 0x${info.code.toString(16)}`;
  return `closed by ${info.by === 'client' ? 'this client' : info.by === 'server' ? 'server' : 'the transport'}: ${code}${reason}`;
}


const hex = (b: Uint8Array, n = b.length): string => Buffer.from(b.buffer, b.byteOffset, Math.min(n, b.length)).toString('hex');

/**
 * The Theta client behind the REPL and the library: commands `connect`,
 * `status`, `watch`, `replicate`, `upload`, `upload_random`, `heartbeat`,
 * `sleep`, `close`, `help`, `exit` (commands.ts).
 */
export class ThetaClient {
  readonly trace = new TraceRecorder();
  private readonly judge: TraceJudge;
  private readonly driver: Driver;
  private readonly connectOpts: ConnectOptions;
  private readonly sessions: SessionState[] = [];
  private readonly byIndex = new Map<number, SessionState>();
  private readonly pollers = new Set<() => void>();
  /** Violations already printed. */
  private reported = 0;
  /** The client's Ed25519 key pair (raw public key sent in every hello). */
  readonly publicKey: Uint8Array;

  constructor(private readonly opts: ThetaClientOptions) {
    this.driver = opts.driver ?? quicDriver;
    this.connectOpts = { alpn: ['theta'], ...opts.connect };
    this.judge = new TraceJudge(this.trace, new ThetaModel(opts.profile, 'monitor'));
    this.trace.listen((ev) => this.onTrace(ev));
    this.publicKey = ed25519PublicKey();
  }

  /** Every violation the monitor found in the server's behaviour so far. */
  get violations(): readonly Violation[] {
    return this.judge.violations;
  }

  /** The diagnostics of the latest session, if any. */
  diagnostics(): TransportDiagnostics | undefined {
    return this.sessions[this.sessions.length - 1]?.session.diagnostics();
  }

  /** The latest session's acknowledgement (session id, role, capabilities), once established. */
  get acknowledgement() {
    return this.sessions[this.sessions.length - 1]?.session.ack;
  }

  private print(line: string): void {
    try {
      this.opts.print(line);
    } catch {
      /* output trouble is not the target's */
    }
  }

  // ------------------------------------------------------------- receiving

  private onTrace(ev: TraceEvent): void {
    if (ev.type === 'data' && ev.dir === 's2c') {
      const st = this.byIndex.get(ev.conn);
      if (st) this.receive(st, ev.stream, fromHex(ev.hex));
    }
    if (ev.type === 'conn_close') this.noteClose(ev.conn, { conn: ev.conn, by: ev.by, isApp: ev.isApp, code: ev.code, reason: ev.reason });
    this.reportDeviations();
    for (const poll of [...this.pollers]) poll();
  }

  /** Prints every violation the monitor found since the last call (time moved to now: missed deadlines count). */
  private reportDeviations(): void {
    this.judge.verdict(this.judge.mark());
    const all = this.judge.violations;
    for (; this.reported < all.length; this.reported++) this.print(`server deviation: ${forTerminal(violationText(all[this.reported]!))}`);
  }

  private receive(st: SessionState, stream: number, bytes: Uint8Array): void {
    let dec = st.rx.get(stream);
    if (dec === undefined) st.rx.set(stream, (dec = new FrameDecoder(this.opts.profile.maxFrameBytes)));
    let frames: Uint8Array[];
    try {
      frames = dec.push(bytes);
    } catch (err) {
      if (err instanceof OversizedFrameError) return void this.abort(st, CloseCode.PROTOCOL_VIOLATION, `THETA-2.2: ${err.message}`);
      throw err;
    }
    for (const f of frames) {
      if (stream === Stream.replication) st.echoes.push(f);
      else if (stream === Stream.assets) st.assetAnswers.push(f);
      else if (stream === Stream.control) this.control(st, f);
    }
  }

  private control(st: SessionState, payload: Uint8Array): void {
    const e = st.session.receive(payload, epochUs());
    switch (e.type) {
      case 'ack':
        st.lastServerBeatMs = performance.now();
        break;
      case 'heartbeat':
        st.lastServerBeatMs = performance.now();
        break;
      case 'bad-ack':
        this.print(`connection #${st.num}: the acknowledgement is not acceptable: ${forTerminal(e.why)}; closing with ${closeCodeName(e.code)}`);
        void this.abort(st, e.code, e.why);
        break;
      case 'session-error':
        this.print(`connection #${st.num}: server sent SessionError ${closeCodeName(e.code)}${e.reason ? ` (${forTerminal(e.reason)})` : ''}`);
        break;
      case 'violation':
        this.print(`connection #${st.num}: ${forTerminal(e.why)}; closing with ${closeCodeName(CloseCode.PROTOCOL_VIOLATION)}`);
        void this.abort(st, CloseCode.PROTOCOL_VIOLATION, e.why);
        break;
    }
  }

  private noteClose(index: number, info: CloseInfo): void {
    const st = this.byIndex.get(index);
    if (!st || st.close) return;
    st.close = info;
    this.stopTimer(st);
    if (!st.localClose && !st.awaitingClose) this.print(`connection #${st.num} ${describeClose(info)}`);
  }

  private async abort(st: SessionState, code: number, reason: string): Promise<void> {
    if (st.close) return;
    st.localClose = true;
    this.stopTimer(st);
    await st.conn.close(code, reason.slice(0, 200)).catch(() => undefined);
  }

  private stopTimer(st: SessionState): void {
    if (st.timer) clearInterval(st.timer);
    st.timer = undefined;
  }

  /** Sends heartbeats every interval (THETA-9.2) and closes 0x6 when the server's stop for the timeout. */
  private startTimer(st: SessionState): void {
    const p = this.opts.profile;
    const tick = (): void => {
      if (st.close) return this.stopTimer(st);
      this.reportDeviations();
      if (performance.now() - st.lastServerBeatMs > p.heartbeatTimeoutMs) {
        this.print(`connection #${st.num}: no server heartbeat for ${p.heartbeatTimeoutMs} ms (THETA-9.2); closing with ${closeCodeName(CloseCode.HEARTBEAT_TIMEOUT)}`);
        void this.abort(st, CloseCode.HEARTBEAT_TIMEOUT, 'THETA-9.2: no server heartbeat');
        return;
      }
      if (st.heartbeatsOn) void this.sendControl(st, st.session.nextHeartbeat(epochUs()));
    };
    st.timer = setInterval(tick, p.heartbeatIntervalMs);
    st.timer.unref();
    if (st.heartbeatsOn) void this.sendControl(st, st.session.nextHeartbeat(epochUs()));
  }

  private sendControl(st: SessionState, m: ControlMessage): Promise<void> {
    st.session.countSent();
    return st.streams.control.write(encodeFrame(encodeControl(m))).catch(() => undefined);
  }

  // ------------------------------------------------------------- waiting

  private waitFor<T>(st: SessionState | undefined, check: () => T | undefined, ms: number, signal?: AbortSignal): Promise<WaitResult<T>> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (r: WaitResult<T>) => {
        if (done) return;
        done = true;
        this.pollers.delete(poll);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(r);
      };
      const poll = () => {
        const v = check();
        if (v !== undefined) return finish({ kind: 'ok', value: v });
        if (st?.close) finish({ kind: 'closed', info: st.close });
      };
      const onAbort = () => finish({ kind: 'aborted' });
      const timer = setTimeout(() => {
        poll();
        finish({ kind: 'timeout' });
      }, ms);
      if (signal?.aborted) return finish({ kind: 'aborted' });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pollers.add(poll);
      st?.conn.closed.then(() => setImmediate(poll)).catch(() => undefined);
      poll();
    });
  }

  private explain(what: string, st: SessionState, r: WaitResult<unknown>, timeoutText: string): string {
    switch (r.kind) {
      case 'closed':
        return `Failed to ${what}: connection #${st.num} ${describeClose(r.info)}`;
      case 'aborted':
        return `${what}: interrupted`;
      default:
        return `Failed to ${what}: ${timeoutText}`;
    }
  }

  /** The session commands act on, or why there is none. */
  private current(what: string): SessionState | string {
    const st = this.sessions[this.sessions.length - 1];
    if (!st) return `Failed to ${what}: not connected (use connect)`;
    if (st.close) return `Failed to ${what}: connection #${st.num} was ${describeClose(st.close)}; use connect`;
    if (st.session.phase !== 'established') return `Failed to ${what}: connection #${st.num} has no session`;
    return st;
  }

  /** Fails the command with `text`, adding the monitor's first finding since `mark`. */
  private finish(ok: boolean, text: string, mark?: number): boolean {
    const v = mark === undefined ? undefined : this.judge.verdict(mark);
    if (v && v.severity === 'must') {
      this.print(`${text} — but the server broke ${v.rule}`);
      return false;
    }
    this.print(text);
    return ok;
  }

  // ------------------------------------------------------------- commands

  /** Runs a command (all its repetitions). Never throws on target behaviour. */
  async execute(cmd: ParsedCommand, signal?: AbortSignal): Promise<CommandOutcome> {
    return executeRepeated(cmd, () => this.once(cmd, signal), (line) => this.print(line), signal);
  }

  /** Runs commands in order (a failed one does not stop the chain; `exit` does). */
  run(cmds: readonly ParsedCommand[], signal?: AbortSignal): Promise<{ readonly ok: boolean; readonly exit: boolean }> {
    return runInOrder(cmds, (cmd) => this.execute(cmd, signal), signal);
  }

  private once(cmd: ParsedCommand, signal?: AbortSignal): Promise<boolean | 'exit'> {
    switch (cmd.name) {
      case 'connect':
        return this.connect(cmd.capabilities, signal);
      case 'status':
        return Promise.resolve(this.status());
      case 'watch':
        return this.watch(cmd.secs, signal);
      case 'replicate':
        return this.replicate(new TextEncoder().encode(cmd.text), signal);
      case 'upload':
        return readFile(cmd.file).then(
          (data) => this.upload(new Uint8Array(data), cmd.frameBytes, `file ${cmd.file}`, signal),
          (err: unknown) => {
            this.print(`Failed to upload: cannot read ${cmd.file}: ${errorMessage(err)}`);
            return false;
          },
        );
      case 'upload_random':
        return this.upload(new Uint8Array(randomBytes(cmd.bytes)), cmd.frameBytes, `${cmd.bytes} random bytes`, signal);
      case 'heartbeat': {
        const st = this.current('change heartbeats');
        if (typeof st === 'string') return Promise.resolve(this.finish(false, st));
        st.heartbeatsOn = cmd.on;
        this.print(cmd.on ? 'Heartbeats on.' : `Heartbeats off: a conforming server closes with ${closeCodeName(CloseCode.HEARTBEAT_TIMEOUT)} after ${this.opts.profile.heartbeatTimeoutMs} ms (THETA-5.6).`);
        return Promise.resolve(true);
      }
      case 'sleep':
        return sleepUnlessAborted(cmd.secs * 1000, signal);
      case 'close':
        return this.close();
      case 'help':
        for (const line of HELP.split('\n')) this.print(line);
        return Promise.resolve(true);
      case 'exit':
        return Promise.resolve('exit');
    }
  }

  /**
   * `connect [cap …]`: connects, opens the three streams, sends the
   * SessionHello (own key, fresh nonce) and waits for the acknowledgement
   * (THETA-3.1, 9.1) within `answerDeadlineMs` (+ slack); then heartbeats.
   */
  async connect(capabilities?: readonly number[], signal?: AbortSignal): Promise<boolean> {
    const p = this.opts.profile;
    const mark = this.judge.mark();
    let conn: ClientConnection;
    try {
      conn = await this.driver.connect(this.trace, this.connectOpts);
    } catch (err) {
      return this.finish(false, `Failed to connect: ${forTerminal(errorMessage(err))}`);
    }
    const identity: ClientIdentity = { publicKey: this.publicKey, nonce: new Uint8Array(randomBytes(NONCE_BYTES)) };
    const streams = { control: conn.openStream(), replication: conn.openStream(), assets: conn.openStream() };
    const st: SessionState = {
      num: this.sessions.length + 1, conn, streams, session: new ThetaClientSession(p, identity, capabilities), rx: new Map(), echoes: [], assetAnswers: [],
      assetUsed: false, heartbeatsOn: true, timer: undefined, lastServerBeatMs: performance.now(), localClose: false, awaitingClose: true,
    };
    this.sessions.push(st);
    this.byIndex.set(conn.conn, st);
    void conn.closed.then((info) => this.noteClose(conn.conn, info));
    await this.sendControl(st, st.session.hello);
    const deadline = p.answerDeadlineMs + ANSWER_SLACK_MS;
    const r = await this.waitFor(st, () => (st.session.phase !== 'hello' ? st.session.phase : undefined), deadline, signal);
    st.awaitingClose = false;
    if (r.kind !== 'ok' || st.session.phase !== 'established' || st.session.ack === undefined) {
      if (r.kind === 'ok' && !st.close) await this.waitFor(st, () => undefined, 300, signal);
      const text = r.kind === 'ok' ? `Failed to connect: the session did not start${st.close ? `: connection #${st.num} ${describeClose(st.close)}` : ''}` : this.explain('connect', st, r, `no SessionAcknowledge within ${deadline} ms (THETA-3.1)`);
      if (!st.close) await this.abort(st, CloseCode.NO_ERROR, 'giving up');
      return this.finish(false, text, mark);
    }
    const a = st.session.ack;
    this.startTimer(st);
    return this.finish(true, `Session established (connection #${st.num}): session id ${a.sessionId}, role ${a.role}, capabilities [${a.capabilities.join(', ')}], server key ${hex(a.publicKey, 8)}…, server nonce ${hex(a.serverNonce, 8)}…`, mark);
  }

  /** `status`: the latest session's diagnostics and what the monitor found. */
  status(): boolean {
    const st = this.sessions[this.sessions.length - 1];
    if (!st) return this.finish(false, 'Not connected (use connect).');
    this.reportDeviations();
    const state = st.close ? describeClose(st.close) : st.session.phase;
    this.print(`connection #${st.num}: ${state}; heartbeats ${st.heartbeatsOn ? 'on' : 'off'}; ${this.violations.length} server deviation(s) so far`);
    this.print(diagnosticsText(st.session.diagnostics()));
    return true;
  }

  /** `watch <secs>`: diagnostics once per heartbeat interval. */
  private async watch(secs: number, signal?: AbortSignal): Promise<boolean> {
    const st = this.current('watch');
    if (typeof st === 'string') return this.finish(false, st);
    const mark = this.judge.mark();
    const end = performance.now() + secs * 1000;
    while (performance.now() < end && !st.close) {
      this.print(diagnosticsText(st.session.diagnostics()));
      if (!(await sleepUnlessAborted(Math.min(this.opts.profile.heartbeatIntervalMs, Math.max(1, end - performance.now())), signal))) return this.finish(false, 'watch: interrupted');
    }
    if (st.close) return this.finish(false, `watch: connection #${st.num} ${describeClose(st.close)}`, mark);
    return this.finish(true, diagnosticsText(st.session.diagnostics()), mark);
  }

  /** `replicate <text>`: one frame on the replication stream, and its echo compared (THETA-6.1). */
  async replicate(payload: Uint8Array, signal?: AbortSignal): Promise<boolean> {
    const what = 'replicate';
    const st = this.current(what);
    if (typeof st === 'string') return this.finish(false, st);
    const mark = this.judge.mark();
    await st.streams.replication.write(encodeFrame(payload)).catch(() => undefined);
    const deadline = this.opts.profile.answerDeadlineMs + ANSWER_SLACK_MS;
    const r = await this.waitFor(st, () => st.echoes.shift(), deadline, signal);
    if (r.kind !== 'ok') return this.finish(false, this.explain(what, st, r, `no echo within ${deadline} ms (THETA-6.1)`), mark);
    const same = Buffer.from(r.value).equals(Buffer.from(payload));
    return this.finish(same, same ? `Replicated ${payload.length} bytes: echoed unchanged.` : `Replication echo differs: sent ${payload.length} bytes ${hex(payload, 16)}…, got ${r.value.length} bytes ${hex(r.value, 16)}… (THETA-6.1)`, mark);
  }

  /**
   * Uploads an asset: frames of `frameBytes`, then FIN; waits for the
   * server's one 32-byte frame and FIN, and compares it with the SHA-256 of
   * the bytes sent (THETA-7.1). One asset per session (the assets stream
   * ends with it).
   */
  async upload(data: Uint8Array, frameBytes: number, label: string, signal?: AbortSignal): Promise<boolean> {
    const what = 'upload';
    const st = this.current(what);
    if (typeof st === 'string') return this.finish(false, st);
    if (st.assetUsed) return this.finish(false, `Failed to ${what}: connection #${st.num} already sent its asset (one per session: the assets stream ended); use connect`);
    st.assetUsed = true;
    const mark = this.judge.mark();
    const want = createHash('sha256').update(data).digest();
    const t0 = performance.now();
    const s = st.streams.assets;
    try {
      for (let at = 0; at < data.length; at += frameBytes) {
        if (signal?.aborted || st.close) break;
        await s.write(encodeFrame(data.subarray(at, Math.min(data.length, at + frameBytes))));
      }
      if (!st.close) await s.end();
    } catch (err) {
      return this.finish(false, `Failed to ${what}: ${st.close ? `connection #${st.num} ${describeClose(st.close)}` : forTerminal(errorMessage(err))}`, mark);
    }
    const deadline = this.opts.profile.answerDeadlineMs + ANSWER_SLACK_MS;
    const r = await this.waitFor(st, () => (st.assetAnswers.length > 0 && s.readEnded ? st.assetAnswers : undefined), deadline, signal);
    if (r.kind !== 'ok') return this.finish(false, this.explain(what, st, r, `no SHA-256 and FIN within ${deadline} ms after the asset (THETA-7.1)`), mark);
    const ms = performance.now() - t0;
    const got = r.value[0]!;
    const ok = r.value.length === 1 && Buffer.from(got).equals(want);
    const rate = ms > 0 ? `${((data.length / 1024 / 1024) / (ms / 1000)).toFixed(1)} MiB/s` : '';
    return this.finish(ok, ok
      ? `Uploaded ${label} (${data.length} bytes in ${Math.ceil(data.length / frameBytes)} frame(s), ${ms.toFixed(0)} ms, ${rate}): SHA-256 ${want.toString('hex')} matches.`
      : `Asset hash mismatch for ${label}: expected ${want.toString('hex')}, server sent ${r.value.map((f) => hex(f)).join(', ')} (THETA-7.1)`, mark);
  }

  /** `close`: closes the latest session (code 0). */
  async close(): Promise<boolean> {
    const st = this.sessions[this.sessions.length - 1];
    if (!st || st.close) return this.finish(false, 'Not connected.');
    await this.abort(st, CloseCode.NO_ERROR, '');
    return this.finish(true, `Closed connection #${st.num}.`);
  }

  /** Closes every session still open (code 0) and stops their timers. */
  async closeAll(): Promise<void> {
    await Promise.all(this.sessions.map((st) => this.abort(st, CloseCode.NO_ERROR, '')));
  }
}

const HELP = `Commands (chain with ";", repeat with a count prefix, "#" starts a comment):
  connect [cap …]             connect, handshake (asking for these capability ids) and heartbeat
  status                      diagnostics: RTT, jitter, packets sent/received (TransportDiagnostics)
  watch <secs>                diagnostics once per heartbeat interval
  replicate <text>            one replication frame; its echo checked
  upload <file> [frame]       an asset in frames (default 64k), then FIN; SHA-256 checked
  upload_random <bytes> [frame]  the same with random bytes (e.g. 2m)
  heartbeat on|off            start / stop sending heartbeats
  sleep <secs>, close, help, exit`;
