/**
 * Conversions between the registry's domain entities and its generated messages. Version numbers travel as
 * strings, timestamps as int64; fields MLflow leaves out when empty are left out here too.
 */
import type { Tag } from "../domain/entities.js";
import type { ModelVersion, ModelVersionStatus, RegisteredModel } from "../domain/model-registry.js";
import * as pb from "../../gen/ts/logbook/v1/model_registry.js";

const STATUS_TO_PROTO: Record<ModelVersionStatus, pb.ModelVersionStatus> = {
  PENDING_REGISTRATION: pb.ModelVersionStatus.MODEL_VERSION_STATUS_PENDING_REGISTRATION,
  FAILED_REGISTRATION: pb.ModelVersionStatus.MODEL_VERSION_STATUS_FAILED_REGISTRATION,
  READY: pb.ModelVersionStatus.MODEL_VERSION_STATUS_READY,
};

export const modelVersionStatusToProto = (s: ModelVersionStatus): pb.ModelVersionStatus => STATUS_TO_PROTO[s];

const tagToProto = (t: Tag) => ({ key: t.key, value: t.value });

/** Registry tags: an absent value is an empty one (MLflow reads the unset proto2 field as ""). */
export const registryTagFromProto = (t: { key: string; value?: string | undefined }): Tag => ({ key: t.key, value: t.value ?? "" });

/** MLflow writes description, run_id and run_link as stored (so "" too); user_id only when known. */
export function modelVersionToProto(v: ModelVersion): pb.ModelVersion {
  return {
    name: v.name,
    version: String(v.version),
    creationTimestamp: BigInt(v.creationTimestamp),
    lastUpdatedTimestamp: BigInt(v.lastUpdatedTimestamp),
    userId: v.userId || undefined,
    currentStage: v.currentStage,
    description: v.description,
    source: v.source,
    runId: v.runId,
    status: modelVersionStatusToProto(v.status),
    statusMessage: v.statusMessage || undefined,
    tags: v.tags.map(tagToProto),
    runLink: v.runLink,
    aliases: [...v.aliases],
    modelId: v.modelId || undefined,
  };
}

/** MLflow leaves an empty description and the (never known) user out of a registered model. */
export function registeredModelToProto(m: RegisteredModel): pb.RegisteredModel {
  return {
    name: m.name,
    creationTimestamp: BigInt(m.creationTimestamp),
    lastUpdatedTimestamp: BigInt(m.lastUpdatedTimestamp),
    userId: m.userId || undefined,
    description: m.description || undefined,
    latestVersions: m.latestVersions.map(modelVersionToProto),
    tags: m.tags.map(tagToProto),
    aliases: m.aliases.map((a) => ({ alias: a.alias, version: String(a.version) })),
  };
}
