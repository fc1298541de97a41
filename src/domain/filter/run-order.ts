/**
 * The semantics of a run search in one place: whether a run matches a filter and where it sorts. The MongoDB
 * store evaluates with these (it pushes a pre-filter down, then checks); the SQLite store compiles the same rules
 * to SQL, and the conformance suite holds both to them.
 *
 * Order: each term by (rank, value) — a value first in the term's direction, then NaN, then no value (both
 * directions, as MLflow) — then MLflow's tie-break: start_time DESC, run_id ASC.
 */
import type { LifecycleStage, Run, RunStatus } from "../entities.js";
import { type OrderTerm, RANK_MISSING, RANK_NAN, RANK_VALUE, type Rank, type RunClause, type RunFilter, type StringAttribute } from "./ast.js";
import { holds } from "./holds.js";

/** What a search needs to know of a run. */
export interface SearchableRun {
  runId: string;
  experimentId: string;
  runName: string;
  userId: string;
  status: RunStatus;
  startTime: number;
  endTime?: number;
  artifactUri: string;
  lifecycleStage: LifecycleStage;
  /** Latest value per metric key (only the keys the search uses need be present). */
  metrics: Map<string, number>;
  params: Map<string, string>;
  tags: Map<string, string>;
}

/** What the search rules need of a whole run. */
export function searchableRun(run: Run): SearchableRun {
  return {
    ...run.info,
    metrics: new Map(run.data.metrics.map((m) => [m.key, m.value])),
    params: new Map(run.data.params.map((p) => [p.key, p.value])),
    tags: new Map(run.data.tags.map((t) => [t.key, t.value])),
  };
}

export type SortValue = number | string | null;

/** Where a run sorts: one (rank, value) per order term, then the tie-break. */
export interface SortKey {
  terms: [Rank, SortValue][];
  startTime: number;
  runId: string;
}

export function matchesClause(run: SearchableRun, c: RunClause): boolean {
  switch (c.type) {
    case "metric": {
      const v = run.metrics.get(c.key);
      if (v === undefined) return false;
      // IEEE: NaN is unequal to everything and ordered against nothing.
      return holds(v, c.comparator, c.value);
    }
    case "param":
    case "tag": {
      const v = (c.type === "param" ? run.params : run.tags).get(c.key);
      if (c.comparator === "IS NULL") return v === undefined;
      if (c.comparator === "IS NOT NULL") return v !== undefined;
      return v !== undefined && holds(v, c.comparator, (c as { value: string }).value);
    }
    case "attribute": {
      if (c.comparator === "IN") return c.values.includes(run.runId);
      if (c.comparator === "NOT IN") return !c.values.includes(run.runId);
      if (c.key === "start_time" || c.key === "end_time") {
        const v = c.key === "start_time" ? run.startTime : run.endTime;
        return v !== undefined && holds(v, c.comparator, c.value as number);
      }
      return holds(attributeString(run, c.key), c.comparator, (c as { value: string }).value);
    }
  }
}

function attributeString(run: SearchableRun, key: "run_id" | "run_name" | "status" | "user_id" | "artifact_uri"): string {
  switch (key) {
    case "run_id":
      return run.runId;
    case "run_name":
      return run.runName;
    case "status":
      return run.status;
    case "user_id":
      return run.userId;
    default:
      return run.artifactUri;
  }
}

export const matchesFilter = (run: SearchableRun, filter: RunFilter) => filter.every((c) => matchesClause(run, c));

function termValue(run: SearchableRun, t: OrderTerm): [Rank, SortValue] {
  if (t.type === "metric") {
    const v = run.metrics.get(t.key);
    if (v === undefined) return [RANK_MISSING, null];
    return Number.isNaN(v) ? [RANK_NAN, null] : [RANK_VALUE, v === 0 ? 0 : v];
  }
  if (t.type === "param" || t.type === "tag") {
    const v = (t.type === "param" ? run.params : run.tags).get(t.key);
    return v === undefined ? [RANK_MISSING, null] : [RANK_VALUE, v];
  }
  switch (t.key) {
    case "start_time":
      return [RANK_VALUE, run.startTime];
    case "end_time":
      return run.endTime === undefined ? [RANK_MISSING, null] : [RANK_VALUE, run.endTime];
    case "experiment_id":
      return [RANK_VALUE, Number(run.experimentId)];
    default:
      return [RANK_VALUE, attributeString(run, t.key as StringAttribute)];
  }
}

export function sortKeyOf(run: SearchableRun, order: OrderTerm[]): SortKey {
  return { terms: order.map((t) => termValue(run, t)), startTime: run.startTime, runId: run.runId };
}

/** Strings in code point order, which is UTF-8 byte order: what SQLite's BINARY collation and MongoDB compare. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (astral code points) sort above every BMP unit in code point order.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

function compareValues(a: SortValue, b: SortValue): number {
  if (typeof a === "number" && typeof b === "number") return a === b ? 0 : a < b ? -1 : 1;
  if (typeof a === "string" && typeof b === "string") return compareCodePoints(a, b);
  return 0;
}

/** < 0 when `a` comes first in the search's order. */
export function compareSortKeys(a: SortKey, b: SortKey, order: OrderTerm[]): number {
  for (let i = 0; i < order.length; i++) {
    const [ra, va] = a.terms[i]!;
    const [rb, vb] = b.terms[i]!;
    if (ra !== rb) return ra - rb;
    const c = compareValues(va, vb);
    if (c !== 0) return order[i]!.ascending ? c : -c;
  }
  if (a.startTime !== b.startTime) return b.startTime - a.startTime;
  return compareCodePoints(a.runId, b.runId);
}
