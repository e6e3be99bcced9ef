"""Liquidation on hand-made mark paths, one venue model at a time, with hand-checked numbers.

Bars are hourly: bar ``i`` opens at ``T0 + i h`` and is known at its close, ``T0 + (i+1) h``.
A mark bar is checked at its adverse extreme; a liquidation is stamped at the bar's close
(``ts_ms``) and names the bar by its open (``trigger_ts_ms``), decision 0003.
"""

from __future__ import annotations

from tests.scenario.harness import (
    BTC,
    HOUR,
    T0,
    Borrow,
    D,
    Submit,
    bars_of,
    config,
    marks,
    marks_of,
    ohlcv,
    run,
    venue,
    view,
)

from xmargin.model.orders import OrderType, TriggerSource

LIQUIDATION_FIELDS = ("hour", "instrument", "size", "price", "fee", "stage", "trigger_ts_ms")
FLAT = (10000, 10000, 10000, 10000)

# -- Binance USDⓈ-M (spec C.3, C.4) ---------------------------------------------------------

USDM = "binance.main"
# 1,041 USDT; long 1 BTC at 10,000 pays a 5 USDT taker fee, leaving WB = 1,036. Tier 1 of
# BTCUSDT (MMR 0.004, cum 0):  LP = (WB − q·EP) / (q·mmr − q) = (1,036 − 10,000) / (0.004 − 1)
# = 9,000 exactly; at 9,000 MB = 36 = MM (margin ratio 1).
USDM_CONFIG = config(venue(balances={"USDT": "1041"}, leverage={BTC: 20}))
USDM_BARS = bars_of(ohlcv(T0, "1h", [FLAT] * 5))


def usdm_run(mark_rows, side="buy"):
    mark_source = marks_of(marks(T0, "1h", mark_rows))
    return run(USDM_CONFIG, [USDM_BARS, mark_source], [(0, Submit("entry", side, "1"))])


def test_usdm_long_is_liquidated_at_the_spec_liquidation_price_inside_the_crash_bar():
    result = usdm_run([FLAT, FLAT, (9990, 9995, 8800, 9100), (9100,) * 4])

    # clearance fee 0.005 × 9,000 = 45 > the 36 left: the insurance fund covers the 9 short,
    # so the wallet ends at 0, never below
    assert view(result.of("Liquidated"), *LIQUIDATION_FIELDS, "margin_ratio") == [
        (3, BTC, D(1), D(9000), D(45), "full", T0 + 2 * HOUR, D(1))
    ]
    assert view(result.of("InsuranceFundCovered"), "hour", "asset", "amount") == [(3, "USDT", D(9))]
    assert result.balance(USDM, "USDT") == 0
    assert result.position(USDM, BTC) == 0


def test_usdm_long_survives_a_bar_whose_low_stays_above_the_liquidation_price():
    result = usdm_run([FLAT, FLAT, (9990, 9995, 9000.01, 9100), (9100,) * 4])

    assert result.of("Liquidated") == []
    assert result.position(USDM, BTC) == 1


def test_usdm_gap_through_the_liquidation_price_liquidates_at_the_bar_open():
    result = usdm_run([FLAT, FLAT, (8950, 8960, 8800, 9100), (9100,) * 4])

    # closed at the 8,950 open: WB 1,036 − 1,050 loss − 44.75 fee = −58.75, covered
    assert view(result.of("Liquidated"), *LIQUIDATION_FIELDS) == [
        (3, BTC, D(1), D(8950), D("44.75"), "full", T0 + 2 * HOUR)
    ]
    assert view(result.of("InsuranceFundCovered"), "amount") == [(D("58.75"),)]
    assert result.balance(USDM, "USDT") == 0


def test_usdm_short_liquidation_price_is_rounded_to_the_first_mark_tick_beyond_it():
    result = usdm_run([FLAT, FLAT, (10010, 11500, 10000, 11000), (11000,) * 4], side="sell")

    # LP = (1,036 + 10,000) / (0.004 + 1) = 10,992.03187250996…, first 1e-8 mark tick above
    # it 10,992.03187251; fee 0.005 × that = 54.96015936255
    assert view(result.of("Liquidated"), *LIQUIDATION_FIELDS) == [
        (3, BTC, D(-1), D("10992.03187251"), D("54.96015936255"), "full", T0 + 2 * HOUR)
    ]
    assert result.balance(USDM, "USDT") == 0


