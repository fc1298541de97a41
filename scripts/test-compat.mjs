// The MLflow compatibility suite (test/compat, pytest with the official mlflow client) against the built Logbook:
//   node scripts/test-compat.mjs [pytest args…]      e.g. -k sqlite, -x, test/compat/test_routes.py
// 1. ensures the cached virtualenv of test/compat/requirements.txt (scripts/python-venv.mjs);
// 2. runs `node scripts/ferretdb.mjs run -- <venv>/bin/python -m pytest test/compat -q`, so the `mongodb` store
//    tests get MONGODB_URI (FerretDB unless MONGODB_URI is already set);
// 3. exits with pytest's code, except that "no tests collected" (5) is a failure too.
// Needs `npm run build` first (the suite starts dist/src/server/cli.js). Telemetry is off for everything it starts.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureVenv } from "./python-venv.mjs";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const PYTEST_NO_TESTS_COLLECTED = 5;

function main() {
  const logbookRoot = process.env.LOGBOOK_COMPAT_ROOT ?? root; // the Logbook build under test (conftest.py)
  if (!existsSync(join(logbookRoot, "dist", "src", "server", "cli.js"))) {
    console.error(`test-compat: ${join(logbookRoot, "dist/src/server/cli.js")} is missing; run \`npm run build\` first`);
    return Promise.resolve(1);
  }
  const venv = ensureVenv(join(root, "test", "compat", "requirements.txt"));
  const python = join(venv, "bin", "python");
  const pytestArgs = process.argv.slice(2);
  const args = [
    join(root, "scripts", "ferretdb.mjs"), "run", "--",
    python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
    ...(pytestArgs.some((a) => a.startsWith("test/")) ? [] : ["test/compat"]),
    ...pytestArgs,
  ];
  const env = {
    ...process.env,
    MLFLOW_DISABLE_TELEMETRY: "true",
    DO_NOT_TRACK: "1",
    PYTHONDONTWRITEBYTECODE: "1",
    LOGBOOK_COMPAT_NODE: process.env.LOGBOOK_COMPAT_NODE ?? process.execPath,
  };
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: "inherit" });
  const forward = (signal) => child.kill(signal);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  return new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      if (signal) return resolve(1);
      if (code === PYTEST_NO_TESTS_COLLECTED) {
        console.error("test-compat: pytest collected no tests; that is a failure");
        return resolve(1);
      }
      resolve(code ?? 1);
    });
  });
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
