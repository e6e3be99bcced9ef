"""Position sizing: fractional Kelly from the strategy's own trades, or volatility targeting.

Kelly: with win rate ``p`` and payoff ratio ``b`` (average win over average loss) of the
strategy's closed trades, the full-Kelly fraction of equity to risk is ``p − (1 − p) / b``;
a configured fraction of it (a quarter by default) is risked, the loss at the stop being that
fraction of equity. Until the strategy has ``min_trades`` closed trades a small fixed
``fallback_risk`` is used instead; with no edge (Kelly ≤ 0) the size is zero.

Volatility targeting: the position whose annualised volatility is ``target_volatility`` of
equity, i.e. notional = equity × target / the instrument's volatility.

Either way the size is then capped: the loss at the stop at most ``max_risk_per_trade`` of
equity, the notional at most ``max_equity_fraction`` × equity, and the quantity at most what
the venue's margin model still accepts (``max_additional_size``, fees included); it is
rounded down to the lot, and below the minimum size it is zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from xmargin.model.numbers import ZERO, round_to_increment
from xmargin.risk.books import TradeStats
from xmargin.risk.settings import SizingSettings

KELLY, FALLBACK, VOLATILITY = "kelly", "fallback", "volatility"


@dataclass(frozen=True)
class SizeRequest:
    """What a size depends on besides the strategy's trades."""

    equity: Decimal
    price: Decimal
    venue_cap: Decimal
    lot: Decimal
    min_size: Decimal = ZERO
    contract_size: Decimal = Decimal(1)
    stop: Decimal | None = None
    volatility: Decimal | None = None


@dataclass(frozen=True)
class Sizing:
    """A size and how it was found: the quantity each consideration allows, and which bound."""

    quantity: Decimal
    method: str
    binding: str
    risk_fraction: Decimal | None = None
    kelly: Decimal | None = None
    limits: dict[str, Decimal] = field(default_factory=dict)


def _exact(value: float) -> Decimal:
    return Decimal(repr(round(value, 12)))


def kelly_fraction(stats: TradeStats) -> Decimal | None:
    """Full Kelly ``p − (1 − p) / b``; None until there are both wins and losses."""
    payoff = stats.payoff_ratio
    if payoff is None or stats.trades == 0:
        return None
    p = Decimal(stats.wins) / Decimal(stats.trades)
    return p - (1 - p) / _exact(payoff)


def position_size(
    settings: SizingSettings, request: SizeRequest, stats: TradeStats, method: str = KELLY
) -> Sizing:
    """Size a new position; see the module docstring for the rules."""
    if request.equity <= 0 or request.price <= 0:
        return Sizing(ZERO, method, "no_equity")
    unit_value = request.price * request.contract_size
    per_unit_risk = None
    if request.stop is not None:
        per_unit_risk = abs(request.price - request.stop) * request.contract_size
        if per_unit_risk == 0:
            raise ValueError(f"the stop {request.stop} is at the price {request.price}")
    limits: dict[str, Decimal] = {}
    risk_fraction = kelly = None
    if method == KELLY:
        if per_unit_risk is None:
            raise ValueError("Kelly sizing needs a stop: the loss per unit defines the risk")
        if stats.trades < settings.min_trades:
            method, risk_fraction = FALLBACK, settings.fallback_risk
        else:
            kelly = kelly_fraction(stats)
            if kelly is None or kelly <= 0:
                return Sizing(ZERO, KELLY, "no_edge", ZERO, kelly)
            risk_fraction = settings.kelly_fraction * kelly
        limits[method] = risk_fraction * request.equity / per_unit_risk
    elif method == VOLATILITY:
        if request.volatility is None or request.volatility <= 0:
            raise ValueError("volatility targeting needs the instrument's volatility (> 0)")
        notional = request.equity * settings.target_volatility / request.volatility
        limits[VOLATILITY] = notional / unit_value
    else:
        raise ValueError(f"unknown sizing method {method!r} (kelly or volatility)")
    if per_unit_risk is not None:
        limits["max_risk_per_trade"] = settings.max_risk_per_trade * request.equity / per_unit_risk
    limits["max_equity_fraction"] = settings.max_equity_fraction * request.equity / unit_value
    limits["free_margin"] = max(request.venue_cap, ZERO)
    binding = min(limits, key=lambda name: limits[name])
    quantity = round_to_increment(limits[binding], request.lot, mode="down")
    if quantity < request.min_size or quantity <= 0:
        quantity = ZERO
    return Sizing(quantity, method, binding, risk_fraction, kelly, limits)
