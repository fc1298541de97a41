"""
GraphQL at the HTTP level against a real `mlflow server` 3.17.2: every query the MLflow UI bundle contains (read from
the pinned wheel's JavaScript, not written here), sent as the UI sends it to MLflow and to Logbook seeded alike
(test/ui/seed.py, the official client), must get the same answer — the same envelope, types, fields and values —
after ids and server-chosen times are mapped to labels. Also: the whole schema compared by introspection, and the
envelope of errors (unknown run, invalid query, query limits).
"""

from __future__ import annotations

import glob
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from harness import REPO_ROOT, MlflowServer, telemetry_free_env

SEED = REPO_ROOT / "test" / "ui" / "seed.py"
# The seed's metric timestamps (fixed) run from T0 for well under a day; other times are the servers' own clocks.
T0 = 1_767_225_600_000
SEEDED_TIMES = range(T0, T0 + 86_400_000)
TIME_FIELDS = {"startTime", "endTime", "creationTime", "lastUpdateTime", "creationTimestamp", "lastUpdatedTimestamp", "timestamp"}
# The operations the pinned bundle sends; a bundle with another one fails test_bundle_queries_are_all_covered.
UI_OPERATIONS = {"GetRun", "SearchRuns", "GetMetricHistoryBulkInterval", "MlflowGetExperimentQuery"}


def bundle_queries() -> dict[str, str]:
    """Every `query|mutation Name(` document in the pinned MLflow's UI bundle, by operation name."""
    spec = importlib.util.find_spec("mlflow")
    build = Path(list(spec.submodule_search_locations)[0]) / "server" / "js" / "build" / "static" / "js"
    found: dict[str, str] = {}
    for path in glob.glob(str(build / "*.js")):
        text = Path(path).read_text(encoding="utf-8")
        for match in re.finditer(r"(query|mutation) ([A-Za-z]+)\(\$", text):
            start = match.start()
            while text[start] not in "`\"'":
                start -= 1
            end = text.index(text[start], match.start())
            document = text[start + 1 : end]
            if text[start] != "`":
                document = document.encode().decode("unicode_escape")
            found[match.group(2)] = document
    return found


