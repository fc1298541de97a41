/** A run being logged: every method enqueues and returns at once (see Tracker). */
import type { RunStatusName } from "./ops.js";
import type { Tracker } from "./tracker.js";
import { toCsv, type Table } from "./tables.js";

export interface MetricOptions {
  /** Default 0. */
  step?: number;
  /** Milliseconds since the Unix epoch; default now. */
  timestamp?: number;
}

export class RunHandle {
  constructor(
    private readonly tracker: Tracker,
    /** The client-chosen run id (32 hex characters), valid before the server has seen the run. */
    readonly runId: string,
  ) {}

  logParam(key: string, value: string | number | boolean): this {
    this.tracker.add(this.runId, "param", key, String(value));
    return this;
  }

  logParams(params: Record<string, string | number | boolean>): this {
    for (const [key, value] of Object.entries(params)) this.logParam(key, value);
    return this;
  }

  logMetric(key: string, value: number, options: MetricOptions = {}): this {
    this.tracker.add(this.runId, "metric", key, value, options.step ?? 0, options.timestamp ?? Date.now());
    return this;
  }

  logMetrics(metrics: Record<string, number>, options: MetricOptions = {}): this {
    const timestamp = options.timestamp ?? Date.now();
    for (const [key, value] of Object.entries(metrics)) this.logMetric(key, value, { step: options.step, timestamp });
    return this;
  }

  setTag(key: string, value: string): this {
    this.tracker.add(this.runId, "tag", key, String(value));
    return this;
  }

  setTags(tags: Record<string, string>): this {
    for (const [key, value] of Object.entries(tags)) this.setTag(key, value);
    return this;
  }

  /**
   * Uploads a file (read when the upload is sent, so it must still exist then — also at a spool replay) or a
   * buffer (spooled by value) to `artifactPath`, relative to the run's artifact root.
   */
  logArtifact(source: string | Buffer, artifactPath: string): this {
    this.tracker.enqueue(
      typeof source === "string"
        ? { kind: "uploadArtifact", runId: this.runId, path: artifactPath, localPath: source }
        : { kind: "uploadArtifact", runId: this.runId, path: artifactPath, dataBase64: source.toString("base64") },
    );
    return this;
  }

  /** A JSON document (pretty-printed) as an artifact. */
  logDict(value: unknown, artifactPath: string): this {
    return this.logArtifact(Buffer.from(`${JSON.stringify(value, null, 2)}\n`), artifactPath);
  }

  /** A table (rows as objects, or {columns, rows}) as a CSV artifact. */
  logTable(table: Table, artifactPath: string): this {
    return this.logArtifact(Buffer.from(toCsv(table)), artifactPath);
  }

  /** Registers `runs:/<run_id>/<artifactPath>` as a new version of `name` (the model is created if missing). */
  registerModel(name: string, options: { artifactPath?: string; description?: string; tags?: Record<string, string> } = {}): this {
    this.tracker.enqueue({
      kind: "registerModel",
      runId: this.runId,
      name,
      artifactPath: options.artifactPath ?? "model",
      description: options.description,
      tags: Object.entries(options.tags ?? {}).map(([key, value]) => ({ key, value })),
    });
    return this;
  }

  /** Ends the run (after everything logged to it so far). */
  end(status: RunStatusName = "FINISHED"): void {
    this.tracker.enqueue({ kind: "endRun", runId: this.runId, status, endTime: Date.now() });
  }
}
