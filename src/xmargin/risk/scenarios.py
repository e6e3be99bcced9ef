"""Built-in stress scenarios, ``--shock`` text and scenario files.

Built-in scenarios (``builtin_scenarios``; anchors from spec Appendix S and the data pack):

- ``crash_20`` / ``crash_40`` / ``rally_20``: every non-stablecoin asset −20 % / −40 % / +20 %.
- ``usdc_svb_2023``: USDC at 0.87 (SVB, 2023-03-11: aggregated low ≈0.877, single venues
  0.81–0.86; KuCoin USDC/USDT 1m low 0.86213 at 07:13 UTC in the pack).
- ``ust_collapse_2022``: UST along 0.985 (05-07), 0.65 (05-09), 0.30 (05-11), 0.13 (05-13),
  0.10 (05-16) — spec anchors, matching the pack's DefiLlama daily series (0.129 on 05-13,
  0.108–0.112 on 05-15/16) — with the Terra asset LUNA (and LUNC, its later name) at
  −5 %, −60 %, −98 %, −99.999 %, −99.9998 % of its price (≈0 by 05-13). Assets the account
  does not hold are skipped. The worst anchor for the account is reported.
- ``fdusd_2025_04_02``: FDUSD at 0.8726, the real low of Binance FDUSD/USDT on 2025-04-02
  15:50 UTC (data pack, 5m).
- ``usdt_2022``: USDT at 0.95 (2022-05-12 low, 0.941–0.948 by venue).
- ``funding_spike``: ``funding_periods`` (default 3) payments of the venue's 8-hour funding
  cap on every perpetual, each charged as a loss.
- ``liquidity_haircut``: closing everything costs ``closing_cost_bps`` (default 50) bps.
- ``liquidation_cascade``: ``crash_20`` with liquidation orders moving prices by
  ``impact_bps_per_million`` (default 10) bps per 1M of notional, until stable.

``--shock`` text: ``ASSET=PRICE`` (a positive price in the account's quote currency) or
``ASSET=-20%`` / ``ASSET=+15%`` (a change); ``*`` for every non-stablecoin asset.

Scenario file (TOML; every key optional but one of ``shocks``/``path``/``funding``/
``closing_cost_bps``/``cascade``)::

    name = "btc_flash_crash"            # default: the file name
    description = "BTC −30 %, alts −40 %, USDC wobbles"
    closing_cost_bps = 25                # liquidity haircut on closing
    [shocks]                             # ASSET = "PRICE" | "±N%"  (numbers are prices)
    "*" = "-40%"
    BTC = "-30%"
    USDC = "0.97"
    [funding]
    periods = 3                          # funding payments
    rate = "0.003"                       # per payment; default the venue's 8-hour cap
    [cascade]                            # liquidation orders move prices
    bps_per_million = 10                 # or impact_lambda = 1 with [cascade.daily_volume]
    max_move = "0.9"
    max_rounds = 50
    [[path]]                             # instead of [shocks]: anchors, worst one reported
    label = "day 1"
    shocks = { UST = "0.65" }
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from xmargin.core.errors import ConfigError
from xmargin.model.documents import read_document
from xmargin.model.numbers import NumberError, parse_decimal, parse_positive, shown_value
from xmargin.risk.stress import ALL_ASSETS, FundingSpike, Scenario, Shock, ShockKind, Step
from xmargin.risk.stress_liquidation import CascadeModel

DEFAULT_CLOSING_COST_BPS = Decimal(50)
DEFAULT_IMPACT_BPS_PER_MILLION = Decimal(10)
MAX_COUNT = 10_000
DEFAULT_FUNDING_PERIODS = 3
SCENARIO_KEYS = frozenset(
    {"name", "description", "shocks", "path", "funding", "closing_cost_bps", "cascade"}
)
CASCADE_KEYS = frozenset(
    {"bps_per_million", "impact_lambda", "daily_volume", "max_move", "max_rounds"}
)
FDUSD_2025_04_02_LOW = Decimal("0.8726")
_UST_PATH = (
    ("2022-05-07", "0.985", "-0.05"),
    ("2022-05-09", "0.65", "-0.60"),
    ("2022-05-11", "0.30", "-0.98"),
    ("2022-05-13", "0.13", "-0.99999"),
    ("2022-05-16", "0.10", "-0.999998"),
)
TERRA_ASSETS = ("LUNA", "LUNC")


def _price(asset: str, value: str) -> Shock:
    return Shock(asset, ShockKind.PRICE, Decimal(value))


def _change(asset: str, value: str) -> Shock:
    return Shock(asset, ShockKind.CHANGE, Decimal(value))


def builtin_scenarios(
    *,
    closing_cost_bps: Decimal = DEFAULT_CLOSING_COST_BPS,
    impact_bps_per_million: Decimal = DEFAULT_IMPACT_BPS_PER_MILLION,
    funding_periods: int = DEFAULT_FUNDING_PERIODS,
) -> dict[str, Scenario]:
    """Return the named scenarios (see the module doc), configured as given."""
    crash = (_change(ALL_ASSETS, "-0.2"),)
    ust_path = tuple(
        Step(
            day,
            (_price("UST", ust), _price("USTC", ust), *(_change(a, luna) for a in TERRA_ASSETS)),
        )
        for day, ust, luna in _UST_PATH
    )
    scenarios = [
        Scenario("crash_20", crash, "every non-stablecoin asset -20%"),
        Scenario("crash_40", (_change(ALL_ASSETS, "-0.4"),), "every non-stablecoin asset -40%"),
        Scenario("rally_20", (_change(ALL_ASSETS, "0.2"),), "every non-stablecoin asset +20%"),
        Scenario("usdc_svb_2023", (_price("USDC", "0.87"),), "USDC at 0.87 (SVB, 2023-03-11)"),
        Scenario(
            "ust_collapse_2022",
            description="UST 0.985 → 0.10 and LUNA → ≈0 (Terra, May 2022); worst anchor",
            path=ust_path,
        ),
        Scenario(
            "fdusd_2025_04_02",
            (Shock("FDUSD", ShockKind.PRICE, FDUSD_2025_04_02_LOW),),
            "FDUSD at 0.8726 (Binance low, 2025-04-02 15:50 UTC)",
        ),
        Scenario("usdt_2022", (_price("USDT", "0.95"),), "USDT at 0.95 (2022-05-12)"),
        Scenario(
            "funding_spike",
            description=f"{funding_periods} funding payments at the venue's 8h cap, as a loss",
            funding=FundingSpike(funding_periods),
        ),
        Scenario(
            "liquidity_haircut",
            description=f"closing every position costs {closing_cost_bps.normalize():f} bps",
            closing_cost_bps=closing_cost_bps,
        ),
        Scenario(
            "liquidation_cascade",
            crash,
            f"crash_20, liquidations move prices {impact_bps_per_million.normalize():f} bps"
            " per 1M notional until stable",
            cascade=CascadeModel(bps_per_million=impact_bps_per_million),
        ),
    ]
    return {scenario.name: scenario for scenario in scenarios}


def parse_shock(text: str, *, where: str | None = None) -> Shock:
    """Parse ``ASSET=PRICE`` or ``ASSET=±N%``; errors name ``where`` (default the text)."""
    where = where or f"--shock {text}"
    asset, separator, value = text.partition("=")
    asset = asset.strip().upper()
    if not separator or not asset or not value.strip():
        raise ConfigError("expected ASSET=PRICE or ASSET=-20%", where=where)
    if asset != ALL_ASSETS and not asset.isalnum():
        raise ConfigError(f"not an asset code: {asset!r}", where=where)
    return shock_value(asset, value.strip(), where=where)


def shock_value(asset: str, value: object, *, where: str) -> Shock:
    """Build a shock from a price (number or text) or a ``±N%`` text."""
    try:
        if isinstance(value, str) and value.endswith("%"):
            change = parse_decimal(value[:-1], what="percentage") / 100
            if change <= -1:
                raise ConfigError(f"a change must be above -100%, got {value}", where=where)
            return Shock(asset, ShockKind.CHANGE, change)
        return Shock(asset, ShockKind.PRICE, parse_positive(value, what="price"))
    except NumberError as exc:
        hint = ""
        if isinstance(value, str) and value.lstrip().startswith("-") and "%" not in value:
            hint = f' (for a change write "{value.strip()}%")'
        raise ConfigError(f"{exc}{hint}", where=where) from None


def resolve_scenario(spec: str, builtins: Mapping[str, Scenario]) -> Scenario:
    """Return the built-in scenario called ``spec``, else load ``spec`` as a scenario file."""
    if spec in builtins:
        return builtins[spec]
    path = Path(spec)
    if path.suffix.lower() == ".toml" or path.exists():
        return load_scenario_file(path)
    raise ConfigError(
        f"unknown scenario {spec!r} (built-in: {', '.join(builtins)}; or a .toml file)",
        where="--scenario",
    )


def load_scenario_file(path: str | Path) -> Scenario:
    """Load a scenario file (format in the module doc); mistakes name the file and field."""
    path = Path(path)
    source = str(path)
    document = read_document(path, toml_only=True)
    _check_keys(document, SCENARIO_KEYS, source)
    if "shocks" in document and "path" in document:
        raise ConfigError("give either shocks or path, not both", where=f"{source}: path")
    if not set(document) - {"name", "description"}:
        raise ConfigError(
            "nothing to stress: give shocks, path, funding, closing_cost_bps or cascade",
            where=source,
        )
    name = _text(document, "name", source, default=path.stem)
    return Scenario(
        name=name,
        shocks=_shocks(document.get("shocks", {}), f"{source}: shocks"),
        description=_text(document, "description", source, default=""),
        path=_path(document.get("path", []), f"{source}: path"),
        funding=_funding(document["funding"], source) if "funding" in document else None,
        closing_cost_bps=(
            _number(document["closing_cost_bps"], f"{source}: closing_cost_bps", minimum=True)
            if "closing_cost_bps" in document
            else None
        ),
        cascade=_cascade(document["cascade"], source) if "cascade" in document else None,
    )


def _check_keys(table: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(
            f"unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})",
            where=where,
        )


def _text(document: Mapping[str, Any], key: str, source: str, *, default: str) -> str:
    value = document.get(key, default)
    if not isinstance(value, str) or (key == "name" and not value.strip()):
        raise ConfigError(f"must be text, got {value!r}", where=f"{source}: {key}")
    return value


def _table(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"must be a table, got {value!r}", where=where)
    return value


def _shocks(raw: object, where: str) -> tuple[Shock, ...]:
    table = _table(raw, where)
    shocks = []
    for asset, value in table.items():
        here = f"{where}.{asset}"
        code = str(asset).upper()
        if code != ALL_ASSETS and not code.isalnum():
            raise ConfigError(f"not an asset code: {asset!r}", where=here)
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            raise ConfigError(f'must be a price or a "±N%" text, got {value!r}', where=here)
        shocks.append(shock_value(code, value, where=here))
    return tuple(shocks)


def _path(raw: object, where: str) -> tuple[Step, ...]:
    if not isinstance(raw, list):
        raise ConfigError("must be a list of [[path]] tables", where=where)
    steps = []
    for index, item in enumerate(raw):
        here = f"{where}[{index}]"
        table = _table(item, here)
        _check_keys(table, frozenset({"label", "shocks"}), here)
        label = table.get("label", f"step {index + 1}")
        if not isinstance(label, str):
            raise ConfigError(f"must be text, got {label!r}", where=f"{here}.label")
        if "shocks" not in table:
            raise ConfigError("missing", where=f"{here}.shocks")
        steps.append(Step(label, _shocks(table["shocks"], f"{here}.shocks")))
    return tuple(steps)


def _number(value: object, where: str, *, minimum: bool = False) -> Decimal:
    try:
        number = parse_decimal(value)
    except NumberError as exc:
        raise ConfigError(str(exc), where=where) from None
    if minimum and number < 0:
        raise ConfigError(f"must not be negative, got {value!r}", where=where)
    return number


def _count(value: object, where: str) -> int:
    """A whole number of periods or rounds, from 1 to :data:`MAX_COUNT`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_COUNT:
        raise ConfigError(
            f"{shown_value(value)} — expected a whole number from 1 to {MAX_COUNT}", where=where
        )
    return value


