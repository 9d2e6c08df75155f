/**
 * The Proton monitor's horizon look (suites/proton/model.ts `advance`: a
 * connection where nothing can fire or be overdue is skipped without
 * building its armed obligations) agrees with the full look at every event,
 * on random traces: the reference core's conforming exchanges (harness/engine/sim.ts)
 * with server events dropped, delayed, duplicated or corrupted, client bytes
 * split and aborted streams, under random profile readings. Compared: every
 * violation (rule, index, time, texts, state), then nextDeadline, settled,
 * describe and coverage; in server mode, the actions owed and when.
 */
import t from 'tap';
import fc from 'fast-check';
import type { TraceEvent } from '../../harness/engine/trace.js';
import { toHex } from '../../harness/engine/trace.js';
import { simulate } from '../../harness/engine/sim.js';
import { ProtonModel } from '../../suites/proton/model.js';
import { fastProfile, type ProtonProfile } from '../../suites/proton/profile.js';
import { Discriminator, encodeItems, streamBytes } from '../../suites/proton/codec.js';
import { ProtonServerCore } from '../../reference-server/proton/core.js';

const arbProfile: fc.Arbitrary<ProtonProfile> = fc.record({
  identTimeoutScope: fc.constantFrom('connection' as const, 'stream' as const),
  ioTimeoutScope: fc.constantFrom('partial-item' as const, 'idle-request-stream' as const),
  ioTimeoutStreams: fc.constantFrom([] as ('event' | 'commit')[], ['event' as const], ['event' as const, 'commit' as const]),
  resetStream: fc.constantFrom('violation' as const, 'ends-stream' as const),
  stopSending: fc.constantFrom('violation' as const, 'ends-stream' as const),
  reopenStreamType: fc.boolean(),
}).map((r) => ({ ...fastProfile, ...r }));

/** One client step: at `dtMs` after the previous one. */
const arbStep = fc.record({
  dtMs: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, fc.integer({ min: 1, max: 60 }), fc.integer({ min: 100, max: 500 }), fc.integer({ min: 500, max: 1600 })),
  what: fc.oneof(
    { weight: 6, arbitrary: fc.record({ k: fc.constant('items' as const), stream: fc.constantFrom(0, 0, 4), n: fc.integer({ min: 0, max: 3 }), back: fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 0, 0, 1), cut: fc.constantFrom(0, 0, 0, 1, 2, 3, 4, 5) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('ident' as const), stream: fc.constantFrom(0, 4, 8, 12, 16), disc: fc.constantFrom(Discriminator.Event, Discriminator.StateCommit, Discriminator.Action, 0xff, 0x07) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constantFrom('fin' as const, 'reset' as const, 'stop' as const), stream: fc.constantFrom(0, 4, 8, 12) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constantFrom('close' as const, 'open' as const) }) },
  ),
});

/** What happens to one server event of the simulated exchange. */
const arbMangle = fc.array(fc.oneof({ weight: 40, arbitrary: fc.constant('keep' as const) }, fc.constantFrom('drop' as const, 'late' as const, 'slow' as const, 'dup' as const, 'flip' as const, 'early' as const)), { minLength: 64, maxLength: 64 });

/** A trace: the client steps simulated against the reference core, then the server's side mangled. */
function traceOf(profile: ProtonProfile, steps: readonly { dtMs: number; what: { k: string; [x: string]: unknown } }[], mangle: readonly string[]): TraceEvent[] {
  const input: TraceEvent[] = [];
  let t = 0;
  let conn = 0;
  let open = false;
  let next = 0;
  for (const { dtMs, what } of steps) {
    t += dtMs * 1000;
    if (!open || what.k === 'open') {
      if (open) input.push({ type: 'conn_close', t, conn, by: 'client', isApp: true, code: 0, reason: '' });
      conn++;
      input.push({ type: 'conn_open', t, conn, remote: 'x:1' });
      // Most connections identify their three streams at once (as the bench's do); the others are left to the steps.
      if (conn % 4 !== 0) {
        for (const [stream, disc] of [[0, Discriminator.Event], [4, Discriminator.StateCommit], [8, Discriminator.Action]] as const) {
          input.push({ type: 'data', t, conn, stream, dir: 'c2s', hex: toHex(streamBytes(disc)) });
        }
      }
      open = true;
      if (what.k === 'open') continue;
    }
    switch (what.k) {
      case 'items': {
        const ids: number[] = [];
        for (let i = 0; i < (what['n'] as number); i++) ids.push(what['back'] ? Math.max(0, next - 3) : (next += 1 + (i % 2)));
        const bytes = encodeItems(ids);
        const cut = Math.min(what['cut'] as number, bytes.length);
        input.push({ type: 'data', t, conn, stream: what['stream'] as number, dir: 'c2s', hex: toHex(bytes.subarray(0, bytes.length - cut)) });
        break;
      }
      case 'ident':
        input.push({ type: 'data', t, conn, stream: what['stream'] as number, dir: 'c2s', hex: toHex(streamBytes(what['disc'] as number)) });
        break;
      case 'fin':
        input.push({ type: 'stream_fin', t, conn, stream: what['stream'] as number, dir: 'c2s' });
        break;
      case 'reset':
        input.push({ type: 'stream_reset', t, conn, stream: what['stream'] as number, dir: 'c2s', kind: 'reset', code: 1 });
        break;
      case 'stop':
        input.push({ type: 'stream_reset', t, conn, stream: what['stream'] as number, dir: 's2c', kind: 'stop_sending', code: 1 });
        break;
      case 'close':
        input.push({ type: 'conn_close', t, conn, by: 'client', isApp: true, code: 0, reason: '' });
        open = false;
        break;
    }
  }
  let sim: TraceEvent[];
  try {
    sim = simulate(new ProtonServerCore(profile), input, t + 3_000_000);
  } catch {
    sim = input; // (a core that cannot go on: the client's side alone)
  }
  // Mangle the server's events; keep times non-decreasing.
  const out: TraceEvent[] = [];
  let j = 0;
  for (const e of sim) {
    const isServer = ('dir' in e && e.dir === 's2c' && e.type === 'data') || (e.type === 'conn_close' && e.by === 'server') || (e.type === 'stream_fin' && e.dir === 's2c');
    const m = isServer ? mangle[j++ % mangle.length]! : 'keep';
    if (m === 'drop') continue;
    if (m === 'dup') out.push(e, e);
    else if (m === 'late') out.push({ ...e, t: e.t + 700_000 });
    else if (m === 'slow') out.push({ ...e, t: e.t + 150_000 });
    else if (m === 'early') out.push({ ...e, t: Math.max(0, e.t - 150_000) });
    else if (m === 'flip' && e.type === 'data') out.push({ ...e, hex: e.hex.length ? `${e.hex.slice(0, -1)}${e.hex.endsWith('0') ? '1' : '0'}` : '00' });
    else out.push(e);
  }
  out.sort((a, b) => a.t - b.t); // (stable: same-time events keep their order)
  return out;
}

