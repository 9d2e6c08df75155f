/**
 * Proton profile discovery (harness/discover, `wirecheck discover
 * --protocol proton`): short, safe experiments that measure a server's
 * timers — identification timeout (PROTON-3.4), receive timeout (7.1),
 * commit delay (5.3), action interval (6.3) — and
 * detect its readings of the seed's open points: `identTimeoutScope`,
 * `ioTimeoutStreams`, `ioTimeoutScope`, `resetStream`, `stopSending`
 * (SPEC §3.4, §7.1, §8.3, §8.6). Each experiment only classifies what it
 * saw; a finding whose evidence the model flags under the discovered
 * profile is dropped by the engine (harness/discover/profile.ts), so a
 * fault is never reported as a reading. The QUIC idle timeout is not
 * measurable black-box (`notMeasured`).
 */
import type { Attempt, DiscoveryContext, DiscoveryExperiment, DiscoverySupport, Evidence } from '../../harness/discover/types.js';
import { closeAt, findEvent, peerCloseIndex as closeIndex, median, msBetween, roundTimer, delayTimer } from '../../harness/discover/evidence.js';
import type { TraceEvent } from '../../harness/engine/trace.js';
import { openTyped, received, slack, type Ctx } from './cases/_helpers.js';
import { CloseCode, closeCodeName, Discriminator, ITEM_SIZE } from './codec.js';
import type { ProtonProfile } from './profile.js';

type Experiment = DiscoveryExperiment<ProtonProfile>;
type DCtx = DiscoveryContext<ProtonProfile>;

/** Most items read to measure the action interval. */
const ACTION_ITEMS = 12;

/** Index of the event at which `n` bytes in total had gone `dir` on (conn, stream), or -1. */
function bytesReached(trace: readonly TraceEvent[], conn: number, stream: number, dir: 'c2s' | 's2c', n: number, from = 0): number {
  let sum = 0;
  for (let i = from; i < trace.length; i++) {
    const e = trace[i]!;
    if (e.type === 'data' && e.conn === conn && e.stream === stream && e.dir === dir) {
      sum += e.hex.length >> 1;
      if (sum >= n) return i;
    }
  }
  return -1;
}

/** Index of the last client data event on connection `conn`, or -1. */
function lastClientData(trace: readonly TraceEvent[], conn: number): number {
  for (let i = trace.length - 1; i >= 0; i--) {
    const e = trace[i]!;
    if (e.type === 'data' && e.dir === 'c2s' && e.conn === conn) return i;
  }
  return -1;
}

/** What ended connection `conn` in an attempt, as a phrase. */
function closeText(trace: readonly TraceEvent[], conn: number): string {
  const c = closeAt(trace, closeIndex(trace, conn));
  if (!c) return 'the connection stayed open';
  return c.isApp ? `closed by the ${c.by} with ${closeCodeName(c.code)}` : `closed by the ${c.by} (transport close, code 0x${c.code.toString(16)})`;
}

/** Is the close at `index` a server's application close with `code`? */
function serverClose(trace: readonly TraceEvent[], index: number, code: number): boolean {
  const c = closeAt(trace, index);
  return c !== undefined && c.by === 'server' && c.isApp && c.code === code;
}

/**
 * Index of the first sign of the server's close of `conn` at `close`: over
 * QUIC the server's stack aborts the connection's streams (its STOP_SENDING,
 * its RESET_STREAM) just before its CONNECTION_CLOSE reaches the client;
 * the timer fired at the first of them.
 */
function closeStart(trace: readonly TraceEvent[], conn: number, from: number, close: number): number {
  if (close < 0) return -1;
  const i = findEvent(trace, (e) => e.type === 'stream_reset' && e.conn === conn && ((e.dir === 'c2s' && e.kind === 'stop_sending') || (e.dir === 's2c' && e.kind === 'reset')), from + 1);
  return i >= 0 && i < close ? i : close;
}

/** What one timed attempt saw: the close (index, -1 when none), its first sign (`end`), and the ms from `from` to `end` (or to the end of the attempt). */
interface Timed {
  readonly attempt: Attempt;
  readonly conn: number;
  readonly from: number;
  readonly close: number;
  readonly end: number;
  readonly ms: number;
}

/**
 * Runs `body` (which connects, acts, and returns the trace index of the
 * event the timer starts at), then waits up to `capMs` for the connection
 * to close.
 */
