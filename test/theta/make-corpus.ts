/**
 * Writes Theta's trace corpus, `fixtures/theta/traces/*.jsonl`: traces of
 * suite cases run in process (virtual time) against the conforming
 * reference core (`ok-…`, expected to pass) and against faulty ones
 * (`bad-…`, expected to fail with the rule and first-violation index the
 * monitor gave), each with its `expect` header for `wirecheck validate
 * --expect`. Not a test; run it again after a change of the model or the
 * cases (test/theta/corpus.test.ts checks the files):
 *
 *   node --import=tsx test/theta/make-corpus.ts
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeTrace, type TraceHeader } from '../../harness/traces/file.js';
import { suite } from '../../suites/theta/index.js';
import { fastProfile } from '../../suites/theta/profile.js';
import { runInMemory } from './_run.js';

const dir = fileURLToPath(new URL('../../fixtures/theta/traces/', import.meta.url));

/** File name → the case, and the fault (none: conforming). */
const corpus: Record<string, { readonly id: string; readonly fault?: string }> = {
  'ok-handshake': { id: 'theta/handshake/accepted' },
  'ok-heartbeats': { id: 'theta/heartbeat/rate' },
  'ok-future-echo': { id: 'theta/heartbeat/future-echo' },
  'ok-replication-pipelined': { id: 'theta/replication/pipelined' },
  'ok-asset': { id: 'theta/assets/one-byte' },
  'ok-version-mismatch-closed': { id: 'theta/handshake/version-plus-one' },
  'ok-heartbeat-timeout': { id: 'theta/heartbeat/timeout' },
  'ok-concurrent-sessions': { id: 'theta/ack/concurrent-sessions' },
  'bad-version-accepted': { id: 'theta/handshake/version-plus-one', fault: 'accept-version-mismatch' },
  'bad-capabilities-union': { id: 'theta/ack/capabilities-superset', fault: 'union-capabilities' },
  'bad-constant-nonce': { id: 'theta/ack/concurrent-sessions', fault: 'constant-server-nonce' },
  'bad-no-heartbeat': { id: 'theta/heartbeat/rate', fault: 'no-heartbeat' },
  'bad-heartbeat-no-echo': { id: 'theta/heartbeat/echo', fault: 'heartbeat-without-echo' },
  'bad-never-times-out': { id: 'theta/heartbeat/timeout', fault: 'never-time-out' },
  'bad-replication-reordered': { id: 'theta/replication/pipelined', fault: 'reorder-replication' },
  'bad-asset-hash': { id: 'theta/assets/one-byte', fault: 'hash-all-but-last' },
  'bad-close-code': { id: 'theta/frames/malformed-string-without-nul', fault: 'wrong-close-code' },
  'bad-data-before-hello': { id: 'theta/handshake/replication-before-hello', fault: 'accept-data-before-hello' },
};

await rm(dir, { recursive: true, force: true });
for (const [name, { id, fault }] of Object.entries(corpus)) {
  const run = await runInMemory({ profile: fastProfile, cases: id, ...(fault !== undefined ? { fault } : {}) });
  const c = run.cases.find((x) => x.id === id);
  if (c === undefined || c.verdict === 'error' || c.verdict === 'skipped') throw new Error(`${name}: ${id} ${c?.verdict ?? 'did not run'} ${c?.message ?? ''}`);
  if ((fault === undefined) !== (c.verdict === 'pass')) throw new Error(`${name}: ${id} ${c.verdict} ${c.rule ?? ''} (fault ${fault ?? 'none'})`);
  const index = c.violation !== undefined && 'index' in c.violation && c.violation.index >= 0 ? c.violation.index : undefined;
  const header: TraceHeader = {
    type: 'header', format: 'wirecheck-trace', version: 2, protocol: 'theta', specVersion: suite.specVersion, profile: { ...fastProfile },
    recordedBy: 'client', case: `theta/trace/${name}`, description: `${c.description}${fault !== undefined ? ` (reference server with fault ${fault})` : ''}`,
    expect: { verdict: c.verdict as 'pass' | 'fail' | 'timeout' | 'non-strict', ...(c.rule !== undefined ? { rule: c.rule } : {}), ...(index !== undefined ? { index } : {}) },
  };
  await writeTrace(path.join(dir, `${name}.jsonl`), header, c.trace);
  console.log(`${name}: ${c.verdict} ${c.rule ?? ''} (${c.trace.length} events)`);
}
