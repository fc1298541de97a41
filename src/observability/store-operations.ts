/**
 * Every store operation (a method of the Store contract) with its statement kind, the only description of a store
 * call that spans carry (never ids, names or values). A method added to the Store without a row here fails to
 * compile, so every operation is timed and traced by construction.
 */
import type { Store } from "../store/types.js";

/** Every Store method but `onChange`, a subscription to this process's own commits that calls no database. */
export type StoreOperation = Exclude<keyof Store, "status" | "onChange">;

/** read: answers a query; write: changes data; admin: start-up, health and shutdown. */
export type StatementKind = "read" | "write" | "admin";

export const STORE_OPERATIONS: Readonly<Record<StoreOperation, StatementKind>> = {
  init: "admin",
  ping: "admin",
  counts: "read",
  close: "admin",

  createExperiment: "write",
  getExperiment: "read",
  getExperimentByName: "read",
  renameExperiment: "write",
  setExperimentLifecycle: "write",
  setExperimentTag: "write",
  deleteExperimentTag: "write",

  createRun: "write",
  getRun: "read",
  updateRun: "write",
  setRunLifecycle: "write",
  logBatch: "write",
  deleteRunTag: "write",
  logInputs: "write",
  logOutputs: "write",
  getMetricHistory: "read",
  getMetricHistories: "read",
  searchRuns: "read",
  streamRuns: "read",
  searchExperiments: "read",
  searchRegisteredModels: "read",
  searchModelVersions: "read",
  searchLoggedModels: "read",
  modelVersionsOfRuns: "read",
  searchDatasets: "read",

  createLoggedModel: "write",
  getLoggedModel: "read",
  finalizeLoggedModel: "write",
  deleteLoggedModel: "write",
  setLoggedModelTags: "write",
  deleteLoggedModelTag: "write",
  logLoggedModelParams: "write",

  createRegisteredModel: "write",
  getRegisteredModel: "read",
  renameRegisteredModel: "write",
  updateRegisteredModel: "write",
  deleteRegisteredModel: "write",
  setRegisteredModelTag: "write",
  deleteRegisteredModelTag: "write",
  getLatestVersions: "read",
  createModelVersion: "write",
  getModelVersion: "read",
  updateModelVersion: "write",
  deleteModelVersion: "write",
  setModelVersionTag: "write",
  deleteModelVersionTag: "write",
  transitionModelVersionStage: "write",
  listModelVersionsOf: "read",
  setRegisteredModelAlias: "write",
  deleteRegisteredModelAlias: "write",
  getModelVersionByAlias: "read",

  readChanges: "read",
  readRunChanges: "read",
  changeLogBounds: "read",
  getRunWithSequence: "read",
  pruneChanges: "write",

  createUser: "write",
  getUser: "read",
  getUserById: "read",
  listUsers: "read",
  updateUser: "write",
  deleteUser: "write",
  addGrant: "write",
  putGrant: "write",
  removeGrant: "write",
  listGrants: "read",
  removeGrantsOn: "write",
  renameGrantsOn: "write",
  createAccessToken: "write",
  getAccessToken: "read",
  listAccessTokens: "read",
  deleteAccessToken: "write",
};
