"""Build and run a scripted backtest: a config dict, hand-made series, a scripted strategy."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from xmargin.backtest.feed import FeedSource
from xmargin.backtest.results import BacktestResult
from xmargin.backtest.runner import Backtest
from xmargin.engine.config import parse_run_config
from xmargin.engine.risk_hook import NoPreTradeChecks, RiskHook
from xmargin.model.numbers import ZERO
from xmargin.portfolio.ledger import Posting
from xmargin.testing.scripted import ScriptedStrategy, Step

SCENARIO_PATH = Path("scenario.toml")


@dataclass
class ScenarioRun:
    """What a scripted run left behind: the event records, the ledger and the strategy."""

    backtest: Backtest
    result: BacktestResult
    strategy: ScriptedStrategy

    @property
    def events(self) -> list[dict[str, Any]]:
        return self.result.recorder.events

    def of(self, *types: str) -> list[dict[str, Any]]:
        """The event records of the given types, in order."""
        return [e for e in self.events if e["type"] in types]

    def types(self, *, skip: Sequence[str] = ()) -> list[str]:
        return [e["type"] for e in self.events if e["type"] not in skip]

    def balance(self, account: str, asset: str) -> Decimal:
        return self.backtest.ledger.book(account).balance(asset)

    def position(self, account: str, symbol: str) -> Decimal:
        held = self.backtest.ledger.book(account).positions.get(symbol)
        return held.size if held is not None else ZERO

    def liability(self, account: str, asset: str) -> Decimal:
        return self.backtest.ledger.book(account).liability(asset)

    @property
    def postings(self) -> list[Posting]:
        return self.backtest.ledger.postings


def data_tables(sources: Iterable[FeedSource]) -> list[dict[str, Any]]:
    """The ``[[data]]`` tables declaring ``sources`` (no paths: the series are in memory)."""
    tables = []
    for source in sources:
        table: dict[str, Any] = {
            "venue": source.venue,
            "symbol": source.instrument,
            "kind": source.kind,
        }
        if source.timeframe is not None:
            table["timeframe"] = source.timeframe
        tables.append(table)
    return tables


def small_order_instruments(sources: Iterable[FeedSource]) -> list[dict[str, Any]]:
    """``[[instruments]]`` without a minimum notional: hand-made scenarios trade small sizes
    at round prices, which the real venues' minimums (100 USDT for BTC) would refuse."""
    pairs = sorted({(s.venue, s.instrument) for s in sources})
    return [{"venue": v, "symbol": symbol, "min_notional": "0"} for v, symbol in pairs]


def build_scenario(
    document: dict[str, Any],
    sources: Sequence[FeedSource],
    steps: Iterable[Step],
    *,
    account: str | None = None,
    symbol: str | None = None,
    keep_postings: bool = False,
    risk: RiskHook | None = None,
) -> tuple[Backtest, ScriptedStrategy]:
    """Build the run: the config (``data`` derived from ``sources`` when absent) and the script.

    Orders pass no pre-trade risk checks unless ``risk`` is given: scenarios exercise the
    venue, whose own margin rules always apply.
    """
    document = dict(document)
    document.setdefault("data", data_tables(sources))
    document.setdefault("instruments", small_order_instruments(sources))
    config = parse_run_config(document, SCENARIO_PATH)
    backtest = Backtest(config, list(sources), risk or NoPreTradeChecks())
    backtest.ledger.keep_postings = keep_postings
    account = account or next(iter(config.accounts))
    strategy = ScriptedStrategy("script", steps, symbol)
    backtest.attach(strategy, account)
    return backtest, strategy


def run_scenario(
    document: dict[str, Any],
    sources: Sequence[FeedSource],
    steps: Iterable[Step] = (),
    *,
    account: str | None = None,
    symbol: str | None = None,
    keep_postings: bool = False,
    risk: RiskHook | None = None,
) -> ScenarioRun:
    """Build and run a scripted scenario; see :func:`build_scenario`."""
    backtest, strategy = build_scenario(
        document,
        sources,
        steps,
        account=account,
        symbol=symbol,
        keep_postings=keep_postings,
        risk=risk,
    )
    result = backtest.run()
    return ScenarioRun(backtest, result, strategy)
