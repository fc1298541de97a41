"""The generated Python client against Logbook with `--auth basic` (the suite's servers run with it): calls without
credentials or with wrong ones are refused with UNAUTHENTICATED and the MLflow code in ErrorInfo; HTTP Basic
credentials and access tokens both work as `authorization` metadata; `AuthService` manages users, grants and tokens;
a user's DENY hides an experiment from their searches and refuses its reads; a revoked token stops working."""

from __future__ import annotations

import base64
import os
import uuid

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from sdk_support import authenticated_channel

from logbook.sdk import ReportedError, Tracker
from logbook.v1 import (
    auth_service_pb2,
    auth_service_pb2_grpc,
    search_service_pb2,
    search_service_pb2_grpc,
    tracking_service_pb2,
    tracking_service_pb2_grpc,
)

TIMEOUT = 30
PASSWORD = "a-long-password-1"


def basic(username: str, password: str) -> tuple:
    return (("authorization", "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()),)


@pytest.fixture
def admin() -> tuple:
    """The admin's credentials as Basic metadata (scripts/test-clients.mjs passes them)."""
    raw = os.environ.get("LOGBOOK_CLIENT_ADMIN", "")
    if ":" not in raw:
        pytest.fail("LOGBOOK_CLIENT_ADMIN is not set: run the suite through `node scripts/test-clients.mjs`")
    username, password = raw.split(":", 1)
    return basic(username, password)


@pytest.fixture
def plain(address):
    """A channel with no credentials of its own: each call passes its metadata."""
    with grpc.insecure_channel(address) as channel:
        yield channel


def mlflow_code(err: grpc.RpcError) -> str:
    status = rpc_status.from_call(err)
    assert status is not None, "no grpc-status-details-bin"
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info.reason
    raise AssertionError("no ErrorInfo")


def test_no_or_wrong_credentials_are_unauthenticated(plain):
    tracking = tracking_service_pb2_grpc.TrackingServiceStub(plain)
    request = tracking_service_pb2.GetExperimentRequest(experiment_id="0")
    for metadata in [(), basic("nobody", "not-a-password"), (("authorization", "Bearer lbk_0123456789abcdef_" + "A" * 43),)]:
        with pytest.raises(grpc.RpcError) as caught:
            tracking.GetExperiment(request, metadata=metadata, timeout=TIMEOUT)
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert mlflow_code(caught.value) == "UNAUTHENTICATED"


def test_users_grants_and_tokens_through_auth_service(plain, admin, address):
    auth = auth_service_pb2_grpc.AuthServiceStub(plain)
    tracking = tracking_service_pb2_grpc.TrackingServiceStub(plain)
    search = search_service_pb2_grpc.SearchServiceStub(plain)
    name = f"py-{uuid.uuid4().hex[:10]}"
    auth.CreateUser(auth_service_pb2.CreateUserRequest(username=name, password=PASSWORD), metadata=admin, timeout=TIMEOUT)
    user = basic(name, PASSWORD)
    current = auth.GetCurrentUser(auth_service_pb2.GetCurrentUserRequest(), metadata=user, timeout=TIMEOUT)
    assert current.user.username == name and not current.user.is_admin

    hidden = tracking.CreateExperiment(tracking_service_pb2.CreateExperimentRequest(name=f"{name}-hidden"), metadata=admin, timeout=TIMEOUT)
    visible = tracking.CreateExperiment(tracking_service_pb2.CreateExperimentRequest(name=f"{name}-visible"), metadata=admin, timeout=TIMEOUT)
    auth.GrantUserPermission(
        auth_service_pb2.GrantUserPermissionRequest(
            username=name, resource_type="experiment", resource_id=hidden.experiment_id, permission="DENY"
        ),
        metadata=admin,
        timeout=TIMEOUT,
    )
    # The user's own token, made with their password; with it, the DENY hides and refuses the experiment.
    created = auth.CreateAccessToken(auth_service_pb2.CreateAccessTokenRequest(name="py"), metadata=user, timeout=TIMEOUT)
    assert created.token.startswith("lbk_") and created.token_id
    with authenticated_channel(address, created.token) as channel:
        as_user = tracking_service_pb2_grpc.TrackingServiceStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            as_user.GetExperiment(tracking_service_pb2.GetExperimentRequest(experiment_id=hidden.experiment_id), timeout=TIMEOUT)
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert mlflow_code(caught.value) == "PERMISSION_DENIED"
        assert as_user.GetExperiment(
            tracking_service_pb2.GetExperimentRequest(experiment_id=visible.experiment_id), timeout=TIMEOUT
        ).experiment.name == f"{name}-visible"
        found = search_service_pb2_grpc.SearchServiceStub(channel).SearchExperiments(
            search_service_pb2.SearchExperimentsRequest(filter=f"name LIKE '{name}-%'", max_results=10), timeout=TIMEOUT
        )
        assert [e.name for e in found.experiments] == [f"{name}-visible"]
        # Without the grant, the default (READ) applies again.
        auth.RevokeUserPermission(
            auth_service_pb2.RevokeUserPermissionRequest(username=name, resource_type="experiment", resource_id=hidden.experiment_id),
            metadata=admin,
            timeout=TIMEOUT,
        )
        listed = auth.ListAccessTokens(auth_service_pb2.ListAccessTokensRequest(), metadata=user, timeout=TIMEOUT)
        assert [t.token_id for t in listed.tokens] == [created.token_id]
        auth.RevokeAccessToken(auth_service_pb2.RevokeAccessTokenRequest(token_id=created.token_id), metadata=user, timeout=TIMEOUT)
        with pytest.raises(grpc.RpcError) as caught:
            as_user.GetExperiment(tracking_service_pb2.GetExperimentRequest(experiment_id=hidden.experiment_id), timeout=TIMEOUT)
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    # The hidden experiment is readable again with the password (the grant is gone).
    assert tracking.GetExperiment(
        tracking_service_pb2.GetExperimentRequest(experiment_id=hidden.experiment_id), metadata=user, timeout=TIMEOUT
    ).experiment.name == f"{name}-hidden"


def test_the_sdk_reports_a_refused_token_and_does_not_retry(address, tmp_path, unique):
    reported = []
    forged = "lbk_" + uuid.uuid4().hex[:16] + "_" + "B" * 43
    with Tracker(address, spool_path=tmp_path / "spool.jsonl", token=forged, on_error=reported.append) as tracker:
        run = tracker.start_run(experiment_name=unique)
        run.log_metric("loss", 0.5)
        run.end()
        assert tracker.wait_synced()
        stats = tracker.stats()
    assert reported and all(isinstance(r, ReportedError) for r in reported)
    assert {(r.grpc_code, r.mlflow_code) for r in reported} == {("UNAUTHENTICATED", "UNAUTHENTICATED")}
    assert stats.spooled_calls == 0  # refused for good: nothing kept for a retry
