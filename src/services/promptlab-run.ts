/**
 * CreatePromptlabRun, as MLflow 3.17.2's create_promptlab_run_handler: the run is created, then its params, tags,
 * logged-model record and artifacts (promptlab-files.ts) are written; if any of that fails the run ends FAILED,
 * otherwise FINISHED — and the call answers the run either way, as MLflow does.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { Tag } from "../domain/entities.js";
import { invalidParameter } from "../domain/errors.js";
import { LOG_MODEL_HISTORY_TAG } from "../domain/limits.js";
import { pythonDumps } from "../domain/python-format.js";
import * as v from "../domain/validation.js";
import type { ArtifactRoots } from "../artifacts/roots.js";
import type { Store } from "../store/types.js";
import type { CreateRunRequest, CreateRunResponse, TrackingServiceService } from "../../gen/ts/logbook/v1/tracking_service.js";
import { joinArtifactPath } from "../artifacts/path.js";
import { servedRoot } from "./artifact-location.js";
import { promptlabFiles } from "./promptlab-files.js";
import type { CallContext, ServiceImplementation } from "./rpc.js";
import { runToProto } from "./tracking-convert.js";

const LOGGED_ARTIFACTS_TAG = "mlflow.loggedArtifacts";
const RUN_SOURCE_TYPE_TAG = "mlflow.runSourceType";

export interface PromptlabDeps {
  store: Store;
  roots: ArtifactRoots;
  clock?: () => number;
  logger: Logger;
}

type Method = Pick<ServiceImplementation<typeof TrackingServiceService>, "createPromptlabRun">;

/** `%Y-%m-%d %H:%M:%S.%f` in UTC (Python's datetime; microseconds from milliseconds). */
const utcTimeCreated = (ms: number) => `${new Date(ms).toISOString().replace("T", " ").replace("Z", "")}000`;

async function* bytesOf(text: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(text, "utf8");
}

const params = (items: { key: string; value?: string | undefined }[]): Tag[] => items.map((p) => ({ key: p.key, value: p.value ?? "" }));

export function createPromptlabRunMethod(
  deps: PromptlabDeps,
  createRun: (req: CreateRunRequest, ctx: CallContext) => Promise<CreateRunResponse>,
): Method {
  const { store, roots } = deps;
  const now = deps.clock ?? Date.now;
  return {
    async createPromptlabRun(req, ctx) {
      const required: [string, boolean][] = [
        ["experiment_id", !!req.experimentId],
        ["prompt_template", !!req.promptTemplate],
        ["prompt_parameters", req.promptParameters.length > 0],
        ["model_route", !!req.modelRoute],
        ["model_input", !!req.modelInput],
        ["mlflow_version", !!req.mlflowVersion],
      ];
      for (const [name, given] of required) if (!given) throw invalidParameter(`CreatePromptlabRun request must specify ${name}.`);
      const { run } = await createRun(
        { experimentId: req.experimentId, userId: req.userId || "unknown", runName: req.runName, startTime: req.startTime ?? BigInt(now()), tags: req.tags },
        ctx,
      );
      const runId = run!.info!.runId;
      let status: "FINISHED" | "FAILED" = "FINISHED";
      try {
        const promptParameters = params(req.promptParameters);
        const modelParameters = params(req.modelParameters);
        const batch = v.validateBatch({
          metrics: [],
          params: [...modelParameters, { key: "model_route", value: req.modelRoute }, { key: "prompt_template", value: req.promptTemplate }],
          tags: [
            { key: LOGGED_ARTIFACTS_TAG, value: pythonDumps([{ path: "eval_results_table.json", type: "table" }]) },
            { key: RUN_SOURCE_TYPE_TAG, value: "PROMPT_ENGINEERING" },
          ],
        });
        await store.logBatch(runId, batch);
        const created = utcTimeCreated(now());
        const modelUuid = randomUUID().replaceAll("-", "");
        const model = { run_id: runId, artifact_path: "model", utc_time_created: created, model_uuid: modelUuid, flavors: {} };
        await store.logBatch(runId, { metrics: [], params: [], tags: [{ key: LOG_MODEL_HISTORY_TAG, value: pythonDumps([model]) }] });
        const files = promptlabFiles({
          runId,
          utcTimeCreated: created,
          modelUuid,
          promptTemplate: req.promptTemplate,
          promptParameters,
          modelParameters,
          modelRoute: req.modelRoute,
          modelInput: req.modelInput,
          modelOutput: req.modelOutput || undefined,
          modelOutputParameters: params(req.modelOutputParameters),
        });
        const root = servedRoot(roots, run!.info!.artifactUri, `run '${runId}'`);
        for (const [path, text] of files) {
          await root.store.write(joinArtifactPath(root.path, path), bytesOf(text));
        }
      } catch (err) {
        ctx.logger.warn({ err, runId }, "prompt-lab run failed; it ends FAILED, as in MLflow");
        status = "FAILED";
      }
      await store.updateRun(runId, { status, endTime: now() });
      return { run: runToProto(await store.getRun(runId)) };
    },
  };
}
