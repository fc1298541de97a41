/**
 * The Tracking RPCs carry MLflow's REST bindings (method + path) in their google.api.http annotations,
 * read from the descriptor set the server ships — so a missing or mistyped binding fails here, not later
 * when a client gets a 404.
 */
import { readFileSync } from "node:fs";
import { createFileRegistry, fromBinary, getOption, hasOption, type DescExtension } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { descriptorSetPath } from "../../src/server/paths.js";

// MLflow's tracking routes (mlflow/protos/service.proto).
const MLFLOW_TRACKING_ROUTES: Record<string, string> = {
  CreateExperiment: "POST /api/2.0/mlflow/experiments/create",
  GetExperiment: "GET /api/2.0/mlflow/experiments/get",
  GetExperimentByName: "GET /api/2.0/mlflow/experiments/get-by-name",
  UpdateExperiment: "POST /api/2.0/mlflow/experiments/update",
  DeleteExperiment: "POST /api/2.0/mlflow/experiments/delete",
  RestoreExperiment: "POST /api/2.0/mlflow/experiments/restore",
  SetExperimentTag: "POST /api/2.0/mlflow/experiments/set-experiment-tag",
  DeleteExperimentTag: "POST /api/2.0/mlflow/experiments/delete-experiment-tag",
  CreateRun: "POST /api/2.0/mlflow/runs/create",
  GetRun: "GET /api/2.0/mlflow/runs/get",
  UpdateRun: "POST /api/2.0/mlflow/runs/update",
  DeleteRun: "POST /api/2.0/mlflow/runs/delete",
  RestoreRun: "POST /api/2.0/mlflow/runs/restore",
  LogMetric: "POST /api/2.0/mlflow/runs/log-metric",
  LogParam: "POST /api/2.0/mlflow/runs/log-parameter",
  SetTag: "POST /api/2.0/mlflow/runs/set-tag",
  DeleteTag: "POST /api/2.0/mlflow/runs/delete-tag",
  LogBatch: "POST /api/2.0/mlflow/runs/log-batch",
  LogInputs: "POST /api/2.0/mlflow/runs/log-inputs",
  LogModel: "POST /api/2.0/mlflow/runs/log-model",
  GetMetricHistory: "GET /api/2.0/mlflow/metrics/get-history",
};

interface Binding {
  route: string;
  body: string;
}

function bindingsOf(serviceName: string): Map<string, Binding[]> {
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(descriptorSetPath())));
  const http = registry.getExtension("google.api.http") as DescExtension;
  const service = registry.getService(serviceName);
  if (!service) throw new Error(`${serviceName} not in the descriptor set`);
  const out = new Map<string, Binding[]>();
  for (const method of service.methods) {
    if (!hasOption(method, http)) continue;
    const rule = getOption(method, http) as unknown as {
      pattern: { case: string; value: string };
      body: string;
      additionalBindings: { pattern: { case: string; value: string }; body: string }[];
    };
    const toBinding = (r: typeof rule | (typeof rule.additionalBindings)[number]) => ({
      route: `${r.pattern.case.toUpperCase()} ${r.pattern.value}`,
      body: r.body,
    });
    out.set(method.name, [toBinding(rule), ...rule.additionalBindings.map(toBinding)]);
  }
  return out;
}

describe("TrackingService HTTP bindings", () => {
  const bindings = bindingsOf("logbook.v1.TrackingService");

  it.each(Object.entries(MLFLOW_TRACKING_ROUTES))("%s is bound to MLflow's %s", (method, route) => {
    const primary = bindings.get(method)?.[0];
    expect(primary?.route).toBe(route);
    // MLflow's POST handlers read every field from the JSON body; GETs read the query string.
    expect(primary?.body).toBe(route.startsWith("POST") ? "*" : "");
  });

  it("binds GetRun also to the service endpoint /mlflow/runs/{run_id}", () => {
    expect(bindings.get("GetRun")?.map((b) => b.route)).toContain("GET /mlflow/runs/{run_id}");
  });

  it("carries no /ajax-api bindings: the gateway derives those", () => {
    for (const list of bindings.values()) for (const b of list) expect(b.route).not.toContain("/ajax-api/");
  });
});
