/** The process guard: an unhandled rejection or uncaught exception exits 3 (never 1) after the flushers ran; SIGTERM exits 143. */
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { forTerminal, forTerminalKeepLines } from '../../harness/reports/terminal.js';

const child = fileURLToPath(new URL('./guard.child.ts', import.meta.url));
const dir = await mkdtemp(path.join(tmpdir(), 'wirecheck-guard-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

for (const [how, code, msg] of [
  ['reject', 3, /internal error \(unhandled rejection\): boom: a rejection nobody handled/],
  ['throw', 3, /internal error \(uncaught exception\): boom: thrown from a timer/],
  ['term', 143, /terminated \(SIGTERM\)/],
] as const) {
  t.test(`${how}: exit ${code}, flushers ran`, async (t) => {
    const out = path.join(dir, `${how}.txt`);
    const p = spawn(process.execPath, ['--import=tsx', child, how], { env: { ...process.env, GUARD_OUT: out }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.setEncoding('utf8').on('data', (s: string) => void (err += s));
    const killer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    const exit = await new Promise<number | null>((resolve) => p.once('exit', (c) => resolve(c)));
    clearTimeout(killer);
    t.equal(exit, code);
    t.match(err, msg);
    t.match(await readFile(out, 'utf8'), msg, 'the flusher got the reason');
  });
}

t.test('untrusted text for a terminal', async (t) => {
  t.equal(forTerminal('a\x1b[2Jb\x00c\nok 1 - fake\r\u009b\u202e'), 'a\\x1b[2Jb\\x00c\\x0aok 1 - fake\\x0d\\x9b\\u202e');
  t.equal(forTerminal('plain text, ünïcode ✓'), 'plain text, ünïcode ✓');
  t.equal(forTerminalKeepLines('line 1\n\tline 2\x1b]0;title\x07\n'), 'line 1\n\tline 2\\x1b]0;title\\x07\n');
});
