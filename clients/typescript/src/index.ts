/** Logbook's TypeScript tracking SDK: a thin layer over the generated gRPC client in gen/ts. */
export { Tracker, type TrackerOptions, type StartRunOptions, type TrackerStats } from "./tracker.js";
export { RunHandle, type MetricOptions } from "./run.js";
export { watchRun, compareRuns, type WatchRunOptions, type CompareRunsOptions } from "./watch.js";
export { logExperiment, logExperimentWith, type ExperimentRecord, type ExperimentResult, type MetricInput } from "./log-experiment.js";
export { LogbookError, mlflowCodeOf, toLogbookError, RETRYABLE_CODES } from "./errors.js";
export { LogbookRpc } from "./rpc.js";
export { SpoolLockedError } from "./spool.js";
export { LIMITS, type Op, type OpKind, type MetricPoint, type KeyValue, type RunStatusName } from "./ops.js";
export { toCsv, type Table, type Cell } from "./tables.js";
export * from "./financial-metrics.js";
