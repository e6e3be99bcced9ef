"""The simulated exchange's side of ``execution.ports``: account views and settings queries.

``SimulatedExchange`` mixes ``SimPortQueries`` in, so it is a ``SteppedVenue``: the kernel,
the risk engine's desk and strategy contexts reach it only through the ports.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from xmargin.margin.base import MarginModel
from xmargin.margin.snapshot import AccountSnapshot
from xmargin.model.orders import TriggerSource
from xmargin.portfolio.ledger import AccountBook

if TYPE_CHECKING:
    from xmargin.venues.sim.accounts import SimAccount
    from xmargin.venues.sim.config import SimVenueConfig
    from xmargin.venues.sim.exchange import SimulatedExchange


class SimAccountView:
    """An ``AccountView`` of one simulated account: its snapshot comes from its exchange."""

    __slots__ = ("_account", "_exchange")

    def __init__(self, exchange: SimulatedExchange, account: SimAccount) -> None:
        self._exchange = exchange
        self._account = account

    @property
    def model(self) -> MarginModel:
        return self._account.model

    @property
    def quote(self) -> str:
        return self._account.quote

    @property
    def book(self) -> AccountBook:
        return self._account.book

    @property
    def leverage(self) -> Mapping[str, Decimal]:
        return self._account.leverage

    def snapshot(self, also: tuple[str, ...] = ()) -> AccountSnapshot:
        return self._exchange.snapshot(self._account, also)

    def has_exposure(self) -> bool:
        return self._account.has_exposure()


class SimPortQueries:
    """The ``SteppedVenue`` queries the exchange answers from its accounts and settings."""

    config: SimVenueConfig
    accounts: dict[str, SimAccount]
    _views: dict[str, SimAccountView]

    @property
    def stop_trigger(self) -> TriggerSource:
        return self.config.stop_trigger

    def feed_delay_ns(self) -> int:
        return self.config.latency.feed_delay_ns()

    def taker_fee(self, account_id: str) -> Decimal:
        return self.config.fees.taker

    def account_ids(self) -> tuple[str, ...]:
        return tuple(self.accounts)

    def account(self, account_id: str) -> SimAccountView:
        """The account's view (one per account, made on first use)."""
        view = self._views.get(account_id)
        if view is None:
            exchange: SimulatedExchange = self  # type: ignore[assignment]
            view = SimAccountView(exchange, self.accounts[account_id])
            self._views[account_id] = view
        return view
