"""
Routes check: every REST endpoint of the pinned MLflow answers on Logbook, except an explicit list.

The expected routes are not written by hand. They come from the pinned wheel:
- its generated descriptors (`mlflow.protos.service_pb2`, `model_registry_pb2`, `mlflow_artifacts_pb2`):
  every rpc's `(databricks.rpc).endpoints[{method, path, since}]`, served as MLflow's own server does
  (`mlflow/server/handlers.py` `get_service_endpoints` → `_get_paths`) at `/api/{since.major}.0{path}` and
  `/ajax-api/{since.major}.0{path}`;
- the MLflow server's other routes (its Flask app's URL map, read in a subprocess, minus the routes above).

"Answers" means: not 404 `ENDPOINT_NOT_FOUND` (or a non-JSON 404, which the client reads the same way) and
not 405. Path variables (`{var}`, `<var>`, `<path:var>`) get a dummy value, bodies are `{}`; a 400 or a 404
`RESOURCE_DOES_NOT_EXIST` for the dummy is an answer.

NOT_SERVED_YET / OTHER_ROUTES_NOT_SERVED_YET list what Logbook does not serve, grouped, each group with the
issue that will serve it (or why none will). An entry that Logbook serves fails the test: delete it when its
issue lands, so the lists only shrink. An endpoint missing from the lists that does not answer fails too.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass

import pytest
import requests

from harness import telemetry_free_env


@dataclass(frozen=True)
class NotServed:
    issue: str
    endpoints: tuple[str, ...]


# Keyed "METHOD /api/<v>.0<path as in the proto>"; each is checked under /api/ and /ajax-api/.
NOT_SERVED_YET: dict[str, NotServed] = {
    # ---- No Logbook issue plans these (not in DESIGN.md §1) ----------------------------------------------
    "presigned URLs and multipart uploads": NotServed(
        "none: #5 reports multipart off in /api/3.0/mlflow/server-info, so the client uses single PUTs",
        (
            "POST /api/2.0/mlflow/artifacts/presigned-upload-url",  # createPresignedUploadUrl
            "POST /api/2.0/mlflow/artifacts/presigned-download-url",  # createPresignedDownloadUrl
            "POST /api/2.0/mlflow-artifacts/mpu/create/<path:artifact_path>",  # createMultipartUpload
            "POST /api/2.0/mlflow-artifacts/mpu/complete/<path:artifact_path>",  # completeMultipartUpload
            "POST /api/2.0/mlflow-artifacts/mpu/abort/<path:artifact_path>",  # abortMultipartUpload
            "GET /api/2.0/mlflow-artifacts/presigned/<path:artifact_path>",  # getPresignedDownloadUrl
        ),
    ),
    "traces and assessments": NotServed(
        "none: GenAI tracing is outside Logbook's scope",
        (
            "PATCH /api/2.0/mlflow/traces/{request_id}/tags",  # setTraceTag
            "PATCH /api/3.0/mlflow/traces/{trace_id}/tags",  # setTraceTagV3
            "DELETE /api/2.0/mlflow/traces/{request_id}/tags",  # deleteTraceTag
            "DELETE /api/3.0/mlflow/traces/{trace_id}/tags",  # deleteTraceTagV3
            "POST /api/2.0/mlflow/traces",  # startTrace
            "PATCH /api/2.0/mlflow/traces/{request_id}",  # endTrace
            "GET /api/2.0/mlflow/traces/{request_id}/info",  # getTraceInfo
            "GET /api/3.0/mlflow/traces/{trace_id}",  # getTraceInfoV3
            "GET /api/3.0/mlflow/traces/get",  # getTrace
            "GET /api/3.0/mlflow/traces/batchGet",  # batchGetTraces
            "POST /api/3.0/mlflow/traces/batchGetInfos",  # batchGetTraceInfos
            "GET /api/2.0/mlflow/traces",  # searchTraces
            "POST /api/3.0/mlflow/traces",  # startTraceV3
            "POST /api/2.0/mlflow/traces/link-to-run",  # linkTracesToRun
            "POST /api/2.0/mlflow/traces/link-prompts",  # linkPromptsToTrace
            "GET /api/2.0/mlflow/unified-traces",  # searchUnifiedTraceHandler
            "GET /api/2.0/mlflow/get-online-trace-details",  # getOnlineTraceDetails
            "POST /api/2.0/mlflow/traces/delete-traces",  # deleteTraces
            "POST /api/3.0/mlflow/traces/delete-traces",  # deleteTracesV3
            "POST /api/3.0/mlflow/traces/calculate-filter-correlation",  # calculateTraceFilterCorrelation
            "GET /api/3.0/mlflow/traces/{trace_id}/assessments/{assessment_id}",  # GetAssessment
            "POST /api/3.0/mlflow/traces/{assessment.trace_id}/assessments",  # createAssessment
            "PATCH /api/3.0/mlflow/traces/{trace_id}/assessments/{assessment_id}",  # updateAssessment
            "DELETE /api/3.0/mlflow/traces/{trace_id}/assessments/{assessment_id}",  # deleteAssessment
        ),
    ),
    "workspaces": NotServed(
        "none: multi-tenancy (MLflow itself answers 503 without --enable-workspaces); Logbook answers 501 NOT_IMPLEMENTED",
        (
            "GET /api/3.0/mlflow/workspaces",  # listWorkspaces
            "POST /api/3.0/mlflow/workspaces",  # createWorkspace
            "GET /api/3.0/mlflow/workspaces/{workspace_name}",  # getWorkspace
            "PATCH /api/3.0/mlflow/workspaces/{workspace_name}",  # updateWorkspace
            "DELETE /api/3.0/mlflow/workspaces/{workspace_name}",  # deleteWorkspace
        ),
    ),
    "issues, label schemas, review queues": NotServed(
        "none: GenAI human-feedback features are outside Logbook's scope",
        (
            "POST /api/3.0/mlflow/issues",  # createIssue
            "PATCH /api/3.0/mlflow/issues/{issue_id}",  # updateIssue
            "GET /api/3.0/mlflow/issues/{issue_id}",  # getIssue
            "POST /api/3.0/mlflow/issues/search",  # searchIssues
            "POST /api/3.0/mlflow/label-schemas/create",  # createLabelSchema
            "GET /api/3.0/mlflow/label-schemas/get",  # getLabelSchema
            "GET /api/3.0/mlflow/label-schemas/get-by-name",  # getLabelSchemaByName
            "GET /api/3.0/mlflow/label-schemas/list",  # listLabelSchemas
            "PATCH /api/3.0/mlflow/label-schemas/update",  # updateLabelSchema
            "DELETE /api/3.0/mlflow/label-schemas/delete",  # deleteLabelSchema
            "POST /api/3.0/mlflow/review-queues/create",  # createReviewQueue
            "POST /api/3.0/mlflow/review-queues/get-or-create-user",  # getOrCreateUserQueue
            "GET /api/3.0/mlflow/review-queues/get",  # getReviewQueue
            "GET /api/3.0/mlflow/review-queues/get-by-name",  # getReviewQueueByName
            "GET /api/3.0/mlflow/review-queues/list",  # listReviewQueues
            "POST /api/3.0/mlflow/review-queues/update",  # updateReviewQueue
            "POST /api/3.0/mlflow/review-queues/delete",  # deleteReviewQueue
            "POST /api/3.0/mlflow/review-queues/items/add",  # addItemsToReviewQueue
            "POST /api/3.0/mlflow/review-queues/items/remove",  # removeItemsFromReviewQueue
            "GET /api/3.0/mlflow/review-queues/items/list",  # listReviewQueueItems
            "POST /api/3.0/mlflow/review-queues/items/set-status",  # setReviewQueueItemStatus
        ),
    ),
    "evaluation datasets": NotServed(
        "none: GenAI evaluation is outside Logbook's scope (run inputs, `log-inputs`, are served)",
        (
            "POST /api/3.0/mlflow/datasets/create",  # createDataset
            "GET /api/3.0/mlflow/datasets/{dataset_id}",  # getDataset
            "DELETE /api/3.0/mlflow/datasets/{dataset_id}",  # deleteDataset
            "PATCH /api/3.0/mlflow/datasets/{dataset_id}/tags",  # setDatasetTags
            "DELETE /api/3.0/mlflow/datasets/{dataset_id}/tags/{key}",  # deleteDatasetTag
            "POST /api/3.0/mlflow/datasets/{dataset_id}/records",  # upsertDatasetRecords
            "GET /api/3.0/mlflow/datasets/{dataset_id}/experiment-ids",  # getDatasetExperimentIds
            "GET /api/3.0/mlflow/datasets/{dataset_id}/records",  # getDatasetRecords
            "DELETE /api/3.0/mlflow/datasets/{dataset_id}/records",  # deleteDatasetRecords
            "POST /api/3.0/mlflow/datasets/{dataset_id}/add-experiments",  # addDatasetToExperiments
            "POST /api/3.0/mlflow/datasets/{dataset_id}/remove-experiments",  # removeDatasetFromExperiments
        ),
    ),
    "scorers": NotServed(
        "none: GenAI evaluation is outside Logbook's scope",
        (
            "POST /api/3.0/mlflow/scorers/register",  # registerScorer
            "GET /api/3.0/mlflow/scorers/list",  # listScorers
            "GET /api/3.0/mlflow/scorers/versions",  # listScorerVersions
            "GET /api/3.0/mlflow/scorers/get",  # getScorer
            "DELETE /api/3.0/mlflow/scorers/delete",  # deleteScorer
        ),
    ),
    "AI gateway": NotServed(
        "none: the LLM gateway is outside Logbook's scope",
        (
            "POST /api/3.0/mlflow/gateway/secrets/create",  # createGatewaySecret
            "GET /api/3.0/mlflow/gateway/secrets/get",  # getGatewaySecretInfo
            "POST /api/3.0/mlflow/gateway/secrets/update",  # updateGatewaySecret
            "DELETE /api/3.0/mlflow/gateway/secrets/delete",  # deleteGatewaySecret
            "GET /api/3.0/mlflow/gateway/secrets/list",  # listGatewaySecretInfos
            "POST /api/3.0/mlflow/gateway/endpoints/create",  # createGatewayEndpoint
            "GET /api/3.0/mlflow/gateway/endpoints/get",  # getGatewayEndpoint
            "POST /api/3.0/mlflow/gateway/endpoints/update",  # updateGatewayEndpoint
            "DELETE /api/3.0/mlflow/gateway/endpoints/delete",  # deleteGatewayEndpoint
            "GET /api/3.0/mlflow/gateway/endpoints/list",  # listGatewayEndpoints
            "POST /api/3.0/mlflow/gateway/model-definitions/create",  # createGatewayModelDefinition
            "GET /api/3.0/mlflow/gateway/model-definitions/get",  # getGatewayModelDefinition
            "GET /api/3.0/mlflow/gateway/model-definitions/list",  # listGatewayModelDefinitions
            "POST /api/3.0/mlflow/gateway/model-definitions/update",  # updateGatewayModelDefinition
            "DELETE /api/3.0/mlflow/gateway/model-definitions/delete",  # deleteGatewayModelDefinition
            "POST /api/3.0/mlflow/gateway/endpoints/models/attach",  # attachModelToEndpoint
            "POST /api/3.0/mlflow/gateway/endpoints/models/detach",  # detachModelFromEndpoint
            "POST /api/3.0/mlflow/gateway/endpoints/bindings/create",  # createEndpointBinding
            "DELETE /api/3.0/mlflow/gateway/endpoints/bindings/delete",  # deleteEndpointBinding
            "GET /api/3.0/mlflow/gateway/endpoints/bindings/list",  # listEndpointBindings
            "POST /api/3.0/mlflow/gateway/endpoints/set-tag",  # setGatewayEndpointTag
            "DELETE /api/3.0/mlflow/gateway/endpoints/delete-tag",  # deleteGatewayEndpointTag
            "POST /api/3.0/mlflow/gateway/budgets/create",  # createBudgetPolicy
            "GET /api/3.0/mlflow/gateway/budgets/get",  # getBudgetPolicy
            "POST /api/3.0/mlflow/gateway/budgets/update",  # updateBudgetPolicy
            "DELETE /api/3.0/mlflow/gateway/budgets/delete",  # deleteBudgetPolicy
            "GET /api/3.0/mlflow/gateway/budgets/list",  # listBudgetPolicies
            "GET /api/3.0/mlflow/gateway/budgets/windows",  # listBudgetWindows
            "POST /api/3.0/mlflow/gateway/guardrails/create",  # createGatewayGuardrail
            "GET /api/3.0/mlflow/gateway/guardrails/get",  # getGatewayGuardrail
            "DELETE /api/3.0/mlflow/gateway/guardrails/delete",  # deleteGatewayGuardrail
            "GET /api/3.0/mlflow/gateway/guardrails/list",  # listGatewayGuardrails
            "POST /api/3.0/mlflow/gateway/guardrails/add-to-endpoint",  # addGuardrailToEndpoint
            "DELETE /api/3.0/mlflow/gateway/guardrails/remove-from-endpoint",  # removeGuardrailFromEndpoint
            "GET /api/3.0/mlflow/gateway/guardrails/list-for-endpoint",  # listEndpointGuardrailConfigs
            "PATCH /api/3.0/mlflow/gateway/guardrails/update-config",  # updateEndpointGuardrailConfig
        ),
    ),
    "prompt optimization": NotServed(
        "none: prompt engineering is outside Logbook's scope",
        (
            "POST /api/3.0/mlflow/prompt-optimization/jobs",  # createPromptOptimizationJob
            "GET /api/3.0/mlflow/prompt-optimization/jobs/{job_id}",  # getPromptOptimizationJob
            "POST /api/3.0/mlflow/prompt-optimization/jobs/search",  # searchPromptOptimizationJobs
            "GET /api/3.0/mlflow/prompt-optimization/jobs/search",  # searchPromptOptimizationJobs
            "POST /api/3.0/mlflow/prompt-optimization/jobs/{job_id}/cancel",  # cancelPromptOptimizationJob
            "DELETE /api/3.0/mlflow/prompt-optimization/jobs/{job_id}",  # deletePromptOptimizationJob
        ),
    ),
}

# The MLflow server's routes that are not rpc endpoints of the three descriptors above, as its Flask app
# registers them (literal rules, no prefix added). GET /health and GET /version are served today.
OTHER_ROUTES_NOT_SERVED_YET: dict[str, NotServed] = {
    "web UI files": NotServed(
        "served with `--ui` (#15), which this suite's servers run without; /build/ is Flask's default static route, "
        "which the UI never uses",
        ("GET /", "GET /static-files/<path:path>", "GET /build/<path:filename>"),
    ),
    "web UI helpers": NotServed(
        "none: demo data and MLflow's job runner are not Logbook features",
        (
            "POST /ajax-api/3.0/mlflow/demo/generate",
            "POST /ajax-api/3.0/mlflow/demo/delete",
            "PATCH /ajax-api/3.0/mlflow/jobs/cancel/<job_id>",
            "GET /ajax-api/3.0/mlflow/jobs/<job_id>",
        ),
    ),
    "webhooks": NotServed(
        "none: no Logbook issue plans webhooks (MLflow's WebhookService, webhooks.proto)",
        (
            "POST /api/2.0/mlflow/webhooks",
            "POST /ajax-api/2.0/mlflow/webhooks",
            "GET /api/2.0/mlflow/webhooks",
            "GET /ajax-api/2.0/mlflow/webhooks",
            "GET /api/2.0/mlflow/webhooks/<webhook_id>",
            "GET /ajax-api/2.0/mlflow/webhooks/<webhook_id>",
            "PATCH /api/2.0/mlflow/webhooks/<webhook_id>",
            "PATCH /ajax-api/2.0/mlflow/webhooks/<webhook_id>",
            "DELETE /api/2.0/mlflow/webhooks/<webhook_id>",
            "DELETE /ajax-api/2.0/mlflow/webhooks/<webhook_id>",
            "POST /api/2.0/mlflow/webhooks/<webhook_id>/test",
            "POST /ajax-api/2.0/mlflow/webhooks/<webhook_id>/test",
        ),
    ),
    "GenAI: traces, scorers, gateway, prompts, issues, evaluation": NotServed(
        "none: outside Logbook's scope",
        (
            "GET /ajax-api/3.0/mlflow/scorers/online-configs",
            "GET /api/3.0/mlflow/scorers/online-configs",
            "PUT /ajax-api/3.0/mlflow/scorers/online-config",
            "PUT /api/3.0/mlflow/scorers/online-config",
            "GET /ajax-api/3.0/mlflow/gateway/supported-providers",
            "GET /ajax-api/3.0/mlflow/gateway/supported-models",
            "GET /ajax-api/3.0/mlflow/gateway/provider-config",
            "GET /ajax-api/3.0/mlflow/gateway/secrets/config",
            "POST /ajax-api/3.0/mlflow/scorer/invoke",
            "POST /ajax-api/3.0/mlflow/issues/invoke",
            "POST /ajax-api/3.0/mlflow/genai/evaluate/invoke",
            "GET /ajax-api/3.0/mlflow/get-trace-artifact",
            "GET /ajax-api/2.0/mlflow/get-trace-artifact",
        ),
    ),
}


# ---------------------------------------------------------------------------------------------------------
# What the pinned MLflow serves


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # /api/<v>.0<proto path>, variables as in the proto
    rpc: str

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


def descriptor_endpoints() -> list[Endpoint]:
    from mlflow.protos import databricks_pb2, mlflow_artifacts_pb2, model_registry_pb2, service_pb2

    found: list[Endpoint] = []
    for module in (service_pb2, model_registry_pb2, mlflow_artifacts_pb2):
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                for ep in method.GetOptions().Extensions[databricks_pb2.rpc].endpoints:
                    path = ep.path if ep.path.startswith("/") else "/" + ep.path  # see "dataset summaries"
                    found.append(Endpoint(ep.method, f"/api/{ep.since.major}.0{path}", f"{service.name}.{method.name}"))
    return found


_FLASK_RULES = """
import json
from mlflow.server import app
out = []
for rule in app.url_map.iter_rules():
    for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
        out.append([method, rule.rule])
