/**
 * Who may do what: one rule per service function, keyed by its gRPC path, mirroring MLflow 3.17.2's basic-auth
 * validators (mlflow/server/auth/__init__.py BEFORE_REQUEST_HANDLERS): reading needs READ, changing EDIT, deleting
 * MANAGE; runs, logged models and artifacts follow their experiment, model versions their registered model; creating
 * an experiment or a registered model needs only a sign-in (and no DENY on every resource of the type) and gives the
 * creator MANAGE on it; admins may do everything. Searches, streams, the leaderboard and the status counts need only
 * a sign-in: what they return is restricted inside the store's query to what the caller may read.
 *
 * guard-services.ts applies this table to every service function (so gRPC, the HTTP gateway, the hand-written routes
 * and GraphQL, which all call the services, are covered alike); a function without a rule refuses to start. The README's
 * permission table is rendered from it (test/auth/permission-table-markdown.ts) and a test keeps the two equal.
 */
import { DEFAULT_EXPERIMENT_ID } from "../../domain/entities.js";
import { parseModelsUri } from "../../domain/model-version-source.js";
import { type Action, ALL_RESOURCES, type ResourceType } from "../../domain/permission.js";
import { normalizeArtifactPath } from "../../artifacts/path.js";
import { validateResourceId, validateResourceType } from "../../domain/auth-validation.js";

/** What a need is checked against; runs, logged models and named experiments are resolved to their experiment. */
export type Target =
  | { kind: "experiment"; id: string }
  /** Not found: nothing to check (the call itself answers RESOURCE_DOES_NOT_EXIST). */
  | { kind: "experimentNamed"; name: string }
  | { kind: "run"; id: string }
  | { kind: "loggedModel"; id: string }
  | { kind: "registeredModel"; name: string }
  /** Only admins pass. */
  | { kind: "adminOnly" };

export interface Need {
  action: Action;
  /** What the table prints: "the run's experiment". */
  label: string;
  targets(request: any): Target[];
}

export type Rule =
  /** Any signed-in user; `note` says what restricts the answer, if anything. */
  | { kind: "signedIn"; note?: string; creates?: ResourceType }
  | { kind: "admin" }
  /** The user the request names (`username`), or an admin. */
  | { kind: "self"; username(request: any): string }
  | { kind: "needs"; needs: Need[] };

const LEVEL: Readonly<Record<Action, string>> = { read: "READ", use: "USE", update: "EDIT", delete: "MANAGE", manage: "MANAGE" };

// Ids are read the way the services read them, so a check is always about the resource the call will touch.
const runIdOf = (r: { runId?: string; runUuid?: string }) => r.runId || r.runUuid || "";
const experimentIdOf = (r: { experimentId?: string }) => r.experimentId || DEFAULT_EXPERIMENT_ID;

const experiment = (action: Action, ids: (r: any) => string[] = (r) => [experimentIdOf(r)], label = "the experiment"): Need => ({
  action,
  label,
  targets: (r) => ids(r).map((id) => ({ kind: "experiment", id })),
});
const experimentNamed = (action: Action, name: (r: any) => string): Need => ({
  action,
  label: "the experiment",
  targets: (r) => [{ kind: "experimentNamed", name: name(r) }],
});
const run = (action: Action, ids: (r: any) => string[] = (r) => [runIdOf(r)], label = "the run's experiment"): Need => ({
  action,
  label,
  targets: (r) => ids(r).map((id) => ({ kind: "run", id })),
});
const loggedModel = (action: Action, ids: (r: any) => string[] = (r) => [r.modelId as string], label = "the logged model's experiment"): Need => ({
  action,
  label,
  targets: (r) => ids(r).filter((id) => id !== "").map((id) => ({ kind: "loggedModel", id })),
});
const model = (action: Action, name: (r: any) => string = (r) => r.name as string, label = "the registered model"): Need => ({
  action,
  label,
  targets: (r) => [{ kind: "registeredModel", name: name(r) }],
});

