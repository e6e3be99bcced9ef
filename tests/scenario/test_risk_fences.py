"""Position fences: a strategy that breaks its budget is fenced while the others keep trading.

BTC hourly bars at one price each, no fees: a strategy long 0.1 BTC bought at 10,000 loses
exactly 10 USDT per 100 the price falls.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.scenario.harness import BTC, HOUR, T0, config, venue
from tests.scenario.test_risk_harness import (
    Actor,
    RiskRun,
    buy,
    denials,
    flat_bars,
    risk_run,
)

from xmargin.core.errors import ConfigError
from xmargin.engine.config import parse_run_config

D = Decimal


def fence_run(
    fences: list[dict[str, Any]],
    closes: list[float],
    a: dict[int, Any],
    b: dict[int, Any],
    accounts: tuple[str, str] = ("binance.main", "binance.main"),
) -> RiskRun:
    ids = sorted({account.split(".")[1] for account in accounts})
    document = config(
        venue(taker="0", accounts=[{"id": i, "balances": {"USDT": "10000"}} for i in ids])
    )
    document["risk"] = {
        "fences": fences,
        "margin_buffer": 0,
        "breakers": {"daily_loss": False, "max_drawdown": False},
    }
    actors = ((Actor("a", a), accounts[0]), (Actor("b", b), accounts[1]))
    return risk_run(document, [flat_bars(*closes)], *actors)


def hours(records: list[dict[str, Any]]) -> list[float]:
    return [(r["ts_ms"] - T0) / HOUR for r in records]


LOSS_FENCE = [{"strategy": "a", "collateral": "1000", "max_loss": "100"}]
FALL = [10000, 10000, 9500, 9000, 9000, 9000, 9000]


def test_a_strategy_that_loses_its_max_loss_is_fenced_and_closed_out():
    run = fence_run(
        LOSS_FENCE, FALL, {0: buy("0.1"), 4: buy("0.1")}, {0: buy("0.1"), 4: buy("0.1")}
    )
    [fenced] = run.of("StrategyFenced")
    assert (hours([fenced]), fenced["strategy"], fenced["budget"]) == ([4.0], "a", "max_loss")
    assert (D(fenced["value"]), D(fenced["limit"])) == (100, 100)
    fills = [(f["strategy"], f["side"], D(f["quantity"])) for f in run.of("OrderFilled")]
    # a's 0.1 closed at the fence (reduce-only, a's own order); b keeps trading
    assert fills == [
        ("a", "buy", D("0.1")),
        ("b", "buy", D("0.1")),
        ("a", "sell", D("0.1")),
        ("b", "buy", D("0.1")),
    ]
    assert denials(run) == [
        ("fence", "strategy a is fenced: max_loss 100.0 reached its limit 100.0")
    ]
    assert run.position() == D("0.2")


def test_a_loss_just_short_of_the_budget_does_not_fence():
    run = fence_run(LOSS_FENCE, [10000, 10000, 9000.1, 9000.1], {0: buy("0.1")}, {})
    assert run.of("StrategyFenced") == []


def test_fences_measure_each_strategy_by_its_own_fills_on_a_shared_account():
    # b is long 1 BTC on the same account and loses 1,000; only a is fenced, at a's loss
    fences = [{"strategy": "b", "max_loss": "2000"}, *LOSS_FENCE]
    run = fence_run(fences, FALL, {0: buy("0.1")}, {0: buy("1")})
    assert [e["strategy"] for e in run.of("StrategyFenced")] == ["a"]
    assert run.position() == 1


def test_a_strategy_on_its_own_account_is_measured_by_that_accounts_equity():
    run = fence_run(LOSS_FENCE, FALL, {0: buy("0.1")}, {0: buy("1")}, ("binance.a", "binance.b"))
    assert [e["strategy"] for e in run.of("StrategyFenced")] == ["a"]
    assert run.position("binance.a") == 0
    assert run.position("binance.b") == 1


def test_the_leverage_budget_is_checked_before_each_order():
    fences = [{"strategy": "a", "collateral": "1000", "max_leverage": "2"}]
    run = fence_run(fences, [10000, 10000, 10000], {0: [buy("0.2"), buy("0.001")]}, {0: buy("1")})
    assert [D(f["quantity"]) for f in run.of("OrderFilled") if f["strategy"] == "a"] == [D("0.2")]
    assert denials(run) == [
        (
            "fence",
            "strategy a leverage after the order 2.01× exceeds its budget 2.0× "
            "(gross 2,010.00 on equity 1,000.00)",
        )
    ]
    assert run.of("StrategyFenced") == []


def test_leverage_above_the_budget_by_losses_fences_the_strategy():
    fences = [{"strategy": "a", "collateral": "1000", "max_leverage": "2"}]
    # long 0.2 BTC = 2,000 on 1,000; at 9,500 the equity is 900 and the gross 1,900: 2.11×
    run = fence_run(fences, [10000, 10000, 9500, 9500], {0: buy("0.2")}, {})
    [fenced] = run.of("StrategyFenced")
    assert (fenced["budget"], D(fenced["limit"])) == ("max_leverage", 2)
    assert D(fenced["value"]) == D("2.111111")


def test_unfence_lets_the_strategy_trade_again():
    def unfence(ctx: Any, actor: Actor) -> None:
        ctx._kernel.risk.unfence("a")

    run = fence_run(LOSS_FENCE, FALL, {0: buy("0.1"), 4: [unfence, buy("0.01")]}, {})
    assert [D(f["quantity"]) for f in run.of("OrderFilled")] == [D("0.1"), D("0.1"), D("0.01")]


def _document(fence: dict[str, Any]) -> dict[str, Any]:
    document = config(venue(balances={"USDT": "10000"}))
    document["strategies"] = [
        {"id": s, "strategy": "buy_and_hold", "params": {"instrument": BTC, "quantity": "0.1"}}
        for s in ("a", "b")
    ]
    document["data"] = [{"venue": "binance", "symbol": BTC, "kind": "ohlcv", "timeframe": "1h"}]
    document["risk"] = {"fences": [fence]}
    return document


def test_a_fence_with_its_own_sub_account_moves_the_collateral_there():
    fence = {"strategy": "a", "collateral": "2500", "max_loss": "250", "sub_account": True}
    run_config = parse_run_config(_document(fence), Path("fences.toml"))
    [binance] = run_config.venues
    assert [(a.id, a.balances) for a in binance.accounts] == [
        ("binance.main", {"USDT": D("7500")}),
        ("binance.a", {"USDT": D("2500")}),
    ]
    assert [(s.id, s.account) for s in run_config.strategies] == [
        ("a", "binance.a"),
        ("b", "binance.main"),
    ]


@pytest.mark.parametrize(
    ("fence", "message"),
    [
        ({"strategy": "x", "max_loss": "1"}, "unknown strategy 'x'"),
        ({"strategy": "a", "collateral": "20000", "sub_account": True}, "more than"),
        ({"strategy": "a", "sub_account": True}, "needs a collateral"),
        ({"strategy": "a", "max_leverage": "2"}, "needs a collateral"),
        ({"strategy": "a", "max_loss": "-1"}, "max_loss: '-1' — expected a positive number"),
    ],
)
def test_bad_fences_are_config_errors(fence, message):
    with pytest.raises(ConfigError, match=message):
        parse_run_config(_document(fence), Path("fences.toml"))


def test_the_strategy_id_risk_is_reserved():
    document = _document({"strategy": "a", "max_loss": "1"})
    document["strategies"][0]["id"] = "risk"
    with pytest.raises(ConfigError, match="reserved"):
        parse_run_config(document, Path("fences.toml"))
