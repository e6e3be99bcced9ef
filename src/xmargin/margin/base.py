"""The ``MarginModel`` protocol, its report types and the behaviour every cross model shares."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar, Protocol

from xmargin.core.errors import ConfigError
from xmargin.margin.capacity import max_fill_size
from xmargin.margin.liquidation_price import solve_price
from xmargin.margin.snapshot import AccountSnapshot, PositionSnapshot
from xmargin.model.instruments import InstrumentKind, parse_symbol
from xmargin.model.numbers import ZERO
from xmargin.model.orders import OrderSide
from xmargin.model.positions import apply_fill, entry_cost

# Solving liquidation prices is the costly part of a report; ``headline`` turns it off.
_SOLVE_LIQUIDATION_PRICES: ContextVar[bool] = ContextVar("solve_liquidation_prices", default=True)


class MarginState(StrEnum):
    """Where an account stands in its venue's liquidation state machine."""

    OK = "ok"
    MARGIN_CALL = "margin_call"
    LIQUIDATING = "liquidating"
    AUTO_CLOSE = "auto_close"
    BACKSTOP = "backstop"


class RatioKind(StrEnum):
    """The venue's headline ratio, and which way is safe."""

    MARGIN_FRACTION = "margin_fraction"  # FTX: equity / notional, higher is safer
    MARGIN_LEVEL = "margin_level"  # Binance margin: assets / liabilities, higher is safer
    MARGIN_RATIO = "margin_ratio"  # Binance USDⓈ-M: maintenance / balance, lower is safer
    CROSS_MARGIN_RATIO = "cross_margin_ratio"  # Hyperliquid: maintenance / value, lower is safer
    MAINTENANCE_MARGIN_RATE = "maintenance_margin_rate"  # Bybit: MM / balance, lower is safer

    @property
    def higher_is_safer(self) -> bool:
        return self in (RatioKind.MARGIN_FRACTION, RatioKind.MARGIN_LEVEL)


@dataclass(frozen=True, slots=True)
class ExposureMargin:
    """The margin picture of one exposure: a derivatives position, or a spot asset held or owed."""

    instrument: str
    size: Decimal
    price: Decimal
    notional: Decimal
    initial_margin: Decimal
    maintenance_margin: Decimal
    liquidation_price: Decimal | None
    entry_price: Decimal | None = None
    unrealized_pnl: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class MarginReport:
    """A venue model's full assessment of one account.

    ``margin_ratio`` is ``None`` when the ratio is unbounded (no liabilities or positions).
    ``details`` holds the model's own intermediate figures (IMF, ACMF, CML, …).
    """

    venue: str
    quote: str
    equity: Decimal
    collateral: Decimal
    initial_margin_required: Decimal
    maintenance_margin_required: Decimal
    free_collateral: Decimal
    margin_ratio: Decimal | None
    margin_ratio_kind: RatioKind
    state: MarginState
    exposures: tuple[ExposureMargin, ...] = ()
    details: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Exposure:
    """Something whose price can liquidate the account: a position's mark or an asset's price."""

    instrument: str
    size: Decimal
    price: Decimal
    asset: str | None = None  # set when the price that moves is an asset's valuation price

    def moved(self, account: AccountSnapshot, price: Decimal) -> AccountSnapshot:
        if self.asset is not None:
            return account.with_price(self.asset, price)
        return account.with_mark(self.instrument, price)


class MarginModel(Protocol):
    """A venue's cross-margin rules as a pure calculator over an ``AccountSnapshot``."""

    @property
    def venue(self) -> str: ...
    @property
    def quote(self) -> str: ...
    @property
    def ratio_kind(self) -> RatioKind: ...
    @property
    def taker_fee_rate(self) -> Decimal: ...

    def knows(self, instrument: str) -> bool: ...
    def knows_asset(self, asset: str) -> bool: ...
    def assess(self, account: AccountSnapshot) -> MarginReport: ...
    def summary(self, account: AccountSnapshot) -> MarginReport: ...
    def headline(self, account: AccountSnapshot) -> tuple[MarginState, Decimal | None]: ...
    def liquidation_gap(self, account: AccountSnapshot) -> Decimal: ...
    def initial_gap(self, account: AccountSnapshot) -> Decimal: ...
    def liquidation_price(self, account: AccountSnapshot, instrument: str) -> Decimal | None: ...
    def apply_fill(
        self,
        account: AccountSnapshot,
        instrument: str,
        quantity: Decimal,
        price: Decimal,
        fee_rate: Decimal | None = None,
    ) -> AccountSnapshot: ...
    def max_additional_size(
        self, account: AccountSnapshot, instrument: str, side: OrderSide, price: Decimal
    ) -> Decimal: ...
    def funding_payment(self, size: Decimal, price: Decimal, rate: Decimal) -> Decimal: ...
    def interest_accrual(self, principal: Decimal, hourly_rate: Decimal) -> Decimal: ...


