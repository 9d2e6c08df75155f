/**
 * `wirecheck serve PROTOCOL …` as a real child process, for the tests that
 * check the CLI end to end (flags reach the server, logs, SIGINT).
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';

const bin = fileURLToPath(new URL('../../bin/wirecheck.js', import.meta.url));

/** A running `wirecheck serve` process: its port, what it wrote so far, and a SIGINT stop. */
export interface ServeProcess {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  /** The port it listens on (from its "listening on" line). */
  readonly port: number;
  /** Everything written to stdout so far (the JSON log lines with `--log`). */
  stdout(): string;
  /** Everything written to stderr so far (banner, effective profile). */
  stderr(): string;
  /** Sends SIGINT and resolves with the exit code (null when it had to be killed after 20 s). */
  interrupt(): Promise<number | null>;
}

/**
 * Starts `wirecheck serve ...args` (pass `--port 0`) and waits, at most
 * 20 s, for its "listening on <transport>://127.0.0.1:<port>" and "Ctrl-C
 * to stop" lines. The process is killed at the end of `t` if still running.
 * @throws Error when the lines do not come within 20 s or the process exits first (with its stderr).
 */
export async function serveProcess(t: Test, args: readonly string[]): Promise<ServeProcess> {
  const child = spawn(process.execPath, [bin, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening" line within 20 s; stderr: ${stderr}`)), 20_000);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /listening on (?:quic|tcp):\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m && stderr.includes('Ctrl-C to stop')) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`serve exited early: ${stderr}`));
    });
  });
  return {
    child,
    port,
    stdout: () => stdout,
    stderr: () => stderr,
    interrupt: () => {
      // A server that ignores SIGINT is killed after 20 s; its exit code is then null (fails an `equal(…, 0)`).
      const exited = new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        child.once('exit', (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      child.kill('SIGINT');
      return exited;
    },
  };
}
