/**
 * `GET|POST /graphql`, as MLflow serves it (the web UI posts to a relative `graphql`): the request is a JSON object
 * `{query, variables?, operationName?}` in the body — also on GET, which MLflow reads from the body too — or, on a
 * GET without a body, the query-string parameters of GraphQL over HTTP (`?query=…&variables=<JSON>&operationName=…`).
 * The answer is MLflow's envelope with 200 (src/graphql/graphql-executor.ts); a request that is not one GraphQL
 * operation gets a 400 in MLflow's error shape. Bodies obey the JSON rules of the other routes: POST needs
 * `Content-Type: application/json`, and `--max-body-bytes` bounds the body.
 */
import { Readable } from "node:stream";
import type { FastifyRequest } from "fastify";
import type { Logger } from "pino";
import type { BodyLimits } from "../edge/body-limits.js";
import { invalidParameter } from "../domain/errors.js";
import type { GraphqlExecutor } from "../graphql/graphql-executor.js";
import { checkContentType, parseBody, readBody } from "./body.js";
import { contextFor } from "./raw-call.js";
import type { RawRoute } from "./gateway.js";
import { JsonSyntaxError, parseJson } from "./json-text.js";

export interface GraphqlRouteOptions {
  execute: GraphqlExecutor;
  maxBodyBytes: number;
  /** Idle and rate limits of the body (none when absent). */
  bodyLimits?: BodyLimits;
  logger: Logger;
}

/** The GraphQL-over-HTTP query-string form of a GET. */
function fromQueryString(rawUrl: string): unknown {
  const q = rawUrl.indexOf("?");
  const params = new URLSearchParams(q === -1 ? "" : rawUrl.slice(q + 1));
  const variables = params.get("variables");
  let parsed: unknown;
  if (variables !== null && variables !== "") {
    try {
      parsed = parseJson(variables);
    } catch (err) {
      if (err instanceof JsonSyntaxError) throw invalidParameter(`Invalid value for parameter 'variables': ${err.message}`);
      throw err;
    }
  }
  return { query: params.get("query") ?? undefined, variables: parsed, operationName: params.get("operationName") ?? undefined };
}

async function requestOf(request: FastifyRequest, opts: GraphqlRouteOptions): Promise<unknown> {
  checkContentType(request.method, request.headers["content-type"]);
  const stream = request.body instanceof Readable ? request.body : request.raw;
  const body = parseBody(await readBody(stream, opts.maxBodyBytes, request.headers["content-length"], opts.bodyLimits));
  if (body === undefined && request.method === "GET") return fromQueryString(request.raw.url ?? request.url);
  return body ?? {};
}

export function graphqlRoutes(opts: GraphqlRouteOptions): RawRoute[] {
  return [
    {
      method: ["GET", "POST"],
      url: "/graphql",
      handler: async (request, reply) => {
        const { ctx, done } = contextFor(request, reply, opts.logger, "graphql");
        try {
          const envelope = await opts.execute(await requestOf(request, opts), ctx);
          return reply.code(200).type("application/json").send(JSON.stringify(envelope));
        } finally {
          done();
        }
      },
    },
  ];
}