async function timed(d: DCtx, label: string, capMs: number, body: (ctx: Ctx) => Promise<{ conn: number; ok: boolean }>): Promise<Timed> {
  let conn = -1;
  const attempt = await d.attempt(
    label,
    async (ctx) => {
      const r = await body(ctx);
      conn = r.conn;
      if (!r.ok) return;
      const c = ctx.trace.events;
      await ctx.until(() => closeIndex(c, r.conn) >= 0, capMs);
    },
    capMs + slack(d.profile) * 2,
  );
  const trace = attempt.trace;
  const from = conn >= 0 ? lastClientData(trace, conn) : -1;
  const close = conn >= 0 ? closeIndex(trace, conn) : -1;
  const openAt = findEvent(trace, (e) => e.type === 'conn_open' && e.conn === conn);
  const start = from >= 0 ? from : openAt;
  const endAt = closeStart(trace, conn, start, close);
  const end = endAt >= 0 ? trace[endAt]! : trace[trace.length - 1];
  return { attempt, conn, from: start, close, end: endAt, ms: start >= 0 && end ? msBetween(trace[start]!.t, end.t) : 0 };
}

/** Margin past a known timer before "it did not fire" is concluded (ms). */
const margin = (p: ProtonProfile, t: number): number => 2 * p.toleranceMs + Math.max(500, Math.round(t / 2));

const identification: Experiment = {
  id: 'identification',
  description: 'Connects and opens no stream; then connects, leaves stream 0 silent and identifies an Action stream on stream 4',
  fields: ['identTimeoutMs', 'identTimeoutScope'],
  minMs: (p) => slack(p),
  maxMs: () => 25_000,
  async run(d) {
    const p = d.profile;
    const capA = Math.min(Math.floor(d.remainingMs() / 2), 10_000);
    const a = await timed(d, 'a connection with no stream', capA, async (ctx) => ({ conn: (await ctx.connect()).conn, ok: true }));
    const aOpen = findEvent(a.attempt.trace, (e) => e.type === 'conn_open');
    const aClosed3 = serverClose(a.attempt.trace, a.close, CloseCode.IDENT_TIMEOUT);
    const aMs = aOpen >= 0 && a.end >= 0 ? msBetween(a.attempt.trace[aOpen]!.t, a.attempt.trace[a.end]!.t) : 0;
    const capB = aClosed3 ? aMs + margin(p, aMs) : Math.max(0, d.remainingMs() - slack(p));
    let silentStream = -1;
    const b = await timed(d, 'a silent stream below an identified one', capB, async (ctx) => {
      const c = await ctx.connect();
      const silent = c.openStream();
      silentStream = silent.id;
      ctx.note(`stream ${silent.id} opened and left silent; the Action stream opened after it makes it visible (RFC 9000 §3.2)`);
      await openTyped(c, Discriminator.Action);
      return { conn: c.conn, ok: true };
    });
    const bStart = findEvent(b.attempt.trace, (e) => e.type === 'data' && e.dir === 'c2s' && e.conn === b.conn);
    const bClosed3 = serverClose(b.attempt.trace, b.close, CloseCode.IDENT_TIMEOUT);
    const bMs = bStart >= 0 && b.end >= 0 ? msBetween(b.attempt.trace[bStart]!.t, b.attempt.trace[b.end]!.t) : 0;
    const evA = a.attempt.cite(`no stream: ${closeText(a.attempt.trace, a.conn)}${a.close >= 0 ? ` ${aMs} ms after the handshake` : ` for ${a.ms} ms`}`, [aOpen, a.end, a.close]);
    const evB = b.attempt.cite(`stream ${silentStream} silent, an Action stream identified above it: ${closeText(b.attempt.trace, b.conn)}${b.close >= 0 ? ` ${bMs} ms after` : ` for ${b.ms} ms`}`, [bStart, b.end, b.close]);
    const evidence = [evA, evB];
    if (aClosed3 && !bClosed3 && b.close < 0) {
      d.determine('identTimeoutMs', delayTimer([aMs], d.latencyMs), { summary: `a connection with no stream was closed with 0x3 ${aMs} ms after the handshake`, samplesMs: [aMs], evidence });
      return d.determine('identTimeoutScope', 'connection', { summary: `a connection with no stream was closed with 0x3; one with a silent stream beside an identified one was not, in ${b.ms} ms`, evidence });
    }
    if (bClosed3 && !aClosed3 && a.close < 0) {
      d.determine('identTimeoutMs', delayTimer([bMs], d.latencyMs), { summary: `a silent stream made visible by a higher one was closed with 0x3 ${bMs} ms after`, samplesMs: [bMs], evidence });
      return d.determine('identTimeoutScope', 'stream', { summary: `a connection with no stream stayed open ${a.ms} ms; a silent stream beside an identified one was closed with 0x3`, evidence });
    }
    if (aClosed3 && bClosed3) {
      d.undetermined('identTimeoutScope', { summary: 'both a connection with no stream and a silent stream beside an identified one were closed with 0x3: no reading the profile can express (connection scope never times out a connection with an identified stream; stream scope never one without a stream)', evidence });
      return d.undetermined('identTimeoutMs', { summary: 'the identification closes fit no reading', evidence });
    }
    if (a.close < 0 && b.close < 0) {
      const bound = Math.round(Math.min(a.ms, b.ms));
      const why = `no identification close: a connection with no stream stayed open ${a.ms} ms, one with a silent stream below an identified one ${b.ms} ms`;
      d.undetermined('identTimeoutMs', { summary: `${why} (a lower bound, if the server times out identification at all)`, lowerBoundMs: bound, evidence });
      return d.undetermined('identTimeoutScope', { summary: why, evidence });
    }
    const why = `the connections ended otherwise: ${closeText(a.attempt.trace, a.conn)} (no stream); ${closeText(b.attempt.trace, b.conn)} (silent stream)`;
    d.undetermined('identTimeoutMs', { summary: why, evidence });
    d.undetermined('identTimeoutScope', { summary: why, evidence });
  },
};

