#!/usr/bin/env node
import { Command } from "commander";
import { pino } from "pino";
import { addServerOptions, resolveConfig } from "./config.js";
import { startLogbook } from "./server.js";
import { LOGBOOK_VERSION } from "./version.js";

const program = new Command("logbook")
  .description("Logbook: experiment tracking and model registry over gRPC and the MLflow REST API")
  .version(LOGBOOK_VERSION);

addServerOptions(
  program
    .command("serve", { isDefault: true })
    .description("start the server (every flag also reads LOGBOOK_<FLAG>, e.g. LOGBOOK_GRPC_PORT)"),
).action(async (opts: Record<string, unknown>, cmd: Command) => {
  const config = resolveConfig(opts, process.env, (key) => cmd.getOptionValueSource(key));
  const logger = pino({ level: config.logLevel });
  const logbook = await startLogbook(config, logger);
  let signals = 0;
  const stop = (signal: string) => {
    if (++signals > 1) {
      logger.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    logger.info({ signal }, "signal received");
    logbook.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
});

program.parseAsync().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
