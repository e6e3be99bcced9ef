"""Model D, ``hyperliquid_cross``: Hyperliquid perpetuals, cross margin (USDC).

Account value ``AV = B + Σ uPnL``; maintenance ``MM_i = notional × mmr − deduction`` with
``mmr = 1 / (2 × max_leverage)`` of the notional's margin tier. The account is liquidated
when ``AV < MM`` and handed to the liquidator vault (backstop) when ``AV < (2/3) × MM``.

Packaged tiers (``data/hyperliquid_tiers.csv``) are dated examples from the spec (§D.1,
mainnet 2024/25): BTC 0–150M 40x, above 20x; ETH 0–100M 25x, above 15x; SOL and XRP the
"many alts" ladder 0–20M 10x, above 5x. The top tier's cap is written as 1e15 (the file
format needs a finite cap); the top tier extends beyond it. Read live values from the
venue's ``meta`` endpoint for trading.

Choices where the spec is silent:

- User leverage is the position's own, else the per-symbol ``leverage`` table; both are the
  user's setting and ``initial_gap`` turns negative when it exceeds the tier's maximum (the
  venue rejects the order). The default leverage is capped at the tier's maximum instead.
- Resting orders reserve no margin here (the spec's D.5 checks only the new order).
- ``BACKSTOP`` is reported whenever ``AV < backstop_ratio × MM``: a snapshot cannot know
  whether book liquidation already failed to restore ``AV ≥ MM``.
- A position's notional strictly above ``partial_liq_notional`` is liquidated partially.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar

from xmargin.core.errors import ConfigError
from xmargin.margin.base import (
    CrossMarginModel,
    Exposure,
    MarginReport,
    MarginState,
    RatioKind,
)
from xmargin.margin.liquidation_price import solve_price
from xmargin.margin.params import ParamReader
from xmargin.margin.snapshot import AccountSnapshot, PositionSnapshot
from xmargin.margin.tiers import TierTable, load_packaged_tiers, tier_table
from xmargin.model.numbers import ZERO

DEFAULT_LEVERAGE = Decimal(10)
TWO_THIRDS = Decimal(2) / Decimal(3)
PREMIUM_WEIGHTINGS = ("mean", "linear")
_NANOS = Decimal(1_000_000_000)


def default_tiers() -> dict[str, TierTable]:
    """The packaged BTC/ETH/SOL/XRP margin tiers (spec §D.1 dated examples)."""
    return load_packaged_tiers("hyperliquid_tiers.csv")


def premium_sample(impact_bid: Decimal, impact_ask: Decimal, oracle: Decimal) -> Decimal:
    """Return one 5-second premium sample: the impact prices' excursion beyond the oracle."""
    diff = max(impact_bid - oracle, ZERO) - max(oracle - impact_ask, ZERO)
    return diff / oracle


def _clamp(value: Decimal, low: Decimal, high: Decimal) -> Decimal:
    return max(low, min(high, value))


