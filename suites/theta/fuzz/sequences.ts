/**
 * Model-based sequences (`fc.commands` over the Theta model): heartbeat
 * timing and echo sequences with the session's other operations. Each
 * command is a client operation, valid (connect and handshake, a heartbeat
 * echoing nothing, the past or the far future, waits around the heartbeat
 * interval and timeout, replication frames pipelined, asset frames and the
 * asset's FIN, a FIN on the control stream, a close, a second session) or a
 * deviation the SPEC gives a verdict to (silence past the heartbeat or
 * handshake timeout, a second SessionHello, a SessionAcknowledge or
 * SessionError from the client, data before the hello, data on a stream
 * Theta does not use, an asset of no frames).
 *
 * A command's `check` asks the program builder (whose state is the model's
 * prediction, program.ts) whether it applies now; `run` appends its steps.
 * `fc.modelRun` compiles a command list eagerly (inside `map`), so the
 * command shrinker sees the same flags on replay (as suites/proton/fuzz/sequences.ts).
 */
import fc from 'fast-check';
import { sequenceCommand, sequencePrograms } from '../../../harness/fuzz/sequences.js';
import type { FuzzProgram } from '../../../harness/fuzz/types.js';
import type { ThetaProfile } from '../profile.js';
import { aroundTimer, payload } from './_arbs.js';
import { ThetaProgramBuilder, type ProgramConn } from './program.js';

type Model = ThetaProgramBuilder;
type Real = Record<string, never>;
type Cmd = fc.Command<Model, Real>;

const command = sequenceCommand<Model>;

const live = (m: Model): ProgramConn | undefined => m.liveConn();
/** The live connection, once its handshake is acknowledged and its control stream open. */
const session = (m: Model): ProgramConn | undefined => {
  const c = live(m);
  return c && c.helloSent && !c.controlFin && m.established(c) ? c : undefined;
};
/** The live connection before its hello. */
const fresh = (m: Model): ProgramConn | undefined => {
  const c = live(m);
  return c && !c.helloSent ? c : undefined;
};

// ------------------------------------------------------------------ valid

const connect = fc.constant(command('connect', false, (m) => live(m) === undefined, (m) => void m.connect()));

const hello = fc.option(fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 5 }), { nil: undefined }).map((caps) =>
  command(`hello${caps ? ` [${caps.join(',')}]` : ''}`, false, (m) => fresh(m) !== undefined, (m) => m.hello(fresh(m)!, caps)),
);

/**
 * A heartbeat echoing: nothing yet, a time in the far past, or a time far in
 * the future (THETA-5.5: the server's next RTT is 0). An echo waits until a
 * server heartbeat surely arrived (an echo of a heartbeat the server has
 * not sent yet means nothing).
 */
const heartbeat = fc.constantFrom('none', 'past', 'future').map((echo) =>
  command(`heartbeat (echo ${echo})`, false, (m) => session(m) !== undefined, (m) => {
    if (echo !== 'none' && !m.serverHeartbeatSeen(session(m)!)) m.wait('heartbeatIntervalMs + toleranceMs + 20', "wait for the server's first heartbeat (to echo it)");
    const c = session(m);
    if (c === undefined) return;
    const e = echo === 'none' ? undefined : echo === 'past' ? { seq: 1, sentAtUs: 1_000_000n } : { seq: 1, sentAtUs: 2n ** 63n };
    m.heartbeat(c, m.nextHeartbeat(c, e), echo === 'future' ? 'heartbeat echoing a time far in the future (THETA-5.5: rtt clamped to 0)' : undefined);
    if (echo === 'future') m.exercises('THETA-5.5');
  }),
);

/** Heartbeats every interval for a while (the session kept alive): THETA-5.1–5.3 are judged meanwhile. */
const beatFor = fc.integer({ min: 1, max: 12 }).map((n) =>
  command(`${n} heartbeat intervals`, false, (m) => session(m) !== undefined, (m) => {
    for (let i = 0; i < n; i++) {
      const c = session(m);
      if (c === undefined) return;
      m.heartbeat(c);
      m.wait('heartbeatIntervalMs', 'one heartbeat interval (THETA-5.1)');
    }
    m.exercises('THETA-5.1', 'THETA-5.2', 'THETA-5.3');
  }),
);

/** Heartbeats every interval for longer than the heartbeat timeout and the answer deadline: a server that never echoes is then wrong (THETA-5.3). */
const longSession = fc.constant(
  command('heartbeats past the timeout', false, (m) => session(m) !== undefined, (m) => {
    const n = Math.ceil((m.profile.heartbeatTimeoutMs + m.profile.answerDeadlineMs) / m.profile.heartbeatIntervalMs) + 2;
    for (let i = 0; i < n; i++) {
      const c = session(m);
      if (c === undefined) return;
      m.heartbeat(c);
      m.wait('heartbeatIntervalMs', 'one heartbeat interval (THETA-5.1, 5.3)');
    }
    m.exercises('THETA-5.1', 'THETA-5.3');
  }),
);

const waitTimer = fc.constantFrom('heartbeatIntervalMs', 'heartbeatTimeoutMs').chain((field) =>
  aroundTimer(field).map((expr) => command(`wait ${expr}`, false, (m) => live(m) !== undefined, (m) => m.wait(expr, `wait around ${field}: ${expr}`))),
);

const replicate = fc.array(payload, { minLength: 1, maxLength: 4 }).map((frames) =>
  command(`replicate ${frames.length}`, false, (m) => session(m) !== undefined, (m) => m.replicate(session(m)!, frames)),
);

