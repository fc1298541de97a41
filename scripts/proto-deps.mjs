// Copies the third-party protos Logbook builds with into the git-ignored third_party/protos, so nothing
// third-party is committed and buf needs no network: googleapis files from the google-proto-files npm
// package, and grpc.health.v1 from grpc-health-check (so reflection can describe the health service).
import { cpSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const googleapis = dirname(require.resolve("google-proto-files/package.json"));
const health = join(dirname(require.resolve("grpc-health-check/package.json")), "proto");
const files = [
  [googleapis, "google/api/annotations.proto"],
  [googleapis, "google/api/http.proto"],
  [googleapis, "google/rpc/status.proto"],
  [googleapis, "google/rpc/error_details.proto"],
  [health, "health/v1/health.proto"],
];
for (const [root, f] of files) {
  const dst = join("third_party/protos", f === "health/v1/health.proto" ? "grpc/health/v1/health.proto" : f);
  mkdirSync(dirname(dst), { recursive: true });
  cpSync(join(root, f), dst);
}
