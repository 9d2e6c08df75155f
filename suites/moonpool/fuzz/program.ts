/**
 * Builds Moonpool fuzz programs (harness/fuzz `FuzzProgram`): client steps
 * in the fixture format, each named, with the model's prediction of what a
 * conforming server does after each one.
 *
 * The prediction is the Moonpool model itself (model.ts in server mode, the
 * reference server's logic) run over the client's steps in virtual time, as
 * they are added. Generators ask it what state the target is in (is this
 * connection still open? did that header make the server close?) instead of
 * keeping a second copy of the rules, and the builder uses it to place the
 * program's waits:
 *  - **replies first**: a conforming server replies to a PING within
 *    `replyDeadlineMs` (MOONPOOL-4.2), not necessarily at once. Before the
 *    client falls silent, the builder waits for every reply owed (`expect
 *    settled`), so that the reply deadline is checked before the silence;
 *  - **silences are stalls**: every wait is a silence of the client on each
 *    live connection, a stall as the server sees it (SPEC §7.1). The builder
 *    declares it to the monitor with the notes of SPEC §10 (a 0 ms step whose
 *    comment is `moonpool:stall conn=N …`; the fixture runner records it as a
 *    trace note), and ends it with `moonpool:restore conn=N` once the client
 *    writes again and before time passes: a close during the silence is
 *    reported under MOONPOOL-7.1, a reply lost to it under MOONPOOL-7.2, the
 *    rules the SPEC gives them (as the suite's `moonpool/stall/*` cases do);
 *  - **idle timeout** (`idleTimeoutMs` > 0): the server MAY close a connection
 *    silent for `idleTimeoutMs − toleranceMs` and later (MOONPOOL-7.4), so a
 *    connection silent for longer than `idleTimeoutMs − toleranceMs − 10 ms`
 *    is never written to again (it is not {@link isLive}): a write can then
 *    never race the server's idle close;
 *  - **drain**: the last step waits until nothing is owed: `expect settled
 *    within replyDeadlineMs + toleranceMs + 300` (it ends as soon as the
 *    monitor is settled; a reply or close later than its deadline is the
 *    monitor's finding first).
 *
 * Every other server reaction the model predicts (replies, the close after a
 * framing error or the client's FIN) is immediate; pauses shorter than the
 * tolerance between writes are not silences.
 */
import { predict } from '../../../harness/engine/sim.js';
import { modelCore } from '../../../harness/engine/server-core.js';
import { fromHex, toHex, type TraceEvent } from '../../../harness/engine/trace.js';
import { evalDuration, type Duration, type FixtureStep } from '../../../harness/fixtures/format.js';
import { formatProgram } from '../../../harness/fuzz/program.js';
import type { FuzzProgram } from '../../../harness/fuzz/types.js';
import { bytesEqual, describePayload, FrameDecoder, HEADER_SIZE, isPing, MAX_LENGTH_FIELD, PONG } from '../codec.js';
import { MoonpoolModel, STREAM } from '../model.js';
import type { MoonpoolProfile } from '../profile.js';

const US = 1000;
/** Margin (ms) before the earliest idle close the SPEC allows (at most half of it): a connection silent that long is not written to again. */
const IDLE_MARGIN_MS = 10;
/** The drain's wait, and the wait for owed replies before a silence (a fixture duration expression). */
export const SETTLE_WITHIN = 'replyDeadlineMs + toleranceMs + 300';

/** A connection of a program: TCP, one byte stream. */
export interface ProgramConn {
  /** Fixture name (`a`, `b`, …). */
  readonly name: string;
  /** Fixture name of its byte stream (`a0`, …; TCP stream 0). */
  readonly stream: string;
  /** Trace connection index (connects in order). */
  readonly index: number;
  /** Closed or reset by the program's client. */
  clientClosed: boolean;
  /** The client ended its side (FIN). */
  finSent: boolean;
  /** The client's bytes as the server reads them (MOONPOOL-2.2). */
  readonly framer: ClientFramer;
  /** Correlation ids of the requests completed on it, in order (with whether each was a PING). */
  readonly requests: { readonly id: bigint; readonly ping: boolean }[];
  /** Virtual time of its last client byte, or of its open (µs). */
  lastRxUs: number;
  /** A stall note is open on it (until the restore). */
  stalled: boolean;
}

