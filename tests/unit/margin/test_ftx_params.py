"""Building ``ftx_cross`` from an account file's params, and its packaged defaults."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from xmargin.core.errors import ConfigError
from xmargin.margin.ftx import FtxCross, RuleSet
from xmargin.margin.ftx_markets import FtxCoin, FtxMarket, default_coins, default_markets
from xmargin.margin.ftx_params import ftx_cross_from_params
from xmargin.margin.params import ParamReader

D = Decimal


def build(params: dict[str, Any]) -> FtxCross:
    reader = ParamReader(params)
    model = ftx_cross_from_params(reader)
    reader.finish()
    return model


def test_packaged_defaults_hold_the_spec_a1_values() -> None:
    markets, coins = default_markets(), default_coins()
    assert markets["BTC/USD:USD"] == FtxMarket(D("0.002"))
    assert markets["ETH/USD:USD"].imf_factor == D("0.001")
    assert markets["SOL/USD:USD"].imf_factor == D("0.004")
    assert coins["USD"] == FtxCoin(D(1), D(1), D(0))
    assert coins["BTC"] == FtxCoin(D("0.975"), D("0.95"), D("0.002"))
    assert coins["ETH"] == FtxCoin(D("0.95"), D("0.9"), D("0.0004"))
    assert coins["FTT"] == FtxCoin(D("0.95"), D("0.95"), D("0.0005"))
    assert coins["BUSD"] == FtxCoin(D(1), D(1), D(0))
    assert coins["EUR"] == FtxCoin(D("0.99"), D("0.98"), D("0.00001"))


def test_defaults_when_params_are_empty() -> None:
    model = build({})
    assert model.venue == "ftx_cross"
    assert model.account_leverage == 20
    assert model.base_imf == D("0.05")
    assert model.rule_set is RuleSet.SPOT_MARGIN_ERA
    assert model.taker_fee_rate == D("0.0007")
    assert not model.spot_margin_enabled


def test_good_config_merges_markets_and_coins_over_the_defaults() -> None:
    model = build(
        {
            "account_leverage": 10,
            "spot_margin_enabled": True,
            "rule_set": "legacy_2020",
            "taker_fee_rate": "0.0002",
            "liq_min_notional": 500,
            "markets": {
                "BTC/USD:USD": {"imf_factor": "0.0025"},
                "AVAX/USD:USD": {"imf_factor": "0.005", "mmf_weight": "2"},
            },
            "coins": {
                "ETH": {"total_weight": "0.9"},
                "SOL": {"total_weight": "0.9", "initial_weight": "0.85", "imf_factor": "0.004"},
            },
        }
    )
    assert model.base_imf == D("0.1")
    assert model.spot_margin_enabled
    assert model.rule_set is RuleSet.LEGACY_2020
    assert model.taker_fee_rate == D("0.0002")
    assert model.liq_min_notional == D(500)
    assert model.markets["BTC/USD:USD"] == FtxMarket(D("0.0025"))
    assert model.markets["AVAX/USD:USD"] == FtxMarket(D("0.005"), D(1), D(2))
    assert model.markets["SOL/USD:USD"].imf_factor == D("0.004")
    assert model.coins["ETH"] == FtxCoin(D("0.9"), D("0.9"), D("0.0004"))
    assert model.coins["SOL"] == FtxCoin(D("0.9"), D("0.85"), D("0.004"))
    assert model.knows("AVAX/USD:USD")
    assert model.knows("SOL/USD")


def test_unknown_key_is_rejected() -> None:
    with pytest.raises(ConfigError, match="leverage"):
        build({"leverage": 10})


def test_unknown_key_inside_a_market_is_rejected() -> None:
    with pytest.raises(ConfigError, match=r"markets\.BTC/USD:USD.*mmr"):
        build({"markets": {"BTC/USD:USD": {"mmr": "0.01"}}})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"account_leverage": 102}, "account_leverage"),
        ({"account_leverage": 0}, "account_leverage"),
        ({"rule_set": "2019"}, "rule_set"),
        ({"spot_margin_enabled": "yes"}, "spot_margin_enabled"),
        ({"taker_fee_rate": -0.001}, "taker_fee_rate"),
        ({"markets": {"DOGE/USD:USD": {"imf_weight": "1"}}}, "imf_factor"),
        ({"markets": {"DOGE/USD": {"imf_factor": "0.01"}}}, "not a linear futures market"),
        ({"coins": {"SOL": {"total_weight": "0.9"}}}, "initial_weight"),
        ({"coins": {"BTC": {"initial_weight": "0.99"}}}, "initial_weight <= total_weight"),
        ({"coins": {"BTC": "0.9"}}, "table"),
    ],
)
def test_bad_values_are_rejected(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build(params)
