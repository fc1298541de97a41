import { describe, expect, it } from "vitest";
import { AppError } from "../domain/errors.js";
import { parseTemplate } from "./http-rule.js";
import { compareSpecificity, matchTemplate, parseRequestPath, type PathParams } from "./pattern.js";

const match = (template: string, path: string) => matchTemplate(parseTemplate(template), parseRequestPath(path));

describe("matchTemplate", () => {
  const table: Array<[string, string, PathParams | undefined]> = [
    // literals
    ["/api/2.0/mlflow/runs/get", "/api/2.0/mlflow/runs/get", {}],
    ["/api/2.0/mlflow/runs/get", "/api/2.0/mlflow/runs/get/", undefined],
    ["/api/2.0/mlflow/runs/get", "/api/2.0/mlflow/runs", undefined],
    ["/api/2.0/mlflow/runs/get", "/api/2.0/mlflow/runs/getx", undefined],
    ["/v1/a%20b", "/v1/a%20b", {}],
    ["/v1/a%20b", "/v1/a b", {}],
    ["/v1/ab", "/v1/%61b", {}], // literals compare decoded
    // single-segment variables: one non-empty segment, fully decoded; %2F is part of the value
    ["/mlflow/runs/{run_id}", "/mlflow/runs/abc123", { run_id: "abc123" }],
    ["/mlflow/runs/{run_id}", "/mlflow/runs/", undefined],
    ["/mlflow/runs/{run_id}", "/mlflow/runs/a/b", undefined],
    ["/mlflow/experiments/{name}/runs", "/mlflow/experiments/team%2Fexp/runs", { name: "team/exp" }],
    ["/mlflow/experiments/{name}/runs", "/mlflow/experiments/a%20b%3Ac/runs", { name: "a b:c" }],
    ["/mlflow/experiments/{name}/runs", "/mlflow/experiments/a+b/runs", { name: "a+b" }], // "+" is literal in paths
    ["/mlflow/experiments/{name}/runs", "/mlflow/experiments/%E2%82%AC/runs", { name: "€" }],
    ["/v1/shelves/{book.shelf_id}/books/{book.book_id}", "/v1/shelves/s1/books/b%2F2", { "book.shelf_id": "s1", "book.book_id": "b/2" }],
    // multi-segment variables keep "/" and leave %2F encoded (http.proto reserved expansion)
    ["/v1/{name=shelves/*}", "/v1/shelves/s1", { name: "shelves/s1" }],
    ["/v1/{name=shelves/*}", "/v1/shelves/a%2Fb", { name: "shelves/a%2Fb" }],
    ["/v1/{name=shelves/*}", "/v1/shelves/a%20b", { name: "shelves/a b" }],
    ["/v1/{name=shelves/*}", "/v1/books/s1", undefined],
    ["/v1/{name=shelves/*}", "/v1/shelves", undefined],
    // **
    ["/v1/files/{path=**}", "/v1/files/a/b/c.txt", { path: "a/b/c.txt" }],
    ["/v1/files/{path=**}", "/v1/files/a", { path: "a" }],
    ["/v1/files/{path=**}", "/v1/files", { path: "" }],
    ["/v1/files/{path=**}", "/v1/files/a%2Fb/c", { path: "a%2Fb/c" }],
    ["/v1/files/{path=**}", "/v1/other/a", undefined],
    ["/v1/raw/{root}/**", "/v1/raw/r/x/y", { root: "r" }],
    ["/v1/raw/{root}/**", "/v1/raw/r", { root: "r" }],
    ["/v1/raw/{root}/**", "/v1/raw", undefined],
    // verbs
    ["/v1/{name=shelves/*}:archive", "/v1/shelves/s1:archive", { name: "shelves/s1" }],
    ["/v1/{name=shelves/*}:archive", "/v1/shelves/s1", undefined],
    ["/v1/{name=shelves/*}:archive", "/v1/shelves/s1:restore", undefined],
    ["/v1/{name=shelves/*}:archive", "/v1/shelves/s1%3Aarchive", undefined], // an encoded colon is no separator
    ["/v1/{name=shelves/*}:archive", "/v1/shelves/:archive", undefined],
    ["/v1/shelves/{id}/books:stream", "/v1/shelves/s%2F1/books:stream", { id: "s/1" }],
    ["/v1/files/{path=**}:undelete", "/v1/files/a/b:undelete", { path: "a/b" }],
    // without a verb in the template, a colon is part of the segment
    ["/mlflow/runs/{run_id}", "/mlflow/runs/a:b", { run_id: "a:b" }],
    // not a path
    ["/v1/x", "", undefined],
    ["/v1/x", "*", undefined],
  ];
  it.each(table)("%s ← %s", (template, path, want) => {
    expect(match(template, path)).toEqual(want);
  });

  it("rejects malformed percent-encoding with INVALID_PARAMETER_VALUE", () => {
    expect(() => parseRequestPath("/mlflow/runs/%zz")).toThrow(AppError);
    expect(() => parseRequestPath("/mlflow/runs/%E2%82")).toThrow(/Malformed percent-encoding/);
  });
});

describe("compareSpecificity", () => {
  const more = (a: string, b: string) => compareSpecificity(parseTemplate(a), parseTemplate(b)) < 0;
  it.each([
    ["/v1/shelves/special", "/v1/shelves/{id}"],
    ["/v1/shelves/{id}", "/v1/shelves/**"],
    ["/v1/{name=shelves/*}:archive", "/v1/{name=shelves/*}"],
    ["/v1/a/b", "/v1/a/**"],
    ["/v1/a/{x}", "/v1/{y}/b"],
  ])("%s beats %s", (a, b) => {
    expect(more(a, b)).toBe(true);
    expect(more(b, a)).toBe(false);
  });
});
