import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { GetRunRequest } from "../../gen/ts/logbook/v1/tracking_service.js";
import { Color, EchoRequest, UpdateBookRequest } from "../../test/gen/ts/logbook/test/v1/library_service.js";
import { bindRequest } from "./bind.js";
import { JsonCodec } from "./json-codec.js";
import { parseJson } from "./json-text.js";
import { Router } from "./router.js";
import { loadHttpRoutes, registryFromDescriptorSet, type HttpRoute } from "./routes.js";

const codec = new JsonCodec();
const router = new Router<HttpRoute>();
for (const set of ["../../gen/descriptor.binpb", "../../test/gen/descriptor.binpb"]) {
  for (const r of loadHttpRoutes(registryFromDescriptorSet(readFileSync(new URL(set, import.meta.url))))) router.add(r.method, r.template, r);
}

/** Routes `method url` like the gateway and binds it with an optional JSON body text. */
function bind(method: string, url: string, body?: string) {
  const q = url.indexOf("?");
  const found = router.lookup(method, q === -1 ? url : url.slice(0, q));
  if (found.kind !== "found") throw new Error(`no route for ${method} ${url}`);
  return bindRequest(codec, found.target, {
    params: found.params,
    query: new URLSearchParams(q === -1 ? "" : url.slice(q + 1)),
    body: body === undefined ? undefined : parseJson(body),
  });
}

describe("bindRequest on MLflow routes", () => {
  it("binds query parameters of a GET", () => {
    expect(bind("GET", "/api/2.0/mlflow/runs/get?run_id=abc&unknown=1")).toEqual(GetRunRequest.fromPartial({ runId: "abc" }));
  });

  it("reads a JSON body on a GET without query parameters, as MLflow does", () => {
    expect(bind("GET", "/api/2.0/mlflow/runs/get", '{"run_id":"abc","run_uuid":"abc"}')).toEqual({ runId: "abc", runUuid: "abc" });
  });

  it("ignores the body of a GET that has query parameters", () => {
    expect(bind("GET", "/api/2.0/mlflow/runs/get?run_uuid=q", '{"run_id":"abc"}')).toEqual({ runId: "", runUuid: "q" });
  });

  it("binds path variables, %2F decoded, with the query for the rest", () => {
    expect(bind("GET", "/mlflow/runs/a%2Fb?run_uuid=u&run_id=ignored")).toEqual({ runId: "a/b", runUuid: "u" });
  });

  it("takes the whole body for body: *, and no query parameters", () => {
    expect(bind("POST", "/api/2.0/mlflow/experiments/create?name=fromQuery", '{"name":"e","tags":[{"key":"k","value":"v"}]}')).toEqual({
      name: "e",
      artifactLocation: "",
      tags: [{ key: "k", value: "v" }],
    });
    expect(bind("POST", "/api/2.0/mlflow/experiments/create")).toEqual({ name: "", artifactLocation: "", tags: [] });
  });

  it("binds the same way on the /ajax-api/ twin", () => {
    expect(bind("GET", "/ajax-api/2.0/mlflow/metrics/get-history?run_id=r&metric_key=loss&max_results=10")).toEqual({
      runId: "r",
      runUuid: "",
      metricKey: "loss",
      pageToken: "",
      maxResults: 10,
    });
  });
});

