"""Per-strategy books: each strategy's own positions, PnL and closed trades, from its fills.

Several strategies may share an account; a strategy's share is what its own fills made.
Fills the risk engine makes on an account's behalf (the liquidation buffer) are shared out
among the strategies holding that position, in proportion to their sizes; funding likewise.
Sizing reads the closed trades (the Kelly statistics); fences read the PnL and the gross
exposure. These are analytics in floats (positions keep an exact size for orders); they never
write to the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from xmargin.model.numbers import ZERO

Key = tuple[str, str]  # (account, instrument)


@dataclass
class TradeStats:
    """Closed round trips of one strategy: a trip ends when its position returns to zero."""

    trades: int = 0
    wins: int = 0
    win_total: float = 0.0
    loss_total: float = 0.0

    def record(self, pnl: float) -> None:
        self.trades += 1
        if pnl > 0:
            self.wins += 1
            self.win_total += pnl
        else:
            self.loss_total -= pnl

    @property
    def win_rate(self) -> float:
        return self.wins / self.trades if self.trades else 0.0

    @property
    def payoff_ratio(self) -> float | None:
        """Average win over average loss; None without both."""
        losses = self.trades - self.wins
        if not self.wins or not losses or self.loss_total <= 0:
            return None
        return (self.win_total / self.wins) / (self.loss_total / losses)


class Leg:
    """One strategy's position in one instrument of one account."""

    __slots__ = ("cost", "exact", "market", "multiplier", "size", "trip_pnl")

    def __init__(self, market: Any, multiplier: float) -> None:
        self.market = market
        self.multiplier = multiplier
        self.size = 0.0
        self.exact = ZERO
        self.cost = 0.0
        self.trip_pnl = 0.0

    def price(self) -> float:
        market = self.market
        return float(market.mark or market.last)


class StrategyBook:
    """What one strategy's fills made: legs, cash (realised PnL − fees − funding) and trips."""

    __slots__ = ("cash", "legs", "stats")

    def __init__(self) -> None:
        self.legs: dict[Key, Leg] = {}
        self.cash = 0.0
        self.stats = TradeStats()

    def fill(
        self, key: Key, market: Any, multiplier: float, signed: Decimal, price: float, fee: float
    ) -> None:
        """Book a fill of ``signed`` units at ``price``; close a trip when the leg goes flat."""
        leg = self.legs.get(key)
        if leg is None:
            leg = self.legs[key] = Leg(market, multiplier)
        quantity = float(signed)
        size, cost = leg.size, leg.cost
        realized = 0.0
        if size and size * quantity < 0:
            closing = min(abs(quantity), abs(size))
            part = cost * closing / abs(size)
            value = (closing if size > 0 else -closing) * price * multiplier
            realized = value - part
            cost -= part
            size += closing if size < 0 else -closing
            quantity += closing if quantity < 0 else -closing
        if quantity:
            size += quantity
            cost += quantity * price * multiplier
        before = leg.exact
        leg.exact = after = before + signed
        if after == 0:
            size, cost = 0.0, 0.0
        leg.size, leg.cost = size, cost
        self.cash += realized - fee
        leg.trip_pnl += realized - fee
        if before != 0 and (after == 0 or (after > 0) != (before > 0)):
            self.stats.record(leg.trip_pnl)
            leg.trip_pnl = 0.0

    def pnl(self) -> float:
        """Realised plus unrealised PnL at the current marks, fees and funding included."""
        total = self.cash
        for leg in self.legs.values():
            if leg.size:
                total += leg.size * leg.price() * leg.multiplier - leg.cost
        return total

    def gross(self) -> float:
        return sum(abs(leg.size) * leg.price() * leg.multiplier for leg in self.legs.values())

    def open_legs(self) -> list[tuple[Key, Decimal]]:
        return [(key, leg.exact) for key, leg in self.legs.items() if leg.exact != 0]


class StrategyBooks:
    """Every strategy's book, fed the fills and funding of the run."""

    def __init__(self) -> None:
        self.books: dict[str, StrategyBook] = {}

    def book(self, strategy: str) -> StrategyBook:
        book = self.books.get(strategy)
        if book is None:
            book = self.books[strategy] = StrategyBook()
        return book

    def on_fill(
        self,
        strategy: str | None,
        key: Key,
        market: Any,
        multiplier: float,
        signed: Decimal,
        price: float,
        fee: float,
    ) -> None:
        """Book a strategy's fill; ``strategy=None``: a risk fill shared among the holders."""
        if strategy is not None:
            self.book(strategy).fill(key, market, multiplier, signed, price, fee)
            return
        holders = [
            (name, book.legs[key])
            for name, book in self.books.items()
            if key in book.legs and book.legs[key].exact * signed < 0
        ]
        total = sum((abs(leg.exact) for _, leg in holders), ZERO)
        for name, leg in holders:
            share = min(abs(leg.exact) / total, abs(leg.exact) / abs(signed))
            self.books[name].fill(
                key, market, multiplier, signed * share, price, fee * float(share)
            )

    def on_funding(self, key: Key, position_size: Decimal, amount: Decimal) -> None:
        """Share a funding payment among the strategies holding the position."""
        if position_size == 0:
            return
        for book in self.books.values():
            leg = book.legs.get(key)
            if leg is not None and leg.exact:
                book.cash -= float(amount * leg.exact / position_size)
