"""Binance spot cross margin on a scripted venue: borrow, repay, loans, margin level, and every
call carrying ``marginMode`` (ccxt sends orders to spot without it)."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import ccxt
import pytest

from xmargin.core.clock import SimClock
from xmargin.core.errors import ConfigError
from xmargin.model.balances import Loan, LoanStatus
from xmargin.model.events import LoanBorrowed, LoanFailed, LoanRepaid, LoanRequested
from xmargin.model.orders import Order, OrderSide, OrderType
from xmargin.venues.ccxt.adapter import CcxtVenue
from xmargin.venues.ccxt.credentials import ApiCredentials, Secret

CREDS = ApiCredentials(Secret("scripted-key-0001"), Secret("scripted-secret-0001"))
SPOT = "BTC/USDT"
DAILY = 0.00024  # the venue's daily BTC rate; hourly = daily / 24 = 0.00001


class MarginVenue:
    """A ccxt ``binance``-shaped exchange holding one cross-margin account."""

    id = "binance"
    precisionMode = 4  # noqa: N815 - ccxt's attribute name (TICK_SIZE)

    def __init__(self, borrow: list[Any] | None = None) -> None:
        self.urls: dict[str, Any] = {"api": {}}
        self.exceptions: dict[str, Any] = {}
        self.borrowed = {"BTC": Decimal(0), "USDT": Decimal(0)}
        self.interest = {"BTC": Decimal(0), "USDT": Decimal(0)}
        self.borrow_script = borrow or ["ok"]
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    async def load_markets(self) -> dict[str, Any]:
        market = {
            "symbol": SPOT,
            "type": "spot",
            "quote": "USDT",
            "settle": None,
            "precision": {"price": 0.01, "amount": 0.00001},
            "limits": {"amount": {"min": 0.00001}, "cost": {"min": 5.0}},
            "contractSize": None,
        }
        return {SPOT: market}

    async def fetch_balance(self, params: dict[str, Any]) -> Any:
        self.calls.append(("fetch_balance", (params,)))
        rows = [
            {
                "asset": a,
                "free": "1",
                "locked": "0",
                "borrowed": str(self.borrowed[a]),
                "interest": str(self.interest[a]),
                "netAsset": "1",
            }
            for a in ("BTC", "USDT")
        ]
        return {"info": {"marginLevel": "3.5", "userAssets": rows}, "total": {"BTC": 1.0}}

    async def borrow_cross_margin(self, code: str, amount: float) -> Any:
        self.calls.append(("borrow_cross_margin", (code, amount)))
        step = self.borrow_script.pop(0)
        if step in ("ok", "lost-but-lent"):
            self.borrowed[code] += Decimal(str(amount))
            self.interest[code] += Decimal(str(amount)) * Decimal(str(DAILY)) / 24
        if step in ("lost-but-lent", "lost"):
            raise ccxt.RequestTimeout("read timeout")
        if isinstance(step, BaseException):
            raise step
        return {"id": "tran-1"}

    async def repay_cross_margin(self, code: str, amount: float) -> Any:
        self.calls.append(("repay_cross_margin", (code, amount)))
        paid = Decimal(str(amount))
        interest = min(paid, self.interest[code])
        self.interest[code] -= interest
        self.borrowed[code] -= min(paid - interest, self.borrowed[code])
        return {"id": "tran-2"}

    async def fetch_cross_borrow_rate(self, code: str) -> Any:
        return {"currency": code, "rate": DAILY, "period": 86_400_000}

    async def create_order(self, *args: Any) -> Any:
        self.calls.append(("create_order", args))
        return {"id": "9", "clientOrderId": args[5]["clientOrderId"], "status": "open"}

    async def fetch_my_trades(self, *args: Any) -> list[Any]:
        self.calls.append(("fetch_my_trades", args))
        return []

    async def fetch_open_orders(self, *args: Any) -> list[Any]:
        self.calls.append(("fetch_open_orders", args))
        return []

    async def close(self) -> None:
        return None


def started(venue: MarginVenue) -> CcxtVenue:
    adapter = CcxtVenue(
        "binance",
        "main",
        CREDS,
        [SPOT],
        SimClock(0),
        poll_interval_s=0.05,
        exchange=venue,
    )
    adapter.start()
    return adapter


def events_until(adapter: CcxtVenue, kinds: tuple[type, ...]) -> list[object]:
    seen: list[object] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(isinstance(e, kinds) for e in seen):
        event = adapter.wait_event(0.05)
        if event is not None:
            seen.append(event)
    return seen


def test_a_borrow_is_requested_then_confirmed_with_its_first_hour_of_interest() -> None:
    venue = MarginVenue()
    adapter = started(venue)
    try:
        loan_id = adapter.borrow("main", "BTC", Decimal("0.5"))
        events = events_until(adapter, (LoanBorrowed, LoanFailed))
        assert loan_id == "main-L1"
        assert events == [
            LoanRequested(0, "main", "BTC", Decimal("0.5"), "main-L1"),
            # 0.5 BTC x 0.00024 / 24 a day's hour
            LoanBorrowed(0, "main", "BTC", Decimal("0.5"), "main-L1", Decimal("0.000005")),
        ]
        assert adapter.loans("main") == {
            "BTC": Loan("BTC", Decimal("0.5"), Decimal("0.000005"), LoanStatus.CONFIRMED)
        }
        assert adapter.margin_level("main") == Decimal("3.5")
        assert adapter.positions("main") == {}
    finally:
        adapter.stop()


@pytest.mark.parametrize(
    ("script", "outcome"),
    [
        (
            [ccxt.InsufficientFunds('{"code":-3041,"msg":"Balance is not enough"}')],
            "InsufficientFunds: Balance is not enough",
        ),
        (["lost"], "no loan on the account after an unanswered borrow"),
        (["lost-but-lent"], None),
    ],
)
def test_refused_and_unanswered_borrows(script: list[Any], outcome: str | None) -> None:
    venue = MarginVenue(script)
    adapter = started(venue)
    try:
        adapter.borrow("main", "BTC", Decimal("0.5"))
        events = events_until(adapter, (LoanBorrowed, LoanFailed))
        final = events[-1]
        if outcome is None:  # the venue lent although its answer was lost
            assert isinstance(final, LoanBorrowed)
        else:
            assert isinstance(final, LoanFailed)
            assert final.reason.startswith(outcome)
        sent = [c for c in venue.calls if c[0] == "borrow_cross_margin"]
        assert sent == [("borrow_cross_margin", ("BTC", 0.5))]  # never sent twice
    finally:
        adapter.stop()


def test_a_repayment_reports_what_the_account_shows_paid_interest_first() -> None:
    venue = MarginVenue()
    venue.borrowed["BTC"], venue.interest["BTC"] = Decimal("0.5"), Decimal("0.001")
    adapter = started(venue)
    try:
        adapter.repay("main", "BTC", Decimal("0.301"))
        events = events_until(adapter, (LoanRepaid,))
        assert events[-1] == LoanRepaid(0, "main", "BTC", Decimal("0.001"), Decimal("0.300"))
        assert adapter.loans("main")["BTC"].principal == Decimal("0.200")
    finally:
        adapter.stop()


def test_every_account_call_carries_the_cross_margin_mode() -> None:
    venue = MarginVenue()
    adapter = started(venue)
    try:
        adapter.submit(
            Order(
                "m1",
                SPOT,
                OrderSide.SELL,
                Decimal("0.01"),
                OrderType.LIMIT,
                price=Decimal(90000),
                reduce_only=True,
                account="main",
            )
        )
        events_until(adapter, (object,))
        time.sleep(0.2)
        create = next(args for name, args in venue.calls if name == "create_order")
        assert create[5] == {
            "clientOrderId": "m1",
            "marginMode": "cross",
            "timeInForce": "GTC",
            "reduceOnly": True,
        }
        for name, args in venue.calls:
            if name in ("fetch_my_trades", "fetch_open_orders", "fetch_balance"):
                assert args[-1] == {"marginMode": "cross"}, name
    finally:
        adapter.stop()


def test_what_spot_margin_lacks_fails_at_once() -> None:
    adapter = started(MarginVenue())
    try:
        with pytest.raises(ConfigError, match="binance: set_leverage is not supported"):
            adapter.set_leverage("main", SPOT, Decimal(3))
        with pytest.raises(ConfigError, match="binance: modify is not supported"):
            adapter.modify("main", "x", price=Decimal(1))
        with pytest.raises(ConfigError, match="borrow amount must be positive"):
            adapter.borrow("main", "BTC", Decimal(0))
    finally:
        adapter.stop()
    with pytest.raises(ConfigError, match="binance has no user-data streams"):
        CcxtVenue(
            "binance",
            "main",
            CREDS,
            [SPOT],
            SimClock(0),
            streams=True,
        )
