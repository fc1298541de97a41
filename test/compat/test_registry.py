"""The model registry with `MlflowClient` against Logbook, on both stores: registered models (create, get, rename,
update, tags, delete), model versions (create from a real run's `runs:/` source, get, update, tags, stages,
delete), aliases, download URIs, `get_latest_versions`, and the registry searches (filters, order, paging).

Every expectation here was first checked against a real MLflow 3.17.2 server
(`LOGBOOK_COMPAT_REFERENCE=mlflow`, see conftest.py). Each test uses its own model names."""

from __future__ import annotations

import time

import pytest

from harness import expect_mlflow_error, unique

# The client warns that stages are deprecated (in favour of aliases); they are still part of the wire API.
pytestmark = pytest.mark.filterwarnings("ignore:.*[Ss]tage.*:FutureWarning")


@pytest.fixture
def run_id(client):
    """A real, finished run (with an artifact root) to register versions from."""
    exp_id = client.create_experiment(unique("registry"))
    run = client.create_run(exp_id)
    client.set_terminated(run.info.run_id)
    return run.info.run_id


def new_model(client, prefix: str = "reg", **kwargs) -> str:
    name = unique(prefix)
    client.create_registered_model(name, **kwargs)
    return name


def add_versions(client, name: str, run_id: str, n: int, **kwargs) -> list:
    return [client.create_model_version(name, f"runs:/{run_id}/model", run_id=run_id, **kwargs) for _ in range(n)]


# ---------------------------------------------------------------------------------------------------------
# Registered models


def test_create_and_get_registered_model(client):
    name = unique("create")
    before = int(time.time() * 1000) - 5_000
    created = client.create_registered_model(name, tags={"team": "quant", "asset": "AAPL"}, description="daily model")
    assert created.name == name
    assert created.description == "daily model"
    assert created.tags == {"team": "quant", "asset": "AAPL"}
    assert created.creation_timestamp >= before
    assert created.last_updated_timestamp == created.creation_timestamp
    assert created.latest_versions == []
    assert created.aliases == {}

    got = client.get_registered_model(name)
    assert got.name == name
    assert got.description == "daily model"
    assert got.tags == {"team": "quant", "asset": "AAPL"}
    assert got.creation_timestamp == created.creation_timestamp
    assert got.last_updated_timestamp == created.last_updated_timestamp
    assert got.latest_versions == []
    assert got.aliases == {}


def test_create_duplicate_registered_model(client):
    name = new_model(client, "dup")
    with expect_mlflow_error("RESOURCE_ALREADY_EXISTS"):
        client.create_registered_model(name)


def test_unknown_registered_model(client):
    name = unique("missing")
    with expect_mlflow_error("RESOURCE_DOES_NOT_EXIST") as err:
        client.get_registered_model(name)
    assert f"Registered Model with name={name} not found" in str(err.value)
    for call in (
        lambda: client.update_registered_model(name, description="x"),
        lambda: client.rename_registered_model(name, unique("other")),
        lambda: client.delete_registered_model(name),
        lambda: client.set_registered_model_tag(name, "k", "v"),
        lambda: client.get_latest_versions(name),
        lambda: client.create_model_version(name, "s3://bucket/model"),
    ):
        with expect_mlflow_error("RESOURCE_DOES_NOT_EXIST"):
            call()


def test_update_description(client):
    name = new_model(client, "upd", description="first")
    before = client.get_registered_model(name)
    time.sleep(0.01)
    updated = client.update_registered_model(name, description="second")
    assert updated.name == name and updated.description == "second"
    got = client.get_registered_model(name)
    assert got.description == "second"
    assert got.creation_timestamp == before.creation_timestamp
    assert got.last_updated_timestamp > before.last_updated_timestamp


def test_registered_model_tags(client):
    name = new_model(client, "tags", tags={"a": "1"})
    client.set_registered_model_tag(name, "b", "2")
    client.set_registered_model_tag(name, "a", "overwritten")
    client.set_registered_model_tag(name, "sharpe", 1.5)  # the client sends str(value)
    assert client.get_registered_model(name).tags == {"a": "overwritten", "b": "2", "sharpe": "1.5"}
    client.delete_registered_model_tag(name, "b")
    assert client.get_registered_model(name).tags == {"a": "overwritten", "sharpe": "1.5"}
    client.delete_registered_model_tag(name, "never-set")  # MLflow: a no-op, not an error
    assert client.get_registered_model(name).tags == {"a": "overwritten", "sharpe": "1.5"}
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        client.set_registered_model_tag(name, "", "empty key")


