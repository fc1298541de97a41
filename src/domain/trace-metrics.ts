/**
 * MLflow 3.17.2's trace-metric catalogue (mlflow/store/tracking/utils/sql_trace_metrics_utils.py VIEW_TYPE_CONFIGS):
 * per view type, the metrics one may query, with the aggregations and dimensions each supports, and the checks of a
 * query against it, with MLflow's messages. Logbook records no traces; the catalogue keeps its answers to malformed
 * queries MLflow's.
 */
import { invalidParameter } from "./errors.js";

export type TraceMetricView = "TRACES" | "SPANS" | "ASSESSMENTS";
export type TraceAggregation = "COUNT" | "SUM" | "AVG" | "PERCENTILE" | "MIN" | "MAX";

interface MetricSpec {
  aggregations: readonly TraceAggregation[];
  dimensions: readonly string[];
}

const COUNT: readonly TraceAggregation[] = ["COUNT"];
const DISTRIBUTION: readonly TraceAggregation[] = ["AVG", "MAX", "MIN", "PERCENTILE"];
const AMOUNT: readonly TraceAggregation[] = ["AVG", "MAX", "MIN", "PERCENTILE", "SUM"];
const tokens = (name: string): [string, MetricSpec] => [name, { aggregations: AMOUNT, dimensions: ["trace_name"] }];

/** In MLflow's order (its messages list the metric names in this order). */
export const TRACE_METRICS: Readonly<Record<TraceMetricView, ReadonlyMap<string, MetricSpec>>> = {
  TRACES: new Map([
    ["trace_count", { aggregations: COUNT, dimensions: ["trace_name", "trace_status"] }],
    ["session_count", { aggregations: COUNT, dimensions: [] }],
    ["latency", { aggregations: DISTRIBUTION, dimensions: ["trace_name"] }],
    tokens("input_tokens"),
    tokens("output_tokens"),
    tokens("total_tokens"),
    tokens("cache_read_input_tokens"),
    tokens("cache_creation_input_tokens"),
  ]),
  SPANS: new Map([
    ["span_count", { aggregations: COUNT, dimensions: ["span_model_name", "span_model_provider", "span_name", "span_status", "span_type"] }],
    ["latency", { aggregations: DISTRIBUTION, dimensions: ["span_name", "span_status"] }],
    ["input_cost", { aggregations: AMOUNT, dimensions: ["span_model_name", "span_model_provider"] }],
    ["output_cost", { aggregations: AMOUNT, dimensions: ["span_model_name", "span_model_provider"] }],
    ["total_cost", { aggregations: AMOUNT, dimensions: ["span_model_name", "span_model_provider"] }],
  ]),
  ASSESSMENTS: new Map([
    ["assessment_count", { aggregations: COUNT, dimensions: ["assessment_name", "assessment_value"] }],
    ["assessment_value", { aggregations: DISTRIBUTION, dimensions: ["assessment_name"] }],
  ]),
};

/** Python's repr of a list of strings, as MLflow's messages print them. */
const pyList = (items: readonly string[]) => `[${items.map((i) => `'${i}'`).join(", ")}]`;

/** MLflow's validate_query_trace_metrics_params. */
export function validateTraceMetricQuery(view: TraceMetricView, metricName: string, aggregations: TraceAggregation[], dimensions: string[]): void {
  const metrics = TRACE_METRICS[view];
  const spec = metrics.get(metricName);
  if (!spec) throw invalidParameter(`metric_name must be one of ${pyList([...metrics.keys()])}, got '${metricName}'`);
  const badAggregations = [...new Set(aggregations.filter((a) => !spec.aggregations.includes(a)))].sort();
  if (badAggregations.length > 0) {
    throw invalidParameter(`Found invalid aggregation_type(s): ${pyList(badAggregations)}. Supported aggregation types: ${pyList([...spec.aggregations].sort())}`);
  }
  const badDimensions = [...new Set(dimensions.filter((d) => !spec.dimensions.includes(d)))].sort();
  if (badDimensions.length > 0) {
    throw invalidParameter(`Found invalid dimension(s): ${pyList(badDimensions)}. Supported dimensions: ${pyList([...spec.dimensions].sort())}`);
  }
}
