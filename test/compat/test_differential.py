"""
Differential wire test: the same request sequence, sent with plain `requests` to a real `mlflow server`
(the pinned wheel, SQLite backend, loopback) and to Logbook (embedded store), must get the same answers.

"The same" after normalising what legitimately differs between two servers — ids (each side's experiment and
run ids are mapped to labels as they are created), server-chosen times, page tokens (opaque), the order of
unordered lists (tags, params, latest metrics), and error *messages* (wording is not compared unless a step
says so) — and apart from the explicit DELIBERATE_DIFFERENCES below, each with its reason. Compared: HTTP
status, whether the body is JSON, every field name, every JSON type (numbers are one type), every value
(enum spellings, error codes, lifecycle stages, metric values, …).

A deliberate difference that no longer shows up fails the test, so the list stays true.
"""

from __future__ import annotations

import fnmatch
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from harness import MlflowServer, start_logbook
ABSENT = "<absent>"  # a key that is not in the body
NOT_JSON = "<body is not JSON>"


# ---------------------------------------------------------------------------------------------------------
# Deliberate differences


@dataclass(frozen=True)
class Difference:
    steps: str  # step names or fnmatch patterns, "|"-separated ("*": every step where `path` shows it)
    path: str  # JSON path in the normalised body: "$" (whole body), "$.a.b", "$.a[0]", "$.tags[?key=k]"
    mlflow: Any  # MLflow's normalised value there. ABSENT: no such key; "<any>": anything present;
    logbook: Any  # a dict: a dict with (at least) these keys and values, e.g. {"error_code": …}. Same for Logbook.
    reason: str
    statuses: tuple[int, int] | None = None  # (MLflow, Logbook) HTTP statuses, when they differ too


MAX_DOUBLE = 1.7976931348623157e308
GET_MAIN_RUN = "get run|get run after *|get run by run_uuid|get run with a JSON body|get * run|get run of *|ajax prefix"
INFINITY_KEPT = "Logbook keeps ±Infinity; MLflow's SQL store clamps them to ±max double (reference §7)"
BARE_NAN = ("The bare literal NaN (Python's json.dumps writes it) is not JSON: MLflow accepts the body but mis-parses "
            "it into value 0, timestamp 0 (reference §7); Logbook reads it as NaN, as DESIGN.md §4 asks")
STRICTER_REQUIRED = ("Logbook enforces a field reference §1 marks required; MLflow 3.17 lets it through. The MLflow "
                     "client always sends it, so only hand-made requests see the difference")