def test_rename_moves_versions(client, run_id):
    old = new_model(client, "rename-from", tags={"k": "v"}, description="d")
    add_versions(client, old, run_id, 2)
    client.set_registered_model_alias(old, "champion", "2")
    new = unique("rename-to")
    client.rename_registered_model(old, new)  # the client returns None (MLflow's client ignores the answer)

    with expect_mlflow_error("RESOURCE_DOES_NOT_EXIST"):
        client.get_registered_model(old)
    with expect_mlflow_error("RESOURCE_DOES_NOT_EXIST"):
        client.get_model_version(old, "1")
    got = client.get_registered_model(new)
    assert got.tags == {"k": "v"} and got.description == "d"
    assert got.aliases == {"champion": "2"}
    for v in ("1", "2"):
        mv = client.get_model_version(new, v)
        assert mv.name == new and mv.version == v and mv.run_id == run_id
    assert client.get_model_version_by_alias(new, "champion").version == "2"
    assert sorted(mv.version for mv in client.search_model_versions(f"name = '{new}'")) == ["1", "2"]
    assert list(client.search_model_versions(f"name = '{old}'")) == []
    # The next version continues the numbering.
    assert add_versions(client, new, run_id, 1)[0].version == "3"


def test_rename_to_a_taken_name(client):
    a = new_model(client, "taken-a")
    b = new_model(client, "taken-b")
    with expect_mlflow_error("RESOURCE_ALREADY_EXISTS"):
        client.rename_registered_model(a, b)
    assert client.get_registered_model(a).name == a


def test_delete_registered_model(client, run_id):
    name = new_model(client, "del")
    add_versions(client, name, run_id, 2)
    client.delete_registered_model(name)
    with expect_mlflow_error("RESOURCE_DOES_NOT_EXIST"):
        client.get_registered_model(name)
    with expect_mlflow_error("RESOURCE_DOES_NOT_EXIST"):
        client.get_model_version(name, "1")
    assert list(client.search_model_versions(f"name = '{name}'")) == []
    assert list(client.search_registered_models(f"name = '{name}'")) == []
    # The name is free again, and numbering starts over.
    client.create_registered_model(name)
    assert add_versions(client, name, run_id, 1)[0].version == "1"


# ---------------------------------------------------------------------------------------------------------
# Model versions


def test_create_and_get_model_version(client, run_id):
    name = new_model(client, "mv")
    before = int(time.time() * 1000) - 5_000
    mv = client.create_model_version(
        name, f"runs:/{run_id}/model", run_id=run_id, tags={"data": "2024Q1"}, description="first fit",
    )
    assert mv.name == name
    assert mv.version == "1"
    assert mv.source == f"runs:/{run_id}/model"
    assert mv.run_id == run_id
    assert mv.status == "READY"
    assert mv.current_stage == "None"
    assert mv.description == "first fit"
    assert mv.tags == {"data": "2024Q1"}
    assert mv.aliases == []
    assert mv.creation_timestamp >= before
    assert mv.last_updated_timestamp == mv.creation_timestamp

    got = client.get_model_version(name, "1")
    for field in ("name", "version", "source", "run_id", "status", "current_stage", "description", "tags",
                  "aliases", "creation_timestamp", "last_updated_timestamp"):
        assert getattr(got, field) == getattr(mv, field), field

    second = client.create_model_version(name, f"runs:/{run_id}/model", run_id=run_id)
    assert second.version == "2"
    assert second.description == ""
    assert second.tags == {}
    # The registered model's latest_versions lists the newest version per stage.
    assert [v.version for v in client.get_registered_model(name).latest_versions] == ["2"]


def test_model_version_accepts_a_plain_uri_without_run(client):
    name = new_model(client, "mv-uri")
    mv = client.create_model_version(name, "s3://bucket/path/to/model")
    assert mv.version == "1"
    assert mv.source == "s3://bucket/path/to/model"
    assert mv.run_id == "" and mv.run_link == ""
    assert client.get_model_version_download_uri(name, "1") == "s3://bucket/path/to/model"


def test_model_version_rejects_a_traversing_source(client):
    name = new_model(client, "mv-bad")
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        client.create_model_version(name, "s3://bucket/a/../../etc")


