"""Model E, ``bybit_uta_cross``: Bybit Unified Trading Account, cross margin (summary model).

Every coin counts at ``(wallet + perp uPnL − loans) × price × collateral value ratio``;
the maintenance margin rate ``total_MM / (margin_balance − haircut_loss + order_loss)``
liquidates the account at 1. Positions need ``notional / leverage`` initial and
``notional × MMR − deduction`` maintenance margin from their risk-limit tier; borrowed
coins need their borrow IM/MM rates.

Dated example parameters (read live values from the venue for trading):

- ``data/bybit_tiers.csv``: illustrative risk-limit ladders. The first BTC/ETH tier
  (MMR 0.005, 100x; risk limit 2M for BTCUSDT, 1M for ETHUSDT) follows Bybit's v5
  risk-limit endpoint and spec E-1; SOL/XRP start at MMR 0.01, 50x up to 200k; the higher
  tiers (MMR 0.01 / 0.02 / 0.05 / 0.10 at 50x / 25x / 10x / 5x) are examples of the shape,
  not a venue snapshot. The top tier's cap is 1e15 (the file format needs a finite cap).
- Collateral value ratios USDT 1, USDC 1, BTC 0.95, ETH 0.95, SOL 0.9, XRP 0.9 (Bybit
  tiers them by amount; a flat ratio per coin is used here). Coins not in the table are
  not collateral (ratio 0); a negative amount always counts at ratio 1, as on Bybit.
- Borrow IM rate 0.2 and MM rate 0.04 per borrowed coin (Bybit's spot-margin
  position-tiers example), configurable per coin.

Choices where the spec is silent:

- A borrow is a negative wallet balance (Bybit auto-borrows) or an ``account.loans``
  entry (its liability is subtracted from the coin's amount); both carry borrow IM/MM.
- Maintenance uses the tier's deduction (Bybit's ``mmDeduction``), which keeps MM
  continuous; in the first tier it is the spec's ``notional × MMR``.
- Active orders add initial margin (``order notional / leverage``, derivatives only) and
  enter the denominators through order loss; they carry no maintenance margin. An order's
  loss is measured against its position's mark, else the base coin's valuation price.
- ``haircut_loss`` is a fixed amount (0 by default): the venue's figure is not modelled.
  Interest above the borrow limit (the utilisation³ surcharge) is not modelled.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar

from xmargin.margin.base import CrossMarginModel, Exposure, MarginReport, MarginState, RatioKind
from xmargin.margin.params import ParamReader
from xmargin.margin.snapshot import AccountSnapshot, PositionSnapshot
from xmargin.margin.tiers import TierTable, load_packaged_tiers, tier_table
from xmargin.model.instruments import InstrumentKind, parse_symbol
from xmargin.model.numbers import ZERO

DEFAULT_LEVERAGE = Decimal(10)
DEFAULT_COLLATERAL_RATIOS: Mapping[str, Decimal] = {
    "USDT": Decimal(1),
    "USDC": Decimal(1),
    "BTC": Decimal("0.95"),
    "ETH": Decimal("0.95"),
    "SOL": Decimal("0.9"),
    "XRP": Decimal("0.9"),
}
HOURS_PER_YEAR = Decimal(365 * 24)
_NANOS_PER_MINUTE = 60 * 1_000_000_000


def default_tiers() -> dict[str, TierTable]:
    """The packaged BTC/ETH/SOL/XRP risk-limit tiers (dated examples, see the module doc)."""
    return load_packaged_tiers("bybit_tiers.csv")


def hourly_interest(borrowed: Decimal, apr: Decimal) -> Decimal:
    """Return one hour of interest on ``borrowed`` at annual rate ``apr`` (``apr / 365 / 24``)."""
    return borrowed * apr / HOURS_PER_YEAR


def premium_index(impact_bid: Decimal, impact_ask: Decimal, index: Decimal) -> Decimal:
    """Return one minute's premium index from the impact prices and the index."""
    return (max(ZERO, impact_bid - index) - max(ZERO, index - impact_ask)) / index


