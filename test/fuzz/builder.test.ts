/**
 * The generic fuzz program builder (harness/fuzz/builder.ts) with a toy
 * protocol's adapter, defined here alone: guard bands around a timer-driven
 * server action, rules from the predicted close actions (never from their
 * reason phrase), the listing, the drain.
 */
import t from 'tap';
import type { ServerAction, ServerModel } from '../../harness/engine/server-core.js';
import { toHex, type TraceEvent } from '../../harness/engine/trace.js';
import { formatProgram } from '../../harness/fuzz/program.js';
import { ProgramBuilder, type BuilderConn } from '../../harness/fuzz/builder.js';

interface ToyProfile {
  readonly closeAfterMs: number;
  readonly toleranceMs: number;
  /** Rule the toy server's close names (undefined: none). */
  readonly rule?: string;
}

/** Toy server: `closeAfterMs` after a connection's first byte it closes it, reason "bye". */
class ToyModel implements ServerModel {
  private readonly due_ = new Map<number, number>();
  constructor(private readonly p: ToyProfile) {}
  input(ev: TraceEvent): readonly unknown[] {
    if (ev.type === 'data' && ev.dir === 'c2s' && !this.due_.has(ev.conn)) this.due_.set(ev.conn, ev.t + this.p.closeAfterMs * 1000);
    if (ev.type === 'conn_close') this.due_.set(ev.conn, Infinity);
    return [];
  }
  due(t: number): ServerAction[] {
    const out: ServerAction[] = [];
    for (const [conn, at] of this.due_) if (at <= t) out.push({ type: 'close', conn, code: 7, reason: 'bye', ...(this.p.rule !== undefined ? { rule: this.p.rule } : {}) });
    return out;
  }
  nextDue(): number | undefined {
    const all = [...this.due_.values()].filter((x) => x !== Infinity);
    return all.length ? Math.min(...all) : undefined;
  }
}

class ToyBuilder extends ProgramBuilder<ToyProfile, BuilderConn, ToyModel> {
  protected createModel(): ToyModel {
    return new ToyModel(this.profile);
  }
  protected get toleranceMs(): number {
    return this.profile.toleranceMs;
  }
  protected serverText(ev: TraceEvent): string {
    return ev.type === 'conn_close' ? `close ${this.conns[ev.conn]!.name} "${ev.reason}"` : ev.type;
  }
  protected drain(): number {
    const all = this.predict(this.now + 10_000_000);
    this.push(this.settledDrain(this.msUntilLast(all), 'drain'));
    return 10_000;
  }
  connect(): BuilderConn {
    const c: BuilderConn = { name: this.nextConnName(), index: this.conns.length, clientClosed: false };
    this.push({ do: 'connect', conn: c.name }, [{ type: 'conn_open', t: 0, conn: c.index, remote: 'toy' }]);
    this.push({ do: 'open', stream: `${c.name}0`, conn: c.name, comment: 'the stream' });
    this.conns.push(c);
    return c;
  }
  write(c: BuilderConn, bytes: Uint8Array): void {
    this.push({ do: 'write', stream: `${c.name}0`, hex: toHex(bytes), comment: `${bytes.length} bytes` }, [{ type: 'data', t: 0, conn: c.index, stream: 0, dir: 'c2s', hex: toHex(bytes) }], (p) => p.ev.type === 'conn_close');
  }
  wait(ms: number): void {
    this.appendWait(ms, (v) => `wait ${v} ms`);
  }
}

t.test('guard band, rule from the close action, listing, drain', async (t) => {
  const profile: ToyProfile = { closeAfterMs: 100, toleranceMs: 20, rule: 'TOY-1.1' };
  const b = new ToyBuilder(profile, 'toy');
  const a = b.connect();
  b.write(a, Uint8Array.of(1));
  b.wait(90);
  t.notOk(b.serverClosed(a), 'not closed yet at 90 ms');
  b.write(a, Uint8Array.of(2)); // 10 ms before the timer close: inside the band (20 + 10 ms).
  const p = b.build('Toy.');
  const text = formatProgram(p);
  t.match(text, /guard: \d+ ms clear of the server's timer-driven close a "bye"/, 'the write waits out the band');
  t.match(text, /=> model: close a "bye" \(timer, at \+100 ms\)/);
  t.same(p.rules, ['TOY-1.1'], 'the rule comes from the close action; "bye" names none');
  t.match(p.steps.at(-1), { expect: 'settled', comment: 'drain' });
  t.equal(p.predictions?.length, p.steps.length, 'a prediction slot per step');

  const n = new ToyBuilder({ ...profile, rule: undefined }, 'toy');
  n.write(n.connect(), Uint8Array.of(1));
  t.same(n.build('Toy.').rules, [], 'a close without a rule adds none (no text is parsed)');
});
