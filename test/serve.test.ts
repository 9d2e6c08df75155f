/** `wirecheck serve` as a real process: listens, serves, logs JSON lines, stops on SIGINT. */
import t from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { main } from '../harness/cli.js';

const bin = fileURLToPath(new URL('../bin/wirecheck.js', import.meta.url));

t.test('serve proton --fast --log', async (t) => {
  const child = spawn(process.execPath, [bin, 'serve', 'proton', '--port', '0', '--fast', '--log', '--ident-timeout-ms', '900'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening" line within 20 s; stderr: ${stderr}`)), 20_000);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /listening on quic:\/\/127\.0\.0\.1:(\d+) \(ALPN proton\)/.exec(stderr);
      if (m && stderr.includes('Ctrl-C to stop')) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', () => reject(new Error(`serve exited early: ${stderr}`)));
  });
  t.match(stderr, /"identTimeoutMs":900/, 'timer flags override the profile');
  const code = await main(['run', '--target', `quic://127.0.0.1:${port}`, '--protocol', 'proton', '--fast', '--insecure', '--cases', 'proton/event/single,proton/identification/timeout', '--reporter', 'json', '--out', `${t.testdirName}`, '--quiet'], {
    out: () => undefined,
    err: () => undefined,
  });
  t.equal(code, 1, 'the identification timeout case fails: the profile says 400 ms, the server uses 900 ms');
  const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  child.kill('SIGINT');
  t.equal(await exited, 0, 'exits 0 on SIGINT');
  const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.ok(lines.length > 0, 'structured log lines');
  t.ok(lines.some((l) => l['msg'] === 'close' || String(l['msg']).includes('close')), 'closes are logged');
});
