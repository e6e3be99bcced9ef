"""Margin loans (pending → confirmed or failed), hourly interest, repayment and transfers.

Binance Cross Margin (Classic 3x) on BTC/USDT, 10,000 USDT deposited, hourly bars at 30,000.
Binance charges the first hour of interest when a loan is confirmed, then every full hour
(spec B.3); repayments pay interest first.
"""

from __future__ import annotations

from tests.scenario.harness import (
    BTC,
    HOUR,
    MINUTE,
    T0,
    AtMs,
    Borrow,
    D,
    Repay,
    Submit,
    Transfer,
    bars_of,
    config,
    marks,
    marks_of,
    ohlcv,
    run,
    venue,
    view,
)

SPOT = "BTC/USDT"
BTC_HOURLY = "0.000008333333333333333333333333333"
ACCOUNT = "bm.main"
SPOT_BARS = bars_of(ohlcv(T0, "1h", [(30000,) * 4] * 5), SPOT, "bm")


def margin_run(steps, **settings):
    # BTC at the model's packaged default (0.02 %/day / 24): every lendable asset needs a rate
    settings.setdefault("interest_rates", {"USDT": "0.00001", "BTC": BTC_HOURLY})
    document = config(
        venue(
            "binance_cross_margin",
            venue_id="bm",
            balances={"USDT": "10000"},
            maker="0",
            taker="0",
            **settings,
        )
    )
    return run(document, [SPOT_BARS], steps)


# -- interest ---------------------------------------------------------------------------------


def test_loan_pays_the_first_hour_when_confirmed_then_every_full_hour_interest_first():
    # spec B-2 at an hourly rate of 0.001 %: borrow 1,000 at 01:20, repay 500.02 at 02:30
    steps = [
        (AtMs(T0 + HOUR + 20 * MINUTE), Borrow("USDT", "1000")),
        (AtMs(T0 + 2 * HOUR + 30 * MINUTE), Repay("USDT", "500.02")),
    ]

    result = margin_run(steps)

    assert view(result.of("LoanRequested", "LoanBorrowed"), "type", "hour", "amount") == [
        ("LoanRequested", 4 / 3, D(1000)),
        ("LoanBorrowed", 4 / 3, D(1000)),
    ]
    assert view(result.of("LoanBorrowed"), "first_hour_interest") == [(D("0.01"),)]
    assert view(result.of("InterestCharged"), "hour", "principal", "hourly_rate", "amount") == [
        (2, D(1000), D("0.00001"), D("0.01")),
        (3, D(500), D("0.00001"), D("0.005")),
        (4, D(500), D("0.00001"), D("0.005")),
        (5, D(500), D("0.00001"), D("0.005")),
    ]
    # 0.01 + 0.01 of interest is paid before any principal
    assert view(result.of("LoanRepaid"), "hour", "interest_paid", "principal_paid") == [
        (2.5, D("0.02"), D(500))
    ]
    assert result.balance(ACCOUNT, "USDT") == D("10499.98")
    assert result.liability(ACCOUNT, "USDT") == D("500.015")


def test_interest_defaults_to_the_models_daily_rate_over_24():
    steps = [(0, Borrow("USDT", "20000"))]

    result = margin_run(steps, interest_rates={"BTC": BTC_HOURLY})

    # packaged USDT rate 0.02 % a day: 20,000 × 0.0002 / 24 an hour, first hour at 01:00
    hourly = D(20000) * D("0.0002") / 24
    assert view(result.of("LoanBorrowed"), "hour", "first_hour_interest") == [(1, hourly)]
    assert view(result.of("InterestCharged"), "hour", "amount") == [
        (2, hourly),
        (3, hourly),
        (4, hourly),
        (5, hourly),
    ]


def test_the_venues_default_rate_covers_assets_without_their_own():
    steps = [(0, Borrow("BTC", "0.1"))]

    result = margin_run(steps, interest_rates={"USDT": "0.00001"}, default_interest_rate="0.0001")

    # 0.1 BTC × 0.0001 an hour = 0.00001 BTC: first hour at 01:00, then 02:00 … 05:00
    assert view(result.of("LoanBorrowed"), "hour", "first_hour_interest") == [(1, D("0.00001"))]
    assert view(result.of("InterestCharged"), "hour", "hourly_rate", "amount") == [
        (hour, D("0.0001"), D("0.00001")) for hour in (2, 3, 4, 5)
    ]
    assert result.liability(ACCOUNT, "BTC") == D("0.10005")