def protected_run(stop_price):
    crash = marks(T0, "1h", [FLAT, FLAT, (9990, 9995, 8800, 9100), (9100,) * 4])
    stop = Submit(
        "stop",
        "sell",
        "1",
        OrderType.STOP_MARKET,
        trigger_price=stop_price,
        trigger_source=TriggerSource.MARK,
        reduce_only=True,
    )
    steps = [(0, Submit("entry", "buy", "1")), (0, stop)]
    return run(USDM_CONFIG, [USDM_BARS, marks_of(crash)], steps)


def test_usdm_protective_stop_on_the_mark_above_the_liquidation_price_goes_first():
    result = protected_run("9500")

    # the mark falls through 9,500 before 9,000: the stop closes the long at its trigger
    # (the last trade is still 10,000), so there is nothing left to liquidate
    assert view(result.of("OrderFilled"), "hour", "side", "price", "fee") == [
        (1, "buy", D(10000), D(5)),
        (3, "sell", D(9500), D("4.75")),
    ]
    assert result.of("Liquidated") == []
    assert result.balance(USDM, "USDT") == D("531.25")


def test_usdm_stop_below_the_liquidation_price_is_canceled_by_the_liquidation():
    result = protected_run("8900")

    assert view(result.of("Liquidated"), "hour", "price") == [(3, D(9000))]
    assert view(result.of("OrderCanceled"), "hour", "client_order_id", "reason") == [
        (3, "O-000002", "liquidation")
    ]


# -- Hyperliquid (spec D.3, D.4) ---------------------------------------------------------------

HL = "BTC/USDC:USDC"
HL_ACCOUNT = "hl.main"
# 42,090 USDC; long 2 BTC at 100,000 (10x) pays 90 fee (0.00045), leaving B = 42,000.
# AV = 42,000 + 2 (p − 100,000) = MM = 2 p × 0.0125  ⇒  p = 158,000 / 1.975 = 80,000 exactly;
# the rule is strict (AV < MM), so the first liquidating mark tick is 79,999.99999999.
HL_CONFIG = config(
    venue(
        "hyperliquid_cross",
        venue_id="hl",
        balances={"USDC": "42090"},
        leverage={HL: 10},
        taker="0.00045",
    )
)
HL_FLAT = (100000,) * 4


def hl_run(crash_bar):
    sources = [
        bars_of(ohlcv(T0, "1h", [HL_FLAT] * 5), HL, "hl"),
        marks_of(marks(T0, "1h", [HL_FLAT, HL_FLAT, crash_bar, crash_bar[3:] * 4]), HL, "hl"),
    ]
    return run(HL_CONFIG, sources, [(0, Submit("entry", "buy", "2"))])


def test_hyperliquid_liquidates_a_large_position_partially_first():
    result = hl_run((99000, 99500, 79000, 85000))

    # 2 × 80,000 notional > 100,000: only 20 % (0.4 BTC) goes, at taker fee
    lp = D("79999.99999999")
    assert view(result.of("Liquidated"), *LIQUIDATION_FIELDS) == [
        (3, HL, D("0.4"), lp, D("0.4") * lp * D("0.00045"), "partial", T0 + 2 * HOUR)
    ]
    assert result.position(HL_ACCOUNT, HL) == D("1.6")
    # B = 42,000 + 0.4 × (lp − 100,000) − fee; at the 85,000 close AV ≫ MM
    assert result.balance(HL_ACCOUNT, "USDC") == (
        D(42000) + D("0.4") * (lp - D(100000)) - D("0.4") * lp * D("0.00045")
    )


