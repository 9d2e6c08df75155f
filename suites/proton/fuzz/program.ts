/**
 * Builds Proton fuzz programs (harness/fuzz `FuzzProgram`): client steps in
 * the fixture format, each named, with the model's prediction of what a
 * conforming server does after each one.
 *
 * The prediction is the Proton model itself (model.ts in server mode, the
 * reference server's logic) run over the client's steps in virtual time, as
 * they are added. Generators ask it what state the target is in (is this
 * connection still open? is a commit outstanding?) instead of keeping a
 * second copy of the rules, and the builder uses it to place the program's
 * waits:
 *  - **guard**: no client action is placed within `toleranceMs` (+10 ms) of
 *    a timer-driven server action (identification or receive timeout close,
 *    commit answer). In that band the SPEC lets the server act either way
 *    and the wire can reorder the two; outside it the outcome is decided.
 *    The builder inserts a named wait instead.
 *  - **drain**: the last step lets every predicted reaction come (or be
 *    missed): `settled` within the predicted time plus tolerance, or, while
 *    an Action stream pushes (never settled), a wait of two intervals.
 */
import { predict } from '../../../harness/engine/sim.js';
import { modelCore } from '../../../harness/engine/server-core.js';
import { toHex, type TraceEvent } from '../../../harness/engine/trace.js';
import { evalDuration, type Duration, type FixtureStep } from '../../../harness/fixtures/format.js';
import { formatProgram } from '../../../harness/fuzz/program.js';
import type { FuzzProgram } from '../../../harness/fuzz/types.js';
import { ITEM_SIZE, ItemDecoder, closeCodeName, encodeItems, streamKindOf, type StreamKind } from '../codec.js';
import { ProtonModel } from '../model.js';
import type { ProtonProfile } from '../profile.js';

const US = 1000;
/** Extra margin of the guard band beyond `toleranceMs` (ms). */
const GUARD_MARGIN_MS = 10;
/** Extra margin of the drain beyond the last predicted reaction and `toleranceMs` (ms). */
const DRAIN_MARGIN_MS = 300;

/** A connection of a program. */
export interface ProgramConn {
  /** Fixture name (`a`, `b`, …). */
  readonly name: string;
  /** Trace connection index (connects in order). */
  readonly index: number;
  /** Streams opened on it, in order. */
  readonly streams: ProgramStream[];
  /** Closed by the program's client. */
  clientClosed: boolean;
}

/** A client stream of a program, as the client wrote it. */
export interface ProgramStream {
  /** Fixture name (`a0`, `a1`, …: connection, then order). */
  readonly name: string;
  readonly conn: ProgramConn;
  /** QUIC stream id (client bidirectional: 0, 4, 8, …). */
  readonly id: number;
  /** Discriminator byte written, once written. */
  disc: number | undefined;
  /** Bytes written after the discriminator. */
  body: number;
  /** Items completed (Event ids, StateCommit requests). */
  items: number;
  /** Last Event id written (0 before the first). */
  lastId: number;
  /** FIN sent, or reset sent. */
  ended: boolean;
  /** Decodes the items the client wrote (PROTON-1.3). */
  readonly dec: ItemDecoder;
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
  /** True when a timer of the server (not a client event) caused it. */
  readonly timer: boolean;
}

/**
 * Runs the Proton model in server mode over client events (sorted by `t`)
 * until `endUs`, in virtual time: what a conforming server does and when.
 * Input on a connection the server closed is dropped, as the network would.
 */
export function predictServer(profile: ProtonProfile, inputs: readonly Input[], endUs: number): PredictedEvent[] {
  return predict(modelCore(new ProtonModel(profile, 'server')), inputs.map((x) => x.ev), endUs).map((o) => ({ ev: o.ev, step: o.after >= 0 ? inputs[o.after]!.step : -1, timer: o.timer }));
}

/** Readable form of a predicted server event, e.g. `ack 00000003 on a0`, `close a 0x1 PROTOCOL_VIOLATION (PROTON-3.2 …)`. */
function describeServerEvent(ev: TraceEvent, streamName: (conn: number, stream: number) => string, connName: (conn: number) => string, kind: (conn: number, stream: number) => StreamKind | undefined): string {
  switch (ev.type) {
    case 'data': {
      const k = kind(ev.conn, ev.stream);
      const what = k === 'event' ? 'ack' : k === 'commit' ? 'answer' : k === 'action' ? 'action item' : 'bytes';
      const items = ev.hex.match(/.{8}/g) ?? [ev.hex];
      return `${what} ${items.join(' ')} on ${streamName(ev.conn, ev.stream)}`;
    }
    case 'stream_fin':
      return `FIN on ${streamName(ev.conn, ev.stream)}`;
    case 'stream_reset':
      return `${ev.kind} on ${streamName(ev.conn, ev.stream)}`;
    case 'conn_close':
      return `close ${connName(ev.conn)} ${closeCodeName(ev.code)} "${ev.reason}"`;
    default:
      return ev.type;
  }
}

