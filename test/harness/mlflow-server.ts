/**
 * A real `mlflow server` (the pinned MLflow of test/compat/requirements.txt, from its cached virtualenv) on a free
 * loopback port, SQLite backend and proxied artifacts in a temp dir of its own, telemetry off: the reference the
 * browser suite and the benchmarks compare Logbook with. It runs in its own process group (uvicorn workers are
 * children) and `stop()` ends the whole group. No vitest imports here: bench/ scripts use it too.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureVenv } from "../../scripts/python-venv.mjs";
import { packageRoot } from "../../src/server/paths.js";

export interface MlflowServer {
  httpUrl: string;
  /** The process group's leader. */
  pid: number;
  /** The virtualenv the server runs from (its python has the official client). */
  venv: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function waitHealthy(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`mlflow server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} not healthy within ${timeoutMs} ms`);
}

/** The compat suite's virtualenv (created on first use: pip installs MLflow, which takes minutes once). */
export function mlflowVenv(): string {
  return ensureVenv(join(packageRoot(), "test", "compat", "requirements.txt"));
}

export async function startMlflowServer(options: { workers?: number } = {}): Promise<MlflowServer> {
  const venv = mlflowVenv();
  const dir = mkdtempSync(join(tmpdir(), "mlflow-server-"));
  const port = await freePort();
  const child = spawn(
    join(venv, "bin", "mlflow"),
    [
      "server",
      "--backend-store-uri", `sqlite:///${dir}/mlflow.db`,
      "--artifacts-destination", join(dir, "artifacts"),
      "--host", "127.0.0.1", "--port", String(port),
      "--workers", String(options.workers ?? 1),
    ],
    {
      cwd: dir,
      detached: true,
      stdio: ["ignore", "ignore", "ignore"],
      env: { ...process.env, MLFLOW_DISABLE_TELEMETRY: "true", DO_NOT_TRACK: "1", MLFLOW_SERVER_ENABLE_JOB_EXECUTION: "false" },
    },
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
    await waitHealthy(httpUrl, child, 180_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { httpUrl, pid: child.pid!, venv, stop };
}
