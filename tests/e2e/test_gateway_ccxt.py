"""Unmodified ccxt (sync ``binanceusdm`` and ccxt.pro) against ``xmargin gateway`` as a real
subprocess on 127.0.0.1: only the client's URLs are rewritten, as a third-party bot would be.

The data clock starts at 2025-10-10 07:50 UTC at 120x, so the 08:00 funding settles a few
seconds in. The tests on the shared gateway run in file order as one session of a bot: each
builds on the account the previous ones left. Expected values come from the raw pack files
and from hand arithmetic.
"""

from __future__ import annotations

import asyncio
import csv
import decimal
import gzip
import json
import random
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import aiohttp
import ccxt
import ccxt.pro as ccxtpro
import pytest
from tests.gateway_process import (
    KEY,
    SECRET,
    Gateway,
    point_at_gateway,
    running_gateway,
    write_config,
)
from tests.pack import DATA_PACK, needs_pack

from xmargin.margin.binance_usdm import BinanceUsdmCross
from xmargin.margin.snapshot import AccountSnapshot, PositionSnapshot

pytestmark = needs_pack
SYMBOL = "BTC/USDT:USDT"
START = "2025-10-10T07:50:00Z"
FUNDING_MS = 1_760_083_200_000  # 2025-10-10 08:00 UTC
FIVE_MIN = 300_000


def raw_bars() -> dict[int, list[str]]:
    path = DATA_PACK / "binance_usdm_perp" / "BTCUSDT_perp_5m.csv.gz"
    with gzip.open(path, "rt") as handle:
        rows = csv.reader(handle)
        next(rows)
        return {int(r[0]): r[1:] for r in rows if r[0].startswith("17600")}


def raw_mark_close(open_ms: int) -> Decimal:
    path = DATA_PACK / "binance_usdm_perp" / "BTCUSDT_perp_mark_1h.csv.gz"
    with gzip.open(path, "rt") as handle:
        for row in csv.reader(handle):
            if row[0] == str(open_ms):
                return Decimal(row[4])
    raise AssertionError(f"no mark bar at {open_ms}")


def raw_funding_rate(ts_ms: int) -> Decimal:
    path = DATA_PACK / "binance_usdm_perp" / "funding_rates_8h.csv"
    with path.open() as handle:
        for row in csv.DictReader(handle):
            if row["ts_ms"] == str(ts_ms) and row["symbol"].startswith("BTC"):
                return Decimal(row["funding_rate"])
    raise AssertionError(f"no funding at {ts_ms}")


@pytest.fixture(scope="module", autouse=True)
def decimal_context_kept() -> Iterator[None]:
    """ccxt sets the thread's decimal context when it rounds (ROUND_HALF_UP, Underflow
    trapped): let it change a copy, so the rest of the suite keeps Python's default."""
    with decimal.localcontext():
        yield


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    config = write_config(tmp_path_factory.mktemp("gw") / "gateway.toml")
    with running_gateway(config, "--speed", "120", "--start", START) as running:
        yield running


def client(gateway: Gateway, key: str = KEY, secret: str = SECRET) -> ccxt.binanceusdm:
    exchange = ccxt.binanceusdm({"apiKey": key, "secret": secret, "enableRateLimit": False})
    point_at_gateway(exchange, gateway.url, gateway.ws)
    exchange.load_markets()
    return exchange


@pytest.fixture(scope="module")
def ex(gateway: Gateway) -> ccxt.binanceusdm:
    return client(gateway)


def test_markets_carry_the_instruments_increments(ex: ccxt.binanceusdm) -> None:
    market = ex.market(SYMBOL)
    assert (market["id"], market["swap"], market["linear"], market["settle"]) == (
        "BTCUSDT",
        True,
        True,
        "USDT",
    )
    assert market["precision"]["price"] == 0.1
    assert market["precision"]["amount"] == 0.001
    assert market["limits"]["cost"]["min"] == 100


