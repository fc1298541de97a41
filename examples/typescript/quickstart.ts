/**
 * Logbook TypeScript SDK quickstart. Start a server (`npm start`), then:
 *
 *     npx tsx examples/typescript/quickstart.ts            # LOGBOOK_ADDRESS defaults to 127.0.0.1:50051
 *
 * 1. a Tracker with a run: params, tags, a metric series — calls return at once, batches go out in the
 *    background, and an unreachable server only means a spool file that is replayed later;
 * 2. logExperiment: a complete evaluation (financial metrics, a JSON report, a CSV table, a registered model
 *    version) in one call.
 */
import { financialMetrics, logExperiment, Tracker } from "../../clients/typescript/src/index.js";

const address = process.env.LOGBOOK_ADDRESS ?? "127.0.0.1:50051";

// 1. Logging as you go.
const tracker = new Tracker({
  address,
  onError: (err) => console.error(`logbook: ${err.grpcCodeName} ${err.mlflowCode ?? ""}: ${err.message}`),
});
const run = tracker.startRun({ experimentName: "quickstart", runName: "training", tags: { symbol: "AAPL" } });
run.logParams({ learning_rate: 0.01, epochs: 50 });
for (let epoch = 0; epoch < 50; epoch++) {
  run.logMetrics({ loss: 1 / (epoch + 1), accuracy: 1 - 0.5 / (epoch + 1) }, { step: epoch }); // never blocks
}
run.setTag("stage", "trained");
run.end("FINISHED");
await tracker.close(); // flushes; while the server is away everything waits in the spool instead
console.log(`run ${run.runId}:`, tracker.stats().online ? "logged" : `spooled to ${tracker.spoolPath}`);

// 2. A complete experiment in one call.
const returns = Array.from({ length: 252 }, (_, i) => 0.0005 + 0.01 * Math.sin(i / 7));
const fm = financialMetrics(returns); // p = 252, rf = 0
const result = await logExperiment(
  {
    experimentName: "quickstart",
    runName: "evaluation",
    tags: { symbol: "AAPL", kind: "evaluation" },
    params: { model: "momentum", lookback: 20 },
    metrics: { ...fm, equity: returns.reduce<number[]>((curve, r) => [...curve, (curve.at(-1) ?? 1) * (1 + r)], []) },
    artifacts: {
      dicts: { "report/summary.json": { symbol: "AAPL", ...fm } },
      tables: { "report/returns.csv": returns.map((r, day) => ({ day, r })) },
    },
    model: { name: "quickstart-momentum", artifactPath: "model", description: "momentum model, AAPL" },
  },
  { address },
);
console.log(`evaluation run ${result.runId} in experiment ${result.experimentId ?? "(pending)"}; model version ${result.modelVersion?.version ?? "(pending)"}`);
