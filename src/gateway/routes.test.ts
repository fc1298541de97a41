import { readFileSync } from "node:fs";
import { create, fromBinary, setExtension, toBinary, type DescExtension, type DescMessage } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, MethodOptionsSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { loadHttpRoutes, registryFromDescriptorSet, type HttpRoute } from "./routes.js";

const logbookSet = readFileSync(new URL("../../gen/descriptor.binpb", import.meta.url));
const testSet = readFileSync(new URL("../../test/gen/descriptor.binpb", import.meta.url));

const summary = (r: HttpRoute) => `${r.method} ${r.template.source} -> ${r.rpc}`;

describe("loadHttpRoutes on Logbook's protos", () => {
  const routes = loadHttpRoutes(registryFromDescriptorSet(logbookSet));

  it("reads every binding, additional ones included", () => {
    const lines = routes.map(summary);
    expect(lines).toContain("POST /api/2.0/mlflow/experiments/create -> logbook.v1.TrackingService.CreateExperiment");
    expect(lines).toContain("GET /api/2.0/mlflow/runs/get -> logbook.v1.TrackingService.GetRun");
    expect(lines).toContain("GET /mlflow/runs/{run_id} -> logbook.v1.TrackingService.GetRun");
    const getRun = routes.find((r) => r.template.source === "/mlflow/runs/{run_id}")!;
    expect(getRun.grpcPath).toBe("/logbook.v1.TrackingService/GetRun");
    expect(getRun.pathFields.map((p) => [p.name, p.fields.map((f) => f.name)])).toEqual([["run_id", ["run_id"]]]);
    expect(getRun.body).toEqual({ kind: "none" });
    expect(routes.find((r) => r.rpc.endsWith(".CreateExperiment"))!.body).toEqual({ kind: "all" });
  });

  it("derives an /ajax-api/ twin for each /api/ binding, and none for /mlflow/", () => {
    const api = routes.filter((r) => r.template.source.startsWith("/api/"));
    const ajax = routes.filter((r) => r.template.source.startsWith("/ajax-api/"));
    expect(api.length).toBeGreaterThan(10);
    expect(ajax.map((r) => `${r.method} ${r.template.source.replace("/ajax-api/", "/api/")} ${r.rpc}`)).toEqual(
      api.map((r) => `${r.method} ${r.template.source} ${r.rpc}`),
    );
    expect(ajax.every((r) => r.derived)).toBe(true);
    expect(api.some((r) => r.derived)).toBe(false);
    expect(routes.some((r) => r.template.source.startsWith("/ajax-api/") && r.rpc.endsWith(".GetRun") && r.template.source.includes("{"))).toBe(false);
  });
});

describe("loadHttpRoutes on the test service", () => {
  const routes = loadHttpRoutes(registryFromDescriptorSet(testSet));
  const byRpc = (name: string) => routes.filter((r) => r.rpc === `logbook.test.v1.LibraryService.${name}`);

  it("resolves nested path fields and body: field", () => {
    const [r] = byRpc("UpdateBook");
    expect(r!.method).toBe("PATCH");
    expect(r!.pathFields.map((p) => [p.name, p.fields.map((f) => f.name)])).toEqual([
      ["book.shelf_id", ["book", "shelf_id"]],
      ["book.book_id", ["book", "book_id"]],
    ]);
    expect(r!.body.kind === "field" && r!.body.field.name).toBe("book");
  });

  it("reads response_body, custom methods, verbs, ** and streaming", () => {
    expect(byRpc("GetBookTitle")[0]!.responseBody?.name).toBe("title");
    expect(byRpc("CheckBook").map(summary)).toEqual(["HEAD /v1/books/{book_id} -> logbook.test.v1.LibraryService.CheckBook"]);
    expect(byRpc("ArchiveShelf")[0]!.template.verb).toBe("archive");
    expect(byRpc("GetFile").map((r) => r.template.source)).toEqual(["/v1/files/{path=**}", "/v1/raw/{root}/**"]);
    const stream = byRpc("ListBooks")[0]!;
    expect([stream.serverStreaming, stream.clientStreaming]).toEqual([true, false]);
    expect(byRpc("GetShelf")[0]!.serverStreaming).toBe(false);
  });

  it("keeps additional bindings in order and twins only the /api/ one", () => {
    expect(byRpc("Echo").map((r) => `${r.method} ${r.template.source} ${r.body.kind}`)).toEqual([
      "GET /v1/echo none",
      "POST /v1/echo all",
      "GET /v1/echo/{text} none",
      "GET /api/2.0/test/echo none",
      "GET /ajax-api/2.0/test/echo none",
    ]);
  });

  it("gives methods without a rule no route", () => {
    expect(byRpc("Unbound")).toEqual([]);
  });
});

