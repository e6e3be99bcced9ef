"""The funding estimator: per-hour rates, EWMA levels, AR(1) persistence, horizon sums."""

from __future__ import annotations

import pytest

from xmargin.strategy.funding_model import FundingEstimator


def test_rates_are_compared_per_hour_whatever_the_interval():
    eight, hourly = FundingEstimator(min_settlements=1), FundingEstimator(min_settlements=1)
    eight.observe(0.0008, 8)
    hourly.observe(0.0001, 1)
    assert eight.mean == hourly.mean == pytest.approx(0.0001)
    assert eight.expected(24) == pytest.approx(hourly.expected(24)) == pytest.approx(0.0024)


def test_not_ready_before_the_minimum_number_of_settlements():
    estimator = FundingEstimator(min_settlements=3)
    estimator.observe(0.0001, 8)
    estimator.observe(0.0001, 8)
    assert not estimator.ready
    estimator.observe(0.0001, 8)
    assert estimator.ready


def test_level_and_mean_are_exponentially_weighted_by_hours():
    estimator = FundingEstimator(long_half_life_hours=16, short_half_life_hours=8)
    estimator.observe(0.0008, 8)  # 0.0001 per hour
    estimator.observe(0.0024, 8)  # 0.0003 per hour
    # weights: long 1 - 0.5^(8/16) = 0.29289..., short 1 - 0.5^(8/8) = 0.5
    assert estimator.mean == pytest.approx(0.0001 + (1 - 0.5**0.5) * 0.0002)
    assert estimator.level == pytest.approx(0.0002)


def test_persistence_is_the_lag_one_autocorrelation_turned_per_hour():
    estimator = FundingEstimator(window=10)
    for rate in (1.0, 2.0, 1.0, 2.0, 1.0):  # alternating: negative autocorrelation
        estimator.observe(rate, 1)
    assert estimator.autocorrelation == 0.0
    trending = FundingEstimator(window=10)
    for rate in (1.0, 2.0, 3.0, 4.0, 5.0):
        trending.observe(rate * 8, 8)
    # deviations -2..2: covariance (-2*-1 + -1*0 + 0*1 + 1*2) / 10 = 0.4
    assert trending.autocorrelation == pytest.approx(0.4)
    assert trending.persistence == pytest.approx(0.4 ** (1 / 8))


def test_expected_funding_decays_from_the_level_to_the_mean():
    estimator = FundingEstimator()
    estimator.mean, estimator.level, estimator.interval_hours = 0.0001, 0.0003, 1
    estimator._rates.extend([1.0, 2.0, 3.0, 4.0, 5.0])  # autocorrelation 0.4 (see above)
    phi = 0.4
    decay = phi * (1 - phi**10) / (1 - phi)
    assert estimator.expected(10) == pytest.approx(10 * 0.0001 + 0.0002 * decay)
    assert FundingEstimator().expected(5) == 0.0
