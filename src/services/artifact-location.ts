/**
 * The artifact files behind the URIs runs, logged models and model versions carry, through the server's artifact
 * roots (src/artifacts/roots.ts): proxied `mlflow-artifacts:/` URIs, local paths under a configured root, and the
 * indirect URIs a model version's source can be — `runs:/<run_id>/<path>` and `models:/<model_id>/<path>` (a logged
 * model) — resolved through the store. Other URIs (s3:, gs:, a file elsewhere, …) are not served.
 */
import { invalidParameter } from "../domain/errors.js";
import { LOGGED_MODEL_ID_PATTERN } from "../domain/logged-model.js";
import { joinArtifactPath, normalizeArtifactPath } from "../artifacts/path.js";
import type { ArtifactRoots, ResolvedArtifactRoot } from "../artifacts/roots.js";
import type { Store } from "../store/types.js";

export const PROXY_SCHEME = "mlflow-artifacts:";
const RUNS_SCHEME = "runs:";
const MODELS_SCHEME = "models:";

const notServed = (uri: string, owner: string) => invalidParameter(`The artifact root '${uri}' of ${owner} is not served by this server`);

/** The store and path of an artifact root this server serves; `owner` names it in the error ("run 'abc'"). */
export function servedRoot(roots: ArtifactRoots, uri: string, owner: string): ResolvedArtifactRoot {
  const root = roots.resolve(uri);
  if (!root) throw notServed(uri, owner);
  return root;
}

/** `sub` (validated) below `root`. */
export const below = (root: ResolvedArtifactRoot, sub: string): ResolvedArtifactRoot => ({
  store: root.store,
  path: joinArtifactPath(root.path, normalizeArtifactPath(sub, { allowRoot: true })),
});

/** `<scheme>/<id>/<sub path>` (any number of slashes after the scheme) → id and sub path. */
function splitIndirect(uri: string, scheme: string): { id: string; sub: string } {
  const rest = uri.slice(scheme.length).replace(/^\/+/, "");
  const slash = rest.indexOf("/");
  return slash === -1 ? { id: rest, sub: "" } : { id: rest.slice(0, slash), sub: rest.slice(slash + 1) };
}

/** Resolves artifact URIs to stores and paths, looking runs and logged models up in `store`. */
export function createArtifactLocator(store: Store, roots: ArtifactRoots) {
  return {
    async locate(uri: string): Promise<ResolvedArtifactRoot> {
      if (uri.startsWith(RUNS_SCHEME)) {
        const { id, sub } = splitIndirect(uri, RUNS_SCHEME);
        const run = await store.getRun(id);
        return below(servedRoot(roots, run.info.artifactUri, `run '${id}'`), sub);
      }
      if (uri.startsWith(MODELS_SCHEME)) {
        const { id, sub } = splitIndirect(uri, MODELS_SCHEME);
        if (LOGGED_MODEL_ID_PATTERN.test(id)) {
          const model = await store.getLoggedModel(id);
          return below(servedRoot(roots, model.artifactUri, `logged model '${id}'`), sub);
        }
      }
      const root = roots.resolve(uri);
      if (root) return root;
      throw invalidParameter(`The artifact location '${uri}' is not served by this server`);
    },
  };
}

export type ArtifactLocator = ReturnType<typeof createArtifactLocator>;
