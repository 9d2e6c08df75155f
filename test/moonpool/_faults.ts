/**
 * For each deliberate fault of the Moonpool reference server: the cases
 * that must catch it, the rules its failures may name, and — for a fault
 * that kills the server — the case after which the target is reported dead.
 * Every other case must pass.
 */
import t from 'tap';
import { byVerdict, runAgainstReference } from './_run.js';

const stalls = ['silent-connection-kept', 'stall-then-restore', 'stall-mid-frame'].map((n) => `moonpool/stall/${n}`);

export const faultExpectations: Record<string, { readonly targets: readonly string[]; readonly rules: readonly string[]; readonly diesAfter?: string }> = {
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
  'crash-on-truncated': {
    targets: ['moonpool/framing/truncated-header-then-fin'],
    rules: ['MOONPOOL-5.2', 'MOONPOOL-5.3', 'MOONPOOL-6.3', 'MOONPOOL-6.4', 'MOONPOOL-8.5'],
    diesAfter: 'moonpool/framing/truncated-header-then-fin',
  },
};

/** Runs the whole suite against the server with `fault` and checks which cases failed, and why. */
export function testFault(fault: string): void {
  const exp = faultExpectations[fault]!;
  t.test(`fault ${fault}`, async (t) => {
    const run = await runAgainstReference({ fault });
    const failed = run.cases.filter((c) => c.verdict === 'fail' || c.verdict === 'timeout');
    for (const id of exp.targets) {
      const c = run.cases.find((x) => x.id === id);
      t.ok(c && (c.verdict === 'fail' || c.verdict === 'timeout'), `${id} catches it (${c?.verdict ?? 'missing'})`);
    }
    t.same(failed.filter((c) => !exp.rules.includes(c.rule ?? '')).map((c) => `${c.id}: ${c.rule ?? ''} ${c.message ?? ''}`), [], `every failure names ${exp.rules.join(' or ')}`);
    const v = byVerdict(run);
    t.same(v['error'] ?? [], [], 'no harness error');
    if (exp.diesAfter) {
      const died = run.cases.filter((c) => c.targetDiedAfter).map((c) => c.id);
      t.same(died, [exp.diesAfter], `the target is reported dead after ${exp.diesAfter}, once`);
      const at = run.cases.findIndex((c) => c.id === exp.diesAfter);
      t.ok(run.cases.slice(at + 1).every((c) => c.verdict === 'skipped'), 'the rest is skipped, not a cascade of timeouts');
      t.ok(run.cases.slice(0, at).every((c) => c.verdict === 'pass'), 'everything before it passed');
    } else {
      t.same(v['skipped'] ?? [], [], 'no skipped case: the target stays usable');
      t.ok(run.probes.every((p) => p.ok), 'the sanity probe keeps passing');
    }
  });
}