/**
 * The client's byte stream of one connection as a Moonpool server reads it
 * (the codec's framing, SPEC §2), kept to name each write: which envelopes
 * it completes, which header or payload bytes it carries, what a server does
 * with them. Holds no payload bytes beyond the current envelope's head.
 */
export class ClientFramer {
  private readonly hdr: number[] = [];
  private cur: { readonly id: bigint; readonly len: number; have: number; readonly head: number[] } | undefined;
  /** Set once a header announced more than `maxPayloadBytes` (MOONPOOL-5.1): the server reads nothing after it. */
  oversized = false;

  constructor(readonly maxPayloadBytes: number) {}

  /** Bytes of an incomplete envelope held (0 between envelopes). */
  get partial(): number {
    return this.cur ? HEADER_SIZE + this.cur.have : this.hdr.length;
  }

  /** Bytes the incomplete envelope needs in all (undefined between envelopes). */
  get need(): number | undefined {
    return this.cur ? HEADER_SIZE + this.cur.len : this.hdr.length > 0 ? HEADER_SIZE : undefined;
  }

  /** Correlation id of the envelope whose payload is being read, if any. */
  get currentId(): bigint | undefined {
    return this.cur?.id;
  }

  /** A copy, to describe bytes without taking them. */
  clone(): ClientFramer {
    const f = new ClientFramer(this.maxPayloadBytes);
    f.hdr.push(...this.hdr);
    f.cur = this.cur ? { ...this.cur, head: [...this.cur.head] } : undefined;
    f.oversized = this.oversized;
    return f;
  }

