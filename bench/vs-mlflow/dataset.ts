/**
 * The generated data set both servers load: deterministic (seeded), explicit start times one second apart and
 * distinct metric values, so MLflow's tie-break can never differ and results compare by run name.
 */
export const SYMBOLS = ["AAPL", "MSFT", "GOOG", "AMZN"];

export interface RunSpec {
  name: string;
  startTime: number;
  params: { key: string; value: string }[];
  tags: { key: string; value: string }[];
  metrics: { key: string; value: number; timestamp: number; step: number }[];
}

/** mulberry32: a small seeded PRNG, so every round and server gets the same data. */
export function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BASE_TIME = 1_700_000_000_000;
const METRIC_KEYS = ["r2", "sharpe_ratio", "max_drawdown", "sortino", "calmar", "volatility", "annual_return", "hit_rate", "mae", "rmse"];

/** Runs `from` … `from + count − 1` of the data set (3 params, 2 tags, 10 metrics each). */
export function runSpecs(from: number, count: number, seed = 42): RunSpec[] {
  const rnd = random(seed + from);
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    const startTime = BASE_TIME + i * 1000;
    // The run index in the low digits keeps every value distinct across runs.
    const distinct = (x: number) => Math.round(x * 1e6) / 1e6 + i * 1e-9;
    return {
      name: `bench-run-${String(i).padStart(6, "0")}`,
      startTime,
      params: [
        { key: "symbol", value: SYMBOLS[i % SYMBOLS.length]! },
        { key: "learning_rate", value: String([0.001, 0.01, 0.1][i % 3]) },
        { key: "window", value: String(20 + (i % 40)) },
      ],
      tags: [
        { key: "model_type", value: ["ridge", "xgboost", "lstm"][i % 3]! },
        { key: "desk", value: `desk-${i % 7}` },
      ],
      metrics: METRIC_KEYS.map((key) => ({ key, value: distinct(key === "sharpe_ratio" ? rnd() * 4 - 1 : rnd()), timestamp: startTime + 500, step: 0 })),
    };
  });
}

export const SEARCH_FILTER = "params.symbol = 'AAPL' and metrics.r2 > 0.5";
export const SEARCH_ORDER = ["metrics.sharpe_ratio DESC"];
export const PAGING_ORDER = ["metrics.r2 DESC"];
