"""The ``[risk]`` section of a run config: every control, with safe defaults.

On unless switched off: a portfolio leverage cap (10×), a margin buffer (post-trade equity at
least 1.25 × the venue's initial requirement), a daily-loss breaker (10 % of the day's opening
equity) and a drawdown breaker (30 % from the equity peak), each halting trading. Everything
else is off until configured. Write ``0`` (or ``false``) to switch a default off.

Stops (``[risk.stops]``) and sizing (``[risk.sizing]``) act only when a strategy asks for them
(``ctx.protect``, ``ctx.bracket``, ``ctx.size``); their tables tune how. The liquidation
buffer (``[risk.liquidation_buffer]``) and fences (``[[risk.fences]]``) are off until configured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from xmargin.core.errors import ConfigError
from xmargin.margin.params import ParamReader
from xmargin.model.numbers import ZERO
from xmargin.risk.state import TradingState

ACTIONS = ("reducing", "halt")
BREAKERS = (
    "daily_loss",
    "max_drawdown",
    "consecutive_losses",
    "stale_data",
    "stablecoin_depeg",
    "funding_spike",
    "reject_rate",
)
FRACTION_LIMITS = frozenset({"daily_loss", "max_drawdown", "reject_rate", "stablecoin_depeg"})
"""Breakers whose limit is a share (or a stablecoin price): at most 1."""
DEFAULT_BREAKERS: dict[str, dict[str, Any]] = {
    "daily_loss": {"limit": "0.10", "action": "halt"},
    "max_drawdown": {"limit": "0.30", "action": "halt"},
}


@dataclass(frozen=True)
class PerInstrument:
    """A limit with a default for every instrument and overrides per instrument."""

    default: Decimal | None = None
    overrides: Mapping[str, Decimal] = field(default_factory=dict)

    def for_instrument(self, symbol: str) -> Decimal | None:
        return self.overrides.get(symbol, self.default)


@dataclass(frozen=True)
class BreakerSettings:
    name: str
    limit: Decimal
    action: TradingState
    window: int = 0
    assets: tuple[str, ...] = ()


@dataclass(frozen=True)
class KillSwitchSettings:
    flatten: bool = True
    method: str = "market"
    twap_slices: int = 5
    twap_interval_s: int = 60


STOP_MODES = ("auto", "native", "emulated")
HALF_SPREAD = Decimal("0.0005")


@dataclass(frozen=True)
class StopSettings:
    """``auto``: the venue's own stop orders where it supports them, else emulated."""

    mode: str = "auto"


@dataclass(frozen=True)
class SizingSettings:
    kelly_fraction: Decimal = Decimal("0.25")
    min_trades: int = 30
    fallback_risk: Decimal = Decimal("0.005")
    max_risk_per_trade: Decimal = Decimal("0.01")
    max_equity_fraction: Decimal = Decimal(1)
    target_volatility: Decimal = Decimal("0.2")


@dataclass(frozen=True)
class LiquidationBufferSettings:
    """Keep equity ≥ ``multiple`` × maintenance; when breached, reduce to ``restore_to``."""

    multiple: Decimal
    restore_to: Decimal
    half_spread: PerInstrument = field(default_factory=lambda: PerInstrument(HALF_SPREAD))


@dataclass(frozen=True)
class FenceSettings:
    """One strategy's budget; ``None`` leaves a limit off."""

    strategy: str
    collateral: Decimal | None = None
    max_loss: Decimal | None = None
    max_leverage: Decimal | None = None
    sub_account: bool = False


