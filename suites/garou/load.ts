/**
 * Garou load generation for `wirecheck load --protocol garou` (the
 * emqtt-bench pattern with a conformance oracle on every message): N
 * authenticated clients on real connections (the client library,
 * suites/garou/client.ts over client-state.ts), R group rooms (client j < R creates room
 * j, every other client joins room i mod R), then SendMessage at a fixed
 * total rate spread round-robin over the clients, each body carrying its
 * send timestamp (ms since the Unix epoch).
 *
 * Every room frame each client receives goes through the client's
 * {@link RoomFeed} (right stream GAROU-3.6, RoomInit first GAROU-7.4, per
 * stream `seq` order GAROU-7.3, no duplicate GAROU-8.5); after the send
 * phase a drain waits for every acknowledged message to reach every member
 * (GAROU-7.2), and each `seq` still missing is a violation. Promotions and
 * demotions (GAROU-8.2, 8.3) are counted from RoomPromoted / RoomDemoted.
 */
import type { ConnectOptions } from '../../harness/drivers/types.js';
import { TraceRecorder } from '../../harness/engine/trace.js';
import { latencySummary, type LoadOptions, type LoadProgress, type LoadSummary, type LoadSupport, type LoadViolation } from '../../harness/engine/load.js';
import { errorMessage } from '../../harness/engine/util.js';
import { GarouConnection, epochMs, describeClose } from './client.js';
import type { ClientEvent } from './client-state.js';
import type { GarouProfile } from './profile.js';

/** The body prefix of load messages: `wcload <client> <send ms since the epoch>`. */
export const LOAD_BODY_PREFIX = 'wcload ';

/** Connections opened at once while connecting. */
const CONNECT_CONCURRENCY = 16;
/** Full violations kept in the summary. */
const MAX_VIOLATIONS_KEPT = 50;
/** Errors kept in the summary. */
const MAX_ERRORS_KEPT = 20;
/** Shortest pause between send ticks (ms): at high rates a tick sends a batch. */
const TICK_MS = 5;
/** Longest pause between send ticks (ms): at low rates the sender sleeps until the next message is due, up to this. */
const MAX_TICK_MS = 250;
/**
 * Keep-alive interval of the load's connections (ms), when no idle timeout
 * is set: a third of the reference server's 30 s idle timeout (RFC 9000
 * §10.1), so that connections opened first survive the connect and setup
 * phases. Each PING costs a packet each way, so not shorter.
 */
const KEEP_ALIVE_MS = 10_000;
/** Events the load's shared trace keeps (the last ones): it is only the route from the driver to the clients. */
const TRACE_RETAIN_EVENTS = 2_000;
/** Unanswered commands per client beyond which the client skips its turn (back-pressure). */
const MAX_OUTSTANDING = 256;

/** Parses a load body; undefined when it is not one. */
export function parseLoadBody(body: string): { readonly client: number; readonly sentAt: number } | undefined {
  if (!body.startsWith(LOAD_BODY_PREFIX)) return undefined;
  const [c, t] = body.slice(LOAD_BODY_PREFIX.length).split(' ');
  const client = Number(c);
  const sentAt = Number(t);
  return Number.isInteger(client) && Number.isFinite(sentAt) ? { client, sentAt } : undefined;
}

/** A growable Float64Array of latency samples. */
class Samples {
  private buf = new Float64Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.buf.length) {
      const b = new Float64Array(this.buf.length * 2);
      b.set(this.buf);
      this.buf = b;
    }
    this.buf[this.length++] = v;
  }
  view(): Float64Array {
    return this.buf.subarray(0, this.length);
  }
}

interface LoadClient {
  readonly index: number;
  conn?: GarouConnection;
  roomId?: number;
  /** Messages sent and not answered. */
  outstanding: number;
  lost: boolean;
}

