// The generated-client suites against a live Logbook, one server per store:
//   node scripts/test-clients.mjs [python] [go] [-- extra args for pytest / go test]   (default: both)
// 1. starts FerretDB unless MONGODB_URI is set (scripts/ferretdb.mjs), then two built Logbooks
//    (dist/src/server/cli.js; this script builds nothing) on free ports: `sqlite` on a temp data directory and
//    `mongodb` on a fresh database of that server;
// 2. Python: the cached virtualenv of clients/python/requirements-test.txt, `pip install ./clients/python`
//    (its logbook.v1 is gen/python), then pytest clients/python/tests;
// 3. Go: `go vet` of gen/go and clients/go, then `go test ./...` in clients/go (gen/go via a replace);
// each suite gets LOGBOOK_CLIENT_TARGETS="sqlite=127.0.0.1:P1,mongodb=127.0.0.1:P2" and runs every test per store.
// The servers run with --auth basic: the suites also get the admin's credentials (LOGBOOK_CLIENT_ADMIN="user:password")
// and an access token of that admin per store (LOGBOOK_CLIENT_TOKENS="sqlite=lbk_…,mongodb=lbk_…"), made here through
// the HTTP API, and call with them.
// Exits non-zero if a suite fails; pytest's "no tests collected" (5) is a failure too.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { startMongoForTests } from "./ferretdb.mjs";
import { ensureVenv } from "./python-venv.mjs";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const cli = join(root, "dist", "src", "server", "cli.js");
const PYTEST_NO_TESTS_COLLECTED = 5;
const quietEnv = { MLFLOW_DISABLE_TELEMETRY: "true", DO_NOT_TRACK: "1" };

/** `mongodb://h:p/?x=y` → `mongodb://h:p/<database>?x=y` */
function withDatabase(uri, database) {
  const url = new URL(uri);
  url.pathname = `/${database}`;
  return url.toString();
}

const ADMIN = { username: "clients-admin", password: `clients-${randomBytes(12).toString("base64url")}` };

/** Starts the built CLI on free ports with --auth basic; resolves once it logged both "… listening" lines. */
function startLogbook(store, storeArgs) {
  const child = spawn(
    process.execPath,
    [cli, "serve", "--host", "127.0.0.1", "--grpc-port", "0", "--http-port", "0", "--log-level", "info", "--auth", "basic", ...storeArgs],
    {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, ...quietEnv, LOGBOOK_ADMIN_USERNAME: ADMIN.username, LOGBOOK_ADMIN_PASSWORD: ADMIN.password },
    },
  );
  const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  const tail = [];
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout }); // kept attached: the pipe never fills up
    const timer = setTimeout(() => fail(new Error(`Logbook (${store}) did not start within 60 s`)), 60_000);
    let settled = false;
    const fail = (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      console.error(tail.join("\n"));
      reject(err);
    };
    let grpcPort = 0;
    lines.on("line", (line) => {
      tail.push(line);
      if (tail.length > 50) tail.shift();
      let entry;
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      if (entry.level >= 50) console.error(`Logbook (${store}): ${line}`);
      if (entry.msg === "gRPC server listening" && entry.grpcPort) grpcPort = entry.grpcPort;
      if (entry.msg === "HTTP server listening" && grpcPort && !settled) {
        settled = true;
        clearTimeout(timer);
        resolve({
          store,
          address: `127.0.0.1:${grpcPort}`,
          httpUrl: `http://127.0.0.1:${entry.httpPort}`,
          stop: async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
            await exited;
          },
        });
      }
    });
    void exited.then((code) => fail(new Error(`Logbook (${store}) exited with code ${code} before listening`)));
  });
}

