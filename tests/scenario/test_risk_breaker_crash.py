"""``examples/breaker_crash.toml`` on the real pack: the daily-loss breaker halts in the crash
of 2025-10-10, the kill switch flattens, and nothing else is sent after the halt."""

from __future__ import annotations

import dataclasses
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

from tests.pack import needs_pack

from xmargin.backtest.runner import Backtest
from xmargin.backtest.sources import load_sources
from xmargin.engine.config import load_run_config
from xmargin.risk.engine import RiskEngine
from xmargin.testing.scripted import AtMs, Borrow, Repay, ScriptedStrategy, SetLeverage, Transfer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "breaker_crash.toml"
HALT_MS = 1_760_130_900_000  # 2025-10-10 21:15 UTC
LIQUIDATION_MS = 1_760_131_500_000  # 2025-10-10 21:25 UTC, the close of the 21:20 bar
BEFORE_MS = 1_760_126_400_000  # 2025-10-10 20:00 UTC
LOAN_MS = 1_760_131_500_000  # 2025-10-10 21:25 UTC
XRP = "XRP/USDT:USDT"

pytestmark = needs_pack


def run_example(breakers: bool, treasury: ScriptedStrategy | None = None) -> Backtest:
    config = load_run_config(EXAMPLE)
    if not breakers:
        risk = dataclasses.replace(config.risk, breakers=())
        config = dataclasses.replace(config, risk=risk)
    backtest = Backtest(config, load_sources(config), RiskEngine(config.risk))
    if treasury is not None:
        backtest.attach(treasury, "binance.main")
    backtest.result = backtest.run()  # type: ignore[attr-defined]
    return backtest


def test_the_daily_loss_breaker_halts_at_21_15_and_only_the_flattening_follows():
    backtest = run_example(breakers=True)
    events = backtest.recorder.events
    [trip] = [e for e in events if e["type"] == "BreakerTripped"]
    assert (trip["ts_ms"], trip["breaker"], trip["action"]) == (HALT_MS, "daily_loss", "halted")
    assert Decimal(trip["value"]) >= Decimal("0.25")
    [halt] = [e for e in events if e["type"] == "TradingStateChanged"]
    assert (halt["ts_ms"], halt["current"]) == (HALT_MS, "halted")
    after = events[events.index(halt) + 1 :]
    submitted = [e for e in after if e["type"] == "OrderSubmitted"]
    assert [(e["strategy"], e["side"], e["order_type"]) for e in submitted] == [
        ("risk", "sell", "market")
    ]
    order = backtest.venues["binance"].orders[submitted[0]["client_order_id"]]
    assert order.reduce_only
    [flat] = [e for e in after if e["type"] == "BookFlattened"]
    assert flat["ts_ms"] == HALT_MS + 300_000
    assert not [e for e in events if e["type"] == "Liquidated"]
    assert backtest.result.final_equity > Decimal(600)  # type: ignore[attr-defined]


def test_without_the_breaker_the_wick_liquidates_the_position():
    backtest = run_example(breakers=False)
    [liquidated] = [e for e in backtest.recorder.events if e["type"] == "Liquidated"]
    # the 21:20 bar's 1.1792 low, carried by the basis to the last hourly mark, crosses the
    # liquidation price; the 5-minute path finds it at that bar's close (decision 0003)
    assert (liquidated["ts_ms"], liquidated["trigger_ts_ms"]) == (
        LIQUIDATION_MS,
        LIQUIDATION_MS - 300_000,
    )
    # 712.5 XRP at 2.8069, funding at the 08:00 and 16:00 marks; spec C.3, tier 1 (MMR 0.005):
    # LP = (WB − q·EP) / (q·MMR − q) = 1.41208706495…, liquidated at the mark tick below
    size, entry = Decimal("712.5"), Decimal("2.8069")
    funding = size * Decimal("2.8018") * Decimal("0.00007109") + size * Decimal("2.7401") * Decimal(
        "0.00001196"
    )
    wallet = Decimal(1000) - size * entry * Decimal("0.0005") - funding
    lp = (wallet - size * entry) / (size * Decimal("0.005") - size)
    assert Decimal(liquidated["price"]) == lp.quantize(Decimal("1e-8"), rounding=ROUND_DOWN)
    assert backtest.result.final_equity < Decimal(1)  # type: ignore[attr-defined]


def test_a_loan_request_at_21_25_after_the_21_15_halt_never_reaches_the_venue():
    # a second strategy on the account asks for a loan at 20:00 (it goes out; USDⓈ-M does
    # not lend, so the venue refuses it) and, after the halt, asks again at 21:25 with a
    # leverage change, a transfer and a repayment
    later = AtMs(LOAN_MS)
    steps = [
        (AtMs(BEFORE_MS), Borrow("USDT", "100")),
        (later, Borrow("USDT", "100")),
        (later, SetLeverage(XRP, "3")),
        (later, Transfer("USDT", "100", "binance.main")),
        (later, Repay("USDT", "1")),
    ]
    backtest = run_example(breakers=True, treasury=ScriptedStrategy("treasury", steps, XRP))
    events = backtest.recorder.events

    assert [(e["ts_ms"], e["amount"]) for e in events if e["type"] == "LoanRequested"] == [
        (BEFORE_MS, "100")
    ]
    assert [e["ts_ms"] for e in events if e["type"] == "LoanFailed"] == [BEFORE_MS]
    denied = [e for e in events if e["type"] == "CommandDenied"]
    assert [(e["ts_ms"], e["command"], e["rule"], e["strategy"]) for e in denied] == [
        (LOAN_MS, "borrow", "halted", "treasury"),
        (LOAN_MS, "set_leverage", "halted", "treasury"),
        (LOAN_MS, "transfer", "halted", "treasury"),
    ]
    assert backtest.venues["binance"].accounts["binance.main"].leverage[XRP] == 5
    assert not [e for e in events if e["type"] in ("TransferCompleted", "TransferRejected")]
    assert backtest.result.summary()["risk"]["commands_denied"] == 3  # type: ignore[attr-defined]
