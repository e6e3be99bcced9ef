"""TWAP and VWAP: exact child orders, progress and slippage against the arrival price."""

from __future__ import annotations

from tests.unit.execution.support import ACCOUNT, BTC, run_algo
from tests.unit.strategy.support import T0, D, events, orders

from xmargin.execution.algos.twap import Twap, TwapParams
from xmargin.execution.algos.vwap import VolumeProfile, Vwap, VwapParams
from xmargin.model.market_data import Bar

PRICES = [50000.0 + 10 * i for i in range(20)]  # one 5-minute bar each, rising 10 a bar


def rows(prices, volume=1_000_000.0):
    return [(p, p, p, p, volume) for p in prices]


def twap(quantity="1", slices=4, duration_s=3600):
    params = TwapParams(
        instrument=BTC, side="buy", quantity=D(quantity), slices=slices, duration_s=duration_s
    )
    return lambda listener: Twap("twap-1", params, listener)


def children(result):
    return [(m, side, qty) for m, account, _, side, qty in orders(result) if account == ACCOUNT]


def test_twap_sends_equal_slices_at_equal_intervals_and_reports_slippage():
    parent, result = run_algo(twap(), rows(PRICES))

    # started at the close of the first bar (T0 + 5 min); a slice every 15 minutes
    assert children(result) == [
        (5, "buy", D("0.25")),
        (20, "buy", D("0.25")),
        (35, "buy", D("0.25")),
        (50, "buy", D("0.25")),
    ]
    report = parent.reports[-1]
    assert report.done and report.filled == 1 and report.progress == 1
    assert report.arrival_price == D(50000)
    # fills at 50,000, 50,030, 50,060, 50,090: average 50,045, 9 bp above arrival
    assert report.average_price == D(50045)
    assert report.slippage_bps == D(9)
    assert [r.progress for r in parent.reports] == [D("0.25"), D("0.5"), D("0.75"), 1, 1]


def test_a_partly_filled_slice_rolls_into_the_later_ones():
    # each bar trades 2 BTC: 10 % participation lets 0.2 of each slice fill
    parent, result = run_algo(
        twap(), rows(PRICES, volume=2.0), slippage={"kind": "volume", "participation": "0.1"}
    )

    assert children(result) == [
        (5, "buy", D("0.25")),
        (20, "buy", D("0.266")),  # 0.8 left over 3 slices, to the lot
        (35, "buy", D("0.3")),  # 0.6 over 2
        (50, "buy", D("0.4")),  # the last slice sends all that is left
    ]
    report = parent.reports[-1]
    assert report.done and report.filled == D("0.8") and report.progress == D("0.8")


def test_twap_children_go_through_the_risk_engine():
    parent, result = run_algo(twap(slices=2), rows(PRICES), risk={"max_order_quantity": "0.3"})

    denied = events(result, "OrderDenied")
    assert [(e["rule"], e["strategy"]) for e in denied] == [("max_order_quantity", "twap-1")] * 2
    report = parent.reports[-1]
    assert report.done and report.filled == 0 and report.failed_children == 2


def test_volume_profile_is_the_share_of_the_day_per_bucket():
    profile = VolumeProfile(bucket_s=3600)
    hour = 3600 * 10**9
    for day in range(2):
        for h, volume in ((1, 10.0), (2, 30.0)):
            start = T0 * 10**6 + day * 24 * hour + h * hour
            profile.add(Bar("v", BTC, "1h", start, start + hour, 1, 1, 1, 1, volume))
    weights = profile.weights()
    assert weights[1] == 0.25 and weights[2] == 0.75 and sum(weights) == 1


def test_vwap_slices_follow_the_volume_profile():
    weights = ["1"] * 24
    weights[1:5] = ["1", "2", "3", "4"]  # hours 01-04 UTC
    params = VwapParams(
        instrument=BTC,
        side="sell",
        quantity=D(1),
        duration_s=4 * 3600,
        bucket_s=3600,
        profile=",".join(weights),
    )
    hourly = [50000.0 - 100 * i for i in range(8)]
    parent, result = run_algo(
        lambda listener: Vwap("vwap-1", params, listener),
        rows(hourly),
        timeframe="1h",
        buy_first=D(1),
    )

    assert children(result)[1:] == [
        (60, "sell", D("0.1")),  # 1 × 1/(1+2+3+4)
        (120, "sell", D("0.2")),  # 0.9 × 2/9
        (180, "sell", D("0.3")),  # 0.7 × 3/7
        (240, "sell", D("0.4")),  # the last: all that is left
    ]
    report = parent.reports[-1]
    assert report.done and report.filled == 1
    # sold at 50,000, 49,900, 49,800, 49,700 (weighted 0.1/0.2/0.3/0.4) against an arrival
    # of 50,000: average 49,800, 40 bp worse
    assert report.average_price == D(49800) and report.slippage_bps == D(40)