def test_hyperliquid_liquidates_the_rest_in_full_within_the_cooldown_after_a_partial():
    result = hl_run((99000, 99500, 79000, 79500))

    # after the partial, the 79,500 close (same timestamp, so within the 30 s cooldown) is
    # still below the new liquidation price: the remaining 1.6 BTC goes in full at the mark
    # (AV 1,185.6 ≥ ⅔ MM 1,060, so the backstop is not needed)
    assert view(result.of("Liquidated"), "hour", "size", "price", "fee", "stage") == [
        (
            3,
            D("0.4"),
            D("79999.99999999"),
            D("0.4") * D("79999.99999999") * D("0.00045"),
            "partial",
        ),
        (3, D("1.6"), D(79500), D("57.24"), "full"),
    ]
    assert result.position(HL_ACCOUNT, HL) == 0
    assert result.balance(HL_ACCOUNT, "USDC") > 0


def test_hyperliquid_backstop_takes_the_positions_and_what_is_left_of_the_balance():
    # the mark opens at 79,500: AV = 42,000 − 2 × 20,500 = 1,000 < ⅔ MM = ⅔ × 1,987.5 —
    # the vault takes the position at the mark and the 1,000 left (booked as the fee)
    result = hl_run((79500, 79600, 79000, 79200))

    assert view(result.of("Liquidated"), *LIQUIDATION_FIELDS) == [
        (3, HL, D(2), D(79500), D(1000), "backstop", T0 + 2 * HOUR)
    ]
    assert result.balance(HL_ACCOUNT, "USDC") == 0
    assert result.result.summary()["liquidation_fees"] == "1000"


# -- FTX (spec A.7, example A-4) --------------------------------------------------------------

FTX = "BTC/USD:USD"
FTX_ACCOUNT = "ftx.main"


def test_ftx_ladder_sells_ten_percent_chunks_three_bps_through_the_mark():
    # spec A-4: 1,000 USD, long 2 BTC-PERP at 10,000, account leverage 20, fees ignored.
    # Liquidation starts at P = 19,000 / (2 × 0.97) = 9,793.8144329896…; first tick below:
    # 9,793.81443298. Chunk = max(10 % × 2, 1,000 / P) = 0.2 BTC at P × (1 − 0.0003).
    flat = (10000,) * 4
    sources = [
        bars_of(ohlcv(T0, "1h", [flat] * 5), FTX, "ftx"),
        marks_of(marks(T0, "1h", [flat, flat, (9990, 9995, 9700, 9750), (9750,) * 4]), FTX, "ftx"),
    ]
    document = config(
        venue(
            "ftx_cross",
            venue_id="ftx",
            balances={"USD": "1000"},
            maker="0",
            taker="0",
            params={"account_leverage": 20},
        )
    )

    result = run(document, sources, [(0, Submit("entry", "buy", "2"))])

    # The first chunk lifts MF back over MMF at P; at the 9,750 close MF = 508.1752… / 17,550
    # = 0.02896 < 0.03 again, so a second chunk of 10 % × 1.8 goes at 9,750 × 0.9997.
    assert view(result.of("Liquidated"), *LIQUIDATION_FIELDS, "margin_ratio") == [
        (3, FTX, D("0.2"), D("9790.876288650106"), 0, "ladder", T0 + 2 * HOUR, D("0.03")),
        (3, FTX, D("0.18"), D("9747.075"), 0, "ladder", T0 + 3 * HOUR, D("0.0289558551")),
    ]
    assert result.position(FTX_ACCOUNT, FTX) == D("1.62")
    # 1,000 + 0.2 × (9,790.876288650106 − 10,000) + 0.18 × (9,747.075 − 10,000)
    assert result.balance(FTX_ACCOUNT, "USD") == D("912.6487577300212")


# -- Binance Cross Margin (spec B.3, B.4) -----------------------------------------------------

SPOT = "BTC/USDT"
MARGIN_ACCOUNT = "bm.main"


def margin_config():
    return config(
        venue(
            "binance_cross_margin",
            venue_id="bm",
            balances={"USDT": "10000"},
            maker="0",
            taker="0",
            interest_rates={"USDT": "0", "BTC": "0"},
        )
    )


