/**
 * What the web UI costs the server, Logbook (`--ui`, SQLite) and MLflow 3.17.2 (`mlflow server`, SQLite) side by side,
 * both seeded by test/ui/seed.py (30 runs, 50-step histories):
 * - the UI's largest file (main.js, 4.4 MB): bytes sent and p50/p99 time per request, as is and with gzip and br
 *   (MLflow does not compress);
 * - the UI's GraphQL reads, sent as the UI sends them: GetRun of one run, SearchRuns of an experiment (20 runs with
 *   experiments and model versions), GetMetricHistoryBulkInterval of 3 runs × 50 steps: p50/p99 per request.
 * Requests are sequential, one client, alternating servers per round so both see the same machine load.
 *   npx tsx bench/ui.ts [--iterations N]
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { spawnLogbook } from "../test/harness/logbook-process.js";
import { mlflowVenv, startMlflowServer } from "../test/harness/mlflow-server.js";
import { machine, percentile } from "./stats.js";

const { values } = parseArgs({ options: { iterations: { type: "string", default: "30" } } });
const ITERATIONS = Number(values.iterations);

interface Target {
  label: string;
  url: string;
  seed: { experiments: { experiment_id: string }[]; runs: { run_id: string }[] };
}

function get(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      let bytes = 0;
      res.on("data", (c: Buffer) => (bytes += c.length));
      res.on("end", () => resolve(bytes));
    })
      .on("error", reject)
      .end();
  });
}

async function graphql(url: string, operationName: string, query: string, variables: unknown): Promise<void> {
  const res = await fetch(`${url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ operationName, query, variables }) });
  const body = (await res.json()) as { errors: unknown };
  if (res.status !== 200 || body.errors) throw new Error(`${operationName}: ${res.status} ${JSON.stringify(body.errors)}`);
}

/** The UI bundle's GraphQL documents by operation name (as test/compat/test_graphql.py reads them). */
function bundleQueries(venv: string): Map<string, string> {
  const script = `
import glob, importlib.util, json, re, sys
spec = importlib.util.find_spec("mlflow")
out = {}
for path in glob.glob(list(spec.submodule_search_locations)[0] + "/server/js/build/static/js/*.js"):
    text = open(path, encoding="utf-8").read()
    for m in re.finditer(r"(query|mutation) ([A-Za-z]+)\\(\\$", text):
        start = m.start()
        while text[start] not in "\`\\"'": start -= 1
        end = text.index(text[start], m.start())
        doc = text[start + 1:end]
        out[m.group(2)] = doc if text[start] == "\`" else doc.encode().decode("unicode_escape")
print(json.dumps(out))`;
  return new Map(Object.entries(JSON.parse(execFileSync(join(venv, "bin", "python"), ["-c", script], { encoding: "utf8" })) as Record<string, string>));
}

async function timeEach(targets: Target[], body: (t: Target) => Promise<unknown>): Promise<Map<string, number[]>> {
  const times = new Map<string, number[]>(targets.map((t) => [t.label, []]));
  for (let i = 0; i < ITERATIONS; i++) {
    for (const t of i % 2 === 0 ? targets : [...targets].reverse()) {
      const start = performance.now();
      await body(t);
      times.get(t.label)!.push(performance.now() - start);
    }
  }
  return times;
}

function print(what: string, times: Map<string, number[]>, extra: (label: string) => string = () => ""): void {
  for (const [label, ms] of times) {
    ms.sort((a, b) => a - b);
    console.log(`${what.padEnd(44)} ${label.padEnd(14)} p50 ${percentile(ms, 50).toFixed(1).padStart(7)} ms   p99 ${percentile(ms, 99).toFixed(1).padStart(7)} ms ${extra(label)}`);
  }
}

async function main(): Promise<void> {
  console.log(`bench:ui — ${machine()}, ${ITERATIONS} iterations`);
  const venv = mlflowVenv();
  const dir = mkdtempSync(join(tmpdir(), "bench-ui-"));
  const mlflow = await startMlflowServer();
  const logbook = await spawnLogbook(["--ui", "--data-dir", join(dir, "logbook")], { PATH: `${join(venv, "bin")}:${process.env.PATH}` });
  try {
    const targets: Target[] = [];
    for (const [label, url] of [["MLflow 3.17.2", mlflow.httpUrl], ["Logbook", logbook.httpUrl]] as const) {
      const out = join(dir, `${label.split(" ")[0]}.json`);
      execFileSync(join(venv, "bin", "python"), ["test/ui/seed.py", url, out], { stdio: "ignore", env: { ...process.env, MLFLOW_DISABLE_TELEMETRY: "true", DO_NOT_TRACK: "1" } });
      targets.push({ label, url, seed: JSON.parse(readFileSync(out, "utf8")) as Target["seed"] });
    }
    const index = await (await fetch(`${logbook.httpUrl}/`)).text();
    const mainJs = /src="(static-files\/static\/js\/main\.[0-9a-f]+\.js)"/.exec(index)?.[1];
    if (!mainJs) throw new Error("main.js not found in index.html");
    for (const encoding of ["identity", "gzip", "br"]) {
      const bytes = new Map<string, number>();
      const times = await timeEach(targets, async (t) => bytes.set(t.label, await get(`${t.url}/${mainJs}`, { "accept-encoding": encoding })));
      print(`GET main.js (accept-encoding: ${encoding})`, times, (label) => `${(bytes.get(label)! / 2 ** 20).toFixed(2)} MiB sent`);
    }
    const queries = bundleQueries(venv);
    const experimentOf = (t: Target) => t.seed.experiments[0]!.experiment_id;
    print("GraphQL GetRun", await timeEach(targets, (t) => graphql(t.url, "GetRun", queries.get("GetRun")!, { data: { runId: t.seed.runs[0]!.run_id } })));
    print(
      "GraphQL SearchRuns (an experiment's 22 runs)",
      await timeEach(targets, (t) => graphql(t.url, "SearchRuns", queries.get("SearchRuns")!, { data: { experimentIds: [experimentOf(t)], filter: "" } })),
    );
    print(
      "GraphQL GetMetricHistoryBulkInterval (3 runs)",
      await timeEach(targets, (t) =>
        graphql(t.url, "GetMetricHistoryBulkInterval", queries.get("GetMetricHistoryBulkInterval")!, {
          data: { runIds: t.seed.runs.slice(0, 3).map((r) => r.run_id), metricKey: "loss", startStep: null, endStep: null, maxResults: 320 },
        }),
      ),
    );
  } finally {
    await Promise.allSettled([mlflow.stop(), logbook.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