def test_ohlcv_and_ticker_replay_the_data_file(ex: ccxt.binanceusdm) -> None:
    bars = raw_bars()
    candles = ex.fetch_ohlcv(SYMBOL, "5m", limit=3)
    assert len(candles) == 3
    for ts, o, h, low, c, v in candles:
        assert [str(x) for x in (o, h, low, c)] == [str(float(x)) for x in bars[ts][:4]]
        assert v == float(bars[ts][4])
    assert candles[1][0] - candles[0][0] == FIVE_MIN
    ticker = ex.fetch_ticker(SYMBOL)
    last_open = int(ticker["info"]["closeTime"]) + 1 - FIVE_MIN
    assert ticker["last"] == float(bars[last_open][3])


def test_public_market_data_endpoints(ex: ccxt.binanceusdm) -> None:
    bars = raw_bars()
    book = ex.fetch_order_book(SYMBOL)
    bar = bars[int(book["timestamp"]) - int(book["timestamp"]) % FIVE_MIN - FIVE_MIN]
    # the synthesised book: the bid at the last close, the ask one tick above, bar volume
    assert book["bids"] == [[float(bar[3]), float(bar[4])]]
    assert book["asks"] == [[float(Decimal(bar[3]) + Decimal("0.1")), float(bar[4])]]
    assert isinstance(book["nonce"], int)
    assert list(ex.fetch_tickers()) == [SYMBOL]
    assert ex.fetch_bids_asks([SYMBOL])[SYMBOL]["bid"] >= 0
    rate = ex.fetch_funding_rate(SYMBOL)
    assert rate["fundingTimestamp"] in (FUNDING_MS, FUNDING_MS + 8 * 3_600_000)
    assert list(ex.fetch_funding_rates()) == [SYMBOL]
    marks = ex.fetch_mark_ohlcv(SYMBOL, "1h", limit=2)
    assert [m[4] for m in marks] == [float(raw_mark_close(m[0])) for m in marks]
    history = ex.fetch_funding_rate_history(SYMBOL, since=FUNDING_MS - 24 * 3_600_000)
    assert [h["timestamp"] for h in history] == [
        FUNDING_MS - 24 * 3_600_000 + i * 8 * 3_600_000 for i in range(len(history))
    ]


def test_market_order_fills_and_the_liquidation_price_is_the_margin_models(
    ex: ccxt.binanceusdm,
) -> None:
    order = ex.create_order(SYMBOL, "market", "buy", 0.5)
    assert (order["status"], order["filled"]) == ("closed", 0.5)
    trades = ex.fetch_my_trades(SYMBOL)
    assert len(trades) == 1
    price = Decimal(trades[0]["info"]["price"])
    assert Decimal(trades[0]["info"]["commission"]) == price * Decimal("0.5") * Decimal("0.0005")
    assert trades[0]["order"] == order["id"]
    for _attempt in range(5):
        wallet = Decimal(ex.fetch_balance()["info"]["totalWalletBalance"])
        row = next(p for p in ex.fetch_positions([SYMBOL]) if p["symbol"] == SYMBOL)
        if Decimal(ex.fetch_balance()["info"]["totalWalletBalance"]) == wallet:
            break
    info = row["info"]
    assert (row["side"], row["contracts"]) == ("long", 0.5)
    entry, mark = Decimal(info["entryPrice"]), Decimal(info["markPrice"])
    assert entry == price
    assert wallet == Decimal(10000) - price * Decimal("0.5") * Decimal("0.0005")
    # by hand, tier 2 of BTC (notional 50k-600k: mmr 0.5 %, cum 50):
    # wallet + 0.5 (P - entry) = 0.005 x 0.5 P - 50
    by_hand = (Decimal("0.5") * entry - wallet - 50) / (Decimal("0.5") * Decimal("0.995"))
    assert by_hand * Decimal("0.5") >= 50_000
    gateway_liq = Decimal(info["liquidationPrice"])
    assert abs(gateway_liq - by_hand) < Decimal("1e-15")
    snapshot = AccountSnapshot(
        balances={"USDT": wallet},
        positions=(PositionSnapshot(SYMBOL, Decimal("0.5"), entry, mark, Decimal(10)),),
    )
    model = BinanceUsdmCross()
    assert gateway_liq == model.liquidation_price(snapshot, SYMBOL)
    assert Decimal(info["maintMargin"]) == Decimal("0.5") * mark * Decimal("0.005") - 50
    assert row["liquidationPrice"] == float(gateway_liq)


