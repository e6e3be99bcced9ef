"""``CcxtVenue`` (unmodified ccxt.pro / async_support) against ``xmargin gateway`` as a real
subprocess on 127.0.0.1.

Every expected value is read from the gateway over its raw Binance endpoints (through a
second, plain ccxt client) or from the pack's data files, never from the adapter. The data
clock starts at 2025-10-10 07:50 UTC at 120x, so the 08:00 funding settles a few seconds in;
the module's adapter opens a 0.5 BTC long as soon as it starts, so that funding charges it.
"""

from __future__ import annotations

import decimal
import logging
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import ccxt
import pytest
from tests.gateway_process import (
    KEY,
    SECRET,
    Gateway,
    point_at_gateway,
    running_gateway,
    write_config,
)
from tests.pack import needs_pack

from xmargin.core.clock import WallClock
from xmargin.core.errors import ConfigError
from xmargin.model.events import (
    FundingSettled,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderModified,
    OrderRejected,
)
from xmargin.model.orders import Order, OrderSide, OrderType, TimeInForce, TriggerSource
from xmargin.venues.ccxt.adapter import CcxtVenue
from xmargin.venues.ccxt.credentials import ApiCredentials, Secret
from xmargin.venues.ccxt.tracking import RequestFailed

pytestmark = needs_pack
SYMBOL = "BTC/USDT:USDT"
START = "2025-10-10T07:50:00Z"
FUNDING_MS = 1_760_083_200_000  # 2025-10-10 08:00 UTC
WAIT_S = 20.0


