/**
 * Fuzzing Garou (suites/garou/fuzz.ts) through `wirecheck fuzz
 * --in-process` (the reference core over the in-memory driver, virtual
 * time), seed 1, all generators in campaign order (20 programs a round):
 * no finding against the conforming core; each fault that hostile input or
 * rooms reached without the server's room ids can show is found within its
 * stated budget, under its rule; the missing relay (a SHOULD) is a
 * non-strict case within its budget, never a finding.
 *
 * The budgets are the largest count over seeds 1–5 measured by
 * `npm run bench:fuzz -- --budgets-only --protocols garou` (README, "Garou
 * chat", Fuzz), rounded up: a campaign of that many programs must find the
 * fault.
 */
import t from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../harness/cli.js';

const quiet = { out: () => undefined, err: () => undefined };

/** What a campaign's report (`garou.fuzz.json`) says. */
interface Outcome {
  readonly code: number;
  readonly findings: readonly { readonly rule: string; readonly arbitrary: string; readonly foundAfter: { readonly generated: number } }[];
  readonly generated: number;
  readonly nonStrict: number;
}

async function campaign(t: { teardown(fn: () => unknown): void }, runs: number, fault?: string): Promise<Outcome> {
  const dir = await mkdtemp(path.join(tmpdir(), 'garou-fuzz-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const code = await main(['fuzz', '--in-process', '--protocol', 'garou', '--fast', '--runs', String(runs), '--seed', '1', '-q', '-o', dir, ...(fault ? ['--fault', fault] : [])], quiet);
  const report = JSON.parse(await readFile(path.join(dir, 'garou.fuzz.json'), 'utf8')) as { findings: Outcome['findings']; stats: { generated: number; nonStrict: number } };
  return { code, findings: report.findings, generated: report.stats.generated, nonStrict: report.stats.nonStrict };
}

t.test('no finding against the conforming core (60 programs: the first three rounds, 20 programs each)', async (t) => {
  const r = await campaign(t, 60);
  t.equal(r.code, 0, 'exit 0');
  t.equal(r.generated, 60, 'every program ran');
  t.same(r.findings.map((f) => f.rule), []);
  t.equal(r.nonStrict, 0, 'no SHOULD missed either');
});

/** Fault → the rule its finding names, the generator that finds it, and its budget (programs of the campaign). */
const budgets: readonly (readonly [fault: string, rule: string, by: string, budget: number])[] = [
  ['no-handshake-timeout', 'GAROU-4.5', 'malformed-frames', 10],
  ['ignore-stream-type', 'GAROU-3.3', 'malformed-frames', 10],
  ['ignore-frame-limit', 'GAROU-2.3', 'malformed-frames', 20],
  ['wrong-close-code', 'GAROU-13.2', 'malformed-frames', 5],
  ['no-pong', 'GAROU-12.1', 'malformed-frames', 15],
  ['answers-out-of-order', 'GAROU-5.2', 'malformed-frames', 20],
  ['no-room-init', 'GAROU-7.4', 'datagrams', 25],
  ['wrong-shard', 'GAROU-3.6', 'datagrams', 25],
  ['seq-gap', 'GAROU-7.1', 'datagrams', 30],
];

for (const [fault, rule, by, budget] of budgets) {
  t.test(`fault ${fault} is found within ${budget} programs, under ${rule}, by ${by}`, async (t) => {
    const r = await campaign(t, budget, fault);
    t.equal(r.code, 1, 'exit 1: findings');
    const f = r.findings.find((x) => x.rule === rule);
    t.ok(f, `a finding under ${rule} (found: ${r.findings.map((x) => `${x.rule} by ${x.arbitrary}`).join(', ') || 'none'})`);
    t.equal(f?.arbitrary, by, `by ${by}`);
    t.ok((f?.foundAfter.generated ?? Infinity) <= budget, `within the budget (after ${f?.foundAfter.generated ?? '-'} programs)`);
  });
}

t.test('fault no-datagram-relay (GAROU-11.3, a SHOULD): non-strict cases within 25 programs, never a finding', async (t) => {
  const r = await campaign(t, 25, 'no-datagram-relay');
  t.equal(r.code, 0, 'exit 0: a missed SHOULD is not a finding');
  t.same(r.findings.map((f) => f.rule), []);
  t.ok(r.nonStrict > 0, `non-strict cases seen (${r.nonStrict})`);
});
