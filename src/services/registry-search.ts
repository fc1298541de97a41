/**
 * SearchService's registry and logged-model searches (MLflow's registered-models/search — also GET /mlflow/models —,
 * model-versions/search, logged-models/search) and the model versions shown on leaderboard entries. Stores list the
 * entities (narrowed where the filter allows); src/domain/filter parses, filters and sorts them in memory.
 */
import type { ModelVersion } from "../domain/model-registry.js";
import {
  compareLoggedModels,
  decodeLoggedModelPageToken,
  encodeLoggedModelPageToken,
  matchesLoggedModel,
  parseLoggedModelDatasets,
  parseLoggedModelFilter,
  parseLoggedModelOrderBy,
} from "../domain/filter/logged-model-search.js";
import {
  compareModelVersions,
  matchesModelVersion,
  narrowingOf,
  parseModelVersionFilter,
  parseModelVersionOrderBy,
} from "../domain/filter/model-version-search.js";
import { decodeOffsetPageToken, pageOf } from "../domain/filter/offset-page-token.js";
import {
  compareRegisteredModels,
  matchesRegisteredModel,
  parseRegisteredModelFilter,
  parseRegisteredModelOrderBy,
} from "../domain/filter/registered-model-search.js";
import { compareCodePoints } from "../domain/filter/run-order.js";
import type { Store } from "../store/types.js";
import type {
  LeaderboardModelVersion,
  SearchLoggedModelsRequest,
  SearchLoggedModelsResponse,
  SearchModelVersionsRequest,
  SearchModelVersionsResponse,
  SearchRegisteredModelsRequest,
  SearchRegisteredModelsResponse,
} from "../../gen/ts/logbook/v1/search_service.js";
import { loggedModelToProto } from "./logged-model-convert.js";
import { modelVersionToProto, registeredModelToProto } from "./registry-convert.js";
import { maxResultsOf } from "./search-limits.js";
import { missing } from "./tracking-convert.js";

/** MLflow's SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT and _THRESHOLD. */
export const REGISTERED_MODELS_DEFAULT = 100;
export const REGISTERED_MODELS_MAX = 1000;
/** MLflow's SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT and _THRESHOLD. */
export const MODEL_VERSIONS_DEFAULT = 200_000;
export const MODEL_VERSIONS_MAX = 200_000;
/**
 * MLflow's logged-models/search: the proto's default 50. MLflow 3.17 caps nothing (its fluent client passes the
 * caller's max_results through); Logbook caps at MLflow's run-search threshold.
 */
export const LOGGED_MODELS_DEFAULT = 50;
export const LOGGED_MODELS_MAX = 50_000;

export async function searchRegisteredModels(store: Store, req: SearchRegisteredModelsRequest): Promise<SearchRegisteredModelsResponse> {
  const maxResults = maxResultsOf(req.maxResults, REGISTERED_MODELS_DEFAULT, REGISTERED_MODELS_MAX);
  const filter = parseRegisteredModelFilter(req.filter);
  const order = parseRegisteredModelOrderBy(req.orderBy);
  const offset = decodeOffsetPageToken(req.pageToken);
  const all = (await store.listRegisteredModels()).filter((m) => matchesRegisteredModel(m, filter)).sort((a, b) => compareRegisteredModels(a, b, order));
  const page = pageOf(all, offset, maxResults);
  return { registeredModels: page.items.map(registeredModelToProto), nextPageToken: page.nextPageToken };
}

export async function searchModelVersions(store: Store, req: SearchModelVersionsRequest): Promise<SearchModelVersionsResponse> {
  const maxResults = maxResultsOf(req.maxResults, MODEL_VERSIONS_DEFAULT, MODEL_VERSIONS_MAX);
  const filter = parseModelVersionFilter(req.filter);
  const order = parseModelVersionOrderBy(req.orderBy);
  const offset = decodeOffsetPageToken(req.pageToken);
  const narrow = narrowingOf(filter);
  // A filter whose `name =` or `run_id` clauses contradict each other matches nothing: no read.
  if (narrow.names?.length === 0 || narrow.runIds?.length === 0) return { modelVersions: [], nextPageToken: "" };
  const all = (await store.listModelVersions(narrow)).filter((v) => matchesModelVersion(v, filter)).sort((a, b) => compareModelVersions(a, b, order));
  const page = pageOf(all, offset, maxResults);
  return { modelVersions: page.items.map(modelVersionToProto), nextPageToken: page.nextPageToken };
}

export async function searchLoggedModels(store: Store, req: SearchLoggedModelsRequest): Promise<SearchLoggedModelsResponse> {
  if (req.experimentIds.length === 0) throw missing("experiment_ids");
  // MLflow reads 0 as "not given".
  const maxResults = maxResultsOf(req.maxResults || undefined, LOGGED_MODELS_DEFAULT, LOGGED_MODELS_MAX);
  const datasets = parseLoggedModelDatasets(req.datasets);
  const clauses = parseLoggedModelFilter(req.filter);
  const order = parseLoggedModelOrderBy(req.orderBy);
  const key = { experimentIds: req.experimentIds, filter: req.filter, orderBy: req.orderBy };
  const offset = req.pageToken ? decodeLoggedModelPageToken(req.pageToken, key) : 0;
  const all = (await store.listLoggedModels(req.experimentIds))
    .filter((m) => matchesLoggedModel(m, clauses, datasets))
    .sort((a, b) => compareLoggedModels(a, b, order));
  const end = offset + maxResults;
  return { models: all.slice(offset, end).map(loggedModelToProto), nextPageToken: end < all.length ? encodeLoggedModelPageToken(key, end) : "" };
}

/** The registered versions made from each of the runs, in one store read: by name, newest version first. */
export async function modelVersionsByRun(store: Store, runIds: string[]): Promise<Map<string, LeaderboardModelVersion[]>> {
  const byRun = new Map<string, LeaderboardModelVersion[]>();
  if (runIds.length === 0) return byRun;
  const versions: ModelVersion[] = await store.listModelVersions({ runIds: [...new Set(runIds)] });
  versions.sort((a, b) => compareCodePoints(a.name, b.name) || b.version - a.version);
  for (const v of versions) {
    const entry = { name: v.name, version: String(v.version), currentStage: v.currentStage, aliases: [...v.aliases] };
    byRun.set(v.runId, [...(byRun.get(v.runId) ?? []), entry]);
  }
  return byRun;
}