/** Logged models a write also touches (metrics, inputs and outputs naming a model): EDIT on theirs too, as MLflow. */
const linkedModels = (ids: (r: any) => Array<string | undefined>): Need =>
  loggedModel("update", (r) => [...new Set(ids(r).filter((id): id is string => !!id))], "the experiments of the logged models it names");

/**
 * An artifact path of the proxy routes (`<experiment id>/<run id>/artifacts/…`) belongs to the experiment its first
 * segment names, as MLflow reads it; a path naming none falls to the caller's permission on no experiment in
 * particular (their "*" grant, else the default). With a run id, the run's experiment.
 */
function artifactTargets(r: { runId?: string; runUuid?: string; path?: string }): Target[] {
  const runId = runIdOf(r);
  if (runId) return [{ kind: "run", id: runId }];
  const first = normalizeArtifactPath(r.path ?? "", { allowRoot: true }).split("/")[0] ?? "";
  return [{ kind: "experiment", id: /^\d+$/.test(first) ? first : ALL_RESOURCES }];
}
const artifact = (action: Action): Need => ({ action, label: "the run's experiment (proxy paths: the experiment the path names)", targets: artifactTargets });

/** The sources a new model version is made from must be readable: its run, its logged model, a `models:/` source. */
const versionSources: Need = {
  action: "read",
  label: "its source run, logged model or registered model",
  targets(r: { runId?: string; modelId?: string; source?: string }) {
    const targets: Target[] = [];
    if (r.runId) targets.push({ kind: "run", id: r.runId });
    if (r.modelId) targets.push({ kind: "loggedModel", id: r.modelId });
    const models = r.source ? parseModelsUri(r.source) : undefined;
    if (models && "modelId" in models) targets.push({ kind: "loggedModel", id: models.modelId });
    else if (models) targets.push({ kind: "registeredModel", name: models.name });
    const runsUri = /^runs:\/([^/]+)/.exec(r.source ?? "");
    if (runsUri) targets.push({ kind: "run", id: runsUri[1]! });
    return targets;
  },
};

const needs = (...list: Need[]): Rule => ({ kind: "needs", needs: list });
const signedIn = (note?: string): Rule => (note ? { kind: "signedIn", note } : { kind: "signedIn" });
const READABLE_RUNS = "answers only runs of experiments the caller may read";
const T = "/logbook.v1.TrackingService/";
const R = "/logbook.v1.RegistryService/";
const S = "/logbook.v1.SearchService/";
const A = "/logbook.v1.ArtifactService/";
const U = "/logbook.v1.AuthService/";