class CrossMarginModel(ABC):
    """Shared machinery: liquidation prices, what-if fills, capacity, funding and interest.

    A venue model supplies the two gaps and its report; everything generic is derived
    from them. ``liquidation_gap`` is positive while the account is safe and crosses zero
    where the venue liquidates; ``initial_gap`` is non-negative while new exposure may be
    opened. Both are piecewise linear in any single price, which the solvers rely on.
    """

    venue: ClassVar[str]
    ratio_kind: ClassVar[RatioKind]
    quote: str
    taker_fee_rate: Decimal

    @abstractmethod
    def knows(self, instrument: str) -> bool:
        """Return whether the model has the parameters to margin ``instrument``."""

    def knows_asset(self, asset: str) -> bool:
        """Return whether balances or loans of ``asset`` may be held in this account."""
        return asset == self.quote

    @abstractmethod
    def assess(self, account: AccountSnapshot) -> MarginReport: ...

    @abstractmethod
    def liquidation_gap(self, account: AccountSnapshot) -> Decimal: ...

    @abstractmethod
    def initial_gap(self, account: AccountSnapshot) -> Decimal: ...

    def exposures(self, account: AccountSnapshot) -> tuple[Exposure, ...]:
        """Return the exposures reported per row; derivatives positions by default."""
        return tuple(
            Exposure(p.instrument, p.size, p.mark_price) for p in account.positions if p.size
        )

    def summary(self, account: AccountSnapshot) -> MarginReport:
        """Return the report without solving liquidation prices (the cheap part of ``assess``)."""
        token = _SOLVE_LIQUIDATION_PRICES.set(False)
        try:
            return self.assess(account)
        finally:
            _SOLVE_LIQUIDATION_PRICES.reset(token)

    def headline(self, account: AccountSnapshot) -> tuple[MarginState, Decimal | None]:
        """Return the state and headline ratio without solving liquidation prices (cheap)."""
        report = self.summary(account)
        return report.state, report.margin_ratio

    def liquidation_price(self, account: AccountSnapshot, instrument: str) -> Decimal | None:
        """Return the price of ``instrument`` at which the account is liquidated, all else fixed."""
        for exposure in self.exposures(account):
            if exposure.instrument == instrument:
                return self._liquidation_price(account, exposure)
        raise ConfigError(f"no open exposure in {instrument}", where="liquidation price")

    def _liquidation_price(self, account: AccountSnapshot, exposure: Exposure) -> Decimal | None:
        return solve_price(
            lambda price: self.liquidation_gap(exposure.moved(account, price)), exposure.price
        )

    def liquidation_prices(self, account: AccountSnapshot) -> dict[str, Decimal | None]:
        return {e.instrument: self._liquidation_price(account, e) for e in self.exposures(account)}

    def apply_fill(
        self,
        account: AccountSnapshot,
        instrument: str,
        quantity: Decimal,
        price: Decimal,
        fee_rate: Decimal | None = None,
    ) -> AccountSnapshot:
        """Return the account after a signed fill at ``price``, fee paid in the settle asset."""
        fee = abs(quantity) * price * (self.taker_fee_rate if fee_rate is None else fee_rate)
        spec = parse_symbol(instrument)
        if spec.kind is InstrumentKind.SPOT:
            return self._apply_spot_fill(account, spec.base, spec.quote, quantity, price, fee)
        if spec.kind is InstrumentKind.INVERSE_PERPETUAL:
            raise ConfigError(f"{self.venue} does not trade inverse contracts such as {instrument}")
        held = account.position(instrument)
        if held is None:
            held = PositionSnapshot(instrument, ZERO, ZERO, price, account.leverage.get(instrument))
        outcome = apply_fill(held.size, entry_cost(held.size, held.entry_price), quantity, price)
        position = PositionSnapshot(
            instrument, outcome.size, outcome.entry_price, held.mark_price, held.leverage
        )
        settle = spec.settle
        balance = account.balance(settle) + outcome.realized_pnl - fee
        return account.with_position(position).with_balance(settle, balance)

    def _apply_spot_fill(
        self,
        account: AccountSnapshot,
        base: str,
        quote: str,
        quantity: Decimal,
        price: Decimal,
        fee: Decimal,
    ) -> AccountSnapshot:
        """Move balances for a spot fill; venues with loans override to auto-borrow shortfalls."""
        moved = account.with_balance(base, account.balance(base) + quantity)
        return moved.with_balance(quote, account.balance(quote) - quantity * price - fee)

    def max_additional_size(
        self, account: AccountSnapshot, instrument: str, side: OrderSide, price: Decimal
    ) -> Decimal:
        """Return the largest quantity that could still be bought (or sold) at ``price``."""
        if not self.knows(instrument):
            raise ConfigError(f"{self.venue} has no parameters for {instrument}")
        held = account.position(instrument)
        reducible = ZERO
        if held is not None and held.size * side.sign < 0:
            reducible = abs(held.size)
        return max_fill_size(
            lambda q: self.initial_gap(self.apply_fill(account, instrument, q * side.sign, price)),
            reducible,
        )

    def funding_payment(self, size: Decimal, price: Decimal, rate: Decimal) -> Decimal:
        """Return the funding a position pays (positive) or receives (negative)."""
        return size * price * rate

    def interest_accrual(self, principal: Decimal, hourly_rate: Decimal) -> Decimal:
        """Return one hour of simple interest on ``principal``."""
        return principal * hourly_rate

    def _exposure_rows(
        self,
        account: AccountSnapshot,
        initial: dict[str, Decimal],
        maintenance: dict[str, Decimal],
    ) -> tuple[ExposureMargin, ...]:
        """Build the per-exposure rows, solving each liquidation price."""
        rows = []
        solve = _SOLVE_LIQUIDATION_PRICES.get()
        for exposure in self.exposures(account):
            position = account.position(exposure.instrument) if exposure.asset is None else None
            rows.append(
                ExposureMargin(
                    instrument=exposure.instrument,
                    size=exposure.size,
                    price=exposure.price,
                    notional=abs(exposure.size) * exposure.price,
                    initial_margin=initial.get(exposure.instrument, ZERO),
                    maintenance_margin=maintenance.get(exposure.instrument, ZERO),
                    liquidation_price=self._liquidation_price(account, exposure) if solve else None,
                    entry_price=position.entry_price if position else None,
                    unrealized_pnl=position.unrealized_pnl if position else ZERO,
                )
            )
        return tuple(rows)
