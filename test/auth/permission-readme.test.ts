/**
 * The README prints the permission table: this test renders it from the code (PERMISSION_RULES, and the HTTP
 * bindings of each RPC read from the descriptor set as the gateway reads them) and fails when the README's copy, between
 * `<!-- permission-table -->` and `<!-- /permission-table -->`, differs — its message is the table to paste
 * (or print it: `npx tsx test/auth/permission-table-markdown.ts`).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderPermissionTable } from "./permission-table-markdown.js";

const README = join(import.meta.dirname, "..", "..", "README.md");
const START = "<!-- permission-table -->";
const END = "<!-- /permission-table -->";

describe("the README's permission table", () => {
  it("is the one in the code", () => {
    const readme = readFileSync(README, "utf8");
    const start = readme.indexOf(START);
    const end = readme.indexOf(END);
    expect(start, `README.md has no ${START} … ${END} section`).toBeGreaterThan(-1);
    expect(end).toBeGreaterThan(start);
    const printed = readme.slice(start + START.length, end).trim();
    const table = renderPermissionTable();
    expect(printed, `README.md's permission table is stale; paste this between the markers:\n\n${table}\n`).toBe(table);
  });
});
