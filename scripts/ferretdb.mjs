// The one launcher for a MongoDB-wire server in tests: FerretDB v1.24.2 on SQLite in a temp directory,
// on a free loopback port, telemetry off. Used as a module (vitest global setup, tests that stop or
// freeze the database) and as a CLI for the other suites:
//   node scripts/ferretdb.mjs build                 build (or find) the cached binary, print its path
//   node scripts/ferretdb.mjs run -- <cmd> [args]   start FerretDB unless MONGODB_URI is set, run <cmd>
//                                                   with MONGODB_URI exported, stop FerretDB, exit with <cmd>'s code
// The binary is built once from the Go module source (a plain `go install` panics at start: the build below
// sets what it needs) and cached under $LOGBOOK_CACHE_DIR (default ~/.cache/logbook).
import { execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { createServer, connect } from "node:net";
import { homedir, tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

export const FERRETDB_VERSION = "v1.24.2";

export function ferretdbBinaryPath() {
  const cache = process.env.LOGBOOK_CACHE_DIR ?? join(homedir(), ".cache", "logbook");
  return join(cache, `ferretdb-${FERRETDB_VERSION}`, "ferretdb");
}

/** Builds the FerretDB binary unless it is cached; returns its path. */
export function buildFerretDB() {
  const bin = ferretdbBinaryPath();
  if (existsSync(bin)) return bin;
  const mod = `github.com/FerretDB/FerretDB@${FERRETDB_VERSION}`;
  const info = JSON.parse(execFileSync("go", ["mod", "download", "-json", mod], { encoding: "utf8" }));
  const work = mkdtempSync(join(tmpdir(), "ferretdb-src-"));
  try {
    cpSync(info.Dir, work, { recursive: true });
    execFileSync("chmod", ["-R", "u+w", work]);
    writeFileSync(join(work, "build/version/version.txt"), `${FERRETDB_VERSION}\n`);
    mkdirSync(dirname(bin), { recursive: true });
    const tmpBin = `${bin}.tmp-${process.pid}`;
    execFileSync("go", ["build", "-o", tmpBin, "./cmd/ferretdb"], { cwd: work, stdio: "inherit" });
    chmodSync(tmpBin, 0o755);
    renameSync(tmpBin, bin); // atomic: concurrent builders never see a half-written binary
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return bin;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function waitForPort(port, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) return reject(new Error(`FerretDB exited with code ${child.exitCode}`));
      const sock = connect(port, "127.0.0.1");
      sock.once("connect", () => {
        sock.destroy();
        resolve();
      });
      sock.once("error", () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`FerretDB did not listen on ${port} within ${timeoutMs} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/**
 * Starts FerretDB on SQLite. `dir` keeps the data (pass the same dir to restart on the same data);
 * by default a new temp dir, removed by stop(). Returns { uri, port, dir, stop, pause, resume, restart }.
 */
export async function startFerretDB(options = {}) {
  const bin = buildFerretDB();
  const ownDir = !options.dir;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "logbook-ferretdb-"));
  const dataDir = join(dir, "data");
  const stateDir = join(dir, "state");
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(stateDir, { recursive: true });
  const port = options.port ?? (await freePort());
  let child;
  const launch = async () => {
    child = spawn(
      bin,
      [
        "--handler=sqlite",
        `--sqlite-url=file:${dataDir}/`,
        `--listen-addr=127.0.0.1:${port}`,
        `--state-dir=${stateDir}`,
        "--debug-addr=-",
        "--telemetry=disable",
        "--log-level=error",
      ],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    await waitForPort(port, child, 30_000);
  };
  const kill = () =>
    new Promise((resolve) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGCONT"); // a frozen process must wake to die of SIGTERM
      child.kill("SIGTERM");
    });
  await launch();
  return {
    uri: `mongodb://127.0.0.1:${port}/`,
    port,
    dir,
    /** Freezes the server (SIGSTOP): connections stay open, nothing answers. */
    pause: () => child.kill("SIGSTOP"),
    resume: () => child.kill("SIGCONT"),
    /** Stops the process but keeps its data, so restart() brings the same data back on the same port. */
    kill,
    restart: async () => {
      await kill();
      await launch();
    },
    stop: async () => {
      await kill();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** MONGODB_URI when given (nothing to stop), else a fresh FerretDB. */
export async function startMongoForTests() {
  if (process.env.MONGODB_URI) return { uri: process.env.MONGODB_URI, stop: async () => {} };
  return startFerretDB();
}

async function main(argv) {
  const [cmd, ...rest] = argv;
  if (cmd === "build") {
    console.log(buildFerretDB());
    return 0;
  }
  if (cmd === "run") {
    const args = rest[0] === "--" ? rest.slice(1) : rest;
    if (!args.length) throw new Error("usage: ferretdb.mjs run -- <command> [args…]");
    const mongo = await startMongoForTests();
    try {
      const child = spawn(args[0], args.slice(1), { stdio: "inherit", env: { ...process.env, MONGODB_URI: mongo.uri } });
      return await new Promise((resolve) => child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0))));
    } finally {
      await mongo.stop();
    }
  }
  console.error("usage: node scripts/ferretdb.mjs build | run -- <command> [args…]");
  return 2;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