const assetFrames = fc.array(payload, { minLength: 1, maxLength: 4 }).map((frames) =>
  command(`asset ${frames.length} frames`, false, (m) => {
    const c = session(m);
    return c !== undefined && !c.assetFin;
  }, (m) => m.asset(session(m)!, frames)),
);

const assetFin = fc.constant(
  command('asset FIN', false, (m) => {
    const c = session(m);
    return c !== undefined && !c.assetFin && c.assetFrames > 0;
  }, (m) => m.fin(session(m)!, 'assets', 'FIN: the asset is complete (THETA-7.1)')),
);

const controlFin = fc.constant(command('control FIN', false, (m) => session(m) !== undefined, (m) => {
  m.fin(session(m)!, 'control', 'FIN on the control stream (THETA-8.2)');
  m.exercises('THETA-8.2');
}));

const closeConn = fc.constant(command('close', false, (m) => live(m) !== undefined, (m) => m.close(live(m)!)));

const valid: fc.Arbitrary<Cmd> = fc.oneof(
  { withCrossShrink: true },
  { arbitrary: connect, weight: 1 },
  { arbitrary: hello, weight: 3 },
  { arbitrary: heartbeat, weight: 3 },
  { arbitrary: beatFor, weight: 2 },
  { arbitrary: longSession, weight: 1 },
  { arbitrary: waitTimer, weight: 1 },
  { arbitrary: replicate, weight: 2 },
  { arbitrary: assetFrames, weight: 2 },
  { arbitrary: assetFin, weight: 2 },
  { arbitrary: controlFin, weight: 1 },
  { arbitrary: closeConn, weight: 1 },
);

// -------------------------------------------------------------- deviations

const silence = fc.constantFrom('heartbeatTimeoutMs', 'handshakeTimeoutMs').map((field) =>
  command(`silence past ${field}`, true, (m) => (field === 'handshakeTimeoutMs' ? fresh(m) !== undefined : session(m) !== undefined), (m) => {
    m.wait(`${field} + toleranceMs + answerDeadlineMs + 20`, `deviation: silence past ${field} (${field === 'handshakeTimeoutMs' ? 'THETA-3.7' : 'THETA-5.6'})`);
    m.exercises(field === 'handshakeTimeoutMs' ? 'THETA-3.7' : 'THETA-5.6');
  }),
);

const secondHello = fc.constant(command('second hello', true, (m) => session(m) !== undefined, (m) => {
  m.hello(session(m)!, undefined, 'deviation: a second SessionHello (THETA-3.10)');
  m.exercises('THETA-3.10');
}));

const wrongMessage = fc.constantFrom('SessionAcknowledge', 'SessionError').map((type) =>
  command(`client ${type}`, true, (m) => live(m) !== undefined, (m) => {
    const c = live(m)!;
    const msg = type === 'SessionError'
      ? { type: 'SessionError' as const, code: 5, reason: 'client error' }
      : { type: 'SessionAcknowledge' as const, protocolVersion: 1, schemaHash: 0n, serverNonce: new Uint8Array(24), sessionId: 1n, role: 1, capabilities: [], publicKey: new Uint8Array(32) };
    m.sendControl(c, msg, `deviation: the client sends ${type} (THETA-${c.helloSent ? '5.7' : '3.8'})`);
  }),
);

const beforeHello = fc.constantFrom('replication' as const, 'assets' as const).map((stream) =>
  command(`${stream} before hello`, true, (m) => fresh(m) !== undefined, (m) => {
    const c = fresh(m)!;
    if (stream === 'replication') m.replicate(c, [new Uint8Array([9])], 'deviation: a replication frame before the hello (THETA-3.8)');
    else m.asset(c, [new Uint8Array([9])], 'deviation: an asset frame before the hello (THETA-3.8)');
    m.exercises('THETA-3.8');
  }),
);

const stray = fc.constantFrom('bidi' as const, 'uni' as const).map((kind) =>
  command(`stray ${kind} stream`, true, (m) => live(m) !== undefined, (m) => m.strayStream(live(m)!, kind, new Uint8Array([0, 0, 0, 1, 7]), 'deviation: a frame on a stream Theta does not use (THETA-1.2)')),
);

const emptyAsset = fc.constant(command('empty asset', false, (m) => {
  const c = session(m);
  return c !== undefined && c.assetFrames === 0 && !c.assetFin;
}, (m) => {
  m.fin(session(m)!, 'assets', 'FIN with no asset frame (THETA-7.2)');
  m.exercises('THETA-7.2');
}));

const deviation: fc.Arbitrary<Cmd> = fc.oneof(
  { arbitrary: silence, weight: 2 },
  { arbitrary: secondHello, weight: 1 },
  { arbitrary: wrongMessage, weight: 1 },
  { arbitrary: beforeHello, weight: 1 },
  { arbitrary: stray, weight: 1 },
  { arbitrary: emptyAsset, weight: 1 },
);

/** Model-based sequences for a profile (name `sequences`): valid operations three times as often as deviations. */
export function sequences(profile: ThetaProfile): fc.Arbitrary<FuzzProgram> {
  // Every sequence starts with a session: the heartbeat commands then apply from the first one.
  return sequencePrograms(valid, deviation, 12, () => {
    const b = new ThetaProgramBuilder(profile, 'sequences');
    b.hello(b.connect());
    return b;
  }, 'a handshake');
}
