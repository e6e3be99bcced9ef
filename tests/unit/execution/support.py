"""A parent strategy that starts an execution algorithm at a given bar, on hand-made bars."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from tests.unit.strategy.support import T0, bars, build, venue

from xmargin.backtest.results import BacktestResult
from xmargin.execution.algos.base import AlgoReport, ExecAlgorithm, Listener
from xmargin.model.market_data import Bar
from xmargin.strategy.base import NoParams, Strategy
from xmargin.testing.series import ohlcv

BTC = "BTC/USDT:USDT"
ACCOUNT = "binance.main"


class Parent(Strategy):
    """Optionally buys ``buy_first`` at bar 0, then spawns the algorithm at bar ``at_bar``."""

    name = "parent"

    def __init__(
        self,
        make: Callable[[Listener], ExecAlgorithm],
        at_bar: int = 0,
        buy_first: Decimal | None = None,
    ) -> None:
        super().__init__("parent", NoParams())
        self.make = make
        self.at_bar = at_bar
        self.buy_first = buy_first
        self.bars = 0
        self.reports: list[AlgoReport] = []
        self.algo: ExecAlgorithm | None = None

    def on_bar(self, bar: Bar) -> None:
        if self.bars == 0 and self.buy_first:
            self.ctx.buy(BTC, self.buy_first)
        if self.bars == self.at_bar:
            self.algo = self.make(self.reports.append)
            self.ctx.spawn(self.algo)
        self.bars += 1


def run_algo(
    make: Callable[[Listener], ExecAlgorithm],
    rows: Sequence[tuple[float, ...]],
    *,
    timeframe: str = "5m",
    at_bar: int = 0,
    buy_first: Decimal | None = None,
    risk: dict[str, Any] | None = None,
    **venue_settings: Any,
) -> tuple[Parent, BacktestResult]:
    venues = [
        venue(
            "binance",
            "binance_usdm_cross",
            {"main": {"USDT": "1000000"}},
            leverage={BTC: 10},
            **venue_settings,
        )
    ]
    source = bars("binance", BTC, ohlcv(T0, timeframe, rows))
    backtest = build(venues, [source], [], risk=risk or {})
    parent = Parent(make, at_bar, buy_first)
    backtest.kernel.add_strategy(parent, ACCOUNT, [("bar", "binance", BTC)])
    return parent, backtest.run()
