"""logbook.sdk.financial_metrics against the golden fixture clients/fixtures/financial-metrics.json (computed
independently with numpy/pandas by make_financial_metrics.py; the TypeScript SDK tests read the same file)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from logbook.sdk import financial_metrics as fm

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "financial-metrics.json"
DOC = json.loads(FIXTURE.read_text())
CASES = DOC["cases"]


def expected_float(value) -> float:
    assert value == "NaN" or isinstance(value, (int, float)), value  # the fixture's NaN encoding
    return float(value)


def same(got: float, want: float) -> bool:
    if math.isnan(want):
        return math.isnan(got)
    tol = DOC["tolerance"]
    return math.isclose(got, want, rel_tol=tol["relative"], abs_tol=tol["absolute"])


def test_fixture_covers_the_edge_cases():
    names = {c["name"] for c in CASES}
    assert {"empty", "single_period", "all_zeros", "monotonic_rising", "daily_mixed_rf", "monthly_mixed"} <= names
    assert {c["periods_per_year"] for c in CASES} == {12, 252}
    assert any(c["risk_free"] != 0 for c in CASES)
    assert any(min(c["returns"], default=0) < 0 for c in CASES)
    assert DOC["metrics"] == list(fm.METRIC_NAMES)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_each_metric_matches_the_fixture(case):
    p, rf, r = case["periods_per_year"], case["risk_free"], case["returns"]
    got = {
        "annualized_return": fm.annualized_return(r, periods_per_year=p),
        "annualized_volatility": fm.annualized_volatility(r, periods_per_year=p),
        "sharpe_ratio": fm.sharpe_ratio(r, periods_per_year=p, risk_free=rf),
        "sortino_ratio": fm.sortino_ratio(r, periods_per_year=p, risk_free=rf),
        "max_drawdown": fm.max_drawdown(r),
        "calmar_ratio": fm.calmar_ratio(r, periods_per_year=p),
        "hit_rate": fm.hit_rate(r),
    }
    assert all(isinstance(v, float) for v in got.values())  # no exception above, every value a float
    mismatches = {k: (got[k], v) for k, v in case["expected"].items() if not same(got[k], expected_float(v))}
    assert not mismatches
    summary = fm.summary(r, periods_per_year=p, risk_free=rf)
    assert all(same(summary[k], expected_float(v)) for k, v in case["expected"].items())


def test_defaults_are_daily_and_zero_risk_free():
    case = next(c for c in CASES if c["name"] == "daily_mixed")
    assert case["periods_per_year"] == DOC["defaults"]["periods_per_year"] == 252
    got = fm.summary(case["returns"])
    assert all(same(got[k], expected_float(v)) for k, v in case["expected"].items())


def test_undefined_cases_are_nan_not_exceptions():
    assert all(math.isnan(v) for v in fm.summary([]).values())
    assert all(math.isnan(v) for v in fm.summary([0.1]).values())
    flat = fm.summary([0.0, 0.0, 0.0])
    assert flat["annualized_volatility"] == 0.0 and flat["max_drawdown"] == 0.0
    assert math.isnan(flat["sharpe_ratio"]) and math.isnan(flat["sortino_ratio"]) and math.isnan(flat["calmar_ratio"])
    assert math.isnan(fm.annualized_return([-1.5, 0.1]))  # wealth below zero has no annualised rate


def test_needs_no_numpy_at_run_time():
    code = (
        "import sys, builtins\n"
        "real = builtins.__import__\n"
        "def guard(name, *a, **k):\n"
        "    if name.split('.')[0] in ('numpy', 'pandas'): raise ImportError(name)\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = guard\n"
        "from logbook.sdk import financial_metrics as fm\n"
        "print(fm.sharpe_ratio([0.01, -0.02, 0.03]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert math.isfinite(float(out.stdout))