describe("loadHttpRoutes validation", () => {
  /** The test descriptor set with GetShelf's rule replaced. */
  function withRule(rule: Record<string, unknown>): Uint8Array {
    const set = fromBinary(FileDescriptorSetSchema, testSet);
    const registry = registryFromDescriptorSet(testSet);
    const ext = registry.getExtension("google.api.http") as DescExtension;
    const ruleDesc = registry.getMessage("google.api.HttpRule") as DescMessage;
    const file = set.file.find((f) => f.name === "logbook/test/v1/library_service.proto")!;
    const method = file.service[0]!.method.find((m) => m.name === "GetShelf")!;
    method.options = create(MethodOptionsSchema);
    setExtension(method.options, ext, create(ruleDesc, rule) as never);
    return toBinary(FileDescriptorSetSchema, set);
  }
  const load = (rule: Record<string, unknown>) => () => loadHttpRoutes(registryFromDescriptorSet(withRule(rule)));

  it("accepts the rule as written", () => {
    expect(load({ pattern: { case: "get", value: "/v1/{name=shelves/*}" } })).not.toThrow();
  });

  it.each([
    [{ pattern: { case: "get", value: "/v1/{nme}" } }, 'path variable "nme": logbook.test.v1.GetShelfRequest has no field "nme"'],
    [{ pattern: { case: "get", value: "/v1/{name.x}" } }, 'path variable "name.x": "name" is not a message field'],
    [{ pattern: { case: "get", value: "/v1/{name" } }, "unclosed variable"],
    [{ pattern: { case: "get", value: "/v1/{name}" }, body: "shelf" }, 'body "shelf" is not a field of logbook.test.v1.GetShelfRequest'],
    [{ pattern: { case: "get", value: "/v1/{name}" }, responseBody: "nope" }, 'response_body "nope" is not a field of logbook.test.v1.GetShelfResponse'],
    [{ pattern: { case: "custom", value: { kind: "", path: "/v1/x" } } }, "custom HTTP rule without a kind"],
    [{}, "HTTP rule without a pattern"],
    [
      {
        pattern: { case: "get", value: "/v1/a" },
        additionalBindings: [{ pattern: { case: "get", value: "/v1/b" }, additionalBindings: [{ pattern: { case: "get", value: "/v1/c" } }] }],
      },
      "additional_bindings cannot nest",
    ],
  ])("rejects %j", (rule, message) => {
    expect(load(rule)).toThrow(message);
    expect(load(rule)).toThrow("logbook.test.v1.LibraryService.GetShelf");
  });

  it("rejects a message-typed path variable, naming the template", () => {
    const set = fromBinary(FileDescriptorSetSchema, testSet);
    const registry = registryFromDescriptorSet(testSet);
    const ext = registry.getExtension("google.api.http") as DescExtension;
    const ruleDesc = registry.getMessage("google.api.HttpRule") as DescMessage;
    const file = set.file.find((f) => f.name === "logbook/test/v1/library_service.proto")!;
    const method = file.service[0]!.method.find((m) => m.name === "UpdateBook")!;
    method.options = create(MethodOptionsSchema);
    setExtension(method.options, ext, create(ruleDesc, { pattern: { case: "patch", value: "/v1/books/{book}" } }) as never);
    expect(() => loadHttpRoutes(registryFromDescriptorSet(toBinary(FileDescriptorSetSchema, set)))).toThrow(
      'logbook.test.v1.LibraryService.UpdateBook: invalid HTTP path template "/v1/books/{book}": path variable "book" must name a non-repeated scalar or enum field',
    );
  });
});
