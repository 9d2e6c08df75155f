/**
 * The Knock model (SPEC.md): the one place its rules live. A pure state
 * machine over trace events as the server sees them, used as the monitor
 * (`mode: 'monitor'`, judging a whole trace) and as the reference server's
 * core (`mode: 'server'`: what a conforming server does and when). Timed
 * obligations are records (harness/engine/obligations.ts); both modes are
 * derived from them. Time is passed in (µs); no clock, no I/O.
 */
import type { TraceEvent } from '../../../../harness/engine/trace.js';
import { fromHex } from '../../../../harness/engine/trace.js';
import type { Monitor, Violation } from '../../../../harness/engine/types.js';
import type { ServerAction, ServerModel } from '../../../../harness/engine/server-core.js';
import {
  arm,
  defineObligations,
  dueBy,
  judge,
  earliest,
  nextDeadlineOf,
  nextDueOf,
  overdueAt,
  type Armed,
  type ObligationTable,
} from '../../../../harness/engine/obligations.js';
import type { KnockProfile } from './profile.js';

/** What arms a Knock obligation. */
export type KnockTrigger = 'conn-open' | 'knock' | 'ping' | 'violation';

/** Close codes (SPEC §3). */
export const CloseCode = { VIOLATION: 0x1, KNOCK_TIMEOUT: 0x2 } as const;

/** Knock's timed obligations, one record per rule. */
export function knockObligations(p: KnockProfile): ObligationTable<KnockTrigger> {
  const tol = p.toleranceMs;
  return defineObligations<KnockTrigger>([
    { rule: 'KNOCK-1.1', triggers: ['knock'], nominalMs: 0, should: { earliestMs: 0, latestMs: p.answerDeadlineMs }, must: { earliestMs: 0, latestMs: p.answerDeadlineMs }, severity: 'must', owed: { kind: 'answer', what: 'WELCOME <name> on a server uni stream, then FIN' }, summary: 'welcome each knock' },
    { rule: 'KNOCK-2.1', triggers: ['ping'], nominalMs: 0, should: { earliestMs: 0, latestMs: p.answerDeadlineMs }, must: { earliestMs: 0, latestMs: Infinity }, severity: 'should', owed: { kind: 'answer', what: 'datagram PONG <n>' }, summary: 'answer each PING datagram' },
    { rule: 'KNOCK-3.1', triggers: ['violation'], nominalMs: 0, should: { earliestMs: 0, latestMs: p.answerDeadlineMs }, must: { earliestMs: 0, latestMs: p.answerDeadlineMs }, severity: 'must', owed: { kind: 'close', code: CloseCode.VIOLATION }, summary: 'close 0x1 on a protocol violation' },
    { rule: 'KNOCK-3.2', triggers: ['conn-open'], nominalMs: p.knockTimeoutMs, should: { earliestMs: p.knockTimeoutMs - tol, latestMs: p.knockTimeoutMs + tol }, must: { earliestMs: p.knockTimeoutMs - tol, latestMs: p.knockTimeoutMs + tol }, severity: 'must', owed: { kind: 'close', code: CloseCode.KNOCK_TIMEOUT }, summary: `close 0x2 when no knock comes within ${p.knockTimeoutMs} ms` },
  ]);
}

/** What an armed obligation is about: the name to welcome, the ping number, why a close is owed. */
interface Subject {
  readonly name?: string;
  readonly ping?: string;
  readonly why?: string;
}
type KnockArmed = Armed<KnockTrigger, Subject>;

const KNOCK_LINE = /^KNOCK ([a-z0-9]{1,32})\n$/;
const PING = /^PING ([0-9]{1,20})$/;

/** Is `line` a valid knock line (KNOCK-1.1)? */
export const isKnockLine = (line: string): boolean => KNOCK_LINE.test(line);
/** Is `text` a PING datagram the server answers (KNOCK-2.1)? */
export const isPing = (text: string): boolean => PING.test(text);
const dec = new TextDecoder('utf-8', { fatal: false });

