"""Liquidation, mark stops and margin checks on the 5-minute path under hourly marks, on the
real 2025-10-10 XRP crash (decision 0003).

Every expected figure is computed here from the raw pack files and the Binance USDⓈ-M
formulas (spec C.3), not by the code under test. The point-in-time mark estimate of a
5-minute bar closing at ``t`` is its price carried by the basis measured when the latest
hourly mark before ``t`` completed: that mark's close minus the close of the 5-minute bar
ending at the same instant; before the run's first mark the basis is 0.
"""

from __future__ import annotations

import csv
import gzip
from decimal import ROUND_DOWN, Decimal
from functools import cache
from pathlib import Path
from typing import NamedTuple

from tests.pack import DATA_PACK, needs_pack
from tests.scenario.harness import AtMs, D, Submit, config, run, venue, view

from xmargin.backtest.runner import Backtest
from xmargin.backtest.sources import load_sources
from xmargin.engine.config import load_run_config
from xmargin.engine.risk_hook import NoPreTradeChecks
from xmargin.model.orders import OrderType, TriggerSource

pytestmark = needs_pack

ROOT = Path(__file__).resolve().parents[2]
XRP_CONFIG = ROOT / "examples" / "xrp_5x_long.toml"
XRP = "XRP/USDT:USDT"
ACCOUNT = "binance.main"
FIVE_MINUTES = 300_000
HOUR = 3_600_000
DAY_START = 1_760_054_400_000  # 2025-10-10 00:00 UTC, the run's start
MMR, TAKER, CLEARANCE = D("0.005"), D("0.0005"), D("0.005")  # XRP tier 1 (0–10,000 USDT)
MARK_TICK = D("1e-8")


def raw_bars(name: str) -> dict[int, tuple[Decimal, Decimal, Decimal, Decimal]]:
    """Rows of a pack OHLC file by their OPEN time: (open, high, low, close), exact."""
    path = DATA_PACK / "binance_usdm_perp" / name
    with gzip.open(path, "rt", newline="") as handle:
        return {
            int(row["ts_ms"]): (D(row["open"]), D(row["high"]), D(row["low"]), D(row["close"]))
            for row in csv.DictReader(handle)
        }


@cache
def bars() -> dict[int, tuple[Decimal, Decimal, Decimal, Decimal]]:
    return raw_bars("XRPUSDT_perp_5m.csv.gz")


@cache
def marks() -> dict[int, tuple[Decimal, Decimal, Decimal, Decimal]]:
    return raw_bars("XRPUSDT_perp_mark_1h.csv.gz")


def funding_rate(ts_ms: int) -> Decimal:
    with open(DATA_PACK / "binance_usdm_perp" / "funding_rates_8h.csv", newline="") as handle:
        [rate] = [
            D(row["funding_rate"])
            for row in csv.DictReader(handle)
            if row["symbol"] == XRP and int(row["ts_ms"]) == ts_ms
        ]
    return rate


def basis_at(close_ms: int) -> Decimal:
    """The basis a 5-minute bar closing at ``close_ms`` is carried by: that of the latest
    hourly mark completed before it closed (and after the run's start), its close minus the
    5-minute close at that instant; 0 before the run's first mark."""
    mark_close = (close_ms - 1) - (close_ms - 1) % HOUR
    if mark_close <= DAY_START:
        return D(0)
    return marks()[mark_close - HOUR][3] - bars()[mark_close - FIVE_MINUTES][3]


def liquidation_price(wallet: Decimal, size: Decimal, entry: Decimal) -> Decimal:
    """Spec C.3, one cross long, tier 1 (cum 0): LP = (WB − q·EP) / (q·MMR − q)."""
    return (wallet - size * entry) / (size * MMR - size)


def first_tick_at_or_below(price: Decimal) -> Decimal:
    """USDⓈ-M liquidates at margin ratio ≥ 1 (inclusive), so a long goes at the first mark
    tick at or below its liquidation price."""
    return (price / MARK_TICK).to_integral_value(rounding=ROUND_DOWN) * MARK_TICK


def first_crossing(level: Decimal, after_ms: int) -> int:
    """The open time of the first 5-minute bar opening at or after ``after_ms`` whose low,
    carried by its basis, is at or below ``level``."""
    return next(
        ts
        for ts in sorted(bars())
        if ts >= after_ms and bars()[ts][2] + basis_at(ts + FIVE_MINUTES) <= level
    )


class Example(NamedTuple):
    """The example's figures: 1,776.8 XRP bought at the close of the day's first bar, funding
    at 08:00 and 16:00 at the mark then (the close of the hourly mark bar ending there)."""

    size: Decimal
    entry: Decimal
    funding: list[Decimal]
    wallet: Decimal
    lp: Decimal
    liquidated_at: Decimal
    crossing_bar: int


