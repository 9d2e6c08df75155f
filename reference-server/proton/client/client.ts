/**
 * The Proton reference client: what the REPL's commands do on the wire
 * (seed "Testing with REPL"; wire rules in suites/proton/SPEC.md).
 *
 * The client keeps every connection it opened (the seed's "Multiple
 * connects allowed to test connection handling"); commands act on the
 * latest one. Streams are opened lazily, discriminator first (PROTON-3.1),
 * on the first command that needs them. Every wait has a deadline taken
 * from the profile, and whatever the target does — a wrong answer, a close,
 * silence — is printed, never thrown.
 *
 * The client does not judge the server with rules of its own: the Proton
 * monitor (suites/proton/monitor.ts, the model) runs over the client's own
 * trace, and a command fails when the monitor found a violation while it
 * ran (a wrong ack, answer or action item, a missing or wrong close).
 */
import { ConnectError, type ClientConnection, type ClientStream, type CloseInfo, type ConnectOptions, type Driver } from '../../../harness/drivers/types.js';
import { quicDriver } from '../../../harness/drivers/quic.js';
import { TraceRecorder, type TraceEvent } from '../../../harness/engine/trace.js';
import { TraceJudge, violationText } from '../../../harness/engine/judge.js';
import type { Violation } from '../../../harness/engine/types.js';
import { CloseCode, Discriminator, ItemDecoder, MAX_ITEM, closeCodeName, encodeItem, explainClientWrite, streamBytes } from '../../../suites/proton/codec.js';
import { createProtonMonitor } from '../../../suites/proton/monitor.js';
import type { ProtonProfile } from '../../../suites/proton/profile.js';
import type { ParsedCommand } from './commands.js';
import { forTerminal } from '../../../harness/reports/terminal.js';
import { executeRepeated, runInOrder, type CommandOutcome, type ReplClientOptions } from '../../../harness/engine/repl.js';
import { errorMessage, sleepUnlessAborted } from '../../../harness/engine/util.js';

export type { CommandOutcome };

/** Options of a {@link ProtonClient}: ALPN, idle timeout and keep-alive default to the profile's (`alpn`, `idleTimeoutMs`, `heartbeatMs`, PROTON-1.1, 2.4). */
export type ProtonClientOptions = ReplClientOptions<ProtonProfile>;

/** Slack added to every wait for an answer the SPEC bounds by `toleranceMs` (ms). */
const ANSWER_SLACK_MS = 2_000;

/** How long a failed write waits for the connection close that explains it (ms). */
const WRITE_ERROR_GRACE_MS = 500;

/** A stream the client opened, with what it has read so far. */
class ReadStream {
  private readonly decoder = new ItemDecoder();
  private offset = 0;
  /** Items received and not consumed yet, in order. */
  readonly items: number[] = [];

  constructor(readonly stream: ClientStream) {}

  /** Decodes what arrived since the last call (copies the received bytes only when there are new ones). */
  pump(): void {
    if (this.stream.receivedLength <= this.offset) return;
    const bytes = this.stream.received();
    if (bytes.length > this.offset) {
      this.items.push(...this.decoder.push(bytes.subarray(this.offset)));
      this.offset = bytes.length;
    }
  }

  /** Takes the next item, if one arrived. */
  next(): number | undefined {
    this.pump();
    return this.items.shift();
  }
}

/** One connection of the client and its Proton state (PROTON-2.3: nothing survives a connection). */
interface ConnState {
  /** Client-side number, from 1, in connect order (shown as `#n`). */
  readonly num: number;
  readonly conn: ClientConnection;
  /** How it ended, once it did. */
  close?: CloseInfo;
  /** This client is closing it (its close is not news). */
  localClose: boolean;
  /** A command is waiting for its close and reports it itself. */
  awaitingClose: boolean;
  event?: ReadStream;
  commit?: ReadStream;
  action?: ReadStream;
  /** Next event id (PROTON-4.1: from 1, increasing). */
  nextEventId: number;
  /** Commit id sent and not answered yet (PROTON-5.2: at most one). */
  commitOutstanding?: number;
}

/** What a bounded wait ended with. */
type WaitResult<T> =
  | { readonly kind: 'ok'; readonly value: T }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'closed'; readonly info: CloseInfo }
  | { readonly kind: 'aborted' };

