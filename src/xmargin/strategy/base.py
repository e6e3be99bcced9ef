"""The strategy base class: callbacks a strategy overrides, parameters it declares."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from xmargin.core.errors import ConfigError
from xmargin.model.market_data import Bar, FundingRate, Quote, Trade
from xmargin.model.numbers import NumberError, parse_integer, parse_number

if TYPE_CHECKING:
    from xmargin.strategy.context import StrategyContext


@dataclass(frozen=True)
class NoParams:
    """A strategy without parameters."""


class Strategy:
    """Base class of every strategy; it sees the world only through ``self.ctx``.

    Subclasses set ``name`` (the id configs use), ``description`` (one line) and
    ``Params`` (a frozen dataclass whose fields, with defaults, are the parameters).
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    Params: ClassVar[type] = NoParams

    def __init__(self, strategy_id: str, params: Any) -> None:
        self.id = strategy_id
        self.params = params
        self._ctx: StrategyContext | None = None

    @property
    def ctx(self) -> StrategyContext:
        if self._ctx is None:
            raise RuntimeError(f"strategy {self.id} is not attached to a kernel yet")
        return self._ctx

    def attach(self, ctx: StrategyContext) -> None:
        self._ctx = ctx
        for account in self.linked_accounts():
            if account != ctx.account:
                ctx.link_account(self, account)

    def subscriptions(self) -> tuple[tuple[str, str], ...]:
        """Return the (kind, instrument) market data this strategy wants; all by default."""
        return ()

    def linked_accounts(self) -> tuple[str, ...]:
        """Return the other accounts this strategy trades (with ``account=`` on orders).

        Their venues' market data and their account events (funding, interest) reach the
        strategy as its own account's do.
        """
        return ()

    def on_start(self) -> None: ...
    def on_bar(self, bar: Bar) -> None: ...
    def on_trade(self, trade: Trade) -> None: ...
    def on_quote(self, quote: Quote) -> None: ...
    def on_funding(self, funding: FundingRate) -> None: ...
    def on_order_event(self, event: object) -> None: ...
    def on_timer(self, name: str, ts_ns: int) -> None: ...
    def on_stop(self) -> None: ...

    def results(self) -> Mapping[str, str]:
        """Figures to show with the run's summary (e.g. a PnL split); none by default."""
        return {}


def build_params(cls: type[Strategy], raw: Mapping[str, Any], where: str) -> Any:
    """Validate ``raw`` against ``cls.Params``: unknown keys and wrong types are rejected."""
    fields = {f.name: f for f in dataclasses.fields(cls.Params)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        allowed = ", ".join(fields) or "none"
        raise ConfigError(
            f"unknown parameter(s) {', '.join(unknown)} (allowed: {allowed})", where=where
        )
    values: dict[str, Any] = {}
    for name, value in raw.items():
        values[name] = _coerce(fields[name], value, f"{where}.{name}")
    missing = [
        n
        for n, f in fields.items()
        if n not in values
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"missing parameter(s) {', '.join(missing)}", where=where)
    return cls.Params(**values)


def _coerce(field: dataclasses.Field[Any], value: Any, where: str) -> Any:
    kind = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", "")
    try:
        if "Decimal" in kind:
            return parse_number(repr(value) if isinstance(value, float) else value)
        if kind == "int":
            if not isinstance(value, int | Decimal):
                raise NumberError(f"{value!r} — expected a whole number")
            return parse_integer(value)
        if kind == "float":
            if not isinstance(value, int | float | Decimal):
                raise NumberError(f"{value!r} — expected a number")
            return float(parse_number(repr(value) if isinstance(value, float) else value))
        if kind == "bool":
            if not isinstance(value, bool):
                raise NumberError(f"must be true or false, got {value!r}")
            return value
        if kind == "str":
            if not isinstance(value, str):
                raise NumberError(f"must be text, got {value!r}")
            return value
    except NumberError as exc:
        raise ConfigError(str(exc), where=where) from None
    return value


def params_table(cls: type[Strategy]) -> list[tuple[str, str, str]]:
    """Return (name, type, default) for each parameter, for listings."""
    rows = []
    for f in dataclasses.fields(cls.Params):
        default = "required" if f.default is dataclasses.MISSING else repr(f.default)
        kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
        rows.append((f.name, str(kind), default))
    return rows
