/** What the benchmark scripts share: their numeric options and their statistics. */

/**
 * The positive integer given as `--NAME N` on the command line, or `dflt`.
 * @throws Error naming the option when the value is not a positive integer.
 */
export function intArg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!Number.isSafeInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer`);
  return v;
}

/** The text given as `--NAME VALUE` on the command line, or `dflt`. */
export function stringArg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? dflt) : dflt;
}

/** Quantile `q` (0–1) of `values`, interpolated between closest ranks (R type 7); NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/** The median of `values` (the mean of the two middle ones for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/**
 * Least-squares line through `points`: its slope (y units per x unit) and
 * intercept, the residuals' standard deviation (y units, n − 2 degrees of
 * freedom) and the slope's standard error (`residualSd / √Σ(x − x̄)²`: a
 * slope within about two of them of 0 is noise). Undefined for fewer than 3
 * points or when every x is the same.
 */
export function linearFit(points: readonly { readonly x: number; readonly y: number }[]): { slope: number; intercept: number; residualSd: number; slopeSe: number; n: number } | undefined {
  const n = points.length;
  if (n < 3) return undefined;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.x - mx) * (p.y - my);
    sxx += (p.x - mx) ** 2;
  }
  if (sxx === 0) return undefined;
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const ss = points.reduce((a, p) => a + (p.y - intercept - slope * p.x) ** 2, 0);
  const residualSd = Math.sqrt(ss / (n - 2));
  return { slope, intercept, residualSd, slopeSe: residualSd / Math.sqrt(sxx), n };
}