/** Per-connection state. */
interface Conn {
  armed: KnockArmed[];
  /** Client uni stream carrying the knock, and its text so far. */
  knockStream: number | undefined;
  knockText: string;
  knocked: boolean;
  /** Server uni stream carrying the welcome, its text so far, and the name owed. */
  welcomeStream: number | undefined;
  welcomeText: string;
  closed: boolean;
  /** Server mode: next server uni stream id (RFC 9000 §2.1: 3, 7, 11 …). */
  nextServerUni: number;
}

/** Coverage labels (states and transitions) the model reports. */
export const COVERAGE_LABELS: readonly string[] = [
  'state:awaiting-knock', 'state:welcomed',
  'transition:knock', 'transition:welcome', 'transition:ping', 'transition:pong', 'transition:ignored-datagram',
  'transition:close-owed-KNOCK-3.1', 'transition:close-owed-KNOCK-3.2', 'transition:close-by-client',
];

/**
 * The Knock state machine (monitor and server mode). Methods return
 * violations; they never throw on any trace.
 */
export class KnockModel implements Monitor, ServerModel {
  private readonly conns = new Map<number, Conn>();
  private readonly table: ObligationTable<KnockTrigger>;
  private readonly labels = new Set<string>();
  private now = 0;

  constructor(
    readonly profile: KnockProfile,
    readonly mode: 'monitor' | 'server' = 'monitor',
  ) {
    this.table = knockObligations(profile);
  }

  private label(l: string): void {
    this.labels.add(l);
  }

  private arm(c: Conn, trigger: KnockTrigger, t: number, subject: Subject): void {
    for (const r of this.table.byTrigger(trigger)) c.armed.push(arm(r, trigger, t, subject));
  }

  private violation(rule: string, index: number, t: number, expected: string, seen: string, severity: 'must' | 'should' = 'must', missing = false): Violation {
    return { rule, severity, index, t, expected, seen, state: this.describe(), missing };
  }

  /** The client broke a rule: the server owes a close 0x1 (KNOCK-3.1); nothing else is owed. */
  private clientViolation(c: Conn, t: number, why: string): void {
    if (c.armed.some((a) => a.record.owed.kind === 'close' && a.trigger === 'violation')) return;
    c.armed = [];
    this.arm(c, 'violation', t, { why });
    this.label('transition:close-owed-KNOCK-3.1');
  }

  input(ev: TraceEvent, index: number): Violation[] {
    return this.feed(ev, index);
  }

