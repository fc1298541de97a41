import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { grpcFamilyOf, httpFamilyOf, ROUTE_FAMILIES, type RouteFamily, unmappedRoutes } from "./route-families.js";

const yesNo = (v: boolean) => (v ? "yes" : "no");

/** The README row of a family, as the "Operating safely" section shows it. */
function readmeRow(f: RouteFamily): string {
  const http = f.transport === "http";
  return `| \`${f.name}\` | ${f.description} | ${http ? yesNo(f.hostCheck) : "—"} | ${http ? yesNo(f.originCheck) : "—"} | ${yesNo(f.inFlightCap)} | ${f.auth} |`;
}

describe("route families", () => {
  it.each([
    ["/health", "health"],
    ["/readyz", "readyz"],
    ["/version", "version"],
    ["/metrics", "metrics"],
    ["/api/3.0/mlflow/server-info", "server-info"],
    ["/ajax-api/3.0/mlflow/server-info", "server-info"],
    ["/", "ui"],
    ["/static-files/app.js", "ui"],
    ["/graphql", "graphql"],
    ["/api/2.0/mlflow/runs/search", "mlflow-api"],
    ["/api/3.0/mlflow/traces", "mlflow-api"],
    ["/ajax-api/2.0/mlflow/runs/get", "mlflow-api"],
    ["/mlflow/runs/abc", "service-api"],
    ["/api/2.0/logbook/tokens/create", "logbook-api"],
    ["/ajax-api/2.0/logbook/tokens/list", "logbook-api"],
    ["/api/2.0/logbook-other", "unrouted"],
    ["/api/2.0/mlflow-artifacts/artifacts", "artifacts"],
    ["/api/2.0/mlflow-artifacts/artifacts/1/x/artifacts/a.txt", "artifacts"],
    ["/ajax-api/2.0/mlflow-artifacts/artifacts/a", "artifacts"],
    ["/get-artifact", "artifacts"],
    ["/model-versions/get-artifact", "artifacts"],
    ["/healthz", "unrouted"],
    ["/api/2.0/other", "unrouted"],
    ["/health/", "unrouted"],
    ["//health", "health"],
    ["//model-versions/get-artifact", "artifacts"],
  ])("resolves %s to %s", (path, family) => {
    expect(httpFamilyOf(path).name).toBe(family);
  });

  it("resolves gRPC methods by service", () => {
    expect(grpcFamilyOf("/logbook.v1.TrackingService/GetRun")?.name).toBe("grpc");
    expect(grpcFamilyOf("/grpc.health.v1.Health/Check")?.name).toBe("grpc-health");
    expect(grpcFamilyOf("/no.such.Service/X")).toBeUndefined();
  });

  it("names the routes no family claims", () => {
    expect(unmappedRoutes({ http: ["/health", "/mlflow/runs/{run_id}", "/api/2.0/mlflow-artifacts/artifacts/*"], grpc: ["/grpc.health.v1.Health/Watch"] })).toEqual([]);
    expect(unmappedRoutes({ http: ["/brand-new", "/mlflow/x"], grpc: ["/acme.v1.New/Call"] })).toEqual(["HTTP /brand-new", "gRPC /acme.v1.New/Call"]);
  });

  it("is the table the README shows", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const section = readme.slice(readme.indexOf("#### Route families"));
    const shown = section.split("\n").filter((line) => /^\| `[a-z][a-z-]*` \|/.test(line));
    const expected = ROUTE_FAMILIES.map(readmeRow);
    expect(shown, `README rows should be:\n${expected.join("\n")}`).toEqual(expected);
  });
});
