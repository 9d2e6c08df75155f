/**
 * Knock's fuzz generators (test-only): programs of knocks (valid and not),
 * datagrams and silences, built with the engine's generic program builder
 * (harness/fuzz/builder.ts) and predicted by Knock's own model.
 */
import fc from 'fast-check';
import { toHex, type TraceEvent } from '../../../../harness/engine/trace.js';
import { ProgramBuilder, type BuilderConn } from '../../../../harness/fuzz/builder.js';
import type { FuzzProgram } from '../../../../harness/fuzz/types.js';
import { KnockModel, isKnockLine, isPing } from './model.js';
import type { KnockProfile } from './profile.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Knock's adapter of the generic builder: connect, knock on a uni stream, datagrams, waits. */
class KnockBuilder extends ProgramBuilder<KnockProfile, BuilderConn, KnockModel> {
  private uni = 0;

  protected createModel(): KnockModel {
    return new KnockModel(this.profile, 'server');
  }
  protected get toleranceMs(): number {
    return this.profile.toleranceMs;
  }
  protected serverText(ev: TraceEvent): string {
    const name = (conn: number): string => this.conns[conn]?.name ?? `#${conn}`;
    if (ev.type === 'data') return `${name(ev.conn)}: ${JSON.stringify(Buffer.from(ev.hex, 'hex').toString())} on stream ${ev.stream}`;
    if (ev.type === 'dgram') return `${name(ev.conn)}: datagram ${JSON.stringify(Buffer.from(ev.hex, 'hex').toString())}`;
    if (ev.type === 'conn_close') return `close ${name(ev.conn)} 0x${ev.code.toString(16)}`;
    return `${name('conn' in ev ? ev.conn : -1)}: ${ev.type}`;
  }
  protected drain(): number {
    const horizon = this.profile.knockTimeoutMs + this.profile.answerDeadlineMs + this.profile.toleranceMs;
    this.push(this.settledDrain(this.msUntilLast(this.predict(this.now + horizon * 1000)), 'let every owed reaction come'));
    return horizon;
  }

  connect(): BuilderConn {
    const c: BuilderConn = { name: this.nextConnName(), index: this.conns.length, clientClosed: false };
    this.push({ do: 'connect', conn: c.name, datagrams: true, comment: `connect ${c.name}` }, [{ type: 'conn_open', t: 0, conn: c.index, remote: 'target' }]);
    this.conns.push(c);
    return c;
  }

  /** A client uni stream carrying `line`, then FIN (client uni ids 2, 6, …: RFC 9000 §2.1). */
  knock(c: BuilderConn, line: string): void {
    const stream = 2 + 4 * this.uni;
    const name = `${c.name}k${this.uni++}`;
    const hex = toHex(enc(line));
    const valid = isKnockLine(line);
    this.exercises(valid ? 'KNOCK-1.1' : 'KNOCK-3.1');
    const racy = (): boolean => true;
    this.push({ do: 'open', stream: name, conn: c.name, kind: 'uni', comment: `uni stream ${name}` }, [{ type: 'stream_open', t: 0, conn: c.index, stream, by: 'client', dir: 'uni' }], racy);
    this.push({ do: 'write', stream: name, hex, comment: `knock ${JSON.stringify(line)}${valid ? '' : ' (not a knock line: KNOCK-3.1)'}` }, [{ type: 'data', t: 0, conn: c.index, stream, dir: 'c2s', hex }], racy);
    this.push({ do: 'fin', stream: name, comment: `end ${name}` }, [{ type: 'stream_fin', t: 0, conn: c.index, stream, dir: 'c2s' }], racy);
  }

  datagram(c: BuilderConn, text: string): void {
    const hex = toHex(enc(text));
    this.exercises(isPing(text) ? 'KNOCK-2.1' : 'KNOCK-2.2');
    this.push({ do: 'dgram', conn: c.name, hex, comment: `datagram ${JSON.stringify(text)}` }, [{ type: 'dgram', t: 0, conn: c.index, dir: 'c2s', hex }], () => true);
  }

  wait(ms: number): void {
    this.appendWait(ms, (v) => `wait ${v} ms`);
  }
}

const name = fc.stringMatching(/^[a-z0-9]{1,8}$/);
const line = fc.oneof(
  { weight: 3, arbitrary: name.map((n) => `KNOCK ${n}\n`) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: name.map((n) => `KNOCK ${n.toUpperCase()}!\n`) },
);
const datagram = fc.oneof(fc.nat({ max: 999 }).map((n) => `PING ${n}`), fc.string({ maxLength: 12 }));

/**
 * The generators, by name: `knocks` (knock lines, some invalid, then
 * datagrams) and `silence` (a connection that waits, maybe past the knock
 * timeout, before knocking).
 */
export function knockArbitraries(p: KnockProfile): Readonly<Record<string, fc.Arbitrary<FuzzProgram>>> {
  return {
    knocks: fc.record({ line, dgrams: fc.array(datagram, { maxLength: 3 }) }).map(({ line: l, dgrams }) => {
      const b = new KnockBuilder(p, 'knocks');
      const c = b.connect();
      b.knock(c, l);
      for (const d of dgrams) b.datagram(c, d);
      return b.build(`Knocks with ${JSON.stringify(l)}, then ${dgrams.length} datagram(s).`);
    }),
    silence: fc.integer({ min: 0, max: p.knockTimeoutMs + 2 * p.toleranceMs }).map((ms) => {
      const b = new KnockBuilder(p, 'silence');
      const c = b.connect();
      b.wait(ms);
      if (!b.serverClosed(c)) b.knock(c, 'KNOCK late\n');
      return b.build(`Waits ${ms} ms, then knocks unless closed.`);
    }),
  };
}
