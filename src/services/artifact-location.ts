/**
 * Where an artifact URI's files lie in this server's artifact store. Logbook serves MLflow's proxied scheme
 * (`mlflow-artifacts:/<path>`, the default root of every experiment) and resolves the indirect URIs a model
 * version's source can be — `runs:/<run_id>/<path>` and `models:/<model_id>/<path>` (a logged model) — through the
 * store. Other URIs (s3:, file:, …) name storage this server does not manage.
 */
import { invalidParameter } from "../domain/errors.js";
import { LOGGED_MODEL_ID_PATTERN } from "../domain/logged-model.js";
import { joinArtifactPath, normalizeArtifactPath } from "../artifacts/path.js";
import type { Store } from "../store/types.js";

export const PROXY_SCHEME = "mlflow-artifacts:";
const RUNS_SCHEME = "runs:";
const MODELS_SCHEME = "models:";

/** The store path of a proxied artifact URI (`mlflow-artifacts:/1/abc/artifacts`, also with a `//host` authority). */
export function proxiedPath(uri: string): string | undefined {
  if (!uri.startsWith(PROXY_SCHEME)) return undefined;
  let rest = uri.slice(PROXY_SCHEME.length);
  if (rest.startsWith("//")) {
    const slash = rest.indexOf("/", 2);
    rest = slash === -1 ? "" : rest.slice(slash);
  }
  return rest.replace(/^\/+/, "");
}

const notServed = (uri: string, owner: string) => invalidParameter(`The artifact root '${uri}' of ${owner} is not served by this server`);

/** The validated store path of an artifact root served by this server; `owner` names it in the error ("run 'abc'"). */
export function servedRoot(uri: string, owner: string): string {
  const proxied = proxiedPath(uri);
  if (proxied === undefined) throw notServed(uri, owner);
  return normalizeArtifactPath(proxied, { allowRoot: true });
}

/** `<scheme>/<id>/<sub path>` (any number of slashes after the scheme) → id and sub path. */
function splitIndirect(uri: string, scheme: string): { id: string; sub: string } {
  const rest = uri.slice(scheme.length).replace(/^\/+/, "");
  const slash = rest.indexOf("/");
  return slash === -1 ? { id: rest, sub: "" } : { id: rest.slice(0, slash), sub: rest.slice(slash + 1) };
}

/** Resolves artifact URIs to store paths, looking runs and logged models up in `store`. */
export function createArtifactLocator(store: Store) {
  return {
    async locate(uri: string): Promise<string> {
      if (uri.startsWith(PROXY_SCHEME)) return servedRoot(uri, `'${uri}'`);
      if (uri.startsWith(RUNS_SCHEME)) {
        const { id, sub } = splitIndirect(uri, RUNS_SCHEME);
        const run = await store.getRun(id);
        return joinArtifactPath(servedRoot(run.info.artifactUri, `run '${id}'`), normalizeArtifactPath(sub, { allowRoot: true }));
      }
      if (uri.startsWith(MODELS_SCHEME)) {
        const { id, sub } = splitIndirect(uri, MODELS_SCHEME);
        if (LOGGED_MODEL_ID_PATTERN.test(id)) {
          const model = await store.getLoggedModel(id);
          return joinArtifactPath(servedRoot(model.artifactUri, `logged model '${id}'`), normalizeArtifactPath(sub, { allowRoot: true }));
        }
      }
      throw invalidParameter(`The artifact location '${uri}' is not served by this server`);
    },
  };
}

export type ArtifactLocator = ReturnType<typeof createArtifactLocator>;
