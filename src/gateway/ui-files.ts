/**
 * MLflow's web UI files in front of Logbook (`--ui`): the bundle at the paths MLflow's Flask app uses
 * (mlflow/server/__init__.py): `GET /` is index.html (`Cache-Control: no-cache`), `GET /static-files/<path>` any file
 * of the bundle with MLflow's long max-age (the names carry content hashes). Files are sent by @fastify/static (ranges,
 * ETag, Last-Modified, content types; nothing outside the bundle directory) and compressed by @fastify/compress (br,
 * gzip) when the browser accepts it; both are scoped to these two routes, so API answers are never compressed.
 * The UI's calls that are not RPCs are in ui-routes.ts.
 */
import fastifyCompress from "@fastify/compress";
import fastifyStatic from "@fastify/static";
import type { FastifyPluginAsync } from "fastify";
import { endpointNotFound } from "./errors.js";

/** MLflow's max_age for /static-files (28 days), in seconds. */
export const STATIC_FILES_MAX_AGE_S = 2_419_200;

export interface UiFilesOptions {
  /** The bundle directory (index.html and what /static-files/ serves). */
  dir: string;
}

/**
 * Registers `/` and `/static-files/*` through the gateway's raw routes (register it after the gateway plugin).
 * A missing file is the gateway's JSON 404.
 */
export const uiFilesPlugin: FastifyPluginAsync<UiFilesOptions> = async (scope, opts) => {
  // Compression first (its onSend hook must see @fastify/static's streams); only the routes below are in this scope.
  await scope.register(fastifyCompress, { global: true, encodings: ["br", "gzip"], globalDecompression: false });
  await scope.register(fastifyStatic, { root: opts.dir, serve: false, dotfiles: "deny" });
  scope.registerRawRoute({
    method: "GET",
    url: "/",
    handler: (_request, reply) => reply.header("cache-control", "no-cache").sendFile("index.html", { cacheControl: false }),
  });
  scope.registerRawRoute({
    method: "GET",
    url: "/static-files/*",
    handler: (request, reply) => {
      const path = (request.params as { "*": string })["*"];
      // @fastify/static refuses a way out of the bundle (403); MLflow answers any such path 404, and so does this.
      if (path.split(/[/\\]/).some((segment) => segment === ".." || segment.includes("\0"))) {
        throw endpointNotFound(request.method, request.url);
      }
      return reply.sendFile(path, { maxAge: STATIC_FILES_MAX_AGE_S * 1000, immutable: false });
    },
  });
};
