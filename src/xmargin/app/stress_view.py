"""Render stress results: JSON-ready dicts (Decimals as strings) and Rich tables."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

from xmargin.app.covariance import Covariance
from xmargin.app.margin_view import decimal_text
from xmargin.risk.stress import Scenario, ScenarioResult
from xmargin.risk.stress_monte_carlo import MonteCarloResult


def _float_text(value: float) -> str | None:
    return decimal_text(Decimal(repr(float(value))))


def _percent(level: float) -> str:
    return f"{level * 100:g}%"


def scenario_dict(result: ScenarioResult) -> dict[str, Any]:
    """Return the JSON shape of one scenario result."""
    nearest = result.nearest
    return {
        "name": result.name,
        "description": result.description,
        "equity": decimal_text(result.equity),
        "loss": decimal_text(result.loss),
        "margin_ratio": decimal_text(result.margin_ratio),
        "margin_ratio_kind": result.ratio_kind.value,
        "state": result.state.value,
        "liquidated": list(result.liquidated),
        "liquidations": [
            {
                "instrument": f.instrument,
                "quantity": decimal_text(f.quantity),
                "price": decimal_text(f.price),
                "stage": f.stage,
                "round": f.round,
            }
            for f in result.liquidations
        ],
        "liquidation_gap": decimal_text(result.liquidation_gap),
        "nearest_liquidation": None
        if nearest is None
        else {
            "instrument": nearest.instrument,
            "price": decimal_text(nearest.price),
            "liquidation_price": decimal_text(nearest.liquidation_price),
            "distance": decimal_text(nearest.distance),
        },
        "prices": {asset: decimal_text(price) for asset, price in result.prices.items()},
        "charges": {name: decimal_text(value) for name, value in result.charges.items()},
        "equity_before_liquidation": decimal_text(result.shocked_equity),
        "rounds": result.rounds,
        "converged": result.converged,
        "step": result.step or None,
        "path": [
            {
                "label": p.label,
                "equity": decimal_text(p.equity),
                "margin_ratio": decimal_text(p.margin_ratio),
                "state": p.state.value,
            }
            for p in result.path
        ],
        "notes": list(result.notes),
    }


def monte_carlo_dict(
    result: MonteCarloResult,
    covariance: Covariance,
    draws: list[ScenarioResult],
    seed: int,
    seconds: float,
    fixed: Scenario | None,
) -> dict[str, Any]:
    """Return the JSON shape of a Monte Carlo run."""
    volatility = covariance.volatility()
    return {
        "scenarios": int(result.losses.size),
        "seed": seed,
        "fixed_scenario": fixed.name if fixed is not None else None,
        "assets": {
            asset: {
                "daily_volatility": _float_text(volatility[asset]),
                "source": covariance.sources[asset],
            }
            for asset in result.assets
        },
        "covariance_hours": covariance.hours,
        "base_equity": _float_text(result.base_equity),
        "probability_of_liquidation": _float_text(result.probability_of_liquidation),
        "liquidated_scenarios": int(result.liquidated.sum()),
        "var": {_percent(t.level): _float_text(t.value_at_risk) for t in result.tails},
        "expected_shortfall": {
            _percent(t.level): _float_text(t.expected_shortfall) for t in result.tails
        },
        "mean_loss": _float_text(float(result.losses.mean())),
        "convention": "loss = base equity - scenario equity (positive = loss); with losses "
        "sorted largest first and k = ceil((1 - level) * N), VaR is the k-th largest loss "
        "and ES the mean of the k largest",
        "worst": [
            {"index": index, "kernel_loss": _float_text(result.losses[index])} | scenario_dict(draw)
            for index, draw in zip(result.worst, draws, strict=True)
        ],
        "seconds": round(seconds, 6),
    }


def console() -> Console:
    """A console wide enough for the scenario table when output is piped."""
    console = Console()
    return console if console.is_terminal else Console(width=160)


def _money(text: str | None, places: int = 2) -> str:
    if text is None:
        return "—"
    if text in ("Infinity", "-Infinity"):
        return "∞" if text == "Infinity" else "-∞"
    return f"{Decimal(text).quantize(Decimal(1).scaleb(-places)):,}"


def print_stress(console: Console, document: dict[str, Any], results: list[ScenarioResult]) -> None:
    """Print the scenario table, its notes and the Monte Carlo summary."""
    quote = document["quote"]
    title = (
        f"{document['account']} — {document['venue']}, equity {_money(document['equity'])} {quote}"
    )
    console.print(title, style="bold")
    if document["scenarios"]:
        table = Table()
        for column in (
            "scenario",
            f"equity ({quote})",
            "loss",
            "ratio",
            "state",
            "liquidated",
            "gap to liq.",
            "nearest liquidation",
        ):
            table.add_column(
                column, justify="left" if column in ("scenario", "liquidated") else "right"
            )
        for row, result in zip(document["scenarios"], results, strict=True):
            nearest = row["nearest_liquidation"]
            where = "—"
            if nearest is not None:
                distance = Decimal(nearest["distance"]) * 100
                where = f"{nearest['instrument']} {distance:+.2f}%"
            rounds = ""
            if result.rounds:
                rounds = f" ({result.rounds} round{'s' if result.rounds > 1 else ''})"
            table.add_row(
                row["name"],
                _money(row["equity"]),
                _money(row["loss"]),
                _money(row["margin_ratio"], 4),
                row["state"],
                ", ".join(row["liquidated"]) + rounds or "—",
                _money(row["liquidation_gap"]),
                where,
            )
        console.print(table)
        for row in document["scenarios"]:
            for note in row["notes"]:
                console.print(f"  {row['name']}: {note}", style="dim")
    mc = document.get("monte_carlo")
    if mc is not None:
        _print_monte_carlo(console, mc, quote)


def _print_monte_carlo(console: Console, mc: dict[str, Any], quote: str) -> None:
    heading = f"Monte Carlo: {mc['scenarios']:,} scenarios over {mc['horizon']}, seed {mc['seed']}"
    if mc["fixed_scenario"]:
        heading += f", every draw with {mc['fixed_scenario']}"
    console.print(heading, style="bold")
    summary = Table(show_header=False)
    summary.add_column("field", style="dim")
    summary.add_column("value", justify="right")
    vols = ", ".join(
        f"{a} {Decimal(v['daily_volatility']) * 100:.2f}%" for a, v in mc["assets"].items()
    )
    summary.add_row("daily volatility", vols or "—")
    probability = Decimal(mc["probability_of_liquidation"]) * 100
    summary.add_row("probability of liquidation", f"{probability:.2f}%")
    for level, value in mc["var"].items():
        summary.add_row(f"VaR {level} ({quote})", _money(value))
        summary.add_row(f"expected shortfall {level}", _money(mc["expected_shortfall"][level]))
    summary.add_row("kernel time", f"{mc['seconds']:.3f} s")
    console.print(summary)
    if mc["worst"]:
        worst = Table(title="worst draws, re-evaluated exactly")
        for column in ("#", "loss", "equity", "state", "liquidated", "prices"):
            worst.add_column(
                column, justify="right" if column in ("#", "loss", "equity") else "left"
            )
        for row in mc["worst"]:
            prices = ", ".join(f"{a} {_money(p, 4)}" for a, p in row["prices"].items())
            worst.add_row(
                str(row["index"]),
                _money(row["loss"]),
                _money(row["equity"]),
                row["state"],
                ", ".join(row["liquidated"]) or "—",
                prices,
            )
        console.print(worst)
