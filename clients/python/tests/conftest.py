"""Fixtures of the generated-client suite: a gRPC channel to a live Logbook per store.

scripts/test-clients.mjs starts one Logbook per store (SQLite, and MongoDB through FerretDB) on free ports and
passes them as LOGBOOK_CLIENT_TARGETS="sqlite=127.0.0.1:P1,mongodb=127.0.0.1:P2"; every test that takes
`channel` (or a stub fixture) runs once per store. Run it through `npm run test:clients` (or
`node scripts/test-clients.mjs python`).

The servers run with `--auth basic`: the script passes an access token per store (LOGBOOK_CLIENT_TOKENS) and the
admin's credentials (LOGBOOK_CLIENT_ADMIN="user:password"). `channel` sends the token the standard gRPC way, as call
credentials (`authorization: Bearer …`) on a local channel; the SDK tests pass it as `Tracker(token=…)`.
"""

from __future__ import annotations

import os
import uuid

import grpc
import pytest
from sdk_support import authenticated_channel


def _targets() -> list[tuple[str, str]]:
    raw = os.environ.get("LOGBOOK_CLIENT_TARGETS", "")
    targets = [tuple(item.split("=", 1)) for item in raw.split(",") if item]
    return [(store, address) for store, address in targets]


TARGETS = _targets()
TOKENS = dict(item.split("=", 1) for item in os.environ.get("LOGBOOK_CLIENT_TOKENS", "").split(",") if item)
ADDRESS_TOKENS = {address: TOKENS.get(store, "") for store, address in TARGETS}


@pytest.fixture(scope="session", params=TARGETS or [("unset", "")], ids=lambda t: t[0])
def channel(request: pytest.FixtureRequest):
    _, address = request.param
    if not address:
        pytest.fail("LOGBOOK_CLIENT_TARGETS is not set: run the suite through `node scripts/test-clients.mjs`")
    token = ADDRESS_TOKENS.get(address)
    if not token:
        pytest.fail("LOGBOOK_CLIENT_TOKENS has no token for this store: run the suite through `node scripts/test-clients.mjs`")
    with authenticated_channel(address, token) as ch:
        grpc.channel_ready_future(ch).result(timeout=30)
        yield ch


@pytest.fixture
def unique() -> str:
    """A name no other test (or earlier run on the same store) uses."""
    return f"py-{uuid.uuid4().hex[:12]}"


# -- the SDK suites (test_sdk_*.py) ----------------------------------------------------------------------------------


@pytest.fixture(scope="session", params=TARGETS or [("unset", "")], ids=lambda t: t[0])
def address(request: pytest.FixtureRequest) -> str:
    """The address ("host:port") of the shared Logbook of each store (the SDK takes an address, not a channel)."""
    _, target = request.param
    if not target:
        pytest.fail("LOGBOOK_CLIENT_TARGETS is not set: run the suite through `node scripts/test-clients.mjs`")
    return target


@pytest.fixture
def token(address: str) -> str:
    """The access token for `address` (the SDK's `token=`)."""
    return ADDRESS_TOKENS[address]


@pytest.fixture
def own_logbook(tmp_path):
    """A Logbook of this test's own (SQLite, on a fixed free port and data directory) that the test may kill and
    start again: the outage tests."""
    from sdk_support import LogbookProcess

    server = LogbookProcess(tmp_path / "logbook-data")
    yield server
    server.kill()
