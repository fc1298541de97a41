/**
 * Finds MLflow's web UI bundle (the `mlflow` Python package ships it as mlflow/server/js/build; Logbook never copies
 * it): the directory `--ui-dir` names, or else the bundle of the first `python3` on PATH whose `mlflow` package has
 * one. Each python3 is asked with `importlib.util.find_spec("mlflow")`, which locates the package without importing
 * it (importing mlflow takes seconds), and `importlib.metadata` for its version.
 */
import { execFile } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import { realpathSync } from "node:fs";

/** The MLflow release whose UI Logbook answers for; another release's bundle may call what Logbook does not serve. */
export const SUPPORTED_MLFLOW_VERSION = "3.17.2";
const FIND_TIMEOUT_MS = 15_000;

export interface UiBundle {
  /** The directory holding index.html and static-files' contents. */
  dir: string;
  /** The mlflow package's version, when found through python3. */
  mlflowVersion?: string;
  /** Where it came from: "--ui-dir" or the python3 that has it. */
  source: string;
}

/** Prints the mlflow package's directory and version, or nothing when there is none. */
const FIND_MLFLOW = [
  "import importlib.util, importlib.metadata, json",
  "spec = importlib.util.find_spec('mlflow')",
  "locations = list(spec.submodule_search_locations or []) if spec else []",
  "version = None",
  "try:\n    version = importlib.metadata.version('mlflow')\nexcept Exception:\n    pass",
  "print(json.dumps({'dir': locations[0] if locations else None, 'version': version}))",
].join("\n");

const hasIndex = (dir: string) => existsSync(join(dir, "index.html"));

/** Every distinct `python3` executable on PATH, in PATH order. */
function pythonsOnPath(path: string | undefined): string[] {
  const seen = new Set<string>();
  const found: string[] = [];
  for (const dir of (path ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, "python3");
    try {
      if (!statSync(candidate).isFile()) continue;
      const real = realpathSync(candidate);
      // pyenv-style shims all resolve to one script but pick different interpreters: keep each PATH entry then.
      const key = real.endsWith("/pyenv") || real.includes("/shims/") ? candidate : real;
      if (seen.has(key)) continue;
      seen.add(key);
      found.push(candidate);
    } catch {
      // not there, or not readable
    }
  }
  return found;
}

function askPython(python: string): Promise<{ dir: string | null; version: string | null } | undefined> {
  return new Promise((done) => {
    execFile(python, ["-c", FIND_MLFLOW], { timeout: FIND_TIMEOUT_MS, env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" } }, (err, stdout) => {
      if (err) return done(undefined);
      try {
        done(JSON.parse(stdout.trim().split("\n").pop() ?? "") as { dir: string | null; version: string | null });
      } catch {
        done(undefined);
      }
    });
  });
}

/** What to tell someone who asked for the UI and has no bundle. */
export function noBundleMessage(checked: string[]): string {
  const where = checked.length === 0 ? "no python3 is on PATH" : `none of ${checked.join(", ")} has it`;
  return (
    `--ui: MLflow's web UI bundle was not found (${where}). Install MLflow ${SUPPORTED_MLFLOW_VERSION} for a python3 on PATH ` +
    `(pip install mlflow==${SUPPORTED_MLFLOW_VERSION}), or pass --ui-dir <directory holding its index.html> ` +
    `(<site-packages>/mlflow/server/js/build).`
  );
}

/**
 * The UI bundle to serve. `uiDir` must hold index.html (an mlflow package directory is accepted too); otherwise the
 * python3s on `path` are asked in order. Throws an Error with {@link noBundleMessage} when there is none.
 */
export async function locateUiBundle(options: { uiDir?: string; path?: string }): Promise<UiBundle> {
  if (options.uiDir !== undefined) {
    const dir = resolve(options.uiDir);
    const packaged = join(dir, "server", "js", "build");
    if (hasIndex(dir)) return { dir, source: "--ui-dir" };
    if (hasIndex(packaged)) return { dir: packaged, source: "--ui-dir" };
    throw new Error(`--ui-dir ${options.uiDir}: no index.html there (expected MLflow's UI bundle, <site-packages>/mlflow/server/js/build)`);
  }
  const pythons = pythonsOnPath(options.path ?? process.env.PATH);
  for (const python of pythons) {
    const found = await askPython(python);
    if (!found?.dir) continue;
    const dir = join(found.dir, "server", "js", "build");
    if (hasIndex(dir)) return { dir, source: python, ...(found.version ? { mlflowVersion: found.version } : {}) };
  }
  throw new Error(noBundleMessage(pythons));
}
