/**
 * Moonpool profile discovery (harness/discover, `wirecheck discover
 * --protocol moonpool`): short, safe experiments that find a server's
 * open choices and limits from what it does on the wire — whether it
 * serves connections at once (MOONPOOL-6.1, `concurrentConnections`),
 * what it does with a payload that is not PING (4.3, `otherPayloads`),
 * its largest payload (2.4, 5.1, `maxPayloadBytes`) and its idle timeout
 * (7.4, `idleTimeoutMs`). Every experiment sends only what a conforming
 * client may send; what a field's evidence shows is checked again by the
 * model under the discovered profile (harness/discover/profile.ts).
 */
import type { Attempt, DiscoveryExperiment, DiscoverySupport } from '../../harness/discover/types.js';
import { closeIndex, delayTimer, findEvent, msBetween } from '../../harness/discover/evidence.js';
import type { TraceEvent } from '../../harness/engine/trace.js';
import { envelope, pingFrame, slack, Wire, type Ctx } from './cases/_helpers.js';
import { encodeEnvelope, encodeHeader } from './codec.js';
import type { MoonpoolProfile } from './profile.js';

type Experiment = DiscoveryExperiment<MoonpoolProfile>;

/** Largest payload the discovery tries (bytes); a server that accepts it is reported with this as a lower bound. */
export const MAX_PAYLOAD_TRIED = 4 * 1024 * 1024;

/** Indices of the server's data events and ends on connection `conn`. */
const serverEvents = (trace: readonly TraceEvent[], conn: number): number[] =>
  trace.flatMap((e, i) => ((e.type === 'data' && e.dir === 's2c') || e.type === 'conn_close' || (e.type === 'stream_fin' && e.dir === 's2c')) && 'conn' in e && e.conn === conn ? [i] : []);

/** Index of the first client data event on `conn`. */
const firstRequest = (trace: readonly TraceEvent[], conn: number): number => findEvent(trace, (e) => e.type === 'data' && e.dir === 'c2s' && e.conn === conn);

/** A server's end of connection `conn` (close, or its FIN), or -1. */
const serverEnd = (trace: readonly TraceEvent[], conn: number): number =>
  findEvent(trace, (e) => (e.type === 'conn_close' && e.conn === conn && e.by !== 'client') || (e.type === 'stream_fin' && e.dir === 's2c' && e.conn === conn) || (e.type === 'stream_reset' && e.dir === 's2c' && e.conn === conn));

/** Writes `bytes` in pieces; false when the connection ended first (the server closed it). */
async function sendAll(w: Wire, bytes: Uint8Array, piece = 64 * 1024): Promise<boolean> {
  for (let i = 0; i < bytes.length; i += piece) {
    if (w.conn.isClosed || w.stream.readEnded) return false;
    try {
      await w.send(bytes.subarray(i, i + piece));
    } catch {
      return false;
    }
  }
  return true;
}

const concurrent: Experiment = {
  id: 'concurrent-connections',
  description: 'Opens a connection and sends PING #1; opens a second one while the first stays open and sends PING #2 on it',
  fields: ['concurrentConnections'],
  minMs: (p) => slack(p),
  weight: 0.5,
  maxMs: (p) => 4 * slack(p),
  async run(d) {
    const wait = slack(d.profile);
    let first = -1;
    let second = -1;
    let servedAfter = false;
    let servedAtOnce = false;
    const a = await d.attempt('two connections at once', async (ctx) => {
      const w1 = await Wire.open(ctx);
      first = w1.id;
      await w1.send(pingFrame(1));
      if (!(await w1.awaitReplies(1, wait))) return;
      const w2 = await Wire.open(ctx);
      second = w2.id;
      // A server that serves one connection at a time answers only once the first ends: no reply is owed
      // on the second until then (SPEC §10 `impair`: the model suspends its obligations, and owes the reply from the restore).
      ctx.impair('stall', w2.id, 'discovery: the second connection may wait while the first is open (concurrentConnections)');
      await w2.send(pingFrame(2));
      servedAtOnce = await w2.awaitReplies(1, wait);
      if (servedAtOnce) return;
      ctx.note('no reply on the second connection while the first is open: closing the first');
      await w1.close();
      ctx.impair('restore', w2.id, 'discovery: the first connection is closed');
      servedAfter = await w2.awaitReplies(1, wait);
    });
    const cite = (caption: string) => a.cite(caption, [firstRequest(a.trace, second), ...serverEvents(a.trace, second).slice(0, 2), closeIndex(a.trace, first)]);
    if (first < 0 || second < 0) return d.undetermined('concurrentConnections', { summary: first < 0 ? 'the first connection got no reply' : 'the second connection could not be opened', evidence: [a.cite('what happened', [])] });
    if (servedAtOnce) return d.determine('concurrentConnections', true, { summary: 'PING #2 on a second connection was answered while the first connection stayed open', evidence: [cite('the second connection served while the first is open')] });
    if (servedAfter) return d.determine('concurrentConnections', false, { summary: `PING #2 on a second connection got no reply within ${wait} ms while the first stayed open, and was answered once the first closed`, evidence: [cite('the second connection served only after the first closed')] });
    d.undetermined('concurrentConnections', { summary: `the second connection got no reply within ${wait} ms, not even after the first closed`, evidence: [cite('the second connection never served')] });
  },
};

