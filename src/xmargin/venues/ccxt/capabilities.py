"""What the ccxt adapter supports on each venue, declared up front and checked at start-up.

Binance USDⓈ-M (``binanceusdm``) is complete and tested against the gateway. Bybit, OKX and
Hyperliquid are declared from what ccxt 4.5.90's unified API carries for them (its ``has``
flags and the params it maps); they are not exercised against a live venue here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from xmargin.core.errors import ConfigError
from xmargin.execution.ports import VenueCapabilities
from xmargin.model.orders import OrderType, TimeInForce, TriggerSource

ALL_TYPES = frozenset(OrderType)
ALL_TIF = frozenset(TimeInForce)
BOTH_TRIGGERS = frozenset(TriggerSource)


@dataclass(frozen=True, slots=True)
class CcxtCapabilities:
    """The port's capabilities plus the adapter-level features a run may depend on."""

    venue: VenueCapabilities
    features: frozenset[str]

    def missing(
        self,
        *,
        order_types: Iterable[OrderType] = (),
        time_in_force: Iterable[TimeInForce] = (),
        trigger_sources: Iterable[TriggerSource] = (),
        features: Iterable[str] = (),
    ) -> list[str]:
        """Name every requirement this venue cannot meet (empty when all are met)."""
        caps = self.venue
        gaps = [f"order type {t.value}" for t in order_types if t not in caps.order_types]
        gaps += [f"time in force {t.value}" for t in time_in_force if t not in caps.time_in_force]
        gaps += [
            f"triggers on {s.value} price" for s in trigger_sources if s not in caps.trigger_sources
        ]
        gaps += [f"feature {name}" for name in features if name not in self.features]
        return gaps


FEATURES = frozenset(  # "borrow": cross-margin loans (Binance spot cross margin only)
    {
        "user_streams",
        "leverage_tiers",
        "set_leverage",
        "margin_mode",
        "cancel_all",
        "modify",
        "funding_history",
        "client_order_ids",
    }
)

CAPABILITIES: dict[str, CcxtCapabilities] = {
    "binanceusdm": CcxtCapabilities(
        VenueCapabilities(ALL_TYPES, ALL_TIF, BOTH_TRIGGERS, transfer=False, sub_accounts=False),
        FEATURES - {"borrow"},
    ),
    # Binance spot cross margin (ccxt's ``binance`` class, every call with marginMode cross):
    # stops are spot stop-limit orders on the last price; ccxt's edit_order has no margin path
    "binance": CcxtCapabilities(
        VenueCapabilities(
            frozenset(
                {
                    OrderType.MARKET,
                    OrderType.LIMIT,
                    OrderType.STOP_LIMIT,
                    OrderType.TAKE_PROFIT_LIMIT,
                }
            ),
            ALL_TIF,
            frozenset({TriggerSource.LAST}),
            modify=False,
            borrow=True,
            transfer=False,
            sub_accounts=False,
        ),
        frozenset({"cancel_all", "client_order_ids", "borrow"}),
    ),
    "bybit": CcxtCapabilities(
        VenueCapabilities(ALL_TYPES, ALL_TIF, BOTH_TRIGGERS, transfer=False, sub_accounts=False),
        FEATURES - {"borrow"},
    ),
    # ccxt 4.5.90: okx has no unified cancelAllOrders and no fetchLeverageTiers
    "okx": CcxtCapabilities(
        VenueCapabilities(ALL_TYPES, ALL_TIF, BOTH_TRIGGERS, transfer=False, sub_accounts=False),
        FEATURES - {"cancel_all", "leverage_tiers", "borrow"},
    ),
    # Hyperliquid: no FOK, triggers fire on the mark only; ccxt has no cancelAllOrders or tiers
    "hyperliquid": CcxtCapabilities(
        VenueCapabilities(
            ALL_TYPES,
            frozenset({TimeInForce.GTC, TimeInForce.IOC}),
            frozenset({TriggerSource.MARK}),
            transfer=False,
            sub_accounts=False,
        ),
        FEATURES - {"cancel_all", "leverage_tiers", "borrow"},
    ),
}


def capabilities_for(exchange_id: str) -> CcxtCapabilities:
    try:
        return CAPABILITIES[exchange_id]
    except KeyError:
        known = ", ".join(sorted(CAPABILITIES))
        raise ConfigError(
            f"the ccxt adapter does not support exchange {exchange_id!r} (supported: {known})"
        ) from None


def require(
    exchange_id: str,
    *,
    order_types: Iterable[OrderType] = (),
    time_in_force: Iterable[TimeInForce] = (),
    trigger_sources: Iterable[TriggerSource] = (),
    features: Iterable[str] = (),
) -> CcxtCapabilities:
    """Return the venue's capabilities, or raise ``ConfigError`` naming what it lacks."""
    caps = capabilities_for(exchange_id)
    unknown = sorted(set(features) - FEATURES)
    if unknown:
        raise ConfigError(
            f"unknown adapter feature(s) {', '.join(unknown)} "
            f"(known: {', '.join(sorted(FEATURES))})"
        )
    gaps = caps.missing(
        order_types=order_types,
        time_in_force=time_in_force,
        trigger_sources=trigger_sources,
        features=features,
    )
    if gaps:
        raise ConfigError(f"{exchange_id} does not support {', '.join(gaps)}")
    return caps
