/**
 * The engine's obligation records (harness/engine/obligations.ts) on a toy
 * table: validation of records, and the server-mode and monitor-mode
 * derivations (nominal time, windows, deadlines, verdicts).
 */
import t from 'tap';
import {
  arm,
  deadlineOf,
  defineObligations,
  dueBy,
  judge,
  nextDeadlineOf,
  nextDueOf,
  nominalAt,
  overdueAt,
  windowOf,
  windowText,
  type ObligationRecord,
} from '../../harness/engine/obligations.js';

type Trigger = 'request' | 'fin' | 'silence' | 'other';

/** An answer due 100 ms after a request (SHOULD ± 10 ms, MUST by 300 ms). */
const answer: ObligationRecord<Trigger> = {
  rule: 'TOY-1', triggers: ['request'], nominalMs: 100, should: { earliestMs: 90, latestMs: 110 }, must: { earliestMs: 0, latestMs: 300 },
  severity: 'must', owed: { kind: 'answer', what: 'the answer' }, summary: 'answer after 100 ms',
};
/** A FIN that SHOULD come within 20 ms, any time is no MUST breach. */
const fin: ObligationRecord<Trigger> = {
  rule: 'TOY-2', triggers: ['fin'], nominalMs: 0, should: { earliestMs: 0, latestMs: 20 }, must: { earliestMs: 0, latestMs: Infinity },
  severity: 'should', owed: { kind: 'action', what: 'FIN' }, summary: 'FIN',
};
/** A close the server MAY make after 1 s of silence, not before 900 ms. */
const idle: ObligationRecord<Trigger> = {
  rule: 'TOY-3', triggers: ['silence', 'other'], nominalMs: 1000, should: { earliestMs: 900, latestMs: Infinity }, must: { earliestMs: 900, latestMs: Infinity },
  severity: 'may', owed: { kind: 'close', code: 7 }, summary: 'idle close',
};
const off: ObligationRecord<Trigger> = { ...fin, rule: 'TOY-4', triggers: [] };

t.test('defineObligations indexes records by trigger and rule', async (t) => {
  const table = defineObligations([answer, fin, idle, off]);
  t.same(table.byTrigger('request').map((r) => r.rule), ['TOY-1']);
  t.same(table.byTrigger('other').map((r) => r.rule), ['TOY-3'], 'a record has several triggers');
  t.same(table.byTrigger('silence').map((r) => r.rule), ['TOY-3']);
  t.equal(table.byRule('TOY-4'), off, 'a record with no trigger (disabled by the profile) is still in the table');
  t.throws(() => table.byRule('TOY-9'), /no obligation record for rule TOY-9/);
});

t.test('trigger: the records a trigger arms with their least close and deadline offsets (µs), one object per trigger', async (t) => {
  const early: ObligationRecord<Trigger> = { ...idle, rule: 'TOY-5', triggers: ['other'], nominalMs: 500, should: { earliestMs: 400, latestMs: 600 }, must: { earliestMs: 0, latestMs: 800 }, severity: 'must' };
  const table = defineObligations([answer, fin, idle, off, early]);
  const other = table.trigger('other');
  t.same(other.records.map((r) => r.rule), ['TOY-3', 'TOY-5']);
  t.equal(other.trigger, 'other');
  t.equal(other.closeUs, 500_000, 'the earlier of the two closes (TOY-5 at 500 ms)');
  t.equal(other.deadlineUs, 800_000, 'a MAY has no deadline: TOY-5 MUST by 800 ms');
  t.equal(table.trigger('other'), other, 'made once');
  const request = table.trigger('request');
  t.equal(request.closeUs, Infinity, 'no close owed');
  t.equal(request.deadlineUs, 300_000, 'MUST deadline');
  t.equal(table.trigger('fin').deadlineUs, 20_000, 'a SHOULD obligation: its SHOULD deadline');
  t.equal(table.trigger('silence').deadlineUs, Infinity, 'only a MAY: no deadline');
  const none = defineObligations([off]).trigger('fin');
  t.same([none.records.length, none.closeUs, none.deadlineUs], [0, Infinity, Infinity], 'a trigger with no record: nothing to look at');
});

