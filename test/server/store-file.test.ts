/**
 * The store URI can come from a file (`--store-file` / `LOGBOOK_STORE_FILE`), so a MongoDB password stays out of
 * the process list; the server works from it, refuses it together with `--store`, and never prints the password —
 * neither when it runs nor when the database cannot be reached.
 */
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../src/server/paths.js";
import { mongoTestUri } from "../harness/mongo.js";
import { spawnLogbook, tempDir } from "../harness/logbook.js";

const dir = tempDir("logbook-store-file-");
afterAll(() => dir.remove());

/** Runs the CLI to its exit; returns its exit code and everything it printed. */
function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
  const cli = join(packageRoot(), "dist", "src", "server", "cli.js");
  const child = spawn(process.execPath, [cli, "serve", "--grpc-port", "0", "--http-port", "0", "--data-dir", dir.path, ...args], {
    env: { ...process.env, ...env },
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, output })));
}

describe("--store-file", () => {
  it("serves the store named in the file given by LOGBOOK_STORE_FILE; the process list shows no URI", async () => {
    const file = join(dir.path, "store-uri");
    writeFileSync(file, `${mongoTestUri("store_file")}\n`);
    const lb = await spawnLogbook(["--data-dir", dir.path], { LOGBOOK_STORE_FILE: file });
    try {
      const status = (await (await fetch(`${lb.httpUrl}/mlflow/status`)).json()) as { store: { kind: string } };
      expect(status.store.kind).toBe("mongodb");
      const cmdline = readFileSync(`/proc/${lb.child.pid}/cmdline`, "utf8");
      expect(cmdline).not.toContain("mongodb://");
    } finally {
      await lb.stop();
    }
  });

  it("refuses --store and --store-file together", async () => {
    const file = join(dir.path, "both");
    writeFileSync(file, "sqlite:");
    const { code, output } = await runCli(["--store", "sqlite:", "--store-file", file]);
    expect(code).not.toBe(0);
    expect(output).toContain("give --store or --store-file, not both");
  });

  it("names an unreadable file without crashing", async () => {
    const { code, output } = await runCli(["--store-file", join(dir.path, "missing")]);
    expect(code).not.toBe(0);
    expect(output).toContain("--store-file: cannot read");
  });

  it("never prints the password, also when the database is unreachable", async () => {
    const file = join(dir.path, "secret");
    writeFileSync(file, "mongodb://logbook:s3cr3t-Pa55@127.0.0.1:9/logbook?serverSelectionTimeoutMS=300&connectTimeoutMS=300");
    const { code, output } = await runCli(["--store-file", file, "--log-level", "trace"]);
    expect(code).not.toBe(0);
    expect(output.length).toBeGreaterThan(0);
    expect(output).not.toContain("s3cr3t-Pa55");
  });
});