def test_update_and_delete_model_version(client, run_id):
    name = new_model(client, "mv-upd")
    add_versions(client, name, run_id, 3)
    before = client.get_model_version(name, "2")
    time.sleep(0.01)
    updated = client.update_model_version(name, "2", description="tuned")
    assert updated.version == "2" and updated.description == "tuned"
    got = client.get_model_version(name, "2")
    assert got.description == "tuned"
    assert got.last_updated_timestamp > before.last_updated_timestamp

    client.delete_model_version(name, "2")
    with expect_mlflow_error("RESOURCE_DOES_NOT_EXIST"):
        client.get_model_version(name, "2")
    with expect_mlflow_error("RESOURCE_DOES_NOT_EXIST"):
        client.delete_model_version(name, "2")
    assert sorted(mv.version for mv in client.search_model_versions(f"name = '{name}'")) == ["1", "3"]
    # Numbers are never reused.
    assert add_versions(client, name, run_id, 1)[0].version == "4"


def test_unknown_model_version(client, run_id):
    name = new_model(client, "mv-missing")
    add_versions(client, name, run_id, 1)
    with expect_mlflow_error("RESOURCE_DOES_NOT_EXIST"):
        client.get_model_version(name, "7")
    with expect_mlflow_error("RESOURCE_DOES_NOT_EXIST"):
        client.update_model_version(name, "7", description="x")
    with expect_mlflow_error("RESOURCE_DOES_NOT_EXIST"):
        client.get_model_version_download_uri(name, "7")
    with expect_mlflow_error("RESOURCE_DOES_NOT_EXIST"):
        client.transition_model_version_stage(name, "7", "Staging")
    with expect_mlflow_error("RESOURCE_DOES_NOT_EXIST"):
        client.set_model_version_tag(name, "7", "k", "v")


def test_model_version_tags(client, run_id):
    name = new_model(client, "mv-tags")
    add_versions(client, name, run_id, 2, tags={"origin": "ci"})
    client.set_model_version_tag(name, "1", "validated", "true")
    client.set_model_version_tag(name, "1", "origin", "manual")
    client.set_model_version_tag(name, "1", "sharpe", 1.25)
    assert client.get_model_version(name, "1").tags == {"origin": "manual", "validated": "true", "sharpe": "1.25"}
    assert client.get_model_version(name, "2").tags == {"origin": "ci"}
    client.delete_model_version_tag(name, "1", "validated")
    assert client.get_model_version(name, "1").tags == {"origin": "manual", "sharpe": "1.25"}
    # By stage instead of version: the latest version in that stage.
    client.transition_model_version_stage(name, "2", "Staging")
    client.set_model_version_tag(name, key="staged", value="yes", stage="Staging")
    assert client.get_model_version(name, "2").tags == {"origin": "ci", "staged": "yes"}


def test_model_version_download_uri(client, run_id):
    name = new_model(client, "mv-uri-run")
    add_versions(client, name, run_id, 1)
    # MLflow answers a runs:/ source as stored; the client resolves it (RunsArtifactRepository) itself.
    assert client.get_model_version_download_uri(name, "1") == f"runs:/{run_id}/model"


# ---------------------------------------------------------------------------------------------------------
# Stages


def test_transition_stages(client, run_id):
    name = new_model(client, "stage")
    add_versions(client, name, run_id, 3)
    before = client.get_model_version(name, "1")
    time.sleep(0.01)
    mv = client.transition_model_version_stage(name, "1", "Staging")
    assert mv.version == "1" and mv.current_stage == "Staging"
    assert client.get_model_version(name, "1").last_updated_timestamp > before.last_updated_timestamp
    # Stage names are case-insensitive on the way in and canonical on the way out.
    assert client.transition_model_version_stage(name, "2", "production").current_stage == "Production"
    assert client.transition_model_version_stage(name, "3", "PRODUCTION").current_stage == "Production"
    # Without archive_existing_versions the other versions keep their stage.
    stages = {mv.version: mv.current_stage for mv in client.search_model_versions(f"name = '{name}'")}
    assert stages == {"1": "Staging", "2": "Production", "3": "Production"}
    assert client.transition_model_version_stage(name, "1", "Archived").current_stage == "Archived"
    assert client.transition_model_version_stage(name, "1", "None").current_stage == "None"


def test_transition_archiving_existing_versions(client, run_id):
    name = new_model(client, "stage-arch")
    add_versions(client, name, run_id, 4)
    client.transition_model_version_stage(name, "1", "Production")
    client.transition_model_version_stage(name, "2", "Production")
    client.transition_model_version_stage(name, "3", "Staging")
    mv = client.transition_model_version_stage(name, "4", "Production", archive_existing_versions=True)
    assert mv.current_stage == "Production"
    stages = {mv.version: mv.current_stage for mv in client.search_model_versions(f"name = '{name}'")}
    # Only the versions in the target stage are archived.
    assert stages == {"1": "Archived", "2": "Archived", "3": "Staging", "4": "Production"}


