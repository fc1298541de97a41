"""Run search through the official MlflowClient on both stores: filter_string, order_by, max_results, page_token."""

from __future__ import annotations

import math

import pytest
from mlflow.entities import Metric, Param, ViewType

from harness import expect_mlflow_error, unique


@pytest.fixture
def runs(client):
    """Five runs of one experiment: (name, start, sharpe or None, symbol); run 'three' has a NaN sharpe."""
    experiment_id = client.create_experiment(unique("search"))
    spec = [("one", 1000, 1.5, "AAPL"), ("two", 2000, 2.5, "AAPL"), ("three", 3000, math.nan, "AAPL"), ("four", 4000, None, "AAPL"), ("five", 5000, 2.5, "MSFT")]
    for name, start, sharpe, symbol in spec:
        run = client.create_run(experiment_id, start_time=start, run_name=name)
        metrics = [Metric("r2", start / 10_000, start, 0)] + ([] if sharpe is None else [Metric("sharpe ratio", sharpe, start, 0)])
        client.log_batch(run.info.run_id, metrics=metrics, params=[Param("symbol", symbol)])
    return experiment_id


def names(found):
    return [r.info.run_name for r in found]


def test_search_runs_filter_and_order(client, runs):
    found = client.search_runs([runs], filter_string="params.symbol = 'AAPL' and metrics.r2 > 0.15", order_by=["metrics.`sharpe ratio` DESC"])
    assert names(found) == ["two", "three", "four"]
    found = client.search_runs([runs], order_by=['metrics."sharpe ratio" ASC'])
    assert names(found) == ["one", "five", "two", "three", "four"]
    assert names(client.search_runs([runs], filter_string="params.symbol LIKE 'A%' and attributes.run_name ILIKE 'T%'")) == ["three", "two"]
    ids = [r.info.run_id for r in client.search_runs([runs], filter_string="params.symbol = 'MSFT'")]
    assert names(client.search_runs([runs], filter_string=f"attributes.run_id IN ('{ids[0]}')")) == ["five"]
    found = client.search_runs([runs], filter_string="metrics.`sharpe ratio` != 1.5")
    assert names(found) == ["five", "three", "two"]
    assert math.isnan(next(r for r in found if r.info.run_name == "three").data.metrics["sharpe ratio"])


def test_search_runs_pages(client, runs):
    seen = []
    token = None
    while True:
        page = client.search_runs([runs], order_by=["metrics.r2 DESC"], max_results=2, page_token=token)
        assert len(page) <= 2
        seen += names(page)
        token = page.token
        if not token:
            break
    assert seen == ["five", "four", "three", "two", "one"]
    assert names(client.search_runs([runs], max_results=3)) == ["five", "four", "three"]


def test_search_runs_view_types(client, runs):
    four = client.search_runs([runs], filter_string="attributes.run_name = 'four'")[0]
    client.delete_run(four.info.run_id)
    assert "four" not in names(client.search_runs([runs]))
    assert names(client.search_runs([runs], run_view_type=ViewType.DELETED_ONLY)) == ["four"]
    assert len(client.search_runs([runs], run_view_type=ViewType.ALL)) == 5


def test_search_runs_errors(client, runs):
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        client.search_runs([runs], filter_string="metrics.r2 > 0 OR params.symbol = 'x'")
    with pytest.raises(Exception, match=r"Invalid clause\(s\) in filter string"):
        client.search_runs([runs], filter_string="metrics.r2 > 0 OR params.symbol = 'x'")
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        client.search_runs([runs], page_token="not-a-token")
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        client.search_runs([runs], filter_string="attributes.run_name IN ('one', 'five')")


def test_fluent_search_runs(fluent, client, runs):
    frame = fluent.search_runs([runs], filter_string="params.symbol = 'AAPL'", order_by=["start_time ASC"])
    assert list(frame["tags.mlflow.runName"]) == ["one", "two", "three", "four"]


def test_search_experiments(client):
    prefix = unique("sx")
    first = client.create_experiment(f"{prefix}-a", tags={"team": "quant"})
    second = client.create_experiment(f"{prefix}-b")
    client.delete_experiment(second)
    found = client.search_experiments(filter_string=f"name LIKE '{prefix}-%'")
    assert [e.experiment_id for e in found] == [first]
    found = client.search_experiments(view_type=ViewType.ALL, filter_string=f"name LIKE '{prefix}-%'", order_by=["name DESC"])
    assert [e.name for e in found] == [f"{prefix}-b", f"{prefix}-a"]
    assert [e.experiment_id for e in client.search_experiments(filter_string="tags.team = 'quant'")] == [first]
    page = client.search_experiments(view_type=ViewType.ALL, max_results=1, filter_string=f"name LIKE '{prefix}-%'")
    assert len(page) == 1 and page.token
    rest = client.search_experiments(view_type=ViewType.ALL, max_results=1, filter_string=f"name LIKE '{prefix}-%'", page_token=page.token)
    assert {page[0].name, rest[0].name} == {f"{prefix}-a", f"{prefix}-b"}
