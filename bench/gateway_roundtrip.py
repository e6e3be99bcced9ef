"""How many orders per second can one ccxt client place and cancel through the gateway?

One unmodified sync ``ccxt.binanceusdm`` client (URLs rewritten, client-side throttling off)
places a limit buy at half the market and cancels it, N times, against ``xmargin gateway``
running as a subprocess on 127.0.0.1 (the example config on the pack's BTC data, data clock
at 1x). Per request it records the loopback round trip. References measured in the same run:
``GET /fapi/v1/ping`` through the same client and server (the HTTP, ccxt and routing cost
alone), the same ping on a bare keep-alive ``http.client`` connection, and the in-process
cost of the gateway's own order entry (``usdm_orders.place_order`` + ``cancel_order``).

    uv run python bench/gateway_roundtrip.py [--orders N] [--json]
"""

from __future__ import annotations

import argparse
import decimal
import http.client
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import ccxt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.gateway_process import (  # noqa: E402
    KEY,
    SECRET,
    point_at_gateway,
    running_gateway,
    write_config,
)

from xmargin.backtest.sources import load_sources  # noqa: E402
from xmargin.data.pack import find_pack  # noqa: E402
from xmargin.gateway import usdm_orders  # noqa: E402
from xmargin.gateway.runtime import GatewayRuntime  # noqa: E402
from xmargin.gateway.service import GatewayService  # noqa: E402
from xmargin.gateway.settings import load_gateway_config  # noqa: E402

SYMBOL = "BTC/USDT:USDT"
START = "2025-10-10T12:00:00Z"


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 3),
    }


def timed(call, *args, **kwargs) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    call(*args, **kwargs)
    return time.perf_counter() - started


def bare_ping(connection: http.client.HTTPConnection) -> None:
    connection.request("GET", "/fapi/v1/ping")
    connection.getresponse().read()


def over_the_wire(config: Path, orders: int) -> dict[str, object]:
    with running_gateway(config, "--speed", "1", "--start", START) as gateway:
        ex = ccxt.binanceusdm({"apiKey": KEY, "secret": SECRET, "enableRateLimit": False})
        point_at_gateway(ex, gateway.url, gateway.ws)
        ex.load_markets()
        price = float(Decimal(str(ex.fetch_ticker(SYMBOL)["last"])) / 2)
        price = float(ex.price_to_precision(SYMBOL, price))
        places, cancels = [], []
        started = time.perf_counter()
        for _ in range(orders):
            t0 = time.perf_counter()
            order = ex.create_order(SYMBOL, "limit", "buy", 0.002, price)
            t1 = time.perf_counter()
            ex.cancel_order(order["id"], SYMBOL)
            places.append(t1 - t0)
            cancels.append(time.perf_counter() - t1)
        elapsed = time.perf_counter() - started
        pings = [timed(ex.fapiPublicGetPing) for _ in range(orders)]
        address = urlsplit(gateway.url)
        connection = http.client.HTTPConnection(address.hostname or "", address.port)
        bare = [timed(bare_ping, connection) for _ in range(orders)]
        connection.close()
        exit_status = gateway.stop()
    return {
        "orders": orders,
        "orders_per_s": round(orders / elapsed, 1),
        "place": percentiles(places),
        "cancel": percentiles(cancels),
        "ccxt_ping": percentiles(pings),
        "bare_http_ping": percentiles(bare),
        "gateway_exit_status": exit_status,
    }


def in_process(config: Path, orders: int) -> dict[str, object]:
    """The gateway's order entry without HTTP: parse, check, submit, cancel."""
    environ = {"XMARGIN_GATEWAY_KEY": KEY, "XMARGIN_GATEWAY_SECRET": SECRET}
    run, settings = load_gateway_config(config, environ)
    sources = load_sources(run, data_dir=find_pack(ROOT))
    start_ms = int(datetime.fromisoformat(START.replace("Z", "+00:00")).timestamp() * 1000)
    runtime = GatewayRuntime(run, sources, settings.venue, start_ms=start_ms, speed=1.0)
    service = GatewayService(runtime, settings)
    account = settings.credentials[0].account
    last = runtime.venue.markets[SYMBOL].last_exact()
    price = str((last / 2).quantize(Decimal("0.1")))
    params = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "quantity": "0.002",
        "price": price,
        "timeInForce": "GTC",
    }
    started = time.perf_counter()
    for _ in range(orders):
        placed = usdm_orders.place_order(service, account, params)
        usdm_orders.cancel_order(
            service, account, {"symbol": "BTCUSDT", "orderId": str(placed["orderId"])}
        )
    elapsed = time.perf_counter() - started
    return {
        "orders_per_s": round(orders / elapsed, 1),
        "per_order_us": round(elapsed / orders * 1e6, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        # the limits are lifted: the benchmark measures the gateway, not Binance's quotas
        unlimited = "order_limit_10s = 10000000\norder_limit_1m = 10000000\n"
        config = write_config(Path(tmp) / "bench.toml", unlimited)
        config.write_text(
            config.read_text().replace("weight_limit = 2400", "weight_limit = 10000000")
        )
        with decimal.localcontext():  # ccxt sets the thread's decimal rounding: keep ours
            wire = over_the_wire(config, args.orders)
        local = in_process(config, args.orders)
    result = {"wire": wire, "in_process": local}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{args.orders} limit orders placed and canceled by one sync ccxt client")
    print(f"  through the gateway: {wire['orders_per_s']} orders/s (place + cancel)")
    for name in ("place", "cancel", "ccxt_ping", "bare_http_ping"):
        figures = wire[name]
        print(f"  {name:15s} p50 {figures['p50_ms']:7.3f} ms   p99 {figures['p99_ms']:7.3f} ms")
    print(
        f"  reference, in process (no HTTP): {local['orders_per_s']} orders/s, "
        f"{local['per_order_us']} µs per place + cancel"
    )


if __name__ == "__main__":
    main()