/** Describes how a connection ended: `closed by server: 0x3 IDENT_TIMEOUT (PROTON-3.4 ...)`. */
export function describeClose(info: CloseInfo): string {
  const reason = info.reason !== '' ? ` (${forTerminal(info.reason)})` : '';
  // Code names are the server's vocabulary (PROTON-8.2); a client close only shows a non-zero code.
  if (info.by === 'client') return `closed by this client${info.code !== 0 ? ` with code 0x${info.code.toString(16)}` : ''}${reason}`;
  if (info.by === 'transport') {
    return `closed by the transport: ${info.isApp ? closeCodeName(info.code) : `transport code 0x${info.code.toString(16)}`}${reason}`;
  }
  return `closed by server: ${info.isApp ? closeCodeName(info.code) : `transport code 0x${info.code.toString(16)} (not an application close, PROTON-8.1)`}${reason}`;
}

/**
 * A connect failure the driver reports as a close during the handshake:
 * rewritten with the Proton code name when it was an application close.
 */
function describeConnectFailure(message: string): { readonly text: string; readonly refused: boolean } {
  const m = /server closed the connection during the handshake: application code (\d+) \(0x[0-9a-f]+\)(?: reason (".*"))?/.exec(message);
  if (!m) return { text: message, refused: false };
  let reason = '';
  try {
    reason = m[2] !== undefined ? ` (${forTerminal(String(JSON.parse(m[2])))})` : '';
  } catch {
    reason = ` (${forTerminal(m[2] ?? '')})`;
  }
  return { text: `connection refused by server: ${closeCodeName(Number(m[1]))}${reason}`, refused: true };
}

/** A byte as two hex digits. */
const hex2 = (b: number): string => b.toString(16).padStart(2, '0');

function secs(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}


/**
 * The Proton client behind the REPL. Commands (see {@link execute}):
 * `connect [secs]`, `send_event`, `commit <id>`, `read_action`, `close`,
 * `sleep <secs>`, `reset`, `help`, `exit`.
 */
export class ProtonClient {
  private readonly trace = new TraceRecorder();
  private readonly driver: Driver;
  private readonly connectOpts: ConnectOptions;
  private readonly conns: ConnState[] = [];
  private readonly byIndex = new Map<number, ConnState>();
  /** Closes seen in the trace, by trace connection index (may precede registration). */
  private readonly closes = new Map<number, CloseInfo>();
  private count = 0;
  /** Checks of the waits under way, run after every trace event and {@link kick}. */
  private readonly pollers = new Set<() => void>();
  /** Set by a successful reset: the next default connect needs no startup delay (PROTON-9.3). */
  private afterReset = false;
  /** The protocol's monitor over this client's trace: the judge of what the server does. */
  private readonly judge: TraceJudge;

  /** Creates a client; nothing is sent until a command runs. */
  constructor(private readonly opts: ProtonClientOptions) {
    const p = opts.profile;
    this.driver = opts.driver ?? quicDriver;
    this.connectOpts = { alpn: [p.alpn], idleTimeoutMs: p.idleTimeoutMs, keepAliveMs: p.heartbeatMs, ...opts.connect };
    this.judge = new TraceJudge(this.trace, createProtonMonitor(p));
    this.trace.listen((ev) => this.onTrace(ev));
  }

  /** Target as `host:port`. */
  get target(): string {
    const h = this.connectOpts.host;
    return `${h.includes(':') ? `[${h}]` : h}:${this.connectOpts.port}`;
  }

  /** Connections opened so far that are still open. */
  get liveConnections(): number {
    return this.conns.filter((c) => c.close === undefined).length;
  }

  private print(line: string): void {
    try {
      this.opts.print(line);
    } catch {
      /* output trouble is not the target's */
    }
  }

  /** Violations the monitor found so far over this client's trace. */
  get violations(): readonly Violation[] {
    return this.judge.violations;
  }

  /** Records closes (printing the ones no command is waiting for), then wakes the waits. */
  private onTrace(ev: TraceEvent): void {
    if (ev.type === 'conn_close') {
      this.noteClose(ev.conn, { conn: ev.conn, by: ev.by, isApp: ev.isApp, code: ev.code, reason: ev.reason });
    }
    this.kick();
  }

