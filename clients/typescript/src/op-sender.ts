/**
 * How each queued operation becomes gRPC calls, made safe to replay: CreateRun with the client-chosen run id
 * (ALREADY_EXISTS = done), the experiment resolved by name (created if missing), a model version registered
 * only if the run has none with that source yet.
 */
import { status as GrpcStatus } from "@grpc/grpc-js";
import type { ModelVersion } from "../../../gen/ts/logbook/v1/model_registry.js";
import { RunStatus } from "../../../gen/ts/logbook/v1/run.js";
import { toLogbookError } from "./errors.js";
import type { Op, RunStatusName } from "./ops.js";
import type { LogbookRpc } from "./rpc.js";

const RUN_STATUS: Record<RunStatusName, RunStatus> = {
  RUNNING: RunStatus.RUN_STATUS_RUNNING,
  SCHEDULED: RunStatus.RUN_STATUS_SCHEDULED,
  FINISHED: RunStatus.RUN_STATUS_FINISHED,
  FAILED: RunStatus.RUN_STATUS_FAILED,
  KILLED: RunStatus.RUN_STATUS_KILLED,
};

export class OpSender {
  /** Experiment id of each run created here, and name → id. */
  readonly experimentOfRun = new Map<string, string>();
  private readonly experimentIds = new Map<string, string>();
  /** Registered model versions, by `<name>|<runId>|<artifactPath>`. */
  readonly modelVersions = new Map<string, ModelVersion>();

  constructor(private readonly rpc: LogbookRpc) {}

  async execute(op: Op): Promise<void> {
    const t = this.rpc.tracking;
    switch (op.kind) {
      case "createRun": {
        const experimentId = op.experimentId ?? (await this.experimentIdOf(op.experimentName!));
        try {
          await t.createRun({ experimentId, userId: "", runName: op.runName ?? "", startTime: BigInt(op.startTime), tags: op.tags, runId: op.runId });
        } catch (e) {
          if (toLogbookError(e).grpcCode !== GrpcStatus.ALREADY_EXISTS) throw e; // a replay: the run is there
        }
        this.experimentOfRun.set(op.runId, experimentId);
        return;
      }
      case "logBatch":
        await t.logBatch({
          runId: op.runId,
          metrics: op.metrics.map((m) => ({ key: m.key, value: m.value, timestamp: BigInt(m.timestamp), step: BigInt(m.step), runId: "" })),
          params: op.params,
          tags: op.tags,
        });
        return;
      case "endRun":
        await t.updateRun({ runId: op.runId, runUuid: "", status: RUN_STATUS[op.status], endTime: BigInt(op.endTime) });
        return;
      case "uploadArtifact":
        await this.rpc.uploadArtifact(op.runId, op.path, op.localPath !== undefined ? { localPath: op.localPath } : { data: Buffer.from(op.dataBase64 ?? "", "base64") });
        return;
      case "registerModel":
        this.modelVersions.set(`${op.name}|${op.runId}|${op.artifactPath}`, await this.registerModel(op));
        return;
    }
  }

  private async experimentIdOf(name: string): Promise<string> {
    const known = this.experimentIds.get(name);
    if (known) return known;
    const t = this.rpc.tracking;
    let id: string;
    try {
      id = (await t.getExperimentByName({ experimentName: name })).experiment!.experimentId;
    } catch (e) {
      if (toLogbookError(e).grpcCode !== GrpcStatus.NOT_FOUND) throw e;
      try {
        id = (await t.createExperiment({ name, artifactLocation: "", tags: [] })).experimentId;
      } catch (e2) {
        if (toLogbookError(e2).grpcCode !== GrpcStatus.ALREADY_EXISTS) throw e2;
        id = (await t.getExperimentByName({ experimentName: name })).experiment!.experimentId;
      }
    }
    this.experimentIds.set(name, id);
    return id;
  }

  /** CreateRegisteredModel if missing, then CreateModelVersion — unless this run already has that version (replay). */
  private async registerModel(op: Extract<Op, { kind: "registerModel" }>): Promise<ModelVersion> {
    const r = this.rpc.registry;
    try {
      await r.createRegisteredModel({ name: op.name, tags: [] });
    } catch (e) {
      if (toLogbookError(e).grpcCode !== GrpcStatus.ALREADY_EXISTS) throw e;
    }
    const source = `runs:/${op.runId}/${op.artifactPath}`;
    const existing = await this.rpc.search.searchModelVersions({ filter: `run_id = '${op.runId}'`, orderBy: [], pageToken: "" });
    const same = existing.modelVersions.find((v) => v.name === op.name && v.source === source);
    if (same) return same;
    const created = await r.createModelVersion({ name: op.name, source, runId: op.runId, tags: op.tags, description: op.description });
    return created.modelVersion!;
  }
}