def test_repaying_more_than_owed_repays_exactly_the_liability():
    steps = [(0, Borrow("USDT", "1000")), (1, Repay("USDT", "5000"))]

    result = margin_run(steps)

    # 0.01 at 01:00 and 0.01 at 02:00, then the repay at 02:00 clears it all
    assert view(result.of("LoanRepaid"), "hour", "interest_paid", "principal_paid") == [
        (2, D("0.02"), D(1000))
    ]
    assert result.liability(ACCOUNT, "USDT") == 0
    assert result.of("InterestCharged")[-1]["ts_ms"] == T0 + 2 * HOUR


def test_spot_margin_buy_pays_its_fee_in_the_asset_received():
    steps = [(0, Submit("buy", "buy", "0.1", symbol=SPOT))]
    document = config(
        venue(
            "binance_cross_margin",
            venue_id="bm",
            balances={"USDT": "10000"},
            taker="0.001",
            interest_rates={"BTC": BTC_HOURLY},
        )
    )

    result = run(document, [SPOT_BARS], steps)

    # 0.1 BTC at 30,000 costs 3,000 USDT; the 0.1 % fee is 0.0001 BTC (spec B.5)
    assert view(result.of("OrderFilled"), "quantity", "price", "fee", "fee_asset") == [
        (D("0.1"), D(30000), D("0.0001"), "BTC")
    ]
    assert result.balance(ACCOUNT, "BTC") == D("0.0999")
    assert result.balance(ACCOUNT, "USDT") == D(7000)


# -- refused loans ----------------------------------------------------------------------------


def test_borrow_above_the_venue_limit_fails_without_touching_the_balance():
    result = margin_run([(0, Borrow("USDT", "1000"))], borrow_limits={"USDT": "500"})

    assert view(result.of("LoanRequested", "LoanFailed"), "type", "hour", "amount", "loan_id") == [
        ("LoanRequested", 1, D(1000), "bm-L-000001"),
        ("LoanFailed", 1, D(1000), "bm-L-000001"),
    ]
    assert view(result.of("LoanFailed"), "reason") == [
        ("borrow limit: 1000 USDT would exceed the limit of 500",)
    ]
    assert result.balance(ACCOUNT, "USDT") == D(10000)
    assert result.liability(ACCOUNT, "USDT") == 0
    assert result.of("InterestCharged") == []


def test_borrow_beyond_the_collateral_rule_fails():
    # Classic 3x: post-borrow CML = (10,000 + B) / B ≥ 1.5 ⇔ B ≤ 20,000 (spec B-1)
    result = margin_run([(0, Borrow("USDT", "20000.01"))])

    assert view(result.of("LoanFailed"), "hour", "reason") == [
        (1, "insufficient collateral to borrow 20000.01 USDT")
    ]
    assert result.balance(ACCOUNT, "USDT") == D(10000)


def test_borrow_at_the_collateral_limit_is_confirmed():
    result = margin_run([(0, Borrow("USDT", "20000"))])

    assert view(result.of("LoanBorrowed"), "hour", "amount") == [(1, D(20000))]
    assert result.balance(ACCOUNT, "USDT") == D(30000)


def test_borrow_answer_arrives_after_the_order_latency():
    result = margin_run([(0, Borrow("USDT", "1000"))], latency={"order_ms": 300})

    assert view(result.of("LoanRequested", "LoanBorrowed"), "type", "ts_ms") == [
        ("LoanRequested", T0 + HOUR),
        ("LoanBorrowed", T0 + 2 * HOUR),  # the next step at or after 01:00:00.300
    ]