def test_archive_existing_versions_needs_staging_or_production(client, logbook, run_id):
    name = new_model(client, "stage-arch-bad")
    add_versions(client, name, run_id, 1)
    # Deliberate difference: MLflow's store raises a bare MlflowException here, so MLflow answers 500
    # INTERNAL_ERROR ("... cannot archive existing model versions because 'Archived' is not an Active stage");
    # Logbook answers 400 INVALID_PARAMETER_VALUE for the same bad argument.
    with expect_mlflow_error("INTERNAL_ERROR" if logbook.store_kind == "mlflow" else "INVALID_PARAMETER_VALUE"):
        client.transition_model_version_stage(name, "1", "Archived", archive_existing_versions=True)
    assert client.get_model_version(name, "1").current_stage == "None"


def test_bad_stage(client, run_id):
    name = new_model(client, "stage-bad")
    add_versions(client, name, run_id, 1)
    with expect_mlflow_error("INVALID_PARAMETER_VALUE") as err:
        client.transition_model_version_stage(name, "1", "Live")
    assert "Live" in str(err.value)
    assert client.get_model_version(name, "1").current_stage == "None"
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        client.get_latest_versions(name, stages=["Live"])


def test_get_latest_versions(client, run_id):
    name = new_model(client, "latest")
    add_versions(client, name, run_id, 5)
    client.transition_model_version_stage(name, "1", "Production")
    client.transition_model_version_stage(name, "2", "Production")
    client.transition_model_version_stage(name, "3", "Staging")
    client.transition_model_version_stage(name, "4", "Archived")

    def latest(stages=None):
        return {mv.current_stage: mv.version for mv in client.get_latest_versions(name, stages=stages)}

    assert latest() == {"Production": "2", "Staging": "3", "Archived": "4", "None": "5"}
    assert latest(["Production"]) == {"Production": "2"}
    assert latest(["production", "staging"]) == {"Production": "2", "Staging": "3"}
    assert [mv.version for mv in client.get_latest_versions(name, stages=["Production"])] == ["2"]
    assert sorted(mv.version for mv in client.get_registered_model(name).latest_versions) == ["2", "3", "4", "5"]
    fresh = new_model(client, "latest-empty")
    assert client.get_latest_versions(fresh) == []
    assert client.get_latest_versions(fresh, stages=["Production"]) == []


# ---------------------------------------------------------------------------------------------------------
# Aliases


def test_aliases(client, run_id):
    name = new_model(client, "alias")
    add_versions(client, name, run_id, 3)
    client.set_registered_model_alias(name, "champion", "2")
    client.set_registered_model_alias(name, "challenger", "3")
    client.set_registered_model_alias(name, "baseline", "2")

    by_alias = client.get_model_version_by_alias(name, "champion")
    assert by_alias.name == name and by_alias.version == "2"
    assert sorted(by_alias.aliases) == ["baseline", "champion"]
    assert client.get_registered_model(name).aliases == {"champion": "2", "challenger": "3", "baseline": "2"}
    assert client.get_model_version(name, "3").aliases == ["challenger"]
    assert client.get_model_version(name, "1").aliases == []

    # Re-pointing an alias moves it.
    client.set_registered_model_alias(name, "champion", "3")
    assert client.get_model_version_by_alias(name, "champion").version == "3"
    assert client.get_model_version(name, "2").aliases == ["baseline"]
    assert sorted(client.get_model_version(name, "3").aliases) == ["challenger", "champion"]

    client.delete_registered_model_alias(name, "challenger")
    assert client.get_registered_model(name).aliases == {"champion": "3", "baseline": "2"}
    client.delete_registered_model_alias(name, "never-set")  # MLflow: a no-op, not an error
    # MLflow: INVALID_PARAMETER_VALUE "Registered model alias challenger not found." (not RESOURCE_DOES_NOT_EXIST)
    with expect_mlflow_error("INVALID_PARAMETER_VALUE") as err:
        client.get_model_version_by_alias(name, "challenger")
    assert "Registered model alias challenger not found" in str(err.value)