@cache
def example() -> Example:
    size = D("1776.8")
    entry = bars()[DAY_START][3]
    funding = [
        size * marks()[ts - HOUR][3] * funding_rate(ts)
        for ts in (DAY_START + 8 * HOUR, DAY_START + 16 * HOUR)
    ]
    wallet = D(1000) - size * entry * TAKER - sum(funding)
    lp = liquidation_price(wallet, size, entry)
    return Example(
        size, entry, funding, wallet, lp, first_tick_at_or_below(lp), first_crossing(lp, DAY_START)
    )


def test_the_expected_figures_are_those_of_the_crash():
    ex = example()
    # a guard on the independent calculation: it finds the 21:10 bar, whose low 2.1827
    # carried by the 21:00 basis (2.48405729 − 2.4962) crosses LP ≈ 2.25701091086
    assert D("2.8069") == ex.entry
    assert ex.crossing_bar == 1_760_130_600_000  # 21:10 UTC
    assert basis_at(ex.crossing_bar + FIVE_MINUTES) == D("-0.01214271")
    assert D("2.25701091") == ex.liquidated_at
    # the path stayed above LP at the 21:05 bar, and the hourly mark had not crossed by 21:00
    assert bars()[ex.crossing_bar - FIVE_MINUTES][2] + basis_at(ex.crossing_bar) > ex.lp
    assert marks()[ex.crossing_bar - 10 * 60_000 - HOUR][2] > ex.lp


def test_xrp_5x_long_is_liquidated_in_the_first_5_minute_bar_whose_path_crosses():
    ex = example()
    config = load_run_config(XRP_CONFIG)
    result = Backtest(config, load_sources(config, data_dir=DATA_PACK), NoPreTradeChecks()).run()
    events = result.recorder.events

    [fill] = [e for e in events if e["type"] == "OrderFilled"]
    assert (fill["ts_ms"], D(fill["quantity"]), D(fill["price"])) == (
        DAY_START + FIVE_MINUTES,
        ex.size,
        ex.entry,
    )
    assert [D(e["amount"]) for e in events if e["type"] == "FundingSettled"] == ex.funding
    [liquidated] = [e for e in events if e["type"] == "Liquidated"]
    # booked at the close of the 21:10 bar (21:15 UTC), not at the 22:00 mark close
    assert liquidated["trigger_ts_ms"] == ex.crossing_bar
    assert liquidated["ts_ms"] == ex.crossing_bar + FIVE_MINUTES == 1_760_130_900_000
    assert D(liquidated["price"]) == ex.liquidated_at
    assert D(liquidated["size"]) == ex.size
    fee = ex.size * ex.liquidated_at * CLEARANCE
    assert D(liquidated["fee"]) == fee
    [covered] = [e for e in events if e["type"] == "InsuranceFundCovered"]
    assert D(covered["amount"]) == fee - (ex.wallet + ex.size * (ex.liquidated_at - ex.entry))


def xrp_run(steps, balance="1000"):
    config = load_run_config(XRP_CONFIG)
    sources = load_sources(config, data_dir=DATA_PACK)
    document = config_document(balance)
    return run(document, sources, steps)


def config_document(balance: str) -> dict:
    document = config(venue(balances={"USDT": balance}, leverage={XRP: 5}), seed=3)
    document["run"] = {"start": "2025-10-10", "end": "2025-10-12"}
    return document


def bar_index(open_ms: int) -> int:
    """The scripted strategy's index of the 5-minute bar opening at ``open_ms``."""
    return (open_ms - DAY_START) // FIVE_MINUTES


def test_a_long_opened_at_21_45_is_not_liquidated_by_the_earlier_crash_low():
    # 2,000 XRP bought at 21:45, the close of the 21:40 bar; the 21:00 hourly mark bar it
    # lands in fell to 1.19233581 at 21:20, far below its liquidation price, but before it
    # existed. When that mark bar completes at 22:00 it must not act on this position.
    opened = DAY_START + 21 * HOUR + 45 * 60_000
    size, entry = D(2000), bars()[opened - FIVE_MINUTES][3]
    result = xrp_run([(bar_index(opened - FIVE_MINUTES), Submit("entry", "buy", "2000"))])

    assert view(result.of("OrderFilled"), "ts_ms", "quantity", "price") == [(opened, size, entry)]
    lp = liquidation_price(D(1000) - size * entry * TAKER, size, entry)
    crash_hour = DAY_START + 21 * HOUR
    assert marks()[crash_hour][2] == D("1.19233581") < lp
    assert result.of("Liquidated") == []
    assert result.position(ACCOUNT, XRP) == size
    # nor did the path after the entry come near it: the lowest carried low through the
    # run's end stays above LP
    assert all(
        bars()[ts][2] + basis_at(ts + FIVE_MINUTES) > lp
        for ts in bars()
        if opened <= ts < DAY_START + 48 * HOUR
    )


