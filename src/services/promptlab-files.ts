/**
 * The files MLflow 3.17.2 writes for a prompt-lab run (mlflow/utils/promptlab_utils.py and
 * mlflow/prompt/promptlab_model.py `save_model`): `eval_results_table.json` and a pyfunc model in `model/` whose
 * loader is `mlflow.prompt.promptlab_model`, so `mlflow.pyfunc.load_model("runs:/<run_id>/model")` works as on MLflow.
 * Their text is what MLflow's Python writes (json.dumps, PyYAML with sorted keys). The environment files name the
 * interpreter and build tools of the MLflow 3.17.2 server these were checked against; Logbook runs no Python.
 */
import { type PythonJsonValue, pythonDumps } from "../domain/python-format.js";
import type { Tag } from "../domain/entities.js";

/** The MLflow release whose prompt-lab model these files describe (the model needs `mlflow[gateway]` to run). */
export const PROMPTLAB_MLFLOW_VERSION = "3.17.2";
const PYTHON_VERSION = "3.11.7";
const PIP_VERSION = "23.2.1";
const SETUPTOOLS_VERSION = "65.5.0";

export interface PromptlabInputs {
  runId: string;
  /** `%Y-%m-%d %H:%M:%S.%f`, UTC. */
  utcTimeCreated: string;
  modelUuid: string;
  promptTemplate: string;
  promptParameters: Tag[];
  modelParameters: Tag[];
  modelRoute: string;
  modelInput: string;
  /** undefined → JSON null, as MLflow writes an absent output. */
  modelOutput: string | undefined;
  modelOutputParameters: Tag[];
}

const YAML_WORDS = /^(true|false|yes|no|on|off|null|~|y|n)$/i;
const YAML_NUMBER = /^[-+]?(\d[\d_]*(\.\d*)?|\.\d+)([eE][-+]?\d+)?$|^[-+]?\.(inf|nan)$/i;

/** A YAML scalar as PyYAML's safe_dump writes a str: plain when that reads back as the same string, else single-quoted. */
function yamlString(s: string): string {
  const plain =
    s !== "" &&
    !YAML_WORDS.test(s) &&
    !YAML_NUMBER.test(s) &&
    /^[A-Za-z0-9_./(][^:#\n'"`]*$/.test(s) &&
    !/\s$/.test(s) &&
    !s.includes(": ") &&
    !s.includes(" #");
  return plain ? s : `'${s.replaceAll("'", "''")}'`;
}

type Yaml = string | boolean | null | { [key: string]: Yaml };

/** A block mapping with sorted keys (PyYAML's default_flow_style=False, sort_keys=True). */
function yamlMapping(obj: { [key: string]: Yaml }, indent = 0): string {
  const pad = " ".repeat(indent);
  return Object.keys(obj)
    .sort()
    .map((k) => {
      const v = obj[k]!;
      if (v !== null && typeof v === "object") return Object.keys(v).length === 0 ? `${pad}${k}: {}\n` : `${pad}${k}:\n${yamlMapping(v, indent + 2)}`;
      const scalar = v === null ? "null" : typeof v === "boolean" ? String(v) : yamlString(v);
      return `${pad}${k}: ${scalar}\n`;
    })
    .join("");
}

const toObject = (params: Tag[]): { [key: string]: string } => Object.fromEntries(params.map((p) => [p.key, p.value]));

/** Each file of the run's artifacts: path → text. */
export function promptlabFiles(p: PromptlabInputs): Map<string, string> {
  const columns = [...p.promptParameters.map((x) => x.key), "prompt", "output", ...p.modelOutputParameters.map((x) => x.key)];
  const row: PythonJsonValue[] = [...p.promptParameters.map((x) => x.value), p.modelInput, p.modelOutput ?? null, ...p.modelOutputParameters.map((x) => x.value)];
  const colSpec = (name: string) => ({ type: "string", name, required: true });
  const inputExample = { inputs: p.promptParameters.map((x) => x.value) };
  const mlmodel: { [key: string]: Yaml } = {
    artifact_path: "model",
    flavors: {
      python_function: {
        env: { conda: "conda.yaml", virtualenv: "python_env.yaml" },
        loader_module: "mlflow.prompt.promptlab_model",
        parameters_path: "parameters.yaml",
        python_version: PYTHON_VERSION,
      },
    },
    is_signature_from_type_hint: false,
    mlflow_version: PROMPTLAB_MLFLOW_VERSION,
    model_id: null,
    model_uuid: p.modelUuid,
    prompts: null,
    run_id: p.runId,
    saved_input_example_info: { artifact_path: "input_example.json", serving_input_path: "serving_input_example.json", type: "json_object" },
    signature: {
      inputs: pythonDumps(p.promptParameters.map((x) => colSpec(x.key))),
      outputs: pythonDumps([colSpec("output")]),
      params: null,
    },
    type_hint_from_example: false,
    utc_time_created: p.utcTimeCreated,
  };
  const requirement = `mlflow[gateway]==${PROMPTLAB_MLFLOW_VERSION}`;
  return new Map([
    ["eval_results_table.json", pythonDumps({ columns, data: [row] })],
    ["model/MLmodel", yamlMapping(mlmodel)],
    [
      "model/parameters.yaml",
      yamlMapping({
        model_parameters: toObject(p.modelParameters),
        model_route: p.modelRoute,
        prompt_parameters: toObject(p.promptParameters),
        prompt_template: p.promptTemplate,
      }),
    ],
    ["model/input_example.json", pythonDumps(inputExample)],
    ["model/serving_input_example.json", pythonDumps({ inputs: inputExample }, { indent: 2 })],
    ["model/requirements.txt", requirement],
    [
      "model/python_env.yaml",
      `python: ${PYTHON_VERSION}\nbuild_dependencies:\n- pip==${PIP_VERSION}\n- setuptools==${SETUPTOOLS_VERSION}\n- wheel\ndependencies:\n- -r requirements.txt\n`,
    ],
    [
      "model/conda.yaml",
      `channels:\n- conda-forge\ndependencies:\n- python=${PYTHON_VERSION}\n- pip<=${PIP_VERSION}\n- pip:\n  - ${requirement}\nname: mlflow-env\n`,
    ],
  ]);
}