def test_binance_margin_long_sells_collateral_until_the_margin_level_clears_the_stop():
    # 10,000 USDT, borrow 20,000, buy 1 BTC at 30,000 (spec B-1 without interest and fees).
    # ML = p / 20,000 ≤ 1.1 at p = 22,000, inside the 21,000-low bar.
    bars = ohlcv(T0, "1h", [(30000,) * 4] * 3 + [(29000, 29100, 21000, 23000), (23000,) * 4])
    steps = [(0, Borrow("USDT", "20000")), (0, Submit("buy", "buy", "1", symbol=SPOT))]

    result = run(margin_config(), [bars_of(bars, SPOT, "bm")], steps)

    # Sale to ML 1.5 at a 2 % fee: V = (1.5 × 20,000 − 22,000) / (1.5 × 0.98 − 1)
    # = 17,021.2765…, i.e. 0.77369… BTC, rounded up to the 0.00001 lot: 0.7737 BTC.
    # Proceeds 17,021.4, fee 340.428, repaid 16,680.972.
    assert view(result.of("Liquidated"), *LIQUIDATION_FIELDS, "margin_ratio") == [
        (4, SPOT, D("0.7737"), D(22000), D("340.428"), "sale", T0 + 3 * HOUR, D("1.1"))
    ]
    assert view(result.of("LoanRepaid"), "hour", "asset", "interest_paid", "principal_paid") == [
        (4, "USDT", 0, D("16680.972"))
    ]
    assert result.balance(MARGIN_ACCOUNT, "BTC") == D("0.2263")
    assert result.liability(MARGIN_ACCOUNT, "USDT") == D("3319.028")
    # ML after = 0.2263 × 22,000 / 3,319.028 = 1.50001…, just above the stop
    assert D("0.2263") * 22000 / D("3319.028") > D("1.5")


def test_binance_margin_short_buys_back_only_what_lifts_the_margin_level_over_the_stop():
    # borrow 0.5 BTC (post-borrow CML = (10,000 + 15,000 × 0.95) / 15,000 = 1.6167 ≥ 1.5)
    # and sell it at 30,000: TA = 25,000 USDT, ML = 25,000 / (0.5 p) ≤ 1.1 at p = 45,454.5454…
    bars = ohlcv(T0, "1h", [(30000,) * 4] * 3 + [(30500, 47000, 30400, 46000), (46000,) * 4])
    steps = [(0, Borrow("BTC", "0.5")), (0, Submit("short", "sell", "0.5", symbol=SPOT))]

    result = run(margin_config(), [bars_of(bars, SPOT, "bm")], steps)

    lp = D("45454.54545455")  # first tick above
    # spec B.4: stop once ML > 1.5. Buying x BTC at lp costs x·lp·1.02 USDT and repays x·lp:
    # (25,000 − 1.02·x·lp) / (0.5·lp − x·lp) = 1.5  ⇒  x = (0.75·lp − 25,000) / (0.48·lp)
    # = 0.41666666…, rounded up to the 0.00001 lot: 0.41667 BTC, not the whole 0.5 owed.
    exact = (D("0.75") * lp - 25000) / (D("0.48") * lp)
    assert D("0.41666") < exact < D("0.41667")
    bought = D("0.41667")
    assert view(result.of("Liquidated"), *LIQUIDATION_FIELDS) == [
        (4, SPOT, -bought, lp, bought * lp * D("0.02"), "buy_back", T0 + 3 * HOUR)
    ]
    assert view(result.of("LoanRepaid"), "hour", "asset", "principal_paid") == [(4, "BTC", bought)]
    assert result.liability(MARGIN_ACCOUNT, "BTC") == D("0.08333")
    cash = D(25000) - bought * lp * D("1.02")
    assert result.balance(MARGIN_ACCOUNT, "USDT") == cash
    # ML after = 5,681.57… / (0.08333 × lp) = 1.50003…: just above the stop, and it would
    # not be one lot less
    assert cash / (D("0.08333") * lp) > D("1.5")
    less = bought - D("0.00001")
    assert (D(25000) - less * lp * D("1.02")) / ((D("0.5") - less) * lp) <= D("1.5")
