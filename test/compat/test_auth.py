"""
Authentication and permissions (issue 18): a server started with `--auth basic` (MLflow: `--app-name basic-auth`), its
first admin from the environment. The official client signs in from MLFLOW_TRACKING_USERNAME/PASSWORD (or
MLFLOW_TRACKING_TOKEN), and `mlflow.server.get_app_client("basic-auth")` manages users and grants unchanged. Every
expectation not marked Logbook-only also holds on MLflow 3.17.2 (LOGBOOK_COMPAT_REFERENCE=mlflow).
"""

from __future__ import annotations

import base64
import secrets

import pytest
import requests

from conftest import REFERENCE
from harness import STORES, MlflowServer, expect_mlflow_error, start_logbook, unique

ADMIN = "admin"
ADMIN_PASSWORD = f"admin-{secrets.token_urlsafe(12)}"
PASSWORD = "a-long-password-1"

logbook_only = pytest.mark.skipif(REFERENCE == "mlflow", reason="a Logbook extension or a deliberate difference")


@pytest.fixture(scope="module", params=("mlflow",) if REFERENCE else STORES)
def server(request, tmp_path_factory):
    if request.param == "mlflow":
        env = {"MLFLOW_AUTH_ADMIN_USERNAME": ADMIN, "MLFLOW_AUTH_ADMIN_PASSWORD": ADMIN_PASSWORD,
               "MLFLOW_FLASK_SERVER_SECRET_KEY": secrets.token_hex(16)}
        s = MlflowServer(tmp_path_factory.mktemp("mlflow-auth"), ("--app-name", "basic-auth"), env).start()
    else:
        env = {"LOGBOOK_ADMIN_USERNAME": ADMIN, "LOGBOOK_ADMIN_PASSWORD": ADMIN_PASSWORD}
        s = start_logbook(request.param, tmp_path_factory, "auth", ("--auth", "basic"), env)
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def as_user(monkeypatch):
    """`as_user(name, password)` makes the official client sign in as that user (None: no credentials)."""

    def switch(username: str | None, password: str | None = None) -> None:
        monkeypatch.delenv("MLFLOW_TRACKING_TOKEN", raising=False)
        if username is None:
            monkeypatch.delenv("MLFLOW_TRACKING_USERNAME", raising=False)
            monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD", raising=False)
        else:
            monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", username)
            monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", password or "")

    switch(ADMIN, ADMIN_PASSWORD)
    return switch


def app_client(server):
    from mlflow.server import get_app_client

    return get_app_client("basic-auth", tracking_uri=server.url)


def tracking(server):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=server.url)