const receiveTimeout: Experiment = {
  id: 'receive-timeout',
  description: 'Leaves a partial event id, then a partial commit id, then an idle Event stream, each on its own connection, and times the 0x4 closes',
  fields: ['ioTimeoutMs', 'ioTimeoutStreams', 'ioTimeoutScope'],
  minMs: (p) => slack(p),
  weight: 1.5,
  async run(d) {
    const p = d.profile;
    const partialEvent = async (ctx: Ctx) => {
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.Event, [1]);
      if (!(await received(ctx, s, ITEM_SIZE, slack(p)))) return { conn: c.conn, ok: false };
      await s.write(new Uint8Array([0, 0]));
      return { conn: c.conn, ok: true };
    };
    const partialCommit = async (ctx: Ctx) => {
      const c = await ctx.connect();
      await c.openStream().write(new Uint8Array([Discriminator.StateCommit, 0]));
      return { conn: c.conn, ok: true };
    };
    const capFirst = Math.max(slack(p), Math.floor(d.remainingMs() * 0.6));
    const ev = await timed(d, 'a partial event id', capFirst, partialEvent);
    const evClosed = serverClose(ev.attempt.trace, ev.close, CloseCode.IO_TIMEOUT);
    const capCommit = evClosed ? ev.ms + margin(p, ev.ms) : Math.max(0, d.remainingMs() - slack(p));
    const cm = await timed(d, 'a partial commit id', capCommit, partialCommit);
    const cmClosed = serverClose(cm.attempt.trace, cm.close, CloseCode.IO_TIMEOUT);
    const evidence: Evidence[] = [
      ev.attempt.cite(`a partial event id: ${closeText(ev.attempt.trace, ev.conn)}${ev.close >= 0 ? ` ${ev.ms} ms after its bytes` : ` for ${ev.ms} ms`}`, [ev.from, ev.end, ev.close]),
      cm.attempt.cite(`a partial commit id: ${closeText(cm.attempt.trace, cm.conn)}${cm.close >= 0 ? ` ${cm.ms} ms after its byte` : ` for ${cm.ms} ms`}`, [cm.from, cm.end, cm.close]),
    ];
    const samples = [...(evClosed ? [ev.ms] : []), ...(cmClosed ? [cm.ms] : [])];
    if (samples.length === 0) {
      const otherEnd = ev.close >= 0 || cm.close >= 0;
      const bound = Math.round(Math.min(ev.ms, cm.ms));
      const why = otherEnd
        ? `no 0x4 close: ${closeText(ev.attempt.trace, ev.conn)} (partial event id), ${closeText(cm.attempt.trace, cm.conn)} (partial commit id)`
        : `no receive-timeout close within ${Math.round(ev.ms)} ms of a partial event id, nor within ${Math.round(cm.ms)} ms of a partial commit id`;
      d.undetermined('ioTimeoutMs', { summary: otherEnd ? why : `${why} (a lower bound)`, ...(otherEnd ? {} : { lowerBoundMs: bound }), evidence });
      d.undetermined('ioTimeoutStreams', { summary: why, evidence });
      return d.undetermined('ioTimeoutScope', { summary: why, evidence });
    }
    const t = delayTimer(samples, d.latencyMs);
    const streams = [...(evClosed ? ['event'] : []), ...(cmClosed ? ['commit'] : [])];
    // A kind not closed counts as not covered only when its wait outlasted the timer found on the other.
    const unclear = (!evClosed && (ev.close >= 0 || ev.ms < t + margin(p, t) - p.toleranceMs)) || (!cmClosed && (cm.close >= 0 || cm.ms < t + margin(p, t) - p.toleranceMs));
    d.determine('ioTimeoutMs', t, { summary: `closed with 0x4 ${samples.map((s) => `${s} ms`).join(' and ')} after a partial item`, samplesMs: samples, evidence: evidence.filter((_, i) => (i === 0 ? evClosed : cmClosed)) });
    if (unclear) d.undetermined('ioTimeoutStreams', { summary: `only the ${streams.join(' and ')} stream was seen timed out, and the other ended otherwise or was not watched long enough`, evidence });
    else d.determine('ioTimeoutStreams', streams, { summary: `a partial item times out on ${streams.join(' and ')} stream${streams.length > 1 ? 's' : ''}${streams.length < 2 ? `; on the ${evClosed ? 'StateCommit' : 'Event'} stream none came in ${evClosed ? cm.ms : ev.ms} ms` : ''}`, evidence });
    // The measure: is an identified request stream with no partial item timed out too?
    const kind = evClosed ? 'event' : 'commit';
    const cap = t + margin(p, t);
    if (d.remainingMs() < cap + slack(p)) return d.undetermined('ioTimeoutScope', { summary: `the budget left no time to watch an idle ${kind} stream for ${cap} ms` });
    const idle = await timed(d, `an idle ${kind === 'event' ? 'Event' : 'StateCommit'} stream`, cap, async (ctx) => {
      const c = await ctx.connect();
      if (kind === 'event') {
        const s = await openTyped(c, Discriminator.Event, [1]);
        return { conn: c.conn, ok: await received(ctx, s, ITEM_SIZE, slack(p)) };
      }
      await openTyped(c, Discriminator.StateCommit);
      return { conn: c.conn, ok: true };
    });
    const idleEv = idle.attempt.cite(`an idle ${kind} stream: ${closeText(idle.attempt.trace, idle.conn)}${idle.close >= 0 ? ` ${idle.ms} ms after its last byte` : ` for ${idle.ms} ms`}`, [idle.from, idle.end, idle.close]);
    if (serverClose(idle.attempt.trace, idle.close, CloseCode.IO_TIMEOUT)) {
      // Idle since the later of the client's last byte and the server's last answer (PROTON-7.1): one more sample of the timer.
      const tr = idle.attempt.trace;
      const lastData = tr.findLastIndex((e, i) => i < idle.end && e.type === 'data' && e.conn === idle.conn);
      if (lastData >= 0) {
        const ms = msBetween(tr[lastData]!.t, tr[idle.end]!.t);
        const all = [...samples, ms];
        d.determine('ioTimeoutMs', Math.min(t, delayTimer([ms])), { summary: `closed with 0x4 ${samples.map((x) => `${x} ms`).join(' and ')} after a partial item, ${ms} ms after the last byte on an idle stream`, samplesMs: all, evidence: [...evidence.filter((_, i) => (i === 0 ? evClosed : cmClosed)), idleEv] });
      }
      return d.determine('ioTimeoutScope', 'idle-request-stream', { summary: `an identified ${kind} stream with nothing owed and no partial item was closed with 0x4 ${idle.ms} ms after its last byte`, evidence: [idleEv] });
    }
    if (idle.close < 0 && idle.ms >= cap - p.toleranceMs) {
      return d.determine('ioTimeoutScope', 'partial-item', { summary: `an identified ${kind} stream with nothing owed stayed open ${idle.ms} ms, past the ${t} ms receive timeout`, evidence: [idleEv] });
    }
    d.undetermined('ioTimeoutScope', { summary: `the idle ${kind} stream: ${closeText(idle.attempt.trace, idle.conn)} after ${idle.ms} ms`, evidence: [idleEv] });
  },
};

