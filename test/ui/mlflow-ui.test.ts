/**
 * MLflow 3.17.2's own web UI in a real browser (Debian's chromium), served by Logbook (`--ui`, the bundle found
 * through the compat virtualenv's python3 on PATH) and, as the reference, by a real `mlflow server` 3.17.2. Both get
 * the same seed through the official client (seed.py). Every page a team uses is visited on both; on Logbook it must
 * show the seeded names and values (read from the DOM; the same checks run on MLflow, which keeps them honest), and
 * fail no request and log no console error beyond exactly those the same page has on MLflow. Screenshots of every
 * visit go to test-results/ui/.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../src/server/paths.js";
import { spawnLogbook, type LogbookProcess } from "../harness/logbook-process.js";
import { type MlflowServer, mlflowVenv, startMlflowServer } from "../harness/mlflow-server.js";
import { type Chromium, type Visit, launchChromium, settled } from "./browser.js";

const SCREENSHOTS = join(packageRoot(), "test-results", "ui");
const TEXT_TIMEOUT_MS = 45_000;

interface Seeded {
  experiments: { experiment_id: string; name: string; runs: string[] }[];
  runs: { run_id: string; name: string; symbol: string; lookback: string; final_loss: number; final_sharpe_ratio: number }[];
  models: { run_id: string; run_name: string; model_id: string; accuracy: number }[];
  registered_model: string;
  alias: string;
}

interface Server {
  name: "mlflow" | "logbook";
  url: string;
  seed: Seeded;
  /** Ids of this server's seed → stable labels, so the two servers' URLs and messages compare. */
  labels: Map<string, string>;
}

interface PageCase {
  name: string;
  /** The hash route (after `#`) for this server's ids. */
  route(s: Server): string;
  /** Texts the page must show for this server's seed. */
  texts(s: Server): string[];
  /** Further checks on the page (e.g. an image that loaded). */
  check?(visit: Visit, s: Server): Promise<void>;
}

/**
 * Console lines that are the browser's, not the page's or the server's, and come and go with timing: Chromium reports
 * a ResizeObserver callback that resized again within one frame as an error event without an error ("… loop completed
 * with undelivered notifications"), which the UI logs. Whether it shows depends on when data arrives relative to
 * layout, not on which server answers. Ignored on both servers.
 */
const TIMING_NOISE = [/ResizeObserver loop completed with undelivered notifications/];

const experiment = (s: Server, i = 0) => s.seed.experiments[i]!;
const run = (s: Server, i: number) => s.seed.runs[i]!;
/** A query-string value: strings as they are, anything else as JSON; percent-encoded. */
const q = (value: unknown) => encodeURIComponent(typeof value === "string" ? value : JSON.stringify(value));

