/**
 * The case tables of the experiment, registered-model, model-version and logged-model searches in the store
 * conformance suite (search-contract.test.ts): each a fixture written through the store and, per case, a filter /
 * order (/ view type, datasets, experiments) with the expected items in the expected order. The expectations are
 * written by hand from MLflow's rules (and were the answers of the in-memory implementation the stores replaced).
 */
import type { Metric, Tag } from "../domain/entities.js";
import type { LoggedModelOrderByInput } from "../domain/filter/logged-model-search.js";
import type { ViewType } from "./types.js";

export const T0 = 1_700_000_000_000;

const tags = (record: Record<string, string>): Tag[] => Object.entries(record).map(([key, value]) => ({ key, value }));

/** Created in this order, so their ids are 1, 2, …; `Exp-d` is deleted. */
export const EXPERIMENT_FIXTURE: { name: string; created: number; tags: Tag[]; deleted?: boolean }[] = [
  { name: "exp-a", created: T0 + 1, tags: tags({ team: "Alpha", "t.dot": "v" }) },
  { name: "exp-b", created: T0 + 2, tags: tags({ team: "alpha_1" }) },
  { name: "exp-c", created: T0 + 2, tags: [] },
  { name: "Exp-d", created: T0 + 3, tags: tags({ team: "beta" }), deleted: true },
  { name: "exp-e", created: T0 + 1, tags: tags({ team: "ALPHA" }) },
  { name: "exp_f", created: T0 + 4, tags: [] },
];

export interface ExperimentCase {
  filter?: string;
  orderBy?: string[];
  viewType?: ViewType;
  /** Experiment names. */
  expected: string[];
}

const EXP = "name LIKE 'exp%'";
export const EXPERIMENT_CASES: ExperimentCase[] = [
  { filter: EXP, expected: ["exp_f", "exp-c", "exp-b", "exp-e", "exp-a"] },
  { filter: "name LIKE 'exp-_'", expected: ["exp-c", "exp-b", "exp-e", "exp-a"] },
  { filter: "name ILIKE 'EXP%'", viewType: "ALL", expected: ["exp_f", "Exp-d", "exp-c", "exp-b", "exp-e", "exp-a"] },
  { filter: "name ILIKE 'EXP%'", viewType: "DELETED_ONLY", expected: ["Exp-d"] },
  { filter: "name = 'exp-b'", expected: ["exp-b"] },
  { filter: `${EXP} and name != 'exp-b'`, expected: ["exp_f", "exp-c", "exp-e", "exp-a"] },
  { filter: "tags.team = 'Alpha'", expected: ["exp-a"] },
  { filter: "tags.team ILIKE 'alpha%'", expected: ["exp-b", "exp-e", "exp-a"] },
  { filter: "tags.team LIKE 'alpha%'", expected: ["exp-b"] },
  { filter: "tags.team != 'Alpha'", expected: ["exp-b", "exp-e"] },
  { filter: `tags.team IS NULL and ${EXP}`, expected: ["exp_f", "exp-c"] },
  { filter: "tags.team IS NOT NULL", expected: ["exp-b", "exp-e", "exp-a"] },
  { filter: "tags.`t.dot` = 'v'", expected: ["exp-a"] },
  { filter: `creation_time >= ${T0 + 2} and ${EXP}`, expected: ["exp_f", "exp-c", "exp-b"] },
  { filter: `last_update_time < ${T0 + 2} and ${EXP}`, expected: ["exp-e", "exp-a"] },
  { filter: "name = 'x'' OR 1=1 --'", expected: [] },
  { filter: "tags.team = '{\"$ne\": null}'", expected: [] },
  { filter: EXP, orderBy: ["name ASC"], expected: ["exp-a", "exp-b", "exp-c", "exp-e", "exp_f"] },
  { filter: "name ILIKE 'exp%'", orderBy: ["name DESC"], viewType: "ALL", expected: ["exp_f", "exp-e", "exp-c", "exp-b", "exp-a", "Exp-d"] },
  { filter: EXP, orderBy: ["experiment_id ASC"], expected: ["exp-a", "exp-b", "exp-c", "exp-e", "exp_f"] },
  { filter: EXP, orderBy: ["creation_time ASC"], expected: ["exp-e", "exp-a", "exp-c", "exp-b", "exp_f"] },
  { filter: EXP, orderBy: ["last_update_time DESC", "name ASC"], expected: ["exp_f", "exp-b", "exp-c", "exp-a", "exp-e"] },
];

