"""Model C, ``binance_usdm_cross``: Binance USDⓈ-M futures, cross margin, one-way mode.

Maintenance margin comes from each symbol's notional brackets; the margin ratio is
``Σ MM / margin balance`` and the account is liquidated when it reaches 1. With
Multi-Assets mode other collateral counts at its collateral ratio.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar

from xmargin.margin.base import CrossMarginModel, MarginReport, MarginState, RatioKind
from xmargin.margin.params import ParamReader
from xmargin.margin.snapshot import AccountSnapshot, PositionSnapshot
from xmargin.margin.tiers import TierTable, load_packaged_tiers, tier_table
from xmargin.model.numbers import ZERO

DEFAULT_LEVERAGE = Decimal(20)


def default_tiers() -> dict[str, TierTable]:
    """The packaged BTC/ETH/SOL/XRP brackets (Binance snapshot of 2024-10-24)."""
    return load_packaged_tiers("binance_usdm_tiers.csv")


@dataclass(frozen=True)
class BinanceUsdmCross(CrossMarginModel):
    """Binance USDⓈ-M cross margin; see ``shared/spec/margin-models.md`` §C."""

    venue: ClassVar[str] = "binance_usdm_cross"
    ratio_kind: ClassVar[RatioKind] = RatioKind.MARGIN_RATIO

    tiers: Mapping[str, TierTable] = field(default_factory=default_tiers)
    leverage: Mapping[str, Decimal] = field(default_factory=dict)
    default_leverage: Decimal = DEFAULT_LEVERAGE
    quote: str = "USDT"
    multi_assets: bool = False
    collateral_ratios: Mapping[str, Decimal] = field(default_factory=dict)
    margin_call_ratio: Decimal = Decimal("0.8")
    taker_fee_rate: Decimal = Decimal("0.0005")
    clearance_fee_rate: Decimal = Decimal("0.005")

    def knows(self, instrument: str) -> bool:
        return instrument in self.tiers

    def knows_asset(self, asset: str) -> bool:
        return asset == self.quote or self.multi_assets

    def table(self, instrument: str) -> TierTable:
        return tier_table(self.tiers, instrument, "leverage brackets")

    def position_leverage(self, position: PositionSnapshot) -> Decimal:
        if position.leverage is not None:
            return position.leverage
        return self.leverage.get(position.instrument, self.default_leverage)

    def maintenance_margin(self, position: PositionSnapshot) -> Decimal:
        return self.table(position.instrument).maintenance(position.notional)

    def margin_balance(self, account: AccountSnapshot) -> Decimal:
        """Wallet plus unrealised PnL; with Multi-Assets every collateral at its ratio."""
        upnl = sum((p.unrealized_pnl for p in account.positions), ZERO)
        if not self.multi_assets:
            return account.balance(self.quote) + upnl
        total = ZERO
        settle_upnl: dict[str, Decimal] = {}
        for position in account.positions:
            settle = _settle_of(position.instrument)
            settle_upnl[settle] = settle_upnl.get(settle, ZERO) + position.unrealized_pnl
        for asset in set(account.balances) | set(settle_upnl):
            amount = account.balance(asset) + settle_upnl.get(asset, ZERO)
            value = amount * account.price_of(asset, self.quote)
            ratio = self.collateral_ratios.get(asset, Decimal(1))
            total += value * ratio if amount > 0 else value
        return total

    def order_initial_margin(self, account: AccountSnapshot) -> Decimal:
        """Each market's resting orders reserve their notional at its leverage."""
        total = ZERO
        for instrument, orders in account.orders_per_instrument().items():
            leverage = account.leverage.get(instrument) or self.leverage.get(
                instrument, self.default_leverage
            )
            total += orders.notional / leverage
        return total

    def liquidation_gap(self, account: AccountSnapshot) -> Decimal:
        maintenance = sum((self.maintenance_margin(p) for p in account.positions), ZERO)
        return self.margin_balance(account) - maintenance

    def initial_gap(self, account: AccountSnapshot) -> Decimal:
        """Available balance, or the excess notional when a position outgrows its leverage."""
        initial = ZERO
        for position in account.positions:
            leverage = self.position_leverage(position)
            limit = self.table(position.instrument).max_leverage(position.notional)
            if leverage > limit:
                return -position.notional * (leverage - limit) / leverage
            initial += position.notional / leverage
        return self.margin_balance(account) - initial - self.order_initial_margin(account)

    def auto_exchange_amount(self, deficit: Decimal, source_ratio: Decimal) -> Decimal:
        """Value of collateral sold to cover a negative wallet of ``deficit`` (Multi-Assets)."""
        return abs(deficit) / source_ratio

    def _ratio_and_state(
        self, account: AccountSnapshot, balance: Decimal, total_mm: Decimal
    ) -> tuple[Decimal | None, MarginState]:
        ratio: Decimal | None
        if not account.positions:
            ratio = None
        elif balance <= 0:
            ratio = Decimal("Infinity")
        else:
            ratio = total_mm / balance
        if ratio is None or ratio < self.margin_call_ratio:
            return ratio, MarginState.OK
        if ratio < 1:
            return ratio, MarginState.MARGIN_CALL
        return ratio, MarginState.LIQUIDATING

    def headline(self, account: AccountSnapshot) -> tuple[MarginState, Decimal | None]:
        """The state and margin ratio alone (what curves and breakers sample)."""
        total_mm = sum((self.maintenance_margin(p) for p in account.positions), ZERO)
        ratio, state = self._ratio_and_state(account, self.margin_balance(account), total_mm)
        return state, ratio

    def assess(self, account: AccountSnapshot) -> MarginReport:
        balance = self.margin_balance(account)
        initial = {p.instrument: p.notional / self.position_leverage(p) for p in account.positions}
        maintenance = {p.instrument: self.maintenance_margin(p) for p in account.positions}
        total_mm = sum(maintenance.values(), ZERO)
        total_im = sum(initial.values(), ZERO) + self.order_initial_margin(account)
        ratio, state = self._ratio_and_state(account, balance, total_mm)
        return MarginReport(
            venue=self.venue,
            quote=self.quote,
            equity=balance,
            collateral=balance - sum((p.unrealized_pnl for p in account.positions), ZERO),
            initial_margin_required=total_im,
            maintenance_margin_required=total_mm,
            free_collateral=balance - total_im,
            margin_ratio=ratio,
            margin_ratio_kind=self.ratio_kind,
            state=state,
            exposures=self._exposure_rows(account, initial, maintenance),
            details={"wallet_balance": account.balance(self.quote)},
        )


def _settle_of(instrument: str) -> str:
    _, _, settle = instrument.partition(":")
    return settle.split("-")[0] if settle else instrument.split("/")[1]


def binance_usdm_from_params(reader: ParamReader) -> BinanceUsdmCross:
    """Build the model from an account file's ``params`` table."""
    default_leverage, per_symbol = reader.decimal_or_map("leverage", DEFAULT_LEVERAGE)
    return BinanceUsdmCross(
        tiers=reader.tiers("tiers_file", default_tiers()),
        leverage=per_symbol,
        default_leverage=default_leverage,
        quote=reader.text("quote", "USDT"),
        multi_assets=reader.boolean("multi_assets", False),
        collateral_ratios=reader.decimal_map(
            "collateral_ratios", strictly_positive=True, maximum=Decimal(1)
        ),
        margin_call_ratio=reader.decimal(
            "margin_call_ratio", Decimal("0.8"), strictly_positive=True, maximum=Decimal(1)
        ),
        taker_fee_rate=reader.decimal("taker_fee_rate", Decimal("0.0005"), minimum=ZERO),
        clearance_fee_rate=reader.decimal("clearance_fee_rate", Decimal("0.005"), minimum=ZERO),
    )
