"""Tiered (bracket) margin tables and the file format they load from.

File format (CSV, optionally gzip-compressed, one row per tier; the ccxt
``fetch_leverage_tiers`` layout flattened, as in Binance's published brackets)::

    symbol,tier,currency,min_notional,max_notional,maint_margin_rate,max_leverage,maint_amount_cum

``maint_amount_cum`` (Binance ``cum``, Hyperliquid's deduction) may be left empty and is
then derived as ``cum(n) = cum(n-1) + min_notional(n) × (mmr(n) − mmr(n-1))``. Tiers of a
symbol must be contiguous and start at 0; a given ``cum`` must agree with the recurrence.
Maintenance margin of a notional ``N`` in tier ``n`` is ``N × mmr(n) − cum(n)``.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Protocol, runtime_checkable

from xmargin.core.errors import ConfigError, DataError
from xmargin.model.numbers import NumberError, parse_decimal

COLUMNS = (
    "symbol",
    "tier",
    "currency",
    "min_notional",
    "max_notional",
    "maint_margin_rate",
    "max_leverage",
    "maint_amount_cum",
)
_CUM_TOLERANCE = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class Tier:
    """One bracket: notional in ``[floor, cap)``, maintenance rate, cum amount, max leverage."""

    floor: Decimal
    cap: Decimal
    mmr: Decimal
    cum: Decimal
    max_leverage: Decimal

    def maintenance(self, notional: Decimal) -> Decimal:
        return notional * self.mmr - self.cum


@dataclass(frozen=True, slots=True)
class TierTable:
    """The brackets of one symbol, lowest first."""

    symbol: str
    tiers: tuple[Tier, ...]

    def tier_for(self, notional: Decimal) -> Tier:
        """Return the tier with ``floor ≤ notional < cap``; the top tier also takes all above."""
        for tier in self.tiers:
            if notional < tier.cap:
                return tier
        return self.tiers[-1]

    def maintenance(self, notional: Decimal) -> Decimal:
        return self.tier_for(notional).maintenance(notional)

    def max_leverage(self, notional: Decimal) -> Decimal:
        return self.tier_for(notional).max_leverage

    @classmethod
    def from_brackets(
        cls, symbol: str, rows: Iterable[tuple[Decimal, Decimal, Decimal, Decimal]]
    ) -> TierTable:
        """Build from ``(floor, cap, mmr, max_leverage)`` rows, deriving each cum."""
        tiers: list[Tier] = []
        for floor, cap, mmr, leverage in rows:
            cum = tiers[-1].cum + floor * (mmr - tiers[-1].mmr) if tiers else Decimal(0)
            tiers.append(Tier(floor, cap, mmr, cum, leverage))
        return cls(symbol, tuple(tiers))

    @classmethod
    def from_leverage_steps(
        cls, symbol: str, steps: Iterable[tuple[Decimal, Decimal]]
    ) -> TierTable:
        """Build Hyperliquid-style tiers from ``(lower_bound, max_leverage)`` steps.

        Each step's maintenance rate is ``1 / (2 × max_leverage)``; the deduction follows
        the same recurrence as Binance's cum. The top tier has no cap.
        """
        ordered = sorted(steps)
        caps = [bound for bound, _ in ordered[1:]] + [Decimal("Infinity")]
        rows = [
            (bound, cap, 1 / (2 * leverage), leverage)
            for (bound, leverage), cap in zip(ordered, caps, strict=True)
        ]
        return cls.from_brackets(symbol, rows)


@runtime_checkable
class TieredModel(Protocol):
    """A margin model whose per-instrument tier tables cap the leverage by notional."""

    def table(self, instrument: str) -> TierTable: ...


def leverage_above_tier(
    table: TierTable, leverage: Decimal, quote: str, notional: Decimal | None = None
) -> str | None:
    """Say why ``leverage`` is above the maximum of ``notional``'s tier; None when it is not.

    Without a notional the limit is the highest any position of the instrument may use.
    """
    if notional is None:
        tier = max(table.tiers, key=lambda t: t.max_leverage)
    else:
        tier = table.tier_for(notional)
    if leverage <= tier.max_leverage:
        return None
    number = table.tiers.index(tier) + 1
    span = (
        f"notional {tier.floor} {quote} and above"
        if tier is table.tiers[-1]
        else f"notional {tier.floor} to {tier.cap} {quote}"
    )
    whose = (
        f"the most any {table.symbol} position may use (tier {number}, {span})"
        if notional is None
        else f"the maximum of {table.symbol} tier {number} ({span}) for this position's "
        f"notional {notional} {quote}"
    )
    return f"{leverage} — expected at most {tier.max_leverage}, {whose}"


def tier_table(tiers: Mapping[str, TierTable], instrument: str, what: str) -> TierTable:
    """Return ``instrument``'s table; an unknown instrument names what is missing and the fix."""
    try:
        return tiers[instrument]
    except KeyError:
        raise ConfigError(
            f"unknown instrument {instrument} (no {what}; give params.tiers_file)"
        ) from None