  /** Takes `bytes`; returns what they mean (one phrase per part) and the requests they complete. */
  push(bytes: Uint8Array): { parts: string[]; completed: { id: bigint; ping: boolean }[] } {
    const parts: string[] = [];
    const completed: { id: bigint; ping: boolean }[] = [];
    let i = 0;
    if (this.oversized) return { parts: [`${bytes.length} byte${bytes.length > 1 ? 's' : ''} after the oversized header (never read: the server closes)`], completed };
    /** The current envelope's header is already named (in an earlier write, or in a part of this one). */
    let headerNamed = this.cur !== undefined;
    const range = (what: string, from: number, to: number) => (to > from ? `${what}s ${from}–${to}` : `${what} ${to}`);
    while (i < bytes.length) {
      if (!this.cur) {
        const from = this.hdr.length;
        const take = Math.min(HEADER_SIZE - from, bytes.length - i);
        for (let k = 0; k < take; k++) this.hdr.push(bytes[i + k]!);
        i += take;
        if (this.hdr.length < HEADER_SIZE) {
          parts.push(`${range('header byte', from + 1, from + take)} of 12`);
          break;
        }
        const dv = new DataView(Uint8Array.from(this.hdr).buffer);
        const id = dv.getBigUint64(0, true);
        const len = dv.getUint32(8, true);
        this.hdr.length = 0;
        const lead = from > 0 ? `${range('header byte', from + 1, HEADER_SIZE)} (completes it: ` : 'header (';
        if (len > this.maxPayloadBytes) {
          this.oversized = true;
          parts.push(`${lead}#${id} len ${len}, over maxPayloadBytes ${this.maxPayloadBytes}: ParseError, MOONPOOL-5.1)`);
          const rest = bytes.length - i;
          if (rest > 0) parts.push(`${rest} byte${rest > 1 ? 's' : ''} after it (never read: the server closes)`);
          return { parts, completed };
        }
        this.cur = { id, len, have: 0, head: [] };
        headerNamed = false;
        if (from > 0 || (i === bytes.length && len > 0)) {
          parts.push(`${lead}#${id} len ${len})`);
          headerNamed = true;
        }
        if (i === bytes.length && len > 0) break;
      }
      const cur = this.cur;
      const take = Math.min(cur.len - cur.have, bytes.length - i);
      for (let k = 0; k < take && cur.head.length < 16; k++) cur.head.push(bytes[i + k]!);
      const started = cur.have;
      cur.have += take;
      i += take;
      if (cur.have === cur.len) {
        const payload = Uint8Array.from(cur.head);
        const ping = cur.len === 4 && isPing(payload);
        const what = ping ? `PING #${cur.id}` : cur.len === 0 ? `#${cur.id} with an empty payload (MOONPOOL-2.3, not a ping)` : `#${cur.id} payload ${describePayload(payload)}${cur.len > 16 ? ` (${cur.len} bytes${cur.len === this.maxPayloadBytes ? ', the maximum: MOONPOOL-2.4' : ''})` : ''}, not a ping`;
        if (cur.len === 0 || !headerNamed) parts.push(what);
        else parts.push(`${range('payload byte', started + 1, cur.have)} of ${cur.len} (completes ${what})`);
        completed.push({ id: cur.id, ping });
        this.cur = undefined;
        headerNamed = false;
      } else if (take > 0) {
        parts.push(`${headerNamed ? '' : `header #${cur.id} len ${cur.len} + `}${range('payload byte', started + 1, cur.have)} of ${cur.len}`);
        headerNamed = true;
      }
    }
    return { parts, completed };
  }
}

interface Input {
  /** Client event (client's view; `conn` is the trace index). */
  readonly ev: TraceEvent;
  /** Index of the step that produced it. */
  readonly step: number;
}

/** A server action the model predicts, as a trace event, with the step it answers. */
export interface PredictedEvent {
  readonly ev: TraceEvent;
  /** Index of the latest step at or before it. */
  readonly step: number;
  /** True when a timer of the server (the idle timeout), not a client event, caused it. */
  readonly timer: boolean;
}

/**
 * Runs the Moonpool model in server mode over client events (sorted by `t`,
 * µs) until `endUs`, in virtual time: what a conforming server does and
 * when. Input on a connection the server closed is dropped, as the network
 * would.
 */
export function predictServer(profile: MoonpoolProfile, inputs: readonly Input[], endUs: number): PredictedEvent[] {
  return predict(modelCore(new MoonpoolModel(profile, 'server')), inputs.map((x) => x.ev), endUs).map((o) => ({ ev: o.ev, step: o.after >= 0 ? inputs[o.after]!.step : -1, timer: o.timer }));
}

/**
 * A Moonpool fuzz program under construction. Every method appends a named
 * step (and the client events it causes, for the prediction); queries read
 * the model's prediction at the current virtual time.
 */
export class MoonpoolProgramBuilder {
  private readonly steps: FixtureStep[] = [];
  private readonly inputs: Input[] = [];
  private readonly conns: ProgramConn[] = [];
  /** Virtual time of the next step (µs). */
  private now = 0;
  private cache: { key: string; events: PredictedEvent[] } | undefined;
  private readonly rulesSeen = new Set<string>();
  /** PINGs written since the replies were last awaited (the program's view). */
  private pingsUnawaited = 0;

  constructor(
    readonly profile: MoonpoolProfile,
    readonly arbitrary: string,
  ) {}

  /** Number of steps so far. */
  get length(): number {
    return this.steps.length;
  }

  /** Connections opened so far. */
  get connections(): readonly ProgramConn[] {
    return this.conns;
  }

  // -------------------------------------------------------------- prediction

  /** The model's prediction up to `untilUs` (default: now). */
  predict(untilUs = this.now): PredictedEvent[] {
    const key = `${this.inputs.length}@${untilUs}`;
    if (this.cache?.key === key) return this.cache.events;
    const events = predictServer(this.profile, this.inputs, untilUs);
    this.cache = { key, events };
    return events;
  }

  /** True when the server has closed `c` by now, as predicted. */
  serverClosed(c: ProgramConn): boolean {
    return this.predict().some((p) => p.ev.type === 'conn_close' && p.ev.conn === c.index);
  }