def test_selling_at_21_50_cannot_escape_the_liquidation_the_path_triggered_at_21_15():
    ex = example()
    sold = DAY_START + 21 * HOUR + 50 * 60_000
    steps = [
        (0, Submit("entry", "buy", str(ex.size))),
        (bar_index(sold - FIVE_MINUTES), Submit("exit", "sell", str(ex.size), reduce_only=True)),
    ]
    result = xrp_run(steps)

    assert view(result.of("Liquidated"), "ts_ms", "trigger_ts_ms", "size", "price") == [
        (ex.crossing_bar + FIVE_MINUTES, ex.crossing_bar, ex.size, ex.liquidated_at)
    ]
    assert view(result.of("OrderFilled"), "ts_ms", "side") == [(DAY_START + FIVE_MINUTES, "buy")]
    assert view(result.of("OrderRejected"), "ts_ms", "reason") == [
        (sold, "reduce-only order would increase the position")
    ]
    assert result.balance(ACCOUNT, "USDT") == 0


def test_a_mark_stop_triggers_on_the_5_minute_path_not_at_the_next_hourly_mark():
    # a protective sell stop on the mark at 2.40, placed with the midnight entry. The hourly
    # mark bar ending at 21:00 only reached 2.41330557, and the 5-minute path stayed above
    # 2.40 until the 21:10 bar (low 2.1827 carried by the 21:00 basis): the stop triggers at
    # that bar's close, 21:15, not when the hourly mark bar holding it completes at 22:00, and
    # sells at the bar's 2.2899 close, the path having gapped below the trigger
    trigger = D("2.40")
    steps = [
        (0, Submit("entry", "buy", "1000")),
        (
            0,
            Submit(
                "stop",
                "sell",
                "1000",
                OrderType.STOP_MARKET,
                trigger_price=str(trigger),
                trigger_source=TriggerSource.MARK,
                reduce_only=True,
            ),
        ),
    ]
    result = xrp_run(steps)

    crossing = first_crossing(trigger, DAY_START)
    assert crossing == DAY_START + 21 * HOUR + 10 * 60_000
    assert marks()[DAY_START + 20 * HOUR][2] > trigger
    triggered_at = crossing + FIVE_MINUTES
    assert view(result.of("OrderTriggered"), "ts_ms", "trigger_price") == [(triggered_at, trigger)]
    assert view(result.of("OrderFilled"), "ts_ms", "side", "price")[1:] == [
        (triggered_at, "sell", min(trigger, bars()[crossing][3]))
    ]
    assert result.of("Liquidated") == []


def test_a_mark_stop_placed_after_the_crash_low_is_not_triggered_by_it():
    # long at 21:45 with a mark stop at 2.00: the 21:00 hourly mark bar's 1.19 low came
    # before the stop existed, and the path after it never reaches 2.00
    opened = DAY_START + 21 * HOUR + 45 * 60_000
    at = bar_index(opened - FIVE_MINUTES)
    stop = Submit(
        "stop",
        "sell",
        "2000",
        OrderType.STOP_MARKET,
        trigger_price="2.00",
        trigger_source=TriggerSource.MARK,
        reduce_only=True,
    )
    result = xrp_run([(at, Submit("entry", "buy", "2000")), (at, stop)])

    assert marks()[DAY_START + 21 * HOUR][2] < D("2.00")
    assert result.of("OrderTriggered") == []
    assert result.position(ACCOUNT, XRP) == 2000


def test_order_admission_checks_margin_at_the_mark_estimate_not_the_hour_old_mark():
    ex = example()
    # 500 XRP held from the midnight entry. At 21:20 the last trade is 1.5789 (the 21:15
    # bar's close); the last hourly mark, 2.48405729, is 20 minutes old; the estimate is
    # 1.5789 − 0.01214271 = 1.56675729. Buying 1,000 more there leaves, at a mark M,
    #   available = WB + uPnL − IM = 1,000 − fees − funding
    #               + 500 (M − 2.8069) + 1,000 (M − 1.5789) − 1,500 M / 5,
    # positive at the stale mark (it would be accepted) and negative at the estimate.
    at = DAY_START + 21 * HOUR + 20 * 60_000
    held, size = D(500), D(1000)
    price = bars()[at - FIVE_MINUTES][3]
    estimate = price + basis_at(at)
    funding = sum(
        held * marks()[ts - HOUR][3] * funding_rate(ts)
        for ts in (DAY_START + 8 * HOUR, DAY_START + 16 * HOUR)
    )

    def available(mark: Decimal) -> Decimal:
        wallet = D(1000) - held * ex.entry * TAKER - funding - size * price * TAKER
        pnl = held * (mark - ex.entry) + size * (mark - price)
        return wallet + pnl - (held + size) * mark / 5

    assert estimate == D("1.56675729")
    assert available(marks()[at - HOUR - 20 * 60_000][3]) > 0 > available(estimate)
    steps = [(0, Submit("entry", "buy", str(held))), (AtMs(at), Submit("more", "buy", str(size)))]
    result = xrp_run(steps)

    assert view(result.of("OrderFilled"), "ts_ms", "quantity") == [(DAY_START + 300_000, held)]
    reason = (
        f"insufficient margin: free collateral after it would be {available(estimate):.2f} USDT"
    )
    assert view(result.of("OrderRejected"), "ts_ms", "reason") == [(at, reason)]
