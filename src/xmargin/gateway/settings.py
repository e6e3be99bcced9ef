"""The run config of ``xmargin gateway``: a run config without strategies, plus ``[gateway]``.

``[gateway]`` holds the served accounts and their credentials (the *names* of environment
variables, never the secrets), the request-weight limit and ``[gateway.faults]``. Every
other table is the ordinary run config (``engine.config``); unknown keys are refused.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from xmargin.core.errors import NESTED_TOO_DEEPLY, ConfigError
from xmargin.engine.config import RunConfig, parse_run_config
from xmargin.margin.binance_usdm import BinanceUsdmCross
from xmargin.margin.params import ParamReader
from xmargin.model.numbers import ZERO

NO_STRATEGIES = (
    "a gateway config takes no [[strategies]]: the gateway is the exchange, and bots trade it "
    "over the wire; remove the [[strategies]] tables"
)
DEFAULT_WEIGHT_LIMIT = 2400
DEFAULT_ORDERS_10S, DEFAULT_ORDERS_1M = 300, 1200
MAX_SHARE = Decimal(1)


@dataclass(frozen=True)
class Credential:
    """One API key and the account it trades; the secret never leaves this object."""

    account: str
    api_key: str
    secret: str = field(repr=False)


@dataclass(frozen=True)
class Faults:
    """Injected failures, all drawn from one seeded stream (``faults.py``)."""

    seed: int = 0
    latency_ms: Decimal = ZERO
    error_share: Decimal = ZERO
    order_timeout_share: Decimal = ZERO
    order_timeout_ms: Decimal = Decimal(1000)
    ws_drop_share: Decimal = ZERO
    storm_every_s: Decimal = ZERO
    storm_s: Decimal = ZERO

    @property
    def any(self) -> bool:
        return any(
            value > 0
            for value in (
                self.latency_ms,
                self.error_share,
                self.order_timeout_share,
                self.ws_drop_share,
                self.storm_s,
            )
        )


@dataclass(frozen=True)
class GatewaySettings:
    venue: str
    credentials: tuple[Credential, ...]
    weight_limit: int = DEFAULT_WEIGHT_LIMIT
    faults: Faults = field(default_factory=Faults)
    order_limit_10s: int = DEFAULT_ORDERS_10S
    order_limit_1m: int = DEFAULT_ORDERS_1M

    def by_key(self) -> dict[str, Credential]:
        return {c.api_key: c for c in self.credentials}


def load_gateway_config(
    path: str | Path, environ: Mapping[str, str] | None = None
) -> tuple[RunConfig, GatewaySettings]:
    """Read a gateway config: the run config and its ``[gateway]`` section."""
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except FileNotFoundError:
        raise ConfigError("file not found", where=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"malformed TOML: {exc}", where=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read file: {exc}", where=str(path)) from None
    except RecursionError:
        raise ConfigError(NESTED_TOO_DEEPLY, where=str(path)) from None
    if "strategies" in document:
        raise ConfigError(NO_STRATEGIES, where=f"{path}: strategies")
    section = document.pop("gateway", None)
    if not isinstance(section, dict):
        raise ConfigError(
            "a [gateway] table with [[gateway.accounts]] is required", where=str(path)
        )
    config = parse_run_config(document, path)
    settings = parse_gateway(section, config, f"{path}: gateway", environ or os.environ)
    return config, settings


def parse_gateway(
    raw: dict[str, Any], config: RunConfig, where: str, environ: Mapping[str, str]
) -> GatewaySettings:
    reader = ParamReader(raw, where)
    weight_limit = int(
        reader.decimal("weight_limit", Decimal(DEFAULT_WEIGHT_LIMIT), strictly_positive=True)
    )
    orders_10s = int(
        reader.decimal("order_limit_10s", Decimal(DEFAULT_ORDERS_10S), strictly_positive=True)
    )
    orders_1m = int(
        reader.decimal("order_limit_1m", Decimal(DEFAULT_ORDERS_1M), strictly_positive=True)
    )
    faults = _faults(ParamReader(reader.table("faults"), f"{where}.faults"))
    items = reader.take("accounts", [])
    reader.finish()
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise ConfigError(
            "must be a non-empty array of tables ([[gateway.accounts]])", where=f"{where}.accounts"
        )
    credentials = [
        _credential(item, config, f"{where}.accounts[{i}]", environ) for i, item in enumerate(items)
    ]
    venues = {config.accounts[c.account] for c in credentials}
    if len(venues) > 1:
        raise ConfigError(
            f"the accounts are on several venues ({', '.join(sorted(venues))}); one gateway "
            "serves one venue",
            where=f"{where}.accounts",
        )
    keys = [c.api_key for c in credentials]
    if len(set(keys)) != len(keys):
        raise ConfigError("two accounts share an API key", where=f"{where}.accounts")
    return GatewaySettings(
        venues.pop(), tuple(credentials), weight_limit, faults, orders_10s, orders_1m
    )


def _credential(
    raw: dict[str, Any], config: RunConfig, where: str, environ: Mapping[str, str]
) -> Credential:
    reader = ParamReader(raw, where)
    account = reader.text("account", "")
    key_env = reader.text("api_key_env", "")
    secret_env = reader.text("api_secret_env", "")
    reader.finish()
    if account not in config.accounts:
        known = ", ".join(config.accounts)
        raise reader.fail("account", f"unknown account {account!r} (accounts: {known})")
    venue = next(v for v in config.venues if v.id == config.accounts[account])
    model = next(a.model for a in venue.accounts if a.id == account)
    if not isinstance(model, BinanceUsdmCross):
        raise reader.fail(
            "account",
            f"{account} is a {model.venue} account; the gateway serves binance_usdm_cross accounts",
        )
    if venue.sim.latency.order_ms or venue.sim.latency.jitter_ms:
        raise ConfigError(
            "the gateway answers orders at once: set no order latency on the venue "
            "(inject delays with [gateway.faults] latency_ms)",
            where=f"{where}.account",
        )
    api_key = _from_env(environ, key_env, reader.location("api_key_env"))
    secret = _from_env(environ, secret_env, reader.location("api_secret_env"))
    return Credential(account, api_key, secret)


def _from_env(environ: Mapping[str, str], name: str, where: str) -> str:
    value = environ.get(name, "")
    if not value:
        raise ConfigError(f"environment variable {name} is not set (or empty)", where=where)
    if len(value) > 128 or not value.isprintable() or " " in value:
        raise ConfigError(
            f"environment variable {name} must be 1 to 128 printable characters without spaces",
            where=where,
        )
    return value


def _faults(reader: ParamReader) -> Faults:
    result = Faults(
        seed=int(reader.decimal("seed", ZERO, minimum=ZERO)),
        latency_ms=reader.decimal("latency_ms", ZERO, minimum=ZERO, maximum=Decimal(60_000)),
        error_share=reader.decimal("error_share", ZERO, minimum=ZERO, maximum=MAX_SHARE),
        order_timeout_share=reader.decimal(
            "order_timeout_share", ZERO, minimum=ZERO, maximum=MAX_SHARE
        ),
        order_timeout_ms=reader.decimal(
            "order_timeout_ms", Decimal(1000), minimum=ZERO, maximum=Decimal(60_000)
        ),
        ws_drop_share=reader.decimal("ws_drop_share", ZERO, minimum=ZERO, maximum=MAX_SHARE),
        storm_every_s=reader.decimal("storm_every_s", ZERO, minimum=ZERO),
        storm_s=reader.decimal("storm_s", ZERO, minimum=ZERO),
    )
    reader.finish()
    if result.storm_s and result.storm_s >= result.storm_every_s:
        raise ConfigError("storm_s must be shorter than storm_every_s", where=reader.where)
    return result