  /**
   * True when the client may still write on `c`: neither side ended it (as
   * predicted), the client sent no FIN, and it has not been silent long
   * enough for the server to close it for idleness (MOONPOOL-7.4).
   */
  isLive(c: ProgramConn): boolean {
    if (c.clientClosed || c.finSent || this.serverClosed(c)) return false;
    const idle = this.profile.idleTimeoutMs;
    if (idle <= 0) return true;
    const earliest = idle - this.profile.toleranceMs; // The earliest idle close the SPEC allows (ms after the last byte).
    return this.now < c.lastRxUs + Math.max(earliest - IDLE_MARGIN_MS, earliest / 2) * US;
  }

  /** The live connections, oldest first. */
  liveConns(): ProgramConn[] {
    return this.conns.filter((c) => this.isLive(c));
  }

  /** The connection opened last, when it is live. */
  liveConn(): ProgramConn | undefined {
    const c = this.conns[this.conns.length - 1];
    return c && this.isLive(c) ? c : undefined;
  }

  /** Requests written (PINGs; others too with `otherPayloads: reply`) since the replies were last awaited. */
  get unawaited(): number {
    return this.pingsUnawaited;
  }

  // ----------------------------------------------------------------- steps

  /** Appends a step at the current time; `events` are the client events it causes. */
  private push(step: FixtureStep, events: readonly TraceEvent[] = []): void {
    const index = this.steps.length;
    this.steps.push(step);
    for (const ev of events) this.inputs.push({ ev: { ...ev, t: this.now } as TraceEvent, step: index });
    this.cache = undefined;
  }

  /**
   * Opens a connection and names its byte stream (`connect` and `open`
   * steps; TCP has one stream per connection, MOONPOOL-1.1). With
   * `concurrentConnections: false` (MOONPOOL-6.1) the client first closes
   * every connection the server has not closed.
   */
  connect(name?: string): ProgramConn {
    if (!this.profile.concurrentConnections) {
      for (const o of this.conns) if (!o.clientClosed && !this.serverClosed(o)) this.close(o, 'one connection at a time (concurrentConnections: false)');
    }
    const n = this.conns.length;
    const cname = n < 26 ? String.fromCharCode(97 + n) : `conn${n}`;
    const c: ProgramConn = { name: cname, stream: `${cname}0`, index: n, clientClosed: false, finSent: false, framer: new ClientFramer(this.profile.maxPayloadBytes), requests: [], lastRxUs: this.now, stalled: false };
    const live = this.liveConns();
    const comment = name ?? (live.length ? `while ${live.map((o) => o.name).join(', ')} ${live.length > 1 ? 'are' : 'is'} open (concurrent connections: MOONPOOL-6.1)` : undefined);
    this.push({ do: 'connect', conn: c.name, ...(comment !== undefined ? { comment } : {}) }, [{ type: 'conn_open', t: 0, conn: c.index, remote: 'target' }]);
    this.push({ do: 'open', stream: c.stream, conn: c.name, comment: `the byte stream of ${c.name} (TCP: one per connection)` });
    this.conns.push(c);
    return c;
  }

  /** What `bytes` mean when written on `c` now, e.g. `PING #1 + header bytes 1–7 of 12`. */
  describeBytes(c: ProgramConn, bytes: Uint8Array): string {
    return c.framer.clone().push(bytes).parts.join(' + ');
  }

  /** Writes bytes on `c` (`write` step named `name: what the bytes mean`). Empty bytes write nothing. */
  write(c: ProgramConn, bytes: Uint8Array, name?: string): void {
    if (bytes.length === 0) return;
    const { parts, completed } = c.framer.push(bytes);
    const meaning = parts.join(' + ');
    this.push({ do: 'write', stream: c.stream, hex: toHex(bytes), comment: name ? `${name}: ${meaning}` : meaning }, [{ type: 'data', t: 0, conn: c.index, stream: STREAM, dir: 'c2s', hex: toHex(bytes) }]);
    c.requests.push(...completed);
    c.lastRxUs = this.now;
    this.pingsUnawaited += completed.filter((r) => r.ping || this.profile.otherPayloads === 'reply').length;
    if (completed.some((r) => r.ping)) this.rulesSeen.add('MOONPOOL-4.1');
    if (completed.some((r) => !r.ping)) this.rulesSeen.add('MOONPOOL-4.3');
  }