/** Feeds `trace` to a model with the horizon look and one with the full look; throws at the first difference. @returns the violations found. */
function compareLooks(profile: ProtonProfile, trace: readonly TraceEvent[], rules: Map<string, number>): number {
  let violations = 0;
  const fast = new ProtonModel(profile, 'monitor');
  const full = new ProtonModel(profile, 'monitor', { fullLook: true });
  trace.forEach((e, i) => {
    const a = fast.input(e, i);
    const b = full.input(e, i);
    if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`event #${i}: ${JSON.stringify(a)} ≠ ${JSON.stringify(b)}`);
    violations += a.length;
    for (const v of a) rules.set(`${v.rule}${v.missing ? ' (missing)' : ''}`, (rules.get(`${v.rule}${v.missing ? ' (missing)' : ''}`) ?? 0) + 1);
  });
  const end = Math.max(0, ...trace.map((e) => e.t)) + 5_000_000;
  for (const tt of [end - 4_000_000, end]) {
    const a = fast.advance(tt);
    const b = full.advance(tt);
    if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`advance(${tt}): ${JSON.stringify(a)} ≠ ${JSON.stringify(b)}`);
  }
  if (fast.nextDeadline() !== full.nextDeadline() || fast.settled() !== full.settled() || fast.describe() !== full.describe()) throw new Error('state differs');
  if (JSON.stringify(fast.coverage()) !== JSON.stringify(full.coverage())) throw new Error('coverage differs');
  return violations;
}

t.test('the horizon look and the full look give the same violations and state, event by event', async (t) => {
  let violations = 0;
  let events = 0;
  const rules = new Map<string, number>();
  fc.assert(
    fc.property(arbProfile, fc.array(arbStep, { minLength: 1, maxLength: 40 }), arbMangle, (profile, steps, mangle) => {
      const trace = traceOf(profile, steps as never, mangle);
      violations += compareLooks(profile, trace, rules);
      events += trace.length;
    }),
    { numRuns: 300, seed: 13 },
  );
  t.comment(`violations by rule: ${[...rules].sort().map(([r, n]) => `${r} ${n}`).join(", ")}`);
  t.ok(events > 1000, `${events} events compared`);
  t.ok(violations > 100, `${violations} violations compared (the traces break rules)`);
});

t.test('the same with times out of order (a hand-made feed, which the model tolerates): the earliest pending ack is not always the oldest', async (t) => {
  let events = 0;
  let backwards = 0;
  const rules = new Map<string, number>();
  fc.assert(
    fc.property(arbProfile, fc.array(arbStep, { minLength: 1, maxLength: 40 }), arbMangle, fc.array(fc.integer({ min: 0, max: 3_000_000 }), { minLength: 16, maxLength: 16 }), (profile, steps, mangle, back) => {
      const trace = traceOf(profile, steps as never, mangle).map((e, i) => ({ ...e, t: Math.max(0, e.t - back[i % back.length]!) }));
      backwards += trace.filter((e, i) => i > 0 && e.t < trace[i - 1]!.t).length;
      compareLooks(profile, trace, rules);
      events += trace.length;
    }),
    { numRuns: 3000, seed: 14 },
  );
  t.ok(events > 1000 && backwards > 100, `${events} events compared, ${backwards} of them earlier than the event before`);
});

t.test('server mode: the horizon look and the full look owe the same actions at the same times', async (t) => {
  let actions = 0;
  fc.assert(
    fc.property(arbProfile, fc.array(arbStep, { minLength: 1, maxLength: 40 }), arbMangle, (profile, steps, mangle) => {
      const trace = traceOf(profile, steps as never, mangle);
      const fast = new ProtonModel(profile, 'server');
      const full = new ProtonModel(profile, 'server', { fullLook: true });
      trace.forEach((e, i) => {
        fast.input(e, -1);
        full.input(e, -1);
        const a = JSON.stringify([fast.due(e.t), fast.nextDue()]);
        const b = JSON.stringify([full.due(e.t), full.nextDue()]);
        if (a !== b) throw new Error(`after event #${i}: ${a} ≠ ${b}`);
        actions += fast.due(e.t).length;
        full.due(e.t);
      });
    }),
    { numRuns: 200, seed: 13 },
  );
  t.ok(actions > 100, `${actions} actions compared`);
});
