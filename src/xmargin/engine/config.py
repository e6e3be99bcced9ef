"""The run configuration (TOML): venues and accounts, instruments, data, strategies, seed.

Everything is validated before anything runs; an unknown key or a bad value is one
``ConfigError`` naming the file and the field. See ``docs/run-config.md`` for the format.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from xmargin.core.errors import ConfigError
from xmargin.data.series import timeframe_ms
from xmargin.engine.borrow_rates import check_borrow_rates, lendable_assets
from xmargin.margin.base import CrossMarginModel
from xmargin.margin.params import ParamReader
from xmargin.margin.registry import build_model
from xmargin.margin.tiers import TieredModel, leverage_above_tier
from xmargin.model.documents import read_document
from xmargin.model.instruments import Instrument, parse_symbol
from xmargin.model.numbers import ZERO, shown_value
from xmargin.model.orders import TriggerSource
from xmargin.risk.desk import RISK_STRATEGY
from xmargin.risk.settings import RiskSettings, parse_risk
from xmargin.venues.sim.config import (
    FILL_AT_CLOSE,
    FILL_AT_NEXT_OPEN,
    FundingSchedule,
    SimVenueConfig,
)
from xmargin.venues.sim.costs import FeeSchedule, Slippage
from xmargin.venues.sim.latency import Latency

DATA_KINDS = ("ohlcv", "mark", "index", "funding", "trades", "quotes")
INDEX_NOT_SUPPORTED = (
    'kind = "index" is not supported: no simulated venue derives its mark from an index '
    '(docs/decisions/0006-index-data.md); give the mark price as kind = "mark", or remove the table'
)
FIRST_HOUR_INTEREST_MODELS = frozenset({"binance_cross_margin"})
MAX_SEED = 2**32 - 1
MAX_FEE_RATE = Decimal("0.1")
MAX_BPS = Decimal(10_000)
MAX_LATENCY_MS = Decimal(86_400_000)
MAX_FUNDING_HOURS = 24
ISO_EXPECTED = 'expected an ISO date or time (UTC) such as "2025-01-01" or "2025-01-01T08:00:00Z"'
MAX_BALANCE = Decimal(10**15)
MAX_DURATION_MS = 7 * 86_400_000


@dataclass(frozen=True)
class AccountConfig:
    id: str
    balances: dict[str, Decimal]
    leverage: dict[str, Decimal]
    model: CrossMarginModel


@dataclass(frozen=True)
class VenueConfig:
    id: str
    sim: SimVenueConfig
    accounts: tuple[AccountConfig, ...]
    default_rate_set: bool = False


@dataclass(frozen=True)
class DataConfig:
    venue: str
    symbol: str
    kind: str
    timeframe: str | None
    path: Path | None
    repair: bool
    where: str


@dataclass(frozen=True)
class StrategyConfig:
    id: str
    strategy: str
    account: str
    params: dict[str, Any]
    where: str


@dataclass(frozen=True)
class RunConfig:
    path: Path
    seed: int
    start_ms: int | None
    end_ms: int | None
    data_dir: Path | None
    catalog: Path | None
    margin_curve_ms: int
    venues: tuple[VenueConfig, ...]
    instruments: dict[tuple[str, str], Instrument]
    data: tuple[DataConfig, ...]
    strategies: tuple[StrategyConfig, ...]
    name: str = ""
    description: str = ""
    accounts: dict[str, str] = field(default_factory=dict)
    risk: RiskSettings = field(default_factory=RiskSettings)
    reporting_currency: str = "USDT"


def load_run_config(path: str | Path) -> RunConfig:
    """Read and validate a run configuration file."""
    path = Path(path)
    return parse_run_config(read_document(path, toml_only=True), path)


def parse_run_config(document: dict[str, Any], path: Path) -> RunConfig:
    source = str(path)
    top = ParamReader(document, source, top_level=True)
    seed = top.integer("seed", 0, minimum=0, maximum=MAX_SEED)
    name = str(top.take("name", ""))
    description = str(top.take("description", ""))
    run = ParamReader(top.table("run"), f"{source}: run")
    start_ms = _instant(run, "start")
    end_ms = _instant(run, "end")
    if start_ms is not None and end_ms is not None and end_ms <= start_ms:
        raise ConfigError("must be after run.start", where=f"{source}: run.end")
    data_dir = _path(run, "data_dir", path.parent)
    catalog = _path(run, "catalog", path.parent)
    margin_curve_ms = _duration_ms(run, "margin_curve", "1h")
    reporting = run.take("reporting_currency", "")
    if reporting != "" and not (
        isinstance(reporting, str) and reporting.isalnum() and reporting.isupper()
    ):
        raise run.fail(
            "reporting_currency", f"must be an asset code such as USDT, got {reporting!r}"
        )
    run.finish()
    venues = tuple(
        _venue(item, f"{source}: venues[{i}]", path.parent)
        for i, item in enumerate(_list(top, "venues"))
    )
    if not venues:
        raise ConfigError("at least one [[venues]] table is required", where=source)
    _unique([v.id for v in venues], f"{source}: venues", "venue id")
    accounts = {a.id: v.id for v in venues for a in v.accounts}
    data = tuple(
        _data(item, f"{source}: data[{i}]", accounts, venues)
        for i, item in enumerate(_list(top, "data"))
    )
    _unique_data(data)
    instruments = _instruments(_list(top, "instruments"), data, source, venues)
    _check_borrow_rates(venues, instruments, source)
    strategies = tuple(
        _strategy(item, f"{source}: strategies[{i}]", accounts)
        for i, item in enumerate(_list(top, "strategies"))
    )
    _unique([s.id for s in strategies], f"{source}: strategies", "strategy id")
    risk = parse_risk(top.table("risk"), f"{source}: risk")
    top.finish()
    venues, strategies = _fence_sub_accounts(risk, venues, strategies, f"{source}: risk.fences")
    accounts = {a.id: v.id for v in venues for a in v.accounts}
    return RunConfig(
        path,
        seed,
        start_ms,
        end_ms,
        data_dir,
        catalog,
        margin_curve_ms,
        venues,
        instruments,
        data,
        strategies,
        name,
        description,
        accounts,
        risk,
        reporting or venues[0].accounts[0].model.quote,
    )


def _list(reader: ParamReader, key: str) -> list[dict[str, Any]]:
    raw = reader.take(key, [])
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise reader.fail(key, "must be an array of tables ([[...]])")
    return raw


def _unique(ids: list[str], where: str, what: str) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise ConfigError(f"duplicate {what} {item!r}", where=where)
        seen.add(item)


def _unique_data(data: tuple[DataConfig, ...]) -> None:
    """One [[data]] table per venue, symbol, kind and timeframe: a second would shadow it."""
    first: dict[tuple[str, str, str, str | None], str] = {}
    for item in data:
        key = (item.venue, item.symbol, item.kind, item.timeframe)
        if key in first:
            raise ConfigError(
                f"repeats {first[key].rpartition(': ')[2]} (same venue, symbol, kind and "
                "timeframe): keep one",
                where=item.where,
            )
        first[key] = item.where


def _instant(reader: ParamReader, key: str) -> int | None:
    raw = reader.take(key)
    if raw is None:
        return None
    if isinstance(raw, datetime):
        moment = raw if raw.tzinfo else raw.replace(tzinfo=UTC)
    elif isinstance(raw, date):
        moment = datetime(raw.year, raw.month, raw.day, tzinfo=UTC)
    elif isinstance(raw, str):
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise reader.fail(key, f"{shown_value(raw)} — {ISO_EXPECTED}") from None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    else:
        raise reader.fail(key, f"{shown_value(raw)} — {ISO_EXPECTED}")
    return int(moment.timestamp() * 1000)


def _duration_ms(reader: ParamReader, key: str, default: str) -> int:
    raw = reader.text(key, default)
    try:
        duration = timeframe_ms(raw)
    except (ConfigError, ValueError):
        duration = 0
    if not 0 < duration <= MAX_DURATION_MS:
        raise reader.fail(key, f"{raw!r} — expected a duration from 1m to 1w such as 5m, 1h or 1d")
    return duration


def _path(reader: ParamReader, key: str, base: Path) -> Path | None:
    raw = reader.take(key)
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw:
        raise reader.fail(key, f"must be a path, got {raw!r}")
    path = Path(raw).expanduser()
    return path if path.is_absolute() else (base / path)


def _venue(raw: dict[str, Any], where: str, base: Path) -> VenueConfig:
    reader = ParamReader(raw, where)
    venue_id = reader.text("id", "")
    model_id = reader.text("model", "")
    params = reader.table("params")
    if "taker_fee_rate" in params:
        raise reader.fail("params.taker_fee_rate", "set the venue's fees.taker instead")
    fees_raw = ParamReader(reader.table("fees"), f"{where}.fees")
    fees = FeeSchedule(
        maker=fees_raw.decimal(
            "maker", Decimal("0.0002"), minimum=Decimal("-0.01"), maximum=MAX_FEE_RATE
        ),
        taker=fees_raw.decimal("taker", Decimal("0.0005"), minimum=ZERO, maximum=MAX_FEE_RATE),
    )
    fees_raw.finish()
    sim = SimVenueConfig(
        venue_id=venue_id,
        fees=fees,
        slippage=_slippage(ParamReader(reader.table("slippage"), f"{where}.slippage")),
        latency=_latency(ParamReader(reader.table("latency"), f"{where}.latency")),
        fill_at=reader.choice("fill_at", FILL_AT_CLOSE, (FILL_AT_CLOSE, FILL_AT_NEXT_OPEN)),
        stop_trigger=TriggerSource(reader.choice("stop_trigger", "last", ("last", "mark"))),
        funding=_funding(ParamReader(reader.table("funding"), f"{where}.funding")),
        interest_rates=reader.decimal_map("interest_rates", minimum=ZERO),
        default_interest_rate=_optional_rate(reader, "default_interest_rate"),
        borrow_limits=reader.decimal_map("borrow_limits", strictly_positive=True),
        first_hour_interest=reader.boolean(
            "first_hour_interest", model_id in FIRST_HOUR_INTEREST_MODELS
        ),
        interest_minute=reader.integer(
            "interest_minute", 5 if model_id == "bybit_uta_cross" else 0, minimum=0, maximum=59
        ),
        auto_borrow=reader.boolean("auto_borrow", False),
    )
    accounts_raw = _list(reader, "accounts")
    reader.finish()
    if not accounts_raw:
        raise ConfigError("at least one [[venues.accounts]] table is required", where=where)
    accounts = []
    for i, item in enumerate(accounts_raw):
        account_where = f"{where}.accounts[{i}]"
        model = build_model(
            model_id, {**params, "taker_fee_rate": fees.taker}, source=where, base_dir=base
        )
        acct = ParamReader(item, account_where)
        short_id = acct.text("id", "main")
        balances = acct.decimal_map("balances", minimum=ZERO, maximum=MAX_BALANCE)
        leverage = acct.decimal_map("leverage", strictly_positive=True)
        acct.finish()
        for instrument, value in leverage.items():
            _check_leverage(model, instrument, value, f"{account_where}.leverage.{instrument}")
        for asset in balances:
            if not model.knows_asset(asset):
                raise ConfigError(
                    f"unknown asset {asset!r} for {model_id}",
                    where=f"{account_where}.balances.{asset}",
                )
        accounts.append(AccountConfig(f"{venue_id}.{short_id}", balances, leverage, model))
    _unique([a.id for a in accounts], f"{where}.accounts", "account id")
    default_set = sim.default_interest_rate is not None or "default_hourly_rate" in params
    return VenueConfig(venue_id, sim, tuple(accounts), default_set)


def _optional_rate(reader: ParamReader, key: str) -> Decimal | None:
    raw = reader.take(key)
    if raw is None:
        return None
    return ParamReader({key: raw}, reader.where).decimal(key, ZERO, minimum=ZERO)


def _check_borrow_rates(
    venues: tuple[VenueConfig, ...], instruments: dict[tuple[str, str], Instrument], source: str
) -> None:
    for i, venue in enumerate(venues):
        specs = [spec for (v, _), spec in instruments.items() if v == venue.id]
        for account in venue.accounts:
            assets = lendable_assets(specs, [account.balances])
            check_borrow_rates(
                account.model,
                venue.sim.interest_rates,
                venue.default_rate_set,
                assets,
                f"{source}: venues[{i}]",
            )


def _check_leverage(
    model: CrossMarginModel, instrument: str, leverage: Decimal, where: str
) -> None:
    """A leverage above every tier's maximum for the instrument is refused at start-up."""
    if not isinstance(model, TieredModel) or not model.knows(instrument):
        return
    excess = leverage_above_tier(model.table(instrument), leverage, model.quote)
    if excess is not None:
        raise ConfigError(excess, where=where)


