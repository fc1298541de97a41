// Expected answers are those of MLflow 3.17.2's own functions on the same inputs.
import { describe, expect, it } from "vitest";
import {
  assertNoRelativeReferences,
  isLocalUri,
  isPathWithin,
  isProxiedArtifactSource,
  isUriWithinRoot,
  localPathOf,
  parseModelsUri,
  parseUri,
  runIdOfRunsUri,
  unquote,
} from "./model-version-source.js";

describe("parseUri (urllib.parse.urlsplit)", () => {
  it.each([
    ["s3://Bucket/a/b?x=1#f", { scheme: "s3", netloc: "Bucket", path: "/a/b" }],
    ["Models:/m-1", { scheme: "models", netloc: "", path: "/m-1" }],
    ["/tmp/a:b", { scheme: "", netloc: "", path: "/tmp/a:b" }],
    ["1abc:/x", { scheme: "", netloc: "", path: "1abc:/x" }],
    ["file:///tmp/x", { scheme: "file", netloc: "", path: "/tmp/x" }],
  ])("%s", (uri, parsed) => {
    expect(parseUri(uri)).toEqual(parsed);
  });
});

describe("local sources", () => {
  it("are paths and file: URIs", () => {
    expect(isLocalUri("/tmp/model")).toBe(true);
    expect(isLocalUri("relative/model")).toBe(true);
    expect(isLocalUri("file:///tmp/model")).toBe(true);
    expect(isLocalUri("file://localhost/tmp/model")).toBe(true);
    expect(isLocalUri("s3://b/model")).toBe(false);
    expect(isLocalUri("mlflow-artifacts:/1/r/artifacts")).toBe(false);
  });
  it("a file: URI naming another host is refused", () => {
    expect(() => isLocalUri("file://evil/tmp/x")).toThrow("file://evil/tmp/x is not a valid remote uri.");
  });
  it("resolve to absolute, decoded, normalised paths", () => {
    expect(localPathOf("file:///tmp/a%20b/../c")).toBe("/tmp/c");
    expect(localPathOf("/tmp/x/./y")).toBe("/tmp/x/y");
    expect(localPathOf("rel")).toBe(`${process.cwd()}/rel`);
  });
  it("lie within a directory only below it", () => {
    expect(isPathWithin("/a/b/c", "/a/b")).toBe(true);
    expect(isPathWithin("/a/b", "/a/b")).toBe(true);
    expect(isPathWithin("/a/bc", "/a/b")).toBe(false);
    expect(isPathWithin("/x", "/")).toBe(true);
  });
});

describe("assertNoRelativeReferences", () => {
  it.each(["s3://b/a/b", "runs:/abc/model", "models:/m-1", "s3://b/a%252e%252e/x", "s3://b/a//b/", "mlflow-artifacts:/1/r/artifacts/model"])(
    "accepts %s",
    (source) => {
      expect(() => assertNoRelativeReferences(source)).not.toThrow();
    },
  );
  it.each([
    "s3://b",
    "s3://b/a/./b",
    "mlflow-artifacts://h/..%2f..%2fx",
    "mlflow-artifacts://h/%252e%252e/x",
    "http://h/x%00",
    "hdfs:rel/path",
    "https://h/api/2.0/mlflow-artifacts/artifacts/../../etc",
  ])("rejects %s with MLflow's message", (source) => {
    expect(() => assertNoRelativeReferences(source)).toThrow(
      `Invalid model version source: '${source}'. If supplying a source as an http, https, local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path references present. Please provide an absolute path.`,
    );
  });
  it("unquote decodes UTF-8 and keeps stray percent signs", () => {
    expect(unquote("a%20%C3%A9%zz%")).toBe("a é%zz%");
  });
});

describe("URIs naming runs and models", () => {
  it("runs:/ URIs carry a run id", () => {
    expect(runIdOfRunsUri("runs:/abc123/model/x")).toBe("abc123");
    expect(() => runIdOfRunsUri("runs:/")).toThrow("Not a proper runs:/ URI: runs:/.");
  });
  it.each([
    ["models:/m-abc", { modelId: "m-abc" }],
    ["models:/name/3", { name: "name", version: "3" }],
    ["models:/name/Production", { name: "name", stage: "Production" }],
    ["models:/name/LATEST", { name: "name" }],
    ["models:/name@champ", { name: "name", alias: "champ" }],
    ["models:/na@me/1", { name: "na@me", version: "1" }],
    ["models:/a/b/c", undefined],
    ["models:/", undefined],
    ["models:/name@", undefined],
    ["runs:/x/y", undefined],
  ])("%s", (uri, parsed) => {
    expect(parseModelsUri(uri)).toEqual(parsed);
  });
  it("proxied artifact sources are mlflow-artifacts: URIs and the server's artifact route", () => {
    expect(isProxiedArtifactSource("mlflow-artifacts:/1/r/artifacts/model")).toBe(true);
    expect(isProxiedArtifactSource("https://h/api/2.0/mlflow-artifacts/artifacts/1/x")).toBe(true);
    expect(isProxiedArtifactSource("https://h/x")).toBe(false);
    expect(isProxiedArtifactSource("s3://h/api/2.0/mlflow-artifacts/artifacts/1/x")).toBe(false);
  });
  it("a source lies within a root by scheme, authority and leading path segments", () => {
    expect(isUriWithinRoot("mlflow-artifacts:/1/r/artifacts/model", "mlflow-artifacts:/1/r/artifacts")).toBe(true);
    expect(isUriWithinRoot("mlflow-artifacts:/1/r2/artifacts/model", "mlflow-artifacts:/1/r/artifacts")).toBe(false);
    expect(isUriWithinRoot("mlflow-artifacts://H/1/r/artifacts/m", "mlflow-artifacts://h/1/r/artifacts")).toBe(true);
    expect(isUriWithinRoot("mlflow-artifacts:/1/r%2Fartifacts/m", "mlflow-artifacts:/1/r/artifacts")).toBe(false);
    expect(isUriWithinRoot("s3://b/x", "s3://b")).toBe(false);
  });
});
