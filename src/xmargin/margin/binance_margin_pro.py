"""Binance Cross Margin Pro liability brackets: tiered maintenance and initial margin per asset.

Each borrowed asset's liability value ``liab = (principal + interest) × price`` falls in a
bracket ``(floor, mmr, imr, maintenance_amount)``. Maintenance margin is
``liab × mmr − maintenance_amount`` of the bracket it falls in; initial margin is summed
over bracket slices, ``Σ slice × imr``. Amounts follow the recurrence
``amount(n) = amount(n−1) + floor(n) × (mmr(n) − mmr(n−1))``, which keeps maintenance
continuous across brackets (and equal to the slice sum of ``mmr``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from xmargin.core.errors import ConfigError
from xmargin.model.numbers import ZERO, NumberError, parse_decimal

BRACKET_KEYS = ("floor", "mmr", "imr", "maintenance_amount")


@dataclass(frozen=True, slots=True)
class LiabilityBracket:
    """One Pro bracket: liability value from ``floor`` up to the next bracket's floor."""

    floor: Decimal
    mmr: Decimal
    imr: Decimal
    maintenance_amount: Decimal


@dataclass(frozen=True, slots=True)
class LiabilityBrackets:
    """The Pro brackets of one asset, lowest first, the first at floor 0."""

    asset: str
    brackets: tuple[LiabilityBracket, ...]

    def bracket_for(self, liability: Decimal) -> LiabilityBracket:
        """Return the highest bracket whose floor is at or below ``liability``."""
        found = self.brackets[0]
        for bracket in self.brackets:
            if liability >= bracket.floor:
                found = bracket
        return found

    def maintenance(self, liability: Decimal) -> Decimal:
        """Return ``MM_a = liab × mmr − maintenance_amount`` (0 without a liability)."""
        if liability <= 0:
            return ZERO
        bracket = self.bracket_for(liability)
        return liability * bracket.mmr - bracket.maintenance_amount

    def initial(self, liability: Decimal) -> Decimal:
        """Return ``IM_a``: each slice of ``liability`` within a bracket times its imr."""
        total = ZERO
        caps = [b.floor for b in self.brackets[1:]] + [Decimal("Infinity")]
        for bracket, cap in zip(self.brackets, caps, strict=True):
            if liability <= bracket.floor:
                break
            total += (min(liability, cap) - bracket.floor) * bracket.imr
        return total


def build_brackets(
    asset: str, rows: Iterable[Mapping[str, object]], where: str
) -> LiabilityBrackets:
    """Validate ``{floor, mmr, imr[, maintenance_amount]}`` rows into an asset's brackets.

    A missing ``maintenance_amount`` is derived by the recurrence; a given one must agree
    with it. ``where`` names the source in error messages.
    """
    brackets: list[LiabilityBracket] = []
    for index, row in enumerate(rows):
        here = f"{where}.{asset}[{index}]"
        if not isinstance(row, Mapping):
            raise ConfigError(f"must be a table of {', '.join(BRACKET_KEYS)}", where=here)
        unknown = sorted(set(map(str, row)) - set(BRACKET_KEYS))
        if unknown:
            raise ConfigError(f"unknown key(s): {', '.join(unknown)}", where=here)
        floor = _number(row, "floor", here)
        mmr = _number(row, "mmr", here)
        imr = _number(row, "imr", here)
        previous = brackets[-1] if brackets else None
        expected_floor = None if previous else ZERO
        if expected_floor is not None and floor != expected_floor:
            raise ConfigError(f"the first bracket must start at 0, got {floor}", where=here)
        if previous is not None and floor <= previous.floor:
            raise ConfigError(f"floors must increase: {floor} after {previous.floor}", where=here)
        if not 0 < mmr <= imr <= 1:
            raise ConfigError(f"need 0 < mmr ≤ imr ≤ 1, got mmr {mmr}, imr {imr}", where=here)
        derived = previous.maintenance_amount + floor * (mmr - previous.mmr) if previous else ZERO
        amount = (
            _number(row, "maintenance_amount", here) if "maintenance_amount" in row else derived
        )
        if amount != derived:
            raise ConfigError(
                f"maintenance_amount {amount} disagrees with the bracket recurrence ({derived})",
                where=here,
            )
        brackets.append(LiabilityBracket(floor, mmr, imr, amount))
    if not brackets:
        raise ConfigError("needs at least one bracket", where=f"{where}.{asset}")
    return LiabilityBrackets(asset, tuple(brackets))


def _number(row: Mapping[str, object], key: str, where: str) -> Decimal:
    if key not in row:
        raise ConfigError("missing", where=f"{where}.{key}")
    raw = row[key]
    if isinstance(raw, float):
        raw = repr(raw)
    try:
        return parse_decimal(raw, what=key)
    except NumberError as exc:
        raise ConfigError(str(exc), where=f"{where}.{key}") from None