def test_alias_follows_version_deletion(client, run_id):
    name = new_model(client, "alias-del")
    add_versions(client, name, run_id, 2)
    client.set_registered_model_alias(name, "champion", "1")
    client.set_registered_model_alias(name, "challenger", "2")
    client.delete_model_version(name, "1")
    assert client.get_registered_model(name).aliases == {"challenger": "2"}
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        client.get_model_version_by_alias(name, "champion")


def test_alias_errors(client, run_id):
    name = new_model(client, "alias-err")
    add_versions(client, name, run_id, 1)
    for reserved in ("latest", "v1", "V12"):
        with expect_mlflow_error("INVALID_PARAMETER_VALUE") as err:
            client.set_registered_model_alias(name, reserved, "1")
        assert "reserved" in str(err.value).lower(), str(err.value)
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        client.set_registered_model_alias(name, "bad alias!", "1")
    with expect_mlflow_error("RESOURCE_DOES_NOT_EXIST"):
        client.set_registered_model_alias(name, "champion", "9")
    with expect_mlflow_error("RESOURCE_DOES_NOT_EXIST"):
        client.set_registered_model_alias(unique("alias-nomodel"), "champion", "1")
    assert client.get_registered_model(name).aliases == {}


# ---------------------------------------------------------------------------------------------------------
# Searches


def test_search_registered_models(client):
    prefix = unique("srm")
    names = [f"{prefix}-{c}" for c in "abcde"]
    for i, n in enumerate(names):
        client.create_registered_model(n, tags={"tier": "gold" if i % 2 == 0 else "silver", "i": str(i)})
        time.sleep(0.005)

    def search(**kwargs):
        return [m.name for m in client.search_registered_models(**kwargs)]

    assert search(filter_string=f"name LIKE '{prefix}-%'") == names  # default order: name ASC
    assert search(filter_string=f"name = '{names[2]}'") == [names[2]]
    assert search(filter_string=f"name ILIKE '{prefix.upper()}-%'") == names
    assert search(filter_string=f"name LIKE '{prefix}-%' AND tags.tier = 'gold'") == [names[0], names[2], names[4]]
    assert search(filter_string=f"name LIKE '{prefix}-%' AND tag.tier != 'gold'") == [names[1], names[3]]
    assert search(filter_string=f"name LIKE '{prefix}-%' AND tags.tier LIKE 'sil%'") == [names[1], names[3]]
    assert search(filter_string=f"name LIKE '{prefix}-%'", order_by=["name DESC"]) == names[::-1]
    # Registered models order by `timestamp` (creation), `last_updated_timestamp` and `name`.
    assert search(filter_string=f"name LIKE '{prefix}-%'", order_by=["timestamp DESC"]) == names[::-1]
    assert search(filter_string=f"name LIKE '{prefix}-%'", order_by=["last_updated_timestamp DESC"]) == names[::-1]
    assert search(filter_string=f"name LIKE '{prefix}-%'", order_by=["timestamp ASC"]) == names
    assert search(filter_string=f"name = '{prefix}-nope'") == []

    # Paging: the token is opaque; the last page has none.
    # Search results carry latest_versions, tags and aliases like get does.
    client.create_model_version(names[0], "s3://bucket/model")
    client.create_model_version(names[0], "s3://bucket/model")
    client.transition_model_version_stage(names[0], "1", "Production")
    client.set_registered_model_alias(names[0], "champion", "1")
    first = client.search_registered_models(f"name = '{names[0]}'")[0]
    assert sorted((v.version, v.current_stage) for v in first.latest_versions) == [("1", "Production"), ("2", "None")]
    assert first.aliases == {"champion": "1"} and first.tags == {"tier": "gold", "i": "0"}

    page1 = client.search_registered_models(f"name LIKE '{prefix}-%'", max_results=2)
    assert [m.name for m in page1] == names[:2] and page1.token
    page2 = client.search_registered_models(f"name LIKE '{prefix}-%'", max_results=2, page_token=page1.token)
    assert [m.name for m in page2] == names[2:4] and page2.token
    page3 = client.search_registered_models(f"name LIKE '{prefix}-%'", max_results=2, page_token=page2.token)
    assert [m.name for m in page3] == names[4:] and not page3.token


def test_search_registered_models_errors(client):
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        client.search_registered_models(filter_string="name = 'x' OR name = 'y'")
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        client.search_registered_models(filter_string="run_id = 'x'")
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        client.search_registered_models(order_by=["color ASC"])
    with expect_mlflow_error("INVALID_PARAMETER_VALUE") as err:
        # MLflow's registered-model order keys are timestamp, last_updated_timestamp and name (not the
        # model versions' creation_timestamp)
        client.search_registered_models(order_by=["creation_timestamp ASC"])
    assert "creation_timestamp" in str(err.value)
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        client.search_registered_models(max_results=1001)
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        client.search_registered_models(page_token="not-a-token")