DELIBERATE_DIFFERENCES: tuple[Difference, ...] = (
    # ---- error bodies and routing
    Difference("*", "$.sqlstate", "<any>", ABSENT,
               "MLflow 3.17 adds `sqlstate` to error bodies; the client reads only error_code and message (reference §8)"),
    Difference("*", "$.error_class", "<any>", ABSENT,
               "MLflow 3.17 adds `error_class` to error bodies; the client reads only error_code and message (reference §8)"),
    Difference("unknown route", "$", NOT_JSON, {"error_code": "ENDPOINT_NOT_FOUND"},
               "MLflow answers an unknown path with an HTML 404, Logbook with a JSON ENDPOINT_NOT_FOUND; the client "
               "reads both as ENDPOINT_NOT_FOUND (DESIGN.md §4)"),
    Difference("wrong method", "$", NOT_JSON, {"error_code": "BAD_REQUEST"},
               "MLflow answers a known path with the wrong method with an HTML 405, Logbook with a JSON error body and "
               "an Allow header (DESIGN.md §4)"),
    Difference("create experiment with a JSON array", "$", NOT_JSON, {"error_code": "INVALID_PARAMETER_VALUE"},
               "A JSON array as the body crashes MLflow's handler (HTML 500); Logbook answers 400 naming the problem",
               statuses=(500, 400)),
    Difference("rename to a taken name", "$.error_code", "BAD_REQUEST", "RESOURCE_ALREADY_EXISTS",
               "MLflow's SQL store leaks a unique-constraint IntegrityError as BAD_REQUEST; Logbook says "
               "RESOURCE_ALREADY_EXISTS, as for a duplicate create (same status, 400)"),
    # ---- shapes
    Difference("*", "$.experiment.workspace", "default", ABSENT,
               "MLflow 3.17's workspaces (multi-tenancy) are not a Logbook concept; the client treats the field as optional"),
    Difference("create*run*", "$.run.outputs", ABSENT, {},
               "Logbook's Run always carries `outputs` (empty here); MLflow's runs/create leaves it out while its "
               "runs/get writes `\"outputs\": {}` for the same run"),
    Difference(GET_MAIN_RUN, "$.run.data.tags[?key=mlflow.log-model.history].value[0].model_uuid", None, ABSENT,
               "MLflow re-serialises log-model's model_json through its Python Model class, which adds "
               "`model_uuid: null`; Logbook appends the object the client sent (the tag is compared as parsed JSON)"),
    # ---- metric values
    *(
        Difference(GET_MAIN_RUN, f"$.run.data.metrics[?key={key}].value", sign * MAX_DOUBLE, text, INFINITY_KEPT)
        for key, sign, text in (("pos_inf", 1, "Infinity"), ("neg_inf", -1, "-Infinity"))
    ),
    Difference("history pos_inf", "$.metrics[0].value", MAX_DOUBLE, "Infinity", INFINITY_KEPT),
    Difference("history neg_inf", "$.metrics[0].value", -MAX_DOUBLE, "-Infinity", INFINITY_KEPT),
    Difference("history bare_nan", "$.metrics[0].value", 0, "NaN", BARE_NAN),
    Difference("history bare_nan", "$.metrics[0].timestamp", 0, 5, BARE_NAN),
    Difference("get probe run", "$.run.data.metrics[?key=bare_nan].value", 0, "NaN", BARE_NAN),
    Difference("get probe run", "$.run.data.metrics[?key=bare_nan].timestamp", 0, 5, BARE_NAN),
    # ---- Logbook stricter on hand-made requests
    Difference("log metric with bool value", "$", {}, {"error_code": "INVALID_PARAMETER_VALUE"},
               "A JSON boolean is not a metric value (reference §5: numeric and not bool); MLflow's JSON parsing "
               "turns `true` into 1.0", statuses=(200, 400)),
    Difference("get probe run", "$.run.data.metrics[?key=bool]", "<any>", ABSENT,
               "the boolean metric Logbook refused (see \"log metric with bool value\")"),
    Difference("update run with unknown status", "$", "<any>", {"error_code": "INVALID_PARAMETER_VALUE"},
               "Logbook refuses an unknown RunStatus name; MLflow's parser drops it (ignore_unknown_fields) and "
               "answers 200 without changing the run", statuses=(200, 400)),
    Difference("log inputs with dataset missing digest", "$", {}, {"error_code": "INVALID_PARAMETER_VALUE"},
               STRICTER_REQUIRED + " (Dataset.digest)", statuses=(200, 400)),
    Difference("get probe run", "$.run.inputs.dataset_inputs", "<any>", ABSENT,
               "the dataset without a digest Logbook refused (see \"log inputs with dataset missing digest\")"),
    Difference("set experiment tag without value", "$", {}, {"error_code": "INVALID_PARAMETER_VALUE"},
               STRICTER_REQUIRED + " (SetExperimentTag.value; MLflow stores \"\")", statuses=(200, 400)),
    Difference("get probe experiment", "$.experiment.tags", [{"key": "k", "value": ""}], ABSENT,
               "the valueless experiment tag Logbook refused (see \"set experiment tag without value\")"),
    Difference("create run with wrong tags type", "$", "<any>", {"error_code": "INVALID_PARAMETER_VALUE"},
               "Logbook refuses a wrong JSON type anywhere in the body (DESIGN.md §4); MLflow ignores `tags` that is "
               "not a list and creates the run", statuses=(200, 400)),
    # ---- Logbook more lenient
    Difference("create run with numeric experiment id", "$", {"error_code": "INVALID_PARAMETER_VALUE"}, "<any>",
               "Logbook reads a JSON number into a string id field (proto3 JSON); MLflow's schema check refuses it. "
               "The client always sends ids as strings", statuses=(400, 200)),
)

# Keys whose values the servers choose (compared as "an integer", not by value).
SERVER_TIMES = {"creation_time", "last_update_time"}


# ---------------------------------------------------------------------------------------------------------
# Servers


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    server = MlflowServer(tmp_path_factory.mktemp("mlflow-server")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def logbook_embedded(tmp_path_factory):
    server = start_logbook("sqlite", tmp_path_factory, "differential")
    try:
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------------------------------------------------
# Recording one side


@dataclass
class Exchange:
    name: str
    request: str
    status: int
    body: Any  # parsed JSON, or NOT_JSON
    raw: str
    message_pattern: str | None = None


@dataclass
class Wire:
    """Sends the scenario's requests to one server and records the answers by step name."""

    base_url: str
    exchanges: dict[str, Exchange] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)

    def call(
        self,
        name: str,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: dict | None = None,
        raw: str | bytes | None = None,
        content_type: str | None = "application/json",
        message: str | None = None,
    ) -> Any:
        """`body` is sent as JSON, `raw` as is; `message` is a regex both sides' error messages must match."""
        assert name not in self.exchanges, f"duplicate step name {name!r}"
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body, allow_nan=False).encode()
        elif raw is not None:
            data = raw.encode() if isinstance(raw, str) else raw
        if data is not None and content_type:
            headers["Content-Type"] = content_type
        r = requests.request(method, self.base_url + path, params=params, data=data, headers=headers, timeout=60)
        is_json = "json" in r.headers.get("content-type", "")
        try:
            parsed = r.json() if is_json else NOT_JSON
        except ValueError:
            parsed = NOT_JSON
        query = ("?" + "&".join(f"{k}={v}" for k, v in params.items())) if params else ""
        shown = f"{method} {path}{query}" + (f" {data[:300].decode(errors='replace')}" if data else "")
        shown_body = json.dumps(parsed, allow_nan=True) if parsed is not NOT_JSON else r.text
        self.exchanges[name] = Exchange(name, shown, r.status_code, parsed, shown_body[:400], message)
        return parsed if isinstance(parsed, dict) else {}

    def alias(self, value: Any, label: str) -> str:
        if isinstance(value, str) and value:
            self.aliases[value] = label
        return value