/** Registered models: `now` is their last update; RM1 gets one version (at its own time). */
export const REGISTERED_MODEL_FIXTURE: { name: string; now: number; tags: Tag[] }[] = [
  { name: "RM1", now: T0 + 1, tags: tags({ t1: "abc", t2: "xyz" }) },
  { name: "RM2", now: T0 + 1, tags: tags({ t1: "abcd", t2: "xyz123", t3: "XYZ" }) },
  { name: "RM3", now: T0 + 2, tags: [] },
  { name: "RM4A", now: T0 + 2, tags: [] },
  { name: "rm4ab", now: T0 + 3, tags: [] },
  { name: "a-prompt", now: T0, tags: tags({ "mlflow.prompt.is_prompt": "true" }) },
  { name: "not-prompt", now: T0 + 5, tags: tags({ "mlflow.prompt.is_prompt": "false" }) },
  // Regular-expression characters are literals to LIKE; ILIKE folds ASCII letters only (as SQLite's LIKE does).
  { name: "re.g+x(1)", now: T0, tags: [] },
  { name: "Ärger", now: T0, tags: [] },
];

export interface RegistryCase {
  filter?: string;
  orderBy?: string[];
  /** Names, or name/version for model versions. */
  expected: string[];
}

/** MV and MW (the model-version fixture's models, last updated at T0 + 13 and T0 + 16) are registered models too. */
const ALL_MODELS = ["MV", "MW", "RM1", "RM2", "RM3", "RM4A", "not-prompt", "re.g+x(1)", "rm4ab", "Ärger"];
export const REGISTERED_MODEL_CASES: RegistryCase[] = [
  { expected: ALL_MODELS },
  { filter: "name LIKE 'RM%'", expected: ["RM1", "RM2", "RM3", "RM4A"] },
  { filter: "name LIKE 'RM_'", expected: ["RM1", "RM2", "RM3"] },
  { filter: "name ILIKE 'rm4%'", expected: ["RM4A", "rm4ab"] },
  { filter: "name lIkE 'rm%'", expected: ["rm4ab"] },
  { filter: "name != 'RM1'", expected: ["MV", "MW", "RM2", "RM3", "RM4A", "not-prompt", "re.g+x(1)", "rm4ab", "Ärger"] },
  { filter: "name LIKE 're.g+x(%'", expected: ["re.g+x(1)"] },
  { filter: "name LIKE 're_g%'", expected: ["re.g+x(1)"] },
  { filter: "name LIKE 're.g+x(1'", expected: [] },
  { filter: "name LIKE '%)'", expected: ["re.g+x(1)"] },
  { filter: "name ILIKE 'ärger'", expected: [] },
  { filter: "name ILIKE 'ÄRGER'", expected: ["Ärger"] },
  { filter: "tags.t3 = 'XYZ'", expected: ["RM2"] },
  { filter: "tag.t3 = 'XYz'", expected: [] },
  { filter: "tags.T3 = 'XYZ'", expected: [] },
  { filter: "tag.t1 LIKE 'ab%'", expected: ["RM1", "RM2"] },
  { filter: "tag.t1 ILIKE 'aB%'", expected: ["RM1", "RM2"] },
  { filter: "tag.t1 != 'abc'", expected: ["RM2"] },
  { filter: "tags.missing != 'x'", expected: [] },
  { filter: "tag.t1 != 'abcd' and tag.t1 LIKE 'ab%'", expected: ["RM1"] },
  { filter: "tags.`mlflow.prompt.is_prompt` = 'true'", expected: ["a-prompt"] },
  { filter: "tags.`mlflow.prompt.is_prompt` != 'false'", expected: ["a-prompt"] },
  { filter: "tags.`mlflow.prompt.is_prompt` = 'false'", expected: ALL_MODELS },
  { filter: "name = 'x'' OR ''1''=''1'", expected: [] },
  { orderBy: ["last_updated_timestamp DESC"], expected: ["MW", "MV", "not-prompt", "rm4ab", "RM3", "RM4A", "RM1", "RM2", "re.g+x(1)", "Ärger"] },
  { orderBy: ["timestamp ASC", "name DESC"], expected: ["Ärger", "re.g+x(1)", "RM2", "RM1", "RM4A", "RM3", "rm4ab", "not-prompt", "MV", "MW"] },
  { orderBy: ["name DESC"], filter: "name LIKE 'RM%'", expected: ["RM4A", "RM3", "RM2", "RM1"] },
];

