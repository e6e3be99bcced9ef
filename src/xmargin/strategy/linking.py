"""Let a strategy hear a second account's venue: its market data and its account events.

A strategy is attached to one account, and the runtime delivers the market data of that
account's venue. A strategy holding a leg elsewhere (a spot leg on a margin venue, a perp
on a second exchange) also needs that venue's bars and funding rates, and the account
events (funding settlements, interest) of the other account. ``AccountRelay`` is attached
to the other account as a silent helper strategy and forwards everything it hears to its
owner; it never trades. Orders the owner sends with ``account=`` report back to the owner
directly, as all orders do.
"""

from __future__ import annotations

from xmargin.model.market_data import Bar, FundingRate, Quote, Trade
from xmargin.strategy.base import NoParams, Strategy

FEED_KINDS = ("bar", "trade", "quote", "funding")


class AccountRelay(Strategy):
    """Forward another account's market data and account events to ``owner``."""

    name = "account_relay"
    description = "forwards a linked account's market data and events to its owner (internal)"

    def __init__(self, owner: Strategy, account: str) -> None:
        super().__init__(f"{owner.id}@{account}", NoParams())
        self.owner = owner
        self.account = account

    def subscriptions(self) -> tuple[tuple[str, str], ...]:
        return self.owner.subscriptions()

    def on_bar(self, bar: Bar) -> None:
        self.owner.on_bar(bar)

    def on_trade(self, trade: Trade) -> None:
        self.owner.on_trade(trade)

    def on_quote(self, quote: Quote) -> None:
        self.owner.on_quote(quote)

    def on_funding(self, funding: FundingRate) -> None:
        self.owner.on_funding(funding)

    def on_order_event(self, event: object) -> None:
        self.owner.on_order_event(event)
