"""The account snapshot every margin model reads: balances, positions, loans, prices, orders."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal

from xmargin.core.errors import DataError
from xmargin.model.numbers import ZERO


@dataclass(frozen=True, slots=True)
class PositionSnapshot:
    """A derivatives position: signed size in base units, average entry and current mark."""

    instrument: str
    size: Decimal
    entry_price: Decimal
    mark_price: Decimal
    leverage: Decimal | None = None

    @property
    def notional(self) -> Decimal:
        return abs(self.size) * self.mark_price

    @property
    def unrealized_pnl(self) -> Decimal:
        return self.size * (self.mark_price - self.entry_price)


@dataclass(frozen=True, slots=True)
class LoanSnapshot:
    """An outstanding margin loan of one asset."""

    asset: str
    principal: Decimal
    interest: Decimal = ZERO

    @property
    def liability(self) -> Decimal:
        return self.principal + self.interest


@dataclass(frozen=True, slots=True)
class OrderSnapshot:
    """A resting order: signed quantity (positive buys) at a limit price (the simulated
    exchange passes one per instrument, side and price, its orders there summed)."""

    instrument: str
    quantity: Decimal
    price: Decimal


@dataclass(frozen=True, slots=True)
class OrderTotals:
    """The resting orders of one instrument summed per side: quantities left (base units,
    never negative), their notionals at their limit prices, the highest buy and lowest sell
    limit (None without buys or sells)."""

    buy_quantity: Decimal = ZERO
    sell_quantity: Decimal = ZERO
    buy_notional: Decimal = ZERO
    sell_notional: Decimal = ZERO
    highest_buy: Decimal | None = None
    lowest_sell: Decimal | None = None

    def crossed(self, price: Decimal) -> bool:
        """Whether a buy rests above ``price`` or a sell below it."""
        return (self.highest_buy is not None and self.highest_buy > price) or (
            self.lowest_sell is not None and self.lowest_sell < price
        )

    @property
    def notional(self) -> Decimal:
        return self.buy_notional + self.sell_notional

    @property
    def is_empty(self) -> bool:
        return not (
            self.buy_quantity or self.sell_quantity or self.buy_notional or self.sell_notional
        )

    def plus(self, side: int, quantity: Decimal, notional: Decimal) -> OrderTotals:
        """Return these totals with ``quantity`` and ``notional`` added to the buys (``side``
        1) or the sells (-1); negative amounts take away."""
        if side > 0:
            return replace(
                self,
                buy_quantity=self.buy_quantity + quantity,
                buy_notional=self.buy_notional + notional,
            )
        return replace(
            self,
            sell_quantity=self.sell_quantity + quantity,
            sell_notional=self.sell_notional + notional,
        )


def order_totals_of(orders: tuple[OrderSnapshot, ...]) -> dict[str, OrderTotals]:
    """Sum ``orders`` per instrument and side."""
    totals: dict[str, OrderTotals] = {}
    for order in orders:
        side = 1 if order.quantity > 0 else -1
        held = totals.get(order.instrument, EMPTY_TOTALS)
        quantity = abs(order.quantity)
        held = held.plus(side, quantity, quantity * order.price)
        if side > 0 and (held.highest_buy is None or order.price > held.highest_buy):
            held = replace(held, highest_buy=order.price)
        elif side < 0 and (held.lowest_sell is None or order.price < held.lowest_sell):
            held = replace(held, lowest_sell=order.price)
        totals[order.instrument] = held
    return totals


EMPTY_TOTALS = OrderTotals()


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """Everything a margin model needs to know about one account at one instant.

    ``balances`` are signed amounts per asset (a negative balance is a borrow on venues
    that work that way, such as FTX); ``prices`` value each non-quote asset in the
    model's quote currency. ``leverage`` holds the account's leverage settings per
    instrument, which a position opened by a what-if fill takes. ``order_totals``, when
    given, are ``orders`` summed per instrument (a venue that keeps them running passes
    them, so that a check need not sum every order).
    """

    balances: Mapping[str, Decimal] = field(default_factory=dict)
    positions: tuple[PositionSnapshot, ...] = ()
    loans: tuple[LoanSnapshot, ...] = ()
    prices: Mapping[str, Decimal] = field(default_factory=dict)
    orders: tuple[OrderSnapshot, ...] = ()
    leverage: Mapping[str, Decimal] = field(default_factory=dict)
    order_totals: Mapping[str, OrderTotals] | None = None

    def orders_per_instrument(self) -> Mapping[str, OrderTotals]:
        """The resting orders summed per instrument and side."""
        if self.order_totals is not None:
            return self.order_totals
        return order_totals_of(self.orders)

    def balance(self, asset: str) -> Decimal:
        return self.balances.get(asset, ZERO)

    def price_of(self, asset: str, quote: str) -> Decimal:
        """Return the valuation price of ``asset`` in ``quote`` (1 for the quote itself)."""
        if asset == quote:
            return Decimal(1)
        try:
            return self.prices[asset]
        except KeyError:
            raise DataError(
                f"no valuation price for {asset} (add {asset} = <price in {quote}> under prices)",
                field=f"prices.{asset}",
            ) from None

    def position(self, instrument: str) -> PositionSnapshot | None:
        for position in self.positions:
            if position.instrument == instrument:
                return position
        return None

    def loan(self, asset: str) -> LoanSnapshot | None:
        for loan in self.loans:
            if loan.asset == asset:
                return loan
        return None

    def with_mark(self, instrument: str, mark: Decimal) -> AccountSnapshot:
        """Return a copy with ``instrument``'s mark (and its resting orders) unchanged but moved."""
        positions = tuple(
            replace(p, mark_price=mark) if p.instrument == instrument else p for p in self.positions
        )
        return replace(self, positions=positions)

    def with_price(self, asset: str, price: Decimal) -> AccountSnapshot:
        return replace(self, prices={**self.prices, asset: price})

    def with_balance(self, asset: str, amount: Decimal) -> AccountSnapshot:
        return replace(self, balances={**self.balances, asset: amount})

    def with_position(self, position: PositionSnapshot) -> AccountSnapshot:
        """Return a copy with ``position`` replacing its instrument's (removed when flat)."""
        kept = [position] if position.size != 0 else []
        positions: list[PositionSnapshot] = []
        for held in self.positions:
            if held.instrument == position.instrument:
                positions.extend(kept)
                kept = []
            else:
                positions.append(held)
        return replace(self, positions=tuple(positions + kept))

    def with_loan(self, loan: LoanSnapshot) -> AccountSnapshot:
        kept = [loan] if loan.liability != 0 else []
        loans: list[LoanSnapshot] = []
        for held in self.loans:
            if held.asset == loan.asset:
                loans.extend(kept)
                kept = []
            else:
                loans.append(held)
        return replace(self, loans=tuple(loans + kept))