  feed(ev: TraceEvent, index: number): Violation[] {
    const out = this.advance(ev.t);
    this.now = Math.max(this.now, ev.t);
    if (ev.type === 'note' || ev.type === 'impair' || ev.type === 'conn_fail') return out;
    const c = this.conns.get(ev.conn);
    if (ev.type === 'conn_open') {
      const conn: Conn = { armed: [], knockStream: undefined, knockText: '', knocked: false, welcomeStream: undefined, welcomeText: '', closed: false, nextServerUni: 3 };
      this.conns.set(ev.conn, conn);
      this.arm(conn, 'conn-open', ev.t, {});
      this.label('state:awaiting-knock');
      return out;
    }
    if (c === undefined || c.closed) return out;
    switch (ev.type) {
      case 'stream_open':
        if (ev.by === 'client' && ev.dir !== 'uni') this.clientViolation(c, ev.t, `client opened bidirectional stream ${ev.stream}`);
        else if (ev.by === 'client' && c.knockStream !== undefined && ev.stream !== c.knockStream) this.clientViolation(c, ev.t, `second knock stream ${ev.stream}`);
        else if (ev.by === 'client') c.knockStream = ev.stream;
        else if (ev.by === 'server' && c.welcomeStream === undefined && ev.dir === 'uni') c.welcomeStream = ev.stream;
        else if (ev.by === 'server') out.push(this.violation('KNOCK-1.2', index, ev.t, 'at most one server uni stream (the welcome)', `server opened ${ev.dir ?? 'bidi'} stream ${ev.stream}`));
        return out;
      case 'data':
        if (ev.dir === 'c2s') {
          if (ev.stream !== c.knockStream) return out;
          c.knockText += dec.decode(fromHex(ev.hex));
          if (c.knocked || c.knockText.length > 40 || !'KNOCK '.startsWith(c.knockText.slice(0, 6))) this.clientViolation(c, ev.t, `not a knock line: ${JSON.stringify(c.knockText.slice(0, 40))}`);
          return out;
        }
        // A server uni stream (RFC 9000 §2.1: id % 4 == 3) seen first by its bytes opens the welcome.
        if (c.welcomeStream === undefined && ev.stream % 4 === 3) c.welcomeStream = ev.stream;
        if (ev.stream !== c.welcomeStream) {
          out.push(this.violation('KNOCK-1.2', index, ev.t, 'server bytes only on its welcome stream', `${ev.hex.length / 2} bytes on stream ${ev.stream}`));
          return out;
        }
        c.welcomeText += dec.decode(fromHex(ev.hex));
        return out;
      case 'stream_fin':
        if (ev.dir === 'c2s' && ev.stream === c.knockStream && !c.knocked) {
          const m = KNOCK_LINE.exec(c.knockText);
          if (m === null) this.clientViolation(c, ev.t, `not a knock line: ${JSON.stringify(c.knockText.slice(0, 40))}`);
          else {
            c.knocked = true;
            c.armed = c.armed.filter((a) => a.trigger !== 'conn-open');
            this.arm(c, 'knock', ev.t, { name: m[1] as string });
            this.label('transition:knock');
          }
        } else if (ev.dir === 's2c' && ev.stream === c.welcomeStream) {
          const owed = c.armed.find((a) => a.trigger === 'knock');
          const want = owed?.subject.name !== undefined ? `WELCOME ${owed.subject.name}\n` : undefined;
          if (owed === undefined && c.knocked) {
            // Already reported as missed at its deadline: not reported twice.
          } else if (owed === undefined || c.welcomeText !== want) {
            out.push(this.violation('KNOCK-1.1', index, ev.t, want === undefined ? 'no welcome (no knock)' : JSON.stringify(want), JSON.stringify(c.welcomeText)));
            c.armed = c.armed.filter((a) => a !== owed); // reported once, not again as missed
          } else {
            const j = judge(owed, ev.t);
            if (j) out.push(this.violation(j.rule, index, ev.t, `the welcome within ${this.profile.answerDeadlineMs} ms`, `${j.when}: at ${((ev.t - owed.since) / 1000).toFixed(1)} ms`, j.severity));
            c.armed = c.armed.filter((a) => a !== owed);
            this.label('transition:welcome');
            this.label('state:welcomed');
          }
        }
        return out;
      case 'stream_reset':
        if (ev.dir === 'c2s' && ev.stream === c.knockStream && !c.knocked) this.clientViolation(c, ev.t, 'knock stream reset');
        return out;
      case 'dgram': {
        const text = dec.decode(fromHex(ev.hex));
        if (ev.dir === 'c2s') {
          const m = PING.exec(text);
          if (m !== null && c.knocked) {
            this.arm(c, 'ping', ev.t, { ping: m[1] as string });
            this.label('transition:ping');
          } else this.label('transition:ignored-datagram');
          return out;
        }
        const owed = c.armed.find((a) => a.trigger === 'ping' && text === `PONG ${a.subject.ping ?? ''}`);
        if (owed === undefined) {
          out.push(this.violation('KNOCK-2.2', index, ev.t, 'a datagram only as PONG <n> to an owed PING', JSON.stringify(text.slice(0, 40))));
          return out;
        }
        const j = judge(owed, ev.t);
        if (j) out.push(this.violation(j.rule, index, ev.t, `PONG within ${this.profile.answerDeadlineMs} ms`, `${j.when}`, j.severity));
        c.armed = c.armed.filter((a) => a !== owed);
        this.label('transition:pong');
        return out;
      }
      case 'conn_close': {
        c.closed = true;
        if (ev.by !== 'server') {
          c.armed = [];
          this.label('transition:close-by-client');
          return out;
        }
        const owed = c.armed.find((a) => a.record.owed.kind === 'close' && a.record.owed.code === ev.code);
        if (owed === undefined) {
          const codes = c.armed.filter((a) => a.record.owed.kind === 'close');
          out.push(this.violation(codes[0]?.record.rule ?? 'KNOCK-3.3', index, ev.t, codes.length > 0 ? `close with code 0x${(codes[0]?.record.owed.kind === 'close' ? codes[0].record.owed.code : 0).toString(16)}` : 'no close (the client broke no rule)', `close by server with code 0x${ev.code.toString(16)}`));
        } else {
          const j = judge(owed, ev.t);
          if (j) out.push(this.violation(j.rule, index, ev.t, owed.record.summary, `${j.when} close at ${((ev.t - owed.since) / 1000).toFixed(1)} ms`, j.severity));
          if (owed.trigger === 'conn-open') this.label('transition:close-owed-KNOCK-3.2');
        }
        c.armed = [];
        return out;
      }
      default:
        return out;
    }
  }