def test_a_futures_account_cannot_borrow():
    bars = bars_of(ohlcv(T0, "1h", [(100,) * 4] * 2))

    result = run(config(venue(leverage={BTC: 10})), [bars], [(0, Borrow("USDT", "5000"))])

    assert view(result.of("LoanFailed"), "reason") == [
        ("binance_usdm_cross accounts cannot borrow",)
    ]
    assert result.balance("binance.main", "USDT") == D(10000)


# -- sub-accounts and transfers ---------------------------------------------------------------

MAIN, SUB = "binance.main", "binance.sub"
TWO_ACCOUNTS = config(
    venue(
        accounts=[
            {"id": "main", "balances": {"USDT": "1000"}, "leverage": {BTC: 20}},
            {"id": "sub", "balances": {"USDT": "0"}, "leverage": {BTC: 50}},
        ]
    )
)
FLAT = (10000,) * 4
FLAT_BARS = bars_of(ohlcv(T0, "1h", [FLAT] * 5))


def test_transfer_that_keeps_the_source_above_initial_margin_moves_the_collateral():
    # main: long 1 BTC at 10,000 (IM 500 at 20x), fee 5 → 995 left, 495 free
    steps = [(0, Submit("long", "buy", "1")), (1, Transfer("USDT", "495", SUB))]

    result = run(TWO_ACCOUNTS, [FLAT_BARS], steps)

    assert view(result.of("TransferCompleted"), "hour", "from_account", "to_account", "amount") == [
        (2, MAIN, SUB, D(495))
    ]
    assert result.balance(MAIN, "USDT") == D(500)
    assert result.balance(SUB, "USDT") == D(495)


def test_transfer_that_would_leave_the_source_below_initial_margin_is_rejected():
    steps = [(0, Submit("long", "buy", "1")), (1, Transfer("USDT", "495.01", SUB))]

    result = run(TWO_ACCOUNTS, [FLAT_BARS], steps)

    assert view(result.of("TransferRejected"), "hour", "amount", "reason") == [
        (2, D("495.01"), "the transfer would leave binance.main below initial margin")
    ]
    assert result.balance(MAIN, "USDT") == D(995)
    assert result.balance(SUB, "USDT") == 0


def test_transfer_to_an_unknown_account_is_rejected():
    result = run(TWO_ACCOUNTS, [FLAT_BARS], [(0, Transfer("USDT", "10", "binance.nope"))])

    assert view(result.of("TransferRejected"), "reason") == [
        ("unknown account 'binance.nope' on binance",)
    ]


def test_sub_accounts_are_margined_and_liquidated_separately():
    # main funds sub with 300; sub goes long 1 BTC at 50x (IM 200; WB 295 after the fee):
    # LP = (295 − 10,000) / (0.004 − 1) = 9,743.9759…, inside the 03:00 mark bar
    marks_path = marks(T0, "1h", [FLAT, FLAT, FLAT, (9990, 9995, 9700, 9800), (9800,) * 4])
    steps = [
        (0, Transfer("USDT", "300", SUB)),
        (1, Submit("sub-long", "buy", "1", account=SUB)),
    ]

    result = run(TWO_ACCOUNTS, [FLAT_BARS, marks_of(marks_path)], steps)

    assert view(result.of("Liquidated"), "hour", "account", "size") == [(4, SUB, D(1))]
    assert result.balance(MAIN, "USDT") == D(700)
    assert result.position(SUB, BTC) == 0


def test_interest_on_a_coin_loan_is_summed_in_the_quote_currency():
    # 0.5 BTC borrowed at 01:00 pays 0.5 × 0.0001 BTC at once (the first hour) and at 02:00
    # … 05:00: five charges of 0.00005 BTC, each worth 0.00005 × 30,000 = 1.5 USDT then.
    result = margin_run([(0, Borrow("BTC", "0.5"))], interest_rates={"BTC": "0.0001"})
    [borrowed] = result.of("LoanBorrowed")
    charged = [e for e in result.of("InterestCharged") if e["asset"] == "BTC"]
    assert borrowed["first_hour_interest"] == "0.00005"
    assert len(charged) == 4
    assert sum(D(e["amount"]) for e in charged) == D("0.0002")
    assert D(result.result.summary()["interest_paid"]) == D("7.5")