const commitDelay: Experiment = {
  id: 'commit-delay',
  description: 'Sends commit id 21 and FIN, and times the answer (twice when the budget allows)',
  fields: ['commitDelayMs'],
  minMs: (p) => slack(p),
  weight: 1.5,
  async run(d) {
    const p = d.profile;
    const samples: number[] = [];
    const evidence: Evidence[] = [];
    let lastWait = 0;
    for (let round = 0; round < 2; round++) {
      const cap = samples.length ? Math.min(d.remainingMs() - slack(p), 2 * samples[0]! + margin(p, samples[0]!)) : d.remainingMs() - slack(p);
      if (cap < (samples[0] ?? 0) + p.toleranceMs || cap <= 0) break;
      let conn = -1;
      let stream = -1;
      const a = await d.attempt(`commit ${round + 1}`, async (ctx) => {
        const c = await ctx.connect();
        conn = c.conn;
        const s = await openTyped(c, Discriminator.StateCommit, [21]);
        stream = s.id;
        await s.end();
        await ctx.until(() => s.receivedLength >= ITEM_SIZE || c.isClosed, cap);
      }, cap + slack(p));
      const req = bytesReached(a.trace, conn, stream, 'c2s', 5);
      const ans = bytesReached(a.trace, conn, stream, 's2c', ITEM_SIZE);
      if (req < 0) return d.undetermined('commitDelayMs', { summary: 'the commit request could not be sent', evidence: [a.cite('what happened', [])] });
      if (ans < 0) {
        lastWait = msBetween(a.trace[req]!.t, a.trace[a.trace.length - 1]!.t);
        const ev = a.cite(`no answer: ${closeText(a.trace, conn)} after ${lastWait} ms`, [req, closeIndex(a.trace, conn)]);
        if (samples.length > 0) return d.undetermined('commitDelayMs', { summary: `a first commit was answered after ${samples[0]} ms, a second not within ${lastWait} ms`, evidence: [...evidence, ev] });
        const ended = closeIndex(a.trace, conn) >= 0;
        return d.undetermined('commitDelayMs', { summary: ended ? `the commit was not answered: ${closeText(a.trace, conn)} after ${lastWait} ms` : `no answer within ${lastWait} ms (the budget; a lower bound)`, ...(ended ? {} : { lowerBoundMs: Math.round(lastWait) }), evidence: [ev] });
      }
      const ms = msBetween(a.trace[req]!.t, a.trace[ans]!.t);
      samples.push(ms);
      evidence.push(a.cite(`commit 21 answered ${ms} ms after the request`, [req, ans]));
    }
    d.determine('commitDelayMs', delayTimer(samples, d.latencyMs), { summary: `commit answered ${samples.map((s) => `${s} ms`).join(' and ')} after the request`, samplesMs: samples, evidence });
  },
};

