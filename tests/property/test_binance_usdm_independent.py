"""Binance USDⓈ-M margin and liquidation prices against an independent implementation of
spec C.3, read straight from the data pack's leverage-bracket file with the stdlib."""

from __future__ import annotations

import csv
import gzip
from decimal import Decimal
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.pack import DATA_PACK, needs_pack

from xmargin.margin.binance_usdm import BinanceUsdmCross
from xmargin.margin.snapshot import AccountSnapshot, PositionSnapshot
from xmargin.margin.tiers import load_tier_file

pytestmark = needs_pack

D = Decimal
SYMBOL = "BTC/USDT:USDT"
TIERS_FILE = DATA_PACK / "margin_tiers" / "binance_usdm_leverage_tiers.csv.gz"


def raw_brackets() -> list[tuple[Decimal, Decimal, Decimal, Decimal]]:
    """(floor, cap, mmr, cum) rows for BTC/USDT:USDT, as the file states them."""
    if not TIERS_FILE.is_file():
        return []
    with gzip.open(TIERS_FILE, "rt", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["symbol"] == SYMBOL]
    return [
        (
            D(row["min_notional"]),
            D(row["max_notional"]),
            D(row["maint_margin_rate"]),
            D(row["maint_amount_cum"]),
        )
        for row in sorted(rows, key=lambda row: int(row["tier"]))
    ]


BRACKETS = raw_brackets()


def bracket(notional: Decimal) -> tuple[Decimal, Decimal]:
    for floor, cap, mmr, cum in BRACKETS:
        if floor <= notional < cap:
            return mmr, cum
    floor, cap, mmr, cum = BRACKETS[-1]
    return mmr, cum


def expected_liquidation_price(wallet: Decimal, size: Decimal, entry: Decimal) -> Decimal | None:
    """Spec C.3 for one cross position, iterating the bracket until it is the one at LP."""
    side = 1 if size > 0 else -1
    quantity = abs(size)
    mmr, cum = bracket(quantity * entry)
    for _ in range(len(BRACKETS) + 1):
        price = (wallet + cum - side * quantity * entry) / (quantity * mmr - side * quantity)
        if price <= 0:
            return None
        at_price = bracket(quantity * price)
        if at_price == (mmr, cum):
            return price
        mmr, cum = at_price
    raise AssertionError("the bracket did not settle")


def test_the_file_states_contiguous_brackets_with_the_cum_recurrence():
    assert len(BRACKETS) >= 10
    for (_, cap, mmr_before, cum_before), (floor, _, mmr, cum) in pairwise(BRACKETS):
        assert floor == cap
        assert cum == cum_before + floor * (mmr - mmr_before)


@settings(max_examples=150, deadline=None)
@given(
    wallet=st.decimals("100", "20000000", places=2),
    size=st.decimals("0.001", "3000", places=3),
    long=st.booleans(),
    entry=st.decimals("10000", "120000", places=1),
)
def test_maintenance_margin_and_liquidation_price_follow_spec_c3(wallet, size, long, entry):
    signed = size if long else -size
    model = BinanceUsdmCross(tiers=load_tier_file(TIERS_FILE))
    account = AccountSnapshot(
        balances={"USDT": wallet},
        positions=(PositionSnapshot(SYMBOL, signed, entry, entry, D(1)),),
    )
    mmr, cum = bracket(size * entry)
    report = model.assess(account)
    assert report.maintenance_margin_required == size * entry * mmr - cum

    expected = expected_liquidation_price(wallet, signed, entry)
    solved = model.liquidation_price(account, SYMBOL)
    if expected is None:
        assert solved is None
        return
    assert solved is not None
    assert abs(solved - expected) <= expected * D("1e-12")