export const PERMISSION_RULES: Readonly<Record<string, Rule>> = {
  [`${T}CreateExperiment`]: { kind: "signedIn", creates: "experiment" },
  [`${T}GetExperiment`]: needs(experiment("read")),
  [`${T}GetExperimentByName`]: needs(experimentNamed("read", (r) => r.experimentName)),
  [`${T}UpdateExperiment`]: needs(experiment("update")),
  [`${T}DeleteExperiment`]: needs(experiment("delete")),
  [`${T}RestoreExperiment`]: needs(experiment("delete")),
  [`${T}SetExperimentTag`]: needs(experiment("update")),
  [`${T}DeleteExperimentTag`]: needs(experiment("update")),
  [`${T}CreateRun`]: needs(experiment("update")),
  [`${T}CreatePromptlabRun`]: needs(experiment("update")),
  [`${T}GetRun`]: needs(run("read")),
  [`${T}UpdateRun`]: needs(run("update")),
  [`${T}DeleteRun`]: needs(run("delete")),
  [`${T}RestoreRun`]: needs(run("delete")),
  [`${T}LogMetric`]: needs(run("update"), linkedModels((r) => [r.modelId])),
  [`${T}LogParam`]: needs(run("update")),
  [`${T}SetTag`]: needs(run("update")),
  [`${T}DeleteTag`]: needs(run("update")),
  [`${T}LogBatch`]: needs(run("update"), linkedModels((r) => r.metrics.map((m: { modelId?: string }) => m.modelId))),
  [`${T}LogInputs`]: needs(run("update"), linkedModels((r) => r.models.map((m: { modelId: string }) => m.modelId))),
  [`${T}LogModel`]: needs(run("update")),
  [`${T}LogOutputs`]: needs(run("update"), linkedModels((r) => r.models.map((m: { modelId: string }) => m.modelId))),
  [`${T}GetMetricHistory`]: needs(run("read")),
  [`${T}WatchRun`]: needs(run("read")),
  [`${T}CreateLoggedModel`]: needs(experiment("update")),
  [`${T}GetLoggedModel`]: needs(loggedModel("read")),
  [`${T}FinalizeLoggedModel`]: needs(loggedModel("update")),
  [`${T}DeleteLoggedModel`]: needs(loggedModel("delete")),
  [`${T}SetLoggedModelTags`]: needs(loggedModel("update")),
  [`${T}DeleteLoggedModelTag`]: needs(loggedModel("update")),
  [`${T}LogLoggedModelParams`]: needs(loggedModel("update")),
  [`${T}GetServerStatus`]: signedIn("counts only what the caller may read"),

  [`${R}CreateRegisteredModel`]: { kind: "signedIn", creates: "registered_model" },
  [`${R}GetRegisteredModel`]: needs(model("read")),
  [`${R}RenameRegisteredModel`]: needs(model("update")),
  [`${R}UpdateRegisteredModel`]: needs(model("update")),
  [`${R}DeleteRegisteredModel`]: needs(model("delete")),
  [`${R}SetRegisteredModelTag`]: needs(model("update")),
  [`${R}DeleteRegisteredModelTag`]: needs(model("update")),
  [`${R}GetLatestVersions`]: needs(model("read")),
  [`${R}CreateModelVersion`]: needs(model("update"), versionSources),
  [`${R}GetModelVersion`]: needs(model("read")),
  [`${R}UpdateModelVersion`]: needs(model("update")),
  [`${R}DeleteModelVersion`]: needs(model("delete")),
  [`${R}SetModelVersionTag`]: needs(model("update")),
  [`${R}DeleteModelVersionTag`]: needs(model("delete")),
  [`${R}TransitionModelVersionStage`]: needs(model("update")),
  [`${R}GetModelVersionDownloadUri`]: needs(model("read")),
  [`${R}SetRegisteredModelAlias`]: needs(model("update")),
  [`${R}DeleteRegisteredModelAlias`]: needs(model("delete")),
  [`${R}GetModelVersionByAlias`]: needs(model("read")),
  [`${R}GetModelDetails`]: needs(model("read", (r) => r.modelName)),
  [`${R}PromoteModelVersion`]: needs(model("update")),

  [`${S}SearchRuns`]: signedIn(READABLE_RUNS),
  [`${S}StreamSearchRuns`]: signedIn(READABLE_RUNS),
  [`${S}SearchExperimentRuns`]: needs(experimentNamed("read", (r) => r.experimentName)),
  [`${S}QueryRuns`]: signedIn(READABLE_RUNS),
  [`${S}Leaderboard`]: signedIn(`${READABLE_RUNS}, with the versions of readable registered models`),
  [`${S}WatchLeaderboard`]: signedIn(`${READABLE_RUNS}, with the versions of readable registered models (as of the subscription)`),
  [`${S}CompareRuns`]: needs(run("read", (r) => r.runIds, "each run's experiment")),
  [`${S}SearchExperiments`]: signedIn("answers only experiments the caller may read"),
  [`${S}SearchRegisteredModels`]: signedIn("answers only registered models the caller may read"),
  [`${S}SearchModelVersions`]: signedIn("answers only versions of registered models the caller may read"),
  [`${S}SearchLoggedModels`]: signedIn("answers only logged models of experiments the caller may read"),
  [`${S}GetMetricHistoryBulkInterval`]: needs(run("read", (r) => r.runIds, "each run's experiment")),
  [`${S}GetMetricHistoryBulk`]: needs(run("read", (r) => r.runId, "each run's experiment")),
  [`${S}SearchDatasets`]: needs(experiment("read", (r) => r.experimentIds, "each experiment")),
  // MLflow's GenAI searches (always empty answers here), checked as MLflow checks them: READ on the experiments named.
  [`${S}SearchTraces`]: needs(
    experiment(
      "read",
      (r) => r.locations.flatMap((l: { mlflowExperiment?: { experimentId: string } }) => (l.mlflowExperiment ? [l.mlflowExperiment.experimentId] : [])),
      "each experiment",
    ),
  ),
  [`${S}QueryTraceMetrics`]: needs(experiment("read", (r) => r.experimentIds, "each experiment")),
  [`${S}SearchEvaluationDatasets`]: needs(experiment("read", (r) => r.experimentIds, "each experiment")),

  [`${A}UploadArtifact`]: needs({ ...artifact("update"), targets: (r) => artifactTargets(r.header ?? {}) }),
  [`${A}DownloadArtifact`]: needs(artifact("read")),
  [`${A}ListArtifacts`]: needs(artifact("read")),
  [`${A}DeleteArtifact`]: needs(artifact("manage")),
  [`${A}ListLoggedModelArtifacts`]: needs(loggedModel("read")),
  [`${A}DownloadLoggedModelArtifact`]: needs(loggedModel("read")),
  [`${A}DownloadModelVersionArtifact`]: needs(model("read")),

  [`${U}CreateUser`]: { kind: "admin" },
  [`${U}GetUser`]: { kind: "self", username: (r) => r.username },
  [`${U}UpdateUserPassword`]: { kind: "self", username: (r) => r.username },
  [`${U}UpdateUserAdmin`]: { kind: "admin" },
  [`${U}DeleteUser`]: { kind: "admin" },
  [`${U}ListUsers`]: signedIn(),
  [`${U}GetCurrentUser`]: signedIn(),
  [`${U}GrantUserPermission`]: needs(grantTarget("manage")),
  [`${U}RevokeUserPermission`]: needs(grantTarget("manage")),
  [`${U}GetUserPermission`]: { kind: "self", username: (r) => r.username },
  [`${U}ListUserPermissions`]: { kind: "self", username: (r) => r.username },
  [`${U}ListCurrentUserPermissions`]: signedIn(),
  [`${U}CreateAccessToken`]: signedIn("for the caller"),
  [`${U}ListAccessTokens`]: { kind: "self", username: (r) => r.username },
  [`${U}RevokeAccessToken`]: signedIn("the caller's own tokens (an admin: anyone's)"),
};

/**
 * Granting and revoking need MANAGE on the resource; a grant on "*" (every resource of the type) is an admin's
 * (MLflow: admins and workspace admins). A bad resource type or id is refused first, with MLflow's message.
 */
function grantTarget(action: Action): Need {
  return {
    action,
    label: "the resource (\"*\": admins only)",
    targets(r: { resourceType: string; resourceId: string }): Target[] {
      const type = validateResourceType(r.resourceType);
      const id = validateResourceId(r.resourceId);
      if (id === ALL_RESOURCES) return [{ kind: "adminOnly" }];
      return [type === "registered_model" ? { kind: "registeredModel", name: id } : { kind: "experiment", id }];
    },
  };
}

/** The table's text for one rule (the README's "needs" column). */
export function describeRule(rule: Rule): string {
  switch (rule.kind) {
    case "signedIn":
      return rule.creates ? `signed in (no DENY on every ${rule.creates.replace("_", " ")}); the creator gets MANAGE` : `signed in${rule.note ? `; ${rule.note}` : ""}`;
    case "admin":
      return "admin";
    case "self":
      return "the user named, or an admin";
    case "needs":
      return rule.needs.map((n) => `${LEVEL[n.action]} on ${n.label}`).join(", and ");
  }
}
