/**
 * What orchestrators and tooling see: gRPC health through grpc-health-probe (as Kubernetes users run it),
 * per-service status derived from the registered services, and server reflection resolving every type
 * and import (buf curl calls a method using only what reflection tells it).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { goTool, GRPC_HEALTH_PROBE } from "../../scripts/go-tool.mjs";
import { ErrorInfo } from "../../gen/ts/google/rpc/error_details.js";
import { spawnLogbook, tempDir, type LogbookProcess } from "../harness/logbook.js";

const run = promisify(execFile);

async function exitOf(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(cmd, args, { timeout: 60_000 });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

describe("health and reflection of a running server (embedded store)", () => {
  let lb: LogbookProcess;
  const data = tempDir();
  let probe: string;

  beforeAll(async () => {
    probe = goTool(GRPC_HEALTH_PROBE);
    lb = await spawnLogbook(["--data-dir", data.path]);
  });
  afterAll(async () => {
    await lb?.stop();
    data.remove();
  });

  it("answers grpc-health-probe for the server and for each registered service", async () => {
    const overall = await exitOf(probe, [`-addr=${lb.address}`]);
    expect(overall).toEqual({ code: 0, out: expect.stringContaining("status: SERVING") });
    const tracking = await exitOf(probe, [`-addr=${lb.address}`, "-service=logbook.v1.TrackingService"]);
    expect(tracking.code).toBe(0);
    const unknown = await exitOf(probe, [`-addr=${lb.address}`, "-service=no.such.Service"]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.out).toMatch(/NotFound|unknown service/i);
  });

  it("lists the services' methods over reflection and calls one with types resolved from it", async () => {
    const list = await run("npx", ["--no-install", "buf", "curl", "--protocol", "grpc", "--http2-prior-knowledge", "--list-methods", `http://${lb.address}`]);
    expect(list.stdout).toContain("logbook.v1.TrackingService/LogBatch");
    expect(list.stdout).toContain("grpc.health.v1.Health/Check");

    const got = await run("npx", [
      "--no-install", "buf", "curl", "--protocol", "grpc", "--http2-prior-knowledge",
      "-d", '{"experiment_id": "0"}',
      `http://${lb.address}/logbook.v1.TrackingService/GetExperiment`,
    ]);
    expect(JSON.parse(got.stdout)).toMatchObject({ experiment: { experimentId: "0", name: "Default" } });
  });

  it("reports the error in the rich error model that reflection-based clients decode", async () => {
    const res = await exitOf("npx", [
      "--no-install", "buf", "curl", "--protocol", "grpc", "--http2-prior-knowledge",
      "-d", '{"experiment_id": "abc"}',
      `http://${lb.address}/logbook.v1.TrackingService/GetExperiment`,
    ]);
    expect(res.code).not.toBe(0);
    const body = JSON.parse(res.out.slice(res.out.indexOf("{"))) as {
      code: string;
      message: string;
      details: { type: string; value: string }[];
    };
    expect(body).toMatchObject({ code: "invalid_argument", message: expect.stringContaining("Invalid experiment ID 'abc'") });
    const detail = body.details.find((d) => d.type === "google.rpc.ErrorInfo");
    expect(ErrorInfo.decode(Buffer.from(detail!.value, "base64"))).toMatchObject({
      reason: "INVALID_PARAMETER_VALUE",
      domain: "logbook",
    });
  });
});
