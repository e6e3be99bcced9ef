"""Resting orders summed per instrument and side, and the models that read the sums."""

from __future__ import annotations

from decimal import Decimal

from xmargin.margin.binance_usdm import BinanceUsdmCross
from xmargin.margin.bybit import BybitUtaCross
from xmargin.margin.snapshot import AccountSnapshot, OrderSnapshot, OrderTotals, order_totals_of

D = Decimal
BTC = "BTC/USDT:USDT"
ETH = "ETH/USDT:USDT"
ORDERS = (
    OrderSnapshot(BTC, D("0.5"), D(40000)),
    OrderSnapshot(ETH, D(-2), D(3000)),
    OrderSnapshot(BTC, D("0.25"), D(38000)),
    OrderSnapshot(BTC, D(-1), D(45000)),
)


def test_orders_are_summed_per_instrument_and_side():
    assert order_totals_of(ORDERS) == {
        # buys 0.5 x 40,000 + 0.25 x 38,000 = 29,500; sells 1 x 45,000
        BTC: OrderTotals(D("0.75"), D(1), D(29500), D(45000), D(40000), D(45000)),
        ETH: OrderTotals(D(0), D(2), D(0), D(6000), None, D(3000)),
    }


def test_a_snapshot_sums_its_orders_unless_the_venue_passed_the_sums():
    summed = AccountSnapshot(orders=ORDERS)
    assert summed.orders_per_instrument()[BTC].notional == D(74500)
    given = {BTC: OrderTotals(D(1), D(0), D(100), D(0))}
    assert AccountSnapshot(orders=ORDERS, order_totals=given).orders_per_instrument() is given


def test_usdm_resting_orders_reserve_their_notional_at_the_market_leverage():
    model = BinanceUsdmCross(default_leverage=D(10))
    snapshot = AccountSnapshot(balances={"USDT": D(100000)}, orders=ORDERS, leverage={ETH: D(4)})
    # BTC (29,500 + 45,000) / 10 = 7,450; ETH 6,000 / 4 = 1,500
    assert model.order_initial_margin(snapshot) == D(8950)
    totals = AccountSnapshot(
        balances={"USDT": D(100000)},
        orders=ORDERS,
        leverage={ETH: D(4)},
        order_totals=order_totals_of(ORDERS),
    )
    assert model.initial_gap(totals) == D(100000) - D(8950)


def test_the_highest_buy_and_lowest_sell_tell_whether_an_order_rests_through_a_price():
    btc = order_totals_of(ORDERS)[BTC]  # buys at 40,000 and 38,000, a sell at 45,000
    assert not btc.crossed(D(40000)) and not btc.crossed(D(45000))
    assert btc.crossed(D("39999.9")) and btc.crossed(D("45000.1"))
    assert not OrderTotals().crossed(D(1))


def test_bybit_order_loss_counts_only_orders_through_the_mark():
    model = BybitUtaCross()
    # mark 40,000 (the BTC price): the buy at 40,000 and the sell at 45,000 lose nothing
    calm = AccountSnapshot(prices={"BTC": D(40000)}, orders=ORDERS[:1] + ORDERS[3:])
    assert model.order_loss(calm) == 0
    # a buy of 0.5 at 41,000 through the mark loses 0.5 x (40,000 - 41,000) = -500
    through = AccountSnapshot(
        prices={"BTC": D(40000)}, orders=(*calm.orders, OrderSnapshot(BTC, D("0.5"), D(41000)))
    )
    assert model.order_loss(through) == D(-500)
