/**
 * Moonpool's adapter to the generic fuzz program builder
 * (harness/fuzz/builder.ts, which keeps the steps, the prediction by the
 * model, waits and the drain): Moonpool's client actions over one TCP byte
 * stream per connection as named steps, what each write means to a server
 * (the codec's {@link FrameDecoder.explain}: envelopes, lying and oversized
 * length fields), and where Moonpool's waits go:
 *  - **replies first**: a conforming server replies to a PING within
 *    `replyDeadlineMs` (MOONPOOL-4.2), not necessarily at once. Before the
 *    client falls silent, the builder waits for every reply owed (`expect
 *    settled`), so that the reply deadline is checked before the silence;
 *  - **silences are stalls**: every wait is a silence of the client on each
 *    live connection, a stall as the server sees it (SPEC §7.1). The builder
 *    declares it to the monitor as SPEC §10 says (a fixture step `{ do:
 *    'impair', kind: 'stall', conn }`, recorded as a trace `impair` event),
 *    and ends it with kind `restore` once the client writes again and
 *    before time passes: a close during the silence is
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
import { fromHex, toHex, type TraceEvent } from '../../../harness/engine/trace.js';
import { evalDuration, type Duration } from '../../../harness/fixtures/format.js';
import { DRAIN_MARGIN_MS, ProgramBuilder, US, type BuilderConn } from '../../../harness/fuzz/builder.js';
import { bytesEqual, describePayload, FrameDecoder, isPing, MAX_LENGTH_FIELD, PONG } from '../codec.js';
import { MoonpoolModel, STREAM } from '../model.js';
import type { MoonpoolProfile } from '../profile.js';

export type { PredictedEvent } from '../../../harness/fuzz/builder.js';

/** Margin (ms) before the earliest idle close the SPEC allows (at most half of it): a connection silent that long is not written to again. */
const IDLE_MARGIN_MS = 10;
/** The drain's wait, and the wait for owed replies before a silence (a fixture duration expression). */
export const SETTLE_WITHIN = `replyDeadlineMs + toleranceMs + ${DRAIN_MARGIN_MS}`;

/** A connection of a program: TCP, one byte stream. */
export interface ProgramConn extends BuilderConn {
  /** Fixture name of its byte stream (`a0`, …; TCP stream 0). */
  readonly stream: string;
  /** The client ended its side (FIN). */
  finSent: boolean;
  /** The client's bytes as the server reads them (MOONPOOL-2.2): the codec's decoder. */
  readonly framer: FrameDecoder;
  /** Correlation ids of the requests completed on it, in order (with whether each was a PING). */
  readonly requests: { readonly id: bigint; readonly ping: boolean }[];
  /** Virtual time of its last client byte, or of its open (µs). */
  lastRxUs: number;
  /** A declared stall is open on it (until the restore). */
  stalled: boolean;
}

/**
 * A Moonpool fuzz program under construction. Every method appends a named
 * step (and the client events it causes, for the prediction); queries read
 * the model's prediction at the current virtual time.
 */
export class MoonpoolProgramBuilder extends ProgramBuilder<MoonpoolProfile, ProgramConn, MoonpoolModel> {
  /** PINGs written since the replies were last awaited (the program's view). */
  private pingsUnawaited = 0;

  protected createModel(): MoonpoolModel {
    return new MoonpoolModel(this.profile, 'server');
  }

  protected get toleranceMs(): number {
    return this.profile.toleranceMs;
  }

  /**
   * True when the client may still write on `c`: neither side ended it (as
   * predicted), the client sent no FIN, and it has not been silent long
   * enough for the server to close it for idleness (MOONPOOL-7.4).
   */
  override isLive(c: ProgramConn): boolean {
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

  /** Requests written (PINGs; others too with `otherPayloads: reply`) since the replies were last awaited. */
  get unawaited(): number {
    return this.pingsUnawaited;
  }

  // ----------------------------------------------------------------- steps

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
    const cname = this.nextConnName();
    const c: ProgramConn = { name: cname, stream: `${cname}0`, index: this.conns.length, clientClosed: false, finSent: false, framer: new FrameDecoder(this.profile.maxPayloadBytes), requests: [], lastRxUs: this.now, stalled: false };
    const live = this.liveConns();
    const comment = name ?? (live.length ? `while ${live.map((o) => o.name).join(', ')} ${live.length > 1 ? 'are' : 'is'} open (concurrent connections: MOONPOOL-6.1)` : undefined);
    this.push({ do: 'connect', conn: c.name, ...(comment !== undefined ? { comment } : {}) }, [{ type: 'conn_open', t: 0, conn: c.index, remote: 'target' }]);
    this.push({ do: 'open', stream: c.stream, conn: c.name, comment: `the byte stream of ${c.name} (TCP: one per connection)` });
    this.conns.push(c);
    return c;
  }

  /** What `bytes` mean when written on `c` now, e.g. `PING #1 + header bytes 1–7 of 12`. */
  describeBytes(c: ProgramConn, bytes: Uint8Array): string {
    return c.framer.clone().explain(bytes).parts.join(' + ');
  }

