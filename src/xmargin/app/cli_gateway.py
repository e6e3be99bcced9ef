"""``xmargin gateway``: serve the simulated venue over Binance USDⓈ-M's REST and websockets.

It loads the config and its data, steps to ``--start``, prints ``gateway ready: <base URL>``
on stdout once it listens, and runs until SIGTERM or SIGINT (exit 0). Credentials come from
the environment variables the config names; they are never printed or logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from pathlib import Path

import click

from xmargin.core.errors import ConfigError

READY = "gateway ready: "


def _start_ms(raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"must be an ISO date or time such as 2025-10-10T12:00:00Z, got {raw!r}",
            where="--start",
        ) from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


@click.command("gateway")
@click.argument("config_file", type=click.Path(dir_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port",
    default=0,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to bind (0: any free port; the ready line names it).",
)
@click.option(
    "--speed",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Data seconds per wall-clock second.",
)
@click.option(
    "--start",
    "start",
    metavar="ISO-TIME",
    help="Where the data clock starts (default: the run's start or the first bar).",
)
@click.option(
    "--data-dir", type=click.Path(file_okay=False), help="Where relative data paths point."
)
def gateway_command(
    config_file: str, host: str, port: int, speed: float, start: str | None, data_dir: str | None
) -> None:
    """Serve CONFIG_FILE's accounts over Binance USDⓈ-M REST and websockets."""
    from xmargin.backtest.sources import load_sources  # noqa: PLC0415
    from xmargin.gateway.app import build_app, serve  # noqa: PLC0415
    from xmargin.gateway.faults import FaultInjector  # noqa: PLC0415
    from xmargin.gateway.runtime import GatewayRuntime  # noqa: PLC0415
    from xmargin.gateway.service import GatewayService  # noqa: PLC0415
    from xmargin.gateway.settings import load_gateway_config  # noqa: PLC0415
    from xmargin.gateway.usdm_stream import add_stream_routes  # noqa: PLC0415

    start_ms = _start_ms(start)
    config, settings = load_gateway_config(config_file)
    sources = load_sources(config, data_dir=Path(data_dir) if data_dir else None)
    runtime = GatewayRuntime(config, sources, settings.venue, start_ms=start_ms, speed=speed)
    service = GatewayService(runtime, settings)
    faults = FaultInjector(settings.faults, time.time_ns() // 1_000_000)
    app = build_app(service, faults, lambda a: add_stream_routes(a, service, faults))
    logging.basicConfig(level=logging.WARNING, format="xmargin gateway: %(message)s")

    def announce(url: str) -> None:
        click.echo(READY + url)

    try:
        asyncio.run(serve(app, host, port, announce))
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror}", where="--port"
        ) from None
