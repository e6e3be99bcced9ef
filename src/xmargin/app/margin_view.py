"""Render margin reports: JSON-ready dicts (Decimals as strings) and Rich tables."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from xmargin.margin.base import MarginReport, MarginState

JSON_PLACES = Decimal("1e-10")
_STATE_STYLE = {
    MarginState.OK: "green",
    MarginState.MARGIN_CALL: "yellow",
    MarginState.LIQUIDATING: "bold red",
    MarginState.AUTO_CLOSE: "bold red",
    MarginState.BACKSTOP: "bold red",
}


def decimal_text(value: Decimal | None) -> str | None:
    """Render exactly enough: rounded to 1e-10, trailing zeros dropped, never in E notation."""
    if value is None:
        return None
    if not value.is_finite():
        return "Infinity" if value > 0 else "-Infinity"
    text = format(value.quantize(JSON_PLACES).normalize(), "f")
    return "0" if text in ("-0", "") else text


def report_dict(report: MarginReport) -> dict[str, Any]:
    """Return the JSON shape of a margin report."""
    return {
        "venue": report.venue,
        "quote": report.quote,
        "equity": decimal_text(report.equity),
        "collateral": decimal_text(report.collateral),
        "initial_margin_required": decimal_text(report.initial_margin_required),
        "maintenance_margin_required": decimal_text(report.maintenance_margin_required),
        "free_collateral": decimal_text(report.free_collateral),
        "margin_ratio": decimal_text(report.margin_ratio),
        "margin_ratio_kind": report.margin_ratio_kind.value,
        "state": report.state.value,
        "positions": [
            {
                "instrument": row.instrument,
                "size": decimal_text(row.size),
                "price": decimal_text(row.price),
                "entry_price": decimal_text(row.entry_price),
                "notional": decimal_text(row.notional),
                "unrealized_pnl": decimal_text(row.unrealized_pnl),
                "initial_margin": decimal_text(row.initial_margin),
                "maintenance_margin": decimal_text(row.maintenance_margin),
                "liquidation_price": decimal_text(row.liquidation_price),
            }
            for row in report.exposures
        ],
        "details": {name: decimal_text(value) for name, value in report.details.items()},
    }


def _money(value: Decimal | None, places: int = 2) -> str:
    if value is None:
        return "—"
    if not value.is_finite():
        return "∞"
    return f"{value.quantize(Decimal(1).scaleb(-places)):,}"


def _ratio(report: MarginReport) -> str:
    ratio = report.margin_ratio
    if ratio is None:
        return (
            "∞ (nothing margined)"
            if report.margin_ratio_kind.higher_is_safer
            else "0 (nothing margined)"
        )
    return _money(ratio, 4)


def report_renderable(report: MarginReport, title: str) -> Group:
    """Return a Rich summary table plus a per-position table."""
    summary = Table(show_header=False, box=None, pad_edge=False)
    summary.add_column("field", style="dim")
    summary.add_column("value", justify="right")
    quote = report.quote
    summary.add_row("venue model", report.venue)
    summary.add_row(f"equity ({quote})", _money(report.equity))
    summary.add_row(f"collateral ({quote})", _money(report.collateral))
    summary.add_row("initial margin required", _money(report.initial_margin_required))
    summary.add_row("maintenance margin required", _money(report.maintenance_margin_required))
    summary.add_row("free collateral", _money(report.free_collateral))
    summary.add_row(report.margin_ratio_kind.value.replace("_", " "), _ratio(report))
    summary.add_row("state", Text(report.state.value, style=_STATE_STYLE[report.state]))
    positions = Table()
    for column in (
        "instrument",
        "size",
        "price",
        "entry",
        "notional",
        "uPnL",
        "IM",
        "MM",
        "liq. price",
    ):
        positions.add_column(column, justify="left" if column == "instrument" else "right")
    for row in report.exposures:
        positions.add_row(
            row.instrument,
            f"{row.size.normalize():f}",
            _money(row.price, 4),
            _money(row.entry_price, 4),
            _money(row.notional),
            _money(row.unrealized_pnl),
            _money(row.initial_margin),
            _money(row.maintenance_margin),
            _money(row.liquidation_price, 4) if row.liquidation_price is not None else "none",
        )
    parts: list[Any] = [Text(title, style="bold"), summary]
    if report.exposures:
        parts.append(positions)
    return Group(*parts)


def print_report(console: Console, report: MarginReport, title: str) -> None:
    console.print(report_renderable(report, title))
