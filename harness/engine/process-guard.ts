/**
 * The CLI's last line of defence: whatever happens to the process (an
 * uncaught exception, an unhandled rejection, SIGTERM, a second Ctrl-C),
 * the reports gathered so far are written and the exit code keeps its
 * promise (README "Exit codes"): never 1, which means "conformance failures".
 *
 * Commands that gather results register a *flusher* with
 * {@link onEmergency} while they run; {@link installProcessGuard} (called by
 * `bin/wirecheck.js`, never by tests that call `main` in process) runs every
 * flusher, with a deadline, before the process exits. This is a guard, not
 * the fix: every known failure mode is handled where it happens.
 */
import { ExitCode, messageOf } from './errors.js';

/** Writes what a running command gathered so far (partial reports). Must not throw (errors are printed). */
export type Flusher = (why: string) => Promise<void>;

/** Exit code after SIGINT (second Ctrl-C) and SIGTERM: 128 + signal number, as shells report it. */
export const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

/** How long the flushers may take on an emergency exit (ms). */
export const FLUSH_DEADLINE_MS = 10_000;

const flushers = new Set<Flusher>();

/** Registers a flusher for the lifetime of a command; returns the unregister function. */
export function onEmergency(f: Flusher): () => void {
  flushers.add(f);
  return () => void flushers.delete(f);
}

/**
 * Runs every registered flusher once (each at most once, all together
 * bounded by `deadlineMs`). Used by the process guard; exported for tests.
 * @returns the flushers' error messages (empty when all succeeded).
 */
export async function flushAll(why: string, deadlineMs: number = FLUSH_DEADLINE_MS): Promise<string[]> {
  const list = [...flushers];
  flushers.clear();
  const errors: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      errors.push(`writing partial reports took longer than ${deadlineMs} ms`);
      resolve();
    }, deadlineMs);
    timer.unref();
  });
  await Promise.race([Promise.all(list.map((f) => f(why).catch((err: unknown) => void errors.push(messageOf(err))))), deadline]);
  clearTimeout(timer);
  return errors;
}

let installed = false;

/**
 * Installs the process-level handlers (once): an uncaught exception or an
 * unhandled rejection prints `wirecheck: internal error: …` on stderr,
 * writes the partial reports and exits 3; SIGTERM writes them and exits
 * 143. SIGINT is handled by the commands (finish the current case, then
 * report); a second SIGINT while no command handles it writes the partial
 * reports and exits 130.
 */
export function installProcessGuard(err: (text: string) => void = (t) => void process.stderr.write(t)): void {
  if (installed) return;
  installed = true;
  let exiting = false;
  const die = async (code: number, message: string): Promise<void> => {
    if (exiting) return;
    exiting = true;
    err(message);
    const problems = await flushAll(message.trim());
    for (const p of problems) err(`wirecheck: partial reports: ${p}\n`);
    process.exit(code);
  };
  const internal = (what: string) => (e: unknown) => {
    const stack = process.env['WIRECHECK_DEBUG'] && e instanceof Error ? `\n${e.stack ?? ''}` : '';
    void die(ExitCode.TARGET, `wirecheck: internal error (${what}): ${messageOf(e)}${stack}\nwirecheck: writing the reports gathered so far; exit 3\n`);
  };
  process.on('uncaughtException', internal('uncaught exception'));
  process.on('unhandledRejection', internal('unhandled rejection'));
  process.on('SIGTERM', () => void die(SIGNAL_EXIT.SIGTERM, '\nwirecheck: terminated (SIGTERM); writing the reports gathered so far\n'));
  process.on('SIGINT', () => {
    // Commands add their own SIGINT listener for the first Ctrl-C (finish the case); with none left, this one ends the run.
    if (process.listenerCount('SIGINT') > 1) return;
    void die(SIGNAL_EXIT.SIGINT, '\nwirecheck: interrupted again; writing the reports gathered so far\n');
  });
}
