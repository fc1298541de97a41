import { describe, expect, it } from "vitest";
import { parseTemplate, TemplateError, templateShape } from "./http-rule.js";

describe("parseTemplate", () => {
  const valid: Array<[string, { shape: string; vars: Array<[string, number, number, boolean]>; verb?: string }]> = [
    ["/api/2.0/mlflow/runs/get", { shape: "/api/2.0/mlflow/runs/get", vars: [] }],
    ["/mlflow/runs/{run_id}", { shape: "/mlflow/runs/*", vars: [["run_id", 2, 3, false]] }],
    ["/v1/{name=shelves/*}", { shape: "/v1/shelves/*", vars: [["name", 1, 3, true]] }],
    ["/v1/{name=shelves/*}:archive", { shape: "/v1/shelves/*:archive", vars: [["name", 1, 3, true]], verb: "archive" }],
    [
      "/v1/shelves/{book.shelf_id}/books/{book.book_id}",
      { shape: "/v1/shelves/*/books/*", vars: [["book.shelf_id", 2, 3, false], ["book.book_id", 4, 5, false]] },
    ],
    ["/v1/files/{path=**}", { shape: "/v1/files/**", vars: [["path", 2, 3, true]] }],
    ["/v1/raw/{root}/**", { shape: "/v1/raw/*/**", vars: [["root", 2, 3, false]] }],
    ["/v1/*/x", { shape: "/v1/*/x", vars: [] }],
    ["/v1/{x=*}", { shape: "/v1/*", vars: [["x", 1, 2, false]] }],
    ["/v1/{x=fixed}", { shape: "/v1/fixed", vars: [["x", 1, 2, false]] }],
    ["/v1/**:undelete", { shape: "/v1/**:undelete", vars: [], verb: "undelete" }],
    ["/v1/a%20b", { shape: "/v1/a%20b", vars: [] }],
    ["/ajax-api/3.0/mlflow/logged-models/{model_id}", { shape: "/ajax-api/3.0/mlflow/logged-models/*", vars: [["model_id", 4, 5, false]] }],
  ];
  it.each(valid)("parses %s", (source, want) => {
    const t = parseTemplate(source);
    expect(t.source).toBe(source);
    expect(templateShape(t)).toBe(want.shape);
    expect(t.verb).toBe(want.verb);
    expect(t.variables.map((v) => [v.fieldPath.join("."), v.start, v.end, v.multiSegment])).toEqual(want.vars);
  });

  it("decodes percent-encoded literals", () => {
    expect(parseTemplate("/v1/a%20b").segments[1]).toEqual({ kind: "literal", value: "a b" });
  });

  const invalid: Array<[string, string]> = [
    ["", 'starts with "/"'],
    ["v1/x", 'starts with "/"'],
    ["/", "empty segment"],
    ["/v1/", "empty segment"],
    ["/v1//x", "empty segment"],
    ["/v1/{name", "unclosed variable"],
    ["/v1/{}", "is not a field path"],
    ["/v1/{a..b}", "is not a field path"],
    ["/v1/{1a}", "is not a field path"],
    ["/v1/{a={b}}", "variables cannot nest"],
    ["/v1/**/x", '"**" must be the last segment'],
    ["/v1/{x=**}/y", '"**" must be the last segment'],
    ["/v1/a*", 'unexpected "*"'],
    ["/v1/*a", 'unexpected "a"'],
    ["/v1/a{b}", 'unexpected "{"'],
    ["/v1/x:", "empty verb"],
    ["/v1/x:a:b", 'unexpected ":"'],
    ["/v1/x:a/b", 'unexpected "/"'],
    ["/v1/{a}/{a}", 'field "a" is bound twice'],
    ["/v1/a b", 'unexpected " "'],
    ["/v1/a?b", 'unexpected "?"'],
    ["/v1/%zz", "bad percent-encoding"],
    ["/v1/{x=}", 'unexpected "}"'],
  ];
  it.each(invalid)("rejects %j (%s)", (source, reason) => {
    let err: unknown;
    try {
      parseTemplate(source, "logbook.test.v1.LibraryService.GetShelf");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TemplateError);
    const message = (err as Error).message;
    expect(message).toContain(reason);
    expect(message).toContain("logbook.test.v1.LibraryService.GetShelf");
    expect(message).toContain(`"${source}"`);
  });
});