@dataclass(frozen=True)
class HyperliquidCross(CrossMarginModel):
    """Hyperliquid cross margin; see ``shared/spec/margin-models.md`` §D."""

    venue: ClassVar[str] = "hyperliquid_cross"
    ratio_kind: ClassVar[RatioKind] = RatioKind.CROSS_MARGIN_RATIO

    tiers: Mapping[str, TierTable] = field(default_factory=default_tiers)
    leverage: Mapping[str, Decimal] = field(default_factory=dict)
    default_leverage: Decimal = DEFAULT_LEVERAGE
    quote: str = "USDC"
    taker_fee_rate: Decimal = Decimal("0.00045")
    backstop_ratio: Decimal = TWO_THIRDS
    withdraw_floor: Decimal = Decimal("0.10")
    partial_liq_notional: Decimal = Decimal(100_000)
    partial_liq_fraction: Decimal = Decimal("0.20")
    liq_cooldown_seconds: Decimal = Decimal(30)
    impact_notional: Decimal = Decimal(20_000)
    interest_8h: Decimal = Decimal("0.0001")
    premium_clamp: Decimal = Decimal("0.0005")
    funding_cap_hourly: Decimal = Decimal("0.04")
    premium_weighting: str = "mean"  # [assumption] simple mean; "linear" weighs later samples more

    def knows_asset(self, asset: str) -> bool:
        return asset == self.quote

    def knows(self, instrument: str) -> bool:
        return instrument in self.tiers

    def table(self, instrument: str) -> TierTable:
        return tier_table(self.tiers, instrument, "margin tiers")

    def position_leverage(self, position: PositionSnapshot) -> Decimal:
        """Return the user leverage ``L``: the position's, the table's, else the capped default."""
        if position.leverage is not None:
            return position.leverage
        if position.instrument in self.leverage:
            return self.leverage[position.instrument]
        limit = self.table(position.instrument).max_leverage(position.notional)
        return min(self.default_leverage, limit)

    def initial_margin(self, position: PositionSnapshot) -> Decimal:
        return position.notional / self.position_leverage(position)

    def maintenance_margin(self, position: PositionSnapshot) -> Decimal:
        return self.table(position.instrument).maintenance(position.notional)

    def account_value(self, account: AccountSnapshot) -> Decimal:
        """Return ``AV``: the cross balance plus every position's unrealised PnL."""
        upnl = sum((p.unrealized_pnl for p in account.positions), ZERO)
        return account.balance(self.quote) + upnl

    def total_maintenance(self, account: AccountSnapshot) -> Decimal:
        return sum((self.maintenance_margin(p) for p in account.positions), ZERO)

    def withdrawable(self, account: AccountSnapshot) -> Decimal:
        """Return what may be withdrawn: AV above both Σ IM and the notional floor."""
        initial = sum((self.initial_margin(p) for p in account.positions), ZERO)
        floor = self.withdraw_floor * sum((p.notional for p in account.positions), ZERO)
        return max(ZERO, self.account_value(account) - max(initial, floor))

    def liquidation_gap(self, account: AccountSnapshot) -> Decimal:
        return self.account_value(account) - self.total_maintenance(account)

    def backstop_gap(self, account: AccountSnapshot) -> Decimal:
        """Return ``AV − backstop_ratio × MM``: negative once the backstop takes over."""
        return self.account_value(account) - self.backstop_ratio * self.total_maintenance(account)

    def initial_gap(self, account: AccountSnapshot) -> Decimal:
        """Return ``AV − Σ IM``, or the excess notional when ``L`` outgrows its tier."""
        initial = ZERO
        for position in account.positions:
            leverage = self.position_leverage(position)
            limit = self.table(position.instrument).max_leverage(position.notional)
            if leverage > limit:
                return -position.notional * (leverage - limit) / leverage
            initial += position.notional / leverage
        return self.account_value(account) - initial

    def closed_form_liquidation_price(
        self, account: AccountSnapshot, instrument: str
    ) -> Decimal | None:
        """Return ``mark − s × (AV − MM) / |q| / (1 − l × s)``, re-solved in the tier reached.

        Within one tier the gap is linear in the mark, so the spec's formula is exact there;
        when the price lands in another tier it is re-solved with that tier's rate and
        deduction. Returns None when no positive price liquidates the account.
        """
        position = account.position(instrument)
        if position is None or position.size == 0:
            raise ConfigError(f"no open position in {instrument}", where="liquidation price")
        table = self.table(instrument)
        side = Decimal(1) if position.size > 0 else Decimal(-1)
        size = abs(position.size)
        # The gap without this position's mark-dependent terms: AV − q × mark − MM(others).
        rest = (
            self.liquidation_gap(account)
            + self.maintenance_margin(position)
            - position.size * position.mark_price
        )
        tier = table.tier_for(position.notional)
        for _ in range(len(table.tiers) + 1):
            if tier.mmr == side:  # a long at MMR 1: the gap no longer moves with the mark
                break
            price = (rest + tier.cum) / (size * (tier.mmr - side))
            reached = table.tier_for(size * max(price, ZERO))
            if reached == tier:
                return price if price > 0 else None
            tier = reached
        exposure = Exposure(instrument, position.size, position.mark_price)
        return super()._liquidation_price(account, exposure)

    def _liquidation_price(self, account: AccountSnapshot, exposure: Exposure) -> Decimal | None:
        return self.closed_form_liquidation_price(account, exposure.instrument)

    def backstop_price(self, account: AccountSnapshot, instrument: str) -> Decimal | None:
        """Return the mark of ``instrument`` where ``AV = backstop_ratio × MM``, all else fixed."""
        position = account.position(instrument)
        if position is None or position.size == 0:
            raise ConfigError(f"no open position in {instrument}", where="backstop price")
        return solve_price(
            lambda price: self.backstop_gap(account.with_mark(instrument, price)),
            position.mark_price,
        )

    def liquidation_order_quantity(
        self, size: Decimal, mark: Decimal, *, in_cooldown: bool
    ) -> Decimal:
        """Return the signed market order the liquidator sends against a position of ``size``.

        Above ``partial_liq_notional`` only ``partial_liq_fraction`` is sent, unless the
        account is within the cooldown after a partial liquidation, when orders are full.
        """
        if not in_cooldown and abs(size) * mark > self.partial_liq_notional:
            return -size * self.partial_liq_fraction
        return -size

    def in_liquidation_cooldown(self, now_ns: int, last_partial_ns: int | None) -> bool:
        """Return whether ``now_ns`` is within the cooldown after the last partial liquidation."""
        if last_partial_ns is None:
            return False
        return Decimal(now_ns - last_partial_ns) < self.liq_cooldown_seconds * _NANOS

    def average_premium(self, samples: Iterable[Decimal]) -> Decimal:
        """Return the hour's premium ``P`` from its samples (simple mean unless configured)."""
        values = list(samples)
        if not values:
            return ZERO
        if self.premium_weighting == "linear":
            weighted = sum((k * v for k, v in enumerate(values, start=1)), ZERO)
            return weighted / Decimal(len(values) * (len(values) + 1) // 2)
        return sum(values, ZERO) / len(values)

    def funding_rate_8h(self, premium: Decimal) -> Decimal:
        """Return ``F_8h = P + clamp(interest_8h − P, ±premium_clamp)``."""
        return premium + _clamp(self.interest_8h - premium, -self.premium_clamp, self.premium_clamp)

    def hourly_rate(self, premium: Decimal) -> Decimal:
        """Return the hourly funding rate: ``F_8h / 8`` within ``±funding_cap_hourly``."""
        rate = self.funding_rate_8h(premium) / 8
        return _clamp(rate, -self.funding_cap_hourly, self.funding_cap_hourly)

    def assess(self, account: AccountSnapshot) -> MarginReport:
        value = self.account_value(account)
        initial = {p.instrument: self.initial_margin(p) for p in account.positions}
        maintenance = {p.instrument: self.maintenance_margin(p) for p in account.positions}
        total_im = sum(initial.values(), ZERO)
        total_mm = sum(maintenance.values(), ZERO)
        ratio: Decimal | None
        if not account.positions:
            ratio = None
        elif value <= 0:
            ratio = Decimal("Infinity")
        else:
            ratio = total_mm / value
        if not account.positions or value >= total_mm:
            state = MarginState.OK
        elif value < self.backstop_ratio * total_mm:
            state = MarginState.BACKSTOP
        else:
            state = MarginState.LIQUIDATING
        return MarginReport(
            venue=self.venue,
            quote=self.quote,
            equity=value,
            collateral=account.balance(self.quote),
            initial_margin_required=total_im,
            maintenance_margin_required=total_mm,
            free_collateral=value - total_im,
            margin_ratio=ratio,
            margin_ratio_kind=self.ratio_kind,
            state=state,
            exposures=self._exposure_rows(account, initial, maintenance),
            details={
                "account_value": value,
                "cross_balance": account.balance(self.quote),
                "withdrawable": self.withdrawable(account),
                "total_notional": sum((p.notional for p in account.positions), ZERO),
                "backstop_threshold": self.backstop_ratio * total_mm,
            },
        )


def hyperliquid_from_params(reader: ParamReader) -> HyperliquidCross:
    """Build the model from an account file's ``params`` table."""
    default_leverage, per_symbol = reader.decimal_or_map("leverage", DEFAULT_LEVERAGE)
    one = Decimal(1)
    return HyperliquidCross(
        tiers=reader.tiers("tiers_file", default_tiers()),
        leverage=per_symbol,
        default_leverage=default_leverage,
        taker_fee_rate=reader.decimal("taker_fee_rate", Decimal("0.00045"), minimum=ZERO),
        backstop_ratio=reader.decimal(
            "backstop_ratio", TWO_THIRDS, strictly_positive=True, maximum=one
        ),
        withdraw_floor=reader.decimal("withdraw_floor", Decimal("0.10"), minimum=ZERO, maximum=one),
        partial_liq_notional=reader.decimal("partial_liq_notional", Decimal(100_000), minimum=ZERO),
        partial_liq_fraction=reader.decimal(
            "partial_liq_fraction", Decimal("0.20"), strictly_positive=True, maximum=one
        ),
        liq_cooldown_seconds=reader.decimal("liq_cooldown_seconds", Decimal(30), minimum=ZERO),
        impact_notional=reader.decimal("impact_notional", Decimal(20_000), strictly_positive=True),
        interest_8h=reader.decimal("interest_8h", Decimal("0.0001")),
        premium_clamp=reader.decimal("premium_clamp", Decimal("0.0005"), minimum=ZERO),
        funding_cap_hourly=reader.decimal(
            "funding_cap_hourly", Decimal("0.04"), strictly_positive=True
        ),
        premium_weighting=reader.choice("premium_weighting", "mean", PREMIUM_WEIGHTINGS),
    )
