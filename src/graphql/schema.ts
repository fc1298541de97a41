/**
 * MLflow's GraphQL schema (what MLflow 3.17.2 serves at /graphql and its web UI queries), with the same type, field,
 * argument and enum names, so introspection and `__typename` answer as MLflow's do. The types mirror MLflow's
 * protobuf messages field by field (camelCase), `LongString` carries int64 values as strings, and every response
 * type has an `apiError` field, which MLflow declares but never fills (errors go to the envelope's `errors`).
 *
 * The object and input types are SDL; the scalar and the enums are built here so they carry their wire behaviour:
 * LongString parses to a bigint and writes a decimal string, and enum values are the protobuf numbers of Logbook's
 * messages (MLflow's numbers), so resolvers hand protobuf messages over as they are (resolvers.ts).
 */
import { GraphQLEnumType, GraphQLError, GraphQLScalarType, GraphQLSchema, Kind, assertValidSchema, extendSchema, parse } from "graphql";
import { ViewType } from "../../gen/ts/logbook/v1/experiment.js";
import { ModelVersionStatus } from "../../gen/ts/logbook/v1/model_registry.js";
import { RunStatus } from "../../gen/ts/logbook/v1/run.js";

/** An int64 as a decimal string out, a bigint in (from an integer literal, or a variable holding an integer or digits). */
export const LongString = new GraphQLScalarType<bigint, string>({
  name: "LongString",
  description: "LongString Scalar type to prevent truncation to max integer in JavaScript.",
  serialize(value) {
    if (typeof value === "bigint" || (typeof value === "number" && Number.isInteger(value))) return String(value);
    if (typeof value === "string" && /^-?\d+$/.test(value)) return value;
    throw new GraphQLError(`LongString cannot represent value: ${String(value)}`);
  },
  parseValue(value) {
    if (typeof value === "bigint") return value;
    if (typeof value === "number" && Number.isSafeInteger(value)) return BigInt(value);
    if (typeof value === "string" && /^\s*-?\d+\s*$/.test(value)) return BigInt(value.trim());
    throw new GraphQLError(`LongString cannot represent value: ${JSON.stringify(value)}`);
  },
  parseLiteral(node) {
    if (node.kind === Kind.INT) return BigInt(node.value);
    throw new GraphQLError("LongString cannot represent a non-integer literal", { nodes: node });
  },
});

const enumOf = (name: string, values: Record<string, number>) =>
  new GraphQLEnumType({ name, values: Object.fromEntries(Object.entries(values).map(([key, value]) => [key, { value }])) });

/** Enum values in MLflow's order; internal values are the protobuf numbers. */
const ENUMS = [
  enumOf("MlflowRunStatus", {
    RUNNING: RunStatus.RUN_STATUS_RUNNING,
    SCHEDULED: RunStatus.RUN_STATUS_SCHEDULED,
    FINISHED: RunStatus.RUN_STATUS_FINISHED,
    FAILED: RunStatus.RUN_STATUS_FAILED,
    KILLED: RunStatus.RUN_STATUS_KILLED,
  }),
  enumOf("MlflowModelVersionStatus", {
    PENDING_REGISTRATION: ModelVersionStatus.MODEL_VERSION_STATUS_PENDING_REGISTRATION,
    FAILED_REGISTRATION: ModelVersionStatus.MODEL_VERSION_STATUS_FAILED_REGISTRATION,
    READY: ModelVersionStatus.MODEL_VERSION_STATUS_READY,
  }),
  enumOf("MlflowViewType", {
    ACTIVE_ONLY: ViewType.VIEW_TYPE_ACTIVE_ONLY,
    DELETED_ONLY: ViewType.VIEW_TYPE_DELETED_ONLY,
    ALL: ViewType.VIEW_TYPE_ALL,
  }),
  // Model-version deployment jobs are a Databricks feature Logbook does not have: declared, never produced.
  enumOf("MlflowDeploymentJobConnectionState", {
    DEPLOYMENT_JOB_CONNECTION_STATE_UNSPECIFIED: 1,
    NOT_SET_UP: 2,
    CONNECTED: 3,
    NOT_FOUND: 4,
    REQUIRED_PARAMETERS_CHANGED: 5,
  }),
  enumOf("MlflowModelVersionDeploymentJobStateDeploymentJobRunState", {
    DEPLOYMENT_JOB_RUN_STATE_UNSPECIFIED: 1,
    NO_VALID_DEPLOYMENT_JOB_FOUND: 2,
    RUNNING: 3,
    SUCCEEDED: 4,
    FAILED: 5,
    PENDING: 6,
    APPROVAL: 7,
  }),
];

