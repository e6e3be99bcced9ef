"""FTX negative balances: hourly interest on them (spec A.5, A.6 legacy rate) and the legacy
automatic conversion of negative USD, exactly when its triggers hold (spec A.6).

Every bar is hourly; an order sent on bar ``n`` fills at its close, hour ``n + 1``; interest
is charged at each full hour before the orders of that hour (spec §0.4).
"""

from __future__ import annotations

from tests.scenario.harness import T0, D, Submit, bars_of, config, ohlcv, run, venue, view

from xmargin.storage.projections import is_risk_event

SPOT, PERP = "BTC/USD", "BTC/USD:USD"
ACCOUNT = "ftx.main"
INSTRUMENTS = [
    {"venue": "ftx", "symbol": SPOT, "size_increment": "0.001", "min_notional": "0"},
    {"venue": "ftx", "symbol": PERP, "size_increment": "0.001", "min_notional": "0"},
]


def ftx(balances, taker="0", **params):
    document = config(
        venue(
            "ftx_cross",
            venue_id="ftx",
            balances=balances,
            maker="0",
            taker=taker,
            params={"account_leverage": 10, **params},
            interest_rates={"USD": "0.00001", "BTC": "0.00002"},
        )
    )
    document["instruments"] = INSTRUMENTS
    return document


def hourly(*closes):
    return ohlcv(T0, "1h", [(c,) * 4 for c in closes])


# -- spot margin: negative balances are borrows that pay the hourly rate (A.5) ---------------


def test_a_spot_margin_short_pays_hourly_interest_in_the_coin_added_to_the_borrow():
    bars = hourly(*[20000] * 5)
    steps = [(0, Submit("short", "sell", "0.5", symbol=SPOT))]

    result = run(
        ftx({"USD": "10000"}, spot_margin_enabled=True), [bars_of(bars, SPOT, "ftx")], steps
    )

    # BTC −0.5 from hour 1; at 0.002 %/h: 0.5 × 0.00002 = 0.00001 BTC at hour 2, then each
    # hour on the grown borrow: b(n+1) = b(n) × 1.00002
    owed = [D("0.5")]
    for _ in range(4):
        owed.append(owed[-1] * D("1.00002"))
    expected = [
        (h, "BTC", owed[i], D("0.00002"), owed[i] * D("0.00002"))
        for i, h in enumerate((2, 3, 4, 5))
    ]
    charged = result.of("InterestCharged")
    assert view(charged, "hour", "asset", "principal", "hourly_rate", "amount") == expected
    assert result.balance(ACCOUNT, "BTC") == -owed[4]
    assert owed[4] == D("0.5") * D("1.00002") ** 4
    # 10,000 deposited + 10,000 from the sale, untouched: the interest is in the borrowed coin
    assert result.balance(ACCOUNT, "USD") == D(20000)
    assert result.of("CollateralConverted") == []


def test_spot_margin_negative_usd_pays_the_usd_rate_and_is_never_converted():
    bars = hourly(*[20000] * 5)
    steps = [(0, Submit("buy", "buy", "0.1", symbol=SPOT))]

    result = run(
        ftx({"USD": "1000"}, spot_margin_enabled=True), [bars_of(bars, SPOT, "ftx")], steps
    )

    # 1,000 − 0.1 × 20,000 = −1,000 USD: 0.01 at hour 2, then 1,000.01 × 0.00001, …
    owed = [D(1000)]
    for _ in range(4):
        owed.append(owed[-1] * D("1.00001"))
    assert view(result.of("InterestCharged"), "hour", "asset", "amount") == [
        (h, "USD", owed[i] * D("0.00001")) for i, h in enumerate((2, 3, 4, 5))
    ]
    assert result.balance(ACCOUNT, "USD") == -owed[4]
    assert result.balance(ACCOUNT, "BTC") == D("0.1")
    # spot_margin_era with spot margin: negative USD is a borrow, no conversion (A.6)
    assert result.of("CollateralConverted") == []


# -- legacy_2020: interest only beyond −30,000 USD; conversion on its triggers (A.6) ----------


def test_legacy_negative_usd_is_converted_exactly_when_a_trigger_holds():
    # 1 BTC as collateral, USD 0. Long 1 BTC-PERP at 20,000 (fee 0.07 % = 14): USD −14, which
    # no trigger catches (−14 ≥ −conv_abs_usd = −100; MF far above MMF; 14 < 4 × collateral).
    # Closed at 19,800 on bar 2: −200 realised and a 13.86 fee ⇒ USD −227.86 < −100.
    bars = hourly(20000, 20000, 19800, 19800, 19800)
    sources = [bars_of(bars, SPOT, "ftx"), bars_of(bars, PERP, "ftx")]
    steps = [
        (0, Submit("long", "buy", "1", symbol=PERP)),
        (2, Submit("close", "sell", "1", symbol=PERP)),
    ]
    document = ftx({"BTC": "1"}, taker="0.0007", rule_set="legacy_2020", conv_abs_usd=100)

    result = run(document, sources, steps)

    # the smallest sale ending the triggers brings USD to −100: 127.86 USD; plus the 1 %
    # buffer, 129.1386 USD = 0.0065221… BTC at 19,800, rounded up to the 0.001 lot: 0.007.
    assert D("0.006") < D("129.1386") / 19800 < D("0.007")
    sold = D("0.007")
    fee = sold * 19800 * D("0.0007")
    assert fee == D("0.09702")
    assert view(
        result.of("CollateralConverted"), "hour", "instrument", "quantity", "price", "fee"
    ) == [(3, SPOT, sold, D(19800), fee)]
    usd = D(-14) - 200 - D("13.86") + sold * 19800 - fee
    assert usd == D("-89.35702")
    assert result.balance(ACCOUNT, "USD") == usd
    assert result.balance(ACCOUNT, "BTC") == 1 - sold
    # above −30,000 the legacy rule charges no interest
    assert result.of("InterestCharged") == []