/**
 * Versions of MV and MW, created in this order (so numbered 1, 2, … per model); MW/3 is deleted afterwards. RM1 of the
 * registered-model fixture has one version too: RM1/1, without a run, at T0 + 1.
 */
export const MODEL_VERSION_FIXTURE: { name: string; runId: string; source: string; now: number; tags: Tag[] }[] = [
  { name: "MV", runId: "run1", source: "A/B", now: T0 + 10, tags: tags({ t1: "abc", t2: "xyz" }) },
  { name: "MV", runId: "run2", source: "A/C", now: T0 + 11, tags: tags({ t1: "abc", t2: "x123" }) },
  { name: "MV", runId: "run2", source: "A/D", now: T0 + 12, tags: [] },
  { name: "MV", runId: "", source: "A/D", now: T0 + 13, tags: [] },
  { name: "MW", runId: "run1", source: "B/A", now: T0 + 12, tags: [] },
  { name: "MW", runId: "", source: "B/B", now: T0 + 14, tags: tags({ "mlflow.prompt.is_prompt": "true" }) },
  { name: "MW", runId: "run1", source: "B/C", now: T0 + 15, tags: [] },
];

export const MODEL_VERSION_CASES: RegistryCase[] = [
  { expected: ["MV/4", "MV/3", "MW/1", "MV/2", "MV/1", "RM1/1"] },
  { filter: "name='MV'", expected: ["MV/4", "MV/3", "MV/2", "MV/1"] },
  { filter: "version_number=2", expected: ["MV/2"] },
  { filter: "version_number <= 3 and name = 'MV'", expected: ["MV/3", "MV/2", "MV/1"] },
  { filter: "version_number > '3'", expected: ["MV/4"] },
  { filter: "run_id='run2'", expected: ["MV/3", "MV/2"] },
  { filter: "run_id IN ('run1','run2')", expected: ["MV/3", "MW/1", "MV/2", "MV/1"] },
  { filter: "run_id IN ('RUN1','run2')", expected: ["MV/3", "MV/2"] },
  { filter: "run_id NOT IN ('run1')", expected: ["MV/3", "MV/2"] },
  { filter: "name IN ('MV', 'other')", expected: ["MV/4", "MV/3", "MV/2", "MV/1"] },
  { filter: "name NOT IN ('MV')", expected: ["MW/1", "RM1/1"] },
  { filter: "name LIKE 'M_'", expected: ["MV/4", "MV/3", "MW/1", "MV/2", "MV/1"] },
  { filter: "run_id ILIKE 'RUN%'", expected: ["MV/3", "MW/1", "MV/2", "MV/1"] },
  { filter: "run_id != 'run1'", expected: ["MV/3", "MV/2"] },
  { filter: "source_path = 'A/D'", expected: ["MV/4", "MV/3"] },
  { filter: "source_path = 'A'", expected: [] },
  { filter: "tag.t2 LIKE 'xY%'", expected: [] },
  { filter: "tag.t2 ILIKE 'xY%'", expected: ["MV/1"] },
  { filter: "tag.t2 like 'x%' and tag.t2 != 'xyz'", expected: ["MV/2"] },
  { filter: "tags.`mlflow.prompt.is_prompt` = 'true'", expected: ["MW/2"] },
  { filter: "name = 'MV' and name = 'MW'", expected: [] },
  { orderBy: ["name DESC"], expected: ["RM1/1", "MW/1", "MV/4", "MV/3", "MV/2", "MV/1"] },
  { orderBy: ["version_number ASC"], expected: ["MV/1", "MW/1", "RM1/1", "MV/2", "MV/3", "MV/4"] },
  { orderBy: ["creation_timestamp ASC"], expected: ["RM1/1", "MV/1", "MV/2", "MV/3", "MW/1", "MV/4"] },
  { orderBy: ["name ASC", "version_number ASC"], filter: "name LIKE 'M%'", expected: ["MV/1", "MV/2", "MV/3", "MV/4", "MW/1"] },
];

