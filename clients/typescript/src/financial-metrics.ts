/**
 * Financial metrics for trading-model evaluation, with exactly the definitions of the golden fixture
 * clients/fixtures/financial-metrics.json (computed independently with numpy/pandas by the script beside it):
 *
 * - `r`: per-period simple returns, `n = r.length`;
 * - `p`: periods per year (default 252); `rf`: per-period risk-free rate (default 0).
 *
 * Undefined cases give `NaN`, never an exception: every metric is NaN when `n < 2`; Sharpe is NaN when
 * `stdev(r − rf) = 0`; Sortino is NaN when the downside deviation is 0; Calmar is NaN when the max drawdown
 * is 0; annualised return (and so Calmar) is NaN when `∏(1+r) < 0`. Annualised volatility 0 and max
 * drawdown 0 stay defined.
 */

export interface FinancialMetricOptions {
  /** Periods per year; default 252 (trading days). */
  periodsPerYear?: number;
  /** Per-period risk-free rate; default 0. */
  riskFree?: number;
}

export interface FinancialMetrics {
  annualizedReturn: number;
  annualizedVolatility: number;
  sharpeRatio: number;
  sortinoRatio: number;
  maxDrawdown: number;
  calmarRatio: number;
  hitRate: number;
}

const DEFAULT_P = 252;

function mean(xs: readonly number[]): number {
  let sum = 0;
  for (const x of xs) sum += x;
  return sum / xs.length;
}

/** Sample standard deviation (ddof = 1), two-pass. */
function stdev(xs: readonly number[]): number {
  const m = mean(xs);
  let ss = 0;
  for (const x of xs) ss += (x - m) ** 2;
  return Math.sqrt(ss / (xs.length - 1));
}

/** Annualised return `(∏(1 + r))^(p/n) − 1`; NaN when n < 2 or the product is negative. */
export function annualizedReturn(r: readonly number[], options: FinancialMetricOptions = {}): number {
  const n = r.length;
  if (n < 2) return NaN;
  let growth = 1;
  for (const x of r) growth *= 1 + x;
  if (growth < 0) return NaN;
  return growth ** ((options.periodsPerYear ?? DEFAULT_P) / n) - 1;
}

/** Annualised volatility `stdev(r, ddof=1)·√p`; NaN when n < 2 (0 for constant returns). */
export function annualizedVolatility(r: readonly number[], options: FinancialMetricOptions = {}): number {
  if (r.length < 2) return NaN;
  return stdev(r) * Math.sqrt(options.periodsPerYear ?? DEFAULT_P);
}

/** Sharpe ratio `mean(r − rf) / stdev(r − rf, ddof=1)·√p`; NaN when n < 2 or the deviation is 0. */
export function sharpeRatio(r: readonly number[], options: FinancialMetricOptions = {}): number {
  if (r.length < 2) return NaN;
  const excess = r.map((x) => x - (options.riskFree ?? 0));
  const sd = stdev(excess);
  if (sd === 0) return NaN;
  return (mean(excess) / sd) * Math.sqrt(options.periodsPerYear ?? DEFAULT_P);
}

/**
 * Sortino ratio `mean(r − rf) / √(mean(min(0, r − rf)²))·√p` — the downside deviation over all periods;
 * NaN when n < 2 or no period is below rf.
 */
export function sortinoRatio(r: readonly number[], options: FinancialMetricOptions = {}): number {
  if (r.length < 2) return NaN;
  const excess = r.map((x) => x - (options.riskFree ?? 0));
  const downside = Math.sqrt(mean(excess.map((x) => Math.min(0, x) ** 2)));
  if (downside === 0) return NaN;
  return (mean(excess) / downside) * Math.sqrt(options.periodsPerYear ?? DEFAULT_P);
}

/**
 * Max drawdown on the compounded equity curve `E_0 = 1, E_t = ∏_{i≤t}(1 + r_i)`: `min_t (E_t − peak_t) / peak_t`,
 * a negative fraction (−0.25 = a 25 % fall from the running peak), 0 when it never falls; NaN when n < 2.
 */
export function maxDrawdown(r: readonly number[]): number {
  if (r.length < 2) return NaN;
  let equity = 1;
  let peak = 1;
  let worst = 0;
  for (const x of r) {
    equity *= 1 + x;
    peak = Math.max(peak, equity);
    worst = Math.min(worst, (equity - peak) / peak);
  }
  return worst === 0 ? 0 : worst; // never -0
}

/** Calmar ratio `annualised return / |max drawdown|`; NaN when n < 2 or there is no drawdown. */
export function calmarRatio(r: readonly number[], options: FinancialMetricOptions = {}): number {
  const mdd = maxDrawdown(r);
  if (!(mdd !== 0)) return NaN; // 0 or NaN
  return annualizedReturn(r, options) / Math.abs(mdd);
}

/** Hit rate: the share of periods with `r > 0` (zeros are misses); NaN when n < 2. */
export function hitRate(r: readonly number[]): number {
  if (r.length < 2) return NaN;
  return r.filter((x) => x > 0).length / r.length;
}

/** All seven metrics at once. */
export function financialMetrics(r: readonly number[], options: FinancialMetricOptions = {}): FinancialMetrics {
  return {
    annualizedReturn: annualizedReturn(r, options),
    annualizedVolatility: annualizedVolatility(r, options),
    sharpeRatio: sharpeRatio(r, options),
    sortinoRatio: sortinoRatio(r, options),
    maxDrawdown: maxDrawdown(r),
    calmarRatio: calmarRatio(r, options),
    hitRate: hitRate(r),
  };
}
