"""Round trips: flat to flat per account and instrument; flips split pro rata; open ones omitted."""

from __future__ import annotations

from decimal import Decimal

import pytest

from xmargin.backtest.round_trips import FillRecord, RoundTrip, round_trips
from xmargin.core.errors import DataError

D = Decimal
PERP = "BTC/USDT:USDT"


def fill(
    ts: int,
    qty: str,
    price: str,
    fee: str,
    pnl: str = "0",
    account: str = "a",
    instrument: str = PERP,
) -> FillRecord:
    return FillRecord(ts, account, instrument, D(qty), D(price), D(fee), D(pnl))


def test_long_trip_adds_then_closes_with_fees_deducted_from_pnl() -> None:
    trips = round_trips(
        [
            fill(1, "2", "100", "0.2"),
            fill(2, "1", "110", "0.11"),
            fill(3, "-3", "120", "0.36", pnl="50"),
        ]
    )
    assert trips == [
        RoundTrip("a", PERP, "long", 1, 3, D(3), D(310), D("49.33"), D("0.67")),
    ]


def test_reducing_fill_does_not_add_entry_notional_and_max_quantity_is_the_peak() -> None:
    trips = round_trips(
        [
            fill(1, "-4", "50", "0"),
            fill(2, "1", "40", "0", pnl="10"),
            fill(3, "-2", "45", "0"),
            fill(4, "5", "30", "0", pnl="90"),
        ]
    )
    (trip,) = trips
    assert trip.side == "short"
    assert trip.max_quantity == D(5)
    assert trip.entry_notional == D(200) + D(90)
    assert trip.pnl == D(100)


def test_flip_closes_the_trip_and_opens_the_remainder_with_the_fee_split_by_quantity() -> None:
    trips = round_trips(
        [
            fill(1, "1", "100", "0.1"),
            fill(2, "-3", "90", "0.3", pnl="-10"),
            fill(3, "2", "80", "0.16", pnl="20"),
        ]
    )
    assert trips == [
        RoundTrip("a", PERP, "long", 1, 2, D(1), D(100), D("-10.2"), D("0.2")),
        RoundTrip("a", PERP, "short", 2, 3, D(2), D(180), D("19.64"), D("0.36")),
    ]


def test_flip_fee_that_does_not_divide_evenly_is_conserved_exactly() -> None:
    trips = round_trips(
        [
            fill(1, "1", "100", "0"),
            fill(2, "-3", "100", "0.1"),
            fill(3, "2", "100", "0"),
        ]
    )
    closing_share = D("0.1") / 3
    assert trips[0].fees == closing_share
    assert trips[1].fees == D("0.1") - closing_share
    assert trips[0].fees + trips[1].fees == D("0.1")


def test_trips_are_kept_apart_per_account_and_instrument_and_returned_in_closing_order() -> None:
    trips = round_trips(
        [
            fill(1, "1", "10", "0", account="a"),
            fill(2, "1", "10", "0", account="b"),
            fill(3, "1", "10", "0", account="a", instrument="ETH/USDT"),
            fill(4, "-1", "12", "0", pnl="2", account="b"),
            fill(5, "-1", "11", "0", pnl="1", account="a"),
        ]
    )
    assert [(t.account, t.instrument, t.pnl) for t in trips] == [
        ("b", PERP, D(2)),
        ("a", PERP, D(1)),
    ]


def test_trip_still_open_after_the_last_fill_is_not_returned() -> None:
    assert round_trips(
        [fill(1, "1", "10", "0"), fill(2, "-1", "10", "0"), fill(3, "2", "10", "0")]
    ) == [
        RoundTrip("a", PERP, "long", 1, 2, D(1), D(10), D(0), D(0)),
    ]


def test_zero_quantity_or_out_of_order_fills_are_rejected() -> None:
    with pytest.raises(DataError, match="zero"):
        round_trips([fill(1, "0", "10", "0")])
    with pytest.raises(DataError, match="time order"):
        round_trips([fill(2, "1", "10", "0"), fill(1, "-1", "10", "0")])
