"""Scenario harness: run configs as dicts, hand-made feeds, and event-record helpers.

A scenario is a run config (the TOML tables as a dict), a few in-memory series with exact
values, and a script of strategy actions (``xmargin.testing.scripted``); tests then assert
on the event records (``run.of("OrderFilled")``) with exact numbers.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from xmargin.backtest.feed import FeedSource
from xmargin.data.series import FundingSeries, OhlcvSeries, QuoteSeries, TradeSeries
from xmargin.testing.scenario import ScenarioRun, run_scenario
from xmargin.testing.scripted import (
    AfterFill,
    AtMs,
    Borrow,
    Cancel,
    Modify,
    Repay,
    SetLeverage,
    Submit,
    Transfer,
)
from xmargin.testing.series import flat_marks, funding, marks, ohlcv, quotes, trades

__all__ = [
    "BTC",
    "HOUR",
    "MINUTE",
    "T0",
    "AfterFill",
    "AtMs",
    "Borrow",
    "Cancel",
    "D",
    "Modify",
    "Repay",
    "ScenarioRun",
    "SetLeverage",
    "Submit",
    "Transfer",
    "bars_of",
    "config",
    "flat_marks",
    "funding",
    "funding_of",
    "hour",
    "marks",
    "marks_of",
    "ohlcv",
    "quotes",
    "quotes_of",
    "run",
    "trades",
    "trades_of",
    "venue",
    "view",
]

T0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC, a funding and interest boundary
MINUTE = 60_000
HOUR = 60 * MINUTE
BTC = "BTC/USDT:USDT"
D = Decimal


def venue(
    model: str = "binance_usdm_cross",
    *,
    venue_id: str = "binance",
    accounts: list[dict[str, Any]] | None = None,
    balances: dict[str, str] | None = None,
    leverage: dict[str, int | str] | None = None,
    maker: str = "0.0002",
    taker: str = "0.0005",
    **settings: Any,
) -> dict[str, Any]:
    """One ``[[venues]]`` table; one account ``main`` unless ``accounts`` are given."""
    if accounts is None:
        account: dict[str, Any] = {"id": "main", "balances": balances or {"USDT": "10000"}}
        if leverage:
            account["leverage"] = leverage
        accounts = [account]
    return {
        "id": venue_id,
        "model": model,
        "fees": {"maker": maker, "taker": taker},
        **settings,
        "accounts": accounts,
    }


def config(*venues: dict[str, Any], seed: int = 1) -> dict[str, Any]:
    """A run config document with these venues (data tables come from the sources)."""
    return {"seed": seed, "run": {}, "venues": list(venues)}


def bars_of(series: OhlcvSeries, symbol: str = BTC, venue_id: str = "binance") -> FeedSource:
    return FeedSource("ohlcv", venue_id, symbol, series, series.timeframe)


def marks_of(series: OhlcvSeries, symbol: str = BTC, venue_id: str = "binance") -> FeedSource:
    return FeedSource("mark", venue_id, symbol, series, series.timeframe)


def funding_of(series: FundingSeries, symbol: str = BTC, venue_id: str = "binance") -> FeedSource:
    return FeedSource("funding", venue_id, symbol, series)


def trades_of(series: TradeSeries, symbol: str = BTC, venue_id: str = "binance") -> FeedSource:
    return FeedSource("trades", venue_id, symbol, series)


def quotes_of(series: QuoteSeries, symbol: str = BTC, venue_id: str = "binance") -> FeedSource:
    return FeedSource("quotes", venue_id, symbol, series)


def run(
    document: dict[str, Any],
    sources: list[FeedSource],
    steps: list[Any] | tuple[Any, ...] = (),
    **kwargs: Any,
) -> ScenarioRun:
    return run_scenario(document, sources, steps, **kwargs)


def hour(ts_ms: int) -> float:
    """Hours since ``T0`` (whole hours come back as ints, for readable expectations)."""
    hours = (ts_ms - T0) / HOUR
    return int(hours) if hours == int(hours) else hours


def _value(record: dict[str, Any], key: str) -> Any:
    if key == "hour":
        return hour(record["ts_ms"])
    value = record[key]
    if isinstance(value, str) and value and (value[0].isdigit() or value[0] == "-"):
        return Decimal(value)
    return value


def view(records: list[dict[str, Any]], *keys: str) -> list[tuple[Any, ...]]:
    """The records as tuples of ``keys``; numbers as Decimals, ``hour`` = hours since T0."""
    return [tuple(_value(r, k) for k in keys) for r in records]