  /** Runs the checks of every wait under way. */
  private kick(): void {
    for (const poll of [...this.pollers]) poll();
  }

  private noteClose(index: number, info: CloseInfo): void {
    if (this.closes.has(index)) return;
    this.closes.set(index, info);
    const st = this.byIndex.get(index);
    if (!st || st.close) return;
    st.close = info;
    if (!st.localClose && !st.awaitingClose) this.print(`connection #${st.num} ${describeClose(info)}`);
  }

  private register(conn: ClientConnection): ConnState {
    const st: ConnState = { num: ++this.count, conn, localClose: false, awaitingClose: false, nextEventId: 1 };
    this.conns.push(st);
    this.byIndex.set(conn.conn, st);
    conn.closed.then((info) => this.noteClose(conn.conn, info)).catch(() => undefined);
    const early = this.closes.get(conn.conn);
    if (early) st.close = early;
    return st;
  }

  /**
   * Waits until `check()` returns a value (checked now and after every
   * trace event), `st`'s connection closes, `ms` passes, or `signal` aborts.
   * A value that arrived before the close wins.
   */
  private waitFor<T>(st: ConnState | undefined, check: () => T | undefined, ms: number, signal?: AbortSignal): Promise<WaitResult<T>> {
    return new Promise((resolve) => {
      let done = false;
      let unlisten: () => void = () => undefined;
      let timer: NodeJS.Timeout | undefined;
      const finish = (r: WaitResult<T>) => {
        if (done) return;
        done = true;
        unlisten();
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(r);
      };
      const poll = () => {
        let v: T | undefined;
        try {
          v = check();
        } catch {
          v = undefined;
        }
        if (v !== undefined) return finish({ kind: 'ok', value: v });
        if (st?.close) finish({ kind: 'closed', info: st.close });
      };
      const onAbort = () => finish({ kind: 'aborted' });
      if (signal?.aborted) return finish({ kind: 'aborted' });
      signal?.addEventListener('abort', onAbort, { once: true });
      timer = setTimeout(() => {
        poll();
        finish({ kind: 'timeout' });
      }, ms);
      this.pollers.add(poll);
      unlisten = () => this.pollers.delete(poll);
      st?.conn.closed.then(() => setImmediate(poll)).catch(() => undefined);
      poll();
    });
  }

  /**
   * Writes on a stream, bounded by the send timeout (`ioTimeoutMs +
   * toleranceMs`, PROTON-7.2) and by the connection's close. A failed write
   * waits briefly for the close that usually explains it.
   */
  private async write(st: ConnState, stream: ClientStream, bytes: Uint8Array, signal?: AbortSignal): Promise<WaitResult<true> | { readonly kind: 'error'; readonly message: string }> {
    let state: 'pending' | 'done' | { readonly message: string } = 'pending';
    stream.write(bytes).then(
      () => {
        state = 'done';
        this.kick();
      },
      (err: unknown) => {
        state = { message: errorMessage(err) };
        this.kick();
      },
    );
    const p = this.opts.profile;
    const r = await this.waitFor(st, () => (state === 'pending' ? undefined : state), p.ioTimeoutMs + p.toleranceMs, signal);
    if (r.kind !== 'ok') return r;
    if (r.value === 'done') return { kind: 'ok', value: true };
    const failure = r.value;
    const c = await this.waitFor<never>(st, () => undefined, WRITE_ERROR_GRACE_MS, signal);
    return c.kind === 'closed' ? c : { kind: 'error', message: failure.message };
  }

  /** The connection commands act on, or a message saying why there is none. */
  private current(what: string): ConnState | string {
    const st = this.conns[this.conns.length - 1];
    if (!st) return `Failed to ${what}: not connected (use connect)`;
    if (st.close) return `Failed to ${what}: connection #${st.num} was ${describeClose(st.close)}; use connect`;
    return st;
  }

  /** Explains a wait that did not get its value. */
  private explain(what: string, st: ConnState, r: WaitResult<unknown> | { readonly kind: 'error'; readonly message: string }, timeoutText: string): string {
    switch (r.kind) {
      case 'error':
        return `Failed to ${what}: ${r.message}`;
      case 'closed':
        return `Failed to ${what}: connection #${st.num} ${describeClose(r.info)}`;
      case 'aborted':
        return `${what}: interrupted`;
      case 'timeout':
      case 'ok':
        return `Failed to ${what}: ${timeoutText}`;
    }
  }

