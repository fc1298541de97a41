// Regenerates everything under gen/: TypeScript (ts-proto via buf.gen.yaml, which cleans only gen/ts)
// and the descriptor set that reflection and the HTTP gateway read. Later languages add their step here.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";

const run = (cmd, args) => execFileSync(cmd, args, { stdio: "inherit" });

run("node", ["scripts/proto-deps.mjs"]);
run("npx", ["--no-install", "buf", "generate"]);
mkdirSync("gen", { recursive: true });
run("npx", ["--no-install", "buf", "build", "proto", "--as-file-descriptor-set", "--exclude-source-info", "-o", "gen/descriptor.binpb"]);