  /** FIN on `c`: after whole envelopes "no more requests" (MOONPOOL-6.2), inside one a truncated frame (5.2). */
  fin(c: ProgramConn, name?: string): void {
    const p = c.framer.partial;
    const what = c.framer.oversized
      ? 'FIN after the oversized header'
      : p > 0
        ? `FIN inside an envelope, ${p} of ${c.framer.need ?? '?'} bytes (truncated frame: ParseError, MOONPOOL-5.2)`
        : 'FIN after whole envelopes (no more requests: the server replies, then closes: MOONPOOL-6.2)';
    this.push({ do: 'fin', stream: c.stream, comment: name ? `${name}: ${what}` : what }, [{ type: 'stream_fin', t: 0, conn: c.index, stream: STREAM, dir: 'c2s' }]);
    c.finSent = true;
    this.rulesSeen.add(p > 0 && !c.framer.oversized ? 'MOONPOOL-5.2' : 'MOONPOOL-6.2');
  }

  /** An RST from the client on `c` (TCP reset: the connection ends, MOONPOOL-6.3). */
  reset(c: ProgramConn, name?: string): void {
    const p = c.framer.partial;
    const what = `RST (the client drops ${c.name}${p > 0 && !c.framer.oversized ? ` mid-frame, ${p} of ${c.framer.need ?? '?'} bytes` : ''}: MOONPOOL-6.3)`;
    this.push({ do: 'reset', stream: c.stream, code: 0, comment: name ? `${name}: ${what}` : what }, [
      { type: 'stream_reset', t: 0, conn: c.index, stream: STREAM, dir: 'c2s', kind: 'reset', code: 0 },
      { type: 'conn_close', t: 0, conn: c.index, by: 'client', isApp: false, code: 0, reason: 'reset' },
    ]);
    c.clientClosed = true;
    c.stalled = false;
    this.rulesSeen.add('MOONPOOL-6.3');
  }

  /** Closes `c` by the client (FIN, recorded as the client's close). */
  close(c: ProgramConn, name?: string): void {
    const p = c.framer.partial;
    const what = `close ${c.name} (client${p > 0 && !c.framer.oversized ? `, mid-frame: ${p} of ${c.framer.need ?? '?'} bytes, MOONPOOL-6.3` : ''})`;
    this.push({ do: 'close', conn: c.name, comment: name ? `${name}: ${what}` : what }, [{ type: 'conn_close', t: 0, conn: c.index, by: 'client', isApp: false, code: 0, reason: '' }]);
    c.clientClosed = true;
    c.stalled = false;
    if (p > 0) this.rulesSeen.add('MOONPOOL-6.3');
  }

  /**
   * A short pause between writes on `writing` (`ms`, at most the tolerance):
   * not a silence of that connection, but pauses add up to one on every
   * other live connection, which is declared a stall first (as by {@link wait}).
   */
  pause(ms: number, writing: ProgramConn, name?: string): void {
    const value = Math.min(ms, this.profile.toleranceMs);
    if (value <= 0) return;
    for (const c of this.liveConns()) if (c !== writing && !c.stalled) this.stall(c);
    this.push({ do: 'wait', ms: value, comment: name ?? `pause ${value} ms` });
    this.now += value * US;
  }

  /** Declares `c` silent from here: a stall as the server sees it (SPEC §10). */
  private stall(c: ProgramConn): void {
    this.push({ do: 'wait', ms: 0, comment: `moonpool:stall conn=${c.index} — ${c.name} falls silent: a stall as the server sees it (SPEC §10: a close now is MOONPOOL-7.1)` });
    c.stalled = true;
    this.rulesSeen.add('MOONPOOL-7.1');
  }

  /** Waits for every reply the program's requests are owed (`expect settled`; MOONPOOL-4.2). */
  awaitReplies(name?: string): void {
    this.restoreAll();
    this.push({ expect: 'settled', within: SETTLE_WITHIN, comment: name ?? 'await the replies owed (each within replyDeadlineMs: MOONPOOL-4.2)' });
    this.pingsUnawaited = 0;
    this.rulesSeen.add('MOONPOOL-4.2');
  }

