/**
 * JSON edge cases that answered 500 or silently changed data, on both stores: 100,000 nested lists in a typed field
 * (a stack overflow while building the error message) and deeply nested model_json are 400; a lone surrogate is
 * 400 (it was stored as U+FFFD) while a surrogate pair is kept; runs/search takes any number of experiment ids
 * (33,000 overflowed SQLite's bound parameters).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STORE_KINDS, startTestLogbook, type TestLogbook } from "../harness/logbook.js";

describe.each(STORE_KINDS)("JSON edge cases on %s", (kind) => {
  let lb: TestLogbook;
  let runId: string;

  beforeAll(async () => {
    lb = await startTestLogbook(kind, { label: "json_edges" });
    runId = (await lb.tracking.createRun({ experimentId: "0", userId: "", runName: "target", tags: [] })).run!.info!.runId;
  });
  afterAll(async () => {
    await lb?.close();
  });

  const post = (path: string, body: string) =>
    fetch(`${lb.httpUrl}/api/2.0/mlflow/${path}`, { method: "POST", headers: { "content-type": "application/json" }, body });
  const counts = async () => (await lb.tracking.getServerStatus({})).counts;

  it("answers 100,000 nested lists in a typed field with 400, changing nothing", async () => {
    const before = await counts();
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    for (const [path, body] of [
      ["experiments/create", `{"name": ${deep}}`],
      ["runs/log-batch", `{"run_id": "${runId}", "metrics": ${deep}}`],
    ] as const) {
      const res = await post(path, body);
      expect(res.status, path).toBe(400);
      expect(await res.json()).toMatchObject({ error_code: "INVALID_PARAMETER_VALUE", message: expect.stringContaining("nested deeper than 256") });
    }
    expect(await counts()).toEqual(before);
  });

  it("answers a deeply nested model_json with 400", async () => {
    const model = { artifact_path: "m", flavors: {}, utc_time_created: "2026-01-01", run_id: runId, deep: "" };
    const modelJson = JSON.stringify(model).replace('"deep":""', `"deep":${"[".repeat(20_000)}${"]".repeat(20_000)}`);
    const res = await post("runs/log-model", JSON.stringify({ run_id: runId, model_json: modelJson }));
    expect(res.status).toBe(400);
    expect((await res.json()) as { error_code: string }).toMatchObject({ error_code: "INVALID_PARAMETER_VALUE" });
  });

  it("answers a lone surrogate with 400 and stores nothing; keeps a surrogate pair", async () => {
    const before = await counts();
    for (const name of ["\\ud800", "x\\udfff", "a\\ud83dz"]) {
      const res = await post("experiments/create", `{"name": "${name}"}`);
      expect(res.status, name).toBe(400);
      expect(await res.json()).toMatchObject({ error_code: "INVALID_PARAMETER_VALUE", message: expect.stringContaining("lone surrogate") });
    }
    const tag = await post("runs/set-tag", `{"run_id": "${runId}", "key": "k", "value": "\\ud800"}`);
    expect(tag.status).toBe(400);
    expect(await counts()).toEqual(before);
    const ok = await post("experiments/create", '{"name": "smile \\ud83d\\ude00"}');
    expect(ok.status).toBe(200);
    const { experiment_id } = (await ok.json()) as { experiment_id: string };
    expect((await lb.tracking.getExperiment({ experimentId: experiment_id })).experiment?.name).toBe("smile \u{1F600}");
  });

  it("searches runs in 33,000 experiments", async () => {
    const ids = Array.from({ length: 33_000 }, (_, i) => String(i));
    const res = await post("runs/search", JSON.stringify({ experiment_ids: ids, max_results: 5 }));
    expect(res.status, await res.clone().text()).toBe(200);
    const { runs } = (await res.json()) as { runs?: { info: { run_id: string } }[] };
    expect(runs?.map((r) => r.info.run_id)).toContain(runId);
  });
});
