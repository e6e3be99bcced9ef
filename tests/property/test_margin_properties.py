"""Properties every venue model must keep, checked with hypothesis across all five models.

- requirements never fall as a position grows;
- a position's liquidation price moves against it as another position loses;
- a fill at the mark changes equity by exactly minus the fee.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from xmargin.margin.base import CrossMarginModel
from xmargin.margin.binance_margin import BinanceCrossMargin
from xmargin.margin.binance_usdm import BinanceUsdmCross
from xmargin.margin.bybit import BybitUtaCross
from xmargin.margin.ftx import FtxCross
from xmargin.margin.hyperliquid import HyperliquidCross
from xmargin.margin.snapshot import AccountSnapshot, LoanSnapshot, PositionSnapshot

D = Decimal
EPSILON = D("1e-12")


@dataclass(frozen=True)
class PerpVenue:
    """A venue with two perpetuals: a BTC one (the subject) and an ETH one (the other)."""

    model: CrossMarginModel
    btc: str
    eth: str
    quote: str

    def account(self, btc_size: Decimal, eth_size: Decimal, eth_mark: Decimal) -> AccountSnapshot:
        positions = [PositionSnapshot(self.btc, btc_size, D(60000), D(60000), D(10))]
        if eth_size:
            positions.append(PositionSnapshot(self.eth, eth_size, D(3000), eth_mark, D(10)))
        return AccountSnapshot(balances={self.quote: D(1_000_000)}, positions=tuple(positions))


PERP_VENUES: dict[str, Callable[[], PerpVenue]] = {
    "ftx_cross": lambda: PerpVenue(FtxCross(), "BTC/USD:USD", "ETH/USD:USD", "USD"),
    "binance_usdm_cross": lambda: PerpVenue(
        BinanceUsdmCross(), "BTC/USDT:USDT", "ETH/USDT:USDT", "USDT"
    ),
    "hyperliquid_cross": lambda: PerpVenue(
        HyperliquidCross(), "BTC/USDC:USDC", "ETH/USDC:USDC", "USDC"
    ),
    "bybit_uta_cross": lambda: PerpVenue(BybitUtaCross(), "BTC/USDT:USDT", "ETH/USDT:USDT", "USDT"),
}

sizes = st.decimals(min_value="0.001", max_value="400", places=3)
eth_sizes = st.decimals(min_value="-3000", max_value="3000", places=3)


@pytest.mark.parametrize("venue_id", PERP_VENUES)
@settings(max_examples=60, deadline=None)
@given(small=sizes, extra=sizes, long=st.booleans())
def test_requirements_never_fall_as_a_position_grows(venue_id, small, extra, long):
    venue = PERP_VENUES[venue_id]()
    side = 1 if long else -1
    smaller = venue.model.assess(venue.account(side * small, D(0), D(3000)))
    larger = venue.model.assess(venue.account(side * (small + extra), D(0), D(3000)))
    assert larger.maintenance_margin_required >= smaller.maintenance_margin_required
    assert larger.initial_margin_required >= smaller.initial_margin_required


@pytest.mark.parametrize("venue_id", PERP_VENUES)
@settings(max_examples=40, deadline=None)
@given(btc=sizes, long=st.booleans(), eth=eth_sizes, loss=st.decimals("1", "500", places=2))
def test_liquidation_price_moves_against_the_position_as_another_loses(
    venue_id, btc, long, eth, loss
):
    assume(eth != 0)
    venue = PERP_VENUES[venue_id]()
    btc_size = btc if long else -btc
    worse_eth_mark = D(3000) - loss if eth > 0 else D(3000) + loss
    before = venue.model.liquidation_price(venue.account(btc_size, eth, D(3000)), venue.btc)
    after = venue.model.liquidation_price(venue.account(btc_size, eth, worse_eth_mark), venue.btc)
    if long:
        assume(before is not None and after is not None)
        assert after >= before - EPSILON
    else:
        assume(before is not None)
        assert after is None or after <= before + EPSILON


@pytest.mark.parametrize("venue_id", PERP_VENUES)
@settings(max_examples=60, deadline=None)
@given(held=eth_sizes, trade=eth_sizes, mark=st.decimals("100", "9000", places=2))
def test_a_fill_at_the_mark_changes_equity_by_minus_the_fee(venue_id, held, trade, mark):
    assume(trade != 0)
    venue = PERP_VENUES[venue_id]()
    account = venue.account(D(1), held, mark)
    fee_rate = D("0.0004")
    after = venue.model.apply_fill(account, venue.eth, trade, mark, fee_rate)
    fee = abs(trade) * mark * fee_rate
    change = venue.model.assess(after).equity - venue.model.assess(account).equity
    assert abs(change + fee) <= EPSILON


@settings(max_examples=60, deadline=None)
@given(
    btc=st.decimals("0", "5", places=4),
    trade=st.decimals("-3", "3", places=4),
    price=st.decimals("10000", "90000", places=2),
)
def test_spot_margin_fill_at_the_price_changes_net_value_by_minus_the_fee(btc, trade, price):
    assume(trade != 0)
    model = BinanceCrossMargin(hourly_rates={"USDT": D(0), "BTC": D(0)}, default_hourly_rate=D(0))
    account = AccountSnapshot(
        balances={"USDT": D(50000), "BTC": btc},
        loans=(LoanSnapshot("USDT", D(10000)),),
        prices={"BTC": price},
    )
    fee_rate = D("0.001")
    after = model.apply_fill(account, "BTC/USDT", trade, price, fee_rate)
    change = model.assess(after).equity - model.assess(account).equity
    assert abs(change + abs(trade) * price * fee_rate) <= EPSILON


@settings(max_examples=60, deadline=None)
@given(borrowed=st.decimals("0", "40000", places=2), more=st.decimals("0", "20000", places=2))
def test_spot_margin_requirement_grows_with_liabilities(borrowed, more):
    model = BinanceCrossMargin()

    def report(liability: Decimal):
        return model.assess(
            AccountSnapshot(
                balances={"USDT": D(10000) + liability},
                loans=(LoanSnapshot("USDT", liability),) if liability else (),
                prices={},
            )
        )

    assert (
        report(borrowed + more).maintenance_margin_required
        >= report(borrowed).maintenance_margin_required
    )
    assert (
        report(borrowed + more).initial_margin_required >= report(borrowed).initial_margin_required
    )
