"""Capabilities are declared per venue; an unsupported need fails at start-up, named."""

from __future__ import annotations

from decimal import Decimal

import pytest

from xmargin.core.errors import ConfigError
from xmargin.model.orders import Order, OrderSide, OrderType, TimeInForce, TriggerSource
from xmargin.venues.ccxt.capabilities import capabilities_for, require


def test_binance_usdm_supports_every_order_kind() -> None:
    caps = require(
        "binanceusdm",
        order_types=list(OrderType),
        time_in_force=list(TimeInForce),
        trigger_sources=list(TriggerSource),
        features=["user_streams", "leverage_tiers", "cancel_all", "modify"],
    )
    assert caps.venue.borrow is False
    stop = Order(
        "s",
        "BTC/USDT:USDT",
        OrderSide.SELL,
        Decimal(1),
        OrderType.STOP_MARKET,
        trigger_price=Decimal(1),
        trigger_source=TriggerSource.MARK,
    )
    assert caps.venue.unsupported(stop) is None


def test_unsupported_needs_are_named_at_start_up() -> None:
    with pytest.raises(
        ConfigError, match="hyperliquid does not support time in force fok, triggers on last price"
    ):
        require(
            "hyperliquid", time_in_force=[TimeInForce.FOK], trigger_sources=[TriggerSource.LAST]
        )
    with pytest.raises(ConfigError, match="okx does not support feature cancel_all"):
        require("okx", features=["cancel_all"])
    with pytest.raises(ConfigError, match=r"unknown adapter feature\(s\) teleport"):
        require("bybit", features=["teleport"])
    with pytest.raises(ConfigError, match="does not support exchange 'kraken'"):
        capabilities_for("kraken")


def test_an_order_the_venue_cannot_take_is_refused_before_sending() -> None:
    caps = capabilities_for("hyperliquid").venue
    fok = Order(
        "f",
        "BTC/USDC:USDC",
        OrderSide.BUY,
        Decimal(1),
        OrderType.LIMIT,
        price=Decimal(1),
        time_in_force=TimeInForce.FOK,
    )
    assert caps.unsupported(fok) == "time in force fok is not supported"
