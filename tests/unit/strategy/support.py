"""Run real strategies on hand-made series and read back the exact orders they sent."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from xmargin.backtest.feed import FeedSource
from xmargin.backtest.results import BacktestResult
from xmargin.backtest.runner import Backtest
from xmargin.data.series import FundingSeries, OhlcvSeries
from xmargin.engine.config import parse_run_config
from xmargin.strategy.base import Strategy

T0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC
MINUTE = 60_000
HOUR = 60 * MINUTE
D = Decimal


def data_tables(sources: Sequence[FeedSource]) -> list[dict[str, Any]]:
    """The ``[[data]]`` tables declaring in-memory ``sources``."""
    tables = []
    for source in sources:
        table = {"venue": source.venue, "symbol": source.instrument, "kind": source.kind}
        if source.timeframe is not None:
            table["timeframe"] = source.timeframe
        tables.append(table)
    return tables


# The Binance Cross Margin model's packaged hourly rate (0.02 %/day / 24): a lending venue needs
# a rate for every asset it can lend, so the tests' margin venues give it as their default.
BINANCE_MARGIN_HOURLY = "0.000008333333333333333333333333333"


def venue(
    venue_id: str,
    model: str,
    accounts: dict[str, dict[str, str]],
    *,
    taker: str = "0.0005",
    maker: str = "0.0002",
    leverage: dict[str, int] | None = None,
    **settings: Any,
) -> dict[str, Any]:
    """One ``[[venues]]`` table with ``accounts`` = {account id: balances}."""
    tables = []
    for account_id, balances in accounts.items():
        table: dict[str, Any] = {"id": account_id, "balances": balances}
        if leverage:
            table["leverage"] = leverage
        tables.append(table)
    return {
        "id": venue_id,
        "model": model,
        "fees": {"maker": maker, "taker": taker},
        **settings,
        "accounts": tables,
    }


def bars(venue_id: str, symbol: str, series: OhlcvSeries) -> FeedSource:
    return FeedSource("ohlcv", venue_id, symbol, series, series.timeframe)


def marks(venue_id: str, symbol: str, series: OhlcvSeries) -> FeedSource:
    return FeedSource("mark", venue_id, symbol, series, series.timeframe)


def funding(venue_id: str, symbol: str, series: FundingSeries) -> FeedSource:
    return FeedSource("funding", venue_id, symbol, series)


def build(
    venues: Sequence[dict[str, Any]],
    sources: Sequence[FeedSource],
    strategies: Sequence[dict[str, Any]],
    *,
    risk: dict[str, Any] | None = None,
    run: dict[str, Any] | None = None,
) -> Backtest:
    """Build (not run) the backtest from config tables (``strategies`` as in the TOML)."""
    document: dict[str, Any] = {
        "seed": 1,
        "run": run or {},
        "venues": list(venues),
        "data": data_tables(sources),
        "strategies": list(strategies),
    }
    if risk is not None:
        document["risk"] = risk
    config = parse_run_config(document, Path("test.toml"))
    return Backtest(config, list(sources))


def run_strategies(
    venues: Sequence[dict[str, Any]],
    sources: Sequence[FeedSource],
    strategies: Sequence[dict[str, Any]],
    *,
    risk: dict[str, Any] | None = None,
    run: dict[str, Any] | None = None,
) -> tuple[Backtest, BacktestResult]:
    """Build the run from config tables and run it."""
    backtest = build(venues, sources, strategies, risk=risk, run=run)
    return backtest, backtest.run()


def strategy_of(backtest: Backtest, strategy_id: str) -> Any:
    strategy: Strategy = backtest.kernel.strategies[strategy_id]
    return strategy


def orders(result: BacktestResult, since: int = T0) -> list[tuple[Any, ...]]:
    """Submitted orders as (minutes since ``since``, account, instrument, side, quantity)."""
    return [
        (
            (e["ts_ms"] - since) // MINUTE,
            e["account"],
            e["instrument"],
            e["side"],
            D(e["quantity"]),
        )
        for e in result.recorder.events
        if e["type"] == "OrderSubmitted"
    ]


def events(result: BacktestResult, *types: str) -> list[dict[str, Any]]:
    return [e for e in result.recorder.events if e["type"] in types]