def seed(url: str, out: Path) -> dict:
    done = subprocess.run([sys.executable, str(SEED), url, str(out)], env=telemetry_free_env(), capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.fail(f"seeding {url} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def mlflow_seeded(tmp_path_factory):
    """The reference: a real MLflow server with the seed, once for the module (every store's Logbook meets it)."""
    work = tmp_path_factory.mktemp("mlflow-graphql")
    server = MlflowServer(work).start()
    try:
        yield server.url, seed(server.url, work / "seed.json")
    finally:
        server.stop()


@pytest.fixture(scope="module")
def pair(mlflow_seeded, logbook, tmp_path_factory):
    """(MLflow, Logbook) as (url, seed) each, seeded alike."""
    return mlflow_seeded, (logbook.url, seed(logbook.url, tmp_path_factory.mktemp("graphql-seed") / "seed.json"))


def labels_of(seeded: dict) -> dict[str, str]:
    labels = {e["experiment_id"]: f"<experiment {i}>" for i, e in enumerate(seeded["experiments"])}
    labels.update({r["run_id"]: f"<run {r['name']}>" for r in seeded["runs"]})
    for m in seeded["models"]:
        labels[m["run_id"]] = f"<run {m['run_name']}>"
        labels[m["model_id"]] = f"<model {m['run_name']}>"
    return labels


def normalise(value, labels: dict[str, str], key: str | None = None):
    if isinstance(value, dict):
        return {k: normalise(v, labels, k) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v, labels) for v in value]
    if isinstance(value, str):
        if key in TIME_FIELDS and value.isdigit() and value != "0" and int(value) not in SEEDED_TIMES:
            return "<time>"
        if key == "nextPageToken" and value:
            return "<token>"
        if value in labels:
            return labels[value]
        for raw, label in labels.items():
            if len(raw) > 8:
                value = value.replace(raw, label)
        return re.sub(r"mlflow-artifacts:/(\d+)", lambda m: f"mlflow-artifacts:/{labels.get(m.group(1), m.group(1))}", value)
    return value


def differences(mlflow, logbook, path: str = "$") -> list[str]:
    """Where two JSON values differ, as "path: MLflow … / Logbook …" lines."""
    if isinstance(mlflow, dict) and isinstance(logbook, dict):
        out = []
        for key in sorted(set(mlflow) | set(logbook)):
            if key not in logbook or key not in mlflow:
                out.append(f"{path}.{key}: MLflow {mlflow.get(key, '<absent>')!r} / Logbook {logbook.get(key, '<absent>')!r}")
            else:
                out += differences(mlflow[key], logbook[key], f"{path}.{key}")
        return out
    if isinstance(mlflow, list) and isinstance(logbook, list) and len(mlflow) == len(logbook):
        return [d for i, (a, b) in enumerate(zip(mlflow, logbook)) for d in differences(a, b, f"{path}[{i}]")]
    return [] if mlflow == logbook else [f"{path}: MLflow {mlflow!r} / Logbook {logbook!r}"]


def ask(url: str, query: str, variables: dict | None = None, operation: str | None = None) -> tuple[int, dict]:
    body = {"query": query, "variables": variables}
    if operation:
        body["operationName"] = operation
    response = requests.post(url + "/graphql", json=body, timeout=60)
    return response.status_code, response.json()


def both(pair, query: str, variables_for, operation: str | None = None):
    """The two answers, each normalised with its own seed's labels."""
    answers = []
    for url, seeded in pair:
        status, body = ask(url, query, variables_for(seeded), operation)
        answers.append((status, normalise(body, labels_of(seeded))))
    return answers


def first_experiment(s):
    return s["experiments"][0]["experiment_id"]


# The UI's variables for each of its operations (as the bundle's code builds them).
CASES = {
    "MlflowGetExperimentQuery": [lambda s: {"input": {"experimentId": first_experiment(s)}}],
    "GetRun": [
        lambda s: {"data": {"runId": s["runs"][0]["run_id"]}},  # artifacts, a dataset input
        lambda s: {"data": {"runId": s["models"][1]["run_id"]}},  # a logged model, a registered version
    ],
    "SearchRuns": [
        lambda s: {"data": {"filter": f'attributes.run_id = "{s["models"][0]["run_id"]}"', "experimentIds": [first_experiment(s)]}},
        lambda s: {"data": {"filter": "params.symbol = 'AAPL'", "experimentIds": [first_experiment(s)], "orderBy": ["metrics.loss ASC"], "maxResults": 3}},
    ],
    "GetMetricHistoryBulkInterval": [
        lambda s: {"data": {"runIds": [r["run_id"] for r in s["runs"][:3]], "metricKey": "loss", "startStep": None, "endStep": None, "maxResults": 320}},
        lambda s: {"data": {"runIds": [s["models"][1]["run_id"]], "metricKey": "accuracy", "startStep": None, "endStep": None, "maxResults": 320}},
    ],
}


def test_bundle_queries_are_all_covered():
    assert set(bundle_queries()) == UI_OPERATIONS == set(CASES)


@pytest.mark.parametrize("operation", sorted(UI_OPERATIONS))
def test_ui_query_answers_as_mlflow(pair, operation):
    query = bundle_queries()[operation]
    for variables_for in CASES[operation]:
        (mlflow_status, mlflow_body), (logbook_status, logbook_body) = both(pair, query, variables_for, operation)
        assert mlflow_status == logbook_status == 200
        assert mlflow_body["errors"] is None, mlflow_body["errors"]
        found = differences(mlflow_body, logbook_body)
        assert not found, "\n".join(found[:30])


INTROSPECTION = """
query Schema { __schema {
  queryType { name } mutationType { name } subscriptionType { name }
  types { kind name description
    fields(includeDeprecated: true) { name description args { name type { ...T } defaultValue } type { ...T } isDeprecated }
    inputFields { name type { ...T } defaultValue }
    enumValues(includeDeprecated: true) { name }
  }
  directives { name locations args { name type { ...T } } }
} }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }
"""


def test_schema_introspects_as_mlflow(pair):
    schemas = []
    for url, _ in pair:
        status, body = ask(url, INTROSPECTION)
        assert status == 200 and body["errors"] is None, body
        schema = body["data"]["__schema"]
        # graphql-core and graphql-js describe their built-in types and directives in their own words.
        schema["types"] = {t["name"]: t for t in schema["types"] if not t["name"].startswith("__")}
        for name in ("String", "Int", "Float", "Boolean", "ID"):
            if name in schema["types"]:
                schema["types"][name]["description"] = None
        schema["directives"] = sorted((d for d in schema["directives"] if d["name"] == "component"), key=lambda d: d["name"])
        schemas.append(schema)
    found = differences(schemas[0], schemas[1])
    assert not found, "\n".join(found[:30])


def test_search_datasets_answers_as_mlflow(pair):
    """Not in the UI bundle, but in MLflow's schema: the datasets logged to an experiment's runs."""
    query = "mutation D($d: MlflowSearchDatasetsInput!) { mlflowSearchDatasets(input: $d) { datasetSummaries { experimentId name digest context } apiError { code } } }"
    (mlflow_status, mlflow_body), (logbook_status, logbook_body) = both(pair, query, lambda s: {"d": {"experimentIds": [first_experiment(s)]}})
    assert mlflow_status == logbook_status == 200
    assert mlflow_body["data"]["mlflowSearchDatasets"]["datasetSummaries"], "the seed logs a dataset input"
    found = differences(mlflow_body, logbook_body)
    assert not found, "\n".join(found[:30])


def test_errors_have_mlflows_envelope(pair):
    unknown = "0123456789abcdef0123456789abcdef"
    answers = both(pair, bundle_queries()["GetRun"], lambda s: {"data": {"runId": unknown}}, "GetRun")
    assert answers[0] == answers[1] == (200, {"data": {"mlflowGetRun": None}, "errors": [f"Run with id={unknown} not found"]})

    # Wording of validation messages is graphql-core's on MLflow and graphql-js's on Logbook; the envelope is one.
    for (_, body) in both(pair, "{ mlflowGetRun(input: {runId: \"x\"}) { nope } }", lambda s: None):
        assert body["data"] is None and len(body["errors"]) == 1 and "nope" in body["errors"][0]

    eleven = "{ " + " ".join(f't{i}: test(inputString: "x") {{ output }}' for i in range(11)) + " }"
    for (status, body) in both(pair, eleven, lambda s: None):
        assert status == 200 and body["data"] is None
        assert body["errors"][0].startswith("GraphQL queries should have at most 10 root fields, got 11 root fields.")