def _slippage(reader: ParamReader) -> Slippage:
    kind = reader.choice("kind", "none", ("none", "fixed_bps", "volume"))
    result = Slippage(
        kind=kind,
        bps=float(reader.decimal("bps", ZERO, minimum=ZERO, maximum=MAX_BPS)),
        participation=float(
            reader.decimal("participation", Decimal(1), strictly_positive=True, maximum=Decimal(1))
        ),
        impact_bps=float(reader.decimal("impact_bps", ZERO, minimum=ZERO, maximum=MAX_BPS)),
    )
    reader.finish()
    return result


def _latency(reader: ParamReader) -> Latency:
    result = Latency(
        order_ms=float(reader.decimal("order_ms", ZERO, minimum=ZERO, maximum=MAX_LATENCY_MS)),
        feed_ms=float(reader.decimal("feed_ms", ZERO, minimum=ZERO, maximum=MAX_LATENCY_MS)),
        jitter_ms=float(reader.decimal("jitter_ms", ZERO, minimum=ZERO, maximum=MAX_LATENCY_MS)),
    )
    reader.finish()
    return result


def _funding(reader: ParamReader) -> FundingSchedule:
    interval = reader.integer("interval_hours", 8, minimum=1, maximum=MAX_FUNDING_HOURS)
    constant = reader.take("constant_rate")
    rate = (
        None
        if constant is None
        else ParamReader({"constant_rate": constant}, reader.where).decimal("constant_rate", ZERO)
    )
    reader.finish()
    return FundingSchedule(interval, rate)


