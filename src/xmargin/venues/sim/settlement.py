"""Scheduled settlements of the simulated exchange: funding on each rate, hourly interest.

Funding at a timestamp uses the positions held before any fill of that timestamp (spec
§0.4), although bars match resting orders first: the first fill of each position at a
timestamp records the size it had.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from xmargin.core.clock import NANOS_PER_HOUR
from xmargin.margin.ftx import HOURS_PER_DAY, FtxCross, RuleSet
from xmargin.model.events import FundingSettled, InterestCharged
from xmargin.model.numbers import ZERO
from xmargin.portfolio.ledger import PostingKind
from xmargin.venues.sim.accounts import SimAccount
from xmargin.venues.sim.markets import MarketState

if TYPE_CHECKING:
    from xmargin.venues.sim.exchange import SimulatedExchange

NEVER = 2**63


class Settlements:
    """Funding and interest of one simulated venue, each settled at its own time."""

    def __init__(self, exchange: SimulatedExchange) -> None:
        self.exchange = exchange
        self.next_interest_ns = NEVER
        self.next_funding_ns = NEVER
        self.next_due = NEVER
        self._fills_ts = -1
        self._sizes_before_fills: dict[tuple[str, str], Decimal] = {}

    def start(self, ts: int) -> None:
        """Arm hourly interest (at the venue's minute) and constant-rate funding from ``ts``."""
        config = self.exchange.config
        minute = config.interest_minute * 60 * 1_000_000_000
        self.next_interest_ns = _next_boundary(ts - minute, NANOS_PER_HOUR) + minute
        if config.funding.constant_rate is not None:
            period = config.funding.interval_hours * NANOS_PER_HOUR
            self.next_funding_ns = _next_boundary(ts, period)
        self.next_due = min(self.next_funding_ns, self.next_interest_ns)

    def funding(self, market: MarketState, rate: Decimal, ts: int) -> None:
        """Charge funding at the current mark on every position in ``market`` (> 0: paid)."""
        exchange = self.exchange
        symbol = market.spec.symbol
        mark = market.mark_exact()
        before = self._sizes_before_fills if self._fills_ts == exchange.clock.now_ns() else {}
        for account in exchange.accounts.values():
            position = account.book.positions.get(symbol)
            size = position.size if position is not None else ZERO
            size = before.get((account.id, symbol), size)
            if size == 0:
                continue
            amount = account.model.funding_payment(size, mark, rate)
            exchange.ledger.settle_funding(ts, account.id, market.spec, amount)
            exchange.emit(
                FundingSettled(ts, account.id, symbol, rate, mark, size, amount, market.spec.settle)
            )
            exchange.guard.mark_dirty(account)

    def note_position(self, account_id: str, symbol: str) -> None:
        """Remember a position's size before its first fill at the current timestamp."""
        now = self.exchange.clock.now_ns()
        if now != self._fills_ts:
            self._fills_ts = now
            self._sizes_before_fills.clear()
        key = (account_id, symbol)
        if key not in self._sizes_before_fills:
            held = self.exchange.ledger.book(account_id).positions.get(symbol)
            self._sizes_before_fills[key] = held.size if held is not None else ZERO

    def run_due(self, ts: int) -> None:
        """Constant-rate funding and hourly interest due by ``ts``, each at its own time."""
        exchange = self.exchange
        rate = exchange.config.funding.constant_rate
        period = exchange.config.funding.interval_hours * NANOS_PER_HOUR
        while self.next_funding_ns <= ts and rate is not None:
            for market in exchange.markets.values():
                if market.spec.is_derivative and market.has_price:
                    self.funding(market, rate, self.next_funding_ns)
            self.next_funding_ns += period
        while self.next_interest_ns <= ts:
            self._charge_interest(self.next_interest_ns)
            self.next_interest_ns += NANOS_PER_HOUR
        self.next_due = min(self.next_funding_ns, self.next_interest_ns)

    def _charge_interest(self, ts: int) -> None:
        exchange = self.exchange
        for account in exchange.accounts.values():
            if isinstance(account.model, FtxCross):
                self._charge_negative_balances(account, account.model, ts)
                continue
            for loan in tuple(account.book.loans.values()):
                rate = exchange.desk.hourly_rate(account, loan.asset)
                if loan.principal <= 0 or rate == 0:
                    continue
                amount = account.model.interest_accrual(loan.principal, rate)
                exchange.ledger.charge_interest(ts, account.id, loan.asset, amount)
                exchange.emit(
                    InterestCharged(ts, account.id, loan.asset, loan.principal, rate, amount)
                )
                exchange.guard.mark_dirty(account)

    def _charge_negative_balances(self, account: SimAccount, model: FtxCross, ts: int) -> None:
        """FTX: an hour of interest on each negative coin balance, added to the borrow (spec
        A.5 with spot margin at the venue's rates; the legacy rule's USD rate, A.6)."""
        exchange = self.exchange
        negative = {a: -v for a, v in account.book.balances.items() if v < 0}
        if not negative:
            return
        rates = {asset: exchange.desk.hourly_rate(account, asset) for asset in negative}
        legacy = model.rule_set is RuleSet.LEGACY_2020
        for asset, amount in model.borrow_interest(exchange.snapshot(account), rates).items():
            if amount <= 0:
                continue
            rate = model.legacy_daily_rate / HOURS_PER_DAY if legacy else rates[asset]
            exchange.ledger.adjust(ts, account.id, asset, -amount, PostingKind.INTEREST)
            exchange.emit(InterestCharged(ts, account.id, asset, negative[asset], rate, amount))
            exchange.guard.mark_dirty(account)


def _next_boundary(ts: int, period: int) -> int:
    """Return the first multiple of ``period`` at or after ``ts``."""
    return -(-ts // period) * period