def _funding(raw: object, source: str) -> FundingSpike:
    where = f"{source}: funding"
    table = _table(raw, where)
    _check_keys(table, frozenset({"periods", "rate"}), where)
    periods = _count(table.get("periods", 1), f"{where}.periods")
    rate = None
    if "rate" in table:
        rate = _number(table["rate"], f"{where}.rate", minimum=True)
    return FundingSpike(periods, rate)


def _cascade(raw: object, source: str) -> CascadeModel:
    where = f"{source}: cascade"
    table = _table(raw, where)
    _check_keys(table, CASCADE_KEYS, where)
    volumes = {
        str(asset).upper(): _number(v, f"{where}.daily_volume.{asset}", minimum=True)
        for asset, v in _table(table.get("daily_volume", {}), f"{where}.daily_volume").items()
    }
    if any(v == 0 for v in volumes.values()):
        raise ConfigError("volumes must be positive", where=f"{where}.daily_volume")
    impact_lambda = None
    if "impact_lambda" in table:
        impact_lambda = _number(table["impact_lambda"], f"{where}.impact_lambda", minimum=True)
    bps = DEFAULT_IMPACT_BPS_PER_MILLION
    if "bps_per_million" in table:
        if impact_lambda is not None:
            raise ConfigError("give bps_per_million or impact_lambda, not both", where=where)
        bps = _number(table["bps_per_million"], f"{where}.bps_per_million", minimum=True)
    max_move = _number(table.get("max_move", "0.9"), f"{where}.max_move", minimum=True)
    if not 0 < max_move < 1:
        raise ConfigError(f"must be in (0, 1), got {max_move}", where=f"{where}.max_move")
    rounds = _count(table.get("max_rounds", 50), f"{where}.max_rounds")
    return CascadeModel(
        bps_per_million=None if impact_lambda is not None else bps,
        impact_lambda=impact_lambda,
        daily_volume=volumes,
        max_move=max_move,
        max_rounds=rounds,
    )
