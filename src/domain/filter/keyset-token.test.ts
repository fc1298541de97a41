/** Keyset page tokens: what they carry round-trips, and a token of another search or shape is "Invalid page token". */
import { describe, expect, it } from "vitest";
import { parseExperimentFilter, parseExperimentOrderBy, experimentKeysetTerms } from "./experiment-search.js";
import { decodeKeysetToken, encodeKeysetToken, searchFingerprint } from "./keyset-token.js";
import { parseError } from "../../../test/harness/parse-error.js";

const invalid = (f: () => unknown) => expect(parseError(f)).toBe("Invalid page token");

describe("keyset page tokens", () => {
  const search = { filter: parseExperimentFilter("name LIKE 'a%'"), order: parseExperimentOrderBy(["name", "creation_time DESC"]), viewType: "ALL" };
  const terms = experimentKeysetTerms(search.order);
  const fingerprint = searchFingerprint(search);

  it("round-trip the sort key, ±Infinity and nulls of nullable terms included", () => {
    const after = ["a b", 5, 12];
    expect(decodeKeysetToken(encodeKeysetToken(fingerprint, after), fingerprint, terms)).toEqual(after);
    const nullable = [{ kind: "number" as const, nullable: true }, { kind: "string" as const }];
    for (const key of [[null, "m-1"], [Number.NEGATIVE_INFINITY, "m-1"], [1e-300, "m-1"]]) {
      expect(decodeKeysetToken(encodeKeysetToken(fingerprint, key), fingerprint, nullable)).toEqual(key);
    }
  });

  it("continue only the search they came from", () => {
    const token = encodeKeysetToken(fingerprint, ["a", 5, 12]);
    for (const other of [
      { ...search, viewType: "ACTIVE_ONLY" },
      { ...search, filter: parseExperimentFilter("name LIKE 'b%'") },
      { ...search, order: parseExperimentOrderBy(["name DESC", "creation_time DESC"]) },
    ]) {
      invalid(() => decodeKeysetToken(token, searchFingerprint(other), terms));
    }
  });

  it.each([
    ["not base64url", "a b"],
    ["not JSON", Buffer.from("{").toString("base64url")],
    ["an array", Buffer.from("[]").toString("base64url")],
    ["too few values", encodeKeysetToken(fingerprint, ["a", 5])],
    ["a number where a string goes", encodeKeysetToken(fingerprint, [1, 5, 12])],
    ["a string where a number goes", encodeKeysetToken(fingerprint, ["a", "5", 12])],
    ["null where no null goes", encodeKeysetToken(fingerprint, ["a", null, 12])],
    ["a number spelled two ways", Buffer.from(JSON.stringify({ s: fingerprint, a: [["s", "a"], ["n", "5.0"], ["n", "12"]] })).toString("base64url")],
  ])("reject %s", (_, token) => {
    invalid(() => decodeKeysetToken(token, fingerprint, terms));
  });
});
