"""Financial metrics for trading-model evaluation — pure Python, no numpy needed.

``r`` is a sequence of per-period simple returns (n = len(r)), ``periods_per_year`` (p) defaults to 252 (daily;
12 for monthly), ``risk_free`` (rf) is a per-period rate, default 0:

- ``annualized_return``      (∏(1 + r)) ** (p / n) − 1
- ``annualized_volatility``  stdev(r, ddof=1) · √p
- ``sharpe_ratio``           mean(r − rf) / stdev(r − rf, ddof=1) · √p
- ``sortino_ratio``          mean(r − rf) / √(mean(min(0, r − rf)²)) · √p   (downside over *all* periods)
- ``max_drawdown``           the deepest fall of the compounded equity curve E_0 = 1, E_t = ∏_{i≤t}(1 + r_i) below
                             its running peak, as a negative fraction (−0.25 = 25 % below the peak); 0.0 if none
- ``calmar_ratio``           annualized_return / |max_drawdown|
- ``hit_rate``               share of periods with r > 0 (a zero return is a miss)

Undefined cases give NaN, never an exception: fewer than two returns (every metric), a zero deviation (Sharpe when
stdev(r − rf) is 0, Sortino when no period is below rf), no drawdown (Calmar), a compounded growth below zero
(annualised return). Annualised volatility 0.0 and max drawdown 0.0 stay defined. The golden fixture
clients/fixtures/financial-metrics.json (computed independently with numpy/pandas) pins all of this.
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence

__all__ = [
    "annualized_return",
    "annualized_volatility",
    "sharpe_ratio",
    "sortino_ratio",
    "max_drawdown",
    "calmar_ratio",
    "hit_rate",
    "summary",
    "METRIC_NAMES",
]

NAN = float("nan")
METRIC_NAMES = (
    "annualized_return",
    "annualized_volatility",
    "sharpe_ratio",
    "sortino_ratio",
    "max_drawdown",
    "calmar_ratio",
    "hit_rate",
)


def _floats(returns: Iterable[float]) -> list[float]:
    return [float(x) for x in returns]


def _mean(xs: Sequence[float]) -> float:
    return math.fsum(xs) / len(xs)


def _stdev(xs: Sequence[float]) -> float:
    """Sample standard deviation (ddof=1); 0.0 exactly when every value is the same."""
    m = _mean(xs)
    return math.sqrt(math.fsum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def annualized_return(returns: Iterable[float], periods_per_year: float = 252) -> float:
    r = _floats(returns)
    if len(r) < 2:
        return NAN
    growth = math.prod(1.0 + x for x in r)
    if not growth >= 0:  # negative (or NaN) wealth has no real root
        return NAN
    return growth ** (periods_per_year / len(r)) - 1.0


def annualized_volatility(returns: Iterable[float], periods_per_year: float = 252) -> float:
    r = _floats(returns)
    if len(r) < 2:
        return NAN
    return _stdev(r) * math.sqrt(periods_per_year)


def sharpe_ratio(returns: Iterable[float], periods_per_year: float = 252, risk_free: float = 0.0) -> float:
    r = _floats(returns)
    if len(r) < 2:
        return NAN
    excess = [x - risk_free for x in r]
    deviation = _stdev(excess)
    if deviation == 0 or math.isnan(deviation):
        return NAN
    return _mean(excess) / deviation * math.sqrt(periods_per_year)


def sortino_ratio(returns: Iterable[float], periods_per_year: float = 252, risk_free: float = 0.0) -> float:
    r = _floats(returns)
    if len(r) < 2:
        return NAN
    excess = [x - risk_free for x in r]
    downside = math.sqrt(_mean([min(0.0, x) ** 2 for x in excess]))
    if downside == 0 or math.isnan(downside):
        return NAN
    return _mean(excess) / downside * math.sqrt(periods_per_year)


def max_drawdown(returns: Iterable[float]) -> float:
    r = _floats(returns)
    if len(r) < 2:
        return NAN
    equity = peak = 1.0
    deepest = 0.0
    for x in r:
        equity *= 1.0 + x
        peak = max(peak, equity)
        deepest = min(deepest, (equity - peak) / peak)
    return deepest + 0.0  # never -0.0


def calmar_ratio(returns: Iterable[float], periods_per_year: float = 252) -> float:
    r = _floats(returns)
    drawdown = max_drawdown(r)
    if math.isnan(drawdown) or drawdown == 0:
        return NAN
    return annualized_return(r, periods_per_year) / abs(drawdown)


def hit_rate(returns: Iterable[float]) -> float:
    r = _floats(returns)
    if len(r) < 2:
        return NAN
    return sum(1 for x in r if x > 0) / len(r)


def summary(returns: Iterable[float], periods_per_year: float = 252, risk_free: float = 0.0) -> dict[str, float]:
    """Every metric above, keyed by METRIC_NAMES (ready for ``log_metrics``)."""
    r = _floats(returns)
    return {
        "annualized_return": annualized_return(r, periods_per_year),
        "annualized_volatility": annualized_volatility(r, periods_per_year),
        "sharpe_ratio": sharpe_ratio(r, periods_per_year, risk_free),
        "sortino_ratio": sortino_ratio(r, periods_per_year, risk_free),
        "max_drawdown": max_drawdown(r),
        "calmar_ratio": calmar_ratio(r, periods_per_year),
        "hit_rate": hit_rate(r),
    }
