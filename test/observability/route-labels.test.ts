/**
 * Every HTTP route the server registers — each RPC binding and each hand-written route, whoever added it — is named
 * in the RPC metrics by construction: requested with a fresh random id in every path variable, an RPC binding is
 * counted under its service and RPC name, a hand-written route under its route family and its route pattern, and
 * anything else as `unmatched`. No id reaches a label, whatever the route answers.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpFamilyOf, ROUTE_FAMILIES } from "../../src/edge/route-families.js";
import { loadHttpRoutes, registryFromDescriptorSet, type HttpRoute } from "../../src/gateway/routes.js";
import { descriptorSetPath } from "../../src/server/paths.js";
import { standInUiBundle, startTestLogbook, type TestLogbook } from "../harness/logbook.js";
import { scrape, type Scrape } from "../harness/prometheus.js";
import { sendRequest } from "../harness/raw-http.js";

const REQUESTS = "logbook_rpc_requests_total";
/** The methods each hand-written route is tried with (the route takes at least one of them). */
const RAW_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"];

const id = () => randomBytes(16).toString("hex");

/** A binding's path with every variable a fresh id (`{x=**}` and the like: two segments). */
function bindingPath(route: HttpRoute, ids: string[]): string {
  return route.template.source.replace(/\{[^}]*\}/g, (v) => {
    const value = id();
    ids.push(value);
    return v.includes("*") && v.includes("=") ? `${value}/f.txt` : value;
  });
}

/** A fastify pattern's path with every parameter a fresh id and a wildcard a fresh file path. */
function rawPath(pattern: string, ids: string[]): string {
  return pattern.replace(/:[A-Za-z_]+|\*/g, (p) => {
    const value = id();
    ids.push(value);
    return p === "*" ? `${value}/f.txt` : value;
  });
}

describe("route labels (sqlite)", () => {
  let lb: TestLogbook;
  // A stand-in UI bundle, so that the UI's routes (served with --ui only) are registered too.
  const ui = standInUiBundle();

  beforeAll(async () => {
    lb = await startTestLogbook("sqlite", { label: "route_labels", config: { ui: true, uiDir: ui.path } });
  });
  afterAll(async () => {
    await lb?.close();
    ui.remove();
  });

  it("names every registered route by its RPC or pattern and family, and no id reaches a label", async () => {
    const served = new Set(lb.logbook.routes.http);
    // The bindings of the services this server runs (AuthService only with --auth basic).
    const bindings = loadHttpRoutes(registryFromDescriptorSet(readFileSync(descriptorSetPath()))).filter((r) => r.method !== "*" && served.has(r.template.source));
    const patterns = lb.logbook.routes.http.filter((url) => !bindings.some((r) => r.template.source === url));
    const port = lb.logbook.httpPort;
    const ids: string[] = [];
    const before = await scrape(`${lb.httpUrl}/metrics`);

    const expected = new Map<string, number>();
    for (const route of bindings) {
      const slash = route.grpcPath.lastIndexOf("/");
      const key = `${route.grpcPath.slice(1, slash)} ${route.grpcPath.slice(slash + 1)}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
      const json = ["POST", "PUT", "PATCH"].includes(route.method);
      await sendRequest(port, {
        method: route.method,
        path: bindingPath(route, ids),
        headers: json ? { "content-type": "application/json" } : {},
        ...(json ? { body: Buffer.from("{}") } : {}),
      });
    }
    for (const pattern of patterns) {
      for (const method of RAW_METHODS) await sendRequest(port, { method, path: rawPath(pattern, ids), headers: {} });
    }

    const after = await scrape(`${lb.httpUrl}/metrics`);
    const moved = (s: Scrape, labels: Record<string, string>) =>
      s.samples(REQUESTS, { transport: "http", ...labels }).reduce((n, m) => n + Number(m.value), 0);
    for (const [key, n] of expected) {
      const [service, method] = key.split(" ") as [string, string];
      expect(moved(after, { service, method }) - moved(before, { service, method }), key).toBe(n);
    }
    for (const pattern of patterns) {
      const family = httpFamilyOf(rawPath(pattern, [])).name;
      expect(moved(after, { method: pattern }) - moved(before, { method: pattern }), pattern).toBeGreaterThan(0);
      expect(after.samples(REQUESTS, { transport: "http", method: pattern }).every((m) => m.labels?.service === family), pattern).toBe(true);
    }

    // Label values come from fixed sets only.
    const rpcNames = new Set([...expected.keys()].map((k) => k.split(" ")[1]!));
    const services = new Set([...expected.keys()].map((k) => k.split(" ")[0]!));
    const http = after.samples(REQUESTS, { transport: "http" });
    for (const m of http) {
      const { service = "", method = "" } = m.labels ?? {};
      expect(rpcNames.has(method) || patterns.includes(method) || method === "unmatched", method).toBe(true);
      expect(services.has(service) || ROUTE_FAMILIES.some((f) => f.name === service) || service === "none", service).toBe(true);
    }
    for (const value of ids) expect(after.text).not.toContain(value);
  });
});
