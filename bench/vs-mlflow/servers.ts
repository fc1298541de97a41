/**
 * The servers under test: MLflow 3.17.2 (`mlflow server --workers 2`, SQLite backend, proxied artifacts) from the
 * compat suite's cached virtualenv, and Logbook from the built CLI. Each runs in a temp dir and is stopped whole.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureVenv } from "../../scripts/python-venv.mjs";
import { spawnLogbook } from "../../test/harness/logbook-process.js";
import { rssMiB } from "../stats.js";

export interface Server {
  label: string;
  httpUrl: string;
  /** Resident memory of the server's processes, MiB. */
  rss(): number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Summed RSS of every process in a process group (MLflow's gunicorn/uvicorn workers are children). */
function groupRss(pgid: number): number {
  let total = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid) total += rssMiB(Number(entry)).rss;
    } catch {
      // the process went away
    }
  }
  return total;
}

async function waitHealthy(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} not healthy within ${timeoutMs} ms`);
}

export async function startMlflow(): Promise<Server> {
  const venv = ensureVenv("test/compat/requirements.txt");
  const dir = mkdtempSync(join(tmpdir(), "bench-mlflow-"));
  const port = await freePort();
  const child = spawn(
    join(venv, "bin", "mlflow"),
    ["server", "--backend-store-uri", `sqlite:///${dir}/mlflow.db`, "--artifacts-destination", join(dir, "artifacts"), "--host", "127.0.0.1", "--port", String(port), "--workers", "2"],
    { detached: true, stdio: ["ignore", "ignore", "ignore"], env: { ...process.env, MLFLOW_DISABLE_TELEMETRY: "true", DO_NOT_TRACK: "1" } },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const httpUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      // already gone
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // gone
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitHealthy(httpUrl, child, 120_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { label: "MLflow 3.17.2", httpUrl, rss: () => groupRss(child.pid!), stop };
}

export async function startLogbook(store: "sqlite" | string): Promise<Server & { address: string }> {
  const dir = mkdtempSync(join(tmpdir(), "bench-logbook-"));
  const proc = await spawnLogbook(["--store", store === "sqlite" ? "sqlite:" : store, "--data-dir", dir]);
  return {
    label: store === "sqlite" ? "Logbook (SQLite)" : "Logbook (MongoDB)",
    httpUrl: proc.httpUrl,
    address: proc.address,
    rss: () => rssMiB(proc.child.pid!).rss,
    stop: async () => {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
