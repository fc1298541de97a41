/**
 * The model registry's entities: registered models, their numbered versions, stages and aliases. Version numbers are
 * per model, start at 1, and are never reused (a deleted version keeps its number).
 */
import type { Tag } from "./entities.js";

/** MLflow's stages, in their canonical spelling. */
export const STAGES = ["None", "Staging", "Production", "Archived"] as const;
export type Stage = (typeof STAGES)[number];

export const MODEL_VERSION_STATUSES = ["PENDING_REGISTRATION", "FAILED_REGISTRATION", "READY"] as const;
export type ModelVersionStatus = (typeof MODEL_VERSION_STATUSES)[number];

export interface ModelVersion {
  name: string;
  version: number;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
  userId: string;
  currentStage: Stage;
  description: string;
  source: string;
  /** Empty when the version has no source run. */
  runId: string;
  runLink: string;
  status: ModelVersionStatus;
  statusMessage?: string;
  tags: Tag[];
  /** The aliases pointing at this version, sorted. */
  aliases: string[];
  /** The logged model this version was made from (MLflow 3). */
  modelId?: string;
  /**
   * Where the files are, when that is not `source`: the logged model's artifact URI for a `models:/m-…` source.
   * Not on the wire; GetModelVersionDownloadUri answers it (else `source`).
   */
  storageLocation?: string;
}

export interface RegisteredModelAlias {
  alias: string;
  version: number;
}

export interface RegisteredModel {
  name: string;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
  userId: string;
  description: string;
  /** The highest-numbered version in each stage that has one, ordered by stage (None, Staging, Production, Archived). */
  latestVersions: ModelVersion[];
  tags: Tag[];
  /** Sorted by alias. */
  aliases: RegisteredModelAlias[];
}

/** The canonical spelling of a stage given in any case, or undefined when it is not one. */
export function canonicalStage(stage: string): Stage | undefined {
  const lower = stage.toLowerCase();
  return STAGES.find((s) => s.toLowerCase() === lower);
}