def dig(body: Any, *keys: Any, default: Any = "<missing>") -> Any:
    for k in keys:
        try:
            body = body[k]
        except (KeyError, IndexError, TypeError):
            return default
    return body


# ---------------------------------------------------------------------------------------------------------
# The scenario


API = "/api/2.0/mlflow"
T0 = 1_700_000_000_000
UNKNOWN_RUN = "0123456789abcdef0123456789abcdef"


def scenario(w: Wire) -> None:
    """Requests a server may answer differently go to a probe experiment and run, read back once in their own
    steps ("get probe experiment", "get probe run"), so one difference does not echo through every later read."""
    # ---- experiments
    exp = w.alias(dig(w.call("create experiment", "POST", f"{API}/experiments/create",
                             {"name": "diff-main", "tags": [{"key": "team", "value": "quant"}]}), "experiment_id"),
                  "<exp:main>")
    w.call("get experiment", "GET", f"{API}/experiments/get", params={"experiment_id": exp})
    w.call("get experiment by name", "GET", f"{API}/experiments/get-by-name", params={"experiment_name": "diff-main"})
    w.call("get default experiment", "GET", f"{API}/experiments/get", params={"experiment_id": "0"})
    w.call("get experiment by unknown name", "GET", f"{API}/experiments/get-by-name",
           params={"experiment_name": "never-created"}, message=r"Could not find experiment with name 'never-created'")
    w.call("get unknown experiment", "GET", f"{API}/experiments/get", params={"experiment_id": "987654321"})
    w.call("get experiment with non-numeric id", "GET", f"{API}/experiments/get", params={"experiment_id": "abc"})
    w.call("get experiment without id", "GET", f"{API}/experiments/get")
    w.call("duplicate experiment", "POST", f"{API}/experiments/create", {"name": "diff-main"})
    w.call("create experiment without name", "POST", f"{API}/experiments/create", {},
           message=r"Missing value for required parameter 'name'")
    w.call("create experiment with empty body", "POST", f"{API}/experiments/create", raw="")
    w.call("create experiment with wrong type", "POST", f"{API}/experiments/create", {"name": 5})
    w.call("create experiment with malformed JSON", "POST", f"{API}/experiments/create", raw='{"name": "x",')
    w.call("create experiment with a JSON array", "POST", f"{API}/experiments/create", raw='["diff-array"]')
    w.call("create experiment without content type", "POST", f"{API}/experiments/create",
           raw='{"name": "diff-no-ct"}', content_type=None)
    w.call("create experiment as text/plain", "POST", f"{API}/experiments/create",
           raw='{"name": "diff-text"}', content_type="text/plain")
    w.call("set experiment tag", "POST", f"{API}/experiments/set-experiment-tag",
           {"experiment_id": exp, "key": "stage", "value": "research"})
    w.call("set experiment tag again", "POST", f"{API}/experiments/set-experiment-tag",
           {"experiment_id": exp, "key": "stage", "value": "production"})
    w.call("set experiment tag on unknown experiment", "POST", f"{API}/experiments/set-experiment-tag",
           {"experiment_id": "987654321", "key": "k", "value": "v"})
    w.call("set experiment tag with bad key", "POST", f"{API}/experiments/set-experiment-tag",
           {"experiment_id": exp, "key": "../k", "value": "v"})
    w.call("delete experiment tag", "POST", f"{API}/experiments/delete-experiment-tag",
           {"experiment_id": exp, "key": "team"})
    w.call("delete missing experiment tag", "POST", f"{API}/experiments/delete-experiment-tag",
           {"experiment_id": exp, "key": "never-set"})
    w.call("get experiment after tags", "GET", f"{API}/experiments/get", params={"experiment_id": exp})
    w.call("rename experiment", "POST", f"{API}/experiments/update", {"experiment_id": exp, "new_name": "diff-renamed"})
    w.call("get renamed experiment by name", "GET", f"{API}/experiments/get-by-name",
           params={"experiment_name": "diff-renamed"})
    w.call("get experiment by old name", "GET", f"{API}/experiments/get-by-name",
           params={"experiment_name": "diff-main"})
    w.call("rename experiment without new name", "POST", f"{API}/experiments/update", {"experiment_id": exp})
    other = w.alias(dig(w.call("create second experiment", "POST", f"{API}/experiments/create",
                               {"name": "diff-second", "artifact_location": "s3://bucket/diff"}), "experiment_id"),
                    "<exp:second>")
    w.call("rename to a taken name", "POST", f"{API}/experiments/update",
           {"experiment_id": other, "new_name": "diff-renamed"})
    w.call("delete experiment", "POST", f"{API}/experiments/delete", {"experiment_id": other})
    w.call("get deleted experiment", "GET", f"{API}/experiments/get", params={"experiment_id": other})
    w.call("get deleted experiment by name", "GET", f"{API}/experiments/get-by-name",
           params={"experiment_name": "diff-second"})
    w.call("create experiment with a deleted one's name", "POST", f"{API}/experiments/create", {"name": "diff-second"})
    w.call("set tag on deleted experiment", "POST", f"{API}/experiments/set-experiment-tag",
           {"experiment_id": other, "key": "k", "value": "v"})
    w.call("create run in deleted experiment", "POST", f"{API}/runs/create",
           {"experiment_id": other, "start_time": T0, "run_name": "nope"})
    w.call("restore experiment", "POST", f"{API}/experiments/restore", {"experiment_id": other})
    w.call("get restored experiment", "GET", f"{API}/experiments/get", params={"experiment_id": other})
    w.call("delete unknown experiment", "POST", f"{API}/experiments/delete", {"experiment_id": "987654321"})

    # ---- runs
    created = w.call("create run", "POST", f"{API}/runs/create", {
        "experiment_id": exp, "user_id": "alice", "run_name": "diff-run", "start_time": T0,
        "tags": [{"key": "symbol", "value": "AAPL"}, {"key": "mlflow.source.type", "value": "LOCAL"}],
    })
    run = w.alias(dig(created, "run", "info", "run_id"), "<run:main>")
    unnamed = w.call("create run without name", "POST", f"{API}/runs/create",
                     {"experiment_id": exp, "user_id": "alice", "start_time": T0 + 1})
    w.alias(dig(unnamed, "run", "info", "run_id"), "<run:unnamed>")
    w.alias(dig(unnamed, "run", "info", "run_name"), "<generated run name>")
    camel = w.call("create run with camelCase fields", "POST", f"{API}/runs/create",
                   {"experimentId": exp, "userId": "bob", "runName": "camel", "startTime": str(T0 + 2)})
    w.alias(dig(camel, "run", "info", "run_id"), "<run:camel>")
    w.call("create run with run name tag", "POST", f"{API}/runs/create",
           {"experiment_id": exp, "start_time": T0 + 3, "tags": [{"key": "mlflow.runName", "value": "from-tag"}]})
    w.alias(dig(w.exchanges["create run with run name tag"].body, "run", "info", "run_id"), "<run:tagged>")
    w.call("create run in unknown experiment", "POST", f"{API}/runs/create",
           {"experiment_id": "987654321", "start_time": T0})

    # params
    w.call("log param", "POST", f"{API}/runs/log-parameter", {"run_id": run, "key": "window", "value": "20"})
    w.call("log same param again", "POST", f"{API}/runs/log-parameter", {"run_id": run, "key": "window", "value": "20"})
    w.call("change param", "POST", f"{API}/runs/log-parameter", {"run_id": run, "key": "window", "value": "30"})
    w.call("log param with run_uuid", "POST", f"{API}/runs/log-parameter", {"run_uuid": run, "key": "lr", "value": "0.1"})
    w.call("log param without key", "POST", f"{API}/runs/log-parameter", {"run_id": run, "value": "1"})
    w.call("log param with bad key", "POST", f"{API}/runs/log-parameter", {"run_id": run, "key": "bad key?", "value": "1"})
    w.call("log param on unknown run", "POST", f"{API}/runs/log-parameter",
           {"run_id": UNKNOWN_RUN, "key": "k", "value": "v"})

    # metrics
    metric = lambda **kw: {"run_id": run, **kw}  # noqa: E731
    w.call("log metric", "POST", f"{API}/runs/log-metric", metric(key="loss", value=0.9, timestamp=T0, step=0))
    w.call("log metric step 1", "POST", f"{API}/runs/log-metric", metric(key="loss", value=0.5, timestamp=T0 + 10, step=1))
    w.call("log metric step 2 string int64", "POST", f"{API}/runs/log-metric",
           metric(key="loss", value=0.25, timestamp=str(T0 + 20), step="2"))
    w.call("log metric without step", "POST", f"{API}/runs/log-metric", metric(key="acc", value=1, timestamp=T0))
    w.call("log latest-rule points 1", "POST", f"{API}/runs/log-metric", metric(key="m", value=1.0, timestamp=1, step=5))
    w.call("log latest-rule points 2", "POST", f"{API}/runs/log-metric", metric(key="m", value=2.0, timestamp=10, step=3))
    w.call("log latest-rule points 3", "POST", f"{API}/runs/log-metric", metric(key="m", value=0.5, timestamp=1, step=5))
    w.call("log NaN metric", "POST", f"{API}/runs/log-metric", metric(key="nan", value="NaN", timestamp=5))
    w.call("log +Infinity metric", "POST", f"{API}/runs/log-metric", metric(key="pos_inf", value="Infinity", timestamp=5))
    w.call("log -Infinity metric", "POST", f"{API}/runs/log-metric", metric(key="neg_inf", value="-Infinity", timestamp=5))
    w.call("log metric without timestamp", "POST", f"{API}/runs/log-metric", metric(key="x", value=1.0))
    w.call("log metric without value", "POST", f"{API}/runs/log-metric", metric(key="x", timestamp=1))
    w.call("log metric with string value", "POST", f"{API}/runs/log-metric", metric(key="x", value="abc", timestamp=1))
    w.call("log metric with bad key", "POST", f"{API}/runs/log-metric", metric(key="../x", value=1.0, timestamp=1))
    w.call("log metric on unknown run", "POST", f"{API}/runs/log-metric",
           {"run_id": UNKNOWN_RUN, "key": "x", "value": 1.0, "timestamp": 1})
    w.call("get run after metrics", "GET", f"{API}/runs/get", params={"run_id": run})
    for key in ("loss", "acc", "m", "nan", "pos_inf", "neg_inf"):
        w.call(f"history {key}", "GET", f"{API}/metrics/get-history", params={"run_id": run, "metric_key": key})
    w.call("history page 1", "GET", f"{API}/metrics/get-history", params={"run_id": run, "metric_key": "loss", "max_results": 2})
    token = dig(w.exchanges["history page 1"].body, "next_page_token", default="")
    w.call("history page 2", "GET", f"{API}/metrics/get-history",
           params={"run_id": run, "metric_key": "loss", "max_results": 2, "page_token": token})
    w.call("history with max_results 0", "GET", f"{API}/metrics/get-history",
           params={"run_id": run, "metric_key": "loss", "max_results": 0})
    w.call("history of unknown metric", "GET", f"{API}/metrics/get-history", params={"run_id": run, "metric_key": "nope"})
    w.call("history without metric key", "GET", f"{API}/metrics/get-history", params={"run_id": run})
    w.call("history of unknown run", "GET", f"{API}/metrics/get-history",
           params={"run_id": UNKNOWN_RUN, "metric_key": "loss"})

    # tags
    w.call("set tag", "POST", f"{API}/runs/set-tag", {"run_id": run, "key": "stage", "value": "dev"})
    w.call("set tag again", "POST", f"{API}/runs/set-tag", {"run_id": run, "key": "stage", "value": "prod"})
    w.call("set tag with empty value", "POST", f"{API}/runs/set-tag", {"run_id": run, "key": "empty", "value": ""})
    w.call("set tag to remove", "POST", f"{API}/runs/set-tag", {"run_id": run, "key": "temp", "value": "x"})
    w.call("delete tag", "POST", f"{API}/runs/delete-tag", {"run_id": run, "key": "temp"})
    w.call("delete missing tag", "POST", f"{API}/runs/delete-tag", {"run_id": run, "key": "never-set"},
           message=r"No tag with name: never-set")
    w.call("set tag without key", "POST", f"{API}/runs/set-tag", {"run_id": run, "value": "x"})
    w.call("set tag on unknown run", "POST", f"{API}/runs/set-tag", {"run_id": UNKNOWN_RUN, "key": "k", "value": "v"})

    # batches
    w.call("log batch", "POST", f"{API}/runs/log-batch", {
        "run_id": run,
        "metrics": [
            {"key": "rmse", "value": 0.5, "timestamp": T0, "step": 0},
            {"key": "rmse", "value": 0.4, "timestamp": T0 + 1, "step": 1},
            {"key": "batch_nan", "value": "NaN", "timestamp": T0},
        ],
        "params": [{"key": "model", "value": "ridge"}, {"key": "alpha", "value": "0.5"}],
        "tags": [{"key": "team", "value": "quant"}, {"key": "stage", "value": "candidate"}],
    })
    w.call("empty log batch", "POST", f"{API}/runs/log-batch", {"run_id": run})
    w.call("log batch with changed param", "POST", f"{API}/runs/log-batch",
           {"run_id": run, "params": [{"key": "model", "value": "lasso"}]})
    w.call("log batch with duplicate param keys", "POST", f"{API}/runs/log-batch",
           {"run_id": run, "params": [{"key": "dup", "value": "1"}, {"key": "dup", "value": "2"}]})
    w.call("log batch with too many metrics", "POST", f"{API}/runs/log-batch",
           {"run_id": run, "metrics": [{"key": "many", "value": 1.0, "timestamp": 1, "step": i} for i in range(1001)]})
    w.call("log batch with too many params", "POST", f"{API}/runs/log-batch",
           {"run_id": run, "params": [{"key": f"p{i}", "value": "v"} for i in range(101)]})
    w.call("log batch with metric missing timestamp", "POST", f"{API}/runs/log-batch",
           {"run_id": run, "metrics": [{"key": "nots", "value": 1.0}]})
    w.call("log batch with metric missing value", "POST", f"{API}/runs/log-batch",
           {"run_id": run, "metrics": [{"key": "noval", "timestamp": 1}]})
    w.call("log batch with param missing key", "POST", f"{API}/runs/log-batch",
           {"run_id": run, "params": [{"value": "v"}]})
    w.call("log batch on unknown run", "POST", f"{API}/runs/log-batch",
           {"run_id": UNKNOWN_RUN, "params": [{"key": "k", "value": "v"}]})
    w.call("get run after batch", "GET", f"{API}/runs/get", params={"run_id": run})
    w.call("history rmse", "GET", f"{API}/metrics/get-history", params={"run_id": run, "metric_key": "rmse"})

    # inputs and models
    dataset_input = {
        "tags": [{"key": "mlflow.data.context", "value": "training"}],
        "dataset": {
            "name": "prices", "digest": "abc123", "source_type": "local",
            "source": '{"uri": "/data/prices.csv"}', "schema": '{"mlflow_colspec": []}', "profile": '{"num_rows": 3}',
        },
    }
    w.call("log inputs", "POST", f"{API}/runs/log-inputs", {"run_id": run, "datasets": [dataset_input]})
    w.call("log inputs again", "POST", f"{API}/runs/log-inputs", {"run_id": run, "datasets": [dataset_input]})
    w.call("log inputs on unknown run", "POST", f"{API}/runs/log-inputs", {"run_id": UNKNOWN_RUN, "datasets": [dataset_input]})
    model_json = json.dumps({
        "artifact_path": "model", "run_id": run, "utc_time_created": "2026-11-29 08:00:00.000000",
        "flavors": {"python_function": {"loader_module": "mlflow.sklearn"}},
    })
    w.call("log model", "POST", f"{API}/runs/log-model", {"run_id": run, "model_json": model_json})
    w.call("log model with invalid model_json", "POST", f"{API}/runs/log-model", {"run_id": run, "model_json": "not json"})
    w.call("log model missing fields", "POST", f"{API}/runs/log-model", {"run_id": run, "model_json": '{"artifact_path": "m"}'})

    # reads
    w.call("get run", "GET", f"{API}/runs/get", params={"run_id": run})
    w.call("get run by run_uuid", "GET", f"{API}/runs/get", params={"run_uuid": run})
    w.call("get run with a JSON body", "GET", f"{API}/runs/get", {"run_id": run})
    w.call("get unknown run", "GET", f"{API}/runs/get", params={"run_id": UNKNOWN_RUN}, message=r"Run .+ not found")
    w.call("get run without id", "GET", f"{API}/runs/get")
    w.call("get unnamed run", "GET", f"{API}/runs/get", params={"run_id": dig(unnamed, "run", "info", "run_id")})
    w.call("get camelCase run", "GET", f"{API}/runs/get", params={"run_id": dig(camel, "run", "info", "run_id")})
    w.call("ajax prefix", "GET", "/ajax-api/2.0/mlflow/runs/get", params={"run_id": run})

    # updates, delete, restore
    w.call("update run to FINISHED", "POST", f"{API}/runs/update", {"run_id": run, "status": "FINISHED", "end_time": T0 + 100})
    w.call("update run name only", "POST", f"{API}/runs/update", {"run_id": run, "run_name": "diff-run-renamed"})
    w.call("update run status by number", "POST", f"{API}/runs/update", {"run_id": run, "status": 4})
    w.call("update unknown run", "POST", f"{API}/runs/update", {"run_id": UNKNOWN_RUN, "status": "FINISHED"})
    w.call("get run after updates", "GET", f"{API}/runs/get", params={"run_id": run})
    w.call("delete run", "POST", f"{API}/runs/delete", {"run_id": run})
    w.call("get deleted run", "GET", f"{API}/runs/get", params={"run_id": run})
    w.call("log metric to deleted run", "POST", f"{API}/runs/log-metric", metric(key="late", value=1.0, timestamp=1))
    w.call("log param to deleted run", "POST", f"{API}/runs/log-parameter", {"run_id": run, "key": "late", "value": "1"})
    w.call("set tag on deleted run", "POST", f"{API}/runs/set-tag", {"run_id": run, "key": "late", "value": "1"})
    w.call("restore run", "POST", f"{API}/runs/restore", {"run_id": run})
    w.call("get restored run", "GET", f"{API}/runs/get", params={"run_id": run})
    w.call("delete unknown run", "POST", f"{API}/runs/delete", {"run_id": UNKNOWN_RUN})
    w.call("restore unknown run", "POST", f"{API}/runs/restore", {"run_id": UNKNOWN_RUN})
    w.call("delete experiment with runs", "POST", f"{API}/experiments/delete", {"experiment_id": exp})
    w.call("get run of deleted experiment", "GET", f"{API}/runs/get", params={"run_id": run})
    w.call("restore experiment with runs", "POST", f"{API}/experiments/restore", {"experiment_id": exp})
    w.call("get run of restored experiment", "GET", f"{API}/runs/get", params={"run_id": run})

    # ---- probes: requests that MLflow and Logbook may accept or refuse differently
    probe_exp = w.alias(dig(w.call("create probe experiment", "POST", f"{API}/experiments/create",
                                   {"name": "diff-probe"}), "experiment_id"), "<exp:probe>")
    w.call("set experiment tag without value", "POST", f"{API}/experiments/set-experiment-tag",
           {"experiment_id": probe_exp, "key": "k"})
    w.call("get probe experiment", "GET", f"{API}/experiments/get", params={"experiment_id": probe_exp})
    probe = w.alias(dig(w.call("create probe run", "POST", f"{API}/runs/create",
                               {"experiment_id": probe_exp, "run_name": "probe", "start_time": T0}), "run", "info", "run_id"),
                    "<run:probe>")
    w.call("log bare NaN literal", "POST", f"{API}/runs/log-metric",
           raw='{"run_id": "%s", "key": "bare_nan", "value": NaN, "timestamp": 5}' % probe)
    w.call("history bare_nan", "GET", f"{API}/metrics/get-history", params={"run_id": probe, "metric_key": "bare_nan"})
    w.call("log metric with bool value", "POST", f"{API}/runs/log-metric",
           {"run_id": probe, "key": "bool", "value": True, "timestamp": 1})
    w.call("update run with unknown status", "POST", f"{API}/runs/update", {"run_id": probe, "status": "DONE"})
    w.call("log inputs with dataset missing digest", "POST", f"{API}/runs/log-inputs", {
        "run_id": probe, "datasets": [{"dataset": {"name": "bad", "source_type": "local", "source": "{}"}}],
    })
    w.call("get probe run", "GET", f"{API}/runs/get", params={"run_id": probe})
    numeric = w.call("create run with numeric experiment id", "POST", f"{API}/runs/create",
                     {"experiment_id": int(probe_exp) if str(probe_exp).isdigit() else probe_exp, "run_name": "numeric",
                      "start_time": T0 + 3, "user_id": "carol"})
    w.alias(dig(numeric, "run", "info", "run_id"), "<run:numeric>")
    wrong = w.call("create run with wrong tags type", "POST", f"{API}/runs/create",
                   {"experiment_id": probe_exp, "start_time": T0, "run_name": "wrong-tags", "tags": "not-a-list"})
    w.alias(dig(wrong, "run", "info", "run_id"), "<run:wrong-tags>")

    # ---- routing
    w.call("unknown route", "POST", f"{API}/no-such-endpoint", {})
    w.call("wrong method", "GET", f"{API}/runs/create")