const actionInterval: Experiment = {
  id: 'action-interval',
  description: `Identifies an Action stream and times up to ${ACTION_ITEMS} items`,
  fields: ['actionIntervalMs'],
  minMs: (p) => slack(p),
  maxMs: () => 20_000,
  async run(d) {
    const p = d.profile;
    const cap = Math.max(0, d.remainingMs() - slack(p));
    let conn = -1;
    let stream = -1;
    const a = await d.attempt('action items', async (ctx) => {
      const c = await ctx.connect();
      conn = c.conn;
      const s = await openTyped(c, Discriminator.Action);
      stream = s.id;
      await ctx.until(() => s.receivedLength >= ACTION_ITEMS * ITEM_SIZE || c.isClosed, cap);
    }, cap + slack(p));
    const start = bytesReached(a.trace, conn, stream, 'c2s', 1);
    const at: number[] = [];
    for (let n = 1; n <= ACTION_ITEMS; n++) {
      const i = bytesReached(a.trace, conn, stream, 's2c', n * ITEM_SIZE);
      if (i < 0) break;
      at.push(i);
    }
    if (start < 0 || at.length < 3) {
      return d.undetermined('actionIntervalMs', { summary: `${at.length} action item${at.length === 1 ? '' : 's'} in ${start >= 0 ? msBetween(a.trace[start]!.t, a.trace[a.trace.length - 1]!.t) : 0} ms (${closeText(a.trace, conn)}): too few to time`, evidence: [a.cite('the Action stream', [start, ...at])] });
    }
    const times = [a.trace[start]!.t, ...at.map((i) => a.trace[i]!.t)];
    const gaps = times.slice(1).map((t, i) => msBetween(times[i]!, t));
    d.determine('actionIntervalMs', roundTimer(median(gaps)), { summary: `${at.length} items, ${gaps.map((g) => Math.round(g)).join(', ')} ms apart (the first from the discriminator)`, samplesMs: gaps, evidence: [a.cite(`${at.length} action items`, [start, ...at.slice(0, 3)])] });
  },
};

