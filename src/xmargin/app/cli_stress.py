"""``xmargin stress``: stress tests on an account file — shocks, named scenarios, Monte Carlo.

Repeated ``--shock`` flags form one scenario (an unknown asset is an error); every
``--scenario`` is evaluated on its own; without either (and without ``--monte-carlo``) every
built-in scenario runs. ``--monte-carlo N`` draws N correlated lognormal shocks over
``--horizon`` from the data pack's covariance (``app.covariance``), seeded by ``--seed``, and
reports the probability of liquidation, VaR and expected shortfall of the loss at 95 % and
99 % (``risk.stress_monte_carlo`` convention) and the worst draws re-evaluated exactly.
``--json`` prints ``scenarios[]`` (``name``, ``equity``, ``margin_ratio``, ``liquidated``,
``loss``, …) and, with Monte Carlo, ``monte_carlo``; Decimals are strings.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from xmargin.app.account_file import load_account_file
from xmargin.app.covariance import estimate_covariance, find_data_dir
from xmargin.app.margin_view import decimal_text
from xmargin.app.stress_view import console, monte_carlo_dict, print_stress, scenario_dict
from xmargin.core.errors import ConfigError
from xmargin.data.series import MS_PER_HOUR, timeframe_ms
from xmargin.margin.base import CrossMarginModel
from xmargin.margin.snapshot import AccountSnapshot
from xmargin.model.numbers import NumberError, parse_non_negative
from xmargin.risk.scenarios import builtin_scenarios, parse_shock, resolve_scenario
from xmargin.risk.stress import Scenario, ScenarioResult, evaluate, resolve_shocks
from xmargin.risk.stress_kernels import compile_kernel
from xmargin.risk.stress_liquidation import equity_of
from xmargin.risk.stress_monte_carlo import evaluate_draw, monte_carlo

HOURS_PER_DAY = 24
MAX_PATHS = 1_000_000
MAX_HORIZON_HOURS = 366 * HOURS_PER_DAY


@click.command("stress")
@click.argument("account_file", type=click.Path(dir_okay=False))
@click.option(
    "--shock",
    "shocks",
    multiple=True,
    metavar="ASSET=PRICE|ASSET=-20%",
    help="Move an asset (price in the account's quote, or a change; * = every non-stablecoin "
    "asset). Repeated flags form one scenario.",
)
@click.option(
    "--scenario",
    "scenario_specs",
    multiple=True,
    metavar="NAME|FILE",
    help="A built-in scenario (" + ", ".join(builtin_scenarios()) + ") or a scenario TOML file.",
)
@click.option(
    "--monte-carlo",
    "paths",
    type=click.IntRange(min=1, max=MAX_PATHS),
    metavar="N",
    help=f"Run N correlated lognormal scenarios (at most {MAX_PATHS:,}).",
)
@click.option(
    "--horizon", default="1d", show_default=True, help="Monte Carlo horizon (8h, 1d, 1w)."
)
@click.option(
    "--seed",
    type=click.IntRange(min=0, max=2**32 - 1),
    default=1,
    show_default=True,
    help="Monte Carlo seed.",
)
@click.option(
    "--worst",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Worst Monte Carlo draws to re-evaluate exactly.",
)
@click.option(
    "--mc-scenario",
    metavar="NAME|FILE",
    help="Apply this scenario's price shocks "
    "(its last anchor) to every Monte Carlo draw, e.g. a de-peg.",
)
@click.option(
    "--proxy",
    "proxies",
    multiple=True,
    metavar="ASSET=PROXY",
    help="Use PROXY's pack data for an asset without any (e.g. DOGE=BTC).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The data pack (default: $XMARGIN_DATA_DIR, else shared/data above).",
)
@click.option(
    "--closing-cost-bps",
    default="50",
    show_default=True,
    help="Cost of closing, for the built-in liquidity_haircut.",
)
@click.option(
    "--impact-bps-per-million",
    default="10",
    show_default=True,
    help="Price impact per 1M notional, for the built-in liquidation_cascade.",
)
@click.option(
    "--funding-periods",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Capped funding payments, for the built-in funding_spike.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def stress_command(
    account_file: str,
    shocks: tuple[str, ...],
    scenario_specs: tuple[str, ...],
    paths: int | None,
    horizon: str,
    seed: int,
    worst: int,
    mc_scenario: str | None,
    proxies: tuple[str, ...],
    data_dir: Path | None,
    closing_cost_bps: str,
    impact_bps_per_million: str,
    funding_periods: int,
    as_json: bool,
) -> None:
    """Stress an account: price shocks, de-pegs, funding, haircuts, cascades, Monte Carlo."""
    loaded = load_account_file(account_file)
    model, account = loaded.model, loaded.snapshot
    builtins = builtin_scenarios(
        closing_cost_bps=_bps(closing_cost_bps, "--closing-cost-bps"),
        impact_bps_per_million=_bps(impact_bps_per_million, "--impact-bps-per-million"),
        funding_periods=funding_periods,
    )
    hours = _horizon_hours(horizon) if paths else 0.0
    results: list[ScenarioResult] = []
    if shocks:
        scenario = Scenario(" ".join(shocks), tuple(parse_shock(text) for text in shocks))
        results.append(evaluate(model, account, scenario, strict=True, where="--shock"))
    for spec in scenario_specs:
        results.append(evaluate(model, account, resolve_scenario(spec, builtins)))
    if not shocks and not scenario_specs and not paths:
        results += [evaluate(model, account, s) for s in builtins.values()]
    document: dict[str, Any] = {
        "account": loaded.name,
        "venue": model.venue,
        "quote": model.quote,
        "equity": decimal_text(equity_of(model, account)),
        "scenarios": [scenario_dict(r) for r in results],
    }
    if paths:
        fixed = resolve_scenario(mc_scenario, builtins) if mc_scenario else None
        starts = (Path(account_file).parent,)
        document["monte_carlo"] = run_monte_carlo(
            model, account, paths, hours, seed, worst, fixed, proxies, data_dir, starts
        )
        document["monte_carlo"]["horizon"] = horizon
    if as_json:
        click.echo(json.dumps(document, indent=2))
    else:
        print_stress(console(), document, results)


def _bps(text: str, flag: str) -> Decimal:
    try:
        return parse_non_negative(text)
    except NumberError as exc:
        raise ConfigError(str(exc), where=f"{flag} {text}") from None


def _horizon_hours(text: str) -> float:
    try:
        hours = timeframe_ms(text.strip()) / MS_PER_HOUR
    except (ConfigError, ValueError) as exc:
        raise ConfigError(str(exc), where=f"--horizon {text}") from None
    if hours > MAX_HORIZON_HOURS:
        raise ConfigError(
            f"{text!r} — expected a horizon of at most {MAX_HORIZON_HOURS // HOURS_PER_DAY}d",
            where=f"--horizon {text}",
        )
    return hours


def _proxies(texts: tuple[str, ...]) -> dict[str, str]:
    mapping = {}
    for text in texts:
        asset, _, proxy = text.partition("=")
        if not asset.strip().isalnum() or not proxy.strip().isalnum():
            raise ConfigError("expected ASSET=PROXY, e.g. DOGE=BTC", where=f"--proxy {text}")
        mapping[asset.strip().upper()] = proxy.strip().upper()
    return mapping


def run_monte_carlo(
    model: CrossMarginModel,
    account: AccountSnapshot,
    paths: int,
    hours: float,
    seed: int,
    worst: int,
    fixed: Scenario | None,
    proxies: tuple[str, ...],
    data_dir: Path | None,
    starts: tuple[Path, ...],
) -> dict[str, Any]:
    """Estimate the covariance, run the kernel and return the ``monte_carlo`` document."""
    kernel = compile_kernel(model, account)
    covariance = estimate_covariance(
        kernel.assets, find_data_dir(data_dir, starts), proxies=_proxies(proxies)
    )
    moves: dict[str, float] = {}
    if fixed is not None:
        ratios, _ = resolve_shocks(model, account, fixed.steps[-1].shocks)
        moves = {asset: float(n / d) for asset, (n, d) in ratios.items()}
    started = time.perf_counter()
    result = monte_carlo(
        kernel,
        covariance.daily,
        paths,
        horizon_days=hours / HOURS_PER_DAY,
        seed=seed,
        fixed_moves=moves,
        worst=worst,
    )
    seconds = time.perf_counter() - started
    draws = [evaluate_draw(model, account, result, index) for index in result.worst]
    return monte_carlo_dict(result, covariance, draws, seed, seconds, fixed)