def weighted_premium(samples: Iterable[Decimal]) -> Decimal:
    """Return ``P``: the minute samples (60 × N for an N-hour interval) weighted 1, 2, …, n."""
    values = list(samples)
    if not values:
        return ZERO
    weighted = sum((k * v for k, v in enumerate(values, start=1)), ZERO)
    return weighted / Decimal(len(values) * (len(values) + 1) // 2)


@dataclass(frozen=True)
class BybitUtaCross(CrossMarginModel):
    """Bybit UTA cross margin; see ``shared/spec/margin-models.md`` §E."""

    venue: ClassVar[str] = "bybit_uta_cross"
    ratio_kind: ClassVar[RatioKind] = RatioKind.MAINTENANCE_MARGIN_RATE

    tiers: Mapping[str, TierTable] = field(default_factory=default_tiers)
    leverage: Mapping[str, Decimal] = field(default_factory=dict)
    default_leverage: Decimal = DEFAULT_LEVERAGE
    quote: str = "USDT"
    collateral_ratios: Mapping[str, Decimal] = field(
        default_factory=lambda: dict(DEFAULT_COLLATERAL_RATIOS)
    )
    default_collateral_ratio: Decimal = ZERO
    borrow_im_rates: Mapping[str, Decimal] = field(default_factory=dict)
    borrow_mm_rates: Mapping[str, Decimal] = field(default_factory=dict)
    default_borrow_im_rate: Decimal = Decimal("0.2")
    default_borrow_mm_rate: Decimal = Decimal("0.04")
    haircut_loss: Decimal = ZERO
    taker_fee_rate: Decimal = Decimal("0.00055")
    interest_minute: int = 5
    funding_daily_interest: Decimal = Decimal("0.0003")
    premium_clamp: Decimal = Decimal("0.0005")

    def knows_asset(self, asset: str) -> bool:
        return asset == self.quote or asset in self.collateral_ratios

    def knows(self, instrument: str) -> bool:
        if instrument in self.tiers:
            return True
        try:
            spec = parse_symbol(instrument)
        except ValueError:
            return False
        return spec.kind is InstrumentKind.SPOT and spec.base in self.collateral_ratios

    def table(self, instrument: str) -> TierTable:
        return tier_table(self.tiers, instrument, "risk-limit tiers")

    def position_leverage(self, position: PositionSnapshot) -> Decimal:
        if position.leverage is not None:
            return position.leverage
        return self.leverage.get(position.instrument, self.default_leverage)

    def maintenance_margin(self, position: PositionSnapshot) -> Decimal:
        return self.table(position.instrument).maintenance(position.notional)

    def coin_amounts(self, account: AccountSnapshot) -> dict[str, Decimal]:
        """Return each coin's ``wallet + perp uPnL − loan liability``."""
        amounts = dict(account.balances)
        for position in account.positions:
            settle = parse_symbol(position.instrument).settle
            amounts[settle] = amounts.get(settle, ZERO) + position.unrealized_pnl
        for loan in account.loans:
            amounts[loan.asset] = amounts.get(loan.asset, ZERO) - loan.liability
        return amounts

    def borrowed(self, account: AccountSnapshot) -> dict[str, Decimal]:
        """Return each coin's borrowed amount: loans plus any negative wallet balance."""
        owed = {asset: -amount for asset, amount in account.balances.items() if amount < 0}
        for loan in account.loans:
            owed[loan.asset] = owed.get(loan.asset, ZERO) + loan.liability
        return {asset: amount for asset, amount in owed.items() if amount}

    def margin_balance(self, account: AccountSnapshot) -> Decimal:
        """Return ``Σ amount × price × collateral value ratio`` (ratio 1 for a negative amount)."""
        total = ZERO
        for coin, amount in self.coin_amounts(account).items():
            if not amount:
                continue
            value = amount * account.price_of(coin, self.quote)
            ratio = self.collateral_ratios.get(coin, self.default_collateral_ratio)
            total += value * ratio if amount > 0 else value
        return total

    def order_loss(self, account: AccountSnapshot) -> Decimal:
        """Return ``Σ min(0, q × (mark − order price))`` over active orders (≤ 0)."""
        total = ZERO
        per_instrument = account.orders_per_instrument().items()
        if not any(t.crossed(self._mark_of(account, i)) for i, t in per_instrument):
            return total  # no buy above its mark, no sell below: every term is zero
        for order in account.orders:
            mark = self._mark_of(account, order.instrument)
            total += min(ZERO, order.quantity * (mark - order.price))
        return total

    def _mark_of(self, account: AccountSnapshot, instrument: str) -> Decimal:
        position = account.position(instrument)
        if position is not None:
            return position.mark_price
        return account.price_of(parse_symbol(instrument).base, self.quote)

    def denominator(self, account: AccountSnapshot) -> Decimal:
        """Return ``margin_balance − haircut_loss + order_loss``, the base of both rates."""
        return self.margin_balance(account) - self.haircut_loss + self.order_loss(account)

    def order_initial_margin(self, account: AccountSnapshot) -> Decimal:
        """Each derivatives market's resting orders reserve their notional at its leverage."""
        total = ZERO
        for instrument, orders in account.orders_per_instrument().items():
            if parse_symbol(instrument).is_derivative:
                leverage = account.leverage.get(instrument) or self.leverage.get(
                    instrument, self.default_leverage
                )
                total += orders.notional / leverage
        return total

    def borrow_margins(self, account: AccountSnapshot) -> tuple[dict[str, Decimal], ...]:
        """Return the initial and the maintenance margin of each borrowed coin's liability."""
        initial: dict[str, Decimal] = {}
        maintenance: dict[str, Decimal] = {}
        for coin, amount in self.borrowed(account).items():
            value = amount * account.price_of(coin, self.quote)
            im_rate = self.borrow_im_rates.get(coin, self.default_borrow_im_rate)
            initial[coin] = value * im_rate
            maintenance[coin] = value * self.borrow_mm_rates.get(coin, self.default_borrow_mm_rate)
        return initial, maintenance

    def total_maintenance(self, account: AccountSnapshot) -> Decimal:
        positions = sum((self.maintenance_margin(p) for p in account.positions), ZERO)
        return positions + sum(self.borrow_margins(account)[1].values(), ZERO)

    def total_initial(self, account: AccountSnapshot) -> Decimal:
        positions = sum((p.notional / self.position_leverage(p) for p in account.positions), ZERO)
        borrows = sum(self.borrow_margins(account)[0].values(), ZERO)
        return positions + borrows + self.order_initial_margin(account)

    def liquidation_gap(self, account: AccountSnapshot) -> Decimal:
        return self.denominator(account) - self.total_maintenance(account)

    def initial_gap(self, account: AccountSnapshot) -> Decimal:
        """Return ``denominator − total_IM``, or the excess notional above a tier's leverage."""
        for position in account.positions:
            leverage = self.position_leverage(position)
            limit = self.table(position.instrument).max_leverage(position.notional)
            if leverage > limit:
                return -position.notional * (leverage - limit) / leverage
        return self.denominator(account) - self.total_initial(account)

    def initial_margin_rate(self, account: AccountSnapshot) -> Decimal:
        return _rate(self.total_initial(account), self.denominator(account))

    def maintenance_margin_rate(self, account: AccountSnapshot) -> Decimal:
        return _rate(self.total_maintenance(account), self.denominator(account))

    def only_reducing_allowed(self, account: AccountSnapshot) -> bool:
        """Return whether only risk-reducing orders are accepted (IM rate ≥ 1)."""
        return self.initial_margin_rate(account) >= 1

    def spot_borrow_blocked(self, account: AccountSnapshot, spot_leverage: Decimal) -> bool:
        """Return whether spot-margin borrowing is blocked: IM rate ≥ ``(L − 1) / L``."""
        return self.initial_margin_rate(account) >= (spot_leverage - 1) / spot_leverage

    def is_interest_time(self, ts_ns: int) -> bool:
        """Return whether ``ts_ns`` (UTC nanoseconds) is an interest booking time, HH:05:00."""
        minute, rest = divmod(ts_ns, _NANOS_PER_MINUTE)
        return rest == 0 and minute % 60 == self.interest_minute

    def funding_interest(self, interval_hours: int) -> Decimal:
        """Return ``I = 0.0003 × N / 24`` for an ``N``-hour funding interval."""
        return self.funding_daily_interest * interval_hours / 24

    def funding_rate(self, premium: Decimal, interval_hours: int) -> Decimal:
        """Return ``F = P + clamp(I − P, ±premium_clamp)``."""
        gap = self.funding_interest(interval_hours) - premium
        return premium + max(-self.premium_clamp, min(self.premium_clamp, gap))

    def exposures(self, account: AccountSnapshot) -> tuple[Exposure, ...]:
        """Return positions, then every non-quote coin held or owed (its price moves)."""
        rows = list(super().exposures(account))
        owed = self.borrowed(account)
        for coin, amount in sorted(self.coin_amounts(account).items()):
            if coin != self.quote and (amount or coin in owed):
                price = account.price_of(coin, self.quote)
                rows.append(Exposure(f"{coin}/{self.quote}", amount, price, asset=coin))
        return tuple(rows)

    def assess(self, account: AccountSnapshot) -> MarginReport:
        base = self.denominator(account)
        borrow_im, borrow_mm = self.borrow_margins(account)
        initial = {p.instrument: p.notional / self.position_leverage(p) for p in account.positions}
        maintenance = {p.instrument: self.maintenance_margin(p) for p in account.positions}
        for coin in borrow_im:
            initial[f"{coin}/{self.quote}"] = borrow_im[coin]
            maintenance[f"{coin}/{self.quote}"] = borrow_mm[coin]
        total_im = sum(initial.values(), ZERO) + self.order_initial_margin(account)
        total_mm = sum(maintenance.values(), ZERO)
        margined = bool(account.positions) or bool(borrow_mm)
        ratio = _rate(total_mm, base) if margined else None
        liquidating = ratio is not None and ratio >= 1
        upnl = sum((p.unrealized_pnl for p in account.positions), ZERO)
        details = {
            "margin_balance": self.margin_balance(account),
            "order_loss": self.order_loss(account),
            "haircut_loss": self.haircut_loss,
            "order_initial_margin": self.order_initial_margin(account),
            "borrow_initial_margin": sum(borrow_im.values(), ZERO),
            "borrow_maintenance_margin": sum(borrow_mm.values(), ZERO),
            "initial_margin_rate": _rate(total_im, base),
        }
        if ratio is not None:
            details["maintenance_margin_rate"] = ratio
        return MarginReport(
            venue=self.venue,
            quote=self.quote,
            equity=base,
            collateral=base - upnl,
            initial_margin_required=total_im,
            maintenance_margin_required=total_mm,
            free_collateral=base - total_im,
            margin_ratio=ratio,
            margin_ratio_kind=self.ratio_kind,
            state=MarginState.LIQUIDATING if liquidating else MarginState.OK,
            exposures=self._exposure_rows(account, initial, maintenance),
            details=details,
        )


def _rate(required: Decimal, base: Decimal) -> Decimal:
    if base <= 0:
        return Decimal("Infinity") if required > 0 else ZERO
    return required / base


def bybit_from_params(reader: ParamReader) -> BybitUtaCross:
    """Build the model from an account file's ``params`` table."""
    default_leverage, per_symbol = reader.decimal_or_map("leverage", DEFAULT_LEVERAGE)
    one = Decimal(1)
    ratios = reader.decimal_map("collateral_ratios", strictly_positive=True, maximum=one)
    minute = reader.decimal("interest_minute", Decimal(5), minimum=ZERO, maximum=Decimal(59))
    if minute != minute.to_integral_value():
        raise reader.fail("interest_minute", f"must be a whole minute, got {minute}")
    return BybitUtaCross(
        tiers=reader.tiers("tiers_file", default_tiers()),
        leverage=per_symbol,
        default_leverage=default_leverage,
        collateral_ratios={**DEFAULT_COLLATERAL_RATIOS, **ratios},
        default_collateral_ratio=reader.decimal(
            "default_collateral_ratio", ZERO, minimum=ZERO, maximum=one
        ),
        borrow_im_rates=reader.decimal_map("borrow_im_rates", strictly_positive=True, maximum=one),
        borrow_mm_rates=reader.decimal_map("borrow_mm_rates", strictly_positive=True, maximum=one),
        default_borrow_im_rate=reader.decimal(
            "default_borrow_im_rate", Decimal("0.2"), strictly_positive=True, maximum=one
        ),
        default_borrow_mm_rate=reader.decimal(
            "default_borrow_mm_rate", Decimal("0.04"), strictly_positive=True, maximum=one
        ),
        haircut_loss=reader.decimal("haircut_loss", ZERO, minimum=ZERO),
        taker_fee_rate=reader.decimal("taker_fee_rate", Decimal("0.00055"), minimum=ZERO),
        interest_minute=int(minute),
        funding_daily_interest=reader.decimal("funding_daily_interest", Decimal("0.0003")),
        premium_clamp=reader.decimal("premium_clamp", Decimal("0.0005"), minimum=ZERO),
    )