t.test('defineObligations rejects inconsistent records, naming the rule', async (t) => {
  const bad: [string, ObligationRecord<Trigger>[], RegExp][] = [
    ['duplicate rule', [answer, { ...fin, rule: 'TOY-1' }], /obligation TOY-1: rule id used by two records/],
    ['empty band', [{ ...answer, should: { earliestMs: 110, latestMs: 90 } }], /obligation TOY-1: should band \[110, 90\] ms is empty/],
    ['should not inside must', [{ ...answer, must: { earliestMs: 95, latestMs: 300 } }], /TOY-1: should band \[90, 110\] ms is not inside the must band \[95, 300\] ms/],
    ['nominal outside should', [{ ...answer, nominalMs: 120 }], /TOY-1: nominal time 120 ms is outside the should band/],
    ['MUST with no deadline', [{ ...answer, must: { earliestMs: 0, latestMs: Infinity } }], /TOY-1: a MUST obligation needs a finite must.latestMs/],
    ['SHOULD with no deadline', [{ ...fin, should: { earliestMs: 0, latestMs: Infinity } }], /TOY-2: a SHOULD obligation needs a finite should.latestMs/],
    ['NaN', [{ ...answer, must: { earliestMs: Number.NaN, latestMs: 300 } }], /TOY-1: must band \[NaN, 300\] ms is empty or not a number/],
  ];
  for (const [name, records, err] of bad) t.throws(() => defineObligations(records), err, name);
});

t.test('windows, nominal time and deadlines are relative to the trigger, in µs', async (t) => {
  const a = arm(answer, 'request', 5_000, 'req 1');
  t.equal(nominalAt(a), 105_000);
  t.same(windowOf(a, 'should'), { lo: 95_000, hi: 115_000 });
  t.same(windowOf(a, 'must'), { lo: 5_000, hi: 305_000 });
  t.same(deadlineOf(a), { t: 305_000, severity: 'must' }, 'a MUST is missed after its MUST band');
  t.same(deadlineOf(arm(fin, 'fin', 0, null)), { t: 20_000, severity: 'should' }, 'a SHOULD is missed after its SHOULD band');
  t.equal(deadlineOf(arm(idle, 'silence', 0, null)), undefined, 'a MAY is never missed');
});

t.test('judge: SHOULD band accepted, MUST band non-strict, outside it a MUST breach, early or late', async (t) => {
  const a = arm(answer, 'request', 0, null);
  t.equal(judge(a, 100_000), undefined, 'nominal');
  t.equal(judge(a, 90_000), undefined, 'SHOULD band edge');
  t.equal(judge(a, 110_000), undefined, 'SHOULD band edge');
  t.match(judge(a, 89_999), { rule: 'TOY-1', severity: 'should', when: 'early', window: { lo: 90_000, hi: 110_000 }, nominal: 100_000 });
  t.match(judge(a, 110_001), { rule: 'TOY-1', severity: 'should', when: 'late' });
  t.match(judge(a, 300_001), { rule: 'TOY-1', severity: 'must', when: 'late', window: { lo: 0, hi: 300_000 } });
  const i = arm(idle, 'other', 1_000, null);
  t.match(judge(i, 900_999), { rule: 'TOY-3', severity: 'must', when: 'early' }, 'a MAY too early');
  t.equal(judge(i, 10_000_000), undefined, 'a MAY late is fine');
});

t.test('server mode: act at the nominal time', async (t) => {
  const armed = [arm(answer, 'request', 0, 'a'), arm(fin, 'fin', 50_000, 'b'), arm(idle, 'silence', 0, 'c')];
  t.same(dueBy(armed, 49_999).map((a) => a.subject), [], 'nothing before a nominal time');
  t.same(dueBy(armed, 50_000).map((a) => a.subject), ['b']);
  t.same(dueBy(armed, 100_000).map((a) => a.subject), ['a', 'b'], 'in the order given');
  t.equal(nextDueOf(armed, 0), 50_000);
  t.equal(nextDueOf(armed, 70_000), 70_000, 'a nominal time passed is due now');
  t.equal(nextDueOf([], 0), undefined);
});

t.test('monitor mode: deadlines and what is overdue', async (t) => {
  const armed = [arm(answer, 'request', 0, 'a'), arm(fin, 'fin', 50_000, 'b'), arm(idle, 'silence', 0, 'c')];
  t.equal(nextDeadlineOf(armed), 70_001, 'the SHOULD deadline of the FIN, plus 1 µs');
  t.same(overdueAt(armed, 70_000), [], 'not at the deadline itself');
  t.same(overdueAt(armed, 70_001).map((o) => [o.armed.subject, o.deadline, o.severity]), [['b', 70_000, 'should']]);
  t.same(overdueAt(armed, 400_000).map((o) => [o.armed.subject, o.deadline, o.severity]), [['a', 300_000, 'must'], ['b', 70_000, 'should']], 'in the order given; a MAY never');
  t.equal(nextDeadlineOf([arm(idle, 'silence', 0, null)]), undefined);
});

t.test('windowText', async (t) => {
  const rel = (x: number) => `+${x / 1000}ms`;
  t.equal(windowText({ lo: 0, hi: 20_000 }, rel), 'between +0ms and +20ms');
  t.equal(windowText({ lo: 900_000, hi: Infinity }, rel), 'from +900ms');
  t.equal(windowText({ lo: -Infinity, hi: 5_000 }, rel), 'by +5ms');
});