# ---------------------------------------------------------------------------------------------------------
# Normalising and comparing


def normalise(value: Any, aliases: dict[str, str], key: str | None = None) -> Any:
    if isinstance(value, dict):
        out = {}
        if value.get("key") == "mlflow.log-model.history" and isinstance(value.get("value"), str):
            try:  # a JSON document in a tag: compared parsed, so spacing and key order do not count
                value = {**value, "value": json.loads(value["value"])}
            except ValueError:
                pass
        for k, v in value.items():
            if k in SERVER_TIMES and isinstance(v, int) and not isinstance(v, bool):
                out[k] = "<server time>"
            elif k == "next_page_token" and isinstance(v, str) and v:
                out[k] = "<page token>"
            else:
                out[k] = normalise(v, aliases, k)
        return out
    if isinstance(value, list):
        items = [normalise(v, aliases, key) for v in value]
        if key != "metrics" and items and all(isinstance(i, dict) and "key" in i for i in items):
            # Tags, params, latest metrics: no order is promised. (A metric history's order is compared.)
            items.sort(key=lambda i: json.dumps(i, sort_keys=True))
        return items
    if isinstance(value, str):
        if value in aliases:
            return aliases[value]
        # Inside longer strings only long ids (run ids) are replaced: a short experiment id such as "1" would
        # hit dates and digests. Experiment ids inside artifact URIs are handled by the URI's shape.
        for actual in sorted((a for a in aliases if len(a) >= 16), key=len, reverse=True):
            value = value.replace(actual, aliases[actual])
        m = re.match(r"^(mlflow-artifacts:/)([^/]+)(/.*)?$", value)
        if m and m.group(2) in aliases:
            value = m.group(1) + aliases[m.group(2)] + (m.group(3) or "")
        return value
    return value