const PAGES: PageCase[] = [
  { name: "experiments list", route: () => "/experiments", texts: (s) => s.seed.experiments.map((e) => e.name) },
  { name: "experiment overview", route: (s) => `/experiments/${experiment(s).experiment_id}/overview/usage`, texts: (s) => [experiment(s).name, "Overview"] },
  {
    name: "runs table, filtered and sorted",
    route: (s) =>
      `/experiments/${experiment(s).experiment_id}/runs?searchFilter=${q("params.symbol = 'AAPL'")}&orderByKey=${q("metrics.`loss`")}&orderByAsc=true`,
    texts: (s) => s.seed.runs.filter((r, i) => i < 20 && r.symbol === "AAPL").map((r) => r.name),
    async check(visit, s) {
      const other = s.seed.runs.find((r) => r.symbol !== "AAPL")!;
      expect(await visit.page.getByText(other.name, { exact: true }).count(), `${other.name} filtered out`).toBe(0);
    },
  },
  {
    name: "runs chart view",
    route: (s) => `/experiments/${experiment(s).experiment_id}/runs?searchFilter=${q("params.symbol = 'AAPL'")}&compareRunsMode=CHART`,
    texts: () => ["loss", "sharpe_ratio"],
  },
  {
    name: "runs table with logged models",
    route: (s) => `/experiments/${experiment(s).experiment_id}/runs?searchFilter=${q("attributes.run_name LIKE 'train-classifier%'")}`,
    texts: (s) => s.seed.models.map((m) => m.run_name),
  },
  { name: "logged models tab", route: (s) => `/experiments/${experiment(s).experiment_id}/models`, texts: (s) => s.seed.models.map((m) => m.run_name) },
  {
    name: "run overview",
    route: (s) => `/experiments/${experiment(s).experiment_id}/runs/${run(s, 0).run_id}`,
    texts: (s) => [run(s, 0).name, run(s, 0).run_id, "prices-daily", "symbol", "AAPL", "lookback", run(s, 0).lookback, "team", "quant", String(run(s, 0).final_loss)],
  },
  {
    name: "run overview with logged models",
    route: (s) => `/experiments/${experiment(s).experiment_id}/runs/${s.seed.models[1]!.run_id}`,
    texts: (s) => [s.seed.models[1]!.run_name, s.seed.registered_model, "accuracy", String(s.seed.models[1]!.accuracy)],
    async check(visit, s) {
      // The metrics table's Models column names the logged model each metric is linked to (log_model re-logs them).
      const table = visit.page.getByRole("table").filter({ hasText: "accuracy" }).first();
      await expect.poll(() => table.innerText(), { timeout: TEXT_TIMEOUT_MS }).toMatch(new RegExp(`accuracy\\s+${s.seed.models[1]!.accuracy}\\s+model\\b`));
    },
  },
  {
    name: "model metrics charts",
    route: (s) => `/experiments/${experiment(s).experiment_id}/runs/${run(s, 0).run_id}/model-metrics`,
    texts: () => ["loss", "sharpe_ratio"],
  },
  {
    name: "artifact JSON preview",
    route: (s) => `/experiments/${experiment(s).experiment_id}/runs/${run(s, 0).run_id}/artifacts/config/params.json`,
    texts: () => ["params.json", "ret_5", "volume"],
  },
  {
    name: "artifact PNG preview",
    route: (s) => `/experiments/${experiment(s).experiment_id}/runs/${run(s, 0).run_id}/artifacts/plots/equity_curve.png`,
    texts: () => ["equity_curve.png"],
    async check(visit) {
      // The preview is an <img> of the downloaded bytes (a blob: URL): the seeded 32×16 PNG, decoded.
      const decoded = "[...document.images].some((i) => i.complete && i.naturalWidth === 32 && i.naturalHeight === 16)";
      await expect.poll(() => visit.page.evaluate(decoded), { timeout: TEXT_TIMEOUT_MS }).toBe(true);
    },
  },
  {
    name: "compare 3 runs",
    route: (s) => `/compare-runs?runs=${q([0, 1, 2].map((i) => run(s, i).run_id))}&experiments=${q([experiment(s).experiment_id])}`,
    texts: (s) => [0, 1, 2].flatMap((i) => [run(s, i).name, run(s, i).lookback]),
  },
  {
    name: "metric page",
    // As the UI links it (getMetricPageRoute): JSON lists in the query, not percent-encoded.
    route: (s) =>
      `/metric/?runs=${JSON.stringify([run(s, 0).run_id, run(s, 1).run_id])}&metric=${q(JSON.stringify("loss"))}&experiments=${JSON.stringify([experiment(s).experiment_id])}` +
      `&plot_metric_keys=${q(["loss"])}&plot_layout={}&x_axis=step&y_axis_scale=linear&line_smoothness=1&show_point=false&deselected_curves=[]&last_linear_y_axis_range=[]`,
    texts: (s) => ["loss", run(s, 0).name, run(s, 1).name],
  },
  { name: "registered models", route: () => "/models", texts: (s) => [s.seed.registered_model, "Version 2"] },
  { name: "registered model", route: (s) => `/models/${s.seed.registered_model}`, texts: (s) => [s.seed.registered_model, "Direction classifier for the UI suite", "Version 1", "Version 2", s.seed.alias] },
  {
    name: "model version",
    route: (s) => `/models/${s.seed.registered_model}/versions/2`,
    texts: (s) => [s.seed.registered_model, "Version 2", "Production", s.seed.alias, s.seed.models[1]!.run_name],
  },
];

function labelsOf(seed: Seeded): Map<string, string> {
  const labels = new Map<string, string>();
  seed.experiments.forEach((e, i) => labels.set(e.experiment_id, `<experiment ${i}>`));
  for (const r of seed.runs) labels.set(r.run_id, `<run ${r.name}>`);
  for (const m of seed.models) {
    labels.set(m.run_id, `<run ${m.run_name}>`);
    labels.set(m.model_id, `<model ${m.run_name}>`);
  }
  return labels;
}