@dataclass(frozen=True)
class RiskSettings:
    max_order_quantity: PerInstrument = field(default_factory=PerInstrument)
    max_order_notional: PerInstrument = field(default_factory=PerInstrument)
    max_position_notional: PerInstrument = field(default_factory=PerInstrument)
    max_instrument_leverage: PerInstrument = field(default_factory=PerInstrument)
    max_leverage: Decimal | None = Decimal(10)
    margin_buffer: Decimal | None = Decimal("1.25")
    min_liquidation_distance: Decimal | None = None
    price_band: Decimal | None = None
    max_orders_per_minute: int | None = None
    breakers: tuple[BreakerSettings, ...] = ()
    kill_switch: KillSwitchSettings = field(default_factory=KillSwitchSettings)
    liquidation_buffer: LiquidationBufferSettings | None = None
    stops: StopSettings = field(default_factory=StopSettings)
    sizing: SizingSettings = field(default_factory=SizingSettings)
    fences: tuple[FenceSettings, ...] = ()

    def describe(self) -> list[tuple[str, str]]:
        """(control, setting) pairs for summaries; switched-off controls are left out."""
        rows = []
        for name in (
            "max_leverage",
            "margin_buffer",
            "min_liquidation_distance",
            "price_band",
            "max_orders_per_minute",
        ):
            value = getattr(self, name)
            if value is not None:
                rows.append((name, str(value)))
        for name in (
            "max_order_quantity",
            "max_order_notional",
            "max_position_notional",
            "max_instrument_leverage",
        ):
            limit: PerInstrument = getattr(self, name)
            if limit.default is not None or limit.overrides:
                parts = [] if limit.default is None else [f"* {limit.default}"]
                parts += [f"{k} {v}" for k, v in limit.overrides.items()]
                rows.append((name, ", ".join(parts)))
        for breaker in self.breakers:
            rows.append((f"breaker {breaker.name}", f"{breaker.limit} → {breaker.action.value}"))
        if self.kill_switch.flatten:
            rows.append(("kill switch", f"flatten by {self.kill_switch.method} on halt"))
        else:
            rows.append(("kill switch", "cancel all on halt (no flattening)"))
        buffer = self.liquidation_buffer
        if buffer is not None:
            rows.append(
                (
                    "liquidation_buffer",
                    f"equity ≥ {buffer.multiple} × maintenance (restore to {buffer.restore_to})",
                )
            )
        rows.append(("stops", self.stops.mode))
        sizing = self.sizing
        rows.append(
            (
                "sizing",
                f"{sizing.kelly_fraction} Kelly after {sizing.min_trades} trades "
                f"(else {sizing.fallback_risk} risked), ≤ {sizing.max_risk_per_trade} risked, "
                f"≤ {sizing.max_equity_fraction} × equity",
            )
        )
        for fence in self.fences:
            limits = [
                f"{name} {value}"
                for name, value in (
                    ("collateral", fence.collateral),
                    ("max_loss", fence.max_loss),
                    ("max_leverage", fence.max_leverage),
                )
                if value is not None
            ]
            if fence.sub_account:
                limits.append("own sub-account")
            rows.append((f"fence {fence.strategy}", ", ".join(limits)))
        return rows


def parse_risk(raw: Mapping[str, Any], where: str) -> RiskSettings:
    """Read the ``[risk]`` table (empty for the safe defaults)."""
    reader = ParamReader(raw, where)
    defaults = RiskSettings()
    settings = RiskSettings(
        max_order_quantity=_per_instrument(reader, "max_order_quantity"),
        max_order_notional=_per_instrument(reader, "max_order_notional"),
        max_position_notional=_per_instrument(reader, "max_position_notional"),
        max_instrument_leverage=_per_instrument(reader, "max_instrument_leverage"),
        max_leverage=_optional(reader, "max_leverage", defaults.max_leverage),
        margin_buffer=_optional(reader, "margin_buffer", defaults.margin_buffer),
        min_liquidation_distance=_optional(reader, "min_liquidation_distance", None),
        price_band=_optional(reader, "price_band", None),
        max_orders_per_minute=_optional_int(reader, "max_orders_per_minute"),
        breakers=_breakers(reader),
        kill_switch=_kill_switch(ParamReader(reader.table("kill_switch"), f"{where}.kill_switch")),
        liquidation_buffer=_liquidation_buffer(reader),
        stops=_stops(ParamReader(reader.table("stops"), f"{where}.stops")),
        sizing=_sizing(ParamReader(reader.table("sizing"), f"{where}.sizing")),
        fences=_fences(reader),
    )
    reader.finish()
    return settings


def _optional(reader: ParamReader, key: str, default: Decimal | None) -> Decimal | None:
    raw = reader.take(key, default)
    if raw is None or raw is False:
        return None
    value = ParamReader({key: raw}, reader.where).decimal(key, ZERO, minimum=ZERO)
    return None if value == 0 else value


def _optional_int(reader: ParamReader, key: str) -> int | None:
    value = _optional(reader, key, None)
    if value is None:
        return None
    if value != value.to_integral_value():
        raise reader.fail(key, f"{value} — expected a whole number")
    return int(value)


def _per_instrument(reader: ParamReader, key: str) -> PerInstrument:
    raw = reader.take(key)
    if raw is None:
        return PerInstrument()
    if isinstance(raw, Mapping):
        table = ParamReader({key: dict(raw)}, reader.where).decimal_map(key, strictly_positive=True)
        default = table.pop("*", None)
        return PerInstrument(default, table)
    value = ParamReader({key: raw}, reader.where).decimal(key, ZERO, strictly_positive=True)
    return PerInstrument(value, {})


def _breakers(reader: ParamReader) -> tuple[BreakerSettings, ...]:
    raw = reader.table("breakers")
    unknown = sorted(set(raw) - set(BREAKERS))
    if unknown:
        raise reader.fail(
            "breakers", f"unknown breaker(s) {', '.join(unknown)} (known: {', '.join(BREAKERS)})"
        )
    merged: dict[str, Any] = {**DEFAULT_BREAKERS, **raw}
    result = []
    for name in BREAKERS:
        spec = merged.get(name)
        if spec is None or spec is False:
            continue
        where = f"{reader.where}.breakers.{name}"
        if not isinstance(spec, Mapping):
            raise ConfigError(
                'must be a table such as { limit = "0.05", action = "halt" }', where=where
            )
        fields = ParamReader(dict(spec), where)
        if name == "consecutive_losses":
            limit = Decimal(fields.integer("limit", 0, minimum=0))
        else:
            limit = fields.decimal(
                "limit", ZERO, minimum=ZERO, maximum=Decimal(1) if name in FRACTION_LIMITS else None
            )
        action = fields.choice("action", "halt", ACTIONS)
        window = fields.integer("window", 20, minimum=1)
        assets = fields.take("assets", ["USDT", "USDC", "FDUSD"])
        fields.finish()
        if limit == 0:
            continue
        if not isinstance(assets, list) or not all(isinstance(a, str) for a in assets):
            raise ConfigError("assets must be a list of asset codes", where=where)
        state = TradingState.HALTED if action == "halt" else TradingState.REDUCING
        result.append(BreakerSettings(name, limit, state, window, tuple(assets)))
    return tuple(result)