def test_search_model_versions(client, run_id):
    other_run = client.create_run(client.get_run(run_id).info.experiment_id).info.run_id
    name = new_model(client, "smv")
    add_versions(client, name, run_id, 3, tags={"kind": "linear"})
    client.create_model_version(name, f"runs:/{other_run}/model", run_id=other_run, tags={"kind": "tree"})
    client.create_model_version(name, f"runs:/{other_run}/model", run_id=other_run)

    def versions(filter_string, **kwargs):
        return [mv.version for mv in client.search_model_versions(filter_string, **kwargs)]

    # Default order: name ASC, then version DESC.
    assert versions(f"name = '{name}'") == ["5", "4", "3", "2", "1"]
    assert versions(f"name = '{name}'", order_by=["version_number ASC"]) == ["1", "2", "3", "4", "5"]
    assert versions(f"name = '{name}' AND run_id = '{other_run}'") == ["5", "4"]
    assert versions(f"name = '{name}' AND run_id IN ('{run_id}')") == ["3", "2", "1"]
    assert versions(f"name = '{name}' AND tags.kind = 'linear'") == ["3", "2", "1"]
    assert versions(f"name = '{name}' AND tags.kind != 'linear'") == ["4"]
    assert versions(f"name = '{name}' AND version_number >= 4") == ["5", "4"]
    assert versions(f"name LIKE '{name[:-3]}%' AND source_path = 'runs:/{other_run}/model'") == ["5", "4"]
    assert versions(f"name = '{name}'", order_by=["creation_timestamp ASC"]) == ["1", "2", "3", "4", "5"]

    page1 = client.search_model_versions(f"name = '{name}'", max_results=2, order_by=["version_number ASC"])
    assert [mv.version for mv in page1] == ["1", "2"] and page1.token
    page2 = client.search_model_versions(
        f"name = '{name}'", max_results=2, order_by=["version_number ASC"], page_token=page1.token)
    assert [mv.version for mv in page2] == ["3", "4"] and page2.token
    page3 = client.search_model_versions(
        f"name = '{name}'", max_results=2, order_by=["version_number ASC"], page_token=page2.token)
    assert [mv.version for mv in page3] == ["5"] and not page3.token

    found = client.search_model_versions(f"name = '{name}' AND version_number = 4")[0]
    assert found.run_id == other_run and found.tags == {"kind": "tree"} and found.current_stage == "None"


def test_search_model_versions_across_models(client, run_id):
    prefix = unique("smv-multi")
    for suffix in ("b", "a"):
        client.create_registered_model(f"{prefix}-{suffix}")
        add_versions(client, f"{prefix}-{suffix}", run_id, 2)
    a, b = f"{prefix}-a", f"{prefix}-b"

    def search(filter_string, **kwargs):
        return [(mv.name, mv.version) for mv in client.search_model_versions(filter_string, **kwargs)]

    # MLflow's default order is last_updated_timestamp DESC, then name ASC, then version_number DESC.
    assert search(f"name LIKE '{prefix}-%'") == [(a, "2"), (a, "1"), (b, "2"), (b, "1")]
    time.sleep(0.01)
    client.update_model_version(b, "1", description="touched")  # now the most recently updated
    assert search(f"name LIKE '{prefix}-%'") == [(b, "1"), (a, "2"), (a, "1"), (b, "2")]
    assert search(f"name IN ('{a}', '{b}')", order_by=["name ASC", "version_number ASC"]) == [
        (a, "1"), (a, "2"), (b, "1"), (b, "2")]
    assert search(f"name LIKE '{prefix}-%' AND name NOT IN ('{a}')", order_by=["version_number DESC"]) == [
        (b, "2"), (b, "1")]
    got = [(mv.name, mv.version) for mv in client.search_model_versions(
        f"name LIKE '{prefix}-%'", order_by=["name DESC", "version_number ASC"])]
    assert got == [(f"{prefix}-b", "1"), (f"{prefix}-b", "2"), (f"{prefix}-a", "1"), (f"{prefix}-a", "2")]


def test_search_model_versions_errors(client):
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        client.search_model_versions("name = 'x' OR name = 'y'")
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        client.search_model_versions("metrics.x > 1")
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        client.search_model_versions("name = 'x'", order_by=["color DESC"])

