// Regenerates everything under gen/: TypeScript (ts-proto via buf.gen.yaml, which cleans only gen/ts),
// the descriptor set that reflection and the HTTP gateway read, Python (gen/python, scripts/generate-python.mjs)
// and Go (gen/go, scripts/generate-go.mjs). Also regenerates test/gen/ from the test-only protos in test/proto
// (buf.gen.test.yaml), so that all generated code has one owner.
//   node scripts/generate.mjs           regenerate everything (npm run generate)
//   node scripts/generate.mjs --tools   only install the generators (Python virtualenv, Go protoc plugins) into the cache
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { ensureGoGenerators, generateGo } from "./generate-go.mjs";
import { ensurePythonGenerator, generatePython } from "./generate-python.mjs";

if (process.argv.includes("--tools")) {
  ensurePythonGenerator();
  ensureGoGenerators();
  process.exit(0);
}

const run = (cmd, args) => execFileSync(cmd, args, { stdio: "inherit" });
const descriptorSet = (paths, out) =>
  run("npx", [
    "--no-install", "buf", "build", "--as-file-descriptor-set", "--exclude-source-info", "-o", out,
    ...paths.flatMap((p) => ["--path", p]),
  ]);

run("node", ["scripts/proto-deps.mjs"]);
run("npx", ["--no-install", "buf", "generate"]);
mkdirSync("gen", { recursive: true });
// Logbook's protos plus google.rpc (the rich error model) and grpc.health.v1, so that reflection
// clients can describe every registered service and decode error details.
descriptorSet(["proto/logbook", "third_party/protos/google/rpc", "third_party/protos/grpc/health"], "gen/descriptor.binpb");

generatePython();
generateGo();

// Test-only protos: test/gen/ts and test/gen/descriptor.binpb.
run("npx", ["--no-install", "buf", "generate", "--template", "buf.gen.test.yaml"]);
mkdirSync("test/gen", { recursive: true });
descriptorSet(["test/proto/logbook"], "test/gen/descriptor.binpb");