/** Logged models: "m1"… stand for model ids m-…01 … (ids sort as their numbers). */
export interface LoggedModelFixture {
  id: string;
  name: string;
  /** Creation time offset from T0. */
  created: number;
  /** In the second experiment. */
  other?: boolean;
  modelType?: string;
  sourceRunId?: string;
  status?: "READY" | "UPLOAD_FAILED";
  deleted?: boolean;
  params?: Tag[];
  tags?: Tag[];
  /** Linked points, logged by run r1 unless `run` says r2. */
  points?: (Omit<Metric, "modelId"> & { run?: "r2" })[];
}

const point = (key: string, value: number, timestamp: number, step = 0, dataset?: [string, string]) => ({
  key,
  value,
  timestamp,
  step,
  ...(dataset ? { datasetName: dataset[0], datasetDigest: dataset[1] } : {}),
});

export const LOGGED_MODEL_FIXTURE: LoggedModelFixture[] = [
  {
    id: "m1",
    name: "alpha",
    created: 10,
    modelType: "sklearn",
    sourceRunId: "run1",
    status: "READY",
    tags: tags({ a: "b" }),
    params: tags({ lr: "0.01" }),
    points: [point("acc", 0.9, 1, 0, ["train", "t1"]), point("acc", 0.5, 1, 0, ["test", "d1"])],
  },
  { id: "m2", name: "beta", created: 20, points: [point("acc", Number.NaN, 1)] },
  { id: "m3", name: "gamma", created: 30, modelType: "torch", params: tags({ lr: "0.1" }) },
  { id: "m4", name: "delta", created: 30, modelType: "t", points: [point("acc", 0.3, 1, 0, ["d", "x"])] },
  { id: "m5", name: "eps", created: 5, status: "UPLOAD_FAILED", points: [point("acc", 0.5, 3), point("acc", 0.1, 4)] },
  { id: "m6", name: "zeta", created: 50, deleted: true, points: [point("acc", 5, 1)] },
  { id: "m7", name: "other", created: 40, other: true },
  {
    id: "m8",
    name: "tied",
    created: 15,
    points: [{ ...point("acc", 0.2, 5, 1), run: "r2" }, point("acc", 0.9, 5, 1), point("loss", Number.NEGATIVE_INFINITY, 1)],
  },
];

export interface LoggedModelCase {
  filter?: string;
  orderBy?: LoggedModelOrderByInput[];
  datasets?: { datasetName: string; datasetDigest?: string }[];
  /** Search the second experiment too. */
  both?: boolean;
  expected: string[];
}

