/**
 * For each deliberate fault of the reference server: the cases that must
 * catch it, and the rules its failures may name. Every other case must pass.
 */
import t from 'tap';
import { checkFaultRun, type FaultExpectation } from '../_support/faults.js';
import { runInProcess } from './_run.js';

const unknown = ['0x00', '0x04', '0x7f', '0xfe'].map((b) => `proton/identification/unknown-discriminator-${b}`);
const violationRules = ['PROTON-3.2', 'PROTON-3.3', 'PROTON-3.5', 'PROTON-4.2', 'PROTON-4.6', 'PROTON-5.2', 'PROTON-5.5', 'PROTON-6.1', 'PROTON-8.3', 'PROTON-8.6'];

export const faultExpectations: Record<string, FaultExpectation> = {
  'accept-second-connection': { targets: ['proton/connection/second-connection', 'proton/connection/served-after-second-connection'], rules: ['PROTON-2.2'] },
  'ignore-unknown-discriminator': { targets: unknown, rules: ['PROTON-3.2'] },
  'allow-duplicate-stream': {
    targets: ['event', 'commit', 'action'].map((k) => `proton/identification/duplicate-${k}-stream`).concat('proton/identification/reopen-after-end'),
    rules: ['PROTON-3.3'],
  },
  'never-time-out': { targets: ['proton/identification/timeout', 'proton/timeouts/partial-event-id', 'proton/timeouts/partial-commit-id'], rules: ['PROTON-3.4', 'PROTON-7.1'] },
  'wrong-ack-id': {
    targets: ['single', 'one-at-a-time', 'pipelined', 'split-bytes', 'sparse-ids', 'repeated-id', 'fin-after-ids', 'truncated-then-fin'].map((n) => `proton/event/${n}`),
    rules: ['PROTON-4.3'],
  },
  'accept-non-increasing-ids': { targets: ['first-id-zero', 'repeated-id', 'decreasing-id'].map((n) => `proton/event/${n}`), rules: ['PROTON-4.2'] },
  'wrong-commit-answer': { targets: ['answer', 'wrap-around', 'sequential', 'fin-after-request'].map((n) => `proton/commit/${n}`).concat('proton/action/all-streams-together'), rules: ['PROTON-5.1'] },
  'stop-acks-after-30': { targets: ['proton/event/long-session'], rules: ['PROTON-4.3'] },
  'stop-actions-after-10': { targets: ['proton/action/continuity-and-rate', 'proton/action/fin-after-discriminator'], rules: ['PROTON-6.3'] },
  'skip-action-items': { targets: ['continuity-and-rate', 'fin-after-discriminator', 'client-bytes'].map((n) => `proton/action/${n}`), rules: ['PROTON-6.2'] },
  'wrong-close-code': {
    targets: [...unknown, 'proton/event/first-id-zero', 'proton/event/truncated-then-fin', 'proton/commit/second-outstanding', 'proton/action/client-bytes', 'proton/errors/reset-event-stream', 'proton/errors/stop-sending-action-stream', 'proton/errors/stop-sending-event-stream'],
    rules: violationRules,
  },
  'ignore-reset': { targets: ['alone', 'with-streams-open', 'reconnect-at-once'].map((n) => `proton/reset/${n}`), rules: ['PROTON-9.1'] },
};

/**
 * Runs the whole suite in process against the reference core with `fault`
 * and checks which cases failed, and why (test/_support/faults.ts).
 */
export function testFault(fault: string): void {
  const exp = faultExpectations[fault]!;
  t.test(`fault ${fault}`, async (t) => {
    checkFaultRun(t, await runInProcess({ fault }), exp);
  });
}
