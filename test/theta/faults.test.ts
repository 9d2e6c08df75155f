/**
 * The Theta suite catches each deliberate fault of the reference server, in
 * the intended cases, under the intended rules, and nowhere else: the whole
 * suite in process, in virtual time (the verdicts do not depend on the
 * machine's load). test/theta/suite.test.ts runs a sample over QUIC.
 */
import t from 'tap';
import { faults } from '../../reference-server/theta/faults.js';
import { suite } from '../../suites/theta/index.js';
import { VIOLATION_RULES } from '../../suites/theta/model.js';
import { checkFaultRun, type FaultExpectation } from '../_support/faults.js';
import { runInProcess } from './_run.js';

const ids = suite.cases.map((c) => c.id);
const matching = (re: RegExp): string[] => ids.filter((id) => re.test(id));
/** Every case whose server closes with 0x5 on a client violation. */
const violations = matching(/^theta\/(streams\/|frames\/(over-limit|malformed|fin-inside)|handshake\/(replication|assets|heartbeat)-before-hello|handshake\/second-hello)/);

export const faultExpectations: Record<string, FaultExpectation> = {
  'accept-version-mismatch': { targets: ['theta/handshake/version-plus-one', 'theta/handshake/version-minus-one'], rules: ['THETA-3.2'] },
  'accept-hash-mismatch': { targets: ['theta/handshake/hash-one-bit-off', 'theta/handshake/hash-top-bit-off'], rules: ['THETA-3.3'] },
  'accept-31-byte-key': { targets: ['theta/handshake/key-31-bytes'], rules: ['THETA-3.4'] },
  'accept-23-byte-nonce': { targets: ['theta/handshake/nonce-23-bytes'], rules: ['THETA-3.5'] },
  'union-capabilities': {
    targets: ['theta/handshake/no-capabilities-no-token', ...['disjoint', 'subset', 'superset', 'empty', 'unsorted'].map((n) => `theta/ack/capabilities-${n}`)],
    rules: ['THETA-4.5'],
  },
  'unsorted-capabilities': { targets: ['theta/ack/capabilities-unsorted'], rules: ['THETA-4.5'] },
  'constant-server-nonce': { targets: ['theta/ack/concurrent-sessions'], rules: ['THETA-4.2'] },
  // The cases that watch heartbeats longer than the MUST window of THETA-5.1 and the echo window of 5.3 (interval + answerDeadlineMs).
  'no-heartbeat': { targets: matching(/^theta\/heartbeat\/(rate|echo|rtt-plausible)$/), rules: ['THETA-5.1'] },
  'heartbeat-without-echo': { targets: matching(/^theta\/heartbeat\/(rate|echo|rtt-plausible)$/), rules: ['THETA-5.3'] },
  'never-time-out': { targets: ['theta/handshake/timeout', 'theta/heartbeat/timeout', 'theta/heartbeat/timeout-without-heartbeats'], rules: ['THETA-3.7', 'THETA-5.6'] },
  'reorder-replication': { targets: matching(/^theta\/replication\//), rules: ['THETA-6.1'] },
  'hash-all-but-last': { targets: ['theta/assets/one-byte', 'theta/assets/odd-frame-sizes', 'theta/assets/2-mib'], rules: ['THETA-7.1'] },
  'wrong-close-code': { targets: violations, rules: [...VIOLATION_RULES] },
  'accept-data-before-hello': { targets: ['theta/handshake/replication-before-hello', 'theta/handshake/assets-before-hello'], rules: ['THETA-3.8'] },
};

t.same(Object.keys(faultExpectations).sort(), Object.keys(faults).sort(), 'every fault is tested');
t.same(Object.values(faultExpectations).flatMap((e) => e.targets).filter((id) => !ids.includes(id)), [], 'every target is a case of the suite');
t.ok(violations.length >= 25, `the violation cases are found (${violations.length})`);

t.test('the conforming core passes every case (in process)', async (t) => {
  const run = await runInProcess();
  t.same(run.cases.filter((c) => c.verdict !== 'pass').map((c) => `${c.id}: ${c.verdict} ${c.rule ?? ''} ${c.message ?? ''}`), []);
  t.ok(run.probes.every((p) => p.ok), 'every probe passed');
});

for (const [fault, exp] of Object.entries(faultExpectations)) {
  t.test(`fault ${fault} (in process)`, async (t) => {
    checkFaultRun(t, await runInProcess({ fault }), exp);
  });
}