def sort_latest_metrics(body: Any) -> Any:
    """`run.data.metrics` holds one latest value per key: order it by key (a history's order stays)."""
    metrics = dig(body, "run", "data", "metrics", default=None)
    if isinstance(metrics, list):
        metrics.sort(key=lambda m: json.dumps(m, sort_keys=True))
    return body


def drop_messages(body: Any, pattern: str | None, problems: list[str], side: str, step: str) -> Any:
    if isinstance(body, dict) and "error_code" in body:
        body = dict(body)
        msg = body.pop("message", None)
        if pattern is not None and not (isinstance(msg, str) and re.search(pattern, msg)):
            problems.append(f"[{step}] {side}'s message {msg!r} does not match /{pattern}/")
    return body


_SEG = re.compile(r"\.(\w+)|\[(\d+)\]|\[\?key=([^\]]+)\]")


def locate(body: Any, path: str) -> tuple[Any, Any, Any]:
    """(parent, key, value) at a Difference path. value is ABSENT when the last step is missing (parent and
    key then say where it would be); (None, None, ABSENT) when an earlier step is missing."""
    if path == "$":
        return None, None, body
    segments = list(_SEG.finditer(path[1:]))
    assert "".join(m.group(0) for m in segments) == path[1:], f"bad path {path}"
    cur = body
    for n, m in enumerate(segments):
        parent, last = cur, n == len(segments) - 1
        if m.group(1) is not None:
            k = m.group(1)
            cur = cur.get(k, ABSENT) if isinstance(cur, dict) else ABSENT
            ok_parent = isinstance(parent, dict)
        elif m.group(2) is not None:
            k = int(m.group(2))
            cur = cur[k] if isinstance(cur, list) and k < len(cur) else ABSENT
            ok_parent = False
        else:
            found = [i for i, x in enumerate(cur if isinstance(cur, list) else [])
                     if isinstance(x, dict) and x.get("key") == m.group(3)]
            k = found[0] if found else None
            cur = cur[k] if found else ABSENT
            ok_parent = False
        if cur is ABSENT:
            return (parent, k, ABSENT) if last and ok_parent else (None, None, ABSENT)
    return parent, k, cur