def basic(username: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def new_user(server, as_user, prefix: str = "user") -> str:
    name = unique(prefix)
    as_user(ADMIN, ADMIN_PASSWORD)
    app_client(server).create_user(name, PASSWORD)
    return name


def test_requests_without_valid_credentials_get_401(server):
    url = f"{server.url}/api/2.0/mlflow/experiments/search?max_results=1"
    for headers in ({}, basic(ADMIN, "wrong-password-123"), basic("nobody-here", PASSWORD)):
        r = requests.get(url, headers=headers, timeout=30)
        assert r.status_code == 401, (headers, r.text)
        assert r.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert requests.get(url, headers=basic(ADMIN, ADMIN_PASSWORD), timeout=30).status_code == 200


@logbook_only
def test_401_and_403_answer_mlflow_json_errors(server, as_user):
    r = requests.get(f"{server.url}/api/2.0/mlflow/experiments/search", timeout=30)
    assert r.headers["WWW-Authenticate"] == 'Basic realm="logbook"'
    assert r.json()["error_code"] == "UNAUTHENTICATED"
    name = new_user(server, as_user)
    r = requests.post(f"{server.url}/api/2.0/mlflow/users/create", json={"username": unique("x"), "password": PASSWORD},
                      headers=basic(name, PASSWORD), timeout=30)
    assert (r.status_code, r.json()["error_code"]) == (403, "PERMISSION_DENIED")


def test_health_and_server_info_stay_open(server):
    assert requests.get(f"{server.url}/health", timeout=30).status_code == 200
    assert requests.get(f"{server.url}/api/3.0/mlflow/server-info", timeout=30).status_code == 200


def test_app_client_manages_users(server, as_user):
    client = app_client(server)
    name = unique("alice")
    user = client.create_user(name, PASSWORD)
    assert (user.username, user.is_admin, isinstance(user.id, int)) == (name, False, True)
    got = client.get_user(name)
    assert (got.id, got.username, got.is_admin) == (user.id, name, False)
    with expect_mlflow_error("RESOURCE_ALREADY_EXISTS"):
        client.create_user(name, PASSWORD)
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        client.create_user(unique("short"), "too-short")
    with expect_mlflow_error("RESOURCE_DOES_NOT_EXIST"):
        client.get_user(unique("nobody"))

    client.update_user_admin(name, True)
    assert client.get_user(name).is_admin is True
    client.update_user_admin(name, False)
    client.update_user_password(name, "another-password-2")
    as_user(name, PASSWORD)
    with expect_mlflow_error("UNAUTHENTICATED"):
        tracking(server).search_experiments(max_results=1)
    as_user(name, "another-password-2")
    assert tracking(server).search_experiments(max_results=1) is not None

    # Non-admins may read themselves only, and not create users.
    assert app_client(server).get_user(name).username == name
    with expect_mlflow_error("PERMISSION_DENIED"):
        app_client(server).get_user(ADMIN)
    with expect_mlflow_error("PERMISSION_DENIED"):
        app_client(server).create_user(unique("x"), PASSWORD)

    as_user(ADMIN, ADMIN_PASSWORD)
    client.delete_user(name)
    with expect_mlflow_error("RESOURCE_DOES_NOT_EXIST"):
        client.get_user(name)


def test_self_service_password_change_needs_the_current_password(server, as_user):
    name = new_user(server, as_user)
    as_user(name, PASSWORD)
    client = app_client(server)
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        client.update_user_password(name, "the-new-password")
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        client.update_user_password(name, "the-new-password", current_password="not-the-password")
    client.update_user_password(name, "the-new-password", current_password=PASSWORD)
    as_user(name, "the-new-password")
    assert app_client(server).get_user(name).username == name


def test_app_client_grants_revokes_and_checks_permissions(server, as_user):
    experiment_id = tracking(server).create_experiment(unique("granted"))
    name = new_user(server, as_user)
    client = app_client(server)

    default = client.get_user_permission(name, "experiment", experiment_id)
    assert (default.permission, default.allowed) == ("READ", False)
    client.grant_user_permission(name, "experiment", experiment_id, "EDIT")
    edit = client.get_user_permission(name, "experiment", experiment_id)
    assert (edit.permission, edit.allowed) == ("EDIT", True)
    with expect_mlflow_error("RESOURCE_ALREADY_EXISTS"):
        client.grant_user_permission(name, "experiment", experiment_id, "MANAGE")
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        client.grant_user_permission(name, "experiment", experiment_id + "0", "NO_PERMISSIONS")
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        client.grant_user_permission(name, "experiment", experiment_id + "0", "SUPERUSER")
    client.revoke_user_permission(name, "experiment", experiment_id)
    with expect_mlflow_error("RESOURCE_DOES_NOT_EXIST"):
        client.revoke_user_permission(name, "experiment", experiment_id)

    model = unique("model")
    tracking(server).create_registered_model(model)
    client.grant_user_permission(name, "registered_model", model, "DENY")
    denied = client.get_user_permission(name, "registered_model", model)
    assert (denied.permission, denied.allowed) == ("DENY", False)
    as_user(name, PASSWORD)
    with expect_mlflow_error("PERMISSION_DENIED"):
        tracking(server).get_registered_model(model)
    assert app_client(server).get_user_permission(name, "registered_model", model).permission == "DENY"


def test_tracking_flow_signed_in_as_a_user(server, as_user, tmp_path):
    import mlflow

    alice = new_user(server, as_user, "alice")
    bob = new_user(server, as_user, "bob")
    as_user(alice, PASSWORD)
    mlflow.set_tracking_uri(server.url)
    try:
        experiment_id = mlflow.create_experiment(unique("alices"))
        artifact = tmp_path / "notes.txt"
        artifact.write_text("hello")
        with mlflow.start_run(experiment_id=experiment_id) as run:
            mlflow.log_param("symbol", "AAPL")
            mlflow.log_metric("sharpe_ratio", 1.5)
            mlflow.set_tag("stage", "dev")
            mlflow.log_artifact(str(artifact))
        run_id = run.info.run_id
        client = tracking(server)
        assert client.get_run(run_id).data.metrics == {"sharpe_ratio": 1.5}
        assert [f.path for f in client.list_artifacts(run_id)] == ["notes.txt"]
        # The creator may manage what they create.
        client.set_experiment_tag(experiment_id, "owner", alice)
        assert app_client(server).get_user_permission(alice, "experiment", experiment_id).permission == "MANAGE"

        # Bob reads (the default permission) but may not write to alice's experiment.
        as_user(bob, PASSWORD)
        client = tracking(server)
        assert client.get_run(run_id).data.params == {"symbol": "AAPL"}
        assert run_id in [r.info.run_id for r in client.search_runs([experiment_id])]
        with expect_mlflow_error("PERMISSION_DENIED"):
            client.log_metric(run_id, "sharpe_ratio", 2.0)
        with expect_mlflow_error("PERMISSION_DENIED"):
            client.create_run(experiment_id)
        with expect_mlflow_error("PERMISSION_DENIED"):
            client.delete_experiment(experiment_id)
        with expect_mlflow_error("PERMISSION_DENIED"):
            app_client(server).grant_user_permission(bob, "experiment", experiment_id, "EDIT")

        # Alice lets bob edit.
        as_user(alice, PASSWORD)
        app_client(server).grant_user_permission(bob, "experiment", experiment_id, "EDIT")
        as_user(bob, PASSWORD)
        tracking(server).log_metric(run_id, "sharpe_ratio", 2.0)
    finally:
        mlflow.set_tracking_uri(None)


def test_deny_hides_an_experiment_from_every_search(server, as_user):
    hidden = tracking(server).create_experiment(unique("hidden"))
    visible = tracking(server).create_experiment(unique("visible"))
    for experiment_id in (hidden, visible):
        tracking(server).create_run(experiment_id, tags={"marker": "deny-test"})
    name = new_user(server, as_user)
    app_client(server).grant_user_permission(name, "experiment", hidden, "DENY")

    as_user(name, PASSWORD)
    client = tracking(server)
    with expect_mlflow_error("PERMISSION_DENIED"):
        client.get_experiment(hidden)
    seen = {e.experiment_id for e in client.search_experiments(max_results=1000)}
    assert visible in seen and hidden not in seen
    runs = client.search_runs([hidden, visible], filter_string="tags.marker = 'deny-test'")
    assert {r.info.experiment_id for r in runs} == {visible}


@logbook_only
def test_roles_and_workspaces_answer_501(server):
    headers = basic(ADMIN, ADMIN_PASSWORD)
    for method, path in (
        ("POST", "/api/3.0/mlflow/roles/create"),
        ("GET", "/api/3.0/mlflow/roles/list"),
        ("GET", "/ajax-api/3.0/mlflow/users/roles/list"),
        ("GET", "/api/3.0/mlflow/workspaces"),
        ("DELETE", "/api/3.0/mlflow/workspaces/team-a"),
    ):
        r = requests.request(method, server.url + path, json={}, headers=headers, timeout=30)
        assert (r.status_code, r.json()["error_code"]) == (501, "NOT_IMPLEMENTED"), (method, path, r.text)


@logbook_only
def test_personal_access_tokens(server, as_user):
    name = new_user(server, as_user)
    r = requests.post(f"{server.url}/api/2.0/logbook/tokens/create", json={"name": "ci"}, headers=basic(name, PASSWORD), timeout=30)
    assert r.status_code == 200, r.text
    created = r.json()
    assert created["token"].startswith("lbk_") and created["token_id"] in created["token"]

    as_user(None)
    import os

    os.environ["MLFLOW_TRACKING_TOKEN"] = created["token"]
    try:
        experiment_id = tracking(server).create_experiment(unique("by-token"))
        assert tracking(server).get_experiment(experiment_id).name.startswith("by-token")
        listed = requests.get(f"{server.url}/api/2.0/logbook/tokens/list", headers={"Authorization": f"Bearer {created['token']}"}, timeout=30)
        assert [t["name"] for t in listed.json()["tokens"]] == ["ci"]
        assert "token" not in listed.json()["tokens"][0]
        revoked = requests.post(f"{server.url}/api/2.0/logbook/tokens/revoke", json={"token_id": created["token_id"]},
                                headers=basic(name, PASSWORD), timeout=30)
        assert revoked.status_code == 200
        with expect_mlflow_error("UNAUTHENTICATED"):
            tracking(server).get_experiment(experiment_id)
    finally:
        os.environ.pop("MLFLOW_TRACKING_TOKEN", None)
