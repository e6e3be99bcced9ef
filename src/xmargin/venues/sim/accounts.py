"""Accounts of the simulated exchange and the cheap watch that decides when to recheck margin."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from xmargin.margin.base import CrossMarginModel, MarginState
from xmargin.margin.ftx import FtxCross, RuleSet
from xmargin.portfolio.ledger import AccountBook
from xmargin.venues.sim.working_orders import WorkingOrders

# Recheck exactly once the estimated liquidation cushion has shrunk to this share of what
# the last exact check found; re-linearising there makes the checks geometric, not per bar.
RECHECK_SHARE = 0.5
SLOPE_STEP = Decimal("1e-6")


class MarginWatch:
    """A linear estimate of an account's liquidation gap in the prices it is exposed to.

    The exact gap is piecewise linear in each price, so between exact checks
    ``gap ≈ gap0 + Σ slope_i × (p_i − p0_i)`` in floats is cheap enough to run on every
    price update; only when the estimate falls below ``RECHECK_SHARE × gap0`` does the
    exchange run the exact model again.
    """

    __slots__ = ("estimate", "gap0", "reference", "slopes", "threshold")

    def __init__(self) -> None:
        self.gap0 = float("inf")
        self.estimate = float("inf")
        self.threshold = float("-inf")
        self.slopes: dict[str, float] = {}
        self.reference: dict[str, float] = {}

    def reset(self, gap: float, slopes: Mapping[str, float], prices: Mapping[str, float]) -> None:
        self.gap0 = gap
        self.estimate = gap
        self.slopes = dict(slopes)
        self.reference = {market: prices[market] for market in slopes}
        self.threshold = gap * RECHECK_SHARE if gap > 0 else float("inf")

    def clear(self) -> None:
        self.reset(float("inf"), {}, {})
        self.threshold = float("-inf")

    def move(self, market: str, price: float) -> float:
        """Move ``market`` to ``price`` and return the new estimate."""
        slope = self.slopes.get(market)
        if slope is not None:
            self.estimate += slope * (price - self.reference[market])
            self.reference[market] = price
        return self.estimate

    def adverse(self, market: str, low: float, high: float) -> tuple[float, float]:
        """Return (the estimate at the worse of ``low``/``high``, that price) for ``market``."""
        slope = self.slopes.get(market)
        if slope is None:
            return self.estimate, low
        price = low if slope > 0 else high
        return self.estimate + slope * (price - self.reference[market]), price

    def needs_check(self, estimate: float) -> bool:
        return estimate <= self.threshold

    def observe(self, market: str, low: float, high: float, close: float) -> float | None:
        """Move ``market`` over an interval ending at ``close``.

        Returns the interval's adverse extreme when the estimate there reaches the recheck
        threshold (the caller checks it exactly), else None; the estimate ends at ``close``.
        """
        slope = self.slopes[market]
        reference = self.reference[market]
        estimate = self.estimate
        extreme = low if slope > 0 else high
        crossed = estimate + slope * (extreme - reference) <= self.threshold
        self.estimate = estimate + slope * (close - reference)
        self.reference[market] = close
        return extreme if crossed else None


class SimAccount:
    """One account (or sub-account) on a simulated venue."""

    __slots__ = (
        "book",
        "converts",
        "grown_ns",
        "id",
        "last_partial_liquidation_ns",
        "leverage",
        "model",
        "state",
        "watch",
        "working",
    )

    def __init__(
        self,
        account_id: str,
        model: CrossMarginModel,
        book: AccountBook,
        leverage: Mapping[str, Decimal] | None = None,
    ) -> None:
        self.id = account_id
        self.model = model
        self.book = book
        self.leverage: dict[str, Decimal] = dict(leverage or {})
        self.state = MarginState.OK
        self.watch = MarginWatch()
        self.working = WorkingOrders()
        self.last_partial_liquidation_ns = -(10**18)
        # market → when a fill last opened or grew the exposure to it (ns)
        self.grown_ns: dict[str, int] = {}
        # whether the venue sells this account's coins for a negative quote balance (FTX's
        # legacy conversion, spec A.6): fixed by the model, so decided once
        self.converts = under_conversion_rule(model)

    @property
    def quote(self) -> str:
        return self.model.quote

    def has_exposure(self) -> bool:
        book = self.book
        if book.loans:
            return True
        if any(p.size for p in book.positions.values()):
            return True
        return any(v < 0 for v in book.balances.values())


def under_conversion_rule(model: CrossMarginModel) -> bool:
    """Whether ``model`` converts a negative quote balance: FTX under the legacy 2020 rules,
    or without spot margin."""
    return isinstance(model, FtxCross) and (
        model.rule_set is RuleSet.LEGACY_2020 or not model.spot_margin_enabled
    )
