/**
 * Moonpool discovery (suites/moonpool/discover.ts) against the reference
 * core configured with each choice and limit, in process and in virtual
 * time: discovery reports what the server has; the suite run with the
 * discovered profile passes (what `run --discover` does); against every
 * deliberate fault no choice is reported that the conforming server would
 * not show, and the field the fault breaks is left out with a reason.
 */
import t from 'tap';
import type { ServerAction, ServerCore } from '../../harness/engine/server-core.js';
import type { TraceEvent } from '../../harness/engine/trace.js';
import { suite } from '../../suites/moonpool/index.js';
import type { MoonpoolProfile } from '../../suites/moonpool/profile.js';
import { MAX_PAYLOAD_TRIED } from '../../suites/moonpool/discover.js';
import { reference } from '../../reference-server/moonpool/index.js';
import { byVerdict, runSuiteInProcess } from '../_support/in-process.js';
import { inProcessCases } from '../moonpool/_run.js';
import { determined, discoverInProcess } from './_discover.js';

const base: MoonpoolProfile = suite.fastProfile;
const discover = (server: Partial<MoonpoolProfile>, fault?: string) => discoverInProcess({ suite, serverProfile: { ...base, ...server }, base, ...(fault !== undefined ? { fault } : {}) });

const variants: Record<string, { server: Partial<MoonpoolProfile>; expect: Partial<MoonpoolProfile> }> = {
  'the fast defaults': { server: {}, expect: { concurrentConnections: true, otherPayloads: 'ignore', maxPayloadBytes: 65_536 } },
  'otherPayloads reply, a larger limit': { server: { otherPayloads: 'reply', maxPayloadBytes: 1_000_000 }, expect: { otherPayloads: 'reply', maxPayloadBytes: 1_000_000 } },
  'a small limit': { server: { maxPayloadBytes: 1_000 }, expect: { maxPayloadBytes: 1_000 } },
  'an idle timeout': { server: { idleTimeoutMs: 3_000 }, expect: { idleTimeoutMs: 3_000 } },
};

for (const [name, v] of Object.entries(variants)) {
  t.test(`${name}: discovered, and the run with the discovered profile passes`, async (t) => {
    const r = await discover(v.server);
    const found = determined(r);
    for (const [field, value] of Object.entries(v.expect)) t.same(found[field], value, `${field} = ${JSON.stringify(value)} (${r.fields[field]?.summary ?? 'not reported'})`);
    if (v.server.idleTimeoutMs === undefined) {
      const idle = r.fields['idleTimeoutMs']!;
      t.ok(idle.status === 'undetermined' && idle.lowerBoundMs !== undefined, 'no idle timeout: not determined, a lower bound (never guessed as 0)');
    }
    for (const [field, f] of Object.entries(r.fields)) if (f.status === 'determined' && field !== 'toleranceMs') t.ok(f.evidence.length > 0, `${field} has evidence`);
    const run = await runSuiteInProcess({ suite, profile: { ...base, ...r.profile } as MoonpoolProfile, serverProfile: { ...base, ...v.server }, cases: inProcessCases });
    t.same(Object.entries(byVerdict(run)).filter(([k]) => k !== 'pass' && k !== 'non-strict'), [], `every in-process case passes with the discovered profile (${run.cases.length} cases)`);
  });
}

/**
 * A server that serves one connection at a time (`concurrentConnections:
 * false`): the reference core sees a later connection only once the one it
 * serves has ended (its events are held until then).
 */
class OneAtATime implements ServerCore {
  private active: number | undefined;
  private readonly held = new Map<number, TraceEvent[]>();
  constructor(private readonly inner: ServerCore) {}
  get sendTimeoutMs(): number | undefined {
    return this.inner.sendTimeoutMs;
  }
  handle(ev: TraceEvent): void {
    if (!('conn' in ev)) return this.inner.handle(ev);
    if (ev.type === 'conn_open' && this.active === undefined) this.active = ev.conn;
    if (ev.conn !== this.active) {
      if (ev.type === 'conn_close') this.held.delete(ev.conn);
      else this.held.set(ev.conn, [...(this.held.get(ev.conn) ?? []), ev]);
      return;
    }
    this.inner.handle(ev);
    if (ev.type === 'conn_close') this.next();
  }
  private next(): void {
    this.active = undefined;
    const [conn, evs] = [...this.held][0] ?? [];
    if (conn === undefined || !evs) return;
    this.held.delete(conn);
    this.active = conn;
    for (const e of evs) this.inner.handle(e);
  }
  sendStalled(conn: number, stream: number, t: number): void {
    this.inner.sendStalled(conn, stream, t);
  }
  poll(t: number): ServerAction[] {
    const out = this.inner.poll(t);
    if (out.some((a) => (a.type === 'close' || a.type === 'reset') && a.conn === this.active)) this.next();
    return out;
  }
  nextTimer(): number | undefined {
    return this.inner.nextTimer();
  }
}

t.test('a server that serves one connection at a time: concurrentConnections false', async (t) => {
  const r = await discoverInProcess({ suite, serverProfile: base, base, core: new OneAtATime(reference.createCore({ profile: base })) });
  t.equal(determined(r)['concurrentConnections'], false, r.fields['concurrentConnections']?.summary ?? '');
  const conforming = await discover({});
  t.equal(determined(conforming)['concurrentConnections'], true, 'and true for the reference server');
});

t.test('a limit above what discovery tries is a lower bound, never a value', async (t) => {
  const r = await discover({ maxPayloadBytes: MAX_PAYLOAD_TRIED * 2 });
  const f = r.fields['maxPayloadBytes']!;
  t.equal(f.status, 'undetermined', f.summary);
  t.notOk('maxPayloadBytes' in r.profile);
});

t.test('deliberate faults: no fault is reported as a reading', async (t) => {
  const conforming = determined(await discover({}));
  const broken: Record<string, readonly string[]> = {
    'accept-oversized': ['maxPayloadBytes'],
    'close-stalled-connection': ['idleTimeoutMs'],
    'wrong-pong-payload': ['concurrentConnections', 'otherPayloads', 'maxPayloadBytes'],
    'wrong-correlation-id': ['concurrentConnections', 'otherPayloads', 'maxPayloadBytes'],
  };
  for (const fault of Object.keys(reference.faults)) {
    const r = await discover({}, fault);
    const found = determined(r);
    t.same(Object.entries(found).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(conforming[k])), [], `${fault}: every field it determines is what the conforming server shows`);
    for (const field of broken[fault] ?? []) {
      const f = r.fields[field];
      t.ok(f && f.status === 'undetermined' && f.summary.length > 0, `${fault}: ${field} left out, with a reason (${f?.summary.slice(0, 100) ?? 'missing'}…)`);
    }
  }
});
