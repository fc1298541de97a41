/**
 * The operations a Tracker queues, sends in order, and spools while the server is away. Each one is plain
 * JSON (one spool line) and safe to replay: runs carry a client-chosen id, metric points and params are
 * idempotent server-side, tags and run ends are overwrites replayed in their original order.
 */
export interface KeyValue {
  key: string;
  value: string;
}

export interface MetricPoint {
  key: string;
  /** NaN and ±Infinity allowed. */
  value: number;
  /** Milliseconds since the Unix epoch. */
  timestamp: number;
  step: number;
}

export type RunStatusName = "RUNNING" | "SCHEDULED" | "FINISHED" | "FAILED" | "KILLED";

export type Op =
  | { kind: "createRun"; runId: string; experimentId?: string; experimentName?: string; runName?: string; startTime: number; tags: KeyValue[] }
  | { kind: "logBatch"; runId: string; metrics: MetricPoint[]; params: KeyValue[]; tags: KeyValue[] }
  | { kind: "endRun"; runId: string; status: RunStatusName; endTime: number }
  | { kind: "uploadArtifact"; runId: string; path: string; localPath?: string; dataBase64?: string }
  | { kind: "registerModel"; runId: string; name: string; artifactPath: string; description?: string; tags: KeyValue[] };

export type OpKind = Op["kind"];

/** MLflow's per-call limits of LogBatch (src/domain/limits.ts on the server). */
export const LIMITS = { metrics: 1000, params: 100, tags: 100, entities: 1000 } as const;

/** Points an operation carries (what is lost if it is dropped). */
export function pointsOf(op: Op): number {
  return op.kind === "logBatch" ? op.metrics.length + op.params.length + op.tags.length : 1;
}

/** A spool line back into an operation (non-finite metric values were written as strings). */
export function decodeOp(value: unknown): Op | undefined {
  const op = value as Op | null;
  if (!op || typeof op !== "object" || typeof op.kind !== "string" || typeof op.runId !== "string") return undefined;
  if (op.kind === "logBatch") {
    for (const m of op.metrics) if (typeof m.value === "string") m.value = Number(m.value);
  }
  return op;
}

/** The open LogBatch of one run: fills up to the limits, then is sealed into the queue. */
export class BatchBuilder {
  readonly metrics: MetricPoint[] = [];
  readonly params = new Map<string, string>();
  readonly tags = new Map<string, string>();

  constructor(readonly runId: string) {}

  get size(): number {
    return this.metrics.length + this.params.size + this.tags.size;
  }

  get isEmpty(): boolean {
    return this.size === 0;
  }

  /** Whether one more entity of this kind fits (a param key already present with another value does not). */
  fits(kind: "metric" | "param" | "tag", key?: string, value?: string): boolean {
    if (kind === "tag" && this.tags.has(key!)) return true; // replaces the value in place
    if (kind === "param" && this.params.has(key!)) return this.params.get(key!) === value;
    if (this.size >= LIMITS.entities) return false;
    if (kind === "metric") return this.metrics.length < LIMITS.metrics;
    if (kind === "param") return this.params.size < LIMITS.params;
    return this.tags.size < LIMITS.tags;
  }

  get isFull(): boolean {
    return this.size >= LIMITS.entities || this.metrics.length >= LIMITS.metrics;
  }

  seal(): Op {
    return {
      kind: "logBatch",
      runId: this.runId,
      metrics: this.metrics,
      params: [...this.params].map(([key, value]) => ({ key, value })),
      tags: [...this.tags].map(([key, value]) => ({ key, value })),
    };
  }
}