  /** Opens a stream of a type on `st`, writing its discriminator and first items (PROTON-3.1). */
  private async openTyped(st: ConnState, discriminator: number, items: readonly number[], what: string, signal?: AbortSignal): Promise<ReadStream | string> {
    let stream: ClientStream;
    try {
      stream = st.conn.openStream();
    } catch (err) {
      return st.close ? `Failed to ${what}: connection #${st.num} ${describeClose(st.close)}` : `Failed to ${what}: cannot open a stream: ${errorMessage(err)}`;
    }
    const rs = new ReadStream(stream);
    const w = await this.write(st, stream, streamBytes(discriminator, items), signal);
    if (w.kind !== 'ok') return this.explain(what, st, w, `the write did not complete within the send timeout (${secs(this.opts.profile.ioTimeoutMs)}, PROTON-7.2)`);
    return rs;
  }

  /** Runs a command (all its repetitions). Never throws on target behaviour; prints everything. */
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
        return this.connect(cmd.delaySecs, signal);
      case 'send_event':
        return this.sendEvent(signal);
      case 'commit':
        return this.commit(cmd.id, signal);
      case 'read_action':
        return this.readAction(signal);
      case 'close':
        return this.close();
      case 'sleep':
        return this.sleep(cmd.secs, signal);
      case 'reset':
        return this.reset(signal);
      case 'help':
        for (const line of this.helpText().split('\n')) this.print(line);
        return Promise.resolve(true);
      case 'exit':
        return Promise.resolve('exit');
    }
  }

  /**
   * `connect [secs]`: waits the startup delay (`secs`, default the
   * profile's `startupDelayMs`, none right after a reset: PROTON-2.5, 9.3),
   * then opens a connection. When another one of this client is still open,
   * a conforming server closes both with `0x2 SECOND_CONNECTION`
   * (PROTON-2.2): that is reported as a refused connect.
   */
  private async connect(delaySecs: number | undefined, signal?: AbortSignal): Promise<boolean> {
    const p = this.opts.profile;
    let delayMs = delaySecs !== undefined ? delaySecs * 1000 : p.startupDelayMs;
    if (delaySecs === undefined && this.afterReset) {
      delayMs = 0;
      this.print('No startup delay after a reset (PROTON-9.3).');
    }
    if (delayMs > 0) {
      this.print(`Waiting ${secs(delayMs)} startup delay (PROTON-2.5; "connect 0" skips it)...`);
      if (!(await sleepUnlessAborted(delayMs, signal))) {
        this.print('connect: interrupted');
        return false;
      }
    }
    const others = this.conns.filter((c) => c.close === undefined);
    const mark = this.judge.mark();
    let conn: ClientConnection;
    try {
      conn = await this.driver.connect(this.trace, this.connectOpts);
    } catch (err) {
      const failure = err instanceof ConnectError ? describeConnectFailure(err.message) : { text: errorMessage(err), refused: false };
      this.print(`Failed to connect: ${failure.text}`);
      // Refused while another connection is open: the server closes that one too (PROTON-2.2).
      if (failure.refused && others.length > 0) await this.awaitCloses(others, mark, signal);
      return false;
    }
    this.afterReset = false;
    const st = this.register(conn);
    if (others.length === 0) {
      if (st.close) {
        this.print(`Failed to connect: connection #${st.num} ${describeClose(st.close)}`);
        return false;
      }
      this.print(`Connected successfully! (connection #${st.num} to ${this.target}; identify a stream within ${secs(p.identTimeoutMs)} or the server closes it, PROTON-3.4)`);
      return true;
    }
    // A second live connection: the server must close both (PROTON-2.2).
    st.awaitingClose = true;
    const list = others.map((o) => `#${o.num}`).join(', ');
    this.print(`Connected (connection #${st.num}) while ${list} still open: a conforming server closes both with ${closeCodeName(CloseCode.SECOND_CONNECTION)} (PROTON-2.2)...`);
    const r = await this.waitFor<never>(st, () => undefined, p.toleranceMs + ANSWER_SLACK_MS, signal);
    st.awaitingClose = false;
    if (r.kind === 'aborted') {
      this.print('connect: interrupted');
      return false;
    }
    if (r.kind === 'closed') {
      const info = r.info;
      const v = this.judge.verdict(mark);
      this.print(`Failed to connect: ${!v && info.by === 'server' ? `connection refused by server: ${closeCodeName(info.code)}${info.reason ? ` (${forTerminal(info.reason)})` : ''}` : `connection #${st.num} ${describeClose(info)}${v ? ` (${violationText(v)})` : ''}`}`);
      await this.awaitCloses(others, mark, signal);
      return false;
    }
    const v = this.judge.verdict(mark);
    this.print(`warning: connection #${st.num} opened and the server kept ${list} open too${v ? ` (${violationText(v)})` : ''}`);
    return false;
  }

  /** Waits (bounded) until `conns` are all closed, so their closes get printed before the next command; says what the monitor found since `mark`. */
  private async awaitCloses(conns: readonly ConnState[], mark: number, signal?: AbortSignal): Promise<void> {
    const p = this.opts.profile;
    await this.waitFor(undefined, () => (conns.every((c) => c.close !== undefined) ? true : undefined), p.toleranceMs + ANSWER_SLACK_MS, signal);
    const v = this.judge.verdict(mark);
    if (v) this.print(`warning: ${violationText(v)}`);
    else for (const c of conns) if (c.close === undefined) this.print(`warning: connection #${c.num} is still open`);
  }

  /** `send_event`: sends the next event id (from 1 per connection) and waits for its ack (PROTON-4.1, 4.3). */
  private async sendEvent(signal?: AbortSignal): Promise<boolean> {
    const what = 'send event';
    const st = this.current(what);
    if (typeof st === 'string') return this.failed(st);
    if (st.nextEventId > MAX_ITEM) return this.failed(`Failed to ${what}: event ids exhausted on connection #${st.num} (ids are 4-byte items that must increase, PROTON-4.1)`);
    const id = st.nextEventId++;
    const mark = this.judge.mark();
    if (st.event === undefined) {
      const rs = await this.openTyped(st, Discriminator.Event, [id], what, signal);
      if (typeof rs === 'string') return this.failed(rs);
      st.event = rs;
    } else {
      const w = await this.write(st, st.event.stream, encodeItem(id), signal);
      if (w.kind !== 'ok') return this.failed(this.explain(what, st, w, `write of event ${id} did not complete within the send timeout (PROTON-7.2)`));
    }
    const event = st.event;
    const p = this.opts.profile;
    const deadline = p.toleranceMs + ANSWER_SLACK_MS;
    const r = await this.waitFor(st, () => event.next() ?? (event.stream.readEnded && !st.close ? ('ended' as const) : undefined), deadline, signal);
    if (r.kind !== 'ok') return this.failed(this.explain(what, st, r, `no ack for event ${id} within ${secs(deadline)} (PROTON-4.3)`));
    const v = this.judge.verdict(mark);
    if (r.value === 'ended') return this.failed(`Failed to ${what}: the server ended the event stream without acknowledging event ${id}${v ? ` (${violationText(v)})` : ''}`);
    if (v) return this.failed(`Failed to ${what}: server acknowledged ${r.value} for event ${id} (${violationText(v)})`);
    this.print(`Event acknowledged with ID: ${r.value}`);
    return true;
  }

  /**
   * `commit <id>`: sends a StateCommit request and waits for the answer,
   * `(id × 2) mod 2^32`, for up to `ioTimeoutMs + toleranceMs` (PROTON-5.1, 5.3).
   */
  private async commit(id: number, signal?: AbortSignal): Promise<boolean> {
    const what = 'commit';
    const st = this.current(what);
    if (typeof st === 'string') return this.failed(st);
    const p = this.opts.profile;
    const mark = this.judge.mark();
    if (st.commitOutstanding !== undefined && st.commit) {
      const late = st.commit.next();
      if (late === undefined) {
        return this.failed(`Failed to ${what}: commit ${st.commitOutstanding} is still unanswered; a second request before the answer is a violation (PROTON-5.2)`);
      }
      this.print(`(late answer to commit ${st.commitOutstanding}: ${late})`);
      st.commitOutstanding = undefined;
    }
    if (st.commit === undefined) {
      const rs = await this.openTyped(st, Discriminator.StateCommit, [id], what, signal);
      if (typeof rs === 'string') return this.failed(rs);
      st.commit = rs;
    } else {
      const w = await this.write(st, st.commit.stream, encodeItem(id), signal);
      if (w.kind !== 'ok') return this.failed(this.explain(what, st, w, `write of commit ${id} did not complete within the send timeout (PROTON-7.2)`));
    }
    st.commitOutstanding = id;
    const commit = st.commit;
    const deadline = p.ioTimeoutMs + p.toleranceMs;
    this.print(`Waiting for the answer to commit ${id} (the server takes about ${secs(p.commitDelayMs)}, commitDelayMs; giving up after ${secs(deadline)})...`);
    const r = await this.waitFor(st, () => commit.next(), deadline, signal);
    if (r.kind !== 'ok') {
      return this.failed(this.explain(what, st, r, `no answer to commit ${id} within ${secs(deadline)} (PROTON-5.3: MUST within ioTimeoutMs)`));
    }
    st.commitOutstanding = undefined;
    const v = this.judge.verdict(mark);
    if (v) return this.failed(`State commit response: ${r.value} (${violationText(v)})`);
    this.print(`State commit response: ${r.value}`);
    return true;
  }

  /** `read_action`: opens the Action stream if needed and takes the next item (PROTON-6.2, 6.3). */
  private async readAction(signal?: AbortSignal): Promise<boolean> {
    const what = 'read action';
    const st = this.current(what);
    if (typeof st === 'string') return this.failed(st);
    const mark = this.judge.mark();
    if (st.action === undefined) {
      const rs = await this.openTyped(st, Discriminator.Action, [], what, signal);
      if (typeof rs === 'string') return this.failed(rs);
      st.action = rs;
    }
    const action = st.action;
    const p = this.opts.profile;
    const deadline = 2 * p.actionIntervalMs + p.toleranceMs + ANSWER_SLACK_MS;
    const r = await this.waitFor(st, () => action.next(), deadline, signal);
    if (r.kind !== 'ok') {
      const ended = action.stream.readEnded && !st.close ? ' (the server ended the action stream, PROTON-6.2)' : '';
      return this.failed(this.explain(what, st, r, `no action within ${secs(deadline)}${ended} (PROTON-6.3)`));
    }
    const more = action.items.length > 0 ? ` (${action.items.length} more already received)` : '';
    const v = this.judge.verdict(mark);
    if (v) return this.failed(`Received action: ${r.value}${more} (${violationText(v)})`);
    this.print(`Received action: ${r.value}${more}`);
    return true;
  }

  /** `close`: closes the current connection with code 0. */
  private async close(): Promise<boolean> {
    const st = this.conns[this.conns.length - 1];
    if (!st) return this.failed('Failed to close: not connected');
    if (st.close) {
      this.print(`Connection #${st.num} was already ${describeClose(st.close)}.`);
      return true;
    }
    st.localClose = true;
    await st.conn.close(0, 'wirecheck client: close');
    this.print('Connection closed.');
    return true;
  }

  private async sleep(s: number, signal?: AbortSignal): Promise<boolean> {
    this.print(`Sleeping for ${s} seconds...`);
    if (!(await sleepUnlessAborted(s * 1000, signal))) {
      this.print('sleep: interrupted');
      return false;
    }
    this.print('Awake!');
    return true;
  }

  /**
   * `reset`: the explicit reset of PROTON-9.1. Sends `0xFF` on a new stream
   * of the current connection (or of a new connection, opened without the
   * startup delay, when none is open) and waits for the server to close it
   * with `0x0` and reason `RESET_OK`. Then forgets every connection; the
   * next `connect` needs no startup delay (PROTON-9.3).
   */
  private async reset(signal?: AbortSignal): Promise<boolean> {
    const what = 'reset';
    const p = this.opts.profile;
    let st = this.conns[this.conns.length - 1];
    if (!st || st.close) {
      this.print('Reset: opening a connection to send it on...');
      try {
        st = this.register(await this.driver.connect(this.trace, this.connectOpts));
      } catch (err) {
        return this.failed(`Failed to reset: ${err instanceof ConnectError ? describeConnectFailure(err.message).text : errorMessage(err)}`);
      }
    }
    const target = st;
    const mark = this.judge.mark();
    target.awaitingClose = true;
    try {
      const rs = await this.openTyped(target, Discriminator.Reset, [], what, signal);
      if (typeof rs === 'string' && !target.close) return this.failed(rs);
      const deadline = p.toleranceMs + ANSWER_SLACK_MS;
      this.print(`Reset sent (${explainClientWrite({ discriminator: undefined, body: 0 }, streamBytes(Discriminator.Reset)).parts.join(' + ')}) on connection #${target.num}; waiting for the server to close it with ${closeCodeName(CloseCode.RESET_OK)} (PROTON-9.1)...`);
      const r = await this.waitFor<never>(target, () => undefined, deadline, signal);
      const v = this.judge.verdict(mark);
      if (r.kind !== 'closed') return this.failed(this.explain(what, target, r, `connection #${target.num} not closed within ${secs(deadline)}${v ? ` (${violationText(v)})` : ''}`));
      const info = r.info;
      if (v?.severity === 'must') return this.failed(`Failed to reset: connection #${target.num} ${describeClose(info)} (${violationText(v)})`);
      const note = v ? ` (warning: ${violationText(v)})` : '';
      this.print(`Reset complete: connection #${target.num} ${describeClose(info)}${note}. Client state cleared; connect again without the startup delay (PROTON-9.3).`);
      await this.forgetAll();
      this.afterReset = true;
      return v === undefined;
    } finally {
      target.awaitingClose = false;
    }
  }

  /** Closes (code 0) every connection still open and forgets them all. */
  private async forgetAll(): Promise<void> {
    await this.closeAll('wirecheck client: reset');
    this.conns.length = 0;
  }

  /**
   * Closes every connection still open with code 0 (bounded by the
   * driver's close deadline). Call before exiting.
   */
  async closeAll(reason = 'wirecheck client: exit'): Promise<void> {
    await Promise.all(
      this.conns
        .filter((c) => c.close === undefined)
        .map((c) => {
          c.localClose = true;
          return c.conn.close(0, reason).catch(() => undefined);
        }),
    );
  }

  private failed(line: string): false {
    this.print(line);
    return false;
  }

  /** The `help` text: commands (seed "Available commands") with this client's timers and differences from the seed. */
  helpText(): string {
    const p = this.opts.profile;
    return [
      'Available commands:',
      `  connect [secs]   - Connect to the server after a startup delay (default ${secs(p.startupDelayMs)}, PROTON-2.5; none right after a reset)`,
      '  send_event       - Send the next event id (1, 2, ... per connection) and wait for its ack',
      `  commit <id>      - Send a state commit (id in [0, 2^32)) and wait for the answer id × 2 (can take ${secs(p.commitDelayMs)}; gives up after ${secs(p.ioTimeoutMs + p.toleranceMs)})`,
      '  read_action      - Read the next action from the server (opens the action stream on first use)',
      '  close            - Close the current connection (code 0)',
      '  sleep <secs>     - Sleep for specified seconds',
      '  reset            - Explicit reset: send 0xFF on a new stream and wait for the server to close every connection with 0x0 RESET_OK',
      '  help             - Show this help message',
      '  exit             - Exit the REPL',
      '',
      'Commands can be chained with semicolons:   connect 0; send_event; commit 21; read_action',
      'Repeat prefix:                              3 send_event   (stops at the first failure)',
      'Comments:                                   # to the end of the line',
      '',
      'Notes:',
      `  - Streams (Event 0x${hex2(Discriminator.Event)}, StateCommit 0x${hex2(Discriminator.StateCommit)}, Action 0x${hex2(Discriminator.Action)}) are opened on first use. The server closes a connection`,
      `    on which no stream is identified within ${secs(p.identTimeoutMs)} (IDENT_TIMEOUT, PROTON-3.4): chain "connect; send_event".`,
      '  - Multiple connects are allowed, to test connection handling: a conforming server closes both connections',
      '    with 0x2 SECOND_CONNECTION (PROTON-2.2), reported as a refused connect.',
      '  - reset differs from the seed\'s REPL, whose reset waits for old connections to time out: here it is the explicit',
      '    reset of PROTON-9.1 (the 0xFF stream of shared/PROTOCOLS.md), answered at once; no startup delay is needed after it.',
      '  - Every wait has a deadline from the profile; closes by the server are printed as they happen, with code and reason.',
    ].join('\n');
  }
}
