/**
 * SearchService's queries over what runs logged, as the MLflow UI asks for them: the datasets of experiments
 * (experiments/search-datasets) and the whole history of one metric of several runs (the older
 * metrics/get-history-bulk), with MLflow 3.17.2's limits and messages.
 */
import { invalidParameter } from "../domain/errors.js";
import * as v from "../domain/validation.js";
import type { Store } from "../store/types.js";
import type { SearchServiceService } from "../../gen/ts/logbook/v1/search_service.js";
import type { ServiceImplementation } from "./rpc.js";
import { metricToProto } from "./tracking-convert.js";

const SEARCH_DATASETS_MAX_EXPERIMENTS = 20;
/** MLflow answers at most this many summaries. */
const SEARCH_DATASETS_MAX_RESULTS = 1000;
const HISTORY_BULK_MAX_RUNS = 100;
const HISTORY_BULK_MAX_RESULTS = 25000;

type Methods = Pick<ServiceImplementation<typeof SearchServiceService>, "searchDatasets" | "getMetricHistoryBulk">;

export function createExperimentDataSearch(store: Store): Methods {
  return {
    async searchDatasets(req) {
      const ids = req.experimentIds;
      if (ids.length === 0) throw invalidParameter("SearchDatasets request must specify at least one experiment_id.");
      if (ids.length > SEARCH_DATASETS_MAX_EXPERIMENTS) {
        throw invalidParameter(
          `SearchDatasets request cannot specify more than ${SEARCH_DATASETS_MAX_EXPERIMENTS} experiment_ids. Received ${ids.length} experiment_ids.`,
        );
      }
      ids.forEach(v.validateExperimentId);
      const summaries = await store.searchDatasets(ids, SEARCH_DATASETS_MAX_RESULTS);
      return { datasetSummaries: summaries };
    },

    /** MLflow's SQL store: one query, ordered by run id, then timestamp, step and value, cut at max_results. */
    async getMetricHistoryBulk(req) {
      const runIds = req.runId;
      if (runIds.length === 0) throw invalidParameter("GetMetricHistoryBulk request must specify at least one run_id.");
      if (runIds.length > HISTORY_BULK_MAX_RUNS) {
        throw invalidParameter(
          `GetMetricHistoryBulk request cannot specify more than ${HISTORY_BULK_MAX_RUNS} run_ids. Received ${runIds.length} run_ids.`,
        );
      }
      if (!req.metricKey) throw invalidParameter("GetMetricHistoryBulk request must specify a metric_key.");
      const max = req.maxResults ?? HISTORY_BULK_MAX_RESULTS;
      if (max < 0) throw invalidParameter(`Invalid value ${max} for parameter 'max_results' supplied. It must be at least 0.`);
      const limit = Math.min(max, HISTORY_BULK_MAX_RESULTS);
      const sorted = [...new Set(runIds)].sort();
      // Each history is read at most `limit` long, all at once: a page costs one read per run, not per point.
      const histories = await Promise.all(sorted.map(async (runId) => (await store.getMetricHistory(runId, req.metricKey, { maxResults: Math.max(limit, 1) })).metrics));
      const metrics = sorted.flatMap((runId, i) => histories[i]!.map((m) => ({ ...metricToProto(m), runId }))).slice(0, limit);
      return { metrics };
    },
  };
}
