/**
 * The permission table as the README prints it, rendered from the code: `npx tsx test/auth/permission-table-markdown.ts`
 * prints it; permission-readme.test.ts keeps the README's copy equal.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadHttpRoutes, registryFromDescriptorSet } from "../../src/gateway/routes.js";
import { PERMISSION_RULES, describeRule } from "../../src/services/auth/permission-rules.js";
import { descriptorSetPath } from "../../src/server/paths.js";

/** The hand-written HTTP routes (not bindings) that call each RPC's service function, so its rule applies to them. */
const HAND_WRITTEN: Readonly<Record<string, readonly string[]>> = {
  "/logbook.v1.TrackingService/CreatePromptlabRun": ["POST /ajax-api/2.0/mlflow/runs/create-promptlab-run"],
  "/logbook.v1.SearchService/GetMetricHistoryBulk": ["GET /ajax-api/2.0/mlflow/metrics/get-history-bulk"],
  "/logbook.v1.ArtifactService/UploadArtifact": ["PUT /api/2.0/mlflow-artifacts/artifacts/<path>", "POST /ajax-api/2.0/mlflow/upload-artifact"],
  "/logbook.v1.ArtifactService/DownloadArtifact": ["GET /api/2.0/mlflow-artifacts/artifacts/<path>", "GET /get-artifact"],
  "/logbook.v1.ArtifactService/ListArtifacts": ["GET /api/2.0/mlflow-artifacts/artifacts?path="],
  "/logbook.v1.ArtifactService/DeleteArtifact": ["DELETE /api/2.0/mlflow-artifacts/artifacts/<path>"],
  "/logbook.v1.ArtifactService/DownloadModelVersionArtifact": ["GET /model-versions/get-artifact"],
  "/logbook.v1.ArtifactService/DownloadLoggedModelArtifact": ["GET /ajax-api/2.0/mlflow/logged-models/<model_id>/artifacts/files"],
};

/** One row per RPC, in the table's order: the method, its HTTP bindings (the `/ajax-api` twins left out), what it needs. */
export function renderPermissionTable(): string {
  const routes = loadHttpRoutes(registryFromDescriptorSet(readFileSync(descriptorSetPath()))).filter((r) => !r.derived);
  const rows = Object.entries(PERMISSION_RULES).map(([path, rule]) => {
    const [, service = "", method = ""] = path.split("/");
    const http = routes
      .filter((r) => r.grpcPath === path)
      .map((r) => `${r.method} ${r.template.source}`)
      .concat(HAND_WRITTEN[path] ?? [])
      .map((route) => `\`${route}\``)
      .join(", ");
    return `| \`${service.replace(/^logbook\.v1\./, "")}.${method}\` | ${http || "(gRPC)"} | ${describeRule(rule)} |`;
  });
  return ["| RPC | HTTP | needs |", "|---|---|---|", ...rows].join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(renderPermissionTable());
