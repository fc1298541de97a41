/**
 * SearchService's GenAI searches: traces, trace metrics and evaluation datasets. Logbook records none of them; each
 * request gets MLflow 3.17.2's checks and its answer for an empty store: no traces, no datasets, and trace metrics
 * with no data points except a bare count (no dimensions, no time buckets), which is 0.
 */
import { invalidParameter } from "../domain/errors.js";
import { type TraceAggregation, type TraceMetricView, validateTraceMetricQuery } from "../domain/trace-metrics.js";
import { requireField } from "../domain/validation.js";
import {
  AggregationType,
  MetricViewType,
  type QueryTraceMetricsRequest,
  type QueryTraceMetricsResponse,
  type SearchEvaluationDatasetsRequest,
  type SearchEvaluationDatasetsResponse,
  type SearchTracesRequest,
  type SearchTracesResponse,
  aggregationTypeToJSON,
  metricViewTypeToJSON,
} from "../../gen/ts/logbook/v1/genai.js";

/** MLflow's cap on a page of traces. */
export const SEARCH_TRACES_MAX = 500;

const VIEWS: ReadonlyMap<MetricViewType, TraceMetricView> = new Map([
  [MetricViewType.METRIC_VIEW_TYPE_TRACES, "TRACES"],
  [MetricViewType.METRIC_VIEW_TYPE_SPANS, "SPANS"],
  [MetricViewType.METRIC_VIEW_TYPE_ASSESSMENTS, "ASSESSMENTS"],
]);
const AGGREGATIONS: ReadonlyMap<AggregationType, TraceAggregation> = new Map([
  [AggregationType.AGGREGATION_TYPE_COUNT, "COUNT"],
  [AggregationType.AGGREGATION_TYPE_SUM, "SUM"],
  [AggregationType.AGGREGATION_TYPE_AVG, "AVG"],
  [AggregationType.AGGREGATION_TYPE_PERCENTILE, "PERCENTILE"],
  [AggregationType.AGGREGATION_TYPE_MIN, "MIN"],
  [AggregationType.AGGREGATION_TYPE_MAX, "MAX"],
]);

const unknownEnum = (value: string, field: string) => invalidParameter(`Invalid value ${value} for parameter '${field}' supplied.`);

export async function searchTraces(req: SearchTracesRequest): Promise<SearchTracesResponse> {
  if (req.locations.length === 0) requireField(undefined, "locations");
  if (req.maxResults !== undefined && req.maxResults > SEARCH_TRACES_MAX) {
    throw invalidParameter(`Invalid value ${req.maxResults} for parameter 'max_results' supplied: must be at most ${SEARCH_TRACES_MAX}.`);
  }
  return { nextPageToken: "" };
}

export async function queryTraceMetrics(req: QueryTraceMetricsRequest): Promise<QueryTraceMetricsResponse> {
  if (req.experimentIds.length === 0) requireField(undefined, "experiment_ids");
  if (req.viewType === MetricViewType.METRIC_VIEW_TYPE_UNSPECIFIED) requireField(undefined, "view_type");
  requireField(req.metricName, "metric_name");
  if (req.aggregations.length === 0) requireField(undefined, "aggregations");
  const view = VIEWS.get(req.viewType);
  if (!view) throw unknownEnum(metricViewTypeToJSON(req.viewType), "view_type");
  const aggregations = req.aggregations.map((a) => {
    const name = AGGREGATIONS.get(a.aggregationType);
    if (!name) throw unknownEnum(aggregationTypeToJSON(a.aggregationType), "aggregation_type");
    return name;
  });
  validateTraceMetricQuery(view, req.metricName, aggregations, req.dimensions);
  if (req.timeIntervalSeconds && (req.startTimeMs === undefined || req.endTimeMs === undefined)) {
    throw invalidParameter("start_time_ms and end_time_ms are required if time_interval_seconds is set");
  }
  // Over no traces every aggregate is empty (SQL NULL: no point), except a count, which is 0 — and a count grouped by
  // dimensions or by time bucket has no groups to report.
  const bareCount = req.dimensions.length === 0 && !req.timeIntervalSeconds && aggregations.includes("COUNT");
  return { dataPoints: bareCount ? [{ metricName: req.metricName, dimensions: {}, values: { COUNT: 0 } }] : [], nextPageToken: "" };
}

export async function searchEvaluationDatasets(req: SearchEvaluationDatasetsRequest): Promise<SearchEvaluationDatasetsResponse> {
  if (req.maxResults !== undefined && req.maxResults <= 0) {
    // MLflow's handler turns 0 into None before its store checks it.
    throw invalidParameter(`Invalid value ${req.maxResults === 0 ? "None" : req.maxResults} for parameter 'max_results' supplied. It must be a positive integer`);
  }
  return { nextPageToken: "" };
}