def test_legacy_interest_beyond_thirty_thousand_usd_and_no_conversion_without_a_trigger():
    # 10 BTC of collateral; long 40 BTC-PERP at 20,000 closed at 19,000: USD −40,000. The
    # triggers are set out of reach (conv_abs_usd 10⁹; 40,000 < 4 × collateral), so no
    # conversion; interest 0.10 %/day on the whole balance, hourly: b × 0.001 / 24.
    bars = hourly(20000, 19000, 19000, 19000, 19000)
    spot = hourly(*[20000] * 5)
    sources = [bars_of(spot, SPOT, "ftx"), bars_of(bars, PERP, "ftx")]
    steps = [
        (0, Submit("long", "buy", "40", symbol=PERP)),
        (1, Submit("close", "sell", "40", symbol=PERP)),
    ]
    document = ftx({"BTC": "10"}, rule_set="legacy_2020", conv_abs_usd=10**9)

    result = run(document, sources, steps)

    # hourly from hour 3 (the close fills at hour 2, after that hour's interest)
    rate = D("0.001") / 24
    owed = [D(40000)]
    for _ in range(3):
        owed.append(owed[-1] * (1 + rate))
    charged = view(
        result.of("InterestCharged"), "hour", "asset", "principal", "hourly_rate", "amount"
    )
    assert [row[:2] for row in charged] == [(3, "USD"), (4, "USD"), (5, "USD")]
    for (_, _, principal, hourly_rate, amount), before in zip(charged, owed, strict=False):
        assert hourly_rate == rate
        assert abs(principal - before) < D("1e-9")
        assert abs(amount - before * rate) < D("1e-9")
    # 40,000 × (1 + 0.001/24)³ = 40,005.00069…
    assert abs(result.balance(ACCOUNT, "USD") + owed[3]) < D("1e-9")
    assert (-result.balance(ACCOUNT, "USD")).quantize(D("0.01")) == D("40005.00")
    assert result.of("CollateralConverted") == []


def test_a_conversion_is_stored_with_the_risk_events():
    assert is_risk_event("CollateralConverted")


def test_a_price_move_that_makes_a_trigger_hold_converts_at_that_update():
    # BTC counted at weight 1 (params.coins) so that collateral_total = BTC × p + USD.
    # Long 1 BTC-PERP at 20,000 with a 0.07 % fee: USD −14, 1 BTC held. The ratio trigger
    # (conv_ratio 0.00074) holds when 14 > 0.00074 × (p − 14): not at 20,000 or 19,000, but
    # at 18,900 (the hour-4 close), where only the price changed, and too little for the
    # liquidation check to look again (MF ≈ 0.94).
    bars = hourly(20000, 20000, 19000, 18900, 18900)
    sources = [bars_of(bars, SPOT, "ftx"), bars_of(bars, PERP, "ftx")]
    coins = {"BTC": {"total_weight": 1, "initial_weight": 1, "imf_factor": 0}}
    document = ftx(
        {"BTC": "1"},
        taker="0.0007",
        rule_set="legacy_2020",
        conv_abs_usd=10**9,
        conv_ratio="0.00074",
        coins=coins,
    )

    result = run(document, sources, [(0, Submit("long", "buy", "1", symbol=PERP))])

    ratio = D("0.00074")
    assert ratio * (19000 - 14) >= 14
    assert ratio * (18900 - 14) < 14
    # Selling V of BTC leaves collateral_total at 18,886 and USD at −14 + V: the trigger ends
    # at V = 14 − 0.00074 × 18,886 = 0.02436 USD; with the 1 % buffer 0.0246036 USD, which is
    # 0.0000013 BTC, rounded up to the 0.001 lot. The sale pays 18.9 × 0.0007 = 0.01323 USD.
    assert 14 - ratio * 18886 == D("0.02436")
    assert view(
        result.of("CollateralConverted"), "hour", "instrument", "quantity", "price", "fee"
    ) == [(4, SPOT, D("0.001"), D(18900), D("0.01323"))]
    assert result.balance(ACCOUNT, "USD") == D(-14) + D("18.9") - D("0.01323")
    assert result.balance(ACCOUNT, "BTC") == D("0.999")
    assert result.position(ACCOUNT, PERP) == 1