export const LOGGED_MODEL_CASES: LoggedModelCase[] = [
  { expected: ["m3", "m4", "m2", "m8", "m1", "m5"] },
  { both: true, expected: ["m7", "m3", "m4", "m2", "m8", "m1", "m5"] },
  { filter: "name = 'beta'", expected: ["m2"] },
  { filter: "name ILIKE 'A%'", expected: ["m1"] },
  { filter: "name IN ('eps', 'zeta', 'other')", expected: ["m5"] },
  { filter: "model_type != 'sklearn'", expected: ["m3", "m4"] },
  { filter: "model_type NOT IN ('torch')", expected: ["m4", "m1"] },
  { filter: "status = 'READY'", expected: ["m1"] },
  { filter: "status ILIKE 'pending'", expected: ["m3", "m4", "m2", "m8"] },
  { filter: `creation_timestamp > ${T0 + 10} and creation_time <= ${T0 + 30}`, expected: ["m3", "m4", "m2", "m8"] },
  { filter: "params.lr = '0.1'", expected: ["m3"] },
  { filter: "params.lr LIKE '0.%'", expected: ["m3", "m1"] },
  { filter: "params.lr NOT IN ('0.1')", expected: ["m1"] },
  { filter: "tags.a = 'b'", expected: ["m1"] },
  { filter: "source_run_id = 'run1'", expected: ["m1"] },
  { filter: "source_run_id != 'x'", expected: ["m1"] },
  { filter: "metrics.acc > 0.8", expected: ["m8", "m1"] },
  { filter: "metrics.acc < 0.8", expected: ["m4", "m8", "m1", "m5"] },
  { filter: "metrics.acc != 0.9", expected: ["m4", "m2", "m8", "m1", "m5"] },
  { filter: "metrics.acc = 0.5", expected: ["m1", "m5"] },
  { filter: "metrics.acc >= 0.5 and metrics.acc <= 0.5", expected: ["m8", "m1", "m5"] },
  { filter: "metrics.loss < 0", expected: ["m8"] },
  { filter: "metrics.acc > 0.8", datasets: [{ datasetName: "test" }], expected: [] },
  { filter: "metrics.acc < 0.8", datasets: [{ datasetName: "test", datasetDigest: "d1" }], expected: ["m1"] },
  { filter: "metrics.acc < 0.8", datasets: [{ datasetName: "test", datasetDigest: "other" }], expected: [] },
  { filter: "metrics.acc >= 0.3", datasets: [{ datasetName: "train" }, { datasetName: "d" }], expected: ["m4", "m1"] },
  { datasets: [{ datasetName: "train" }], expected: ["m1"] },
  { filter: "name != 'x'", datasets: [{ datasetName: "nope" }], expected: [] },
  { filter: "name = 'x'' OR 1=1 --'", expected: [] },
  { orderBy: [{ fieldName: "name" }], expected: ["m1", "m2", "m4", "m5", "m3", "m8"] },
  { orderBy: [{ fieldName: "metrics.acc" }], expected: ["m5", "m4", "m1", "m8", "m3", "m2"] },
  { orderBy: [{ fieldName: "metrics.acc", ascending: false }], expected: ["m8", "m1", "m4", "m5", "m3", "m2"] },
  { orderBy: [{ fieldName: "metrics.acc", datasetName: "d" }], expected: ["m4", "m3", "m2", "m8", "m1", "m5"] },
  { orderBy: [{ fieldName: "metrics.acc", ascending: false, datasetName: "train" }], expected: ["m1", "m3", "m4", "m2", "m8", "m5"] },
  { orderBy: [{ fieldName: "metrics.acc", datasetName: "test", datasetDigest: "nope" }], expected: ["m3", "m4", "m2", "m8", "m1", "m5"] },
  { orderBy: [{ fieldName: "metrics.loss", ascending: true }, { fieldName: "name", ascending: false }], expected: ["m8", "m3", "m5", "m4", "m2", "m1"] },
  { orderBy: [{ fieldName: "model_type", ascending: false }], expected: ["m3", "m4", "m1", "m2", "m8", "m5"] },
  { orderBy: [{ fieldName: "model_type" }], expected: ["m1", "m4", "m3", "m2", "m8", "m5"] },
  { orderBy: [{ fieldName: "status", ascending: false }], expected: ["m5", "m1", "m3", "m4", "m2", "m8"] },
  { orderBy: [{ fieldName: "creation_time" }], expected: ["m5", "m1", "m8", "m2", "m3", "m4"] },
  { orderBy: [{ fieldName: "source_run_id" }], expected: ["m1", "m3", "m4", "m2", "m8", "m5"] },
  { filter: "metrics.acc < 1", orderBy: [{ fieldName: "metrics.acc", ascending: false }], expected: ["m8", "m1", "m4", "m5"] },
];
