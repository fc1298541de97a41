/**
 * The GraphQL resolvers: each root field calls the same service function as its gRPC method and REST route, with the
 * input object as the request message (GraphQL input fields are the messages' camelCase fields). Results are the
 * services' protobuf messages as they are; {@link resolveProtoField} reads their fields as MLflow's server does — an
 * unset field is the protobuf default ("" , 0, "0", false, [], an empty message), never null — so the answers have
 * MLflow's shapes. A run's experiment and model versions are loaded once per request for all runs of the answer
 * (DataLoader), not once per run.
 */
import DataLoader from "dataloader";
import { type GraphQLFieldResolver, type GraphQLOutputType, isListType, isNonNullType, isObjectType, isScalarType } from "graphql";
import { invalidParameter } from "../domain/errors.js";
import type { Experiment } from "../../gen/ts/logbook/v1/experiment.js";
import type { ModelVersion } from "../../gen/ts/logbook/v1/model_registry.js";
import type { Metric, Run } from "../../gen/ts/logbook/v1/run.js";
import { GetExperimentRequest, GetRunRequest, type TrackingServiceService } from "../../gen/ts/logbook/v1/tracking_service.js";
import {
  GetMetricHistoryBulkIntervalRequest,
  SearchDatasetsRequest,
  SearchModelVersionsRequest,
  SearchRunsRequest,
  type SearchServiceService,
} from "../../gen/ts/logbook/v1/search_service.js";
import { ListArtifactsRequest } from "../../gen/ts/logbook/v1/artifact_service.js";
import type { ArtifactServiceFunctions } from "../services/artifact-service.js";
import type { CallContext, ServiceImplementation } from "../services/rpc.js";

/** The service functions the schema answers from. */
export interface GraphqlServices {
  tracking: Pick<ServiceImplementation<typeof TrackingServiceService>, "getExperiment" | "getRun">;
  search: Pick<ServiceImplementation<typeof SearchServiceService>, "searchRuns" | "searchModelVersions" | "getMetricHistoryBulkInterval" | "searchDatasets">;
  artifacts: Pick<ArtifactServiceFunctions, "listArtifacts">;
}

/** Per-request state: the call's context and the loaders that batch the runs' extension fields. */
export interface GraphqlContext {
  call: CallContext;
  experiments: DataLoader<string, Experiment | undefined>;
  modelVersions: DataLoader<string, ModelVersion[]>;
}

type Resolver = GraphQLFieldResolver<any, GraphqlContext, any>;

/** An unset protobuf field as MLflow's server reads it. ApiError is no message of MLflow's: unset is null there. */
function protoDefault(type: GraphQLOutputType): unknown {
  const t = isNonNullType(type) ? type.ofType : type;
  if (isListType(t)) return [];
  if (isObjectType(t)) return t.name === "ApiError" ? null : {};
  if (isScalarType(t)) {
    switch (t.name) {
      case "String":
        return "";
      case "Float":
      case "Int":
        return 0;
      case "Boolean":
        return false;
      case "LongString":
        return 0n;
    }
  }
  return null; // an enum: MLflow's unset enum (0) is no value of its GraphQL enums either
}

/** The default resolver: the source's field of that name, or the protobuf default when unset. */
export const resolveProtoField: GraphQLFieldResolver<unknown, GraphqlContext> = (source, _args, _ctx, info) => {
  const value = source === null || typeof source !== "object" ? undefined : (source as Record<string, unknown>)[info.fieldName];
  return value === undefined ? protoDefault(info.returnType) : value;
};

/** The `input` argument; null items of its string lists are refused (a request message cannot hold them). */
function inputOf(args: { input?: Record<string, unknown> | null }): Record<string, unknown> {
  const input = args.input ?? {};
  for (const [field, value] of Object.entries(input)) {
    if (Array.isArray(value) && value.some((item) => item === null)) {
      throw invalidParameter(`Invalid value null in '${field}': list items must be strings.`);
    }
  }
  return input;
}

const bigintOrUndefined = (value: unknown) => (typeof value === "number" ? BigInt(value) : undefined);