/** An access token of the admin on one server, through Logbook's token API. */
async function adminToken(server) {
  const basic = Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString("base64");
  const res = await fetch(`${server.httpUrl}/api/2.0/logbook/tokens/create`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Basic ${basic}` },
    body: JSON.stringify({ name: "test-clients" }),
  });
  const body = await res.json();
  if (res.status !== 200 || !body.token) throw new Error(`creating a token on ${server.store}: ${res.status} ${JSON.stringify(body)}`);
  return body.token;
}

function run(cmd, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: "inherit", ...options });
    child.on("error", (err) => {
      console.error(`test-clients: ${cmd}: ${err.message}`);
      resolve(1);
    });
    child.on("exit", (code, signal) => resolve(signal ? 1 : (code ?? 1)));
  });
}

async function pythonSuite(env, extraArgs) {
  const venv = ensureVenv(join(root, "clients", "python", "requirements-test.txt"));
  const python = join(venv, "bin", "python");
  // The distribution as a user installs it (dependencies come from the pinned venv; setuptools is in it).
  const pip = ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "--no-build-isolation", "--force-reinstall"];
  let code = await run(python, [...pip, "./clients/python"], { env });
  if (code !== 0) return code;
  code = await run(python, ["-m", "pytest", "-q", "-p", "no:cacheprovider", "clients/python/tests", ...extraArgs], { env });
  if (code === PYTEST_NO_TESTS_COLLECTED) {
    console.error("test-clients: pytest collected no tests; that is a failure");
    return 1;
  }
  return code;
}

async function goSuite(env, extraArgs) {
  // -mod=readonly (the default): a go.sum that misses an entry fails here instead of being rewritten.
  const goEnv = { ...env, GOTOOLCHAIN: "local", GOWORK: "off" };
  for (const dir of ["gen/go", "clients/go"]) {
    const code = await run("go", ["vet", "./..."], { cwd: join(root, dir), env: goEnv });
    if (code !== 0) return code;
  }
  return run("go", ["test", "-count=1", ...extraArgs, "./..."], { cwd: join(root, "clients", "go"), env: goEnv });
}

async function main(argv) {
  const dash = argv.indexOf("--");
  const names = dash === -1 ? argv : argv.slice(0, dash);
  const extraArgs = dash === -1 ? [] : argv.slice(dash + 1);
  const suites = { python: pythonSuite, go: goSuite };
  const selected = names.length ? names : Object.keys(suites);
  for (const name of selected) if (!suites[name]) throw new Error(`unknown suite ${name}; expected python and/or go`);
  if (!existsSync(cli)) {
    console.error(`test-clients: ${cli} is missing; run \`npm run build\` first`);
    return 1;
  }

  const cleanup = [];
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const mongo = await startMongoForTests();
    cleanup.push(() => mongo.stop());
    const dataDir = mkdtempSync(join(tmpdir(), "logbook-clients-"));
    cleanup.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const database = `clients_${randomBytes(4).toString("hex")}`;
    const servers = await Promise.all([
      startLogbook("sqlite", ["--data-dir", join(dataDir, "sqlite"), "--store", "sqlite:"]),
      startLogbook("mongodb", ["--data-dir", join(dataDir, "mongodb"), "--store", withDatabase(mongo.uri, database)]),
    ]);
    for (const server of servers) cleanup.push(() => server.stop());
    const tokens = await Promise.all(servers.map(adminToken));
    const env = {
      ...process.env,
      ...quietEnv,
      PYTHONDONTWRITEBYTECODE: "1",
      LOGBOOK_CLIENT_TARGETS: servers.map((s) => `${s.store}=${s.address}`).join(","),
      LOGBOOK_CLIENT_ADMIN: `${ADMIN.username}:${ADMIN.password}`,
      LOGBOOK_CLIENT_TOKENS: servers.map((s, i) => `${s.store}=${tokens[i]}`).join(","),
    };
    console.log(`test-clients: Logbook ${servers.map((s) => `${s.store} on ${s.address}`).join(", ")}`);

    const failed = [];
    for (const name of selected) {
      if (interrupted) break;
      const started = Date.now();
      console.log(`\n== test-clients: ${name}`);
      const code = await suites[name](env, extraArgs);
      console.log(`== test-clients: ${name} ${code === 0 ? "passed" : `FAILED (exit ${code})`} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      if (code !== 0) failed.push(name);
    }
    if (interrupted) return 1;
    if (failed.length) console.error(`test-clients: failed: ${failed.join(", ")}`);
    return failed.length ? 1 : 0;
  } finally {
    for (const stop of cleanup.reverse()) await stop().catch((err) => console.error(err));
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
