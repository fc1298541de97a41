/**
 * The store as the server uses it, timed and traced: a wrapper applied once at wiring, around every operation of
 * STORE_OPERATIONS. Each call observes logbook_store_operation_duration_seconds{operation, store} (failed calls
 * too) and, inside a traced call, becomes a client span `store.<operation>` carrying the store kind and statement
 * kind only — never ids, names, filters or values. A store call outside any call (health pings, start-up) makes no
 * span: it would be a root trace of its own every ping. LogBatch's sizes feed the ingest counters once the write
 * succeeded.
 */
import { SpanKind, SpanStatusCode, trace, type Span } from "@opentelemetry/api";
import { canStreamChanges, type Store } from "../store/types.js";
import type { Metrics } from "./metrics.js";
import { STORE_OPERATIONS, type StatementKind, type StoreOperation } from "./store-operations.js";
import type { Tracing } from "./tracing.js";

export interface StoreInstrumentation {
  metrics?: Metrics;
  tracing?: Tracing;
}

type AnyFn = (...args: unknown[]) => unknown;
/** Ends an operation's timing and span; a stream reports the time spent reading and the items it gave. */
type EndOperation = (err?: unknown, stream?: { busyMs: number; items: number }) => void;

/** The MLflow error code of a failure (AppError.code), the only part of an error a span or label may carry. */
export function errorCodeOf(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? code : "INTERNAL_ERROR";
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as { [Symbol.asyncIterator]?: unknown } | null)?.[Symbol.asyncIterator] === "function";
}

export function instrumentStore(store: Store, deps: StoreInstrumentation): Store {
  const { metrics, tracing } = deps;
  if (!metrics && !tracing) return store;
  const system = store.status.kind;

  /** Starts timing (and, under a traced call, a span); the returned function ends both. */
  function begin(operation: StoreOperation, statementKind: StatementKind): EndOperation {
    const started = performance.now();
    let span: Span | undefined;
    if (tracing) {
      const parent = tracing.active();
      if (trace.getSpan(parent)) {
        span = tracing.tracer.startSpan(
          `store.${operation}`,
          {
            kind: SpanKind.CLIENT,
            attributes: { "db.system.name": system, "db.operation.name": operation, "logbook.store.statement_kind": statementKind },
          },
          parent,
        );
      }
    }
    const duration = metrics?.storeOperationDuration.labels({ operation, store: system });
    return (err, stream) => {
      duration?.observe((stream ? stream.busyMs : performance.now() - started) / 1000);
      if (!span) return;
      if (stream) span.setAttribute("logbook.store.items", stream.items);
      if (err !== undefined) {
        const code = errorCodeOf(err);
        span.setAttribute("error.type", code);
        span.setStatus({ code: SpanStatusCode.ERROR, message: code });
      }
      span.end();
    };
  }

  const wrapped = Object.create(null) as Record<string, unknown>;
  Object.defineProperty(wrapped, "status", { get: () => store.status, enumerable: true });
  // Not timed: a subscription to this process's own commits, and the optional change stream (a capability the
  // server looks for on the store it is given, so the wrapper must keep it).
  wrapped.onChange = store.onChange.bind(store);
  if (canStreamChanges(store)) wrapped.changeStream = store.changeStream.bind(store);
  for (const [operation, statementKind] of Object.entries(STORE_OPERATIONS) as [StoreOperation, StatementKind][]) {
    const fn = (store[operation] as AnyFn).bind(store);
    wrapped[operation] = (...args: unknown[]) => {
      const end = begin(operation, statementKind);
      let result: unknown;
      try {
        result = fn(...args);
      } catch (err) {
        end(err);
        throw err;
      }
      if (isPromise(result)) {
        return result.then(
          (value) => {
            end();
            return value;
          },
          (err: unknown) => {
            end(err);
            throw err;
          },
        );
      }
      if (isAsyncIterable(result)) return timedStream(result, end);
      end();
      return result;
    };
  }

  if (metrics) {
    const logBatch = wrapped.logBatch as Store["logBatch"];
    wrapped.logBatch = async (runId: string, batch: Parameters<Store["logBatch"]>[1]) => {
      await logBatch(runId, batch);
      if (batch.metrics.length) metrics.ingestedMetricPoints.inc(batch.metrics.length);
      if (batch.params.length) metrics.ingestedParams.inc(batch.params.length);
      if (batch.tags.length) metrics.ingestedTags.inc(batch.tags.length);
    };
  }
  return wrapped as unknown as Store;
}

/**
 * A stream whose store time is the time spent inside its `next()` calls (reading), not the time the consumer
 * takes between them; it is observed once, when the stream ends however it ends.
 */
function timedStream(source: AsyncIterable<unknown>, end: EndOperation): AsyncIterable<unknown> {
  return {
    [Symbol.asyncIterator]() {
      const inner = source[Symbol.asyncIterator]();
      let busyMs = 0;
      let items = 0;
      let ended = false;
      const finish = (err?: unknown) => {
        if (ended) return;
        ended = true;
        end(err, { busyMs, items });
      };
      return {
        async next() {
          const started = performance.now();
          try {
            const result = await inner.next();
            busyMs += performance.now() - started;
            if (result.done) finish();
            else items++;
            return result;
          } catch (err) {
            finish(err);
            throw err;
          }
        },
        async return(value?: unknown) {
          try {
            return (await inner.return?.(value)) ?? { done: true, value: undefined };
          } finally {
            finish();
          }
        },
        async throw(err?: unknown) {
          try {
            if (inner.throw) return await inner.throw(err);
            throw err;
          } finally {
            finish(err);
          }
        },
      };
    },
  };
}