  /**
   * The client falls silent for `ms` (a duration expression over the profile,
   * e.g. `"stallMs"`, `"idleTimeoutMs + toleranceMs + 20"`): first the replies
   * owed are awaited, then every live connection's silence is declared a
   * stall (SPEC §10; see the module docstring), then the wait.
   */
  wait(ms: Duration, name?: string): void {
    const value = evalDuration(ms, this.profile);
    if (value <= 0) return;
    this.restoreAll();
    if (this.pingsUnawaited > 0 && this.conns.some((c) => !c.clientClosed)) this.awaitReplies('before the silence: await the replies owed (MOONPOOL-4.2)');
    for (const c of this.liveConns()) this.stall(c);
    this.push({ do: 'wait', ms, comment: `${name ?? 'wait'}${typeof ms === 'string' ? ` (${value} ms)` : ''}` });
    this.now += value * US;
  }

  /** Ends every open stall (`moonpool:restore conn=N`): replies still owed are due within replyDeadlineMs from here (MOONPOOL-7.2). */
  private restoreAll(): void {
    for (const c of this.conns) {
      if (!c.stalled) continue;
      c.stalled = false;
      if (c.clientClosed) continue;
      this.push({ do: 'wait', ms: 0, comment: `moonpool:restore conn=${c.index} — ${c.name}'s silence is over: what it owes is due within replyDeadlineMs from here (MOONPOOL-7.2)` });
      this.rulesSeen.add('MOONPOOL-7.2');
    }
  }

  /** Records a rule the program exercises (the program's `rules`). */
  exercises(...rules: string[]): void {
    for (const r of rules) this.rulesSeen.add(r);
  }

  // ------------------------------------------------------------------ build

  /**
   * Appends the drain and returns the program. Its rules: those of the
   * closes the model predicts (the deviations), then those the steps
   * exercised.
   */
  build(description: string): FuzzProgram {
    this.restoreAll();
    this.push({ expect: 'settled', within: SETTLE_WITHIN, comment: 'drain: until nothing is owed (the model predicts every reaction at once; each is due within replyDeadlineMs)' });
    const P = this.profile;
    const end = this.now + (P.replyDeadlineMs + P.toleranceMs + 300) * US;
    const all = predictServer(P, this.inputs, end);
    const predictions: string[] = this.steps.map(() => '');
    const add = (i: number, text: string) => (predictions[i] = predictions[i] ? `${predictions[i]}; ${text}` : text);
    const closes: string[] = [];
    for (const p of all) {
      add(Math.max(0, p.step), `${this.serverText(p.ev)}${p.timer ? ` (timer, at +${Math.round(p.ev.t / US)} ms)` : ''}`);
      if (p.ev.type === 'conn_close') {
        const rule = /^(MOONPOOL-\d+\.\d+)/.exec(p.ev.reason)?.[1];
        if (rule) closes.push(rule);
      }
    }
    const rules = [...new Set([...closes, ...this.rulesSeen])];
    const program: FuzzProgram = {
      arbitrary: this.arbitrary,
      description,
      rules,
      steps: [...this.steps],
      predictions,
      toString: () => formatProgram(program),
    };
    return program;
  }

  /** Readable form of a predicted server event: `PONG #5 on a`, `reply #7 "hello" on a`, `close a (MOONPOOL-5.1 ParseError: …)`. */
  private serverText(ev: TraceEvent): string {
    const name = (conn: number) => this.conns[conn]?.name ?? String(conn);
    switch (ev.type) {
      case 'data': {
        const { envelopes } = new FrameDecoder(MAX_LENGTH_FIELD).push(fromHex(ev.hex));
        return envelopes.map((e) => (bytesEqual(e.payload, PONG) ? `PONG #${e.correlationId}` : `reply #${e.correlationId} ${describePayload(e.payload)}`)).join(', ') + ` on ${name(ev.conn)}`;
      }
      case 'conn_close':
        return `close ${name(ev.conn)} (${ev.reason})`;
      case 'stream_fin':
        return `FIN on ${name(ev.conn)}`;
      case 'stream_reset':
        return `RST on ${name(ev.conn)}`;
      default:
        return ev.type;
    }
  }
}
