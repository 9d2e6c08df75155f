/**
 * For each deliberate fault of the Moonpool reference server: the cases
 * that must catch it, the rules its failures may name, and — for a fault
 * that kills the server — the case after which the target is reported dead.
 * Every other case must pass. The matrix runs in process (virtual time);
 * the network-only cases (a chaos proxy) run over TCP for the faults they
 * are meant to catch.
 */
import t from 'tap';
import { checkFaultRun, type FaultExpectation } from '../_support/faults.js';
import { networkOnlyCases, runAgainstReference, runInProcess } from './_run.js';

const stalls = ['silent-connection-kept', 'stall-then-restore', 'stall-mid-frame'].map((n) => `moonpool/stall/${n}`);

export const faultExpectations: Record<string, FaultExpectation> = {
  'wrong-correlation-id': {
    targets: ['moonpool/correlation/single', 'moonpool/correlation/sequential', 'moonpool/correlation/many-in-flight', 'moonpool/correlation/out-of-order-ids', 'moonpool/envelope/extreme-ids', 'moonpool/envelope/coalesced'],
    rules: ['MOONPOOL-3.2', 'MOONPOOL-3.3', 'MOONPOOL-4.3'],
  },
  'wrong-pong-payload': {
    targets: ['moonpool/correlation/single', 'moonpool/envelope/split-every-byte', 'moonpool/ping/interleaved', 'moonpool/connections/many-sequential', 'moonpool/stall/stall-then-restore'],
    rules: ['MOONPOOL-4.1'],
  },
  'drop-replies-after-stall': { targets: stalls, rules: ['MOONPOOL-7.2'] },
  'close-stalled-connection': { targets: [...stalls, 'moonpool/stall/replies-held'], rules: ['MOONPOOL-7.1'] },
  'accept-oversized': {
    targets: ['oversized-length', 'oversized-length-u32-max', 'oversized-after-ping', 'oversized-header-split', 'other-connections-unaffected'].map((n) => `moonpool/framing/${n}`),
    rules: ['MOONPOOL-5.1'],
  },
  'stop-after-100': { targets: ['moonpool/correlation/many-in-flight', 'moonpool/ping/no-request-limit'], rules: ['MOONPOOL-4.2', 'MOONPOOL-3.4', 'MOONPOOL-4.4'] },
  'drop-every-7th': {
    targets: [
      ...['split-at-each-boundary', 'coalesced', 'coalesced-and-split'].map((n) => `moonpool/envelope/${n}`),
      ...['sequential', 'many-in-flight', 'out-of-order-ids'].map((n) => `moonpool/correlation/${n}`),
      'moonpool/ping/interleaved',
      'moonpool/ping/no-request-limit',
      'moonpool/connections/concurrent',
    ],
    rules: ['MOONPOOL-4.2', 'MOONPOOL-3.4'],
  },
  'crash-on-truncated': {
    targets: ['moonpool/framing/truncated-header-then-fin'],
    rules: ['MOONPOOL-5.2', 'MOONPOOL-5.3', 'MOONPOOL-6.3', 'MOONPOOL-6.4', 'MOONPOOL-8.5'],
    diesAfter: 'moonpool/framing/truncated-header-then-fin',
  },
};

/** Runs every case but the network-only ones in process against the reference core with `fault`, and checks which failed, and why. */
export function testFault(fault: string): void {
  const exp = faultExpectations[fault]!;
  t.test(`fault ${fault} (in process)`, async (t) => {
    checkFaultRun(t, await runInProcess({ fault }), exp, { targets: exp.targets.filter((id) => !networkOnlyCases.includes(id)) });
  });
}

/** Faults whose targets include a network-only case (test/moonpool/_run.ts): they are also run over TCP, for those cases. */
export const faultsWithNetworkTargets: readonly string[] = Object.keys(faultExpectations).filter((f) => faultExpectations[f]!.targets.some((id) => networkOnlyCases.includes(id)));

/** Runs the network-only cases over TCP against the reference server with `fault`, and checks which failed, and why. */
export function testFaultOverTcp(fault: string): void {
  const exp = faultExpectations[fault]!;
  t.test(`fault ${fault} (network-only cases, over TCP)`, async (t) => {
    const run = await runAgainstReference({ fault, cases: networkOnlyCases.join(',') });
    // A fault that breaks the probe's exchange adds the failing moonpool/sanity-probe case (engine/runner.ts).
    t.equal(run.cases.filter((c) => c.id !== 'moonpool/sanity-probe').length, networkOnlyCases.length, 'every network-only case ran');
    checkFaultRun(t, run, exp, { targets: exp.targets.filter((id) => networkOnlyCases.includes(id)), nonStrictAllowed: true });
  });
}
