/**
 * `run` of Garou, Theta and Aura (the protocols added after the hostile
 * QUIC server) against the modes of test/hostile/quic-server.ts that reach
 * their codecs, monitors and report writers: resets and STOP_SENDING with
 * the largest legal code, a close reason full of terminal escapes, endless
 * data. Each run is a child process as a user runs it (offering the hostile
 * server's ALPN): the exit code is one the README promises, the reports are
 * present and valid, the peak RSS stays under 512 MB (issue 13). Proton's
 * `run`, `fuzz` and `client` in every mode: test/cli/hostile-quic.test.ts.
 */
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkChildRun, checkReports, wirecheckChild } from '../_support/cli-child.js';
import { HOSTILE_ALPN, startHostileQuicServer, type HostileQuicMode } from '../hostile/quic-server.js';

const CHILD_DEADLINE_MS = 180_000;
const MODES: readonly HostileQuicMode[] = ['reset-max-code', 'close-huge-reason', 'endless-data'];

const dir = await mkdtemp(path.join(tmpdir(), 'wirecheck-hostile-quic-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

for (const mode of MODES) {
  t.test(`hostile QUIC server: ${mode}`, async (t) => {
    const server = await startHostileQuicServer({ mode });
    t.teardown(() => server.stop());
    const url = `quic://127.0.0.1:${server.port}`;
    for (const protocol of ['garou', 'theta', 'aura']) {
      const out = path.join(dir, `run-${mode}-${protocol}`);
      const r = await wirecheckChild(['run', '-t', url, '-p', protocol, '--fast', '--insecure', '--alpn', HOSTILE_ALPN, '--connect-timeout', '2000', '--no-fixtures', '--reporter', 'all', '--out', out, '--quiet', '--no-color'], dir, `run-${mode}-${protocol}`, CHILD_DEADLINE_MS);
      checkChildRun(t, `run ${protocol}`, r, [1, 3]);
      await checkReports(t, out, protocol);
    }
  });
}