def same_value(expected: Any, actual: Any) -> bool:
    if actual is ABSENT or expected is ABSENT:
        return actual is expected
    if isinstance(expected, str) and expected == "<any>":
        return True
    if isinstance(expected, dict) and isinstance(actual, dict) and expected:
        return all(same_value(v, actual.get(k, ABSENT)) for k, v in expected.items())  # these keys of it
    return typed(expected) == typed(actual)


MARK = "<deliberately different>"


def apply_differences(step: str, statuses: tuple[int, int], m_body: Any, l_body: Any,
                      used: set[int]) -> tuple[Any, Any, bool]:
    """Patches the listed differences out of private copies of both bodies; also says whether a listed
    difference accounts for differing statuses."""
    m_body, l_body = json.loads(json.dumps(m_body)), json.loads(json.dumps(l_body))
    status_explained = False
    for i, d in enumerate(DELIBERATE_DIFFERENCES):
        if not any(fnmatch.fnmatchcase(step, p) for p in d.steps.split("|")):
            continue
        if d.statuses is not None and d.statuses != statuses:
            continue
        mp, mk, mv = locate(m_body, d.path)
        lp, lk, lv = locate(l_body, d.path)
        if not (same_value(d.mlflow, mv) and same_value(d.logbook, lv)):
            continue
        used.add(i)
        status_explained = status_explained or d.statuses is not None
        if d.path == "$":
            m_body = l_body = MARK
            continue
        for parent, key, value, other in ((mp, mk, mv, lv), (lp, lk, lv, mv)):
            if value is ABSENT:
                if isinstance(parent, dict):
                    parent[key] = MARK  # present on one side only: the same marker on both
            elif isinstance(parent, list) and other is ABSENT:
                del parent[key]  # a list item only one side has
            else:
                parent[key] = MARK
    return m_body, l_body, status_explained