/** Runs one Garou load (see the module comment). */
async function run(opts: LoadOptions<GarouProfile>): Promise<LoadSummary> {
  const { clients: n, rooms: r, profile } = opts;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`clients must be an integer ≥ 1, got ${String(n)}`);
  if (!Number.isInteger(r) || r < 1 || r > n) throw new RangeError(`rooms must be an integer in [1, clients], got ${String(r)} with ${String(n)} clients`);
  if (!(opts.ratePerSec > 0)) throw new RangeError(`rate must be > 0 messages/s, got ${String(opts.ratePerSec)}`);
  if (!(opts.durationMs > 0)) throw new RangeError(`duration must be > 0 ms, got ${String(opts.durationMs)}`);

  const started = epochMs();
  const startedAt = new Date().toISOString();
  const tag = Math.random().toString(36).slice(2, 8);
  // Setup waits (handshake, CreateRoom, JoinRoom) are generous: many connections at once.
  const waitMs = Math.max(5_000, profile.replyDeadlineMs * 5);
  // After the send phase, answers and fan-out are owed within the reply deadline (GAROU-5.2, 7.2), twice over.
  const drainMs = Math.max(1_000, 2 * (profile.replyDeadlineMs + profile.toleranceMs));
  // One trace for every connection, keeping only its last events: the load keeps no transcript.
  const trace = new TraceRecorder(undefined, undefined, 4 * 1_048_576, TRACE_RETAIN_EVENTS);
  // Keep-alive PINGs: a connection opened early waits, idle, for all the others (QUIC idle timeout, RFC 9000 §10.1).
  const connect: ConnectOptions = { alpn: [profile.alpn], datagrams: true, ...(opts.connect.idleTimeoutMs ? {} : { keepAliveMs: KEEP_ALIVE_MS }), ...opts.connect };

  const clients: LoadClient[] = Array.from({ length: n }, (_, index) => ({ index, outstanding: 0, lost: false }));
  const violations: LoadViolation[] = [];
  const byRule: Record<string, number> = {};
  let violationCount = 0;
  const errors: string[] = [];
  const latency = new Samples();
  let phase: LoadProgress['phase'] = 'connect';
  let sent = 0;
  let acked = 0;
  let refused = 0;
  let delivered = 0;
  let expected = 0;
  let promotions = 0;
  let demotions = 0;
  let sendStart = 0;
  let sendEnd = 0;
  let heldAtEnd = 0;
  let deliveredInSend = 0;
  /** room → members (client indices). */
  const members = new Map<number, number[]>();
  /** room → highest seq acknowledged for one of our SendMessages. */
  const topSeq = new Map<number, number>();
  const creatorOf = new Map<number, number>();

  const violation = (rule: string, message: string, client?: number): void => {
    violationCount++;
    byRule[rule] = (byRule[rule] ?? 0) + 1;
    if (violations.length < MAX_VIOLATIONS_KEPT) violations.push({ rule, message, ...(client !== undefined ? { client } : {}) });
  };
  const error = (text: string): void => {
    if (errors.length < MAX_ERRORS_KEPT) errors.push(text);
  };

  const onEvent = (c: LoadClient) => (ev: ClientEvent): void => {
    switch (ev.kind) {
      case 'room':
        for (const v of ev.violations) violation(v.rule, v.message, c.index);
        if (ev.frame.name === 'RoomMessage') {
          const b = parseLoadBody(ev.frame.payload.body);
          if (b) {
            delivered++;
            latency.push(ev.at - b.sentAt);
          }
        }
        return;
      case 'answer':
        if (ev.command.name !== 'SendMessage') return;
        c.outstanding--;
        if (ev.answer.name === 'MessageAck') {
          acked++;
          const room = ev.answer.payload.room_id ?? ev.command.roomId!;
          const seq = ev.answer.payload.seq;
          if (seq !== undefined && seq > (topSeq.get(room) ?? 0)) topSeq.set(room, seq);
          expected += members.get(room)?.length ?? 0;
        } else {
          refused++;
          if (refused <= MAX_ERRORS_KEPT) error(`client ${c.index}: SendMessage refused: Error ${ev.answer.payload.code} ${ev.answer.payload.message}`);
        }
        return;
      case 'hot':
        // Counted once per room: on its creator's connection.
        if (creatorOf.get(ev.roomId) === c.index) {
          if (ev.promoted) promotions++;
          else demotions++;
        }
        return;
      case 'violation':
        violation(ev.rule, ev.message, c.index);
        return;
      default:
        return;
    }
  };

  const progress = (): LoadProgress => {
    const lat = latency.length > 0 ? latencySummary(Float64Array.from(latency.view())).p99 : undefined;
    return {
      phase,
      elapsedMs: Math.round(epochMs() - started),
      connections: clients.filter((c) => c.conn && !c.conn.closed).length,
      sent,
      delivered,
      violations: violationCount,
      ...(lat !== undefined ? { p99Ms: lat } : {}),
    };
  };
  const enter = (p: LoadProgress['phase']): void => {
    phase = p;
    try {
      opts.onPhase?.(p);
    } catch {
      /* a listener's trouble is not the target's */
    }
  };
  const every = opts.progressEveryMs ?? 1_000;
  const ticker = opts.onProgress ? setInterval(() => opts.onProgress!(progress()), every) : undefined;
  const aborted = (): boolean => opts.signal?.aborted === true;

  const openOne = async (c: LoadClient): Promise<void> => {
    try {
      c.conn = await GarouConnection.open({
        connect,
        username: `load-${tag}-${c.index}`,
        handshakeTimeoutMs: waitMs,
        trace,
        state: { numShards: profile.numShards, maxFrameBytes: profile.maxFrameBytes, check: opts.check, view: false, clientName: 'wirecheck-load' },
        onEvent: onEvent(c),
      });
    } catch (err) {
      error(`client ${c.index}: ${errorMessage(err)}`);
    }
  };

  try {
    enter('connect');
    // Connect, a few at a time.
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(CONNECT_CONCURRENCY, n) }, async () => {
        while (next < n && !aborted()) await openOne(clients[next++]!);
      }),
    );
    const live = clients.filter((c) => c.conn);
    enter('setup');
    // Rooms: client j < r creates room j; the others join room i mod r.
    if (!aborted() && live.length >= r) {
      const creators = live.slice(0, r);
      const roomIds: number[] = [];
      await Promise.all(
        creators.map(async (c, j) => {
          const a = await c.conn!.request('CreateRoom', { name: `load-${tag}-${j}`, room_type: 'group' }, waitMs);
          if (a.kind === 'ok' && a.value.name === 'MessageAck' && a.value.payload.room_id !== undefined) {
            roomIds[j] = a.value.payload.room_id;
            c.roomId = roomIds[j];
            creatorOf.set(roomIds[j], c.index);
            members.set(roomIds[j], [c.index]);
          } else error(`client ${c.index}: CreateRoom: ${a.kind === 'ok' ? `Error ${JSON.stringify(a.value.payload)}` : a.kind === 'closed' ? describeClose(a.info) : `no answer within ${waitMs} ms`}`);
        }),
      );
      const joiners = live.slice(r);
      let k = 0;
      await Promise.all(
        Array.from({ length: Math.min(64, joiners.length) }, async () => {
          while (k < joiners.length && !aborted()) {
            const c = joiners[k]!;
            const roomId = roomIds[k % r];
            k++;
            if (roomId === undefined) continue;
            const a = await c.conn!.request('JoinRoom', { room_id: roomId }, waitMs);
            if (a.kind === 'ok' && a.value.name === 'MessageAck') {
              c.roomId = roomId;
              members.get(roomId)!.push(c.index);
            } else error(`client ${c.index}: JoinRoom ${roomId}: ${a.kind === 'ok' ? `Error ${JSON.stringify(a.value.payload)}` : a.kind === 'closed' ? describeClose(a.info) : `no answer within ${waitMs} ms`}`);
          }
        }),
      );
    } else if (live.length < r) error(`only ${live.length} of ${n} clients connected: fewer than the ${r} rooms; nothing sent`);

    // Send at the rate, round-robin over the clients that are in a room.
    const senders = clients.filter((c) => c.conn && c.roomId !== undefined);
    enter('send');
    sendStart = epochMs();
    if (senders.length > 0 && !aborted()) {
      let turn = 0;
      await new Promise<void>((resolve) => {
        const tick = (): void => {
          const now = epochMs();
          const elapsed = now - sendStart;
          const due = Math.floor((Math.min(elapsed, opts.durationMs) * opts.ratePerSec) / 1000);
          let tries = 0;
          while (sent < due && tries < senders.length) {
            const c = senders[turn++ % senders.length]!;
            if (!c.conn || c.conn.closed || c.outstanding >= MAX_OUTSTANDING) {
              tries++;
              continue;
            }
            tries = 0;
            try {
              c.conn.send('SendMessage', { room_id: c.roomId!, body: `${LOAD_BODY_PREFIX}${c.index} ${epochMs().toFixed(3)}` });
              c.outstanding++;
              sent++;
            } catch (err) {
              error(`client ${c.index}: send: ${errorMessage(err)}`);
              tries++;
            }
          }
          if (elapsed >= opts.durationMs || aborted()) return resolve();
          // Sleep until the next message is due (or the end), not a fixed tick: fewer wake-ups at low rates.
          const nextDue = sent < due ? 0 : ((sent + 1) * 1000) / opts.ratePerSec - elapsed;
          setTimeout(tick, Math.max(TICK_MS, Math.min(MAX_TICK_MS, nextDue, opts.durationMs - elapsed)));
        };
        tick();
      });
    }
    sendEnd = epochMs();
    deliveredInSend = delivered;
    for (const c of clients) {
      if (c.conn?.closed && !c.lost) {
        c.lost = true;
        error(`client ${c.index}: connection ${describeClose(c.conn.closed)}`);
      }
    }

    // Drain: every answer in, every acknowledged seq at every member.
    enter('drain');
    const complete = (): boolean => {
      for (const c of senders) {
        if (!c.conn || c.conn.closed) continue;
        if (c.outstanding > 0) return false;
        if (!opts.check) continue;
        const top = topSeq.get(c.roomId!) ?? 0;
        if ((c.conn.state.contiguous(c.roomId!) ?? 0) < top) return false;
      }
      return true;
    };
    const drainUntil = epochMs() + drainMs;
    while (!complete() && epochMs() < drainUntil && !aborted()) await new Promise((res) => setTimeout(res, 20));
    // What is still missing is lost (GAROU-7.2), or unanswered (GAROU-5.2).
    for (const c of senders) {
      if (!c.conn || c.conn.closed) continue;
      if (c.outstanding > 0) violation('GAROU-5.2', `${c.outstanding} SendMessage(s) unanswered ${Math.round(drainMs)} ms after the send phase`, c.index);
      if (!opts.check) continue;
      const top = topSeq.get(c.roomId!) ?? 0;
      const have = c.conn.state.contiguous(c.roomId!) ?? 0;
      if (have < top) {
        const gaps = c.conn.state.gaps(c.roomId!);
        const missing = gaps.length > 0 ? gaps : [have + 1];
        violation('GAROU-7.2', `room ${c.roomId!}: seq ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` … (${missing.length} missing below ${top})` : ''} never arrived (contiguous up to ${have}, acknowledged up to ${top})`, c.index);
      }
    }
  } finally {
    enter('close');
    if (ticker) clearInterval(ticker);
    heldAtEnd = clients.filter((c) => c.conn && !c.conn.closed).length;
    let k = 0;
    await Promise.all(
      Array.from({ length: Math.min(32, n) }, async () => {
        while (k < n) {
          const c = clients[k++]!;
          if (c.conn) await c.conn.close().catch(() => undefined);
        }
      }),
    );
  }

  const sendMs = Math.max(1, sendEnd - sendStart);
  const established = clients.filter((c) => c.conn).length;
  return {
    protocol: 'garou',
    target: opts.targetUrl,
    startedAt,
    options: { clients: n, rooms: r, ratePerSec: opts.ratePerSec, durationMs: opts.durationMs, check: opts.check },
    connections: { attempted: n, established, held: heldAtEnd, failed: n - established, lost: clients.filter((c) => c.lost).length },
    sent,
    acked,
    refused,
    expectedDeliveries: expected,
    delivered,
    sendMs: Math.round(sendMs),
    sentPerSec: Math.round((sent * 1000 * 10) / sendMs) / 10,
    deliveredPerSec: Math.round((deliveredInSend * 1000 * 10) / sendMs) / 10,
    latencyMs: latencySummary(latency.view()),
    counters: { promotions, demotions },
    violations: { count: violationCount, byRule, first: violations },
    errors,
  };
}
/** Garou's load generator (harness/engine/load.ts). */
export const loadSupport: LoadSupport<GarouProfile> = { run };
