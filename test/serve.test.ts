/** `wirecheck serve` as a real process: listens, serves, logs JSON lines, stops on SIGINT. */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { serveProcess } from './_support/serve.js';
import { main } from '../harness/cli.js';

t.test('serve proton --fast --log', async (t) => {
  const server = await serveProcess(t, ['proton', '--port', '0', '--fast', '--log', '--ident-timeout-ms', '900']);
  const port = server.port;
  t.match(server.stderr(), /"identTimeoutMs":900/, 'timer flags override the profile');
  const code = await main(['run', '--target', `quic://127.0.0.1:${port}`, '--protocol', 'proton', '--fast', '--insecure', '--cases', 'proton/event/single,proton/identification/timeout', '--reporter', 'json', '--out', `${t.testdirName}`, '--quiet'], {
    out: () => undefined,
    err: () => undefined,
  });
  t.equal(code, 1, 'the identification timeout case fails: the profile says 400 ms, the server uses 900 ms');
  const report = JSON.parse(await readFile(path.join(t.testdirName, 'proton.json'), 'utf8')) as { cases: { id: string; verdict: string; rule?: string }[] };
  const verdicts = Object.fromEntries(report.cases.map((c) => [c.id, `${c.verdict} ${c.rule ?? ''}`.trim()]));
  t.equal(verdicts['proton/event/single'], 'pass', 'the event case passes (the flag changes only the timer)');
  t.match(verdicts['proton/identification/timeout'], /^(fail|timeout) PROTON-3\.4$/, 'the failing case is the identification timeout, on its rule');
  t.equal(await server.interrupt(), 0, 'exits 0 on SIGINT');
  const lines = server.stdout().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.ok(lines.length > 0, 'structured log lines');
  t.ok(lines.some((l) => l['msg'] === 'close' || String(l['msg']).includes('close')), 'closes are logged');
});
