/**
 * The workload, over MLflow's REST API, identical for every server: ingest, load, search, paging, get-run.
 */
import { percentile } from "../stats.js";
import { PAGING_ORDER, SEARCH_FILTER, SEARCH_ORDER, runSpecs, type RunSpec } from "./dataset.js";
import type { RestClient } from "./http-client.js";

const API = "/api/2.0/mlflow";

async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

async function createExperiment(client: RestClient, name: string): Promise<string> {
  const { experiment_id } = await client.post<{ experiment_id: string }>(`${API}/experiments/create`, { name });
  return experiment_id;
}

export interface IngestResult {
  pointsPerSecond: number;
  p50: number;
  p99: number;
}

/**
 * `calls` log-batch calls of 1,000 metrics each from `clients` concurrent clients into 10 runs; `onStart` is called
 * once the runs exist, just before the first call.
 */
export async function ingest(client: RestClient, calls: number, clients = 4, onStart?: () => void): Promise<IngestResult> {
  const experimentId = await createExperiment(client, `ingest-${Date.now()}`);
  const runIds: string[] = [];
  for (let r = 0; r < 10; r++) {
    const { run } = await client.post(`${API}/runs/create`, { experiment_id: experimentId, run_name: `ingest-${r}`, start_time: Date.now() });
    runIds.push(run.info.run_id);
  }
  const latencies: number[] = [];
  onStart?.();
  const started = performance.now();
  await pool(
    Array.from({ length: calls }, (_, b) => b),
    clients,
    async (b) => {
      const now = Date.now();
      const metrics = Array.from({ length: 1000 }, (_, i) => ({ key: `m${i % 20}`, value: Math.random(), timestamp: now, step: b * 50 + Math.floor(i / 20) }));
      const t0 = performance.now();
      await client.post(`${API}/runs/log-batch`, { run_id: runIds[b % 10], metrics });
      latencies.push(performance.now() - t0);
    },
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { pointsPerSecond: (calls * 1000) / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

export interface Loaded {
  experimentId: string;
  /** run name → the server's run id */
  ids: Map<string, string>;
  runsPerSecond: number;
}

/** Creates each run and gives it its 3 params, 2 tags and 10 metrics in one log-batch; 4 clients at once. */
export async function load(client: RestClient, specs: RunSpec[], into?: Loaded): Promise<Loaded> {
  const experimentId = into?.experimentId ?? (await createExperiment(client, `load-${Date.now()}`));
  const ids = into?.ids ?? new Map<string, string>();
  const started = performance.now();
  await pool(specs, 4, async (spec) => {
    const { run } = await client.post(`${API}/runs/create`, { experiment_id: experimentId, run_name: spec.name, start_time: spec.startTime });
    await client.post(`${API}/runs/log-batch`, { run_id: run.info.run_id, params: spec.params, tags: spec.tags, metrics: spec.metrics });
    ids.set(spec.name, run.info.run_id);
  });
  return { experimentId, ids, runsPerSecond: specs.length / ((performance.now() - started) / 1000) };
}

/** Loads runs N0 … N0+count−1 of the data set in chunks (for the flat-search check at 20,000 runs). */
export async function loadMore(client: RestClient, loaded: Loaded, from: number, count: number): Promise<void> {
  for (let at = from; at < from + count; at += 2000) await load(client, runSpecs(at, Math.min(2000, from + count - at)), loaded);
}

const names = (runs: { info: { run_name: string } }[] | undefined) => (runs ?? []).map((r) => r.info.run_name);

export interface SearchResult {
  p50: number;
  p99: number;
  /** Run names of the first page, in order. */
  page: string[];
}

export async function searchFirstPage(client: RestClient, experimentId: string, reps: number): Promise<SearchResult> {
  const latencies: number[] = [];
  let page: string[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const res = await client.post(`${API}/runs/search`, { experiment_ids: [experimentId], filter: SEARCH_FILTER, order_by: SEARCH_ORDER, max_results: 100 });
    latencies.push(performance.now() - t0);
    page = names(res.runs);
  }
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), page };
}

export interface PagingResult {
  /** Median total time to reach page 10, ms. */
  totalMs: number;
  /** Run names of pages 1–10, in order. */
  runs: string[];
}

export async function pageToTen(client: RestClient, experimentId: string, reps: number): Promise<PagingResult> {
  const totals: number[] = [];
  let runs: string[] = [];
  for (let i = 0; i < reps; i++) {
    const seen: string[] = [];
    let token: string | undefined;
    const t0 = performance.now();
    for (let p = 0; p < 10; p++) {
      const res = await client.post(`${API}/runs/search`, { experiment_ids: [experimentId], order_by: PAGING_ORDER, max_results: 100, page_token: token });
      seen.push(...names(res.runs));
      token = res.next_page_token;
      if (!token) break;
    }
    totals.push(performance.now() - t0);
    runs = seen;
  }
  totals.sort((a, b) => a - b);
  return { totalMs: percentile(totals, 50), runs };
}

export async function getRuns(client: RestClient, runIds: string[], reps: number): Promise<{ p50: number; p99: number }> {
  const latencies: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await client.get(`${API}/runs/get`, { run_id: runIds[i % runIds.length]! });
    latencies.push(performance.now() - t0);
  }
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}
