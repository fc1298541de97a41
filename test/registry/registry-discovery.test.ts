/**
 * RegistryService is registered like every other service: gRPC health reports it and reflection resolves its
 * methods well enough for buf curl to call one (the built CLI, embedded store).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { goTool, GRPC_HEALTH_PROBE } from "../../scripts/go-tool.mjs";
import { spawnLogbook, tempDir, type LogbookProcess } from "../harness/logbook.js";

const run = promisify(execFile);

describe("RegistryService on a running server", () => {
  let lb: LogbookProcess;
  const data = tempDir();

  beforeAll(async () => {
    lb = await spawnLogbook(["--data-dir", data.path]);
  }, 120_000);
  afterAll(async () => {
    await lb?.stop();
    data.remove();
  });

  it("is SERVING for grpc-health-probe", async () => {
    // The probe exits non-zero (and execFile rejects) for any other status.
    const { stdout, stderr } = await run(goTool(GRPC_HEALTH_PROBE), [`-addr=${lb.address}`, "-service=logbook.v1.RegistryService"], { timeout: 60_000 });
    expect(stdout + stderr).toContain("status: SERVING");
  });

  it("is listed and callable through reflection", async () => {
    const curl = ["--no-install", "buf", "curl", "--protocol", "grpc", "--http2-prior-knowledge"];
    const list = await run("npx", [...curl, "--list-methods", `http://${lb.address}`]);
    expect(list.stdout).toContain("logbook.v1.RegistryService/PromoteModelVersion");
    const created = await run("npx", [
      ...curl,
      "--data",
      JSON.stringify({ name: "via-reflection" }),
      `http://${lb.address}/logbook.v1.RegistryService/CreateRegisteredModel`,
    ]);
    expect(JSON.parse(created.stdout)).toMatchObject({ registeredModel: { name: "via-reflection" } });
  }, 120_000);
});