const otherPayloads: Experiment = {
  id: 'other-payloads',
  description: 'Sends a request whose payload is "ping" (not PING) and PING #2 behind it',
  fields: ['otherPayloads'],
  minMs: (p) => slack(p),
  weight: 0.5,
  maxMs: (p) => 3 * slack(p),
  async run(d) {
    const p = d.profile;
    let replyTo1 = false;
    let pong = false;
    const a = await d.attempt('a request that is not a ping', async (ctx) => {
      const w = await Wire.open(ctx);
      await w.send(new Uint8Array([...encodeEnvelope(envelope(1, 'ping')), ...pingFrame(2)]));
      pong = await w.awaitReplies(1, slack(p));
      if (!pong) return;
      // A reply to #1 may come after the PONG (replies in any order, MOONPOOL-3.4): wait one reply deadline more.
      await ctx.until(() => w.replies().some((r) => r.correlationId === 1n), p.replyDeadlineMs + p.toleranceMs);
      replyTo1 = w.replies().some((r) => r.correlationId === 1n);
      pong = w.replies().some((r) => r.correlationId === 2n);
    });
    const ev = a.cite('the requests and what came back', [firstRequest(a.trace, 0), ...serverEvents(a.trace, 0).slice(0, 3)]);
    if (replyTo1) return d.determine('otherPayloads', 'reply', { summary: 'the request with payload "ping" was answered', evidence: [ev] });
    if (pong) return d.determine('otherPayloads', 'ignore', { summary: `PING #2 was answered and the request with payload "ping" was not, within ${p.replyDeadlineMs + p.toleranceMs} ms after`, evidence: [ev] });
    d.undetermined('otherPayloads', { summary: 'PING #2 behind the other request got no reply', evidence: [ev] });
  },
};

/** One try of a payload size: accepted (PING behind it answered), rejected (the server ended the connection first), or neither. */
interface SizeTry {
  readonly outcome: 'accepted' | 'rejected' | 'unknown';
  readonly attempt: Attempt;
}

const maxPayload: Experiment = {
  id: 'max-payload',
  description: `Sends one request with a payload of N zero bytes and PING #2 behind it, for N found by bisection (up to ${MAX_PAYLOAD_TRIED} bytes)`,
  fields: ['maxPayloadBytes'],
  minMs: (p) => 2 * slack(p),
  weight: 1,
  async run(d) {
    const p = d.profile;
    const tryLength = async (n: number): Promise<SizeTry> => {
      let outcome: SizeTry['outcome'] = 'unknown';
      const attempt = await d.attempt(`payload of ${n} bytes`, async (ctx: Ctx) => {
        const w = await Wire.open(ctx);
        const body = new Uint8Array(12 + n + 16);
        body.set(encodeHeader(1n, n), 0);
        body.set(pingFrame(2), 12 + n);
        const sent = await sendAll(w, body);
        const done = () => w.conn.isClosed || w.stream.readEnded || w.replies().some((r) => r.correlationId === 2n);
        if (sent) await ctx.until(done, slack(p));
        if (w.replies().some((r) => r.correlationId === 2n)) outcome = 'accepted';
        else if (w.conn.isClosed || w.stream.readEnded) outcome = 'rejected';
      });
      d.progress(`payload of ${n} bytes: ${outcome}`);
      return { outcome, attempt };
    };
    let lo: SizeTry | undefined;
    let hi: SizeTry | undefined;
    let loN = 4;
    let hiN = Infinity;
    const record = (n: number, t: SizeTry): boolean => {
      if (t.outcome === 'accepted' && n >= loN) [lo, loN] = [t, n];
      else if (t.outcome === 'rejected' && n <= hiN) [hi, hiN] = [t, n];
      return t.outcome !== 'unknown';
    };
    const enough = () => d.remainingMs() > 2 * slack(p);
    // The base profile's value first: a server that kept the default is found in two tries.
    const guess = Math.min(p.maxPayloadBytes, MAX_PAYLOAD_TRIED);
    let unclear: SizeTry | undefined;
    for (const n of [guess, guess + 1]) {
      if (n > MAX_PAYLOAD_TRIED || !enough()) break;
      const t = await tryLength(n);
      if (!record(n, t)) unclear = t;
    }
    while (hiN === Infinity && loN < MAX_PAYLOAD_TRIED && enough() && !unclear) {
      const n = Math.min(MAX_PAYLOAD_TRIED, Math.max(1024, loN * 2));
      const t = await tryLength(n);
      if (!record(n, t)) unclear = t;
    }
    while (hiN - loN > 1 && hiN !== Infinity && enough() && !unclear) {
      const n = Math.floor((loN + hiN) / 2);
      const t = await tryLength(n);
      if (!record(n, t)) unclear = t;
    }
    const cite = (t: SizeTry | undefined, caption: string) => (t ? [t.attempt.cite(caption, [firstRequest(t.attempt.trace, 0), ...serverEvents(t.attempt.trace, 0).slice(0, 2)])] : []);
    const evidence = [...cite(lo, `the largest payload accepted (${loN} bytes): PING #2 behind it answered`), ...cite(hi, `the smallest payload refused (${hiN} bytes): the connection ended`)];
    if (unclear) return d.undetermined('maxPayloadBytes', { summary: `a payload of ${unclear.attempt.label.replace(/^.*payload of /, '')} was neither refused nor followed by an answer to PING #2`, lowerBoundMs: undefined, evidence: [...evidence, unclear.attempt.cite('neither refused nor answered', [])] });
    if (hiN === loN + 1) return d.determine('maxPayloadBytes', loN, { summary: `a payload of ${loN} bytes is accepted, one of ${hiN} bytes ends the connection`, evidence });
    if (hiN === Infinity && loN >= MAX_PAYLOAD_TRIED) return d.undetermined('maxPayloadBytes', { summary: `every payload up to ${MAX_PAYLOAD_TRIED} bytes (the most discovery tries) was accepted: the limit is at least that; set maxPayloadBytes in --profile`, evidence });
    d.undetermined('maxPayloadBytes', { summary: `the budget ran out between ${loN} bytes (accepted) and ${hiN === Infinity ? 'more' : `${hiN} bytes (refused)`}`, evidence });
  },
};