def typed(v: Any) -> Any:
    """JSON values with their JSON type: numbers are one type (1 == 1.0), booleans are not numbers."""
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, (int, float)):
        return ("number", "NaN" if isinstance(v, float) and math.isnan(v) else v)
    if isinstance(v, str):
        return ("string", v)
    if v is None:
        return ("null",)
    if isinstance(v, list):
        return ("array", tuple(typed(x) for x in v))
    if isinstance(v, dict):
        return ("object", tuple(sorted((k, typed(x)) for k, x in v.items())))
    return ("other", repr(v))


def diff(m: Any, l: Any, path: str = "$") -> list[str]:  # noqa: E741
    if isinstance(m, dict) and isinstance(l, dict):
        out = []
        for k in sorted(set(m) | set(l)):
            if k not in l:
                out.append(f"{path}.{k}: only MLflow has it ({json.dumps(m[k])[:200]})")
            elif k not in m:
                out.append(f"{path}.{k}: only Logbook has it ({json.dumps(l[k])[:200]})")
            else:
                out += diff(m[k], l[k], f"{path}.{k}")
        return out
    if isinstance(m, list) and isinstance(l, list):
        if len(m) != len(l):
            return [f"{path}: MLflow has {len(m)} items, Logbook {len(l)}: {json.dumps(m)[:300]} vs {json.dumps(l)[:300]}"]
        return [d for i, (a, b) in enumerate(zip(m, l)) for d in diff(a, b, f"{path}[{i}]")]
    if typed(m) != typed(l):
        return [f"{path}: MLflow {json.dumps(m)} vs Logbook {json.dumps(l)}"]
    return []


