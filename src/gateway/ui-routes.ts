/**
 * Routes the MLflow UI calls that are not RPCs in MLflow (hand-written in its server too), answered as MLflow 3.17.2
 * answers them:
 *   GET /ajax-api/2.0/mlflow/metrics/get-history-bulk?run_id=…&metric_key=…&max_results=…   SearchService.GetMetricHistoryBulk
 *   GET|POST /ajax-api/2.0/mlflow/gateway-proxy                                           no AI gateway is configured
 *   POST /ajax-api/2.0/mlflow/runs/create-promptlab-run                                   TrackingService.CreatePromptlabRun
 *   GET|POST /ajax-api/3.0/mlflow/ui-telemetry                                           telemetry disabled
 *   GET /ajax-api/3.0/mlflow/assistant/config, …/assistant/providers                     no assistant configured
 * (The UI's artifact upload, /ajax-api/2.0/mlflow/upload-artifact, is with the other artifact routes.)
 */
import type { FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { AppError, ErrorCode } from "../domain/errors.js";
import type { BodyLimits } from "../edge/body-limits.js";
import type { CallContext } from "../services/rpc.js";
import { Readable } from "node:stream";
import { WrittenFloat, pythonStr } from "../domain/python-format.js";
import type { GetMetricHistoryBulkRequest, GetMetricHistoryBulkResponse } from "../../gen/ts/logbook/v1/search_service.js";
import type { CreatePromptlabRunRequest, CreatePromptlabRunResponse } from "../../gen/ts/logbook/v1/tracking_service.js";
import { checkContentType, readBody } from "./body.js";
import { JsonCodec } from "./json-codec.js";
import { registryFromDescriptorSet } from "./routes.js";
import { wrongType } from "./scalars.js";
import type { RawRoute } from "./gateway.js";
import { parseJsonAsWritten, stringifyJson, type JsonValue } from "./json-text.js";
import { contextFor, query } from "./raw-call.js";

export interface UiRoutesOptions {
  getMetricHistoryBulk(req: GetMetricHistoryBulkRequest, ctx: CallContext): Promise<GetMetricHistoryBulkResponse>;
  createPromptlabRun(req: CreatePromptlabRunRequest, ctx: CallContext): Promise<CreatePromptlabRunResponse>;
  /** For the answers' JSON (the Run message). */
  descriptorSet: Uint8Array;
  /** Largest JSON body accepted (the gateway's limit). */
  maxBodyBytes: number;
  /** Idle and rate limits of bodies (none when absent). */
  bodyLimits?: BodyLimits;
  logger: Logger;
}

type Json = ReturnType<typeof parseJsonAsWritten>;

const notAnObject = () => new AppError(ErrorCode.INVALID_PARAMETER_VALUE, "The request body must be a JSON object");

/** A text field: absent/null → "", anything else as Python's str() writes it (MLflow passes the values on as they are). */
function text(body: { [key: string]: Json }, name: string): string {
  const v = body[name];
  return v === undefined || v === null ? "" : pythonStr(v);
}

/** `[{key, value}]`, each value as Python's str() writes it (MLflow's `Param(key, str(value))`). */
function keyValues(body: { [key: string]: Json }, name: string): { key: string; value: string }[] {
  const v = body[name];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw wrongType(name, v as JsonValue);
  return v.map((item, i) => {
    if (item === null || typeof item !== "object" || Array.isArray(item) || item instanceof WrittenFloat) throw wrongType(`${name}[${i}]`, item as JsonValue);
    return { key: text(item, "key"), value: text(item, "value") };
  });
}

/** MLflow reads this route's body loosely (request.json, .get): the same fields, every value turned into text. */
function promptlabRequest(body: Json): CreatePromptlabRunRequest {
  if (body === null || typeof body !== "object" || Array.isArray(body) || body instanceof WrittenFloat) throw notAnObject();
  const start = body.start_time;
  let startTime: bigint | undefined;
  if (start !== undefined && start !== null) {
    const n = start instanceof WrittenFloat ? start.value : start;
    if ((typeof n !== "number" || !Number.isSafeInteger(n)) && typeof n !== "bigint") throw wrongType("start_time", start as JsonValue);
    startTime = BigInt(n);
  }
  return {
    experimentId: text(body, "experiment_id"),
    runName: text(body, "run_name"),
    tags: keyValues(body, "tags"),
    promptTemplate: text(body, "prompt_template"),
    promptParameters: keyValues(body, "prompt_parameters"),
    modelRoute: text(body, "model_route"),
    modelParameters: keyValues(body, "model_parameters"),
    modelInput: text(body, "model_input"),
    modelOutput: text(body, "model_output"),
    modelOutputParameters: keyValues(body, "model_output_parameters"),
    mlflowVersion: text(body, "mlflow_version"),
    userId: text(body, "user_id"),
    ...(startTime === undefined ? {} : { startTime }),
  };
}

/** A double as MLflow's JSON writes it: NaN and ±Infinity as strings. */
const jsonDouble = (v: number): JsonValue => (Number.isFinite(v) ? v : Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");

export function uiRawRoutes(opts: UiRoutesOptions): RawRoute[] {
  const { logger } = opts;
  const codec = new JsonCodec();
  const runResponse = registryFromDescriptorSet(opts.descriptorSet).getMessage("logbook.v1.CreatePromptlabRunResponse");
  if (!runResponse) throw new Error("logbook.v1.CreatePromptlabRunResponse is not in the descriptor set");
  return [
    {
      method: "POST",
      url: "/ajax-api/2.0/mlflow/runs/create-promptlab-run",
      handler: async (request, reply) => {
        checkContentType("POST", request.headers["content-type"]);
        const body = request.body instanceof Readable ? request.body : request.raw;
        const bytes = await readBody(body, opts.maxBodyBytes, request.headers["content-length"], opts.bodyLimits);
        let json: Json;
        try {
          json = bytes.length === 0 ? {} : parseJsonAsWritten(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
        } catch (err) {
          throw new AppError(ErrorCode.INVALID_PARAMETER_VALUE, `The request body is not valid JSON: ${(err as Error).message}`);
        }
        const req = promptlabRequest(json);
        const { ctx, done } = contextFor(request, reply, logger, "create-promptlab-run");
        let res: CreatePromptlabRunResponse;
        try {
          res = await opts.createPromptlabRun(req, ctx);
        } finally {
          done();
        }
        return reply.code(200).type("application/json").send(stringifyJson(codec.encodeMessage(runResponse, res as never)));
      },
    },
    {
      method: "GET",
      url: "/ajax-api/2.0/mlflow/metrics/get-history-bulk",
      handler: async (request, reply) => {
        const q = query(request);
        const maxText = q.get("max_results");
        let maxResults: number | undefined;
        if (maxText !== null) {
          maxResults = /^\s*[+-]?\d+\s*$/.test(maxText) ? Number(maxText) : Number.NaN;
          if (!Number.isSafeInteger(maxResults)) {
            throw new AppError(ErrorCode.INVALID_PARAMETER_VALUE, `Invalid value "${maxText}" for parameter 'max_results' supplied: not an integer.`);
          }
        }
        const { ctx, done } = contextFor(request, reply, logger, "get-history-bulk");
        let res: GetMetricHistoryBulkResponse;
        try {
          const metricKey = q.get("metric_key");
          res = await opts.getMetricHistoryBulk(
            { runId: q.getAll("run_id"), metricKey: metricKey ?? "", ...(maxResults === undefined ? {} : { maxResults }) },
            ctx,
          );
        } finally {
          done();
        }
        // MLflow's handler answers a plain dict: "metrics" is there even when empty, each point five fields.
        const metrics = res.metrics.map((m) => ({
          key: m.key,
          value: jsonDouble(m.value ?? 0),
          timestamp: Number(m.timestamp ?? 0),
          step: Number(m.step ?? 0),
          run_id: m.runId,
        }));
        return reply.code(200).type("application/json").send(stringifyJson({ metrics }));
      },
    },
    {
      // MLflow 3.17.2 without MLFLOW_DEPLOYMENTS_TARGET: "an empty gateway service", whatever the request.
      method: ["GET", "POST"],
      url: "/ajax-api/2.0/mlflow/gateway-proxy",
      handler: async (_request, reply) => reply.code(200).type("application/json").send('{"endpoints":[]}'),
    },
  ];
}

/** MLflow's GET /ajax-api/3.0/mlflow/ui-telemetry answer when telemetry is disabled (Logbook sends none). */
const TELEMETRY_DISABLED = JSON.stringify({ disable_ui_events: [], disable_ui_telemetry: true, ui_rollout_percentage: 0 });
/** The assistant with nothing configured: no providers, no projects. */
const ASSISTANT_CONFIG = JSON.stringify({ providers: {}, projects: {}, remote_access_allowed: false });
const ASSISTANT_PROVIDERS = JSON.stringify({ providers: [], resolved: null, gateway_vendor_options: {} });

const fixed = (body: string): RawRoute["handler"] => (_request, reply) => reply.code(200).type("application/json").send(body);

/** The UI helpers: fixed answers; a posted body is read (within the JSON limit) and dropped. */
export function uiHelperRoutes(maxBodyBytes: number, bodyLimits?: BodyLimits): RawRoute[] {
  const drained = async (request: FastifyRequest) => {
    const stream = request.body instanceof Readable ? request.body : request.raw;
    await readBody(stream, maxBodyBytes, request.headers["content-length"], bodyLimits);
  };
  return [
    { method: "GET", url: "/ajax-api/3.0/mlflow/ui-telemetry", handler: fixed(TELEMETRY_DISABLED) },
    {
      method: "POST",
      url: "/ajax-api/3.0/mlflow/ui-telemetry",
      handler: async (request, reply) => {
        await drained(request);
        return reply.code(200).type("application/json").send(JSON.stringify({ status: "disabled" }));
      },
    },
    { method: "GET", url: "/ajax-api/3.0/mlflow/assistant/config", handler: fixed(ASSISTANT_CONFIG) },
    { method: "GET", url: "/ajax-api/3.0/mlflow/assistant/providers", handler: fixed(ASSISTANT_PROVIDERS) },
  ];
}