/** A request or console line with this server's origin and ids replaced, so MLflow's and Logbook's compare. */
function normalise(line: string, s: Server): string {
  let out = line.split(s.url).join("<origin>");
  for (const [id, label] of s.labels) if (id.length > 8) out = out.split(id).join(label);
  // Experiment ids are short numbers: only as whole path segments.
  out = out.replace(/\/experiments\/(\d+)(?=[/?#\s]|$)/g, (whole, id: string) => (s.labels.has(id) ? `/experiments/${s.labels.get(id)}` : whole));
  return out.replace(/\s+/g, " ").trim();
}

async function seed(python: string, url: string, dir: string): Promise<Seeded> {
  const out = join(dir, `seed-${new URL(url).port}.json`);
  await promisify(execFile)(python, [join(packageRoot(), "test", "ui", "seed.py"), url, out], {
    env: { ...process.env, MLFLOW_DISABLE_TELEMETRY: "true", DO_NOT_TRACK: "1" },
    timeout: 300_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(readFileSync(out, "utf8")) as Seeded;
}

describe("the MLflow web UI on Logbook and on MLflow 3.17.2", () => {
  let dir: string;
  let mlflow: MlflowServer | undefined;
  let logbook: LogbookProcess | undefined;
  let browser: Chromium | undefined;
  const servers: Server[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "logbook-ui-suite-"));
    mkdirSync(SCREENSHOTS, { recursive: true });
    const venv = mlflowVenv();
    // Logbook finds the bundle the way a user's does: through the first python3 on PATH that has mlflow.
    const started = await Promise.allSettled([
      startMlflowServer().then((s) => (mlflow = s)),
      spawnLogbook(["--ui", "--data-dir", join(dir, "logbook")], { PATH: `${join(venv, "bin")}:${process.env.PATH}` }).then((s) => (logbook = s)),
      launchChromium().then((b) => (browser = b)),
    ]);
    for (const result of started) if (result.status === "rejected") throw result.reason;
    if (!mlflow || !logbook || !browser) throw new Error("a server or the browser did not start");
    const python = join(venv, "bin", "python");
    const [mlflowSeed, logbookSeed] = await Promise.all([seed(python, mlflow.httpUrl, dir), seed(python, logbook.httpUrl, dir)]);
    servers.push({ name: "mlflow", url: mlflow.httpUrl, seed: mlflowSeed, labels: labelsOf(mlflowSeed) });
    servers.push({ name: "logbook", url: logbook.httpUrl, seed: logbookSeed, labels: labelsOf(logbookSeed) });
  }, 1_200_000);

  afterAll(async () => {
    await Promise.allSettled([browser?.close(), mlflow?.stop(), logbook?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(PAGES.map((p) => [p.name, p] as const))("%s", async (_name, pageCase) => {
    const seen: Record<string, { failed: string[]; console: string[] }> = {};
    for (const s of servers) {
      const visit = await browser!.visit(`${s.url}/#${pageCase.route(s)}`);
      try {
        for (const text of pageCase.texts(s)) {
          await visit.page.getByText(text, { exact: false }).first().waitFor({ state: "visible", timeout: TEXT_TIMEOUT_MS }).catch((err: Error) => {
            throw new Error(`${s.name}: "${pageCase.name}" does not show "${text}" (${err.message.split("\n")[0]})`);
          });
        }
        await pageCase.check?.(visit, s);
        await settled(visit.page);
        seen[s.name] = {
          failed: [...new Set(visit.failedRequests.map((l) => normalise(l, s)))].sort(),
          console: [...new Set(visit.consoleErrors.filter((l) => !TIMING_NOISE.some((re) => re.test(l))).map((l) => normalise(l, s)))].sort(),
        };
      } finally {
        await visit.page.screenshot({ path: join(SCREENSHOTS, `${pageCase.name.replace(/[^a-z0-9]+/gi, "-")}.${s.name}.png`) }).catch(() => undefined);
        await visit.close();
      }
    }
    const { mlflow: reference, logbook: ours } = seen as Record<"mlflow" | "logbook", { failed: string[]; console: string[] }>;
    expect(ours.failed.filter((l) => !reference.failed.includes(l)), `failed requests beyond MLflow's own ${JSON.stringify(reference.failed)}`).toEqual([]);
    expect(ours.console.filter((l) => !reference.console.includes(l)), `console errors beyond MLflow's own ${JSON.stringify(reference.console)}`).toEqual([]);
  });
});
