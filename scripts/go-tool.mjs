// Installs a Go command-line tool by module path and pinned version into the cache
// ($LOGBOOK_CACHE_DIR/go-bin/<name>@<version>/), once; returns (or prints) its path.
//   node scripts/go-tool.mjs github.com/grpc-ecosystem/grpc-health-probe@v0.4.62
//   node scripts/go-tool.mjs        (no argument: every tool the tests use)
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";

export function goTool(moduleAtVersion) {
  const [mod, version] = moduleAtVersion.split("@");
  if (!mod || !version) throw new Error(`expected <module>@<version>, got ${moduleAtVersion}`);
  const name = basename(mod);
  const cache = process.env.LOGBOOK_CACHE_DIR ?? join(homedir(), ".cache", "logbook");
  const dir = join(cache, "go-bin", `${name}@${version}`);
  const bin = join(dir, name);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  execFileSync("go", ["install", moduleAtVersion], { stdio: "inherit", env: { ...process.env, GOBIN: dir } });
  return bin;
}

export const GRPC_HEALTH_PROBE = "github.com/grpc-ecosystem/grpc-health-probe@v0.4.62";
/** Prometheus's own text-format parser as a command (stdin → JSON): the tests parse /metrics with it. */
export const PROM2JSON = "github.com/prometheus/prom2json/cmd/prom2json@v1.4.2";
/** Code generators for gen/go (scripts/generate-go.mjs), used as local buf plugins. */
export const PROTOC_GEN_GO = "google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12";
export const PROTOC_GEN_GO_GRPC = "google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2";

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const tool of process.argv.length > 2 ? process.argv.slice(2) : [GRPC_HEALTH_PROBE, PROM2JSON]) console.log(goTool(tool));
}
