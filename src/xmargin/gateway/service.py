"""The gateway's state behind the wire: the paced runtime, the records, the market replay,
the served accounts and their listen keys."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from decimal import Decimal

from xmargin.backtest.feed import FeedSource
from xmargin.gateway import errors
from xmargin.gateway.binance_json import symbol_id
from xmargin.gateway.market_replay import MarketReplay, SymbolData
from xmargin.gateway.records import AccountRecords, Records
from xmargin.gateway.runtime import GatewayRuntime
from xmargin.gateway.settings import GatewaySettings
from xmargin.margin.base import MarginReport
from xmargin.margin.binance_usdm import BinanceUsdmCross

LISTEN_KEY_LIFE_MS = 60 * 60_000


class GatewayService:
    def __init__(self, runtime: GatewayRuntime, settings: GatewaySettings) -> None:
        self.runtime = runtime
        self.settings = settings
        self.keys = settings.by_key()
        accounts = [c.account for c in settings.credentials]
        self.records = Records(accounts, symbol_id, self._entry_of)
        runtime.kernel.bus.subscribe(object, self.records.on_event)
        venue = runtime.venue
        self.replay = MarketReplay(runtime.sources, venue.venue_id, venue.markets)
        runtime.step_listeners.append(self._on_step)
        self.listen_keys: dict[str, str] = {}
        self._listen_expiry: dict[str, int] = {}
        self.listen_key_closed: list[Callable[[str, bool], None]] = []

    def _on_step(self, _ts: int, seen: list[tuple[FeedSource, int]]) -> None:
        for source, _row in seen:
            if source.kind == "ohlcv":
                self.replay.note_step(source.instrument)

    def _entry_of(self, account: str, instrument: str) -> Decimal | None:
        position = self.runtime.ledger.book(account).positions.get(instrument)
        return None if position is None or not position.size else position.entry_price

    def now_ms(self) -> int:
        return self.runtime.now_ms()

    def symbol(self, raw: str | None) -> SymbolData:
        return self.replay.data(raw)

    def account_records(self, account: str) -> AccountRecords:
        return self.records.accounts[account]

    def model(self, account: str) -> BinanceUsdmCross:
        model = self.runtime.account(account).model
        assert isinstance(model, BinanceUsdmCross)
        return model

    def report(self, account: str) -> MarginReport:
        """The account assessed by its margin model, as ``xmargin margin`` assesses it."""
        venue = self.runtime.venue
        sim = venue.accounts[account]
        return sim.model.assess(venue.snapshot(sim))

    def listen_key(self, account: str, wall_ms: int) -> str:
        """The account's listen key, created or kept alive for another 60 minutes."""
        key = self.listen_keys.get(account)
        if key is None:
            key = secrets.token_urlsafe(48)
            self.listen_keys[account] = key
        self._listen_expiry[account] = wall_ms + LISTEN_KEY_LIFE_MS
        return key

    def close_listen_key(self, account: str) -> None:
        """Drop the account's key; its user streams end."""
        if self.listen_keys.pop(account, None) is not None:
            self._listen_expiry.pop(account, None)
            for listener in self.listen_key_closed:
                listener(account, False)

    def expire_listen_keys(self, wall_ms: int) -> None:
        """Drop keys not kept alive within 60 minutes; their streams hear ``listenKeyExpired``."""
        for account, expiry in list(self._listen_expiry.items()):
            if wall_ms >= expiry:
                del self._listen_expiry[account]
                del self.listen_keys[account]
                for listener in self.listen_key_closed:
                    listener(account, True)

    def account_of_listen_key(self, key: str) -> str:
        for account, known in self.listen_keys.items():
            if secrets.compare_digest(known, key):
                return account
        raise errors.listen_key_missing()
