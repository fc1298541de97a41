import { describe, expect, it } from "vitest";
import { parseTemplate } from "./http-rule.js";
import { Router, type RouteLookup } from "./router.js";

function router(): Router<string> {
  const r = new Router<string>();
  const add = (method: string, template: string, target = `${method} ${template}`) => r.add(method, parseTemplate(template), target);
  add("GET", "/api/2.0/mlflow/runs/get");
  add("POST", "/api/2.0/mlflow/runs/create");
  add("GET", "/mlflow/runs/{run_id}");
  add("DELETE", "/mlflow/runs/{run_id}");
  add("GET", "/mlflow/runs/special");
  add("POST", "/v1/{name=shelves/*}:archive");
  add("GET", "/v1/{name=shelves/*}");
  add("GET", "/v1/files/{path=**}");
  add("HEAD", "/v1/books/{id}");
  add("*", "/v1/anything");
  return r;
}

describe("Router.lookup", () => {
  const table: Array<[string, string, RouteLookup<string>]> = [
    ["GET", "/api/2.0/mlflow/runs/get", { kind: "found", target: "GET /api/2.0/mlflow/runs/get", params: {} }],
    ["get", "/api/2.0/mlflow/runs/get", { kind: "found", target: "GET /api/2.0/mlflow/runs/get", params: {} }],
    ["POST", "/api/2.0/mlflow/runs/get", { kind: "method-not-allowed", allowed: ["GET", "HEAD"] }],
    ["GET", "/api/2.0/mlflow/runs/create", { kind: "method-not-allowed", allowed: ["POST"] }],
    ["GET", "/api/2.0/mlflow/runs/nope", { kind: "not-found" }],
    ["GET", "/api/2.0/mlflow/runs/get/", { kind: "not-found" }],
    ["GET", "/", { kind: "not-found" }],
    ["GET", "/mlflow/runs/abc", { kind: "found", target: "GET /mlflow/runs/{run_id}", params: { run_id: "abc" } }],
    ["DELETE", "/mlflow/runs/abc", { kind: "found", target: "DELETE /mlflow/runs/{run_id}", params: { run_id: "abc" } }],
    ["PUT", "/mlflow/runs/abc", { kind: "method-not-allowed", allowed: ["DELETE", "GET", "HEAD"] }],
    // a literal beats a variable
    ["GET", "/mlflow/runs/special", { kind: "found", target: "GET /mlflow/runs/special", params: {} }],
    // verbs
    ["POST", "/v1/shelves/s1:archive", { kind: "found", target: "POST /v1/{name=shelves/*}:archive", params: { name: "shelves/s1" } }],
    ["GET", "/v1/shelves/s1", { kind: "found", target: "GET /v1/{name=shelves/*}", params: { name: "shelves/s1" } }],
    // GET /v1/{name=shelves/*} also matches "s1:archive" as a segment value, hence GET is allowed there
    ["PUT", "/v1/shelves/s1:archive", { kind: "method-not-allowed", allowed: ["GET", "HEAD", "POST"] }],
    ["GET", "/v1/files/a/b/c", { kind: "found", target: "GET /v1/files/{path=**}", params: { path: "a/b/c" } }],
    // HEAD falls back to GET; an explicit HEAD binding is used as is
    ["HEAD", "/mlflow/runs/abc", { kind: "found", target: "GET /mlflow/runs/{run_id}", params: { run_id: "abc" } }],
    ["HEAD", "/v1/books/b1", { kind: "found", target: "HEAD /v1/books/{id}", params: { id: "b1" } }],
    ["GET", "/v1/books/b1", { kind: "method-not-allowed", allowed: ["HEAD"] }],
    // custom kind "*": every method
    ["PATCH", "/v1/anything", { kind: "found", target: "* /v1/anything", params: {} }],
  ];
  it.each(table)("%s %s", (method, path, want) => {
    expect(router().lookup(method, path)).toEqual(want);
  });

  it("refuses two bindings that answer the same requests", () => {
    const r = router();
    expect(() => r.add("GET", parseTemplate("/mlflow/runs/{id}"), "dup", "Dup.Method")).toThrow(
      /conflicting HTTP bindings: Dup.Method and GET \/mlflow\/runs\/\{run_id\} both answer GET \/mlflow\/runs\/\*/,
    );
    expect(() => r.add("POST", parseTemplate("/mlflow/runs/{id}"), "ok")).not.toThrow();
  });

  it("throws INVALID_PARAMETER_VALUE for malformed percent-encoding", () => {
    expect(() => router().lookup("GET", "/mlflow/runs/%G0")).toThrow(/Malformed percent-encoding/);
  });
});
