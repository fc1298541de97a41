/**
 * Executes one GraphQL request against MLflow's schema as MLflow's /graphql handler does (mlflow/server/handlers.py
 * `_graphql`): parse, MLflow's query-safety limits, validation, execution; the answer is MLflow's envelope
 * `{"data": …, "errors": null | ["message", …]}` (not graphql-js's error objects). A request that is not one
 * operation object (no `query` string, variables that are not an object, a batch) is refused as bad input.
 * Transport-free: the HTTP route (src/gateway/graphql-route.ts) reads the request and writes the envelope.
 */
import { type GraphQLError, GraphQLError as GraphQLErrorClass, execute, parse, validate } from "graphql";
import type { Logger } from "pino";
import { AppError, invalidParameter } from "../domain/errors.js";
import type { CallContext } from "../services/rpc.js";
import { type QueryLimits, checkQueryLimits } from "./query-limits.js";
import { type GraphqlContext, type GraphqlServices, createLoaders, createResolvers, resolveProtoField } from "./resolvers.js";
import { createMlflowSchema } from "./schema.js";

/** Parsing stops past this many tokens (the UI's largest query has about 200): parse work stays bounded. */
export const MAX_QUERY_TOKENS = 20_000;

export interface GraphqlEnvelope {
  data: unknown;
  errors: string[] | null;
}

export type GraphqlExecutor = (request: unknown, call: CallContext) => Promise<GraphqlEnvelope>;

export interface GraphqlExecutorOptions {
  services: GraphqlServices;
  limits: QueryLimits;
  logger: Logger;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** The request's parts, checked: bad input here is an INVALID_PARAMETER_VALUE error, not an envelope. */
function operationOf(request: unknown): { query: string; variables: Record<string, unknown> | undefined; operationName: string | undefined } {
  if (Array.isArray(request)) throw invalidParameter("Batched GraphQL requests are not supported: send one operation per request.");
  if (!isObject(request)) throw invalidParameter("A GraphQL request is a JSON object with a 'query' string.");
  const { query, variables, operationName } = request;
  if (typeof query !== "string") throw invalidParameter("Missing value for required parameter 'query'.");
  if (variables !== undefined && variables !== null && !isObject(variables)) {
    throw invalidParameter("Invalid value for parameter 'variables': expected a JSON object.");
  }
  if (operationName !== undefined && operationName !== null && typeof operationName !== "string") {
    throw invalidParameter("Invalid value for parameter 'operationName': expected a string.");
  }
  return { query, variables: variables ?? undefined, operationName: operationName ?? undefined };
}

export function createGraphqlExecutor(options: GraphqlExecutorOptions): GraphqlExecutor {
  const schema = createMlflowSchema();
  const resolvers = createResolvers(options.services);
  for (const key of resolvers.keys()) {
    const [type, field] = key.split(".") as [string, string];
    const named = schema.getType(type);
    if (!named || !("getFields" in named) || !(field in named.getFields())) throw new Error(`GraphQL resolver for unknown field ${key}`);
  }
  const fieldResolver: typeof resolveProtoField = (source, args, ctx, info) =>
    (resolvers.get(`${info.parentType.name}.${info.fieldName}`) ?? resolveProtoField)(source, args, ctx, info);

  /** Error messages for the envelope; an unexpected failure is logged and answered "Internal error" (no internals). */
  const messagesOf = (errors: readonly GraphQLError[], call: CallContext): string[] =>
    errors.map((error) => {
      const cause = error.originalError;
      if (cause === undefined || cause instanceof AppError || cause instanceof GraphQLErrorClass) return error.message;
      call.logger.error({ err: cause, path: error.path }, "GraphQL resolver failed");
      return AppError.from(cause).message;
    });

  return async (request, call) => {
    const { query, variables, operationName } = operationOf(request);
    let document;
    try {
      document = parse(query, { maxTokens: MAX_QUERY_TOKENS });
    } catch (err) {
      if (err instanceof GraphQLErrorClass) return { data: null, errors: [err.message] };
      throw err;
    }
    const unsafe = checkQueryLimits(document, options.limits);
    if (unsafe) return { data: null, errors: [unsafe.message] };
    const invalid = validate(schema, document);
    if (invalid.length > 0) return { data: null, errors: messagesOf(invalid, call) };
    const contextValue: GraphqlContext = { call, ...createLoaders(options.services, call) };
    const result = await execute({ schema, document, variableValues: variables, operationName, contextValue, fieldResolver });
    return { data: result.data ?? null, errors: result.errors?.length ? messagesOf(result.errors, call) : null };
  };
}