const SDL = /* GraphQL */ `
  schema {
    query: Query
    mutation: Mutation
  }

  directive @component(name: String!) on QUERY | MUTATION

  type Query {
    mlflowGetExperiment(input: MlflowGetExperimentInput): MlflowGetExperimentResponse
    mlflowGetMetricHistoryBulkInterval(input: MlflowGetMetricHistoryBulkIntervalInput): MlflowGetMetricHistoryBulkIntervalResponse
    mlflowGetRun(input: MlflowGetRunInput): MlflowGetRunResponse
    mlflowListArtifacts(input: MlflowListArtifactsInput): MlflowListArtifactsResponse
    mlflowSearchModelVersions(input: MlflowSearchModelVersionsInput): MlflowSearchModelVersionsResponse
    "Simple echoing field"
    test(inputString: String): Test
    mlflowSearchRuns(input: MlflowSearchRunsInput): MlflowSearchRunsResponse
  }

  type Mutation {
    mlflowSearchDatasets(input: MlflowSearchDatasetsInput): MlflowSearchDatasetsResponse
    mlflowSearchRuns(input: MlflowSearchRunsInput): MlflowSearchRunsResponse
    "Simple echoing field"
    testMutation(inputString: String): TestMutation
  }

  type MlflowSearchDatasetsResponse {
    datasetSummaries: [MlflowDatasetSummary!]
    apiError: ApiError
  }

  type MlflowDatasetSummary {
    experimentId: String
    name: String
    digest: String
    context: String
  }

  input MlflowSearchDatasetsInput {
    experimentIds: [String]
  }

  type ApiError {
    code: String
    message: String
    helpUrl: String
    traceId: String
    errorDetails: [ErrorDetail]
  }

  type ErrorDetail {
    field: String
    message: String
  }

  type Test {
    "Echoes the input string"
    output: String
  }

  type TestMutation {
    "Echoes the input string"
    output: String
  }

  type MlflowGetExperimentResponse {
    experiment: MlflowExperiment
    apiError: ApiError
  }

  type MlflowExperiment {
    experimentId: String
    name: String
    artifactLocation: String
    lifecycleStage: String
    lastUpdateTime: LongString
    creationTime: LongString
    tags: [MlflowExperimentTag!]
    effectiveTraceArchivalRetention: String
    workspace: String
  }

  type MlflowExperimentTag {
    key: String
    value: String
  }

  input MlflowGetExperimentInput {
    experimentId: String
  }

  type MlflowGetMetricHistoryBulkIntervalResponse {
    metrics: [MlflowMetricWithRunId!]
    apiError: ApiError
  }

  type MlflowMetricWithRunId {
    key: String
    value: Float
    timestamp: LongString
    step: LongString
    runId: String
  }

  input MlflowGetMetricHistoryBulkIntervalInput {
    runIds: [String]
    metricKey: String
    startStep: Int
    endStep: Int
    maxResults: Int
  }

  type MlflowGetRunResponse {
    run: MlflowRunExtension
    apiError: ApiError
  }

  type MlflowRunExtension {
    info: MlflowRunInfo
    data: MlflowRunData
    inputs: MlflowRunInputs
    outputs: MlflowRunOutputs
    experiment: MlflowExperiment
    modelVersions: [MlflowModelVersion!]
  }

  type MlflowRunInfo {
    runId: String
    runUuid: String
    runName: String
    experimentId: String
    userId: String
    status: MlflowRunStatus
    startTime: LongString
    endTime: LongString
    artifactUri: String
    lifecycleStage: String
  }

  type MlflowRunData {
    metrics: [MlflowMetricExtension!]
    params: [MlflowParam!]
    tags: [MlflowRunTag!]
  }

  type MlflowMetricExtension {
    key: String
    value: Float
    timestamp: LongString
    step: LongString
    datasetName: String
    datasetDigest: String
    modelId: String
    runId: String
  }

  type MlflowParam {
    key: String
    value: String
  }

  type MlflowRunTag {
    key: String
    value: String
  }

  type MlflowRunInputs {
    datasetInputs: [MlflowDatasetInput!]
    modelInputs: [MlflowModelInput!]
  }

  type MlflowDatasetInput {
    tags: [MlflowInputTag!]
    dataset: MlflowDataset
  }

  type MlflowInputTag {
    key: String
    value: String
  }

  type MlflowDataset {
    name: String
    digest: String
    sourceType: String
    source: String
    schema: String
    profile: String
  }

  type MlflowModelInput {
    modelId: String
  }

  type MlflowRunOutputs {
    modelOutputs: [MlflowModelOutput!]
  }

  type MlflowModelOutput {
    modelId: String
    step: LongString
  }

  type MlflowModelVersion {
    name: String
    version: String
    creationTimestamp: LongString
    lastUpdatedTimestamp: LongString
    userId: String
    currentStage: String
    description: String
    source: String
    runId: String
    status: MlflowModelVersionStatus
    statusMessage: String
    tags: [MlflowModelVersionTag!]
    runLink: String
    aliases: [String]
    modelId: String
    modelParams: [MlflowModelParam!]
    modelMetrics: [MlflowModelMetric!]
    deploymentJobState: MlflowModelVersionDeploymentJobState
  }

  type MlflowModelVersionTag {
    key: String
    value: String
  }

  type MlflowModelParam {
    name: String
    value: String
  }

  type MlflowModelMetric {
    key: String
    value: Float
    timestamp: LongString
    step: LongString
    datasetName: String
    datasetDigest: String
    modelId: String
    runId: String
  }

  type MlflowModelVersionDeploymentJobState {
    jobId: String
    runId: String
    jobState: MlflowDeploymentJobConnectionState
    runState: MlflowModelVersionDeploymentJobStateDeploymentJobRunState
    currentTaskName: String
  }

  input MlflowGetRunInput {
    runId: String
    runUuid: String
  }

  type MlflowListArtifactsResponse {
    rootUri: String
    files: [MlflowFileInfo!]
    nextPageToken: String
    apiError: ApiError
  }

  type MlflowFileInfo {
    path: String
    isDir: Boolean
    fileSize: LongString
  }

  input MlflowListArtifactsInput {
    runId: String
    runUuid: String
    path: String
    pageToken: String
  }

  type MlflowSearchModelVersionsResponse {
    modelVersions: [MlflowModelVersion!]
    nextPageToken: String
    apiError: ApiError
  }

  input MlflowSearchModelVersionsInput {
    filter: String
    maxResults: LongString
    orderBy: [String]
    pageToken: String
  }

  type MlflowSearchRunsResponse {
    runs: [MlflowRunExtension!]
    nextPageToken: String
    apiError: ApiError
  }

  input MlflowSearchRunsInput {
    experimentIds: [String]
    filter: String
    runViewType: MlflowViewType = null
    maxResults: Int
    orderBy: [String]
    pageToken: String
  }
`;

/** The schema, built once per server. */
export function createMlflowSchema(): GraphQLSchema {
  const base = new GraphQLSchema({ types: [LongString, ...ENUMS] });
  const schema = extendSchema(base, parse(SDL));
  assertValidSchema(schema);
  return schema;
}
