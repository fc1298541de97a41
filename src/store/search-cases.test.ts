/** The in-memory reference semantics (src/domain/filter/run-order.ts) against the conformance case table both stores answer. */
import { describe, expect, it } from "vitest";
import { parseOrderBy, parseRunFilter } from "../domain/filter/index.js";
import { type SearchableRun, compareSortKeys, matchesFilter, sortKeyOf } from "../domain/filter/run-order.js";
import { SEARCH_CASES, SEARCH_FIXTURE } from "./search-cases.js";

const runs: SearchableRun[] = SEARCH_FIXTURE.map((r) => ({
  runId: r.id,
  experimentId: "1",
  runName: `name-${r.id}`,
  userId: "ada",
  status: r.endTime === undefined ? "RUNNING" : "FINISHED",
  startTime: r.startTime,
  ...(r.endTime === undefined ? {} : { endTime: r.endTime }),
  artifactUri: `mlflow-artifacts:/1/${r.id}/artifacts`,
  lifecycleStage: r.deleted ? "deleted" : "active",
  metrics: new Map(Object.entries(r.metrics)),
  params: new Map(Object.entries(r.params)),
  tags: new Map(Object.entries(r.tags)),
}));

describe("run-order reference semantics", () => {
  it.each(SEARCH_CASES.map((c) => ({ ...c, name: `${c.filter ?? ""} | ${(c.orderBy ?? []).join(", ")} | ${c.viewType ?? ""}` })))("$name", (c) => {
    const filter = parseRunFilter(c.filter);
    const order = parseOrderBy(c.orderBy ?? []);
    const view = c.viewType ?? "ACTIVE_ONLY";
    const result = runs
      .filter((r) => view === "ALL" || (view === "ACTIVE_ONLY") === (r.lifecycleStage === "active"))
      .filter((r) => matchesFilter(r, filter))
      .map((r) => sortKeyOf(r, order))
      .sort((a, b) => compareSortKeys(a, b, order))
      .map((k) => k.runId);
    expect(result).toEqual(c.expected);
  });
});
