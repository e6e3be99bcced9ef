"""The gateway's aiohttp server: one catch-all REST handler (weights, faults, auth, routing,
Binance error JSON) and the websocket routes, on one asyncio loop with the paced runtime."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from xmargin.gateway import errors
from xmargin.gateway.auth import credential_for, signed_params
from xmargin.gateway.faults import FaultInjector
from xmargin.gateway.service import GatewayService
from xmargin.gateway.usdm_rest import KEY, ORDER_ENDPOINTS, PUBLIC, ROUTES
from xmargin.gateway.weights import OrderCounter, WeightBudget, weight_of

LOG = logging.getLogger("xmargin.gateway")
TICK_S = 0.02
SERVICE = web.AppKey("service", GatewayService)


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=_default)


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"not JSON: {type(value).__name__}")


class RestFront:
    """Every REST request: faults, weight, authentication, the handler, the error JSON."""

    def __init__(self, service: GatewayService, faults: FaultInjector) -> None:
        self.service = service
        self.faults = faults
        self.budget = WeightBudget(service.settings.weight_limit)
        settings = service.settings
        self.orders = OrderCounter(settings.order_limit_10s, settings.order_limit_1m)

    async def handle(self, request: web.Request) -> web.Response:
        now = wall_ms()
        client = request.remote or ""
        headers: dict[str, str] = {}
        try:
            if self.faults.latency_s:  # the request reaches the venue this much later
                await asyncio.sleep(self.faults.latency_s)
                now = wall_ms()
            if self.faults.in_storm(now):
                raise self.budget.refusal(now)
            key = (request.method, request.path)
            route = ROUTES.get(key)
            if route is None:
                raise errors.path_not_found(request.method, request.path)
            body = await request.text() if request.method in ("POST", "PUT") else ""
            query = request.query_string
            plain = dict(parse_qsl("&".join(p for p in (query, body) if p), keep_blank_values=True))
            used = self.budget.spend(client, weight_of(*key, plain), now)
            headers["X-MBX-USED-WEIGHT-1M"] = str(used)
            account = ""
            params = plain
            if route.security != PUBLIC:
                credential = credential_for(request.headers, self.service.keys)
                account = credential.account
                if route.security != KEY:
                    params = signed_params(query + body, credential, now)
            if self.faults.server_error():
                raise errors.unknown_error()
            if key in ORDER_ENDPOINTS:
                last_10s, last_1m = self.orders.count(account, now)
                headers["X-MBX-ORDER-COUNT-10S"] = str(last_10s)
                headers["X-MBX-ORDER-COUNT-1M"] = str(last_1m)
            self.service.runtime.catch_up()
            result = route.handler(self.service, account, params)
            if key in ORDER_ENDPOINTS and self.faults.order_timeout():
                await asyncio.sleep(self.faults.timeout_hold_s)
                raise errors.backend_timeout()
            return web.Response(
                text=_dumps(result), content_type="application/json", headers=headers
            )
        except errors.BinanceError as error:
            headers["X-MBX-USED-WEIGHT-1M"] = str(self.budget.used(client, now))
            if error.retry_after is not None:
                headers["Retry-After"] = str(error.retry_after)
            return web.Response(
                text=_dumps(error.body()),
                status=error.status,
                content_type="application/json",
                headers=headers,
            )
        except Exception as exc:
            LOG.error(
                "internal error on %s %s: %s: %s",
                request.method,
                request.path,
                type(exc).__name__,
                exc,
            )
            failure = errors.unknown_error()
            return web.Response(
                text=_dumps(failure.body()),
                status=500,
                content_type="application/json",
                headers=headers,
            )


def build_app(
    service: GatewayService,
    faults: FaultInjector,
    extra_routes: Callable[[web.Application], object] | None = None,
) -> web.Application:
    app = web.Application()
    app[SERVICE] = service
    if extra_routes is not None:
        extra_routes(app)
    front = RestFront(service, faults)
    app.router.add_route("*", "/{tail:.*}", front.handle)
    return app


async def _tick(service: GatewayService) -> None:
    """Keep the venue stepping with the data clock while no request arrives."""
    runtime = service.runtime
    ended = False
    while True:
        try:
            service.expire_listen_keys(wall_ms())
            runtime.catch_up()
        except Exception as exc:
            LOG.error("stepping failed: %s: %s", type(exc).__name__, exc)
            raise
        if runtime.finished and not ended:
            ended = True
            LOG.warning(
                "the data ends at %s: prices no longer move; orders still trade at the last prices",
                runtime.last_data_iso(),
            )
        await asyncio.sleep(TICK_S)


async def serve(
    app: web.Application, host: str, port: int, announce: Callable[[str], None]
) -> None:
    """Serve until SIGTERM or SIGINT; announce the base URL once listening."""
    service = app[SERVICE]
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=5)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0]
    shown = f"[{bound[0]}]" if ":" in str(bound[0]) else bound[0]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    ticker = asyncio.create_task(_tick(service))
    announce(f"http://{shown}:{bound[1]}")
    done, _ = await asyncio.wait(
        [ticker, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED
    )
    ticker.cancel()
    await runner.cleanup()
    if ticker in done and ticker.exception() is not None:
        raise SystemExit(f"xmargin gateway: stopped: {ticker.exception()}")
