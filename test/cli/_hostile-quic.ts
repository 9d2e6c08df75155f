/**
 * `run`, `fuzz` and `client` (Proton over QUIC) against each mode of the
 * hostile QUIC server (test/hostile/quic-server.ts, issue 13), each in a
 * child process as a user runs it (offering the hostile server's ALPN): the
 * exit code is one the README promises (never a crash), the reports are
 * present and valid, and the child's peak RSS stays under 512 MB. Every
 * child has a deadline (killed past it, which fails the test); no
 * wall-time bound is asserted. test/cli/hostile-quic-protocols.test.ts does
 * the same for the other QUIC protocols.
 *
 * The modes are split over test/cli/hostile-quic-{a,b}.test.ts so that
 * each file stays inside tap's per-file timeout on a loaded machine.
 */
import type { Test } from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkChildRun, checkReports, wirecheckChild, type ChildRun } from '../_support/cli-child.js';
import { HOSTILE_ALPN, startHostileQuicServer, type HostileQuicMode } from '../hostile/quic-server.js';

const CHILD_DEADLINE_MS = 180_000;

/** Adds to `t` one subtest per mode: Proton's `run`, `fuzz` and `client` against the hostile server in that mode. */
export async function hostileQuicProtonTests(t: Test, modes: readonly HostileQuicMode[]): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'wirecheck-hostile-quic-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const wirecheck = (args: string[], tag: string): Promise<ChildRun> => wirecheckChild(args, dir, tag, CHILD_DEADLINE_MS);
  for (const mode of modes) {
    t.test(`hostile QUIC server: ${mode}`, async (t) => {
      const server = await startHostileQuicServer({ mode });
      t.teardown(() => server.stop());
      const url = `quic://127.0.0.1:${server.port}`;
      const common = ['--fast', '--insecure', '--alpn', HOSTILE_ALPN, '--connect-timeout', '2000'];

      const runOut = path.join(dir, `run-${mode}`);
      const run = await wirecheck(['run', '-t', url, '-p', 'proton', ...common, '--no-fixtures', '--cases', 'proton/event/single,proton/commit/answer,proton/action/continuity-and-rate', '--reporter', 'all', '--out', runOut, '--quiet', '--no-color'], `run-${mode}`);
      checkChildRun(t, 'run', run, [1, 3]);
      await checkReports(t, runOut, 'proton');

      const fuzzOut = path.join(dir, `fuzz-${mode}`);
      const fuzz = await wirecheck(['fuzz', '-t', url, '-p', 'proton', ...common, '--runs', '3', '--seed', '7', '--reporter', 'all', '--out', fuzzOut, '--quiet', '--no-color'], `fuzz-${mode}`);
      checkChildRun(t, 'fuzz', fuzz, [1, 3]);
      await checkReports(t, fuzzOut, 'proton');

      const client = await wirecheck(['client', 'proton', '-t', url, ...common, '--exec', 'connect; send_event; commit 5; read_action; close'], `client-${mode}`);
      checkChildRun(t, 'client', client, [0, 1, 3]);
    });
  }
}
