/** The benchmark scripts' statistics (bench/_stats.ts): the least-squares fit the soak's heap slope uses. */
import t from 'tap';
import { linearFit } from '../../bench/_stats.js';

t.test('linearFit: slope, intercept and residual sd of a least-squares line', async (t) => {
  const exact = linearFit([1, 2, 3, 4].map((x) => ({ x, y: 2 * x + 1 })));
  t.equal(exact?.slope, 2);
  t.equal(exact?.intercept, 1);
  t.equal(exact?.residualSd, 0, 'points on the line: no residual');
  // y = 0, 1, 0, 1 at x = 0..3: slope 0.2, intercept 0.2; residuals -0.2, 0.6, -0.6, 0.2 → ss 0.8, sd √(0.8 / 2).
  const noisy = linearFit([0, 1, 0, 1].map((y, x) => ({ x, y })))!;
  t.ok(Math.abs(noisy.slope - 0.2) < 1e-12, `slope ${noisy.slope}`);
  t.ok(Math.abs(noisy.intercept - 0.2) < 1e-12, `intercept ${noisy.intercept}`);
  t.ok(Math.abs(noisy.residualSd - Math.sqrt(0.4)) < 1e-12, `residual sd ${noisy.residualSd}`);
  t.ok(Math.abs(noisy.slopeSe - Math.sqrt(0.4) / Math.sqrt(5)) < 1e-12, `slope standard error ${noisy.slopeSe} (Σ(x − x̄)² = 5)`);
  t.equal(noisy.n, 4);
});

t.test('linearFit: undefined when no line is determined', async (t) => {
  t.equal(linearFit([{ x: 1, y: 1 }, { x: 2, y: 2 }]), undefined, 'two points: no residual to report');
  t.equal(linearFit([1, 2, 3].map((y) => ({ x: 5, y }))), undefined, 'one x only');
});
