import { parse } from "graphql";
import { describe, expect, it } from "vitest";
import { MAX_DEPTH, MAX_SELECTIONS, checkQueryLimits } from "./query-limits.js";

const limits = { maxRootFields: 10, maxAliases: 10 };
const check = (query: string, l = limits) => checkQueryLimits(parse(query), l)?.message;
/** `{ a { a { … x } } }` with `levels` selection sets. */
const nested = (levels: number) => `{ ${"a { ".repeat(levels - 1)}x${" }".repeat(levels - 1)} }`;

describe("MLflow's GraphQL query limits", () => {
  it("lets the MLflow UI's shapes through", () => {
    expect(check("query Q($d: MlflowGetRunInput!) { mlflowGetRun(input: $d) { apiError { code } run { info { runId } data { metrics { key value } } } } }")).toBeUndefined();
  });

  it("refuses selection sets nested deeper than 10", () => {
    expect(check(nested(MAX_DEPTH))).toBeUndefined();
    expect(check(nested(MAX_DEPTH + 1))).toBe("Query exceeds maximum depth of 10");
    // Fragments count where they are spread.
    expect(check(`{ a { ...F } } fragment F on T { ${"b { ".repeat(MAX_DEPTH - 1)}x${" }".repeat(MAX_DEPTH - 1)} }`)).toBe("Query exceeds maximum depth of 10");
  });

  it("refuses more than 1,000 selected fields in all", () => {
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `f${i}`).join(" ");
    expect(check(`{ a { ${fields(MAX_SELECTIONS - 1)} } }`)).toBeUndefined();
    expect(check(`{ a { ${fields(MAX_SELECTIONS)} } }`)).toBe("Query exceeds maximum total selections of 1000");
  });

  it("caps root fields and the aliases of one selection set, naming the setting that raises them", () => {
    const roots = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `r${i}`).join(" ")} }`;
    expect(check(roots(10))).toBeUndefined();
    expect(check(roots(11))).toBe(
      "GraphQL queries should have at most 10 root fields, got 11 root fields. To increase the limit, set the LOGBOOK_GRAPHQL_MAX_ROOT_FIELDS environment variable.",
    );
    expect(check(roots(11), { maxRootFields: 20, maxAliases: 10 })).toBeUndefined();
    const aliased = (n: number) => Array.from({ length: n }, (_, i) => `x${i}: f`).join(" ");
    expect(check(`{ a { ${aliased(10)} } }`)).toBeUndefined();
    expect(check(`{ a { ${aliased(11)} } }`)).toBe(
      "GraphQL queries should have at most 10 aliases, got 11 aliases. To increase the limit, set the LOGBOOK_GRAPHQL_MAX_ALIASES environment variable.",
    );
  });

  it("counts aliases spread over sibling fragments and inline fragments together", () => {
    const query = `{ a { ...F ...G ... on T { i1: f i2: f i3: f } } }
      fragment F on T { f1: f f2: f f3: f f4: f }
      fragment G on T { g1: f g2: f g3: f g4: f }`;
    expect(check(query)).toMatch(/at most 10 aliases, got 11 aliases/);
  });

  it("follows a fragment that spreads itself only until the depth limit", () => {
    expect(check("{ a { ...F } } fragment F on T { b { ...F } }")).toBe("Query exceeds maximum depth of 10");
    expect(check("{ a { ...F } } fragment F on T { x ...F }")).toBeUndefined();
  });
});