def _data(
    raw: dict[str, Any], where: str, accounts: dict[str, str], venues: tuple[VenueConfig, ...]
) -> DataConfig:
    reader = ParamReader(raw, where)
    venue = reader.text("venue", "")
    if venue not in {v.id for v in venues}:
        raise reader.fail("venue", f"unknown venue {venue!r}")
    symbol = reader.text("symbol", "")
    try:
        parse_symbol(symbol)
    except ValueError as exc:
        raise reader.fail("symbol", str(exc)) from None
    kind = reader.choice("kind", "ohlcv", DATA_KINDS)
    if kind == "index":
        raise reader.fail("kind", INDEX_NOT_SUPPORTED)
    timeframe = reader.take("timeframe")
    if kind in ("ohlcv", "mark") and not isinstance(timeframe, str):
        raise reader.fail("timeframe", f'a {kind} source needs a timeframe such as "5m"')
    if timeframe is not None:
        _duration_ms(ParamReader({"timeframe": timeframe}, where), "timeframe", "5m")
    path = _path(reader, "path", Path("."))
    repair = reader.boolean("repair", False)
    reader.finish()
    return DataConfig(venue, symbol, kind, timeframe, path, repair, where)


def _instruments(
    items: list[dict[str, Any]],
    data: tuple[DataConfig, ...],
    source: str,
    venues: tuple[VenueConfig, ...],
) -> dict[tuple[str, str], Instrument]:
    defaults = _instrument_defaults()
    result: dict[tuple[str, str], Instrument] = {}
    for venue, symbol in sorted({(d.venue, d.symbol) for d in data}):
        result[(venue, symbol)] = parse_symbol(symbol, **defaults.get(symbol, {}))
    venue_ids = {v.id for v in venues}
    given: dict[tuple[str, str], int] = {}
    for i, item in enumerate(items):
        reader = ParamReader(item, f"{source}: instruments[{i}]")
        venue = reader.text("venue", "")
        if venue not in venue_ids:
            raise reader.fail("venue", f"unknown venue {venue!r}")
        symbol = reader.text("symbol", "")
        if (venue, symbol) in given:
            raise reader.fail(
                "symbol",
                f"{symbol!r} on {venue!r} is also instruments[{given[(venue, symbol)]}]: keep one",
            )
        given[(venue, symbol)] = i
        spec: dict[str, Decimal] = dict(defaults.get(symbol, {}))
        for key in (
            "price_increment",
            "size_increment",
            "min_size",
            "min_notional",
            "contract_size",
        ):
            if key in item:
                spec[key] = reader.decimal(
                    key,
                    ZERO,
                    strictly_positive=key not in {"min_size", "min_notional"},
                    minimum=ZERO,
                )
        reader.finish()
        try:
            result[(venue, symbol)] = parse_symbol(symbol, **spec)
        except ValueError as exc:
            raise reader.fail("symbol", str(exc)) from None
    return result