  advance(t: number): Violation[] {
    if (this.mode === 'server') return [];
    const out: Violation[] = [];
    for (const c of this.conns.values()) {
      for (const o of overdueAt(c.armed, t)) {
        out.push(this.violation(o.armed.record.rule, -1, o.deadline, o.armed.record.summary, 'nothing in time', o.severity, true));
        c.armed = c.armed.filter((a) => a !== o.armed);
      }
    }
    this.now = Math.max(this.now, t);
    return out;
  }

  nextDeadline(): number | undefined {
    return earliest([...this.conns.values()].map((c) => nextDeadlineOf(c.armed)));
  }

  settled(): boolean {
    for (const c of this.conns.values()) if (!c.closed && c.armed.length > 0) return false;
    return true;
  }

  due(t: number): ServerAction[] {
    const acts: ServerAction[] = [];
    for (const [id, c] of this.conns) {
      if (c.closed) continue;
      for (const a of dueBy(c.armed, t)) {
        const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
        switch (a.trigger) {
          case 'knock': {
            const stream = c.nextServerUni;
            c.nextServerUni += 4;
            acts.push({ type: 'send', conn: id, stream, bytes: enc(`WELCOME ${a.subject.name ?? ''}\n`) }, { type: 'fin', conn: id, stream });
            break;
          }
          case 'ping':
            acts.push({ type: 'dgram', conn: id, bytes: enc(`PONG ${a.subject.ping ?? ''}`) });
            break;
          case 'violation':
          case 'conn-open':
            if (a.record.owed.kind === 'close') acts.push({ type: 'close', conn: id, code: a.record.owed.code, reason: a.subject.why ?? a.record.summary, rule: a.record.rule });
            break;
        }
      }
    }
    return acts;
  }

  nextDue(): number | undefined {
    return earliest([...this.conns.values()].map((c) => (c.closed ? undefined : nextDueOf(c.armed, this.now))));
  }

  coverage(): string[] {
    return [...this.labels];
  }

  describe(): string {
    const parts = [...this.conns].map(([id, c]) => `conn ${id}: ${c.closed ? 'closed' : c.knocked ? 'knocked' : 'awaiting knock'}, owes ${c.armed.map((a) => a.record.rule).join(', ') || 'nothing'}`);
    return parts.join('; ') || 'no connection';
  }
}
