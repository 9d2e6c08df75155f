/**
 * The harness side of an Aura session, driven over a real connection: a
 * thin loop around {@link AuraSession} (Sans-I/O) that writes the start
 * frame and the session's messages on one bidirectional stream, reads the
 * target's frames, and keeps the session's timers. Every wait has a deadline
 * (the case's `until`). Deliberate deviations (the generated suite's
 * "unexpected label", "out of order", "missing message", "`$fail` at a
 * step") are applied to the harness's own wire messages here.
 */
import type { ClientConnection, ClientStream } from '../../../harness/drivers/types.js';
import type { CaseContext } from '../../../harness/engine/types.js';
import type { AuraCheck } from '../language.js';
import type { AuraPolicy, RuntimeMessage } from './role.js';
import { AuraSession, toRuntime } from './session.js';
import { AuraFrameDecoder, AuraFrameError, encodeAuraFrame, isStart } from './wire.js';

/** What {@link playSession} needs of a running case (a `CaseContext`, or the reference client's own). */
export type PlayContext = Pick<CaseContext<object>, 'trace' | 'signal' | 'note' | 'until' | 'violated'>;

/** A deviation the harness makes on its `step`-th wire message (0-based). */
export type Deviation =
  | { readonly kind: 'label'; readonly step: number }
  | { readonly kind: 'order'; readonly step: number }
  | { readonly kind: 'skip'; readonly step: number }
  | { readonly kind: 'fail'; readonly step: number };

/** A label no choreography uses (an unexpected label). */
export const UNEXPECTED_LABEL = 'NotInTheChoreography';

/** How a played session ended. */
export interface PlayOutcome {
  /** The harness's roles all finished. */
  readonly done: boolean;
  /** The target ended its side (FIN or reset). */
  readonly targetEnded: boolean;
  /** The harness's session saw the choreography broken by the target (reason), if so. */
  readonly broken?: string;
  /** Wire messages the harness sent, as the target saw them. */
  readonly sent: readonly RuntimeMessage[];
  /** Wire messages the harness received. */
  readonly received: readonly RuntimeMessage[];
  /** The deviation was applied (false when its step never came). */
  readonly deviated: boolean;
}

/** Options of {@link playSession}. */
export interface PlayOptions {
  readonly check: AuraCheck;
  /** Roles the harness plays (the others are the target's). */
  readonly harnessRoles: readonly string[];
  readonly policy: AuraPolicy;
  readonly params: Readonly<Record<string, unknown>>;
  readonly session: string;
  /** Timeout override (ms), as the target's profile says. */
  readonly timeoutMs?: number;
  /** How long to wait for the target when the harness has nothing to do (ms). */
  readonly quietMs: number;
  readonly deviation?: Deviation;
  /** Protocol name written in the start frame (default the choreography's). */
  readonly protocolName?: string;
}

/**
 * Plays the harness's roles of one session on a new stream of `conn`.
 * Resolves when the harness roles are done and the target ended its side,
 * or nothing moved for `quietMs`, or the case is aborted/violated.
 * Throws only on harness or network trouble (the monitor judges the target).
 */
export async function playSession(ctx: PlayContext, conn: ClientConnection, o: PlayOptions): Promise<PlayOutcome> {
  const roles = Object.fromEntries(o.check.roles.map((r) => [r, o.harnessRoles.includes(r) ? 'peer' : 'you'] as const));
  const session = new AuraSession(o.check, o.harnessRoles, {
    policy: o.policy, params: o.params,
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    onLocal: (m) => ctx.note(`aura: ${m.from}→${m.to}:${m.label} (between harness roles, not on the wire)`),
  });
  const stream = conn.openStream('bidi');
  const decoder = new AuraFrameDecoder(false);
  const sent: RuntimeMessage[] = [];
  const received: RuntimeMessage[] = [];
  const nowUs = () => ctx.trace.now();
  let step = 0;
  let deviated = false;
  let stopSending = false;
  let held: RuntimeMessage | undefined;
  let consumed = 0;
  let broken: string | undefined;

  const write = async (m: RuntimeMessage): Promise<void> => {
    sent.push(m);
    await safe(stream.write(encodeAuraFrame({ from: m.from, to: m.to, label: m.label, payload: m.payload })), conn);
  };
  const send = async (msgs: RuntimeMessage[]): Promise<void> => {
    for (const m of msgs) {
      if (stopSending) return;
      const d = o.deviation;
      const i = step++;
      if (held) {
        // Out of order: the held message goes after this one.
        const h = held;
        held = undefined;
        deviated = true;
        stopSending = true;
        await write(m);
        await write(h);
        return;
      }
      if (d && d.step === i) {
        ctx.note(`aura: deviation ${d.kind} at the harness's wire message #${i} (${m.from}→${m.to}:${m.label})`);
        if (d.kind === 'skip') { deviated = true; continue; }
        if (d.kind === 'order') { held = m; continue; }
        deviated = true;
        stopSending = true;
        if (d.kind === 'label') await write({ ...m, label: UNEXPECTED_LABEL });
        else await write({ from: m.from, to: m.to, label: '$fail', payload: { reason: 'deviation: $fail where the choreography has no compensation' } });
        return;
      }
      await write(m);
    }
  };

  await safe(stream.write(encodeAuraFrame({ start: o.protocolName ?? o.check.protocol, session: o.session, roles, params: o.params })), conn);
  for (;;) {
    if (ctx.signal.aborted || ctx.violated() || conn.isClosed) break;
    await send(session.poll(nowUs()));
    if (held) {
      // The next message never came in the same step: the swap cannot happen; send it as is.
      const h = held;
      held = undefined;
      await write(h);
    }
    if (session.breakage) { broken = session.breakage.reason; break; }
    // After a deviation the target owes a reset: the monitor waits for it (the case's settle).
    if (stopSending) break;
    if (session.done && stream.readEnded) break;
    const timer = session.nextTimer();
    const waitMs = Math.max(1, Math.min(o.quietMs, timer === undefined ? o.quietMs : Math.ceil((timer - nowUs()) / 1000) + 1));
    const moved = await ctx.until(() => stream.receivedLength > consumed || stream.readEnded || conn.isClosed, waitMs);
    if (stream.receivedLength > consumed) {
      const bytes = stream.received().subarray(consumed);
      consumed = stream.receivedLength;
      try {
        for (const f of decoder.push(bytes)) {
          if (isStart(f)) { broken = 'the target sent a start frame'; break; }
          const m = toRuntime(f);
          received.push(m);
          if (stopSending) continue;
          const b = session.receive(m, nowUs());
          if (b) { broken = b.reason; break; }
        }
      } catch (e) {
        if (!(e instanceof AuraFrameError)) throw e;
        broken = `malformed frame from the target: ${e.message}`;
      }
      if (broken) break;
      continue;
    }
    if (stream.readEnded && (session.done || stopSending)) break;
    if (!moved && (timer === undefined || timer > nowUs()) && !stream.readEnded) {
      // Nothing came for quietMs and no timer is due: the target is silent (the monitor judges whether it owed something).
      if (timer === undefined) break;
    }
    if (stream.readEnded && session.nextTimer() === undefined) break;
  }
  if (!conn.isClosed) await safe(stream.end(), conn);
  return { done: session.done, targetEnded: stream.readEnded, ...(broken !== undefined ? { broken } : {}), sent, received, deviated };
}

/** Awaits a write; a write refused because the target reset the stream or closed the connection is not harness trouble. */
async function safe(p: Promise<void>, conn: ClientConnection): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!conn.isClosed && !/reset|stop|closed|abort/i.test(String(err))) throw err;
  }
}

export type { ClientStream };
