/**
 * The CLI as a user runs it, in a child process, for the hostile-target
 * tests (issue 13): exit code, signal, stderr and peak RSS of each run,
 * and a check of the reports it left.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLValidator } from 'fast-xml-parser';
import type { Test } from 'tap';
import { validateJsonReport } from '../../harness/reports/json.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The bound on a child's peak RSS that the hostile-target tests assert (KiB): 512 MB. */
export const RSS_BOUND_KB = 512 * 1024;

/** How a child run ended: exit code or signal, the last 20,000 characters of stderr, peak RSS (KiB; NaN when unknown). */
export interface ChildRun {
  readonly code: number | null;
  readonly signal: string | null;
  readonly err: string;
  readonly rssKb: number;
}

/**
 * Runs `wirecheck ...args` in a child (with test/hostile/rss-hook.mjs
 * preloaded, which writes the peak RSS to `<dir>/<tag>.rss`), killed with
 * SIGKILL after `deadlineMs` (then `signal` is set).
 * @throws Error when the child cannot be spawned.
 */
export function wirecheckChild(args: readonly string[], dir: string, tag: string, deadlineMs: number): Promise<ChildRun> {
  const rssFile = path.join(dir, `${tag}.rss`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=./test/hostile/rss-hook.mjs', 'bin/wirecheck.js', ...args], {
      cwd: root,
      env: { ...process.env, WIRECHECK_RSS_FILE: rssFile },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => void (err = (err + s).slice(-20_000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      readFile(rssFile, 'utf8')
        .then((kb) => resolve({ code, signal, err, rssKb: Number(kb) }))
        .catch(() => resolve({ code, signal, err, rssKb: NaN }));
    });
  });
}

/**
 * Asserts what every hostile-target run promises: it ended by itself, with
 * an exit code in `codes`, no internal error or stack trace on stderr, and
 * a peak RSS under {@link RSS_BOUND_KB}.
 */
export function checkChildRun(t: Test, what: string, r: ChildRun, codes: readonly number[]): void {
  t.equal(r.signal, null, `${what}: ended by itself, not killed at its deadline`);
  t.ok(codes.includes(r.code ?? -1), `${what}: exit code ${r.code} is one of ${codes.join(', ')}`);
  t.notMatch(r.err, /internal error|\n\s+at /, `${what}: no internal error, no stack trace`);
  t.ok(r.rssKb < RSS_BOUND_KB, `${what}: peak RSS ${Math.round(r.rssKb / 1024)} MB < 512 MB`);
}

/** Checks the reports `--reporter all` left in `out` for `protocol`: JSON valid against its schema, TAP 14 without raw control characters, JUnit well-formed. */
export async function checkReports(t: Test, out: string, protocol: string): Promise<void> {
  const json = JSON.parse(await readFile(path.join(out, `${protocol}.json`), 'utf8')) as unknown;
  const v = validateJsonReport(json);
  t.ok(v.ok, `JSON report valid${v.ok ? '' : `: ${v.errors.join('; ')}`}`);
  const tap = await readFile(path.join(out, `${protocol}.tap`), 'utf8');
  t.match(tap, /^TAP version 14\n/, 'TAP report starts with its version line');
  t.notMatch(tap, /[\u0000-\u0008\u000b-\u001f]/, 'TAP report has no raw control characters');
  const xml = await readFile(path.join(out, `${protocol}.xml`), 'utf8');
  t.equal(XMLValidator.validate(xml), true, 'JUnit report is well-formed XML');
}
