"""Backtest metrics: exact figures on hand-made curves and trips, and their JSON form."""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import pytest

from xmargin.backtest.metrics import DAY_MS, Metrics, compute_metrics, metrics_dict
from xmargin.backtest.round_trips import RoundTrip
from xmargin.core.errors import DataError

D = Decimal
HOUR_MS = 3_600_000
SPLIT = {"trading": D("21.5"), "fees": D("-0.5"), "funding": D("0"), "interest": D("0")}


def trip(pnl: str) -> RoundTrip:
    return RoundTrip("a", "BTC/USDT:USDT", "long", 0, 1, D(1), D(100), D(pnl), D(0))


def metrics(
    grid: list[int],
    equity: list[float],
    gross: list[float] | None = None,
    trips: Sequence[RoundTrip] = (),
    traded: float = 0.0,
) -> Metrics:
    exposure = [0.0] * len(equity) if gross is None else gross
    return compute_metrics(
        np.array(grid), np.array(equity), np.array(exposure), list(trips), traded, SPLIT
    )


def test_three_day_curve_gives_returns_ratios_and_drawdown_by_hand() -> None:
    m = metrics([0, DAY_MS, 2 * DAY_MS, 3 * DAY_MS], [100.0, 110.0, 99.0, 121.0])
    daily = [110 / 100 - 1, 99 / 110 - 1, 121 / 99 - 1]  # 0.1, −0.1, 0.2222…
    mean = statistics.fmean(daily)
    cagr = (121 / 100) ** (365.25 / 3) - 1
    assert m.start_equity == 100.0
    assert m.final_equity == 121.0
    assert m.total_return == pytest.approx(0.21, rel=1e-12)
    assert m.cagr == pytest.approx(cagr, rel=1e-12)
    assert m.sharpe == pytest.approx(mean / statistics.pstdev(daily) * math.sqrt(365), rel=1e-12)
    downside = math.sqrt((0.0 + 0.1**2 + 0.0) / 3)
    assert m.sortino == pytest.approx(mean / downside * math.sqrt(365), rel=1e-12)
    assert m.max_drawdown == pytest.approx(0.1, rel=1e-12)
    assert (m.max_drawdown_start_ms, m.max_drawdown_end_ms) == (DAY_MS, 2 * DAY_MS)
    assert m.calmar == pytest.approx(cagr / 0.1, rel=1e-12)


def test_daily_returns_use_the_last_value_of_each_utc_day() -> None:
    grid = [0, 12 * HOUR_MS, DAY_MS - 1, DAY_MS, DAY_MS + HOUR_MS, 2 * DAY_MS + 5]
    equity = [100.0, 300.0, 100.0, 50.0, 120.0, 96.0]  # day closes 100, 120, 96
    m = metrics(grid, equity)
    daily = [0.2, 96 / 120 - 1]
    assert m.sharpe == pytest.approx(
        statistics.fmean(daily) / statistics.pstdev(daily) * math.sqrt(365), rel=1e-12
    )


def test_max_drawdown_is_measured_on_the_full_resolution_curve_from_the_last_peak() -> None:
    grid = [0, HOUR_MS, 2 * HOUR_MS, 3 * HOUR_MS, 4 * HOUR_MS]
    m = metrics(grid, [100.0, 200.0, 200.0, 50.0, 300.0])
    assert m.max_drawdown == 0.75
    assert (m.max_drawdown_start_ms, m.max_drawdown_end_ms) == (2 * HOUR_MS, 3 * HOUR_MS)


def test_flat_short_curve_leaves_undefined_ratios_as_none() -> None:
    m = metrics([0, HOUR_MS], [100.0, 100.0])
    assert m.total_return == 0.0
    assert (m.cagr, m.sharpe, m.sortino, m.calmar) == (None, None, None, None)
    assert (m.max_drawdown, m.max_drawdown_start_ms, m.max_drawdown_end_ms) == (0.0, None, None)
    assert (m.trades, m.win_rate, m.profit_factor, m.average_win, m.average_loss) == (
        0,
        None,
        None,
        None,
        None,
    )
    assert (m.exposure, m.average_leverage) == (0.0, None)


def test_constant_daily_growth_has_zero_variance_and_no_sharpe_or_sortino() -> None:
    m = metrics([0, DAY_MS, 2 * DAY_MS, 3 * DAY_MS], [100.0, 110.0, 121.0, 133.1])
    assert m.sharpe is None
    assert m.sortino is None
    assert m.cagr == pytest.approx(1.331 ** (365.25 / 3) - 1, rel=1e-9)


def test_trade_statistics_from_round_trips_stay_exact() -> None:
    m = metrics(
        [0, DAY_MS], [100.0, 100.0], trips=[trip("3"), trip("-1"), trip("0"), trip("1"), trip("-2")]
    )
    assert m.trades == 5
    assert m.win_rate == 0.4
    assert m.profit_factor == pytest.approx(4 / 3, rel=1e-15)
    assert m.average_win == D(2)
    assert m.average_loss == D("-1.5")


def test_no_losing_trip_leaves_profit_factor_undefined() -> None:
    assert metrics([0, DAY_MS], [1.0, 2.0], trips=[trip("1")]).profit_factor is None


def test_exposure_leverage_and_turnover() -> None:
    m = metrics(
        [0, 1, 2, 3], [100.0, 100.0, 100.0, 150.0], gross=[0.0, 200.0, 0.0, 300.0], traded=1_125.0
    )
    assert m.exposure == 0.5
    assert m.average_leverage == 2.0
    assert m.turnover == 1_125.0 / 112.5


def test_pnl_split_is_passed_through() -> None:
    assert dict(metrics([0, 1], [1.0, 1.0]).pnl_split) == SPLIT


def test_leading_nan_is_dropped_and_a_later_nan_is_rejected() -> None:
    m = metrics([0, DAY_MS, 2 * DAY_MS], [math.nan, 100.0, 90.0])
    assert m.start_equity == 100.0
    assert m.total_return == pytest.approx(-0.1, rel=1e-12)
    assert m.cagr == pytest.approx(0.9**365.25 - 1, rel=1e-12)  # the run starts at day 1
    with pytest.raises(DataError, match="row 2"):
        metrics([0, 1, 2], [100.0, 101.0, math.nan])


def test_mismatched_or_decreasing_inputs_are_rejected() -> None:
    with pytest.raises(DataError, match="one length"):
        compute_metrics(np.array([0, 1]), np.array([1.0]), np.array([0.0, 0.0]), [], 0.0, {})
    with pytest.raises(DataError, match="decrease"):
        metrics([1, 0], [1.0, 1.0])


def test_metrics_dict_is_json_ready_with_decimal_strings_and_ten_significant_digits() -> None:
    m = metrics(
        [0, DAY_MS, 2 * DAY_MS, 3 * DAY_MS],
        [100.0, 110.0, 99.0, 121.0],
        trips=[trip("1.25"), trip("-0.5")],
    )
    out = metrics_dict(m)
    assert out["average_win"] == "1.25"
    assert out["pnl_split"] == {"trading": "21.5", "fees": "-0.5", "funding": "0", "interest": "0"}
    assert out["sharpe"] == float(f"{m.sharpe:.10g}")
    assert out["max_drawdown"] == 0.1
    assert out["average_leverage"] is None
    assert out["trades"] == 2
    assert json.loads(json.dumps(out)) == out