/**
 * A Proton fuzz program under construction. Every method appends a named
 * step (and the client events it causes, for the prediction); queries read
 * the model's prediction at the current virtual time.
 */
export class ProtonProgramBuilder {
  private readonly steps: FixtureStep[] = [];
  private readonly inputs: Input[] = [];
  private readonly conns: ProgramConn[] = [];
  /** Virtual time of the next step (µs). */
  private now = 0;
  private cache: { key: string; events: PredictedEvent[] } | undefined;
  private readonly rulesSeen = new Set<string>();

  constructor(
    readonly profile: ProtonProfile,
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

  /** True when the connection is open now: neither the client nor (as predicted) the server closed it. */
  isLive(c: ProgramConn): boolean {
    if (c.clientClosed) return false;
    return !this.predict().some((p) => p.ev.type === 'conn_close' && p.ev.conn === c.index);
  }

  /** The connection opened last, when it is live. */
  liveConn(): ProgramConn | undefined {
    const c = this.conns[this.conns.length - 1];
    return c && this.isLive(c) ? c : undefined;
  }

  /** Stream type of a stream (from its discriminator), or undefined. */
  kindOf(s: ProgramStream): StreamKind | undefined {
    return s.disc === undefined ? undefined : streamKindOf(s.disc);
  }

  /** The stream of a type on a connection (the latest), if any. */
  streamOf(c: ProgramConn, kind: StreamKind): ProgramStream | undefined {
    return [...c.streams].reverse().find((s) => this.kindOf(s) === kind);
  }

  /** Bytes of an incomplete item the client has written on `s` (0–3). */
  partial(s: ProgramStream): number {
    const k = this.kindOf(s);
    return k === 'event' || k === 'commit' ? s.body % ITEM_SIZE : 0;
  }

  /** True when a StateCommit request on `s` has no answer yet (as predicted now). */
  commitOutstanding(s: ProgramStream): boolean {
    if (this.kindOf(s) !== 'commit') return false;
    const answers = this.predict().filter((p) => p.ev.type === 'data' && p.ev.conn === s.conn.index && p.ev.stream === s.id).reduce((n, p) => n + (p.ev as { hex: string }).hex.length / 8, 0);
    return s.items > answers;
  }

  // ----------------------------------------------------------------- steps

  /** Appends a step at the current time, after the guard; `events` are the client events it causes. */
  private push(step: FixtureStep, events: readonly TraceEvent[] = [], guard = true): void {
    if (guard) this.guard();
    const index = this.steps.length;
    this.steps.push(step);
    for (const ev of events) this.inputs.push({ ev: { ...ev, t: this.now } as TraceEvent, step: index });
    this.cache = undefined;
  }

  /** Keeps client actions out of the band where a timer-driven server action may race with them. */
  private guard(): void {
    const g = (this.profile.toleranceMs + GUARD_MARGIN_MS) * US;
    for (let round = 0; round < 8; round++) {
      const clash = this.predict(this.now + g).filter((p) => p.timer && this.racy(p.ev) && p.ev.t > this.now - g && p.ev.t <= this.now + g);
      if (clash.length === 0) return;
      const until = Math.max(...clash.map((p) => p.ev.t)) + g + US;
      const ms = Math.ceil((until - this.now) / US);
      this.steps.push({ do: 'wait', ms, comment: `guard: ${ms} ms clear of the server's timer-driven ${clash.map((p) => this.serverText(p.ev)).join(', ')}` });
      this.now += ms * US;
      this.cache = undefined;
    }
  }

  /** Server actions a client action may race with: commit answers (and their FIN) and timer closes. */
  private racy(ev: TraceEvent): boolean {
    if ((ev.type === 'data' || ev.type === 'stream_fin') && ev.dir === 's2c') return this.kindAt(ev.conn, ev.stream) === 'commit';
    return ev.type === 'conn_close' && ev.by === 'server' && /^PROTON-(3\.4|7\.1)\b/.test(ev.reason);
  }

  private streamAt(conn: number, stream: number): ProgramStream | undefined {
    return this.conns[conn]?.streams.find((s) => s.id === stream);
  }

  private kindAt(conn: number, stream: number): StreamKind | undefined {
    const s = this.streamAt(conn, stream);
    return s ? this.kindOf(s) : undefined;
  }

  private serverText(ev: TraceEvent): string {
    return describeServerEvent(
      ev,
      (c, s) => this.streamAt(c, s)?.name ?? `stream ${s} of ${this.conns[c]?.name ?? c}`,
      (c) => this.conns[c]?.name ?? String(c),
      (c, s) => this.kindAt(c, s),
    );
  }

  /** Opens a connection (`connect` step). */
  connect(name?: string): ProgramConn {
    const n = this.conns.length;
    const c: ProgramConn = { name: n < 26 ? String.fromCharCode(97 + n) : `conn${n}`, index: n, streams: [], clientClosed: false };
    const live = this.conns.filter((o) => this.isLive(o));
    const comment = name ?? (live.length ? `while ${live.map((o) => o.name).join(', ')} ${live.length > 1 ? 'are' : 'is'} open (second connection: PROTON-2.2)` : undefined);
    this.push({ do: 'connect', conn: c.name, ...(comment !== undefined ? { comment } : {}) }, [
      { type: 'conn_open', t: 0, conn: c.index, remote: 'target', alpn: this.profile.alpn },
    ]);
    this.conns.push(c);
    return c;
  }

  /** Names a new stream on `c` (nothing is sent until its first write). */
  open(c: ProgramConn, name?: string): ProgramStream {
    const k = c.streams.length;
    const s: ProgramStream = { name: c.name.length === 1 ? `${c.name}${k}` : `${c.name}_${k}`, conn: c, id: k * 4, disc: undefined, body: 0, items: 0, lastId: 0, ended: false, dec: new ItemDecoder() };
    c.streams.push(s);
    this.push({ do: 'open', stream: s.name, conn: c.name, comment: name ?? `stream ${s.id} of ${c.name}, nothing sent yet` }, [], false);
    return s;
  }

  /** What `bytes` mean when written on `s` now, e.g. `discriminator 0x01 (event) + event ids 1, 2 + 1 byte of an id`. */
  describeBytes(s: ProgramStream, bytes: Uint8Array): string {
    const parts: string[] = [];
    let disc = s.disc;
    let rest = bytes;
    if (disc === undefined && rest.length > 0) {
      disc = rest[0]!;
      const k = streamKindOf(disc);
      const dup = k !== undefined && k !== 'reset' && s.conn.streams.some((o) => o !== s && this.kindOf(o) === k);
      parts.push(`discriminator 0x${disc.toString(16).padStart(2, '0')} (${k === undefined ? 'unknown: PROTON-3.2' : dup ? `${k} again: PROTON-3.3` : k})`);
      rest = rest.subarray(1);
    }
    if (rest.length === 0) return parts.join(' + ');
    const k = disc === undefined ? undefined : streamKindOf(disc);
    if (k === 'event' || k === 'commit') {
      const lead = s.disc === undefined ? 0 : s.body % ITEM_SIZE;
      const head = lead > 0 ? Math.min(ITEM_SIZE - lead, rest.length) : 0;
      if (head > 0) parts.push(`${head} more byte${head > 1 ? 's' : ''} of an item${lead + head === ITEM_SIZE ? ` (completes it: ${k === 'event' ? 'event id' : 'commit id'})` : ''}`);
      const body = rest.subarray(head);
      const whole = Math.floor(body.length / ITEM_SIZE);
      if (whole > 0) {
        const ids: number[] = [];
        for (let i = 0; i < whole; i++) ids.push(new DataView(body.buffer, body.byteOffset + i * ITEM_SIZE, ITEM_SIZE).getUint32(0, false));
        parts.push(`${k === 'event' ? 'event id' : 'commit id'}${ids.length > 1 ? 's' : ''} ${ids.join(', ')}`);
      }
      const tail = body.length % ITEM_SIZE;
      if (tail > 0) parts.push(`${tail} byte${tail > 1 ? 's' : ''} of an item (partial: PROTON-1.3)`);
    } else if (k === 'action') {
      parts.push(`${rest.length} byte${rest.length > 1 ? 's' : ''} on the Action stream (PROTON-6.1)`);
    } else if (k === 'reset') {
      parts.push(`${rest.length} byte${rest.length > 1 ? 's' : ''} after the reset discriminator (ignored: PROTON-9.2)`);
    } else {
      parts.push(`${rest.length} more byte${rest.length > 1 ? 's' : ''}`);
    }
    return parts.join(' + ');
  }

  /** Writes bytes on `s` (`write` step named `name: what the bytes mean`). */
  write(s: ProgramStream, bytes: Uint8Array, name?: string): void {
    if (bytes.length === 0) return;
    const meaning = this.describeBytes(s, bytes);
    const events: TraceEvent[] = [];
    if (s.disc === undefined && s.body === 0 && !s.ended) events.push({ type: 'stream_open', t: 0, conn: s.conn.index, stream: s.id, by: 'client' });
    events.push({ type: 'data', t: 0, conn: s.conn.index, stream: s.id, dir: 'c2s', hex: toHex(bytes) });
    this.push({ do: 'write', stream: s.name, hex: toHex(bytes), comment: name ? `${name}: ${meaning}` : meaning }, events);
    let rest = bytes;
    if (s.disc === undefined) {
      s.disc = rest[0]!;
      rest = rest.subarray(1);
    }
    const k = this.kindOf(s);
    if (k === 'event' || k === 'commit') {
      const items = s.dec.push(rest);
      s.items += items.length;
      if (k === 'event' && items.length > 0) s.lastId = items[items.length - 1]!;
    }
    s.body += rest.length;
  }

  /** Writes a stream's discriminator and items in one write. */
  send(s: ProgramStream, disc: number | undefined, items: readonly number[], name?: string): void {
    const body = encodeItems(items);
    const bytes = new Uint8Array((disc === undefined ? 0 : 1) + body.length);
    if (disc !== undefined) bytes[0] = disc;
    bytes.set(body, disc === undefined ? 0 : 1);
    this.write(s, bytes, name);
  }

  /** FIN on `s`. */
  fin(s: ProgramStream, name?: string): void {
    const k = this.kindOf(s);
    const what = s.disc === undefined ? 'FIN before any discriminator (PROTON-3.5)' : this.partial(s) > 0 ? `FIN inside an item, ${this.partial(s)} of 4 bytes (${k === 'event' ? 'PROTON-4.6' : 'PROTON-5.5'})` : `FIN on ${s.name} (${k ?? 'unknown'})`;
    const events: TraceEvent[] = [];
    if (s.disc === undefined && s.body === 0 && !s.ended) events.push({ type: 'stream_open', t: 0, conn: s.conn.index, stream: s.id, by: 'client' });
    events.push({ type: 'stream_fin', t: 0, conn: s.conn.index, stream: s.id, dir: 'c2s' });
    this.push({ do: 'fin', stream: s.name, comment: name ? `${name}: ${what}` : what }, events);
    s.ended = true;
  }

  /** RESET_STREAM on `s` with `code`. */
  reset(s: ProgramStream, code: number, name?: string): void {
    const k = this.kindOf(s);
    const what = `RESET_STREAM ${code} on ${s.name} (${s.disc === undefined ? 'before its discriminator: PROTON-3.5' : k === 'reset' ? 'reset stream' : 'identified stream: PROTON-8.3'})`;
    const events: TraceEvent[] = [];
    if (s.disc === undefined && s.body === 0 && !s.ended) events.push({ type: 'stream_open', t: 0, conn: s.conn.index, stream: s.id, by: 'client' });
    events.push({ type: 'stream_reset', t: 0, conn: s.conn.index, stream: s.id, dir: 'c2s', kind: 'reset', code });
    this.push({ do: 'reset', stream: s.name, code, comment: name ? `${name}: ${what}` : what }, events);
    s.ended = true;
  }

  /** STOP_SENDING on `s` with `code`. */
  stopSending(s: ProgramStream, code: number, name?: string): void {
    const k = this.kindOf(s);
    const what = `STOP_SENDING ${code} on ${s.name} (${s.disc === undefined ? 'before its discriminator: PROTON-3.5' : k === 'reset' ? 'reset stream' : 'identified stream: PROTON-8.3'})`;
    const events: TraceEvent[] = [];
    if (s.disc === undefined && s.body === 0 && !s.ended) events.push({ type: 'stream_open', t: 0, conn: s.conn.index, stream: s.id, by: 'client' });
    events.push({ type: 'stream_reset', t: 0, conn: s.conn.index, stream: s.id, dir: 's2c', kind: 'stop_sending', code });
    this.push({ do: 'stopSending', stream: s.name, code, comment: name ? `${name}: ${what}` : what }, events);
  }

  /** Closes `c` by the client (application code `code`, default 0). */
  close(c: ProgramConn, code = 0, name?: string): void {
    this.push({ do: 'close', conn: c.name, ...(code !== 0 ? { code } : {}), comment: name ?? `close ${c.name} (client, code ${code})` }, [
      { type: 'conn_close', t: 0, conn: c.index, by: 'client', isApp: true, code, reason: '' },
    ]);
    c.clientClosed = true;
  }

  /**
   * Waits `ms` (a duration expression over the profile, e.g.
   * `"identTimeoutMs + toleranceMs + 20"`); no guard: a wait is no action.
   */
  wait(ms: Duration, name?: string): void {
    const value = evalDuration(ms, this.profile);
    if (value <= 0) return;
    this.push({ do: 'wait', ms, comment: name ?? `wait ${typeof ms === 'string' ? `${ms} (${value} ms)` : `${value} ms`}` }, [], false);
    this.now += value * US;
  }

  /** Records a rule the program exercises (the program's `rules`). */
  exercises(...rules: string[]): void {
    for (const r of rules) this.rulesSeen.add(r);
  }

  // ------------------------------------------------------------------ build

  /**
   * Appends the drain and returns the program. Its rules: those of the
   * closes the model predicts (the deviations), then `exercises()`, then
   * the rules of the stream types used.
   */
  build(description: string): FuzzProgram {
    const P = this.profile;
    const horizonMs = Math.max(P.identTimeoutMs, P.ioTimeoutMs, P.commitDelayMs, 2 * P.actionIntervalMs) + P.toleranceMs + 1000;
    const end = this.now + horizonMs * US;
    const all = predictServer(P, this.inputs, end);
    const after = all.filter((p) => p.ev.t >= this.now && !(p.ev.type === 'data' && this.kindAt(p.ev.conn, p.ev.stream) === 'action'));
    const lastUs = after.length ? Math.max(...after.map((p) => p.ev.t)) : this.now;
    const restMs = Math.ceil((lastUs - this.now) / US);
    const closedAtEnd = new Set(all.filter((p) => p.ev.type === 'conn_close').map((p) => (p.ev as { conn: number }).conn));
    const pushing = this.conns.some((c) => !c.clientClosed && !closedAtEnd.has(c.index) && c.streams.some((s) => this.kindOf(s) === 'action'));
    if (pushing) {
      this.steps.push({ do: 'wait', ms: `${restMs > 0 ? `${restMs} + ` : ''}2 * actionIntervalMs + toleranceMs`, comment: `drain: the Action stream pushes on; wait for every owed reaction (${restMs} ms predicted) and two action intervals` });
    } else {
      this.steps.push({ expect: 'settled', within: `${restMs > 0 ? `${restMs} + ` : ''}toleranceMs + ${DRAIN_MARGIN_MS}`, comment: `drain: until nothing is owed (the model predicts the last reaction ${restMs} ms after the last step)` });
    }
    // Predictions per step (reactions of the final timeline), for the listing.
    const predictions: string[] = this.steps.map(() => '');
    const add = (i: number, text: string) => (predictions[i] = predictions[i] ? `${predictions[i]}; ${text}` : text);
    const actionRuns = new Map<number, { first: string; last: string; n: number }>();
    for (const p of all) {
      const step = Math.max(0, p.step);
      if (p.ev.type === 'data' && this.kindAt(p.ev.conn, p.ev.stream) === 'action') {
        const item = p.ev.hex.slice(-8);
        const run = actionRuns.get(step);
        if (run) {
          run.last = item;
          run.n++;
        } else actionRuns.set(step, { first: item, last: item, n: 1 });
        continue;
      }
      add(step, `${this.serverText(p.ev)}${p.timer ? ` (timer, at +${Math.round(p.ev.t / US)} ms)` : ''}`);
      if (p.ev.type === 'conn_close') {
        const rule = /^(PROTON-\d+\.\d+)/.exec(p.ev.reason)?.[1];
        if (rule) this.rulesSeen.add(rule);
      }
    }
    for (const [step, r] of actionRuns) add(step, `action item${r.n > 1 ? `s ${parseInt(r.first, 16)}..${parseInt(r.last, 16)}` : ` ${parseInt(r.first, 16)}`} (${r.n})`);
    const kinds = new Set(this.conns.flatMap((c) => c.streams.map((s) => this.kindOf(s))));
    const typeRules: string[] = [];
    if (kinds.has('event')) typeRules.push('PROTON-4.3');
    if (kinds.has('commit')) typeRules.push('PROTON-5.1');
    if (kinds.has('action')) typeRules.push('PROTON-6.2');
    if (kinds.has('reset')) typeRules.push('PROTON-9.1');
    const rules = [...new Set([...this.rulesSeen, ...typeRules])];
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
}
