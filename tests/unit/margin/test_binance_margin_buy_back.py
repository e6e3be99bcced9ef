"""How much of a borrowed asset the Binance margin liquidation buys back (spec B.4)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from xmargin.margin.binance_margin_liquidation import buy_back_to_stop

D = Decimal
STOP, FEE = D("1.5"), D("0.02")


def test_a_short_at_ml_one_point_one_buys_back_five_sixths_of_its_debt():
    # TA 11,000 USDT against 0.25 BTC owed at 40,000 (TL 10,000): ML 1.1.
    # (11,000 − 1.02 · x · 40,000) / (10,000 − x · 40,000) = 1.5
    # ⇒ 40,000 · x · (1.5 − 1.02) = 15,000 − 11,000 ⇒ x = 4,000 / 19,200 = 0.2083333…
    quantity = buy_back_to_stop(D(11000), D(10000), STOP, FEE, D(40000))
    assert quantity == D(4000) / D(19200)
    # 10,000 − 0.2083… × 40,000 = 1,666.66… USDT of debt stays; ML is exactly the stop
    remaining = D(10000) - quantity * 40000
    assert remaining.quantize(D("0.01")) == D("1666.67")
    assert abs((D(11000) - quantity * 40000 * D("1.02")) / remaining - STOP) < D("1e-9")


def test_nothing_above_the_stop_and_none_when_the_debt_is_too_small_to_reach_it():
    assert buy_back_to_stop(D(16000), D(10000), STOP, FEE, D(40000)) == 0
    # ML 1.0: x = (15,000 − 10,000) / (0.48 × 40,000) = 0.2604 BTC = 10,416.67 > 10,000 owed
    assert buy_back_to_stop(D(10000), D(10000), STOP, FEE, D(40000)) is None
    # a fee that eats the whole gain: 1.5 − 1 − 0.5 = 0
    assert buy_back_to_stop(D(11000), D(10000), STOP, D("0.5"), D(40000)) is None


@given(
    owed=st.decimals(min_value=100, max_value=10**6, places=2),
    level=st.decimals(min_value=D("1.01"), max_value=D("1.5"), places=4),
    price=st.decimals(min_value=D("0.01"), max_value=10**5, places=2),
)
def test_the_quantity_bought_back_leaves_the_margin_level_exactly_at_the_stop(owed, level, price):
    assets = owed * level
    quantity = buy_back_to_stop(assets, owed, STOP, FEE, price)
    if level > STOP:
        assert quantity == 0
        return
    if quantity is None:
        # only when repaying the whole debt would not be enough
        assert (STOP * owed - assets) / (STOP - 1 - FEE) > owed
        return
    left = owed - quantity * price
    assert left >= 0
    after = (assets - quantity * price * (1 + FEE)) / left
    assert abs(after - STOP) < D("1e-18")