def load_tier_file(path: str | Path) -> dict[str, TierTable]:
    """Load every symbol's tiers from a tier CSV (``.csv`` or ``.csv.gz``); see the module doc."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read tier file: {exc.strerror}", source=str(path)) from None
    return parse_tier_csv(raw, source=str(path))


def load_packaged_tiers(name: str) -> dict[str, TierTable]:
    """Load one of the small default tier tables shipped inside the package."""
    raw = resources.files("xmargin.margin.data").joinpath(name).read_bytes()
    return parse_tier_csv(raw, source=f"xmargin/margin/data/{name}")


def parse_tier_csv(raw: bytes, *, source: str) -> dict[str, TierTable]:
    """Parse tier CSV bytes (gzip detected by magic number) into tables keyed by symbol."""
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DataError(f"corrupt gzip data: {exc}", source=source) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DataError("not UTF-8 text", source=source) from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c != "maint_amount_cum" and c not in (reader.fieldnames or [])]
    if missing:
        raise DataError(f"missing column(s) {', '.join(missing)}", source=source, row=1)
    grouped: dict[str, list[tuple[int, Tier]]] = {}
    for row_number, row in enumerate(reader, start=2):
        symbol = (row.get("symbol") or "").strip()
        if not symbol:
            raise DataError("empty symbol", source=source, row=row_number, field="symbol")
        tier = _parse_tier_row(row, source, row_number, grouped.get(symbol))
        grouped.setdefault(symbol, []).append((row_number, tier))
    if not grouped:
        raise DataError("no tiers in file", source=source)
    return {
        symbol: TierTable(symbol, tuple(t for _, t in rows)) for symbol, rows in grouped.items()
    }


def _number(row: Mapping[str, str | None], name: str, source: str, row_number: int) -> Decimal:
    try:
        return parse_decimal(row.get(name) or "")
    except NumberError as exc:
        raise DataError(str(exc), source=source, row=row_number, field=name) from None


def _parse_tier_row(
    row: Mapping[str, str | None],
    source: str,
    row_number: int,
    previous: list[tuple[int, Tier]] | None,
) -> Tier:
    floor = _number(row, "min_notional", source, row_number)
    cap = _number(row, "max_notional", source, row_number)
    mmr = _number(row, "maint_margin_rate", source, row_number)
    leverage = _number(row, "max_leverage", source, row_number)

    def fail(message: str, field: str) -> DataError:
        return DataError(message, source=source, row=row_number, field=field)

    if not 0 < mmr <= 1:
        raise fail(f"must be in (0, 1], got {mmr}", "maint_margin_rate")
    if leverage <= 0:
        raise fail(f"must be positive, got {leverage}", "max_leverage")
    if cap <= floor:
        raise fail(f"must exceed min_notional {floor}, got {cap}", "max_notional")
    last = previous[-1][1] if previous else None
    expected_floor = last.cap if last else Decimal(0)
    if floor != expected_floor:
        raise fail(
            f"tiers must be contiguous: expected {expected_floor}, got {floor}", "min_notional"
        )
    derived = last.cum + floor * (mmr - last.mmr) if last else Decimal(0)
    given = (row.get("maint_amount_cum") or "").strip()
    cum = _number(row, "maint_amount_cum", source, row_number) if given else derived
    if abs(cum - derived) > _CUM_TOLERANCE * max(Decimal(1), abs(derived)):
        raise fail(f"{cum} disagrees with the tier recurrence ({derived})", "maint_amount_cum")
    return Tier(floor, cap, mmr, cum, leverage)