describe("bindRequest on the test service", () => {
  it("body: field takes that field; the path wins inside it; the query binds the rest but not the body's fields", () => {
    const req = bind(
      "PATCH",
      "/v1/shelves/s1/books/b%2F1?update_mask=title&book.title=ignored",
      '{"shelf_id":"other","title":"Dune","pages":412}',
    );
    expect(req).toEqual(
      UpdateBookRequest.fromPartial({ book: { shelfId: "s1", bookId: "b/1", title: "Dune", pages: 412n }, updateMask: "title" }),
    );
  });

  it("creates nested messages for nested path fields when the body has none", () => {
    expect(bind("PATCH", "/v1/shelves/s1/books/b1")).toEqual(
      UpdateBookRequest.fromPartial({ book: { shelfId: "s1", bookId: "b1" } }),
    );
  });

  it("binds multi-segment variables and verbs", () => {
    expect(bind("POST", "/v1/shelves/s%201:archive", '{"reason":"old","name":"body-loses"}')).toEqual({ name: "shelves/s 1", reason: "old" });
    expect(bind("GET", "/v1/files/a/b%2Fc/d.txt")).toEqual({ path: "a/b%2Fc/d.txt", root: "" });
    expect(bind("GET", "/v1/raw/top/any/thing?path=p")).toEqual({ path: "p", root: "top" });
  });

  it("reads a JSON body on a DELETE without body rule", () => {
    expect(bind("DELETE", "/v1/books/b1", '{"force":true,"book_id":"body-loses"}')).toEqual({ bookId: "b1", force: true });
    expect(bind("DELETE", "/v1/books/b1?force=True")).toEqual({ bookId: "b1", force: true });
  });

  it("binds query parameters of every kind", () => {
    const query = [
      "text=hello+world",
      "i32=-7",
      "i64=9007199254740993",
      "u64=18446744073709551615",
      "u32=7",
      "s64=-1",
      "f64=3",
      "dbl=NaN",
      "flt=-Infinity",
      "flag=True",
      "color=RED",
      "data=aGk%2B",
      "tags=a",
      "tags=b",
      "numbers=1",
      "numbers=-2",
      "colors=GREEN",
      "colors=1",
      "colors=COLOR_GREEN",
      "flags=true",
      "flags=FALSE",
      "maybe_count=0",
      "maybeFlag=false",
      "maybe_color=COLOR_UNSPECIFIED",
      "note.body=n",
      "note.count=3",
      "note.child.lines=l1",
      "note.child.lines=l2",
      "note.color=2",
      "choice_text=c",
      "labels=ignored",
      "note=ignored",
      "notes.body=ignored",
      "no.such.field=1",
    ].join("&");
    expect(bind("GET", `/v1/echo?${query}`)).toEqual(
      EchoRequest.fromPartial({
        text: "hello world",
        i32: -7,
        i64: 9007199254740993n,
        u64: 18446744073709551615n,
        u32: 7,
        s64: -1n,
        f64: 3n,
        dbl: NaN,
        flt: -Infinity,
        flag: true,
        color: Color.COLOR_RED,
        data: Buffer.from([0x68, 0x69, 0x3e]),
        tags: ["a", "b"],
        numbers: [1n, -2n],
        colors: [Color.COLOR_GREEN, Color.COLOR_RED, Color.COLOR_GREEN],
        flags: [true, false],
        maybeCount: 0,
        maybeFlag: false,
        maybeColor: Color.COLOR_UNSPECIFIED,
        note: { body: "n", count: 3n, child: { lines: ["l1", "l2"] }, color: Color.COLOR_GREEN },
        choiceText: "c",
      }),
    );
  });

  it("skips query parameters bound by the path", () => {
    expect(bind("GET", "/v1/echo/fromPath?text=fromQuery&i32=1")).toEqual(EchoRequest.fromPartial({ text: "fromPath", i32: 1 }));
  });

  it.each([
    ["/v1/echo?i32=1&i32=2", "Parameter 'i32' is not repeated but was given 2 values"],
    ["/v1/echo?i32=abc", "Invalid value \"abc\" for parameter 'i32' supplied: not an integer"],
    ["/v1/echo?i32=", "Invalid value \"\" for parameter 'i32' supplied: not an integer"],
    ["/v1/echo?flag=yes", "Invalid value \"yes\" for parameter 'flag' supplied:  Hint: Value was of type 'str'."],
    ["/v1/echo?color=PURPLE", "parameter 'color' supplied: expected one of UNSPECIFIED, RED, GREEN"],
    ["/v1/echo?note.count=x", "for parameter 'note.count' supplied"],
    ["/v1/echo?numbers=1&numbers=x", "for parameter 'numbers' supplied"],
    ["/api/2.0/mlflow/metrics/get-history?max_results=1e10", "out of range"],
  ])("rejects %s", (url, message) => {
    expect(() => bind("GET", url)).toThrow(message);
  });

  it("rejects a non-object body", () => {
    expect(() => bind("POST", "/v1/echo", "[1]")).toThrow("The request body must be a JSON object, got a list");
    expect(() => bind("PATCH", "/v1/shelves/s/books/b", '"x"')).toThrow("for parameter 'book' supplied");
  });
});