print(json.dumps(out))
"""


def other_server_routes(tmp_dir) -> list[Endpoint]:
    """The MLflow server's Flask routes that are not the descriptors' rpc endpoints (read in a subprocess:
    importing mlflow.server builds the app, which must not touch this process or the working tree)."""
    out = subprocess.run(
        [sys.executable, "-c", _FLASK_RULES], cwd=tmp_dir, env=telemetry_free_env(), capture_output=True, text=True,
        timeout=180, check=True,
    ).stdout
    rules = json.loads(out.strip().splitlines()[-1])
    rpc = set()  # what the first check covers, plus MLflow's slash-less search-datasets rules
    for ep in descriptor_endpoints():
        for prefix in ("/api/", "/ajax-api/"):
            path = flask_form(prefix + ep.path[len("/api/"):])
            rpc.add((ep.method, path))
            rpc.add((ep.method, path.replace(".0/mlflow/experiments/search-datasets", ".0mlflow/experiments/search-datasets")))
    return [Endpoint(m, r, "flask") for m, r in rules if (m, r) not in rpc]


def flask_form(path: str) -> str:
    """What mlflow/server/handlers.py `_convert_path_parameter_to_flask_format` makes of a proto path."""
    path = re.sub(r"\{(\w+)\}", r"<\1>", path)
    return re.sub(r"\{assessment\.trace_id\}", "<trace_id>", path)


def concrete(path: str) -> str:
    """A request path for a template: every variable gets a dummy value."""
    path = re.sub(r"<path:\w+>", "compat-dummy/file.txt", path)
    path = re.sub(r"<(?:\w+:)?\w+>", "compat-dummy", path)
    return re.sub(r"\{[\w.]+\}", "compat-dummy", path)


# ---------------------------------------------------------------------------------------------------------
# Asking Logbook


@dataclass
class Answer:
    status: int
    error_code: str | None
    json_body: bool
    allow: str | None

    @property
    def served(self) -> bool:
        # The client reads a non-JSON 404 as ENDPOINT_NOT_FOUND too (reference §4).
        not_found = self.status == 404 and (not self.json_body or self.error_code == "ENDPOINT_NOT_FOUND")
        return not not_found and self.status != 405

    def __str__(self) -> str:
        return f"{self.status} {self.error_code or ('(JSON)' if self.json_body else '(not JSON)')}"


def ask(base_url: str, method: str, path: str) -> Answer:
    kwargs: dict = {"timeout": 30}
    if method != "GET":
        kwargs["data"] = b"{}"
        kwargs["headers"] = {"Content-Type": "application/json"}
    r = requests.request(method, base_url + concrete(path), **kwargs)
    try:
        body = r.json()
        is_json = isinstance(body, dict)
    except ValueError:
        body, is_json = None, False
    code = body.get("error_code") if is_json else None
    return Answer(r.status_code, code, is_json, r.headers.get("Allow"))


def check_routes(base_url: str, endpoints: list[tuple[str, Endpoint]], not_served: dict[str, NotServed]) -> list[str]:
    """endpoints: (list key, endpoint to request). Returns the problems found."""
    listed: dict[str, str] = {}
    problems: list[str] = []
    for group, entry in not_served.items():
        for key in entry.endpoints:
            if key in listed:
                problems.append(f"listed twice: {key} ({listed[key]!r} and {group!r})")
            listed[key] = group
    keys = {key for key, _ in endpoints}
    for key, group in listed.items():
        if key not in keys:
            problems.append(f"listed in {group!r} but the pinned MLflow has no such endpoint: {key}")

    for key, ep in endpoints:
        answer = ask(base_url, ep.method, ep.path)
        where = f"{ep.method} {concrete(ep.path)}" + (f" [{ep.rpc}]" if ep.rpc != "flask" else "")
        if key in listed:
            # A deliberate 501 NOT_IMPLEMENTED (with what to use instead) is a way of not serving an endpoint.
            if answer.status == 501 and answer.error_code == "NOT_IMPLEMENTED":
                continue
            if answer.served:
                problems.append(
                    f"now served ({answer}), remove it from the not-served list {listed[key]!r}: {where}"
                )
            elif answer.status == 404 and answer.error_code != "ENDPOINT_NOT_FOUND":
                problems.append(f"a 404 that is not a JSON ENDPOINT_NOT_FOUND ({answer}): {where}")
            elif answer.status == 405 and not answer.allow:
                problems.append(f"a 405 without an Allow header: {where}")
        else:
            if not answer.served:
                problems.append(f"not served ({answer}): {where}")
            elif answer.status >= 500 or not answer.json_body:
                problems.append(f"served, but a request with an empty body got {answer}: {where}")
    return problems


def test_every_rpc_endpoint_answers(logbook):
    endpoints = descriptor_endpoints()
    assert len(endpoints) > 150, "the pinned descriptors should list MLflow's whole REST API"
    requests_to_make = []
    for ep in endpoints:
        for prefix in ("/api/", "/ajax-api/"):
            requests_to_make.append((ep.key, Endpoint(ep.method, prefix + ep.path[len("/api/"):], ep.rpc)))
    problems = check_routes(logbook.url, requests_to_make, NOT_SERVED_YET)
    assert not problems, f"{len(problems)} route problem(s):\n" + "\n".join(problems)


def test_every_other_server_route_answers(logbook, tmp_path):
    endpoints = other_server_routes(tmp_path)
    assert ("GET", "/health") in {(e.method, e.path) for e in endpoints}
    problems = check_routes(logbook.url, [(e.key, e) for e in endpoints], OTHER_ROUTES_NOT_SERVED_YET)
    # /health and /version are plain text, as MLflow's: drop the JSON-body rule for them.
    problems = [p for p in problems if not (p.startswith("served, but") and p.endswith(("GET /health", "GET /version")))]
    assert not problems, f"{len(problems)} route problem(s):\n" + "\n".join(problems)


@pytest.mark.parametrize("path", ["/health", "/version"])
def test_plain_text_routes(logbook, path):
    r = requests.get(logbook.url + path, timeout=30)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    if path == "/health":
        assert r.text == "OK"
    else:
        assert re.fullmatch(r"\d+\.\d+\.\d+(?:[-+][\w.\-+]*)?", r.text.strip()), r.text