def _instrument_defaults() -> dict[str, dict[str, Decimal]]:
    raw = resources.files("xmargin.engine.data").joinpath("instruments.toml").read_text()
    table = tomllib.loads(raw)
    return {symbol: {k: Decimal(str(v)) for k, v in spec.items()} for symbol, spec in table.items()}


def _strategy(raw: dict[str, Any], where: str, accounts: dict[str, str]) -> StrategyConfig:
    reader = ParamReader(raw, where)
    strategy_id = reader.text("id", "")
    if strategy_id == RISK_STRATEGY:
        raise reader.fail("id", f"{RISK_STRATEGY!r} is reserved for the risk engine's own orders")
    name = reader.text("strategy", "")
    account = reader.text("account", next(iter(accounts), ""))
    if account not in accounts:
        known = ", ".join(accounts)
        raise reader.fail("account", f"unknown account {account!r} (accounts: {known})")
    params = reader.table("params")
    reader.finish()
    return StrategyConfig(strategy_id, name, account, params, where)


def _fence_sub_accounts(
    risk: RiskSettings,
    venues: tuple[VenueConfig, ...],
    strategies: tuple[StrategyConfig, ...],
    where: str,
) -> tuple[tuple[VenueConfig, ...], tuple[StrategyConfig, ...]]:
    """Give each fenced strategy with ``sub_account = true`` its own account.

    The account ``<venue>.<strategy id>`` is funded at the start with the fence's collateral
    (in the account's quote asset), taken from the strategy's configured account; the
    strategy then trades there, alone.
    """
    by_id = {s.id: s for s in strategies}
    for i, fence in enumerate(risk.fences):
        if fence.strategy not in by_id and (strategies or fence.sub_account):
            known = ", ".join(by_id) or "none"
            raise ConfigError(
                f"unknown strategy {fence.strategy!r} (strategies: {known})",
                where=f"{where}[{i}].strategy",
            )
        if not fence.sub_account or fence.collateral is None or fence.strategy not in by_id:
            continue
        strategy = by_id[fence.strategy]
        venue = next(v for v in venues if any(a.id == strategy.account for a in v.accounts))
        parent = next(a for a in venue.accounts if a.id == strategy.account)
        quote = parent.model.quote
        sub_id = f"{venue.id}.{strategy.id}"
        if any(a.id == sub_id for a in venue.accounts):
            raise ConfigError(f"account {sub_id} already exists", where=f"{where}[{i}]")
        held = parent.balances.get(quote, ZERO)
        if held < fence.collateral:
            raise ConfigError(
                f"the collateral {fence.collateral} {quote} is more than {parent.id} holds "
                f"({held})",
                where=f"{where}[{i}].collateral",
            )
        funded = replace(parent, balances={**parent.balances, quote: held - fence.collateral})
        sub = AccountConfig(sub_id, {quote: fence.collateral}, dict(parent.leverage), parent.model)
        accounts = (*(funded if a is parent else a for a in venue.accounts), sub)
        venues = tuple(replace(v, accounts=accounts) if v is venue else v for v in venues)
        by_id[strategy.id] = replace(strategy, account=sub_id)
    return venues, tuple(by_id[s.id] for s in strategies)
