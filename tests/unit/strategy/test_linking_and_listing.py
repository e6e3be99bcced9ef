"""A strategy hears a linked account's venue; every built-in strategy is listed."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner
from tests.unit.strategy.support import HOUR, T0, bars, build, funding, venue

from xmargin.app.cli_strategies import catalogue, strategies
from xmargin.core.errors import ConfigError
from xmargin.model.events import FundingSettled
from xmargin.model.market_data import Bar, FundingRate
from xmargin.strategy.base import NoParams, Strategy, params_table
from xmargin.strategy.registry import BUILT_IN
from xmargin.testing.series import funding as funding_series
from xmargin.testing.series import ohlcv


class Listener(Strategy):
    """Trades 0.1 on the other venue at the first bar and records what it hears."""

    name = "listener"

    def __init__(self, strategy_id: str, other: str) -> None:
        super().__init__(strategy_id, NoParams())
        self.other = other
        self.heard: list[tuple[str, str, str]] = []

    def linked_accounts(self) -> tuple[str, ...]:
        return (self.other,)

    def on_bar(self, bar: Bar) -> None:
        self.heard.append(("bar", bar.venue, bar.instrument))
        if bar.venue == "b" and len(self.heard) <= 2:
            self.ctx.sell("BTC/USDT:USDT", Decimal("0.1"), account=self.other)

    def on_funding(self, funding: FundingRate) -> None:
        self.heard.append(("funding", funding.venue, funding.instrument))

    def on_order_event(self, event: object) -> None:
        if isinstance(event, FundingSettled):
            self.heard.append(("settled", event.account, str(event.amount)))


def test_a_linked_account_brings_its_venues_data_and_account_events():
    btc = "BTC/USDT:USDT"
    series = ohlcv(T0, "1h", [(50000.0,) * 4] * 10)
    venues = [
        venue("a", "binance_usdm_cross", {"main": {"USDT": "10000"}}),
        venue("b", "binance_usdm_cross", {"main": {"USDT": "10000"}}),
    ]
    sources = [
        bars("a", btc, series),
        bars("b", btc, series),
        funding("b", btc, funding_series([(T0 + 8 * HOUR, 0.0001)])),
    ]
    backtest = build(venues, sources, [])
    listener = Listener("listener", "b.main")
    backtest.kernel.add_strategy(listener, "a.main", [("bar", "a", btc)])
    backtest.run()

    assert ("bar", "b", btc) in listener.heard and ("bar", "a", btc) in listener.heard
    assert ("funding", "b", btc) in listener.heard
    # the short 0.1 on b received 0.1 × 50,000 × 0.0001 = 0.5 at 8 h
    assert ("settled", "b.main", "-0.5") in listener.heard


def test_a_linked_venue_is_heard_directly_once_per_bar_with_no_helper_strategy():
    btc = "BTC/USDT:USDT"
    venues = [
        venue("a", "binance_usdm_cross", {"main": {"USDT": "10000"}}),
        venue("b", "binance_usdm_cross", {"main": {"USDT": "10000"}}),
    ]
    # three bars on a, two on b (b's series ends an hour earlier)
    sources = [
        bars("a", btc, ohlcv(T0, "1h", [(50000.0,) * 4] * 3)),
        bars("b", btc, ohlcv(T0, "1h", [(50000.0,) * 4] * 2)),
    ]
    backtest = build(venues, sources, [])
    listener = Listener("listener", "b.main")
    backtest.kernel.add_strategy(listener, "a.main", [("bar", "a", btc)])
    backtest.run()

    assert set(backtest.kernel.strategies) == {"listener"}
    assert [h for h in listener.heard if h[0] == "bar"] == [
        ("bar", "a", btc),
        ("bar", "b", btc),
        ("bar", "a", btc),
        ("bar", "b", btc),
        ("bar", "a", btc),
    ]


def test_an_account_on_the_same_venue_adds_its_events_but_no_second_copy_of_the_data():
    btc = "BTC/USDT:USDT"
    venues = [venue("a", "binance_usdm_cross", {"main": {"USDT": "1"}, "hedge": {"USDT": "1"}})]
    backtest = build(venues, [bars("a", btc, ohlcv(T0, "1h", [(50000.0,) * 4] * 2))], [])
    listener = Listener("listener", "a.hedge")
    backtest.kernel.add_strategy(listener, "a.main", [("bar", "a", btc)])
    backtest.run()

    assert listener.heard == [("bar", "a", btc), ("bar", "a", btc)]


def test_linking_an_unknown_or_repeated_account_is_refused():
    venues = [venue("a", "binance_usdm_cross", {"main": {"USDT": "1"}, "hedge": {"USDT": "1"}})]
    btc = "BTC/USDT:USDT"
    kernel = build(venues, [bars("a", btc, ohlcv(T0, "1h", [(50000.0,) * 4]))], []).kernel
    with pytest.raises(ConfigError, match=r"strategy nowhere: unknown linked account 'a\.gone'"):
        kernel.add_strategy(Listener("nowhere", "a.gone"), "a.main", [])

    class Twice(Listener):
        def linked_accounts(self) -> tuple[str, ...]:
            return ("a.hedge", "a.hedge")

    with pytest.raises(ConfigError, match=r"strategy twice: account 'a\.hedge' is linked twice"):
        kernel.add_strategy(Twice("twice", "a.hedge"), "a.main", [])


def test_every_built_in_strategy_has_a_description_and_typed_parameters():
    assert {
        "funding_carry",
        "funding_perp_perp",
        "spread_arb",
        "peg_reversion",
        "qqe",
        "sma_momentum",
        "multi_timeframe",
        "ml_forest",
    } <= set(BUILT_IN)
    for name, cls in BUILT_IN.items():
        assert cls.name == name and cls.description
        assert all(kind and default for _, kind, default in params_table(cls))


def test_strategies_list_prints_each_strategy_and_algorithm():
    result = CliRunner().invoke(strategies, ["list"])
    assert result.exit_code == 0
    for name in (*BUILT_IN, "xmargin.execution.algos.twap:Twap"):
        assert name in result.output
    assert "horizon_hours" in result.output


def test_strategies_list_json_has_names_descriptions_and_parameters():
    result = CliRunner().invoke(strategies, ["list", "--json"])
    listing = json.loads(result.output)
    assert listing == catalogue()
    carry = next(s for s in listing["strategies"] if s["name"] == "funding_carry")
    assert {"name": "spot_account", "type": "str", "default": "''"} in carry["parameters"]
    assert [a["name"] for a in listing["algorithms"]] == [
        "twap",
        "vwap",
        "iceberg",
        "oco",
        "bracket",
    ]
