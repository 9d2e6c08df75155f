/** `wirecheck serve` as a real process: listens, serves, logs JSON lines, stops on SIGINT. */
import t from 'tap';
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
  t.equal(await server.interrupt(), 0, 'exits 0 on SIGINT');
  const lines = server.stdout().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.ok(lines.length > 0, 'structured log lines');
  t.ok(lines.some((l) => l['msg'] === 'close' || String(l['msg']).includes('close')), 'closes are logged');
});
