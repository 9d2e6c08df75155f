/**
 * The Theta reference server's Sans-I/O core: the Theta model in server
 * mode (suites/theta/model.ts) behind the engine's {@link ServerCore}
 * contract. Every rule it follows is the model's; this file only turns the
 * model's "what is due" into actions, feeds them back, supplies the
 * server's clock and randomness ({@link cryptoEnv}: `node:crypto`), and
 * applies an optional fault (tests and demonstrations).
 */
import { randomBytes } from 'node:crypto';
import { actionToEvent, type ServerAction, type ServerCore } from '../../harness/engine/server-core.js';
import type { TraceEvent } from '../../harness/engine/trace.js';
import { ThetaModel, type ThetaServerEnv } from '../../suites/theta/model.js';
import { ed25519PublicKey } from '../../suites/theta/keys.js';
import type { ThetaProfile } from '../../suites/theta/profile.js';

/**
 * What a fault may change: client events before the model sees them
 * (rewritten or dropped), and the server's actions on their way to the
 * wire (rewritten, dropped or multiplied). The model keeps the conforming
 * view of its own actions.
 */
export interface ThetaFault {
  /** A client event as the model will see it; undefined drops it. */
  input?(ev: TraceEvent): TraceEvent | undefined;
  /** The actions performed instead of `act` (empty: dropped). `rule` is the rule a close enforces. */
  output?(act: ServerAction, rule: string | undefined): readonly ServerAction[];
}

/**
 * The reference server's environment: `node:crypto` randomness for nonces,
 * session ids from a random 64-bit start counting up (distinct for every
 * session of the process, THETA-4.3), one Ed25519 key pair per core, and
 * the wall clock (µs since the Unix epoch) tied to the trace clock at the
 * first reading, so `sent_at_us` grows exactly as trace time does
 * (THETA-5.4) and virtual-time runs stay consistent.
 */
export function cryptoEnv(now: () => number = Date.now): ThetaServerEnv {
  let base: bigint | undefined;
  let next = randomBytes(8).readBigUInt64BE(0) >> 1n; // room to count up without wrapping
  return {
    epochUs(t: number): bigint {
      base ??= BigInt(Math.round(now() * 1000)) - BigInt(Math.round(t));
      return base + BigInt(Math.round(t));
    },
    randomBytes: (n) => new Uint8Array(randomBytes(n)),
    publicKey: ed25519PublicKey(),
    sessionId: () => ++next,
  };
}

/** The Theta server core. `fault` changes input and output while the model keeps the conforming view. */
export class ThetaServerCore implements ServerCore {
  private readonly model: ThetaModel;
  private readonly pending: ServerAction[] = [];
  /** Theta has no send timeout: a client that does not read is ended by its heartbeats stopping (THETA-5.6). */
  readonly sendTimeoutMs = undefined;

  /** @throws Error when the profile makes an obligation record inconsistent. */
  constructor(
    readonly profile: ThetaProfile,
    private readonly fault?: ThetaFault,
    env: ThetaServerEnv = cryptoEnv(),
  ) {
    this.model = new ThetaModel(profile, 'server', env);
  }

  handle(ev: TraceEvent): void {
    const seen = this.fault?.input ? this.fault.input(ev) : ev;
    if (seen === undefined) return;
    if (seen.type === 'data' && seen.dir === 'c2s') {
      this.pending.push({ type: 'log', level: 'debug', msg: 'recv', data: { conn: seen.conn, stream: seen.stream, bytes: seen.hex.length / 2 } });
    }
    for (const v of this.model.input(seen, -1)) {
      // In server mode the model only sees client input and our own (conforming) output.
      this.pending.push({ type: 'log', level: 'warn', msg: 'model disagreement', data: { rule: v.rule, expected: v.expected, seen: v.seen } });
    }
  }

  sendStalled(): void {
    // No send timeout (sendTimeoutMs undefined): never called.
  }

  poll(t: number): ServerAction[] {
    const out = this.pending.splice(0);
    for (const act of this.model.due(t)) {
      const ev = actionToEvent(act, t);
      if (ev) this.model.input(ev, -1); // The model sees the conforming action.
      const rule = act.type === 'close' ? act.rule : undefined;
      const performed = this.fault?.output ? this.fault.output(act, rule) : [act];
      out.push(...performed);
      if (act.type === 'close') out.push({ type: 'log', level: 'info', msg: 'close', data: { conn: act.conn, code: act.code, reason: act.reason, rule: act.rule, dropped: performed.length === 0 } });
    }
    return out;
  }

  nextTimer(): number | undefined {
    return this.model.nextDue();
  }
}