const idleTimeout: Experiment = {
  id: 'idle-timeout',
  description: 'Sends PING #1, reads the PONG, then stays silent until the server ends the connection (up to the budget)',
  fields: ['idleTimeoutMs'],
  minMs: (p) => slack(p) + 1_000,
  weight: 1,
  maxMs: () => 15_000,
  async run(d) {
    const samples: number[] = [];
    const evidence = [];
    let waited = 0;
    for (let round = 0; round < 2; round++) {
      const cap = samples.length ? Math.min(d.remainingMs(), 2 * samples[0]! + slack(d.profile)) : d.remainingMs();
      if (cap < slack(d.profile)) break;
      let conn = -1;
      const a = await d.attempt(`silent connection ${round + 1}`, async (ctx) => {
        const w = await Wire.open(ctx);
        conn = w.id;
        await w.send(pingFrame(1));
        if (!(await w.awaitReplies(1, slack(ctx.profile)))) return;
        await w.awaitEnd(cap);
      }, cap + slack(d.profile));
      const req = conn >= 0 ? findEvent(a.trace, (e) => e.type === 'data' && e.dir === 'c2s' && e.conn === conn) : -1;
      const end = conn >= 0 ? serverEnd(a.trace, conn) : -1;
      const reply = findEvent(a.trace, (e) => e.type === 'data' && e.dir === 's2c' && e.conn === conn);
      if (req < 0 || reply < 0) return d.undetermined('idleTimeoutMs', { summary: 'PING #1 got no reply: nothing to time', evidence: [a.cite('no reply', [])] });
      if (end < 0) {
        waited = Math.max(waited, msBetween(a.trace[req]!.t, a.trace[a.trace.length - 1]!.t));
        if (samples.length === 0) return d.undetermined('idleTimeoutMs', { summary: `the server kept a silent connection open for ${Math.round(waited)} ms: no idle timeout within the budget (a lower bound; leave the field out for "none")`, lowerBoundMs: Math.round(waited), evidence: [a.cite('silent, and still open', [reply])] });
        return d.undetermined('idleTimeoutMs', { summary: `a first silent connection was ended after ${samples[0]} ms, a second was not within ${Math.round(waited)} ms: no steady idle timeout`, evidence: [...evidence, a.cite('silent, and still open', [reply])] });
      }
      samples.push(msBetween(a.trace[req]!.t, a.trace[end]!.t));
      evidence.push(a.cite(`the server ends the connection ${samples[samples.length - 1]} ms after the last byte it received`, [req, reply, end]));
    }
    if (samples.length === 0) return d.undetermined('idleTimeoutMs', { summary: 'the budget left no time to wait for an idle timeout' });
    d.determine('idleTimeoutMs', delayTimer(samples, d.latencyMs), { summary: `the server ended silent connections ${samples.map((s) => `${s} ms`).join(' and ')} after the last byte it received`, samplesMs: samples, evidence });
  },
};

/** Moonpool's discovery (suite `discover`). */
export const moonpoolDiscovery: DiscoverySupport<MoonpoolProfile> = {
  experiments: [concurrent, otherPayloads, maxPayload, idleTimeout],
  toleranceField: 'toleranceMs',
  notMeasured: {
    replyDeadlineMs: 'the deadline the harness allows for a reply (MOONPOOL-4.2), a limit you set, not a server timer to measure',
    stallMs: 'how long the harness stalls a connection (MOONPOOL-7.1): the harness\u2019s choice; it must stay below the idle timeout',
  },
};
