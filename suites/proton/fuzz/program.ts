/**
 * Proton's adapter to the generic fuzz program builder
 * (harness/fuzz/builder.ts, which keeps the steps, the prediction by the
 * model, the guard bands, waits and the drain): Proton's client actions
 * (connections, streams named by their discriminator, items, FIN,
 * RESET_STREAM, STOP_SENDING) as named steps, what they mean to a server
 * (the codec's {@link explainClientWrite}, with the model's
 * {@link ProtonModel.discriminatorRule} for a discriminator, so PROTON-3.3
 * honours profile `reopenStreamType`), and Proton's drain:
 *  - **guard**: the racy server actions are commit answers (and their FIN)
 *    and the timer closes of PROTON-3.4 and 7.1 (by the close's rule id);
 *  - **drain**: `settled` within the predicted time plus tolerance, or,
 *    while an Action stream pushes (never settled), a wait of two intervals.
 */
import { toHex, type TraceEvent } from '../../../harness/engine/trace.js';
import type { Duration } from '../../../harness/fixtures/format.js';
import { DRAIN_MARGIN_MS, ProgramBuilder, US, type BuilderConn, type PredictedEvent } from '../../../harness/fuzz/builder.js';
import { closeCodeName, encodeItems, explainClientEnd, explainClientWrite, explainServerData, ITEM_SIZE, ItemDecoder, streamKindOf, type StreamKind } from '../codec.js';
import { ProtonModel } from '../model.js';
import type { ProtonProfile } from '../profile.js';

export type { PredictedEvent } from '../../../harness/fuzz/builder.js';

/** A connection of a program. */
export interface ProgramConn extends BuilderConn {
  /** Streams opened on it, in order. */
  readonly streams: ProgramStream[];
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

/** The timer closes a client action may race with: identification (PROTON-3.4) and receive timeouts (7.1). */
const TIMER_CLOSE_RULES: ReadonlySet<string> = new Set(['PROTON-3.4', 'PROTON-7.1']);

/** Rules of the stream types a program used, listed after its other rules. */
const TYPE_RULES: Readonly<Record<StreamKind, string>> = { event: 'PROTON-4.3', commit: 'PROTON-5.1', action: 'PROTON-6.2', reset: 'PROTON-9.1' };

/**
 * A Proton fuzz program under construction. Every method appends a named
 * step (and the client events it causes, for the prediction); queries read
 * the model's prediction at the current virtual time.
 */
export class ProtonProgramBuilder extends ProgramBuilder<ProtonProfile, ProgramConn, ProtonModel> {
  protected createModel(): ProtonModel {
    return new ProtonModel(this.profile, 'server');
  }

  protected get toleranceMs(): number {
    return this.profile.toleranceMs;
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
    const answers = this.predict().reduce((n, p) => n + (p.ev.type === 'data' && p.ev.conn === s.conn.index && p.ev.stream === s.id ? p.ev.hex.length / 8 : 0), 0);
    return s.items > answers;
  }

  // ----------------------------------------------------------------- steps

  /** Server actions a client action may race with: commit answers (and their FIN) and timer closes (by rule id). */
  private readonly racy = (p: PredictedEvent): boolean => {
    const ev = p.ev;
    if ((ev.type === 'data' || ev.type === 'stream_fin') && ev.dir === 's2c') return this.kindAt(ev.conn, ev.stream) === 'commit';
    return ev.type === 'conn_close' && ev.by === 'server' && p.rule !== undefined && TIMER_CLOSE_RULES.has(p.rule);
  };

  private streamAt(conn: number, stream: number): ProgramStream | undefined {
    return this.conns[conn]?.streams.find((s) => s.id === stream);
  }

  private kindAt(conn: number, stream: number): StreamKind | undefined {
    const s = this.streamAt(conn, stream);
    return s ? this.kindOf(s) : undefined;
  }

  /** Readable form of a predicted server event, e.g. `ack 00000003 on a0`, `close a 0x1 PROTOCOL_VIOLATION "PROTON-3.2 …"`. */
  protected serverText(ev: TraceEvent): string {
    const streamName = (c: number, s: number) => this.streamAt(c, s)?.name ?? `stream ${s} of ${this.conns[c]?.name ?? c}`;
    switch (ev.type) {
      case 'data':
        return `${explainServerData(this.kindAt(ev.conn, ev.stream), ev.hex)} on ${streamName(ev.conn, ev.stream)}`;
      case 'stream_fin':
        return `FIN on ${streamName(ev.conn, ev.stream)}`;
      case 'stream_reset':
        return `${ev.kind} on ${streamName(ev.conn, ev.stream)}`;
      case 'conn_close':
        return `close ${this.conns[ev.conn]?.name ?? String(ev.conn)} ${closeCodeName(ev.code)} "${ev.reason}"`;
      default:
        return ev.type;
    }
  }

