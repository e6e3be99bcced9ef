"""Funding on the simulated exchange: sign, amount = size × mark × rate, and its timing (§0.4).

Binance USDⓈ-M, 10,000 USDT, taker fee 0.0005. Hourly trade bars at 40,000 and hourly mark
bars rising by 100 an hour from 40,000, so the mark known at 08:00 (the close of the
07:00 mark bar) is 40,700. Funding of 0.0001 settles at 08:00.
"""

from __future__ import annotations

from tests.scenario.harness import (
    BTC,
    HOUR,
    T0,
    D,
    Submit,
    bars_of,
    config,
    flat_marks,
    funding,
    funding_of,
    marks_of,
    ohlcv,
    run,
    venue,
    view,
)

from xmargin.model.orders import OrderType

ACCOUNT = "binance.main"
BARS = ohlcv(T0, "1h", [(40000, 40100, 39900, 40000)] * 7 + [(40000, 40100, 39700, 40000)] * 3)
MARKS = flat_marks(T0, "1h", [40000 + 100 * i for i in range(10)])
FUNDING = funding([(T0 + 8 * HOUR, 0.0001)])
SOURCES = [bars_of(BARS), marks_of(MARKS), funding_of(FUNDING)]
CONFIG = config(venue(leverage={BTC: 10}))
FUNDING_FIELDS = ("hour", "position_size", "mark_price", "rate", "amount")


def test_a_long_pays_funding_of_size_times_latest_mark_times_rate():
    result = run(CONFIG, SOURCES, [(0, Submit("long", "buy", "0.5"))])

    # 0.5 × 40,700 × 0.0001 = 2.035, paid (positive) by the long
    assert view(result.of("FundingSettled"), *FUNDING_FIELDS) == [
        (8, D("0.5"), D("40700"), D("0.0001"), D("2.035"))
    ]
    # wallet: 10,000 − taker fee 0.5 × 40,000 × 0.0005 = 10 − funding 2.035
    assert result.balance(ACCOUNT, "USDT") == D("9987.965")


def test_a_short_receives_funding_when_the_rate_is_positive():
    result = run(CONFIG, SOURCES, [(0, Submit("short", "sell", "0.5"))])

    assert view(result.of("FundingSettled"), *FUNDING_FIELDS) == [
        (8, D("-0.5"), D("40700"), D("0.0001"), D("-2.035"))
    ]
    assert result.balance(ACCOUNT, "USDT") == D("9992.035")


def test_funding_uses_the_position_before_an_order_filled_at_the_settlement_time():
    # the second buy is sent on the bar closing at 08:00 and fills at 08:00, after funding
    steps = [(0, Submit("first", "buy", "0.5")), (7, Submit("second", "buy", "0.5"))]

    result = run(CONFIG, SOURCES, steps)

    assert view(result.of("FundingSettled"), *FUNDING_FIELDS) == [
        (8, D("0.5"), D("40700"), D("0.0001"), D("2.035"))
    ]
    assert view(result.of("OrderFilled"), "hour", "quantity") == [(1, D("0.5")), (8, D("0.5"))]
    assert result.position(ACCOUNT, BTC) == D(1)


def test_funding_ignores_a_resting_order_filled_by_the_bar_closing_at_the_settlement_time():
    # the limit rests from 01:00; the 07:00-08:00 bar trades down to 39,700 and fills it at
    # 08:00, the funding time: the settlement still sees the 0.5 held before that fill
    steps = [
        (0, Submit("first", "buy", "0.5")),
        (0, Submit("dip", "buy", "0.5", OrderType.LIMIT, price="39800")),
    ]

    result = run(CONFIG, SOURCES, steps)

    assert view(result.of("OrderFilled"), "hour", "quantity", "price", "liquidity") == [
        (1, D("0.5"), D("40000"), "taker"),
        (8, D("0.5"), D("39800"), "maker"),
    ]
    assert view(result.of("FundingSettled"), *FUNDING_FIELDS) == [
        (8, D("0.5"), D("40700"), D("0.0001"), D("2.035"))
    ]


def test_a_position_opened_by_a_fill_at_the_settlement_time_pays_no_funding_then():
    steps = [(0, Submit("dip", "buy", "0.5", OrderType.LIMIT, price="39800"))]

    result = run(CONFIG, SOURCES, steps)

    assert view(result.of("OrderFilled"), "hour", "quantity") == [(8, D("0.5"))]
    assert result.of("FundingSettled") == []


def test_without_a_mark_feed_funding_settles_at_the_last_bar_close():
    bars = ohlcv(T0, "1h", [(40000 + 100 * i,) * 4 for i in range(10)])

    result = run(CONFIG, [bars_of(bars), funding_of(FUNDING)], [(0, Submit("long", "buy", "0.5"))])

    # the bar closing at 08:00 is the 07:00 bar, closing at 40,700
    assert view(result.of("FundingSettled"), *FUNDING_FIELDS) == [
        (8, D("0.5"), D("40700"), D("0.0001"), D("2.035"))
    ]


def test_constant_rate_funding_settles_every_interval_on_the_position_then_held():
    document = config(
        venue(leverage={BTC: 10}, funding={"interval_hours": 4, "constant_rate": "-0.0002"})
    )
    steps = [(0, Submit("long", "buy", "0.5")), (5, Submit("exit", "sell", "0.5"))]

    result = run(document, [bars_of(BARS), marks_of(MARKS)], steps)

    # 04:00: 0.5 × 40,300 × −0.0002 = −4.03 (the long receives); the exit fills at 06:00,
    # so nothing is held at 08:00
    assert view(result.of("FundingSettled"), *FUNDING_FIELDS) == [
        (4, D("0.5"), D("40300"), D("-0.0002"), D("-4.03"))
    ]