/** Classifies a stream abort: `violation` (close 0x1), `ends-stream` (the stream's end from the server, the connection alive a while after), or nothing. */
function abortReading(trace: readonly TraceEvent[], conn: number, stream: number, from: number): { reading?: 'violation' | 'ends-stream'; indices: number[]; text: string } {
  const close = closeIndex(trace, conn);
  if (serverClose(trace, close, CloseCode.PROTOCOL_VIOLATION)) return { reading: 'violation', indices: [from, close], text: 'closed with 0x1' };
  const end = findEvent(trace, (e) => (e.type === 'stream_fin' || e.type === 'stream_reset') && e.dir === 's2c' && e.conn === conn && e.stream === stream, from);
  if (close < 0 && end >= 0) return { reading: 'ends-stream', indices: [from, end], text: `the server ended its side of stream ${stream} and kept the connection open` };
  return { indices: [from, end, close], text: `${closeText(trace, conn)}${end >= 0 ? `, stream ${stream} ended by the server` : ', stream not ended by the server'}` };
}

const streamAborts: Experiment = {
  id: 'stream-aborts',
  description: 'Resets an Event stream after its first ack; sends STOP_SENDING on an Action stream after its first item; each on its own connection',
  fields: ['resetStream', 'stopSending'],
  minMs: (p) => 2 * slack(p) + 2 * p.actionIntervalMs,
  weight: 0.5,
  maxMs: (p) => 6 * slack(p) + 2 * p.actionIntervalMs,
  async run(d) {
    const p = d.profile;
    const watch = slack(p);
    const aborts = [
      { field: 'resetStream', label: 'RESET_STREAM on the Event stream', disc: Discriminator.Event, items: [1], frame: 'RESET_STREAM' },
      { field: 'stopSending', label: 'STOP_SENDING on the Action stream', disc: Discriminator.Action, items: [], frame: 'STOP_SENDING' },
    ] as const;
    for (const ab of aborts) {
      let conn = -1;
      let stream = -1;
      let abortAt = -1;
      const a = await d.attempt(ab.label, async (ctx) => {
        const c = await ctx.connect();
        conn = c.conn;
        const s = await openTyped(c, ab.disc, ab.items);
        stream = s.id;
        if (!(await received(ctx, s, ITEM_SIZE, p.actionIntervalMs + watch))) return;
        abortAt = ctx.trace.events.length;
        if (ab.field === 'resetStream') s.reset(0);
        else s.stopSending(0);
        await ctx.until(() => c.isClosed, watch);
      }, 2 * watch + p.actionIntervalMs);
      if (abortAt < 0) {
        d.undetermined(ab.field, { summary: `no ${ab.disc === Discriminator.Event ? 'ack' : 'action item'} before the ${ab.frame}: nothing was tried`, evidence: [a.cite('what happened', [])] });
        continue;
      }
      const r = abortReading(a.trace, conn, stream, abortAt);
      const ev = a.cite(`${ab.frame} on stream ${stream}: ${r.text}`, r.indices);
      if (r.reading) d.determine(ab.field, r.reading, { summary: `after a client ${ab.frame} the server ${r.reading === 'violation' ? 'closed the connection with 0x1' : 'ended that stream and kept the connection'}`, evidence: [ev] });
      else d.undetermined(ab.field, { summary: `after a client ${ab.frame}: ${r.text} within ${watch} ms (neither reading)`, evidence: [ev] });
    }
  },
};

/** Proton's discovery (suite `discover`). */
export const protonDiscovery: DiscoverySupport<ProtonProfile> = {
  experiments: [identification, actionInterval, receiveTimeout, streamAborts, commitDelay],
  toleranceField: 'toleranceMs',
  notMeasured: {
    idleTimeoutMs:
      'the QUIC max_idle_timeout is a transport parameter the driver does not expose, and a silent connection cannot show it: the server\u2019s own keep-alive hides it, and the harness keeps connections alive (heartbeatMs) in a run anyway (PROTON-2.4)',
    heartbeatMs: 'the client\u2019s keep-alive interval: the harness\u2019s choice, not the server\u2019s (PROTON-2.4)',
    startupDelayMs: 'a client-side wait (PROTON-2.5): nothing to see on a server',
  },
};
