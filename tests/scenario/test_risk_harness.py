"""Risk scenarios: a real kernel with the risk engine, hand-made bars and strategies that act.

``risk_run`` builds a run from a config document (its ``risk`` table configures the engine),
in-memory series and ``Actor`` strategies: an actor runs, at bar ``i`` of its instrument,
the functions scheduled for ``i`` with its context (``ctx.order``, ``ctx.protect`` …).
The tests of this module check the harness itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.scenario.harness import BTC, T0, bars_of, config, ohlcv, venue

from xmargin.backtest.feed import FeedSource
from xmargin.backtest.results import BacktestResult
from xmargin.backtest.runner import Backtest
from xmargin.engine.config import parse_run_config
from xmargin.model.market_data import Bar
from xmargin.risk.engine import RiskEngine
from xmargin.strategy.base import NoParams, Strategy
from xmargin.strategy.context import StrategyContext
from xmargin.testing.scenario import data_tables, small_order_instruments

D = Decimal
Action = Callable[[StrategyContext, "Actor"], Any]


class Actor(Strategy):
    """Run ``script[i]`` (functions of the context) at bar ``i`` of ``symbol``."""

    name = "actor"

    def __init__(
        self,
        strategy_id: str,
        script: dict[int, Action | list[Action]] | None = None,
        symbol: str = BTC,
    ) -> None:
        super().__init__(strategy_id, NoParams())
        self.script = {i: (a if isinstance(a, list) else [a]) for i, a in (script or {}).items()}
        self.symbol = symbol
        self.bars = 0
        self.events: list[object] = []
        self.outcomes: dict[int, list[Any]] = {}

    def subscriptions(self) -> tuple[tuple[str, str], ...]:
        return (("bar", self.symbol),)

    def on_bar(self, bar: Bar) -> None:
        index = self.bars
        self.bars += 1
        for action in self.script.get(index, ()):
            self.outcomes.setdefault(index, []).append(action(self.ctx, self))

    def on_order_event(self, event: object) -> None:
        self.events.append(event)


@dataclass
class RiskRun:
    backtest: Backtest
    engine: RiskEngine
    result: BacktestResult

    @property
    def events(self) -> list[dict[str, Any]]:
        return self.result.recorder.events

    def of(self, *types: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] in types]

    def position(self, account: str = "binance.main", symbol: str = BTC) -> Decimal:
        held = self.backtest.ledger.book(account).positions.get(symbol)
        return held.size if held is not None else D(0)


def build_risk_run(
    document: dict[str, Any],
    sources: Sequence[FeedSource],
    actors: Sequence[tuple[Strategy, str]],
) -> tuple[Backtest, RiskEngine]:
    document = dict(document)
    document.setdefault("data", data_tables(sources))
    document.setdefault("instruments", small_order_instruments(sources))
    run_config = parse_run_config(document, Path("risk.toml"))
    engine = RiskEngine(run_config.risk)
    backtest = Backtest(run_config, list(sources), engine)
    for strategy, account in actors:
        backtest.attach(strategy, account)
    return backtest, engine


def risk_run(
    document: dict[str, Any],
    sources: Sequence[FeedSource],
    *actors: Strategy | tuple[Strategy, str],
) -> RiskRun:
    """Run ``actors`` (on ``binance.main`` unless paired with an account) under the risk engine."""
    pairs = [a if isinstance(a, tuple) else (a, "binance.main") for a in actors]
    backtest, engine = build_risk_run(document, sources, pairs)
    return RiskRun(backtest, engine, backtest.run())


def risk_config(risk: dict[str, Any] | None = None, **venue_settings: Any) -> dict[str, Any]:
    """A one-venue Binance USDⓈ-M config with this ``[risk]`` table."""
    document = config(venue(**venue_settings))
    document["risk"] = risk or {}
    return document


def flat_bars(*closes: float, timeframe: str = "1h", symbol: str = BTC) -> FeedSource:
    """Bars each at one price (open = high = low = close)."""
    return bars_of(ohlcv(T0, timeframe, [(c, c, c, c) for c in closes]), symbol)


def buy(quantity: str, symbol: str = BTC, **kwargs: Any) -> Action:
    return lambda ctx, _: ctx.buy(symbol, D(quantity), **kwargs)


def sell(quantity: str, symbol: str = BTC, **kwargs: Any) -> Action:
    return lambda ctx, _: ctx.sell(symbol, D(quantity), **kwargs)


def denials(run: RiskRun) -> list[tuple[str, str]]:
    return [(e["rule"], e["reason"]) for e in run.of("OrderDenied")]


# -- the harness itself ---------------------------------------------------------------------


def test_an_actor_acts_at_its_bars_and_hears_its_order_events():
    actor = Actor("a", {0: buy("1"), 2: sell("1")})
    run = risk_run(risk_config({"margin_buffer": 0}), [flat_bars(100, 100, 100, 100)], actor)
    fills = run.of("OrderFilled")
    assert [(f["side"], D(f["quantity"]), D(f["price"]), f["strategy"]) for f in fills] == [
        ("buy", 1, 100, "a"),
        ("sell", 1, 100, "a"),
    ]
    assert run.position() == 0
    assert sum(type(e).__name__ == "OrderFilled" for e in actor.events) == 2


def test_the_summary_names_the_risk_state_and_counts_denials():
    actor = Actor("a", {0: buy("1000")})
    run = risk_run(risk_config(), [flat_bars(100, 100)], actor)
    risk = run.result.summary()["risk"]
    assert risk["state"] == "active"
    assert risk["orders_denied"] == 1
    assert risk["breakers_tripped"] == []