/** Resolvers by "Type.field"; every other field is read by {@link resolveProtoField}. */
export function createResolvers(services: GraphqlServices): ReadonlyMap<string, Resolver> {
  const { tracking, search, artifacts } = services;
  const searchRuns: Resolver = (_root, args, ctx) => search.searchRuns(SearchRunsRequest.fromPartial(inputOf(args)), ctx.call);
  const entries: [string, Resolver][] = [
    ["Query.mlflowGetExperiment", (_root, args, ctx) => tracking.getExperiment(GetExperimentRequest.fromPartial(inputOf(args)), ctx.call)],
    ["Query.mlflowGetRun", (_root, args, ctx) => tracking.getRun(GetRunRequest.fromPartial(inputOf(args)), ctx.call)],
    ["Query.mlflowSearchRuns", searchRuns],
    ["Mutation.mlflowSearchDatasets", (_root, args, ctx) => search.searchDatasets(SearchDatasetsRequest.fromPartial(inputOf(args)), ctx.call)],
    ["Mutation.mlflowSearchRuns", searchRuns],
    [
      "Query.mlflowGetMetricHistoryBulkInterval",
      (_root, args, ctx) => {
        const input = inputOf(args);
        const request = GetMetricHistoryBulkIntervalRequest.fromPartial({
          ...input,
          startStep: bigintOrUndefined(input.startStep),
          endStep: bigintOrUndefined(input.endStep),
        });
        return search.getMetricHistoryBulkInterval(request, ctx.call);
      },
    ],
    ["Query.mlflowListArtifacts", (_root, args, ctx) => artifacts.listArtifacts(ListArtifactsRequest.fromPartial(inputOf(args)), ctx.call)],
    [
      "Query.mlflowSearchModelVersions",
      (_root, args, ctx) => search.searchModelVersions(SearchModelVersionsRequest.fromPartial(inputOf(args)), ctx.call),
    ],
    ["Query.test", (_root, args: { inputString?: string | null }) => ({ output: args.inputString ?? null })],
    // MLflow 3.17.2 declares this echo but never resolves it (its resolver's name does not match the field's).
    ["Mutation.testMutation", () => null],
    ["MlflowRunExtension.experiment", (run: Run, _args, ctx) => ctx.experiments.load(run.info?.experimentId ?? "")],
    ["MlflowRunExtension.modelVersions", (run: Run, _args, ctx) => ctx.modelVersions.load(run.info?.runId ?? "")],
    // A NaN metric is null (a GraphQL Float cannot be NaN), as MLflow answers it.
    ["MlflowMetricExtension.value", (metric: Metric) => (metric.value === undefined ? 0 : Number.isNaN(metric.value) ? null : metric.value)],
  ];
  return new Map(entries);
}

/** The loaders of one request: each experiment read once, and the model versions of all its runs in one search. */
export function createLoaders(services: GraphqlServices, call: CallContext): Pick<GraphqlContext, "experiments" | "modelVersions"> {
  const experiments = new DataLoader<string, Experiment | undefined>((ids) =>
    Promise.all(ids.map(async (experimentId) => (await services.tracking.getExperiment({ experimentId }, call)).experiment)),
  );
  const modelVersions = new DataLoader<string, ModelVersion[]>(async (runIds) => {
    // Run ids are 32 hex characters (validated when runs are made), so they can stand in a filter as they are.
    const filter = `run_id IN (${runIds.map((id) => `'${id}'`).join(", ")})`;
    const byRun = new Map<string, ModelVersion[]>(runIds.map((id) => [id, []]));
    let pageToken = "";
    do {
      const page = await services.search.searchModelVersions(SearchModelVersionsRequest.fromPartial({ filter, pageToken }), call);
      for (const version of page.modelVersions) byRun.get(version.runId ?? "")?.push(version);
      pageToken = page.nextPageToken;
    } while (pageToken);
    return runIds.map((id) => byRun.get(id) ?? []);
  });
  return { experiments, modelVersions };
}
