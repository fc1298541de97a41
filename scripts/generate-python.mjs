// gen/python: messages (`*_pb2.py`), grpcio stubs (`*_pb2_grpc.py`) and type stubs (`*_pb2.pyi`, mypy-protobuf)
// for proto/logbook/v1/*.proto, importable as `logbook.v1.<name>_pb2` (namespace packages: no __init__.py).
// `python -m grpc_tools.protoc` runs in the cached virtualenv of clients/python/requirements-gen.txt: grpcio-tools
// bundles the protoc matching the pinned protobuf runtime. google.api / google.rpc come at run time from
// googleapis-common-protos (a dependency of clients/python), so they are not generated here.
//   node scripts/generate-python.mjs            (npm run generate runs it)
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureVenv } from "./python-venv.mjs";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
export const PYTHON_GEN_REQUIREMENTS = join(root, "clients", "python", "requirements-gen.txt");

/** The virtualenv with grpcio-tools and mypy-protobuf (created once, cached). */
export const ensurePythonGenerator = () => ensureVenv(PYTHON_GEN_REQUIREMENTS);

export function generatePython() {
  const venv = ensurePythonGenerator();
  const out = join(root, "gen", "python");
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const protos = readdirSync(join(root, "proto", "logbook", "v1"))
    .filter((f) => f.endsWith(".proto"))
    .sort()
    .map((f) => `proto/logbook/v1/${f}`);
  execFileSync(
    join(venv, "bin", "python"),
    [
      "-m", "grpc_tools.protoc",
      "-I", "proto", "-I", "third_party/protos",
      `--python_out=${out}`, `--grpc_python_out=${out}`, `--mypy_out=quiet:${out}`,
      `--plugin=protoc-gen-mypy=${join(venv, "bin", "protoc-gen-mypy")}`,
      ...protos,
    ],
    { cwd: root, stdio: "inherit", env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" } },
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) generatePython();
