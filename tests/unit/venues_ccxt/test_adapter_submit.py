"""The submit-timeout rule on a scripted venue: look up by client id before any resend, resend
only when the venue has no such order, never two live orders for one client id."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

import ccxt
import pytest
from tests.pack import DATA_PACK, needs_pack

from xmargin.core.clock import SimClock
from xmargin.core.errors import ConfigError
from xmargin.model.events import OrderAccepted, OrderModified, OrderRejected
from xmargin.model.orders import Order, OrderSide, OrderType, TimeInForce
from xmargin.venues.ccxt.adapter import CcxtVenue
from xmargin.venues.ccxt.credentials import ApiCredentials, Secret
from xmargin.venues.ccxt.tracking import RequestFailed

CREDS = ApiCredentials(Secret("scripted-key-0001"), Secret("scripted-secret-0001"))
pytestmark = needs_pack
BTC = "BTC/USDT:USDT"


def btc_market() -> dict[str, Any]:
    path = DATA_PACK / "api_fixtures" / "nautilus_raw" / "binance_usdm.json"
    files = json.loads(path.read_text())["files"]
    info = next(v for k, v in files.items() if k.endswith("http_futures_market_exchange_info.json"))
    market: dict[str, Any] = ccxt.binanceusdm().parse_market(info["symbols"][0])
    return market


class ScriptedVenue:
    """A ccxt-shaped async exchange whose create/fetch answers follow a script."""

    id = "binanceusdm"
    precisionMode = 4  # noqa: N815 - ccxt's attribute name (TICK_SIZE)

    def __init__(self, creates: list[Any], lookups: list[Any]) -> None:
        self.urls: dict[str, Any] = {"api": {}}
        self.exceptions: dict[str, Any] = {}
        self.creates, self.lookups = creates, lookups
        self.sent: list[str] = []
        self.live: dict[str, dict[str, Any]] = {}
        self.edits: list[Any] = []

    @staticmethod
    def order(client_id: str) -> dict[str, Any]:
        return {"id": "77", "clientOrderId": client_id, "status": "open", "timestamp": 1000}

    async def load_markets(self) -> dict[str, Any]:
        return {BTC: btc_market()}

    async def fetch_leverage_tiers(self, _symbols: list[str]) -> dict[str, Any]:
        return {}

    async def fetch_my_trades(self, *_args: Any) -> list[Any]:
        return []

    async def fetch_funding_history(self, *_args: Any) -> list[Any]:
        return []

    async def fetch_open_orders(self, *_args: Any) -> list[Any]:
        return list(self.live.values())

    async def create_order(self, *args: Any) -> Any:
        client_id = args[5]["clientOrderId"]
        self.sent.append(client_id)
        step = self.creates.pop(0)
        if step == "placed-then-timeout":
            self.live[client_id] = self.order(client_id)
            raise ccxt.RequestTimeout("binanceusdm 503 -1007 execution status unknown")
        if step == "lost":
            raise ccxt.RequestTimeout("read timeout")
        if step == "duplicate":
            raise ccxt.InvalidOrder('{"code":-4116,"msg":"ClientOrderId is duplicated."}')
        if isinstance(step, BaseException):
            raise step
        if client_id in self.live:
            raise AssertionError(f"a second live order for {client_id}")
        self.live[client_id] = self.order(client_id)
        return self.live[client_id]

    async def fetch_order(self, _id: Any, _symbol: str, params: dict[str, Any]) -> Any:
        client_id = params["origClientOrderId"]
        step = self.lookups.pop(0) if self.lookups else "venue"
        if step == "appeared":
            self.live[client_id] = self.order(client_id)
        if client_id in self.live:
            return self.live[client_id]
        raise ccxt.OrderNotFound('{"code":-2013,"msg":"Order does not exist."}')

    async def edit_order(self, _id: str, _symbol: str, *args: Any) -> Any:
        step = self.edits.pop(0)
        order = self.live["cid-1"]
        if step in ("applied", "applied-then-timeout"):
            order.update(amount=args[2], price=args[3])
        if step == "applied-then-timeout":
            raise ccxt.RequestTimeout("read timeout")
        if isinstance(step, BaseException):
            raise step
        return order

    async def close(self) -> None:
        return None


def outcome(venue_script: ScriptedVenue, client_id: str = "cid-1") -> list[object]:
    venue = CcxtVenue(
        "binanceusdm",
        "main",
        CREDS,
        [BTC],
        SimClock(0),
        poll_interval_s=30,
        exchange=venue_script,
    )
    venue.start()
    try:
        venue.submit(
            Order(
                client_id,
                BTC,
                OrderSide.BUY,
                Decimal("0.002"),
                OrderType.LIMIT,
                price=Decimal(60000),
                account="main",
            )
        )
        events: list[object] = []
        deadline = time.monotonic() + 10
        while not events and time.monotonic() < deadline:
            event = venue.wait_event(0.1)
            if event is not None:
                events.append(event)
        time.sleep(0.3)
        return events + venue.drain()
    finally:
        venue.stop()


def test_a_timed_out_submit_that_was_placed_is_found_not_resent() -> None:
    script = ScriptedVenue(["placed-then-timeout"], [])
    events = outcome(script)
    assert events == [OrderAccepted(1000 * 1_000_000, "main", "cid-1", "77")]
    assert script.sent == ["cid-1"]


def test_a_timed_out_submit_the_venue_never_saw_is_resent_with_the_same_id() -> None:
    script = ScriptedVenue(["lost", "ok"], [])
    events = outcome(script)
    assert events == [OrderAccepted(1000 * 1_000_000, "main", "cid-1", "77")]
    assert script.sent == ["cid-1", "cid-1"]


def test_a_resend_refused_as_a_duplicate_looks_again_and_finds_the_first() -> None:
    # lost, not found on the first look, sent again: refused as a duplicate, as the first
    # order reached the venue meanwhile; the second look finds it
    script = ScriptedVenue(["lost", "duplicate"], ["venue", "appeared"])
    events = outcome(script)
    assert events == [OrderAccepted(1000 * 1_000_000, "main", "cid-1", "77")]
    assert script.sent == ["cid-1", "cid-1"]
    assert list(script.live) == ["cid-1"]


def test_a_refusal_is_a_rejection_without_a_resend() -> None:
    refusal = ccxt.InsufficientFunds('binanceusdm {"code":-2019,"msg":"Margin is insufficient."}')
    script = ScriptedVenue([refusal], [])
    events = outcome(script)
    assert events == [
        OrderRejected(0, "main", "cid-1", "InsufficientFunds: Margin is insufficient.")
    ]
    assert script.sent == ["cid-1"]


def test_a_duplicate_on_a_first_send_is_a_rejection() -> None:
    script = ScriptedVenue(["duplicate"], [])
    events = outcome(script)
    assert events == [
        OrderRejected(0, "main", "cid-1", "InvalidOrder: ClientOrderId is duplicated.")
    ]


def test_every_lookup_says_missing_and_every_send_is_lost() -> None:
    script = ScriptedVenue(["lost"] * 5, [])
    events = outcome(script)
    assert events == [
        OrderRejected(0, "main", "cid-1", "outcome unknown after every retry; not resent")
    ]
    assert script.sent == ["cid-1"] * 5
    assert script.live == {}


def test_an_order_the_venue_cannot_take_fails_at_once() -> None:
    creds = CREDS
    venue = CcxtVenue("hyperliquid", "main", creds, [], SimClock(0))
    fok = Order(
        "f",
        "BTC/USDC:USDC",
        OrderSide.BUY,
        Decimal(1),
        OrderType.LIMIT,
        price=Decimal(1),
        time_in_force=TimeInForce.FOK,
        account="main",
    )
    with pytest.raises(ConfigError, match="hyperliquid: time in force fok is not supported"):
        venue.submit(fok)


@pytest.mark.parametrize(
    ("edit", "modified"),
    [
        ("applied", True),
        ("applied-then-timeout", True),  # the venue's order shows the edit happened
        (ccxt.RequestTimeout("lost"), False),
        (ccxt.BadRequest('{"code":-4014,"msg":"Price not increased by tick size."}'), False),
    ],
)
def test_a_modify_is_reported_only_when_the_venue_shows_it(edit: Any, modified: bool) -> None:
    script = ScriptedVenue(["ok"], [])
    script.edits = [edit]
    venue = CcxtVenue(
        "binanceusdm",
        "main",
        CREDS,
        [BTC],
        SimClock(0),
        poll_interval_s=30,
        exchange=script,
    )
    venue.start()
    try:
        venue.submit(
            Order(
                "cid-1",
                BTC,
                OrderSide.BUY,
                Decimal("0.002"),
                OrderType.LIMIT,
                price=Decimal(60000),
                account="main",
            )
        )
        assert isinstance(venue.wait_event(5), OrderAccepted)
        venue.modify("main", "cid-1", price=Decimal(59000))
        event = venue.wait_event(5)
        if modified:
            assert event == OrderModified(
                0, "main", "cid-1", Decimal("0.002"), Decimal(59000), None
            )
        else:
            assert isinstance(event, RequestFailed)
            assert (event.operation, event.subject) == ("modify", "cid-1")
    finally:
        venue.stop()