def test_xmargin_margin_computes_the_same_figures_for_the_same_state(
    ex: ccxt.binanceusdm, tmp_path: Path
) -> None:
    for _attempt in range(5):
        account = ex.fapiPrivateV3GetAccount()
        risk = ex.fapiPrivateV3GetPositionRisk({"symbol": "BTCUSDT"})[0]
        if ex.fapiPrivateV3GetAccount()["totalWalletBalance"] == account["totalWalletBalance"]:
            break
    path = tmp_path / "from_gateway.toml"
    path.write_text(
        'venue = "binance_usdm_cross"\n'
        f'[balances]\nUSDT = "{account["totalWalletBalance"]}"\n'
        f'[[positions]]\ninstrument = "{SYMBOL}"\nsize = "{risk["positionAmt"]}"\n'
        f'entry_price = "{risk["entryPrice"]}"\nmark_price = "{risk["markPrice"]}"\n'
        "leverage = 10\n",
        encoding="utf-8",
    )
    command = [sys.executable, "-m", "xmargin.app.cli", "margin", str(path), "--json"]
    shown = json.loads(subprocess.run(command, capture_output=True, check=True, text=True).stdout)
    row = shown["positions"][0]
    cli_liq = Decimal(row["liquidation_price"])
    assert Decimal(risk["liquidationPrice"]).quantize(cli_liq) == cli_liq
    assert Decimal(row["maintenance_margin"]) == Decimal(risk["maintMargin"])
    assert Decimal(shown["maintenance_margin_required"]) == Decimal(account["totalMaintMargin"])


def test_limit_orders_rest_edit_and_cancel(ex: ccxt.binanceusdm) -> None:
    last = Decimal(str(ex.fetch_ticker(SYMBOL)["last"]))
    low = (last * Decimal("0.9")).quantize(Decimal("0.1"))
    order = ex.create_order(SYMBOL, "limit", "buy", 0.002, float(low))
    assert order["status"] == "open"
    fetched = ex.fetch_order(order["id"], SYMBOL)
    assert (fetched["status"], fetched["price"], fetched["amount"]) == ("open", float(low), 0.002)
    assert [o["id"] for o in ex.fetch_open_orders(SYMBOL)] == [order["id"]]
    lower = low - 100
    edited = ex.edit_order(order["id"], SYMBOL, "limit", "buy", 0.003, float(lower))
    assert (edited["price"], edited["amount"]) == (float(lower), 0.003)
    canceled = ex.cancel_order(order["id"], SYMBOL)
    assert canceled["status"] == "canceled"
    assert ex.fetch_open_orders(SYMBOL) == []
    post = ex.create_order(SYMBOL, "limit", "buy", 0.002, float(low), {"postOnly": True})
    assert (post["status"], post["postOnly"]) == ("open", True)
    ex.create_order(SYMBOL, "limit", "sell", 0.002, float(last * 2), {"clientOrderId": "keep-2"})
    ex.cancel_all_orders(SYMBOL)
    assert ex.fetch_open_orders(SYMBOL) == []
    by_client = ex.fetch_order(None, SYMBOL, {"origClientOrderId": "keep-2"})
    assert by_client["status"] == "canceled"
    history = ex.fetch_orders(SYMBOL)
    # the module's orders so far: the market buy of 0.5, then this test's three limits
    assert [o["status"] for o in history] == ["closed", "canceled", "canceled", "canceled"]
    assert [o["id"] for o in ex.fetch_closed_orders(SYMBOL)] == [history[0]["id"]]


def test_reduce_only_and_stop_market_through_algo_orders(ex: ccxt.binanceusdm) -> None:
    last = Decimal(str(ex.fetch_ticker(SYMBOL)["last"]))
    stop_price = float((last * Decimal("0.8")).quantize(Decimal("0.1")))
    stop = ex.create_order(
        SYMBOL, "STOP_MARKET", "sell", 0.5, None, {"stopPrice": stop_price, "reduceOnly": True}
    )
    assert stop["info"]["algoStatus"] == "NEW"
    assert stop["triggerPrice"] == stop_price
    assert ex.fetch_open_orders(SYMBOL) == []  # algo orders live in their own namespace
    algos = ex.fetch_open_orders(SYMBOL, params={"trigger": True})
    assert [o["id"] for o in algos] == [stop["id"]]
    ex.cancel_order(stop["id"], SYMBOL, {"trigger": True})
    assert ex.fetch_open_orders(SYMBOL, params={"trigger": True}) == []
    reduce = ex.create_order(SYMBOL, "market", "sell", 0.1, None, {"reduceOnly": True})
    assert (reduce["status"], reduce["filled"], reduce["reduceOnly"]) == ("closed", 0.1, True)
    position = next(p for p in ex.fetch_positions([SYMBOL]) if p["symbol"] == SYMBOL)
    assert position["contracts"] == 0.4


