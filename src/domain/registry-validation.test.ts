// Expected messages are MLflow 3.17.2's, produced by its own validation functions.
import { describe, expect, it } from "vitest";
import {
  parseModelVersion,
  parseStage,
  pyNormpath,
  requireModelName,
  validateAliasName,
  validateArchiveExisting,
  validateNewAlias,
  validateNewModelName,
  validateRegistryTag,
  validateTagKeyName,
} from "./registry-validation.js";

describe("pyNormpath", () => {
  it.each([
    ["", "."],
    ["a/", "a"],
    ["//a", "//a"],
    ["///a", "/a"],
    ["a/../..", ".."],
    ["./a", "a"],
    ["a/./b", "a/b"],
    ["/..", "/"],
    ["a//b", "a/b"],
  ])("%j → %j, as Python's posixpath.normpath", (path, norm) => {
    expect(pyNormpath(path)).toBe(norm);
  });
});

describe("model names", () => {
  it("a lookup needs a name that is not blank", () => {
    expect(() => requireModelName(" ")).toThrow("Missing value for required parameter 'name'.");
    expect(() => requireModelName("", "model_name")).toThrow("parameter 'model_name'");
    expect(() => requireModelName("a/b")).not.toThrow();
  });
  it.each(["m", "my model", "é..", "AAPL-lstm_v2.1"])("a new name may be %j", (name) => {
    expect(() => validateNewModelName(name)).not.toThrow();
  });
  it.each([
    ["a/b", "Invalid model name 'a/b'. Names cannot contain '/' or ':'."],
    ["a:b", "Invalid model name 'a:b'. Names cannot contain '/' or ':'."],
    ["..x", `Invalid value "..x" for parameter 'name' supplied: Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '..x'`],
    [".", "This name would resolve to '.'"],
  ])("a new name may not be %j", (name, message) => {
    expect(() => validateNewModelName(name)).toThrow(message);
  });
  it("names the renaming field when the new name is missing", () => {
    expect(() => validateNewModelName("", "new_name")).toThrow("Missing value for required parameter 'new_name'.");
  });
});

describe("parseModelVersion", () => {
  it.each([
    ["1", 1],
    [" +1_0 ", 10],
    ["007", 7],
  ])("reads %j as Python's int() does", (text, n) => {
    expect(parseModelVersion(text)).toBe(n);
  });
  it.each(["1.0", "abc", "1__0", "0x1", "1e3"])("rejects %j with MLflow's message", (text) => {
    expect(() => parseModelVersion(text)).toThrow(`Parameter 'version' must be an integer, got '${text}'.`);
  });
  it("requires a version", () => {
    expect(() => parseModelVersion("")).toThrow("Missing value for required parameter 'version'.");
  });
});

describe("registry tags", () => {
  it("accepts MLflow's key characters and values up to 5,000 characters", () => {
    expect(validateRegistryTag({ key: "a/b c:d-e_f.g", value: "v".repeat(5000) })).toEqual({ key: "a/b c:d-e_f.g", value: "v".repeat(5000) });
  });
  it.each([
    [{ key: "a*b", value: "" }, `Invalid value "a*b" for parameter 'key' supplied: Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).`],
    [{ key: "é*", value: "" }, `Invalid value "\\u00e9*" for parameter 'key' supplied`],
    [{ key: "", value: "" }, `Invalid value "" for parameter 'key' supplied: Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '.'`],
    [{ key: "a/", value: "" }, "This name would resolve to 'a'"],
    [{ key: "k".repeat(251), value: "" }, "'key' exceeds the maximum length of 250 characters"],
    [{ key: "k", value: "v".repeat(5001) }, "'value' exceeds the maximum length of 5000 characters"],
  ])("rejects %j", (tag, message) => {
    expect(() => validateRegistryTag(tag)).toThrow(message);
  });
  it("a key to delete must be given and well formed", () => {
    expect(() => validateTagKeyName("")).toThrow("Missing value for required parameter 'key'.");
    expect(() => validateTagKeyName("../k")).toThrow("This name would resolve to '../k'");
    expect(() => validateTagKeyName("k".repeat(300))).not.toThrow();
  });
});

describe("aliases", () => {
  it("accept word characters and dashes, up to 255", () => {
    expect(() => validateNewAlias("champion-2_b")).not.toThrow();
    expect(() => validateNewAlias("a".repeat(255))).not.toThrow();
  });
  it.each([
    ["", "Missing value for required parameter 'alias'."],
    ["a b", "Invalid alias name: 'a b'. Names may only contain alphanumerics, underscores (_), and dashes (-)."],
    ["a".repeat(256), "'Registered model alias name' exceeds the maximum length of 255 characters"],
    ["LATEST", "'latest' alias name (case insensitive) is reserved."],
    ["V12", "Version alias name 'V12' is reserved."],
    ["v1", "Version alias name 'v1' is reserved."],
  ])("a new alias may not be %j", (alias, message) => {
    expect(() => validateNewAlias(alias)).toThrow(message);
  });
  it("reserved names can still be looked up or deleted", () => {
    expect(() => validateAliasName("latest")).not.toThrow();
    expect(() => validateAliasName("v3")).not.toThrow();
    expect(() => validateAliasName("a.b")).toThrow("Invalid alias name: 'a.b'.");
  });
});

describe("stages", () => {
  it.each([
    ["production", "Production"],
    ["STAGING", "Staging"],
    ["none", "None"],
    ["Archived", "Archived"],
  ])("%j is %j", (given, canonical) => {
    expect(parseStage(given)).toBe(canonical);
  });
  it("rejects an unknown stage with MLflow's message", () => {
    expect(() => parseStage("prod")).toThrow("Invalid Model Version stage: prod. Value must be one of None, Staging, Production, Archived.");
  });
  it("archives existing versions only when moving to Staging or Production", () => {
    expect(() => validateArchiveExisting("production", "Production", true)).not.toThrow();
    expect(() => validateArchiveExisting("archived", "Archived", false)).not.toThrow();
    expect(() => validateArchiveExisting("archived", "Archived", true)).toThrow(
      "Model version transition cannot archive existing model versions because 'archived' is not an Active stage. Valid stages are ['Staging', 'Production']",
    );
  });
});
