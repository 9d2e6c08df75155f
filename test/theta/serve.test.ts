/**
 * `wirecheck serve theta` as a real process with profile flags (an array
 * as a comma-separated list, the manifest from a file), judged through
 * `wirecheck run` and `wirecheck replay` over QUIC.
 */
import t from 'tap';
import { serveProcess } from '../_support/serve.js';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../harness/cli.js';

const fixtures = fileURLToPath(new URL('../../fixtures/theta/', import.meta.url));
const quiet = { out: () => undefined, err: () => undefined };

t.test('serve theta --server-capabilities 1,2,9 --manifest @FILE --role 7: run and replay agree with a matching profile', async (t) => {
  const dir = t.testdir({});
  const manifest = path.join(dir, 'components.txt');
  await writeFile(manifest, 'Transform, Velocity, Health\n');
  const server = await serveProcess(t, ['theta', '--port', '0', '--fast', '--log', '--server-capabilities', '1,2,9', '--manifest', `@${manifest}`, '--role', '7']);
  const port = server.port;
  t.match(server.stderr(), /"serverCapabilities":\[1,2,9\]/, 'the list flag');
  t.match(server.stderr(), /"manifest":"Transform, Velocity, Health\\n"/, 'the manifest read from the file, exactly');
  t.match(server.stderr(), /"role":7/);
  const profile = path.join(dir, 'profile.json');
  await writeFile(profile, JSON.stringify({ serverCapabilities: [1, 2, 9], manifest: 'Transform, Velocity, Health\n', role: 7 }));
  const target = `quic://127.0.0.1:${port}`;
  const cases = 'theta/handshake/accepted,theta/handshake/hash-one-bit-off,theta/ack/capabilities-superset,theta/replication/pipelined,theta/assets/one-byte';
  t.equal(await main(['run', '--target', target, '--protocol', 'theta', '--fast', '--profile', profile, '--insecure', '--cases', cases, '--no-fixtures', '--reporter', 'json', '--out', path.join(dir, 'run'), '--quiet'], quiet), 0, 'run: the cases pass against the server the profile describes');
  const wrong = path.join(dir, 'wrong.json');
  await writeFile(wrong, JSON.stringify({ serverCapabilities: [1, 2, 9], role: 7 }));
  t.equal(await main(['run', '--target', target, '--protocol', 'theta', '--fast', '--profile', wrong, '--insecure', '--cases', 'theta/handshake/accepted', '--no-fixtures', '--reporter', 'json', '--out', path.join(dir, 'wrong'), '--quiet'], quiet), 1, 'a profile with the default manifest: the hello is refused (0x2), a failure');
  const replay = ['replication-before-hello', 'malformed-buffer', 'handshake-timeout'].map((f) => path.join(fixtures, `${f}.json`));
  t.equal(await main(['replay', '--target', target, '--fast', '--profile', profile, '--insecure', '--reporter', 'json', '--out', path.join(dir, 'replay'), '--quiet', ...replay], quiet), 0, 'replay: fixtures meet their expectations');
  t.equal(await server.interrupt(), 0, 'exits 0 on SIGINT');
  const lines = server.stdout().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.ok(lines.some((l) => l['msg'] === 'conn close' && l['code'] === 2), 'the refused hello is logged with its close code 0x2');
});
