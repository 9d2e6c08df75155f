/**
 * `wirecheck run --save-failures DIR`: every case that failed or timed out
 * is written to `DIR/<fixture name>.json` as a replayable fixture
 * (harness/fixtures `traceToFixture`), ready for `wirecheck replay` or to be
 * moved into `fixtures/<protocol>/`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ProtocolSuite, RunResult } from '../engine/types.js';
import { checkFixture, formatFixture, savedFixtureId, traceToFixture } from '../fixtures/index.js';
import type { CliIo } from './common.js';

/** Verdicts whose cases are saved. */
const SAVED = new Set(['fail', 'timeout']);

/**
 * Writes each failing case of `run` as a fixture under `dir` (created when
 * missing; an existing file of the same name is replaced). File name: the
 * fixture id's last segment, e.g. `event-single.json` for
 * `proton/saved/event-single`. Each fixture is checked against the fixture
 * schema before it is written.
 * @returns the paths written.
 * @throws the file system's error when `dir` cannot be written.
 */
export async function saveFailures(run: RunResult, suite: ProtocolSuite<object>, dir: string, io: CliIo): Promise<string[]> {
  const failing = run.cases.filter((c) => SAVED.has(c.verdict));
  const written: string[] = [];
  if (failing.length === 0) {
    io.out(`Saved failures: none (no case failed)\n`);
    return written;
  }
  await mkdir(dir, { recursive: true });
  const alpn = suite.connectOptions(run.profile).alpn?.[0];
  for (const c of failing) {
    const fixture = traceToFixture(c, suite, { target: run.target, date: run.startedAt, ...(alpn !== undefined ? { alpn } : {}) });
    checkFixture(fixture, `(fixture saved from ${c.id})`, suite);
    const file = path.join(dir, `${savedFixtureId(suite.name, c.id).split('/').pop()!}.json`);
    await writeFile(file, formatFixture(fixture));
    written.push(file);
  }
  io.out(`Saved failures (${written.length}, replay with \`wirecheck replay --target URL ${path.join(dir, '*.json')}\`): ${written.join(', ')}\n`);
  return written;
}