  /** Opens a connection (`connect` step). */
  connect(name?: string): ProgramConn {
    const c: ProgramConn = { name: this.nextConnName(), index: this.conns.length, streams: [], clientClosed: false };
    const live = this.conns.filter((o) => this.isLive(o));
    const comment = name ?? (live.length ? `while ${live.map((o) => o.name).join(', ')} ${live.length > 1 ? 'are' : 'is'} open (second connection: PROTON-2.2)` : undefined);
    this.push({ do: 'connect', conn: c.name, ...(comment !== undefined ? { comment } : {}) }, [{ type: 'conn_open', t: 0, conn: c.index, remote: 'target', alpn: this.profile.alpn }], this.racy);
    this.conns.push(c);
    return c;
  }

  /** Names a new stream on `c` (nothing is sent until its first write). */
  open(c: ProgramConn, name?: string): ProgramStream {
    const k = c.streams.length;
    const s: ProgramStream = { name: c.name.length === 1 ? `${c.name}${k}` : `${c.name}_${k}`, conn: c, id: k * 4, disc: undefined, body: 0, items: 0, lastId: 0, ended: false, dec: new ItemDecoder() };
    c.streams.push(s);
    this.push({ do: 'open', stream: s.name, conn: c.name, comment: name ?? `stream ${s.id} of ${c.name}, nothing sent yet` });
    return s;
  }

  /** What `bytes` mean when written on `s` now, e.g. `discriminator 0x01 (event) + event ids 1, 2 + 1 byte of an item (partial: PROTON-1.3)`. */
  describeBytes(s: ProgramStream, bytes: Uint8Array): string {
    const rule = s.disc === undefined && bytes.length > 0 ? this.modelNow().discriminatorRule(s.conn.index, bytes[0]!) : undefined;
    return explainClientWrite({ discriminator: s.disc, body: s.body }, bytes, rule).parts.join(' + ');
  }

  /** The stream's `stream_open` event, when this is the client's first frame on it. */
  private opening(s: ProgramStream): TraceEvent[] {
    return s.disc === undefined && s.body === 0 && !s.ended ? [{ type: 'stream_open', t: 0, conn: s.conn.index, stream: s.id, by: 'client' }] : [];
  }

  /** Writes bytes on `s` (`write` step named `name: what the bytes mean`). */
  write(s: ProgramStream, bytes: Uint8Array, name?: string): void {
    if (bytes.length === 0) return;
    const meaning = this.describeBytes(s, bytes);
    const events: TraceEvent[] = [...this.opening(s), { type: 'data', t: 0, conn: s.conn.index, stream: s.id, dir: 'c2s', hex: toHex(bytes) }];
    this.push({ do: 'write', stream: s.name, hex: toHex(bytes), comment: name ? `${name}: ${meaning}` : meaning }, events, this.racy);
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
    const what = explainClientEnd({ discriminator: s.disc, body: s.body }, { type: 'fin' }, s.name);
    this.push({ do: 'fin', stream: s.name, comment: name ? `${name}: ${what}` : what }, [...this.opening(s), { type: 'stream_fin', t: 0, conn: s.conn.index, stream: s.id, dir: 'c2s' }], this.racy);
    s.ended = true;
  }

  /** RESET_STREAM on `s` with `code`. */
  reset(s: ProgramStream, code: number, name?: string): void {
    const what = explainClientEnd({ discriminator: s.disc, body: s.body }, { type: 'reset', code }, s.name);
    this.push({ do: 'reset', stream: s.name, code, comment: name ? `${name}: ${what}` : what }, [...this.opening(s), { type: 'stream_reset', t: 0, conn: s.conn.index, stream: s.id, dir: 'c2s', kind: 'reset', code }], this.racy);
    s.ended = true;
  }