def test_ccxts_binance_class_trades_the_perpetual_as_freqtrade_configures_it(
    gateway: Gateway,
) -> None:
    exchange = ccxt.binance(
        {
            "apiKey": KEY,
            "secret": SECRET,
            "enableRateLimit": False,
            "options": {"defaultType": "swap"},
        }
    )
    point_at_gateway(exchange, gateway.url, gateway.ws)
    exchange.load_markets()
    assert [s for s, m in exchange.markets.items() if m["swap"]] == [SYMBOL]
    last = Decimal(str(exchange.fetch_ticker(SYMBOL)["last"]))
    away = float((last * Decimal("0.9")).quantize(Decimal("0.1")))
    order = exchange.create_order(SYMBOL, "limit", "buy", 0.002, away)
    assert exchange.fetch_order(order["id"], SYMBOL)["status"] == "open"
    assert exchange.cancel_order(order["id"], SYMBOL)["status"] == "canceled"
    assert exchange.fetch_balance()["USDT"]["total"] > 0
    assert exchange.fapiPrivateGetPositionSideDual() == {"dualSidePosition": False}


def test_leverage_and_brackets(ex: ccxt.binanceusdm) -> None:
    assert ex.set_leverage(5, SYMBOL)["leverage"] == 5
    tiers = ex.fetch_leverage_tiers([SYMBOL])[SYMBOL]
    assert [
        (t["minNotional"], t["maxNotional"], t["maintenanceMarginRate"], t["maxLeverage"])
        for t in tiers[:2]
    ] == [(0, 50000, 0.004, 125), (50000, 600000, 0.005, 100)]
    with pytest.raises(ccxt.MarginModeAlreadySet, match="No need to change margin type"):
        ex.set_margin_mode("cross", SYMBOL)
    with pytest.raises(ccxt.BadRequest, match="marginType"):
        ex.set_margin_mode("isolated", SYMBOL)


def test_funding_is_charged_at_the_mark_and_reported_as_income(ex: ccxt.binanceusdm) -> None:
    deadline = time.monotonic() + 20
    history: list[dict[str, object]] = []
    while not history and time.monotonic() < deadline:
        history = ex.fetch_funding_history(SYMBOL)
        time.sleep(0.2)
    assert len(history) == 1
    mark = raw_mark_close(FUNDING_MS - 3_600_000)
    rate = raw_funding_rate(FUNDING_MS)
    # orders sent between two data steps carry the earlier step's time, and the funding
    # settles inside its step: the position it charged is that of the trades before 08:00
    size = sum(
        Decimal(t["info"]["qty"]) * (1 if t["side"] == "buy" else -1)
        for t in ex.fetch_my_trades(SYMBOL)
        if t["timestamp"] < FUNDING_MS
    )
    assert size > 0
    assert Decimal(history[0]["info"]["income"]) == -(size * mark * rate)
    assert history[0]["timestamp"] == FUNDING_MS
    assert ex.fetch_funding_rate_history(SYMBOL)[-1]["fundingRate"] == float(rate)


