/**
 * Starting Logbook for tests: in process (fast; most suites) or as a real child process (signals,
 * several servers on one database). Everything started here is stopped by the returned handle.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino, type Logger } from "pino";
import { defaultServerConfig, type ServerConfig } from "../../src/server/config.js";
import { startLogbook, type Logbook } from "../../src/server/server.js";
import { TrackingServiceService } from "../../gen/ts/logbook/v1/tracking_service.js";
import { promiseClient, type PromiseClient } from "./grpc.js";
import { mongoTestUri } from "./mongo.js";

export { spawnLogbook, type LogbookProcess } from "./logbook-process.js";

export type StoreKind = "sqlite" | "mongodb";
export const STORE_KINDS: StoreKind[] = ["sqlite", "mongodb"];

export interface TestLogbook {
  logbook: Logbook;
  address: string;
  /** http://127.0.0.1:<port> */
  httpUrl: string;
  tracking: PromiseClient<typeof TrackingServiceService>;
  dataDir: string;
  close(): Promise<void>;
}

/** A --store value: a fresh SQLite file, or a fresh database on the run's MongoDB-wire server. */
export function storeSpec(kind: StoreKind, label: string): string {
  return kind === "sqlite" ? "sqlite:" : mongoTestUri(label);
}

export async function startTestLogbook(
  kind: StoreKind,
  options: { store?: string; label?: string; config?: Partial<ServerConfig>; logger?: Logger } = {},
): Promise<TestLogbook> {
  const dataDir = mkdtempSync(join(tmpdir(), "logbook-test-"));
  const logbook = await startLogbook(
    {
      ...defaultServerConfig(),
      host: "127.0.0.1",
      grpcPort: 0,
      httpPort: 0,
      maxBodyBytes: 32 * 1024 * 1024,
      dataDir,
      store: options.store ?? storeSpec(kind, options.label ?? "t"),
      logLevel: "silent",
      healthIntervalMs: 200,
      shutdownTimeoutS: 5,
      ...options.config,
    },
    options.logger ?? pino({ level: process.env.LOGBOOK_TEST_LOG_LEVEL ?? "silent" }),
  );
  const address = `127.0.0.1:${logbook.grpcPort}`;
  const tracking = promiseClient(TrackingServiceService, address);
  return {
    logbook,
    address,
    httpUrl: `http://127.0.0.1:${logbook.httpPort}`,
    tracking,
    dataDir,
    close: async () => {
      tracking.close();
      await logbook.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function tempDir(prefix = "logbook-test-"): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * A stand-in MLflow UI bundle (index.html, static-files/app.js) for `--ui-dir`, so that the UI's routes are
 * registered in suites that need them but not the real bundle.
 */
export function standInUiBundle(): { path: string; remove(): void } {
  const dir = tempDir("logbook-ui-");
  mkdirSync(join(dir.path, "static-files"));
  writeFileSync(join(dir.path, "index.html"), "<!doctype html><title>ui</title>");
  writeFileSync(join(dir.path, "static-files", "app.js"), "console.log(1);");
  return dir;
}