# ---------------------------------------------------------------------------------------------------------
# The test


def test_same_answers_as_mlflow(mlflow_server, logbook_embedded):
    mlflow_wire, logbook_wire = Wire(mlflow_server.url), Wire(logbook_embedded.url)
    scenario(mlflow_wire)
    scenario(logbook_wire)
    assert list(mlflow_wire.exchanges) == list(logbook_wire.exchanges)

    problems: list[str] = []
    used: set[int] = set()
    for step, m in mlflow_wire.exchanges.items():
        lb = logbook_wire.exchanges[step]
        step_problems: list[str] = []
        m_body = sort_latest_metrics(normalise(m.body, mlflow_wire.aliases))
        l_body = sort_latest_metrics(normalise(lb.body, logbook_wire.aliases))
        m_body = drop_messages(m_body, m.message_pattern, step_problems, "MLflow", step)
        l_body = drop_messages(l_body, lb.message_pattern, step_problems, "Logbook", step)
        m_body, l_body, status_explained = apply_differences(step, (m.status, lb.status), m_body, l_body, used)
        if m.status != lb.status and not status_explained:
            step_problems.append(f"HTTP status: MLflow {m.status} vs Logbook {lb.status}")
        step_problems += diff(m_body, l_body)
        if step_problems:
            problems.append(
                f"[{step}] {lb.request}\n    " + "\n    ".join(step_problems)
                + f"\n    MLflow  {m.status}: {m.raw}\n    Logbook {lb.status}: {lb.raw}"
            )
    stale = [d for i, d in enumerate(DELIBERATE_DIFFERENCES) if i not in used]
    report = []
    if problems:
        report.append(f"{len(problems)} step(s) differ:\n" + "\n".join(problems))
    if stale:
        report.append("deliberate differences no longer observed (remove them):\n" + "\n".join(
            f"  [{d.steps}] {d.path}: MLflow {d.mlflow!r} / Logbook {d.logbook!r}" for d in stale))
    assert not report, "\n\n".join(report)