class Heard:
    """Every event the adapter reports, collected on a thread of the test's own."""

    def __init__(self, venue: CcxtVenue) -> None:
        self.venue = venue
        self.events: list[object] = []
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        while not self._stop.is_set():
            event = self.venue.wait_event(0.05)
            if event is not None:
                with self._changed:
                    self.events.append(event)
                    self._changed.notify_all()

    def wait(self, match: Callable[[object], bool], what: str) -> object:
        deadline = time.monotonic() + WAIT_S
        with self._changed:
            while True:
                found = [e for e in self.events if match(e)]
                if found:
                    return found[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {what} within {WAIT_S}s; heard {self.events}")
                self._changed.wait(left)

    def of(self, kind: type, client_id: str) -> list[object]:
        with self._changed:
            return [
                e
                for e in self.events
                if isinstance(e, kind) and getattr(e, "client_order_id", None) == client_id
            ]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def raw_client(gateway: Gateway) -> ccxt.binanceusdm:
    exchange = ccxt.binanceusdm({"apiKey": KEY, "secret": SECRET, "enableRateLimit": False})
    point_at_gateway(exchange, gateway.url, gateway.ws)
    exchange.load_markets()
    return exchange


def adapter(gateway: Gateway, *, streams: bool, **options: object) -> CcxtVenue:
    venue = CcxtVenue(
        "binanceusdm",
        "main",
        ApiCredentials(Secret(KEY), Secret(SECRET)),
        [SYMBOL],
        WallClock(),
        seed=7,
        streams=streams,
        poll_interval_s=0.2,
        funding_poll_s=1.0,
        rest_base=gateway.url,
        ws_base=gateway.ws,
        ccxt_options=options,
    )
    venue.start()
    return venue


@pytest.fixture(scope="module", autouse=True)
def decimal_context_kept() -> Iterator[None]:
    """ccxt sets the thread's decimal context when it rounds (ROUND_HALF_UP, Underflow
    trapped): the raw client runs on this thread, so let it change a copy."""
    with decimal.localcontext():
        yield


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    config = write_config(tmp_path_factory.mktemp("gw") / "gateway.toml")
    with running_gateway(config, "--speed", "120", "--start", START) as running:
        yield running


@pytest.fixture(scope="module")
def live(gateway: Gateway) -> Iterator[tuple[CcxtVenue, Heard, ccxt.binanceusdm]]:
    venue = adapter(gateway, streams=True)
    heard = Heard(venue)
    venue.submit(Order("long-1", SYMBOL, OrderSide.BUY, Decimal("0.5"), account="main"))
    try:
        yield venue, heard, raw_client(gateway)
    finally:
        venue.stop()
        heard.close()


def last_price(raw: ccxt.binanceusdm) -> Decimal:
    return Decimal(str(raw.fetch_ticker(SYMBOL)["info"]["lastPrice"]))


def test_instruments_and_tiers_come_from_the_venue(live: tuple) -> None:
    venue, _, raw = live
    market = raw.fapiPublicGetExchangeInfo()["symbols"][0]
    filters = {f["filterType"]: f for f in market["filters"]}
    btc = venue.instruments[SYMBOL]
    assert btc.price_increment == Decimal(filters["PRICE_FILTER"]["tickSize"])
    assert btc.size_increment == Decimal(filters["LOT_SIZE"]["stepSize"])
    assert btc.min_notional == Decimal(filters["MIN_NOTIONAL"]["notional"])
    answer = raw.fapiPrivateGetLeverageBracket({"symbol": "BTCUSDT"})
    brackets = (answer[0] if isinstance(answer, list) else answer)["brackets"]
    table = venue.tiers[SYMBOL]
    assert [(t.floor, t.cap, t.mmr, t.max_leverage) for t in table.tiers] == [
        (
            Decimal(str(b["notionalFloor"])),
            Decimal(str(b["notionalCap"])),
            Decimal(str(b["maintMarginRatio"])),
            Decimal(b["initialLeverage"]),
        )
        for b in brackets
    ]
    assert [t.cum for t in table.tiers] == [Decimal(str(b["cum"])) for b in brackets]


def test_a_market_order_fills_once_with_the_venues_trade(live: tuple) -> None:
    _, heard, raw = live
    fill = heard.wait(lambda e: isinstance(e, OrderFilled), "fill of long-1")
    trade = raw.fapiPrivateGetUserTrades({"symbol": "BTCUSDT"})[0]
    assert fill == OrderFilled(
        ts_event=int(trade["time"]) * 1_000_000,
        account="main",
        client_order_id="long-1",
        instrument=SYMBOL,
        side=OrderSide.BUY,
        quantity=Decimal("0.5"),
        price=Decimal(trade["price"]),
        fee=Decimal(trade["price"]) * Decimal("0.5") * Decimal("0.0005"),  # taker 5 bp
        fee_asset="USDT",
        liquidity="taker",
        realized_pnl=Decimal(0),
        trade_id=str(trade["id"]),
    )
    time.sleep(1.0)  # several polls and stream pushes later, still one fill
    assert len(heard.of(OrderFilled, "long-1")) == 1
    assert heard.of(OrderAccepted, "long-1") == []  # filled at once: no resting acceptance


def test_funding_is_reported_with_the_venues_rate_and_the_position_it_charged(live: tuple) -> None:
    _, heard, raw = live
    event = heard.wait(lambda e: isinstance(e, FundingSettled), "funding at 08:00")
    income = raw.fapiPrivateGetIncome({"incomeType": "FUNDING_FEE"})[0]
    rate = raw.fapiPublicGetFundingRate({"symbol": "BTCUSDT", "startTime": FUNDING_MS})[0]
    held = sum(
        Decimal(t["qty"]) * (1 if t["side"] == "BUY" else -1)
        for t in raw.fapiPrivateGetUserTrades({"symbol": "BTCUSDT"})
        if int(t["time"]) < FUNDING_MS
    )
    assert isinstance(event, FundingSettled)
    assert held > 0
    assert (event.ts_event, event.amount, event.rate, event.position_size) == (
        FUNDING_MS * 1_000_000,
        -Decimal(income["income"]),
        Decimal(rate["fundingRate"]),
        held,
    )
    # the gateway charges size x mark x rate, so the implied mark is the mark it used
    assert event.mark_price * event.position_size * event.rate == event.amount


def test_positions_and_balances_equal_the_gateways(live: tuple) -> None:
    venue, heard, raw = live
    heard.wait(lambda e: isinstance(e, FundingSettled), "funding at 08:00")
    for _attempt in range(5):
        wallet = Decimal(raw.fapiPrivateV3GetAccount()["totalWalletBalance"])
        balances = venue.balances("main")
        if Decimal(raw.fapiPrivateV3GetAccount()["totalWalletBalance"]) == wallet:
            break
    assert balances == {"USDT": wallet}
    row = raw.fapiPrivateV3GetPositionRisk({"symbol": "BTCUSDT"})[0]
    position = venue.positions("main")[SYMBOL]
    assert (position.size, position.entry_price) == (
        Decimal(row["positionAmt"]),
        Decimal(row["entryPrice"]),
    )


def test_limit_order_is_accepted_modified_and_canceled(live: tuple) -> None:
    venue, heard, raw = live
    low = (last_price(raw) * Decimal("0.8")).quantize(Decimal("0.1"))
    venue.submit(
        Order(
            "lim-1",
            SYMBOL,
            OrderSide.BUY,
            Decimal("0.002"),
            OrderType.LIMIT,
            price=low,
            account="main",
        )
    )
    accepted = heard.wait(
        lambda e: isinstance(e, OrderAccepted) and e.client_order_id == "lim-1",
        "acceptance of lim-1",
    )
    on_venue = raw.fapiPrivateGetOrder({"symbol": "BTCUSDT", "origClientOrderId": "lim-1"})
    assert isinstance(accepted, OrderAccepted)
    assert accepted.venue_order_id == str(on_venue["orderId"])
    venue.modify("main", "lim-1", quantity=Decimal("0.003"), price=low - 100)
    heard.wait(lambda e: isinstance(e, OrderModified) and e.client_order_id == "lim-1", "modify")
    edited = raw.fapiPrivateGetOrder({"symbol": "BTCUSDT", "origClientOrderId": "lim-1"})
    assert (Decimal(edited["price"]), Decimal(edited["origQty"])) == (low - 100, Decimal("0.003"))
    working = {o.client_order_id: o for o in venue.open_orders("main")}
    assert (working["lim-1"].price, working["lim-1"].quantity) == (low - 100, Decimal("0.003"))
    venue.modify("main", "lim-1", price=low - 200)  # the quantity stays the modified one
    heard.wait(lambda e: isinstance(e, OrderModified) and e.price == low - 200, "second modify")
    again = raw.fapiPrivateGetOrder({"symbol": "BTCUSDT", "origClientOrderId": "lim-1"})
    assert (Decimal(again["price"]), Decimal(again["origQty"])) == (low - 200, Decimal("0.003"))
    venue.cancel("main", "lim-1")
    heard.wait(lambda e: isinstance(e, OrderCanceled) and e.client_order_id == "lim-1", "cancel")
    gone = raw.fapiPrivateGetOrder({"symbol": "BTCUSDT", "origClientOrderId": "lim-1"})
    assert gone["status"] == "CANCELED"
    assert len(heard.of(OrderAccepted, "lim-1")) == 1


def test_a_stop_goes_through_algo_orders_and_cancel_all_reaches_both_kinds(live: tuple) -> None:
    venue, heard, raw = live
    last = last_price(raw)
    stop_at = (last * Decimal("0.7")).quantize(Decimal("0.1"))
    venue.submit(
        Order(
            "stop-1",
            SYMBOL,
            OrderSide.SELL,
            Decimal("0.5"),
            OrderType.STOP_MARKET,
            trigger_price=stop_at,
            trigger_source=TriggerSource.MARK,
            reduce_only=True,
            account="main",
        )
    )
    venue.submit(
        Order(
            "rest-1",
            SYMBOL,
            OrderSide.SELL,
            Decimal("0.002"),
            OrderType.LIMIT,
            price=(last * 2).quantize(Decimal("0.1")),
            account="main",
        )
    )
    for cid in ("stop-1", "rest-1"):
        heard.wait(lambda e, c=cid: isinstance(e, OrderAccepted) and e.client_order_id == c, cid)
    algos = raw.fapiPrivateGetOpenAlgoOrders({"symbol": "BTCUSDT"})
    algo = next(a for a in algos if a["clientAlgoId"] == "stop-1")
    assert (algo["orderType"], Decimal(algo["triggerPrice"]), algo["workingType"]) == (
        "STOP_MARKET",
        stop_at,
        "MARK_PRICE",
    )
    assert all(o["clientOrderId"] != "stop-1" for o in raw.fapiPrivateGetOpenOrders())
    kinds = {o.client_order_id: o.order_type for o in venue.open_orders("main")}
    assert (kinds["stop-1"], kinds["rest-1"]) == (OrderType.STOP_MARKET, OrderType.LIMIT)
    venue.cancel_all("main", SYMBOL)
    for cid in ("stop-1", "rest-1"):
        heard.wait(lambda e, c=cid: isinstance(e, OrderCanceled) and e.client_order_id == c, cid)
    assert raw.fapiPrivateGetOpenAlgoOrders({"symbol": "BTCUSDT"}) == []
    assert raw.fapiPrivateGetOpenOrders({"symbol": "BTCUSDT"}) == []


def test_leverage_is_set_on_the_venue_and_a_refusal_is_an_event(live: tuple) -> None:
    venue, heard, raw = live
    venue.set_leverage("main", SYMBOL, Decimal(20))  # from 10: more room, not less
    deadline = time.monotonic() + WAIT_S
    while raw.fapiPrivateV2GetPositionRisk({"symbol": "BTCUSDT"})[0]["leverage"] != "20":
        assert time.monotonic() < deadline, "leverage never reached the venue"
        time.sleep(0.1)
    venue.set_leverage("main", SYMBOL, Decimal(120))  # over the 50k-600k tier's 100x
    failed = heard.wait(lambda e: isinstance(e, RequestFailed), "leverage refusal")
    assert isinstance(failed, RequestFailed)
    assert (failed.operation, failed.subject) == ("set_leverage", SYMBOL)
    assert raw.fapiPrivateV2GetPositionRisk({"symbol": "BTCUSDT"})[0]["leverage"] == "20"
    with pytest.raises(ConfigError, match="leverage must be a whole number"):
        venue.set_leverage("main", SYMBOL, Decimal("2.5"))


def test_time_in_force_and_post_only(live: tuple) -> None:
    venue, heard, raw = live
    last = last_price(raw)
    away = (last * Decimal("0.9")).quantize(Decimal("0.1"))
    limit = {"account": "main", "order_type": OrderType.LIMIT}
    venue.submit(
        Order(
            "ioc-1",
            SYMBOL,
            OrderSide.BUY,
            Decimal("0.002"),
            price=away,
            time_in_force=TimeInForce.IOC,
            **limit,
        )
    )
    venue.submit(
        Order(
            "fok-1",
            SYMBOL,
            OrderSide.SELL,
            Decimal("0.002"),
            price=away,
            time_in_force=TimeInForce.FOK,
            **limit,
        )
    )
    venue.submit(
        Order("po-1", SYMBOL, OrderSide.BUY, Decimal("0.002"), price=away, post_only=True, **limit)
    )
    heard.wait(lambda e: isinstance(e, OrderExpired) and e.client_order_id == "ioc-1", "ioc")
    fok = heard.wait(lambda e: isinstance(e, OrderFilled) and e.client_order_id == "fok-1", "fok")
    heard.wait(lambda e: isinstance(e, OrderAccepted) and e.client_order_id == "po-1", "po")
    assert isinstance(fok, OrderFilled)
    assert fok.quantity == Decimal("0.002")
    resting = raw.fapiPrivateGetOrder({"symbol": "BTCUSDT", "origClientOrderId": "po-1"})
    assert (resting["timeInForce"], resting["status"]) == ("GTX", "NEW")
    venue.cancel("main", "po-1")
    heard.wait(lambda e: isinstance(e, OrderCanceled) and e.client_order_id == "po-1", "cancel")


def test_margin_mode_already_set_is_success_and_a_refusal_an_event(live: tuple) -> None:
    venue, heard, _ = live
    venue.set_margin_mode("main", SYMBOL, "cross")  # the gateway answers -4046: already cross
    venue.set_margin_mode("main", SYMBOL, "isolated")  # the gateway serves cross only
    failed = heard.wait(
        lambda e: isinstance(e, RequestFailed) and e.operation == "set_margin_mode", "refusal"
    )
    assert isinstance(failed, RequestFailed)
    assert failed.reason.startswith("BadRequest: ") and "marginType" in failed.reason
    time.sleep(0.5)
    refusals = [e for e in heard.events if isinstance(e, RequestFailed)]
    assert [e.operation for e in refusals].count("set_margin_mode") == 1


def test_a_venue_refusal_is_a_rejection_event(live: tuple) -> None:
    venue, heard, _ = live
    venue.submit(Order("huge-1", SYMBOL, OrderSide.BUY, Decimal(10), account="main"))
    rejected = heard.wait(
        lambda e: isinstance(e, OrderRejected) and e.client_order_id == "huge-1", "huge-1"
    )
    assert rejected == OrderRejected(
        rejected.ts_event, "main", "huge-1", "InsufficientFunds: Margin is insufficient."
    )


@pytest.fixture
def lossy(tmp_path: Path) -> Iterator[Gateway]:
    extra = "\n[gateway.faults]\norder_timeout_share = 1\norder_timeout_ms = 100\n"
    config = write_config(tmp_path / "lossy.toml", extra)
    with running_gateway(config, "--speed", "60", "--start", START) as running:
        yield running


def test_a_submit_answered_with_a_timeout_is_found_by_client_id_not_resent(lossy: Gateway) -> None:
    venue = adapter(lossy, streams=False)
    heard = Heard(venue)
    try:
        venue.submit(
            Order(
                "lost-1",
                SYMBOL,
                OrderSide.BUY,
                Decimal("0.002"),
                OrderType.LIMIT,
                price=Decimal(60000),
                account="main",
            )
        )
        accepted = heard.wait(
            lambda e: isinstance(e, OrderAccepted) and e.client_order_id == "lost-1", "lost-1"
        )
        raw = raw_client(lossy)
        on_venue = raw.fapiPrivateGetOpenOrders({"symbol": "BTCUSDT"})
        assert [o["clientOrderId"] for o in on_venue] == ["lost-1"]
        assert isinstance(accepted, OrderAccepted)
        assert accepted.venue_order_id == str(on_venue[0]["orderId"])
        time.sleep(0.5)
        assert heard.of(OrderRejected, "lost-1") == []
        assert len(heard.of(OrderAccepted, "lost-1")) == 1
    finally:
        venue.stop()
        heard.close()


def test_a_skewed_client_clock_is_resynced_on_minus_1021(gateway: Gateway) -> None:
    # the client's clock two minutes behind: the first signed request gets -1021
    venue = adapter(gateway, streams=False, timeDifference=120_000)
    try:
        assert abs(venue.runner.exchange.options["timeDifference"]) < 5_000
        assert venue.balances("main")["USDT"] > 0
    finally:
        venue.stop()


@pytest.fixture
def flaky_streams(tmp_path: Path) -> Iterator[Gateway]:
    extra = "\n[gateway.faults]\nseed = 5\nws_drop_share = 0.5\n"
    config = write_config(tmp_path / "flaky.toml", extra)
    with running_gateway(config, "--speed", "60", "--start", START) as running:
        yield running


def test_stream_drops_are_gap_filled_and_every_fill_arrives_once(flaky_streams: Gateway) -> None:
    venue = adapter(flaky_streams, streams=True)
    heard = Heard(venue)
    try:
        sides = [OrderSide.BUY, OrderSide.SELL] * 3
        for n, side in enumerate(sides):
            venue.submit(Order(f"flip-{n}", SYMBOL, side, Decimal("0.01"), account="main"))
            heard.wait(
                lambda e, c=f"flip-{n}": isinstance(e, OrderFilled) and e.client_order_id == c,
                f"fill of flip-{n}",
            )
        time.sleep(1.0)
        raw = raw_client(flaky_streams)
        trades = raw.fapiPrivateGetUserTrades({"symbol": "BTCUSDT"})
        fills = [e for e in heard.events if isinstance(e, OrderFilled)]
        assert sorted(f.trade_id for f in fills) == sorted(str(t["id"]) for t in trades)
        assert len(fills) == len(sides)
        assert venue.user_data.reconnects >= 1
    finally:
        venue.stop()
        heard.close()


def test_no_log_event_or_repr_of_a_running_adapter_shows_the_credentials(
    live: tuple, caplog: pytest.LogCaptureFixture
) -> None:
    venue, heard, _ = live
    with caplog.at_level(logging.DEBUG):
        venue.submit(Order("leak-1", SYMBOL, OrderSide.BUY, Decimal(50), account="main"))
        heard.wait(lambda e: isinstance(e, OrderRejected) and e.client_order_id == "leak-1", "no")
        venue.set_leverage("main", SYMBOL, Decimal(125))
        heard.wait(lambda e: isinstance(e, RequestFailed) and "125" in e.reason, "leverage refusal")
    shown = "\n".join(
        [caplog.text, repr(venue), repr(vars(venue)), repr(heard.events), str(heard.events)]
    )
    assert KEY not in shown
    assert SECRET not in shown
