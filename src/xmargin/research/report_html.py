"""Render a run report as one self-contained HTML page (inline CSS and SVG, no scripts).

The page opens offline: nothing is fetched, no fonts, no JavaScript. Sections, top to
bottom: headline figures, equity, drawdown, margin ratio and leverage over time (with
liquidation and breaker markers), PnL split and monthly returns, per-strategy and
per-instrument tables, risk events, the trade list.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from decimal import Decimal
from html import escape
from typing import Any

from xmargin.research.charts import Frame, Line, bar_chart, time_chart
from xmargin.research.report import RunReport
from xmargin.research.report_style import CSS
from xmargin.research.time_axis import date_range_text, utc

NS_PER_MS = 1_000_000
MAX_TRADES = 5_000
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Models whose headline ratio is maintenance / balance: liquidation when it reaches 100 %.
LIQUIDATES_AT_100 = frozenset({"binance_usdm_cross", "hyperliquid_cross", "bybit_uta_cross"})
PALETTE = ("#7c3aed", "#0891b2", "#db2777", "#65a30d")


def render_html(report: RunReport) -> str:
    """The whole report page."""
    run = report.run
    title = run.name or run.run_id
    body = [
        _header(report),
        _kpis(report),
        _charts(report),
        "<div class='row'>",
        _section("PnL split", _pnl(report), "half"),
        _section("Monthly returns", _monthly(report), "half"),
        "</div>",
        _section(
            "By strategy",
            _table(report.strategies, "strategy", report.quote)
            + "<p class='muted'>funding is paid per position, not per strategy: see the "
            "instrument table.</p>",
        ),
        _section("By instrument", _table(report.instruments, "instrument", report.quote)),
        _section("Risk events", _risk(report)),
        _section(f"Trades ({len(report.trades):,} fills)", _trades(report)),
        f"<footer>xmargin report of run {escape(run.run_id)} · code {escape(run.code_version)}"
        " · exact decimals from the run store; curves are hourly snapshots · "
        "full trade list: <code>xmargin report RUN --format csv</code></footer>",
    ]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{escape(title)} — xmargin report</title><style>{CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )


def _header(report: RunReport) -> str:
    run = report.run
    span = (
        date_range_text(run.data_start_ns // NS_PER_MS, run.data_end_ns // NS_PER_MS)
        if run.data_start_ns is not None and run.data_end_ns is not None
        else "no data range recorded"
    )
    facts = [
        f"run <b>{escape(run.run_id)}</b>",
        f"<span class='badge {escape(run.status)}'>{escape(run.status)}</span>",
        f"config <code>{escape(run.config_path)}</code>",
        f"seed {run.seed}",
        f"started {utc(run.started_ns // NS_PER_MS):%Y-%m-%d %H:%M} UTC",
    ]
    return (
        f"<header><h1>{escape(run.name or run.run_id)}</h1>"
        f"<p class='facts'>{' · '.join(facts)}</p>"
        f"<p class='facts'>data {escape(span)} · code {escape(run.code_version)}</p></header>"
    )


def _kpis(report: RunReport) -> str:
    run, m, quote = report.run, report.metrics, report.quote
    liquidations = sum(1 for x in report.markers if x.kind == "liquidation")
    breakers = sum(1 for x in report.markers if x.kind == "breaker")
    denied = next((e["count"] for e in report.risk_summary if e["type"] == "OrderDenied"), 0)
    cards = [
        ("Final equity", f"{money(run.final_equity)} {quote}", f"from {money(run.start_equity)}"),
        ("Total return", percent(run.total_return), f"CAGR {percent(m.get('cagr'))}"),
        ("Max drawdown", percent(_neg(m.get("max_drawdown"))), _dd_dates(m)),
        (
            "Sharpe / Sortino",
            f"{number(m.get('sharpe'))} / {number(m.get('sortino'))}",
            "daily, ×√365",
        ),
        ("Round trips", f"{m.get('trades', '—')}", f"win rate {percent(m.get('win_rate'))}"),
        ("Fills", f"{report.counts.get('fills', 0):,}", f"orders denied {denied:,}"),
        ("Fees", money(-(report.pnl_split.get("fees") or 0)), quote),
        ("Funding paid", money(-(report.pnl_split.get("funding") or 0)), quote),
        ("Interest paid", money(-(report.pnl_split.get("interest") or 0)), quote),
        (
            "Avg leverage",
            f"{number(m.get('average_leverage'))}×",
            f"exposure {percent(m.get('exposure'))}",
        ),
        ("Liquidations", str(liquidations), "red markers" if liquidations else "none"),
        ("Breakers", str(breakers), "amber markers" if breakers else "none tripped"),
    ]
    alerts = {"Liquidations": liquidations, "Breakers": breakers}
    return (
        "<section class='kpis'>"
        + "".join(
            f"<div class='kpi{' alert' if alerts.get(label) else ''}'>"
            f"<div class='label'>{escape(label)}</div><div class='value'>{escape(value)}</div>"
            f"<div class='sub'>{escape(sub)}</div></div>"
            for label, value, sub in cards
        )
        + "</section>"
    )


def _charts(report: RunReport) -> str:
    quote, markers = report.quote, report.markers
    wide = Frame(height=300)
    short = Frame(height=220)
    times = [t for t, _ in report.equity]
    span = (min(times), max(times)) if times else None
    charts = [
        time_chart(
            f"Equity ({quote})",
            [Line("equity", report.equity, "#2563eb", area=False)],
            axis_label=quote,
            markers=markers,
            frame=wide,
            span=span,
        ),
        time_chart(
            "Drawdown from peak (%)",
            [Line("drawdown", report.drawdown, "#dc2626", area=True)],
            axis_label="%",
            suffix=" %",
            markers=markers,
            frame=short,
            span=span,
        ),
        time_chart(
            "Margin ratio (%, as each venue defines it)",
            [
                Line(account, points, PALETTE[i % len(PALETTE)])
                for i, (account, points) in enumerate(sorted(report.margin.items()))
            ],
            axis_label="%",
            suffix=" %",
            markers=markers,
            frame=short,
            span=span,
            floor=0.0,
            reference=(100.0, "liquidation at 100 %") if _liquidates_at_100(report) else None,
        ),
        time_chart(
            "Leverage (position notional / equity, ×)",
            [Line("leverage", report.leverage, "#0d9488", area=True)],
            axis_label="×",
            suffix="×",
            markers=markers,
            frame=short,
            span=span,
            floor=0.0,
        ),
    ]
    return (
        "<section class='charts'>" + "".join(f"<figure>{c}</figure>" for c in charts) + "</section>"
    )


def _liquidates_at_100(report: RunReport) -> bool:
    try:
        config = tomllib.loads(report.run.config_text)
    except tomllib.TOMLDecodeError:
        return False
    venues = config.get("venues", [])
    models = {v.get("model") for v in venues if isinstance(v, dict)}
    return bool(models) and models <= LIQUIDATES_AT_100


def _pnl(report: RunReport) -> str:
    split = report.pnl_split
    names = {"trading": "Trading", "fees": "Fees", "funding": "Funding", "interest": "Interest",
             "liquidation_fees": "Liquidation fees", "currency": "Currency"}  # fmt: skip
    bars = [(names[k], float(v)) for k, v in split.items() if v is not None]
    chart = bar_chart(f"PnL by source ({report.quote})", bars, value_format=lambda v: f"{v:,.2f}")
    total = sum((v for v in split.values() if v is not None), Decimal(0))
    rows = "".join(
        f"<tr><td>{names[k]}</td><td class='num'>{exact(v)}</td></tr>" for k, v in split.items()
    )
    return (
        f"{chart}<table class='compact'><tr><th>source</th><th class='num'>exact "
        f"({escape(report.quote)})</th></tr>{rows}<tr class='total'><td>equity change</td>"
        f"<td class='num'>{exact(total)}</td></tr></table>"
    )


def _monthly(report: RunReport) -> str:
    if not report.monthly:
        return "<p class='muted'>no equity snapshots</p>"
    years = sorted({m.year for m in report.monthly})
    extent = max(abs(m.value) for m in report.monthly) or 1.0
    cells = {(m.year, m.month): m.value for m in report.monthly}
    head = (
        "<tr><th>year</th>" + "".join(f"<th>{name}</th>" for name in MONTHS) + "<th>year</th></tr>"
    )
    rows = []
    for year in years:
        growth = 1.0
        tds = []
        for month in range(1, 13):
            value = cells.get((year, month))
            if value is None:
                tds.append("<td></td>")
                continue
            growth *= 1 + value
            tds.append(f"<td style='background:{_heat(value, extent)}'>{value * 100:+.1f}</td>")
        rows.append(
            f"<tr><th>{year}</th>{''.join(tds)}<td class='year'>{(growth - 1) * 100:+.1f}</td></tr>"
        )
    return (
        f"<table class='heat'>{head}{''.join(rows)}</table>"
        "<p class='muted'>% return per calendar month (UTC), from month-end equity.</p>"
    )


def _heat(value: float, extent: float) -> str:
    strength = min(abs(value) / extent, 1.0)
    alpha = 0.12 + 0.6 * strength
    return f"rgba(22,163,74,{alpha:.2f})" if value >= 0 else f"rgba(220,38,38,{alpha:.2f})"


def _table(rows: Sequence[dict[str, Any]], key: str, quote: str) -> str:
    if not rows:
        return "<p class='muted'>no fills</p>"
    columns = [c for c in rows[0] if c != key]
    head = (
        f"<tr><th>{key}</th>"
        + "".join(f"<th class='num'>{escape(c.replace('_', ' '))}</th>" for c in columns)
        + "</tr>"
    )
    body = "".join(
        f"<tr><td>{escape(str(row[key]))}</td>"
        + "".join(f"<td class='num'>{_cell(row[c])}</td>" for c in columns)
        + "</tr>"
        for row in rows
    )
    return f"<table>{head}{body}</table><p class='muted'>money in {escape(quote)}.</p>"


def _risk(report: RunReport) -> str:
    if not report.risk_summary:
        return "<p class='muted'>no risk events: no denials, liquidations or breakers</p>"
    summary = "".join(
        f"<tr><td>{escape(e['type'])}</td><td class='num'>{e['count']:,}</td>"
        f"<td>{utc(e['first_ms']):%Y-%m-%d %H:%M}</td>"
        f"<td>{utc(e['last_ms']):%Y-%m-%d %H:%M}</td></tr>"
        for e in report.risk_summary
    )
    marks = "".join(
        f"<li class='{m.kind}'>{utc(m.ts_ms):%Y-%m-%d %H:%M} UTC — {escape(m.label)}</li>"
        for m in report.markers[:200]
    )
    return (
        "<table><tr><th>type</th><th class='num'>count</th><th>first (UTC)</th>"
        f"<th>last (UTC)</th></tr>{summary}</table>"
        + (f"<ul class='markers'>{marks}</ul>" if marks else "")
    )


def _trades(report: RunReport) -> str:
    if not report.trades:
        return "<p class='muted'>no fills</p>"
    shown = report.trades[:MAX_TRADES]
    columns = ("time_utc", "strategy", "instrument", "side", "quantity", "price", "notional",
               "fee", "liquidity", "realized_pnl", "client_order_id")  # fmt: skip
    head = "<tr>" + "".join(f"<th>{c.replace('_', ' ')}</th>" for c in columns) + "</tr>"
    body = "".join(
        "<tr>"
        + "".join(f"<td class='{_align(c)}'>{_cell(t[c], exact_text=True)}</td>" for c in columns)
        + "</tr>"
        for t in shown
    )
    more = (
        f"<p class='muted'>first {MAX_TRADES:,} of {len(report.trades):,} fills shown.</p>"
        if len(report.trades) > MAX_TRADES
        else ""
    )
    return f"<div class='scroll'><table class='trades'>{head}{body}</table></div>{more}"


def _align(column: str) -> str:
    return "num" if column in ("quantity", "price", "notional", "fee", "realized_pnl") else ""


def _cell(value: Any, exact_text: bool = False) -> str:
    if isinstance(value, Decimal):
        return exact(value) if exact_text else money(value)
    if isinstance(value, int):
        return f"{value:,}"
    return escape(str(value))


def _section(title: str, content: str, width: str = "") -> str:
    return f"<section class='block {width}'><h2>{escape(title)}</h2>{content}</section>"


def _dd_dates(metrics: dict[str, Any]) -> str:
    start, end = metrics.get("max_drawdown_start_ms"), metrics.get("max_drawdown_end_ms")
    if not isinstance(start, int) or not isinstance(end, int):
        return "peak to trough"
    return f"{utc(start):%d %b %Y} → {utc(end):%d %b %Y}"


def _neg(value: Any) -> Any:
    return None if value is None else -float(value)


def money(value: Any) -> str:
    """``12,345.67`` (two places) or ``—``."""
    if value is None:
        return "—"
    return f"{Decimal(str(value)).quantize(Decimal('0.01')):,}"


def exact(value: Decimal | None) -> str:
    """The exact decimal, without exponent, grouped by thousands."""
    if value is None:
        return "—"
    text = format(value.normalize(), "f")
    whole, _, fraction = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    grouped = f"{int(whole.lstrip('-') or 0):,}"
    return sign + grouped + (f".{fraction}" if fraction else "")


def percent(value: Any) -> str:
    return "—" if value is None else f"{float(value) * 100:,.2f} %"


def number(value: Any) -> str:
    return "—" if value is None else f"{float(value):,.2f}"