  /** STOP_SENDING on `s` with `code`. */
  stopSending(s: ProgramStream, code: number, name?: string): void {
    const what = explainClientEnd({ discriminator: s.disc, body: s.body }, { type: 'stop_sending', code }, s.name);
    this.push({ do: 'stopSending', stream: s.name, code, comment: name ? `${name}: ${what}` : what }, [...this.opening(s), { type: 'stream_reset', t: 0, conn: s.conn.index, stream: s.id, dir: 's2c', kind: 'stop_sending', code }], this.racy);
    // stopSending ends-stream (PROTON-8.6): the server ends the stream, the reference one with RESET_STREAM and STOP_SENDING; the client writes no more on it.
    if (this.profile.stopSending === 'ends-stream' && s.disc !== undefined) s.ended = true;
  }

  /** Closes `c` by the client (application code `code`, default 0). */
  close(c: ProgramConn, code = 0, name?: string): void {
    this.push({ do: 'close', conn: c.name, ...(code !== 0 ? { code } : {}), comment: name ?? `close ${c.name} (client, code ${code})` }, [{ type: 'conn_close', t: 0, conn: c.index, by: 'client', isApp: true, code, reason: '' }], this.racy);
    c.clientClosed = true;
  }

  /**
   * Waits `ms` (a duration expression over the profile, e.g.
   * `"identTimeoutMs + toleranceMs + 20"`); no guard: a wait is no action.
   */
  wait(ms: Duration, name?: string): void {
    this.appendWait(ms, (value) => name ?? `wait ${typeof ms === 'string' ? `${ms} (${value} ms)` : `${value} ms`}`);
  }

  // ------------------------------------------------------------------ build

  /** True for an item the Action stream pushes (listed as runs, never awaited by the drain). */
  private isAction(p: PredictedEvent): boolean {
    return p.ev.type === 'data' && this.kindAt(p.ev.conn, p.ev.stream) === 'action';
  }

  /** The drain: `settled` within the last predicted reaction plus tolerance, or two action intervals while an Action stream pushes. */
  protected drain(): number {
    const P = this.profile;
    const horizonMs = Math.max(P.identTimeoutMs, P.ioTimeoutMs, P.commitDelayMs, 2 * P.actionIntervalMs) + P.toleranceMs + 1000;
    const all = this.predict(this.now + horizonMs * US);
    const restMs = this.msUntilLast(all.filter((p) => p.ev.t >= this.now && !this.isAction(p)));
    const closedAtEnd = new Set(all.flatMap((p) => (p.ev.type === 'conn_close' ? [p.ev.conn] : [])));
    const pushing = this.conns.some((c) => !c.clientClosed && !closedAtEnd.has(c.index) && c.streams.some((s) => this.kindOf(s) === 'action'));
    if (pushing) {
      this.push({ do: 'wait', ms: `${restMs > 0 ? `${restMs} + ` : ''}2 * actionIntervalMs + toleranceMs`, comment: `drain: the Action stream pushes on; wait for every owed reaction (${restMs} ms predicted) and two action intervals` });
    } else {
      this.push({ expect: 'settled', within: `${restMs > 0 ? `${restMs} + ` : ''}toleranceMs + ${DRAIN_MARGIN_MS}`, comment: `drain: until nothing is owed (the model predicts the last reaction ${restMs} ms after the last step)` });
    }
    return horizonMs;
  }

  /** Predictions per step; Action items are listed as one run per step. */
  protected override predictionTexts(all: readonly PredictedEvent[]): { readonly step: number; readonly text: string }[] {
    const runs = new Map<number, { first: string; last: string; n: number }>();
    const out = super.predictionTexts(all.filter((p) => !this.isAction(p)));
    for (const p of all) {
      if (!this.isAction(p) || p.ev.type !== 'data') continue;
      const step = Math.max(0, p.step);
      const item = p.ev.hex.slice(-8);
      const run = runs.get(step);
      if (run) {
        run.last = item;
        run.n++;
      } else runs.set(step, { first: item, last: item, n: 1 });
    }
    for (const [step, r] of runs) out.push({ step, text: `action item${r.n > 1 ? `s ${parseInt(r.first, 16)}..${parseInt(r.last, 16)}` : ` ${parseInt(r.first, 16)}`} (${r.n})` });
    return out;
  }

  /** The rules of the stream types used. */
  protected override extraRules(): readonly string[] {
    const kinds = new Set(this.conns.flatMap((c) => c.streams.map((s) => this.kindOf(s))));
    return (Object.keys(TYPE_RULES) as StreamKind[]).filter((k) => kinds.has(k)).map((k) => TYPE_RULES[k]);
  }
}
