/**
 * Runs the built Logbook CLI as a child process (for signals, several servers on one database, and the
 * benchmarks). No vitest imports here: bench/ scripts use it too.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { packageRoot } from "../../src/server/paths.js";

export interface LogbookProcess {
  child: ChildProcess;
  grpcPort: number;
  httpPort: number;
  /** host:port of the gRPC server */
  address: string;
  /** http://127.0.0.1:<port> */
  httpUrl: string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Runs the built CLI (`npm run build` first; `npm test` does) as a child process. */
export async function spawnLogbook(args: string[], env: NodeJS.ProcessEnv = {}): Promise<LogbookProcess> {
  const cli = join(packageRoot(), "dist", "src", "server", "cli.js");
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` (npm test does) before this suite`);
  const child = spawn(process.execPath, [cli, "serve", "--host", "127.0.0.1", "--grpc-port", "0", "--http-port", "0", "--log-level", "info", ...args], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, ...env },
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const started = new Promise<{ grpcPort: number; httpPort: number }>((resolve, reject) => {
    // The reader stays attached for the process's life, so its stdout pipe never fills up.
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error("Logbook did not start within 60 s")), 60_000);
    let grpc = 0;
    lines.on("line", (line) => {
      try {
        const entry = JSON.parse(line) as { grpcPort?: number; httpPort?: number; msg?: string };
        if (entry.msg === "gRPC server listening" && entry.grpcPort) grpc = entry.grpcPort;
        if (entry.msg === "HTTP server listening" && entry.httpPort && grpc) {
          clearTimeout(timer);
          resolve({ grpcPort: grpc, httpPort: entry.httpPort });
        }
      } catch {
        // not a log line
      }
    });
    void exited.then((code) => reject(new Error(`Logbook exited with code ${code} before listening`)));
  });
  const { grpcPort, httpPort } = await started.catch((err: unknown) => {
    child.kill("SIGKILL"); // never leave a half-started server behind
    throw err;
  });
  return {
    child,
    grpcPort,
    httpPort,
    address: `127.0.0.1:${grpcPort}`,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
