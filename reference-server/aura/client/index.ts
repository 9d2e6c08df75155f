/**
 * The Aura reference client (`wirecheck client aura`): plays every role of
 * the profile's choreography except the target's (`roles`) in sessions over
 * QUIC, with the role runtime (suites/aura/runtime/play.ts), and judges the
 * target with the Aura monitor over its own trace (engine/judge.ts): no
 * rules of its own.
 *
 * Commands (separated by `;` or newlines in `--exec`, one per line
 * interactively): `play [SEED]` (one session, decisions seeded random,
 * default the profile's seed), `help`, `quit`.
 */
import readline from 'node:readline';
import { quicDriver } from '../../../harness/drivers/quic.js';
import type { ClientConnection } from '../../../harness/drivers/types.js';
import { TraceJudge, violationText } from '../../../harness/engine/judge.js';
import type { ReferenceClientOptions } from '../../../harness/engine/reference.js';
import { TraceRecorder } from '../../../harness/engine/trace.js';
import { profileChoreography } from '../../../suites/aura/choreography.js';
import { sessionParams, type AuraProfile } from '../../../suites/aura/profile.js';
import { playSession, type PlayContext } from '../../../suites/aura/runtime/play.js';
import { randomPolicy } from '../../../suites/aura/runtime/policy.js';
import { AuraWireMonitor } from '../../../suites/aura/wire-monitor.js';

/** Exit codes: 0 every command succeeded, 1 one failed, 2 the script does not parse. */
export const ClientExit = { OK: 0, FAILED: 1, USAGE: 2 } as const;

const HELP = 'commands: play [SEED] (one session of the other roles), help, quit';

/** Runs the client (the registry's `RunReferenceClient`). */
export async function runClient(opts: ReferenceClientOptions<AuraProfile>): Promise<number> {
  const p = opts.profile;
  let setup: ReturnType<typeof profileChoreography>;
  try {
    setup = profileChoreography(p);
  } catch (e) {
    opts.io.err(`${(e as Error).message}\n`);
    return ClientExit.USAGE;
  }
  const { check, harness } = setup;
  const lines = opts.exec !== undefined ? opts.exec.split(/[;\n]/).map((x) => x.trim()).filter(Boolean) : undefined;
  if (lines) {
    const bad = lines.find((l) => !/^(play( \d+)?|help|quit)$/.test(l));
    if (bad) {
      opts.io.err(`cannot parse ${JSON.stringify(bad)}; ${HELP}\n`);
      return ClientExit.USAGE;
    }
  }
  const trace = new TraceRecorder();
  const judge = new TraceJudge(trace, new AuraWireMonitor(p, check));
  let conn: ClientConnection | undefined;
  let failed = false;
  let n = 0;
  const ac = new AbortController();
  const ctx: PlayContext = {
    trace,
    signal: ac.signal,
    note: (text) => trace.note(text),
    violated: () => judge.violations.some((v) => v.severity === 'must'),
    until: (pred, ms) => new Promise<boolean>((resolve) => {
      if (pred()) return resolve(true);
      const stop = trace.listen(() => {
        if (pred()) { clearTimeout(timer); stop(); resolve(true); }
      });
      const timer = setTimeout(() => { stop(); resolve(pred()); }, ms);
    }),
  };
  const run = async (line: string): Promise<boolean> => {
    const [cmd, arg] = line.split(/\s+/);
    if (cmd === 'help') { opts.io.out(`${HELP}\n`); return true; }
    if (cmd === 'quit') return true;
    if (cmd !== 'play') { opts.io.err(`unknown command ${JSON.stringify(line)}; ${HELP}\n`); return false; }
    conn ??= await quicDriver.connect(trace, opts.connect);
    const mark = judge.mark();
    const out = await playSession(ctx, conn, {
      check, harnessRoles: harness, policy: randomPolicy(arg !== undefined ? Number(arg) : p.seed + n),
      params: sessionParams(p), session: `client-${++n}`, quietMs: p.replyDeadlineMs + (p.timeoutMs || 0) + p.toleranceMs,
      ...(p.timeoutMs ? { timeoutMs: p.timeoutMs } : {}),
    });
    for (const m of [...out.sent.map((x) => `> ${x.from}→${x.to}: ${x.label} ${JSON.stringify(x.payload)}`), ...out.received.map((x) => `< ${x.from}→${x.to}: ${x.label} ${JSON.stringify(x.payload)}`)]) opts.io.out(`${m}\n`);
    const v = judge.verdict(mark);
    if (v) { opts.io.err(`session ${n}: ${violationText(v)}\n`); return false; }
    if (!out.done) { opts.io.err(`session ${n}: did not complete${out.broken ? ` (${out.broken})` : ''}\n`); return false; }
    opts.io.out(`session ${n}: complete (${out.sent.length} sent, ${out.received.length} received)\n`);
    return true;
  };
  try {
    if (lines) {
      for (const l of lines) if (!(await run(l))) failed = true;
    } else {
      opts.io.out(`aura client: ${check.protocol}, playing ${harness.join(', ')} against ${opts.targetUrl ?? 'the target'}; ${HELP}\n`);
      const rl = readline.createInterface({ input: opts.input ?? process.stdin });
      for await (const l of rl) {
        if (l.trim() === 'quit') break;
        if (l.trim() && !(await run(l.trim()))) failed = true;
      }
    }
  } finally {
    ac.abort();
    await conn?.close(0).catch(() => undefined);
  }
  return failed ? ClientExit.FAILED : ClientExit.OK;
}
