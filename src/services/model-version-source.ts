/**
 * Where a new model version comes from, checked as MLflow 3's server checks it before registering: the source must
 * belong to the run (`run_id`) or logged model (`model_id`) the request names, a local path must lie inside that
 * one's artifact directory, no relative path references anywhere; a `models:/<name>/<version>` source inherits the
 * referenced version's lineage. Answers the values to store.
 */
import { AppError, ErrorCode, invalidParameter, notFound } from "../domain/errors.js";
import type { LoggedModel } from "../domain/logged-model.js";
import type { ModelVersion } from "../domain/model-registry.js";
import * as src from "../domain/model-version-source.js";
import { parseModelVersion, parseStage } from "../domain/registry-validation.js";
import type { Store } from "../store/types.js";

export interface SourceRequest {
  source: string;
  /** undefined when the request did not carry the field (MLflow tells "absent" from ""). */
  runId?: string | undefined;
  modelId?: string | undefined;
}

export interface ResolvedSource {
  source: string;
  runId: string;
  modelId?: string;
  /** Where the files are when that is not `source`. */
  storageLocation?: string;
}

const isNotFound = (err: unknown) => err instanceof AppError && err.code === ErrorCode.RESOURCE_DOES_NOT_EXIST;

/** The version an alias names; `latest` (any case) is the highest version, as MLflow resolves it. */
export async function versionByAlias(store: Store, name: string, alias: string): Promise<ModelVersion> {
  if (alias.toLowerCase() !== "latest") return store.getModelVersionByAlias(name, alias);
  const newest = highest(await store.getLatestVersions(name, []));
  if (!newest) throw notFound(`Latest version not found for model ${name}.`);
  return newest;
}

const highest = (versions: ModelVersion[]) => versions.reduce<ModelVersion | undefined>((a, b) => (a && a.version > b.version ? a : b), undefined);

export async function resolveModelVersionSource(store: Store, req: SourceRequest): Promise<ResolvedSource> {
  let { source } = req;
  let runId = req.runId ?? "";
  let modelId = req.modelId ?? "";
  let storageLocation: string | undefined;

  const parsed = src.parseUri(source);
  if (parsed.scheme === "models") {
    if (parsed.netloc) {
      throw invalidParameter(`Invalid model version source: '${source}'. Registered model sources must use the active model registry.`);
    }
    const uri = src.parseModelsUri(source);
    if (!uri) throw src.sourceNotOfResource(source, "model_id");
    if (!("modelId" in uri)) {
      const referenced = await referencedVersion(store, uri);
      const runMismatch = req.runId !== undefined && req.runId !== referenced.runId;
      const modelMismatch = req.modelId !== undefined && req.modelId !== (referenced.modelId ?? "");
      if (runMismatch || modelMismatch) {
        throw invalidParameter(
          `Invalid model version source: '${source}'. The run_id and model_id request parameters must match the referenced model version.`,
        );
      }
      source = `models:/${referenced.name}/${referenced.version}`;
      if (req.runId === undefined) runId = referenced.runId;
      if (req.modelId === undefined) modelId = referenced.modelId ?? "";
      storageLocation = referenced.storageLocation ?? referenced.source;
    }
  }

  let model: LoggedModel | undefined;
  if (modelId) {
    model = await store.getLoggedModel(modelId);
    checkModelSource(source, model);
    const uri = src.parseModelsUri(source);
    if (uri && "modelId" in uri) storageLocation = model.artifactUri;
    if (!runId) runId = model.sourceRunId ?? "";
  } else {
    await checkRunSource(store, source, runId);
  }
  return { source, runId, ...(modelId ? { modelId } : {}), ...(storageLocation ? { storageLocation } : {}) };
}

async function referencedVersion(store: Store, uri: { name: string; version?: string; stage?: string; alias?: string }): Promise<ModelVersion> {
  await store.getRegisteredModel(uri.name);
  if (uri.version !== undefined) return store.getModelVersion(uri.name, parseModelVersion(uri.version));
  if (uri.alias !== undefined) return versionByAlias(store, uri.name, uri.alias);
  const stage = uri.stage === undefined ? undefined : parseStage(uri.stage);
  const newest = highest(await store.getLatestVersions(uri.name, stage ? [stage] : []));
  if (!newest) throw notFound(`No versions of model with name '${uri.name}' and stage '${uri.stage ?? "None"}' found`);
  return newest;
}

/** `_validate_source_run`: the source belongs to the run named by run_id (or to no run at all). */
async function checkRunSource(store: Store, source: string, runId: string): Promise<void> {
  const runArtifactUri = async () => {
    try {
      return (await store.getRun(runId)).info.artifactUri;
    } catch (err) {
      throw isNotFound(err) ? src.sourceNotOfResource(source, "run_id") : err;
    }
  };
  if (src.isLocalUri(source)) {
    if (!runId) throw src.localSourceOutside(source, "run_id");
    const root = await runArtifactUri();
    const path = src.localPathOf(source);
    if (src.isLocalUri(root) && src.isPathWithin(path, src.localPathOf(root))) return;
    throw src.localSourceOutside(path, "run_id");
  }
  src.assertNoRelativeReferences(source);
  const { scheme, netloc } = src.parseUri(source);
  if (scheme === "runs") {
    if (!netloc && runId && src.runIdOfRunsUri(source) === runId) return;
    throw src.sourceNotOfResource(source, "run_id");
  }
  if (scheme === "models") {
    const uri = src.parseModelsUri(source);
    if (netloc || !uri || "modelId" in uri) throw src.sourceNotOfResource(source, "model_id");
  }
  if (src.isProxiedArtifactSource(source)) {
    if (runId && src.isUriWithinRoot(source, await runArtifactUri())) return;
    throw src.sourceNotOfResource(source, "run_id");
  }
}

/** `_validate_source_model`: the source belongs to the logged model named by model_id. */
function checkModelSource(source: string, model: LoggedModel): void {
  if (src.isLocalUri(source)) {
    const path = src.localPathOf(source);
    if (src.isLocalUri(model.artifactUri) && src.isPathWithin(path, src.localPathOf(model.artifactUri))) return;
    throw src.localSourceOutside(path, "model_id");
  }
  src.assertNoRelativeReferences(source);
  const { scheme, netloc } = src.parseUri(source);
  if (scheme === "models") {
    const uri = src.parseModelsUri(source);
    if (netloc || !uri) throw src.sourceNotOfResource(source, "model_id");
    if ("modelId" in uri) {
      if (uri.modelId === model.modelId) return;
      throw src.sourceNotOfResource(source, "model_id");
    }
  }
  if (scheme === "runs") throw src.sourceNotOfResource(source, "model_id");
  if (src.isProxiedArtifactSource(source) && !src.isUriWithinRoot(source, model.artifactUri)) {
    throw src.sourceNotOfResource(source, "model_id");
  }
}
