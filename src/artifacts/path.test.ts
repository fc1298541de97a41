import { describe, expect, it } from "vitest";
import { normalizeArtifactPath } from "./path.js";

describe("normalizeArtifactPath", () => {
  it.each([
    ["a.txt", "a.txt"],
    ["dir/sub/a.txt", "dir/sub/a.txt"],
    ["./dir//a.txt", "dir/a.txt"],
    ["dir/", "dir"],
    ["100%.txt", "100%.txt"],
    ["a%20b.txt", "a%20b.txt"],
    ["..a/b..", "..a/b.."],
    ["1/abc/artifacts/model/MLmodel", "1/abc/artifacts/model/MLmodel"],
  ])("accepts %j as %j", (input, normal) => {
    expect(normalizeArtifactPath(input)).toBe(normal);
  });

  it.each([
    "..", "../x", "a/../../x", "a/..", "/etc/passwd", "//host/share", "C:/x", "c:x", "a\\b", "..\\x", "a\u0000b", "a\nb",
    "%2e%2e/x", "%2E%2E/x", "a/%2e%2e/%2e%2e/x", "%2e./x", ".%2e/x", "%252e%252e/x", "%25252e%25252e/x", "a%2f..%2fx",
    "%2fetc", "%5c", "a%5c..%5cb", "%00", "a%2500b", ".logbook-uploads/x",
  ])("rejects %j", (input) => {
    expect(() => normalizeArtifactPath(input)).toThrow(expect.objectContaining({ code: "INVALID_PARAMETER_VALUE", message: "Invalid path" }));
  });

  it("the root only where allowed", () => {
    expect(normalizeArtifactPath("", { allowRoot: true })).toBe("");
    expect(() => normalizeArtifactPath("")).toThrow("Invalid path");
    expect(() => normalizeArtifactPath("./")).toThrow("Invalid path");
  });
});