  /** Writes bytes on `c` (`write` step named `name: what the bytes mean`). Empty bytes write nothing. */
  write(c: ProgramConn, bytes: Uint8Array, name?: string): void {
    if (bytes.length === 0) return;
    const { parts, envelopes } = c.framer.explain(bytes);
    const meaning = parts.join(' + ');
    this.push({ do: 'write', stream: c.stream, hex: toHex(bytes), comment: name ? `${name}: ${meaning}` : meaning }, [{ type: 'data', t: 0, conn: c.index, stream: STREAM, dir: 'c2s', hex: toHex(bytes) }]);
    const completed = envelopes.map((e) => ({ id: e.correlationId, ping: isPing(e.payload) }));
    c.requests.push(...completed);
    c.lastRxUs = this.now;
    this.pingsUnawaited += completed.filter((r) => r.ping || this.profile.otherPayloads === 'reply').length;
    if (completed.some((r) => r.ping)) this.rulesSeen.add('MOONPOOL-4.1');
    if (completed.some((r) => !r.ping)) this.rulesSeen.add('MOONPOOL-4.3');
  }

  /** Bytes of an incomplete envelope the client wrote on `c` (0 between envelopes and after an oversized header), and what it needs. */
  private midFrame(c: ProgramConn): { readonly partial: number; readonly need: number | string } {
    return { partial: c.framer.error ? 0 : c.framer.partial, need: c.framer.need ?? '?' };
  }

  /** FIN on `c`: after whole envelopes "no more requests" (MOONPOOL-6.2), inside one a truncated frame (5.2). */
  fin(c: ProgramConn, name?: string): void {
    const { partial: p, need } = this.midFrame(c);
    const what = c.framer.error
      ? 'FIN after the oversized header'
      : p > 0
        ? `FIN inside an envelope, ${p} of ${need} bytes (truncated frame: ParseError, MOONPOOL-5.2)`
        : 'FIN after whole envelopes (no more requests: the server replies, then closes: MOONPOOL-6.2)';
    this.push({ do: 'fin', stream: c.stream, comment: name ? `${name}: ${what}` : what }, [{ type: 'stream_fin', t: 0, conn: c.index, stream: STREAM, dir: 'c2s' }]);
    c.finSent = true;
    this.rulesSeen.add(p > 0 ? 'MOONPOOL-5.2' : 'MOONPOOL-6.2');
  }

  /** An RST from the client on `c` (TCP reset: the connection ends, MOONPOOL-6.3). */
  reset(c: ProgramConn, name?: string): void {
    const { partial: p, need } = this.midFrame(c);
    const what = `RST (the client drops ${c.name}${p > 0 ? ` mid-frame, ${p} of ${need} bytes` : ''}: MOONPOOL-6.3)`;
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
    const { partial: p, need } = this.midFrame(c);
    const what = `close ${c.name} (client${p > 0 ? `, mid-frame: ${p} of ${need} bytes, MOONPOOL-6.3` : ''})`;
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
    this.appendWait(value, () => name ?? `pause ${value} ms`);
  }

  /** Declares `c` silent from here: a stall as the server sees it (SPEC §10), an `impair` step of kind `stall`. */
  private stall(c: ProgramConn): void {
    this.push({ do: 'impair', kind: 'stall', conn: c.name, comment: `${c.name} falls silent: a stall as the server sees it (SPEC §10: a close now is MOONPOOL-7.1)` });
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
    if (evalDuration(ms, this.profile) <= 0) return;
    this.restoreAll();
    if (this.pingsUnawaited > 0 && this.conns.some((c) => !c.clientClosed)) this.awaitReplies('before the silence: await the replies owed (MOONPOOL-4.2)');
    for (const c of this.liveConns()) this.stall(c);
    this.appendWait(ms, (value) => `${name ?? 'wait'}${typeof ms === 'string' ? ` (${value} ms)` : ''}`);
  }

  /** Ends every open stall (an `impair` step, kind `restore`): replies still owed are due within replyDeadlineMs from here (MOONPOOL-7.2). */
  private restoreAll(): void {
    for (const c of this.conns) {
      if (!c.stalled) continue;
      c.stalled = false;
      if (c.clientClosed) continue;
      this.push({ do: 'impair', kind: 'restore', conn: c.name, comment: `${c.name}'s silence is over: what it owes is due within replyDeadlineMs from here (MOONPOOL-7.2)` });
      this.rulesSeen.add('MOONPOOL-7.2');
    }
  }

  // ------------------------------------------------------------------ build

  /** The drain: every stall ended, then `expect settled` within the reply deadline (the model predicts every reaction at once). */
  protected drain(): number {
    this.restoreAll();
    this.push({ expect: 'settled', within: SETTLE_WITHIN, comment: 'drain: until nothing is owed (the model predicts every reaction at once; each is due within replyDeadlineMs)' });
    return evalDuration(SETTLE_WITHIN, this.profile);
  }

  /** Readable form of a predicted server event: `PONG #5 on a`, `reply #7 "hello" on a`, `close a (MOONPOOL-5.1 ParseError: …)`. */
  protected serverText(ev: TraceEvent): string {
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