def _kill_switch(reader: ParamReader) -> KillSwitchSettings:
    settings = KillSwitchSettings(
        flatten=reader.boolean("flatten", True),
        method=reader.choice("method", "market", ("market", "twap")),
        twap_slices=reader.integer("twap_slices", 5, minimum=1),
        twap_interval_s=reader.integer("twap_interval_s", 60, minimum=1),
    )
    reader.finish()
    return settings


def _liquidation_buffer(reader: ParamReader) -> LiquidationBufferSettings | None:
    """A number (the multiple) or a table; ``0``/``false``/absent switches it off."""
    raw = reader.take("liquidation_buffer")
    if raw is None or raw is False:
        return None
    where = f"{reader.where}.liquidation_buffer"
    fields = ParamReader(dict(raw) if isinstance(raw, Mapping) else {"multiple": raw}, where)
    multiple = fields.decimal("multiple", ZERO, minimum=ZERO)
    if multiple == 0:
        fields.take("restore_to")
        fields.take("half_spread")
        fields.finish()
        return None
    if multiple <= 1:
        raise fields.fail("multiple", f"must be above 1 (× maintenance), got {multiple}")
    restore_to = fields.decimal("restore_to", multiple * Decimal("1.25"), minimum=multiple)
    spreads = fields.take("half_spread", str(HALF_SPREAD))
    fields.finish()
    if isinstance(spreads, Mapping):
        table = ParamReader({"half_spread": dict(spreads)}, where).decimal_map(
            "half_spread", minimum=ZERO
        )
        half_spread = PerInstrument(table.pop("*", HALF_SPREAD), table)
    else:
        reader_one = ParamReader({"half_spread": spreads}, where)
        half_spread = PerInstrument(reader_one.decimal("half_spread", HALF_SPREAD, minimum=ZERO))
    return LiquidationBufferSettings(multiple, restore_to, half_spread)


def _stops(reader: ParamReader) -> StopSettings:
    settings = StopSettings(mode=reader.choice("mode", "auto", STOP_MODES))
    reader.finish()
    return settings


def _sizing(reader: ParamReader) -> SizingSettings:
    one = Decimal(1)
    settings = SizingSettings(
        kelly_fraction=reader.decimal(
            "kelly_fraction", Decimal("0.25"), strictly_positive=True, maximum=one
        ),
        min_trades=reader.integer("min_trades", 30, minimum=2),
        fallback_risk=reader.decimal("fallback_risk", Decimal("0.005"), minimum=ZERO, maximum=one),
        max_risk_per_trade=reader.decimal(
            "max_risk_per_trade", Decimal("0.01"), strictly_positive=True, maximum=one
        ),
        max_equity_fraction=reader.decimal(
            "max_equity_fraction", Decimal(1), strictly_positive=True
        ),
        target_volatility=reader.decimal(
            "target_volatility", Decimal("0.2"), strictly_positive=True
        ),
    )
    reader.finish()
    return settings


def _fences(reader: ParamReader) -> tuple[FenceSettings, ...]:
    raw = reader.take("fences", [])
    if not isinstance(raw, list) or not all(isinstance(item, Mapping) for item in raw):
        raise reader.fail("fences", "must be an array of tables ([[risk.fences]])")
    fences = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        fields = ParamReader(dict(item), f"{reader.where}.fences[{i}]")
        strategy = fields.text("strategy", "")
        if strategy in seen:
            raise fields.fail("strategy", f"{strategy!r} has two fences")
        seen.add(strategy)
        limits = {
            key: fields.decimal(key, ZERO, strictly_positive=True) if key in item else None
            for key in ("collateral", "max_loss", "max_leverage")
        }
        sub_account = fields.boolean("sub_account", False)
        fields.finish()
        if sub_account and limits["collateral"] is None:
            raise ConfigError(
                "a fence with its own sub-account needs a collateral (moved into it at the start)",
                where=fields.where,
            )
        if limits["max_leverage"] is not None and limits["collateral"] is None and not sub_account:
            raise ConfigError(
                "max_leverage needs a collateral to measure against", where=fields.where
            )
        fences.append(FenceSettings(strategy, sub_account=sub_account, **limits))
    return tuple(fences)
