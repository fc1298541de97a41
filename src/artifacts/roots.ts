/**
 * Where artifact URIs' files are, for this server: MLflow's artifact modes (`--serve-artifacts`,
 * `--artifacts-destination`, `--default-artifact-root`) reduced to one question, "which store, which path?".
 *
 * - `mlflow-artifacts:/<path>` (and http(s) URLs through `/api/2.0/mlflow-artifacts/artifacts/<path>`): the
 *   artifacts destination, while serving artifacts (the default). With `--no-serve-artifacts` they are not served.
 * - A local path or `file:` URI: only under a configured local root — the default artifact root when it is a
 *   directory, and the destination when it is one. Anything else on disk is never opened, so no stored location or
 *   model-version source can make the server read an arbitrary file.
 * - Every other URI (s3:, gs:, …) names storage the clients reach themselves: stored and returned as given, never opened.
 */
import { isLocalUri, isPathWithin, localPathOf, parseUri } from "../domain/model-version-source.js";
import { normalizeArtifactPath } from "./path.js";
import type { ArtifactStore } from "./store.js";

export interface ResolvedArtifactRoot {
  store: ArtifactStore;
  /** Normal path in `store` ("" for its root). */
  path: string;
}

export interface LocalRoot {
  /** Absolute directory. */
  dir: string;
  store: ArtifactStore;
}

export interface ArtifactRoots {
  /** Whether the artifact proxy routes and `mlflow-artifacts:` URIs are served. */
  readonly serveArtifacts: boolean;
  /** The store behind `mlflow-artifacts:/` URIs (the artifacts destination). */
  readonly destination: ArtifactStore;
  /** The root of new experiments' locations (MLflow's default artifact root). */
  readonly defaultArtifactRoot: string;
  /** Where `uri`'s files are, when this server serves them; undefined when it does not. @throws "Invalid path" */
  resolve(uri: string): ResolvedArtifactRoot | undefined;
}

const PROXY_ANCHOR = "/api/2.0/mlflow-artifacts/artifacts/";

/** The path after the proxy scheme or route, undecoded; undefined for a URI that is not proxied. */
function proxiedPath(uri: string): string | undefined {
  const { scheme, path } = parseUri(uri);
  if (scheme === "mlflow-artifacts") return path.replace(/^\/+/, "");
  if (scheme === "http" || scheme === "https") {
    const at = path.indexOf(PROXY_ANCHOR);
    if (at >= 0) return path.slice(at + PROXY_ANCHOR.length);
  }
  return undefined;
}

export function createArtifactRoots(options: {
  destination: ArtifactStore;
  serveArtifacts: boolean;
  defaultArtifactRoot: string;
  localRoots: LocalRoot[];
}): ArtifactRoots {
  const { destination, serveArtifacts, localRoots } = options;
  return {
    serveArtifacts,
    destination,
    defaultArtifactRoot: options.defaultArtifactRoot,
    resolve(uri) {
      const proxied = proxiedPath(uri);
      if (proxied !== undefined) {
        if (!serveArtifacts) return undefined;
        return { store: destination, path: normalizeArtifactPath(proxied, { allowRoot: true }) };
      }
      let local: boolean;
      try {
        local = isLocalUri(uri);
      } catch {
        return undefined; // a file: URI naming another host
      }
      if (!local) return undefined;
      const abs = localPathOf(uri);
      for (const root of localRoots) {
        if (!isPathWithin(abs, root.dir)) continue;
        return { store: root.store, path: normalizeArtifactPath(abs.slice(root.dir.length).replace(/^\/+/, ""), { allowRoot: true }) };
      }
      return undefined;
    },
  };
}
