/**
 * SearchService's registry and logged-model searches (MLflow's registered-models/search — also GET /mlflow/models —,
 * model-versions/search, logged-models/search) and the model versions shown on leaderboard entries. Filters and
 * orders are parsed here (src/domain/filter); the store filters, orders and pages in the database; page tokens carry
 * the sort key of a page's last item and the search they continue.
 */
import {
  decodeLoggedModelPageToken,
  encodeLoggedModelPageToken,
  loggedModelKeysetTerms,
  parseLoggedModelDatasets,
  parseLoggedModelFilter,
  parseLoggedModelOrderBy,
} from "../domain/filter/logged-model-search.js";
import { modelVersionKeysetTerms, parseModelVersionFilter, parseModelVersionOrderBy } from "../domain/filter/model-version-search.js";
import { parseRegisteredModelFilter, parseRegisteredModelOrderBy, registeredModelKeysetTerms } from "../domain/filter/registered-model-search.js";
import { compareCodePoints } from "../domain/filter/run-order.js";
import type { KeysetPage, Store } from "../store/types.js";
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
import { keysetPage } from "./keyset-page.js";
import { maxResultsOf } from "./search-limits.js";
import type { IdScope } from "../domain/permission.js";
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

/** What the caller may read (permissions), put inside the store's query; not part of the page token's search. */
type Readable = { readable?: IdScope };

export async function searchRegisteredModels(store: Store, req: SearchRegisteredModelsRequest, scope: Readable = {}): Promise<SearchRegisteredModelsResponse> {
  const maxResults = maxResultsOf(req.maxResults, REGISTERED_MODELS_DEFAULT, REGISTERED_MODELS_MAX);
  const query = { filter: parseRegisteredModelFilter(req.filter), order: parseRegisteredModelOrderBy(req.orderBy) };
  const page = await keysetPage(query, registeredModelKeysetTerms(query.order), { maxResults, pageToken: req.pageToken }, (p) =>
    store.searchRegisteredModels({ ...query, ...scope }, p),
  );
  return { registeredModels: page.items.map(registeredModelToProto), nextPageToken: page.nextPageToken };
}

export async function searchModelVersions(store: Store, req: SearchModelVersionsRequest, scope: Readable = {}): Promise<SearchModelVersionsResponse> {
  const maxResults = maxResultsOf(req.maxResults, MODEL_VERSIONS_DEFAULT, MODEL_VERSIONS_MAX);
  const query = { filter: parseModelVersionFilter(req.filter), order: parseModelVersionOrderBy(req.orderBy) };
  const page = await keysetPage(query, modelVersionKeysetTerms(query.order), { maxResults, pageToken: req.pageToken }, (p) =>
    store.searchModelVersions({ ...query, ...scope }, p),
  );
  return { modelVersions: page.items.map(modelVersionToProto), nextPageToken: page.nextPageToken };
}

export async function searchLoggedModels(store: Store, req: SearchLoggedModelsRequest, scope: Readable = {}): Promise<SearchLoggedModelsResponse> {
  if (req.experimentIds.length === 0) throw missing("experiment_ids");
  // MLflow reads 0 as "not given".
  const maxResults = maxResultsOf(req.maxResults || undefined, LOGGED_MODELS_DEFAULT, LOGGED_MODELS_MAX);
  const datasets = parseLoggedModelDatasets(req.datasets);
  const filter = parseLoggedModelFilter(req.filter);
  const order = parseLoggedModelOrderBy(req.orderBy);
  const key = { experimentIds: req.experimentIds, filter: req.filter, orderBy: req.orderBy };
  const page: KeysetPage = { maxResults };
  if (req.pageToken) page.after = decodeLoggedModelPageToken(req.pageToken, key, loggedModelKeysetTerms(order));
  const { items, next } = await store.searchLoggedModels({ experimentIds: req.experimentIds, filter, datasets, order, ...scope }, page);
  return { models: items.map(loggedModelToProto), nextPageToken: next ? encodeLoggedModelPageToken(key, next) : "" };
}

/** The registered versions made from each of the runs, in one store read: by name, newest version first. */
export async function modelVersionsByRun(store: Store, runIds: string[], scope: Readable = {}): Promise<Map<string, LeaderboardModelVersion[]>> {
  const byRun = new Map<string, LeaderboardModelVersion[]>();
  if (runIds.length === 0) return byRun;
  const versions = await store.modelVersionsOfRuns([...new Set(runIds)], scope.readable);
  versions.sort((a, b) => compareCodePoints(a.name, b.name) || b.version - a.version);
  for (const v of versions) {
    const entry = { name: v.name, version: String(v.version), currentStage: v.currentStage, aliases: [...v.aliases] };
    byRun.set(v.runId, [...(byRun.get(v.runId) ?? []), entry]);
  }
  return byRun;
}
