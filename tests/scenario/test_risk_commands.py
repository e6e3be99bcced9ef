"""Every venue command passes the risk engine: cancel, modify, borrow, repay, transfer and
leverage changes, as orders do; a denial is a ``CommandDenied`` event with its numbers.

HALTED lets through only cancels, repayments and the kill switch's flattening; REDUCING
also transfers that keep the source account's margin ratio, leverage changes that do not
raise the leverage, and modifies that leave a reducing order; leverage changes are held to
the caps and to the venue's tier maximum in every state.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.scenario.harness import BTC, T0, bars_of, config, ohlcv, venue
from tests.scenario.test_risk_harness import Actor, RiskRun, risk_run

from xmargin.model.orders import OrderSide, OrderType
from xmargin.risk.state import TradingState

D = Decimal
SPOT = "BTC/USDT"
MAIN, SUB = "binance.main", "binance.sub"
HALTED = (
    "trading is halted: a {} is not allowed; only cancels, repayments and the kill switch's "
    "flattening pass until trading is resumed"
)


def denied(run: RiskRun, *keys: str) -> list[tuple[Any, ...]]:
    return [tuple(e[k] for k in keys) for e in run.of("CommandDenied")]


def halt(ctx: Any, _: Any) -> None:
    ctx._kernel.risk.halt("test")


def reduce(ctx: Any, _: Any) -> None:
    ctx._kernel.risk.escalate(TradingState.REDUCING, "test", ctx.now_ns)


def limit_buy(quantity: str, price: str, symbol: str = BTC) -> Any:
    return lambda ctx, _: ctx.order(
        symbol, OrderSide.BUY, D(quantity), OrderType.LIMIT, price=D(price)
    )


def first_order(actor: Actor) -> Any:
    return actor.outcomes[0][-1]


# -- HALTED --------------------------------------------------------------------------------------


def test_while_halted_only_cancels_and_repayments_reach_the_venue():
    # Binance Cross Margin, spot BTC/USDT at 30,000: borrow 100 USDT and rest a buy limit,
    # then halt (the kill switch cancels the limit) and try every command
    document = config(
        venue(
            "binance_cross_margin",
            venue_id="bm",
            balances={"USDT": "10000"},
            interest_rates={"USDT": "0", "BTC": "0"},
        )
    )
    document["risk"] = {}
    bars = bars_of(ohlcv(T0, "1h", [(30000,) * 4] * 4), SPOT, "bm")

    def try_everything(ctx: Any, actor: Actor) -> None:
        order = first_order(actor)
        ctx.borrow("USDT", D(50))
        ctx.transfer("USDT", D(10), "bm.other")
        ctx.set_leverage(SPOT, D(2))
        ctx.modify(order, price=D(29000))
        ctx.cancel(order)
        ctx.repay("USDT", D(40))

    script = {0: [lambda ctx, _: ctx.borrow("USDT", D(100)), limit_buy("0.1", "25000", SPOT)]}
    script[1] = [halt, try_everything]
    actor = Actor("a", script, SPOT)
    run = risk_run(document, [bars], (actor, "bm.main"))

    assert denied(run, "command", "rule", "reason", "strategy") == [
        ("borrow", "halted", HALTED.format("borrow"), "a"),
        ("transfer", "halted", HALTED.format("transfer"), "a"),
        ("set_leverage", "halted", HALTED.format("set_leverage"), "a"),
        ("modify", "halted", HALTED.format("modify"), "a"),
    ]
    assert denied(run, "asset", "amount", "client_order_id") == [
        ("USDT", "50", None),
        ("USDT", "10", None),
        (None, "2", None),
        (None, None, "O-000001"),
    ]
    # the borrow before the halt went out; the one after it did not
    assert [(e["amount"], e["ts_ms"]) for e in run.of("LoanRequested")] == [("100", T0 + 3_600_000)]
    # the kill switch's cancel arrived first; the strategy's cancel still reached the venue
    assert [e["reason"] for e in run.of("OrderCanceled")] == ["canceled by request"]
    assert [e["reason"] for e in run.of("OrderCancelRejected")] == [
        "cancel refused: order O-000001 is already canceled"
    ]
    assert [(e["principal_paid"], e["interest_paid"]) for e in run.of("LoanRepaid")] == [
        ("40", "0")
    ]
    assert run.of("TransferRejected", "TransferCompleted", "OrderModified") == []
    assert run.result.summary()["risk"]["commands_denied"] == 4


# -- REDUCING ------------------------------------------------------------------------------------


def two_accounts(risk: dict[str, Any] | None = None) -> dict[str, Any]:
    document = config(
        venue(
            accounts=[
                {"id": "main", "balances": {"USDT": "1000"}, "leverage": {BTC: 20}},
                {"id": "sub", "balances": {"USDT": "200"}},
            ]
        )
    )
    document["risk"] = risk or {}
    return document


FLAT_BARS = bars_of(ohlcv(T0, "1h", [(10000,) * 4] * 4))


def test_while_reducing_a_transfer_passes_only_if_it_keeps_the_source_margin_ratio():
    # main: long 0.5 BTC at 10,000, fee 2.5 → margin balance 997.5; maintenance 0.004 × 5,000
    # = 20, margin ratio 20 / 997.5 = 0.02005… (lower is safer); moving 100 out makes it
    # 20 / 897.5 = 0.02228…. sub holds no position: its ratio is unbounded either way.
    script = {
        0: lambda ctx, _: ctx.buy(BTC, D("0.5")),
        1: [
            reduce,
            lambda ctx, _: ctx.transfer("USDT", D(100), SUB),
            lambda ctx, _: ctx.transfer("USDT", D(50), MAIN, account=SUB),
            lambda ctx, _: ctx.borrow("USDT", D(10)),
        ],
    }
    run = risk_run(two_accounts(), [FLAT_BARS], Actor("a", script))

    assert denied(run, "command", "account", "rule", "reason") == [
        (
            "transfer",
            MAIN,
            "reducing",
            "trading is reducing: transferring 100 USDT out of binance.main would take its "
            "margin_ratio from 0.0201 to 0.0223 (lower is safer)",
        ),
        ("borrow", MAIN, "reducing", "trading is reducing: a borrow of 10 USDT adds a liability"),
    ]
    assert [
        (e["from_account"], e["to_account"], e["amount"]) for e in run.of("TransferCompleted")
    ] == [(SUB, MAIN, "50")]
    assert run.backtest.ledger.book(MAIN).balance("USDT") == D("1047.5")
    assert run.of("LoanRequested") == []


def test_while_reducing_a_transfer_out_of_a_margin_account_with_a_loan_lowers_its_margin_level():
    # Binance Cross Margin: 10,000 USDT plus 1,000 borrowed (no interest) → margin level
    # TA / (TL + TI) = 11,000 / 1,000 = 11 (higher is safer); 100 out → 10,900 / 1,000 = 10.9
    document = config(
        venue(
            "binance_cross_margin",
            venue_id="bm",
            accounts=[
                {"id": "main", "balances": {"USDT": "10000"}},
                {"id": "sub", "balances": {"USDT": "0"}},
            ],
            interest_rates={"USDT": "0", "BTC": "0"},
        )
    )
    document["risk"] = {}
    bars = bars_of(ohlcv(T0, "1h", [(30000,) * 4] * 3), SPOT, "bm")
    script = {
        0: lambda ctx, _: ctx.borrow("USDT", D(1000)),
        1: [reduce, lambda ctx, _: ctx.transfer("USDT", D(100), "bm.sub")],
    }
    run = risk_run(document, [bars], (Actor("a", script, SPOT), "bm.main"))

    assert denied(run, "rule", "reason") == [
        (
            "reducing",
            "trading is reducing: transferring 100 USDT out of bm.main would take its "
            "margin_level from 11 to 10.9 (higher is safer)",
        )
    ]
    assert run.backtest.ledger.book("bm.sub").balance("USDT") == 0


def test_while_reducing_leverage_may_fall_but_not_rise_and_a_modify_must_reduce():
    script = {
        0: [lambda ctx, _: ctx.buy(BTC, D("0.5")), limit_buy("0.1", "9000")],
        1: [
            reduce,
            lambda ctx, _: ctx.set_leverage(BTC, D(25)),
            lambda ctx, _: ctx.set_leverage(BTC, D(10)),
            lambda ctx, a: ctx.modify(first_order(a), quantity=D("0.2")),
            lambda ctx, a: ctx.modify(first_order(a), price=D("9500")),
        ],
    }
    actor = Actor("a", script)
    run = risk_run(two_accounts(), [FLAT_BARS], actor)

    assert denied(run, "command", "rule", "reason") == [
        (
            "set_leverage",
            "reducing",
            "trading is reducing: leverage 25× on BTC/USDT:USDT would raise the current 20×",
        ),
        (
            "modify",
            "reducing",
            "trading is reducing: the order would take the position from 0.5 to 0.7",
        ),
        (
            "modify",
            "reducing",
            "trading is reducing: the order would take the position from 0.5 to 0.6",
        ),
    ]
    assert run.backtest.venues["binance"].accounts[MAIN].leverage[BTC] == 10
    assert run.of("OrderModified") == []


# -- leverage caps in every state ---------------------------------------------------------------


def test_leverage_changes_are_held_to_the_caps():
    risk = {"max_leverage": 30, "max_instrument_leverage": {BTC: 15}}
    script = {
        0: [
            lambda ctx, _: ctx.set_leverage(BTC, D(40)),
            lambda ctx, _: ctx.set_leverage(BTC, D(16)),
            lambda ctx, _: ctx.set_leverage(BTC, D(0)),
            lambda ctx, _: ctx.set_leverage(BTC, D(15)),
        ]
    }
    run = risk_run(two_accounts(risk), [FLAT_BARS], Actor("a", script))

    assert denied(run, "rule", "reason") == [
        (
            "max_instrument_leverage",
            "leverage 40× on BTC/USDT:USDT exceeds the limit 15×",
        ),
        ("max_instrument_leverage", "leverage 16× on BTC/USDT:USDT exceeds the limit 15×"),
        ("leverage", "leverage must be positive, got 0"),
    ]
    assert run.backtest.venues["binance"].accounts[MAIN].leverage[BTC] == 15


def test_leverage_above_the_account_cap_is_denied_without_an_instrument_cap():
    run = risk_run(
        two_accounts({"max_leverage": 30}),
        [FLAT_BARS],
        Actor("a", {0: lambda ctx, _: ctx.set_leverage(BTC, D(31))}),
    )

    assert denied(run, "rule", "reason") == [
        ("max_leverage", "leverage 31× on BTC/USDT:USDT exceeds the account limit 30×")
    ]


def test_leverage_is_held_to_the_venue_tier_maximum_for_the_position_notional():
    # Binance BTCUSDT brackets (src/xmargin/margin/data/binance_usdm_tiers.csv): up to 50,000
    # notional 125×, from 50,000 to 600,000 100×
    document = config(venue(balances={"USDT": "100000"}, leverage={BTC: 20}))
    document["risk"] = {"max_leverage": 500}
    script = {
        0: [lambda ctx, _: ctx.set_leverage(BTC, D(126)), lambda ctx, _: ctx.buy(BTC, D(6))],
        1: [
            lambda ctx, _: ctx.set_leverage(BTC, D(101)),
            lambda ctx, _: ctx.set_leverage(BTC, D(100)),
        ],
    }
    run = risk_run(document, [FLAT_BARS], Actor("a", script))

    assert denied(run, "rule", "reason") == [
        (
            "venue_max_leverage",
            "leverage 126× on BTC/USDT:USDT exceeds the binance_usdm_cross maximum of 125× for a "
            "position notional of 0",
        ),
        (
            "venue_max_leverage",
            "leverage 101× on BTC/USDT:USDT exceeds the binance_usdm_cross maximum of 100× for a "
            "position notional of 60,000.00",
        ),
    ]
    assert run.backtest.venues["binance"].accounts[MAIN].leverage[BTC] == 100


# -- modifies in ACTIVE --------------------------------------------------------------------------


def test_a_modify_is_checked_as_the_order_it_leaves():
    # the limit of 0.1 passes the 0.3 quantity cap; raised to 0.4 it would not; a repricing
    # far from the mark fails the price band; a cut to 0.05 passes and reaches the venue
    risk = {"max_order_quantity": "0.3", "price_band": "0.05"}
    script = {
        0: limit_buy("0.1", "9800"),
        1: [
            lambda ctx, a: ctx.modify(first_order(a), quantity=D("0.4")),
            lambda ctx, a: ctx.modify(first_order(a), price=D("9000")),
            lambda ctx, a: ctx.modify(first_order(a), quantity=D("0.05")),
        ],
    }
    run = risk_run(two_accounts(risk), [FLAT_BARS], Actor("a", script))

    assert denied(run, "command", "rule", "reason") == [
        ("modify", "max_order_quantity", "quantity 0.4 exceeds the limit 0.3"),
        (
            "modify",
            "price_band",
            "price 9000 is 10 % from the mark 10,000.00, outside the ±5 % band",
        ),
    ]
    assert [(e["quantity"], e["price"]) for e in run.of("OrderModified")] == [("0.05", "9800")]


def test_while_reducing_an_account_without_a_leverage_setting_is_at_the_venue_default():
    # no leverage configured: Binance USDⓈ-M applies its default of 20× (binance_usdm.py)
    document = config(venue())
    document["risk"] = {"max_leverage": 50}
    script = {0: [reduce, lambda ctx, _: ctx.set_leverage(BTC, D(21))]}
    run = risk_run(document, [FLAT_BARS], Actor("a", script))

    assert denied(run, "rule", "reason") == [
        (
            "reducing",
            "trading is reducing: leverage 21× on BTC/USDT:USDT would raise the current 20×",
        )
    ]
