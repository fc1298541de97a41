/**
 * SearchService over HTTP on both stores: MLflow's runs/search (and its /ajax-api twin), the seed endpoints
 * GET /mlflow/experiments/{experiment_name}/runs and POST /mlflow/search, and the NDJSON leaderboard read line by line.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STORE_KINDS, startTestLogbook, type TestLogbook } from "../harness/logbook.js";

describe.each(STORE_KINDS)("Search over HTTP on %s", (kind) => {
  let lb: TestLogbook;
  let url: string;
  let experimentId: string;
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const get = async (path: string) => {
    const res = await fetch(`${url}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  beforeAll(async () => {
    lb = await startTestLogbook(kind, { label: "search-http" });
    url = lb.httpUrl;
    experimentId = (await post("/api/2.0/mlflow/experiments/create", { name: "desk/AAPL" })).body.experiment_id as string;
    const runs: [string, number, number | string | undefined][] = [
      ["one", 1000, 1.5],
      ["two", 2000, 2.5],
      ["three", 3000, "NaN"],
      ["four", 4000, undefined],
      ["five", 5000, 2.5],
    ];
    for (const [name, start, sharpe] of runs) {
      const run = (await post("/api/2.0/mlflow/runs/create", { experiment_id: experimentId, run_name: name, start_time: start })).body.run;
      const metrics = sharpe === undefined ? [] : [{ key: "sharpe_ratio", value: sharpe, timestamp: start, step: 0 }];
      await post("/api/2.0/mlflow/runs/log-batch", {
        run_id: run.info.run_id,
        params: [{ key: "symbol", value: "AAPL" }],
        metrics: [...metrics, { key: "r2", value: start / 10_000, timestamp: start, step: 0 }],
      });
    }
  });
  afterAll(async () => {
    await lb?.close();
  });

  const nameOf = (body: Record<string, any>) => ((body.runs ?? []) as { info: { run_name: string } }[]).map((r) => r.info.run_name);

  it("POST /api/2.0/mlflow/runs/search filters, orders and pages as MLflow", async () => {
    const body = { experiment_ids: [experimentId], filter: "metrics.r2 > 0.15", order_by: ["metrics.sharpe_ratio DESC"], max_results: 2 };
    const first = await post("/api/2.0/mlflow/runs/search", body);
    expect(first.status).toBe(200);
    expect(nameOf(first.body)).toEqual(["five", "two"]);
    expect(typeof first.body.next_page_token).toBe("string");
    const second = await post("/ajax-api/2.0/mlflow/runs/search", { ...body, page_token: first.body.next_page_token });
    expect(nameOf(second.body)).toEqual(["three", "four"]);
    expect(second.body.next_page_token).toBeUndefined();
    expect((await post("/api/2.0/mlflow/runs/search", {})).body).toEqual({});
    const bad = await post("/api/2.0/mlflow/runs/search", { experiment_ids: [experimentId], filter: "metrics.r2 > 1 OR 1=1" });
    expect(bad).toEqual({ status: 400, body: { error_code: "INVALID_PARAMETER_VALUE", message: expect.stringContaining("Invalid clause(s) in filter string") } });
    const tooMany = await post("/api/2.0/mlflow/runs/search", { experiment_ids: [experimentId], max_results: 123456789 });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.message).toContain("Invalid value 123456789 for parameter 'max_results' supplied");
  });

  it("GET /mlflow/experiments/{experiment_name}/runs returns the experiment and its runs; 404 for an unknown name", async () => {
    const res = await get(`/mlflow/experiments/${encodeURIComponent("desk/AAPL")}/runs?filter=${encodeURIComponent("metrics.sharpe_ratio >= 2")}&order_by=${encodeURIComponent("start_time ASC")}`);
    expect(res.status).toBe(200);
    expect(res.body.experiment).toMatchObject({ experiment_id: experimentId, name: "desk/AAPL" });
    expect(nameOf(res.body)).toEqual(["two", "five"]);
    const paged = await get(`/mlflow/experiments/${encodeURIComponent("desk/AAPL")}/runs?max_results=4`);
    expect(nameOf(paged.body)).toEqual(["five", "four", "three", "two"]);
    expect(paged.body.next_page_token).toEqual(expect.any(String));
    const missing = await get("/mlflow/experiments/nope/runs");
    expect(missing.status).toBe(404);
    expect(missing.body.error_code).toBe("RESOURCE_DOES_NOT_EXIST");
  });

  it("POST /mlflow/search takes filter_string and experiment names, ids or none", async () => {
    const body = { filter_string: "metrics.r2 > 0.15 and params.symbol = 'AAPL'", order_by: ["metrics.sharpe_ratio DESC"] };
    expect(nameOf((await post("/mlflow/search", { ...body, experiment_names: ["desk/AAPL"] })).body)).toEqual(["five", "two", "three", "four"]);
    expect(nameOf((await post("/mlflow/search", { ...body, experiment_ids: [experimentId], max_results: 1 })).body)).toEqual(["five"]);
    expect(nameOf((await post("/mlflow/search", body)).body)).toEqual(["five", "two", "three", "four"]);
    const bad = await post("/mlflow/search", { filter_string: "metrics.r2 > 'x'" });
    expect(bad).toEqual({ status: 400, body: { error_code: "INVALID_PARAMETER_VALUE", message: "Expected numeric value type for metric. Found 'x'" } });
  });

  it("GET /mlflow/leaderboard/{symbol} streams NDJSON best first: ties share a rank, NaN last, missing left out", async () => {
    const res = await fetch(`${url}/mlflow/leaderboard/AAPL?metric=sharpe_ratio&limit=10`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    // Read line by line as the bytes arrive.
    const lines: Record<string, any>[] = [];
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        lines.push(JSON.parse(buffered.slice(0, nl)) as Record<string, any>);
        buffered = buffered.slice(nl + 1);
      }
    }
    expect(buffered).toBe("");
    expect(lines.map((l) => [l.result.rank, l.result.run_name, l.result.value])).toEqual([
      [1, "five", 2.5],
      [1, "two", 2.5],
      [3, "one", 1.5],
      [4, "three", "NaN"],
    ]);
    expect(lines[0]!.result).toMatchObject({ experiment_id: experimentId, symbol: "AAPL", metric: "sharpe_ratio", metrics: { r2: 0.5 }, params: { symbol: "AAPL" } });
    const top = await (await fetch(`${url}/mlflow/leaderboard/AAPL?metric=sharpe_ratio&limit=1&ascending=true`)).text();
    expect(top.trim().split("\n").map((l) => JSON.parse(l).result.run_name)).toEqual(["one"]);
  });

  it("GET /mlflow/leaderboard/{symbol} without metric is a 400 JSON error before any line", async () => {
    const res = await fetch(`${url}/mlflow/leaderboard/AAPL`);
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ error_code: "INVALID_PARAMETER_VALUE", message: "Missing value for required parameter 'metric'." });
  });

  it("searches experiments: MLflow's GET/POST experiments/search and GET /mlflow/experiments", async () => {
    const extra = (await post("/api/2.0/mlflow/experiments/create", { name: "desk/MSFT", tags: [{ key: "team", value: "Quant" }] })).body.experiment_id as string;
    await post("/api/2.0/mlflow/experiments/create", { name: "gone" }).then(async (r) => post("/api/2.0/mlflow/experiments/delete", { experiment_id: r.body.experiment_id }));
    const names = (body: Record<string, any>) => ((body.experiments ?? []) as { name: string }[]).map((e) => e.name);
    const byName = await post("/api/2.0/mlflow/experiments/search", { filter: "name LIKE 'desk/%'", order_by: ["name DESC"] });
    expect(names(byName.body)).toEqual(["desk/MSFT", "desk/AAPL"]);
    const byTag = await get(`/api/2.0/mlflow/experiments/search?filter=${encodeURIComponent("tags.team ILIKE 'quant'")}`);
    expect(byTag.body.experiments.map((e: { experiment_id: string }) => e.experiment_id)).toEqual([extra]);
    const seed = await get("/mlflow/experiments?max_results=2");
    expect(seed.body.experiments).toHaveLength(2);
    expect(seed.body.next_page_token).toEqual(expect.any(String));
    const rest = await get(`/mlflow/experiments?max_results=2&page_token=${encodeURIComponent(seed.body.next_page_token)}`);
    expect([...names(seed.body), ...names(rest.body)].sort()).toEqual(["Default", "desk/AAPL", "desk/MSFT"]);
    expect(names((await get("/mlflow/experiments?view_type=DELETED_ONLY")).body)).toEqual(["gone"]);
    const bad = await get(`/mlflow/experiments?filter=${encodeURIComponent("nope = 'x'")}`);
    expect(bad.status).toBe(400);
    expect(bad.body.error_code).toBe("INVALID_PARAMETER_VALUE");
    expect((await get("/mlflow/experiments?page_token=garbage")).status).toBe(400);
  });
});
