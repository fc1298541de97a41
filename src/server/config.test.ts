/** The observability flags: defaults, flag, environment (LOGBOOK_<FLAG>), and refusals. */
import { Command } from "commander";
import { afterEach, describe, expect, it } from "vitest";
import { addServerOptions, resolveConfig, type ServerConfig } from "./config.js";

const VARS = ["LOGBOOK_NO_METRICS", "LOGBOOK_METRICS_PORT", "LOGBOOK_NO_LOG_REQUESTS", "LOGBOOK_SLOW_REQUEST_MS"];

function parse(argv: string[], env: Record<string, string> = {}): ServerConfig {
  Object.assign(process.env, env);
  const cmd = addServerOptions(new Command()).exitOverride().configureOutput({ writeErr: () => undefined });
  cmd.parse(argv, { from: "user" });
  return resolveConfig(cmd.opts());
}

describe("observability flags", () => {
  afterEach(() => {
    for (const name of VARS) delete process.env[name];
  });

  it("default: metrics on the HTTP port, request logs on, slow at 1 s", () => {
    const config = parse([]);
    expect(config).toMatchObject({ metrics: true, logRequests: true, slowRequestMs: 1000 });
    expect(config.metricsPort).toBeUndefined();
  });

  it("flags", () => {
    expect(parse(["--no-metrics"]).metrics).toBe(false);
    expect(parse(["--metrics-port", "9464"]).metricsPort).toBe(9464);
    expect(parse(["--metrics-port", "0"]).metricsPort).toBe(0);
    expect(parse(["--no-log-requests"]).logRequests).toBe(false);
    expect(parse(["--slow-request-ms", "250"]).slowRequestMs).toBe(250);
  });

  it("environment, and the flag wins over it", () => {
    expect(parse([], { LOGBOOK_NO_METRICS: "1" }).metrics).toBe(false);
    expect(parse([], { LOGBOOK_METRICS_PORT: "9100" }).metricsPort).toBe(9100);
    expect(parse(["--metrics-port", "9200"], { LOGBOOK_METRICS_PORT: "9100" }).metricsPort).toBe(9200);
    expect(parse([], { LOGBOOK_NO_LOG_REQUESTS: "1" }).logRequests).toBe(false);
    expect(parse([], { LOGBOOK_SLOW_REQUEST_MS: "50" }).slowRequestMs).toBe(50);
    expect(parse(["--slow-request-ms", "70"], { LOGBOOK_SLOW_REQUEST_MS: "50" }).slowRequestMs).toBe(70);
  });

  it("refuses bad values", () => {
    expect(() => parse(["--metrics-port", "70000"])).toThrow(/integer from 0 to 65535/);
    expect(() => parse(["--slow-request-ms", "0"])).toThrow(/integer from 1/);
    expect(() => parse([], { LOGBOOK_SLOW_REQUEST_MS: "soon" })).toThrow(/integer/);
  });
});