def test_venue_errors_reach_ccxt_as_its_exceptions(gateway: Gateway, ex: ccxt.binanceusdm) -> None:
    with pytest.raises(ccxt.InsufficientFunds, match="Margin is insufficient"):
        ex.create_order(SYMBOL, "market", "buy", 10)
    with pytest.raises(ccxt.OrderNotFound, match="Order does not exist"):
        ex.fetch_order("123", SYMBOL)
    with pytest.raises(ccxt.OrderNotFound, match="Unknown order sent"):
        ex.cancel_order("123", SYMBOL)
    with pytest.raises(ccxt.InvalidOrder, match="notional must be no smaller than 100"):
        ex.create_order(SYMBOL, "limit", "buy", 0.001, 60000)
    with pytest.raises(ccxt.InvalidOrder, match="ReduceOnly Order is rejected"):
        ex.create_order(SYMBOL, "market", "buy", 0.1, None, {"reduceOnly": True})
    with pytest.raises(ccxt.InvalidOrder, match="Post Only order will be rejected"):
        ex.create_order(SYMBOL, "limit", "buy", 0.002, 200000, {"postOnly": True})
    ex.create_order(SYMBOL, "limit", "buy", 0.002, 60000, {"clientOrderId": "dup-1"})
    with pytest.raises(ccxt.InvalidOrder, match="ClientOrderId is duplicated"):
        ex.create_order(SYMBOL, "limit", "buy", 0.002, 60000, {"clientOrderId": "dup-1"})
    ex.cancel_all_orders(SYMBOL)
    with pytest.raises(ccxt.BadSymbol, match="Invalid symbol"):
        ex.fapiPublicGetTicker24hr({"symbol": "NOPEUSDT"})
    with pytest.raises(ccxt.BadRequest, match="Precision is over the maximum"):
        ex.fapiPrivatePostOrder(
            {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.0001"}
        )


def test_bad_credentials_and_stale_timestamps_are_refused(gateway: Gateway) -> None:
    with pytest.raises(ccxt.AuthenticationError, match="Signature for this request is not valid"):
        client(gateway, secret="wrong-secret").fetch_balance()
    with pytest.raises(ccxt.AuthenticationError, match="Invalid API-key"):
        client(gateway, key="unknown-key").fetch_balance()
    stale = client(gateway)
    stale.options["timeDifference"] = 120_000  # the client's clock two minutes behind
    with pytest.raises(ccxt.InvalidNonce, match="outside of the recvWindow"):
        stale.fetch_balance()


def test_ccxt_pro_hears_market_streams_orders_and_balances(gateway: Gateway) -> None:
    async def scenario() -> dict[str, object]:
        exchange = ccxtpro.binanceusdm({"apiKey": KEY, "secret": SECRET})
        point_at_gateway(exchange, gateway.url, gateway.ws)
        seen: dict[str, object] = {}
        try:
            await exchange.load_markets()
            seen["trades"] = await asyncio.wait_for(exchange.watch_trades(SYMBOL), 15)
            seen["ohlcv"] = await asyncio.wait_for(exchange.watch_ohlcv(SYMBOL, "5m"), 15)
            seen["mark"] = await asyncio.wait_for(exchange.watch_mark_price(SYMBOL), 15)
            seen["ticker"] = await asyncio.wait_for(exchange.watch_ticker(SYMBOL), 15)
            book = await asyncio.wait_for(exchange.watch_order_book(SYMBOL), 15)
            first_nonce = book["nonce"]
            book = await asyncio.wait_for(exchange.watch_order_book(SYMBOL), 15)
            seen["book"] = (first_nonce, book["nonce"], book["timestamp"], book["bids"][0])
            orders_task = asyncio.create_task(exchange.watch_orders(SYMBOL))
            balance_task = asyncio.create_task(exchange.watch_balance())
            # the user stream connects in the background: an order filled before it is
            # connected is not replayed (as on Binance), so sell again until one is heard
            for _attempt in range(5):
                await exchange.create_order(SYMBOL, "market", "sell", 0.01)
                done, _ = await asyncio.wait({orders_task}, timeout=3)
                if done:
                    break
            seen["orders"] = await asyncio.wait_for(orders_task, 1)
            seen["balance"] = await asyncio.wait_for(balance_task, 10)
            return seen
        finally:
            await exchange.close()

    seen = asyncio.run(scenario())
    bars = raw_bars()
    trade = seen["trades"][-1]  # type: ignore[index]
    open_ms = int(trade["timestamp"]) - FIVE_MIN
    assert trade["symbol"] == SYMBOL
    assert trade["price"] == float(bars[open_ms][3])
    assert trade["amount"] == float(bars[open_ms][4])
    candle = seen["ohlcv"][-1]  # type: ignore[index]
    assert candle[1:] == [float(x) for x in bars[candle[0]]]
    mark = seen["mark"]
    hour = int(mark["timestamp"]) - int(mark["timestamp"]) % 3_600_000  # type: ignore[index]
    assert mark["markPrice"] == float(raw_mark_close(hour - 3_600_000))  # type: ignore[index]
    ticker = seen["ticker"]
    ticker_open = int(ticker["timestamp"]) - FIVE_MIN  # type: ignore[index]
    assert ticker["last"] == float(bars[ticker_open][3])  # type: ignore[index]
    first_nonce, nonce, book_ms, best_bid = seen["book"]  # type: ignore[misc]
    assert nonce > first_nonce
    assert best_bid == [float(bars[book_ms - FIVE_MIN][3]), float(bars[book_ms - FIVE_MIN][4])]
    orders = seen["orders"]
    assert orders[-1]["symbol"] == SYMBOL  # type: ignore[index]
    assert orders[-1]["amount"] == 0.01  # type: ignore[index]
    assert "USDT" in seen["balance"]  # type: ignore[operator]


def test_time_in_force_ioc_and_fok(ex: ccxt.binanceusdm) -> None:
    last = Decimal(str(ex.fetch_ticker(SYMBOL)["last"]))
    away = float((last * Decimal("0.9")).quantize(Decimal("0.1")))
    ioc = ex.create_order(SYMBOL, "limit", "buy", 0.002, away, {"timeInForce": "IOC"})
    assert (ioc["status"], ioc["filled"]) == ("expired", 0)
    fok = ex.create_order(SYMBOL, "limit", "sell", 0.002, away, {"timeInForce": "FOK"})
    assert (fok["status"], fok["filled"]) == ("closed", 0.002)


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[Gateway]:
    extra = "\n[gateway.faults]\norder_timeout_share = 1\norder_timeout_ms = 100\n"
    config = write_config(tmp_path / "limited.toml", extra)
    config.write_text(config.read_text().replace("weight_limit = 2400", "weight_limit = 120"))
    with running_gateway(config, "--speed", "60", "--start", START) as running:
        yield running


def test_rate_limits_timeouts_secrets_and_sigterm(limited: Gateway) -> None:
    ex = client(limited)
    with pytest.raises(ccxt.RequestTimeout, match="execution status unknown"):
        ex.create_order(SYMBOL, "limit", "buy", 0.002, 60000, {"clientOrderId": "lost-1"})
    found = ex.fetch_order(None, SYMBOL, {"origClientOrderId": "lost-1"})
    assert found["status"] == "open"  # accepted although the client saw a timeout
    with pytest.raises(ccxt.DDoSProtection, match="Too many requests"):
        for _ in range(10):
            ex.fetch_tickers()  # weight 40 each, 120 a minute
    request = urllib.request.Request(limited.url + "/fapi/v1/ticker/24hr")
    with pytest.raises(urllib.error.HTTPError, match="429") as refused:
        urllib.request.urlopen(request, timeout=5)
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 60
    assert int(refused.value.headers["X-MBX-USED-WEIGHT-1M"]) > 80

    async def stop_while_streaming() -> int:
        url = limited.ws + "/public/ws/1"
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
            subscribe = {"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": 7}
            await ws.send_str(json.dumps(subscribe))
            assert json.loads(await ws.receive_str()) == {"result": None, "id": 7}
            return await asyncio.to_thread(limited.stop)  # SIGTERM with a socket open

    assert asyncio.run(stop_while_streaming()) == 0
    output = "".join(limited.output)
    assert SECRET not in output
    assert KEY not in output


@pytest.fixture
def crash(tmp_path: Path) -> Iterator[Gateway]:
    """One XRP account with 1,000 USDT through the 2025-10-10 21:00 crash, at 600x."""
    config = write_config(tmp_path / "crash.toml")
    text = config.read_text().replace("BTCUSDT", "XRPUSDT").replace("BTC/USDT", "XRP/USDT")
    config.write_text(text.replace('USDT = "10000"', 'USDT = "1000"').replace("= 10 }", "= 5 }"))
    with running_gateway(config, "--speed", "600", "--start", "2025-10-10T21:00:00Z") as running:
        yield running


def test_the_venue_liquidates_at_the_liquidation_price_it_reported(crash: Gateway) -> None:
    xrp = "XRP/USDT:USDT"
    ex = client(crash)
    key = ex.fapiPrivatePostListenKey()["listenKey"]

    async def liquidation() -> dict[str, object]:
        async with aiohttp.ClientSession() as session:
            url = f"{crash.ws}/private/ws?listenKey={key}"
            async with session.ws_connect(url) as ws:
                last = Decimal(str(ex.fetch_ticker(xrp)["last"]))
                quantity = (Decimal(4500) / last).quantize(Decimal("0.1"), ROUND_DOWN)
                await asyncio.to_thread(ex.create_order, xrp, "market", "buy", float(quantity))
                risk = ex.fapiPrivateV3GetPositionRisk({"symbol": "XRPUSDT"})[0]
                wallet = ex.fapiPrivateV3GetAccount()["totalWalletBalance"]
                async for message in ws:
                    event = json.loads(message.data)
                    if event["e"] == "ORDER_TRADE_UPDATE" and event["o"]["o"] == "LIQUIDATION":
                        return {"risk": risk, "wallet": wallet, "fill": event["o"]}
        raise AssertionError("the stream closed before a liquidation")

    seen = asyncio.run(asyncio.wait_for(liquidation(), 30))
    risk, fill = seen["risk"], seen["fill"]
    size, entry = Decimal(risk["positionAmt"]), Decimal(risk["entryPrice"])
    wallet = Decimal(seen["wallet"])
    snapshot = AccountSnapshot(
        balances={"USDT": wallet},
        positions=(PositionSnapshot(xrp, size, entry, Decimal(risk["markPrice"]), Decimal(5)),),
    )
    reported = Decimal(risk["liquidationPrice"])
    assert reported == BinanceUsdmCross().liquidation_price(snapshot, xrp)
    assert (fill["x"], fill["X"], fill["S"]) == ("CALCULATED", "FILLED", "SELL")
    assert fill["c"].startswith("autoclose-")
    # the venue closes at the solved price rounded the adverse way to the mark's 1e-8 grid
    at = reported.quantize(Decimal("1e-8"), ROUND_DOWN)
    assert (Decimal(fill["z"]), Decimal(fill["ap"])) == (size, at)
    assert ex.fetch_positions([xrp]) == []
    trades = ex.fetch_my_trades(xrp)
    assert (trades[-1]["price"], trades[-1]["amount"]) == (float(at), float(size))
    clear = ex.fapiPrivateGetIncome({"incomeType": "INSURANCE_CLEAR"})
    assert Decimal(clear[0]["income"]) == -(size * at * Decimal("0.005"))
    pnl = ex.fapiPrivateGetIncome({"incomeType": "REALIZED_PNL"})
    assert Decimal(pnl[-1]["income"]) == size * (at - entry)


@pytest.fixture
def faulty(tmp_path: Path) -> Iterator[Gateway]:
    extra = "\n[gateway.faults]\nseed = 3\nerror_share = 0.5\nws_drop_share = 1\n"
    config = write_config(tmp_path / "faulty.toml", extra)
    with running_gateway(config, "--speed", "600", "--start", START) as running:
        yield running


def test_injected_server_errors_follow_the_seed_and_websockets_drop(faulty: Gateway) -> None:
    ex = ccxt.binanceusdm({"enableRateLimit": False})
    point_at_gateway(ex, faulty.url, faulty.ws)
    outcomes = []
    for _ in range(20):
        try:
            ex.fapiPublicGetTime()
            outcomes.append(False)
        except ccxt.OperationFailed as failed:
            assert "An unknown error occurred" in str(failed)
            outcomes.append(True)
    draws = random.Random(3)
    assert outcomes == [draws.random() < 0.5 for _ in range(20)]

    for attempt in range(10):  # each attempt is the next draw: failures are retried
        try:
            ex.load_markets()
            break
        except ccxt.OperationFailed:
            assert attempt < 9

    async def watch() -> None:
        exchange = ccxtpro.binanceusdm()
        point_at_gateway(exchange, faulty.url, faulty.ws)
        exchange.set_markets(ex.markets, ex.currencies)
        try:
            await asyncio.wait_for(exchange.watch_trades(SYMBOL), 15)
        finally:
            await exchange.close()

    with pytest.raises(ccxt.NetworkError, match="closed"):
        asyncio.run(watch())
