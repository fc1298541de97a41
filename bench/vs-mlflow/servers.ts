/**
 * The servers under test: MLflow 3.17.2 (`mlflow server --workers 2`, SQLite backend, proxied artifacts) from the
 * compat suite's cached virtualenv, and Logbook from the built CLI. Each runs in a temp dir and is stopped whole.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnLogbook } from "../../test/harness/logbook-process.js";
import { startMlflowServer } from "../../test/harness/mlflow-server.js";
import { rssMiB } from "../stats.js";

export interface Server {
  label: string;
  httpUrl: string;
  /** Resident memory of the server's processes, MiB. */
  rss(): number;
  stop(): Promise<void>;
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

export async function startMlflow(): Promise<Server> {
  const server = await startMlflowServer({ workers: 2 });
  return { label: "MLflow 3.17.2", httpUrl: server.httpUrl, rss: () => groupRss(server.pid), stop: server.stop };
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
