"""Model B, ``binance_cross_margin``: Binance Cross Margin (spot margin), Classic 3x/5x and Pro.

The account holds assets (balances, never negative) and owes loans. Classic mode rates
the account by ``ML = TA / (TL + TI)`` and gates borrowing and transfers by the haircut
``CML = CV / (TL + TI)``; Pro rates it by ``(net collateral − open-order loss) / Σ MM``
with tiered per-asset liability brackets. See ``shared/spec/margin-models.md`` §B.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar

from xmargin.core.errors import ConfigError
from xmargin.margin.base import CrossMarginModel, Exposure, MarginReport, MarginState, RatioKind
from xmargin.margin.binance_margin_assets import packaged_assets
from xmargin.margin.binance_margin_figures import (
    ClassicFigures,
    ProFigures,
    classic_figures,
    pro_figures,
)
from xmargin.margin.binance_margin_liquidation import LiquidationSale, liquidation_sale
from xmargin.margin.binance_margin_loans import add_loan, loan_of, settle_loan
from xmargin.margin.binance_margin_permissions import (
    MarginPermissions,
    can_borrow,
    can_transfer_out,
    max_borrow,
    max_transfer_out,
    permissions,
)
from xmargin.margin.binance_margin_pro import LiabilityBrackets, build_brackets
from xmargin.margin.capacity import max_fill_size
from xmargin.margin.params import ParamReader
from xmargin.margin.snapshot import AccountSnapshot
from xmargin.model.instruments import InstrumentKind, parse_symbol
from xmargin.model.numbers import ZERO
from xmargin.model.orders import OrderSide

DEFAULT_PRO_MARGIN_CALL_ML = Decimal("1.5")


@dataclass(frozen=True, slots=True)
class MarginMode:
    """One row of spec B.1: the thresholds of a Cross Margin mode (``None`` = not used)."""

    name: str
    borrow_cml_threshold: Decimal | None
    transfer_cml_threshold: Decimal | None
    margin_call_ml: Decimal | None
    liquidation_ml: Decimal
    liq_stop_ml: Decimal
    liquidation_fee_rate: Decimal

    @property
    def is_pro(self) -> bool:
        return self.borrow_cml_threshold is None


_D = Decimal
MODES: Mapping[str, MarginMode] = {
    "classic_3x": MarginMode(
        "classic_3x", _D("1.5"), _D(2), _D("1.3"), _D("1.1"), _D("1.5"), _D("0.02")
    ),
    "classic_5x": MarginMode(
        "classic_5x", _D("1.25"), _D(2), _D("1.16"), _D("1.1"), _D("1.25"), _D("0.02")
    ),
    "pro": MarginMode("pro", None, None, None, _D(1), _D(2), _D("0.03")),
}


@dataclass(frozen=True)
class BinanceCrossMargin(CrossMarginModel):
    """Binance Cross Margin; see ``shared/spec/margin-models.md`` §B.

    ``mode`` picks B.1's thresholds. Pro's margin-call level is not published as a fixed
    number, so ``pro_margin_call_ml`` defaults to 1.5 **[assumption]**. Per-asset
    collateral ratios, hourly rates and Pro brackets default to the packaged dated
    examples (``data/binance_margin_assets.toml``); a mapping passed here replaces the
    packaged one whole (``binance_cross_margin_from_params`` merges over it instead).
    ``borrow_limits`` caps each asset's principal, in units of the asset (no cap when
    absent). What-if fills pay the fee in the received asset
    (``fee_in_received_asset``), auto-borrow any shortfall (first hour charged at once)
    and, with ``auto_repay``, repay a loan from what the fill brings in.
    """

    venue: ClassVar[str] = "binance_cross_margin"
    ratio_kind: ClassVar[RatioKind] = RatioKind.MARGIN_LEVEL

    mode: str = "classic_3x"
    quote: str = "USDT"
    taker_fee_rate: Decimal = Decimal("0.001")
    collateral_ratios: Mapping[str, Decimal] = field(
        default_factory=lambda: packaged_assets().collateral_ratios
    )
    default_collateral_ratio: Decimal = field(
        default_factory=lambda: packaged_assets().default_collateral_ratio
    )
    borrow_limits: Mapping[str, Decimal] = field(default_factory=dict)
    hourly_rates: Mapping[str, Decimal] = field(
        default_factory=lambda: packaged_assets().hourly_rates
    )
    default_hourly_rate: Decimal = field(
        default_factory=lambda: packaged_assets().default_hourly_rate
    )
    pro_margin_call_ml: Decimal = DEFAULT_PRO_MARGIN_CALL_ML
    pro_brackets: Mapping[str, LiabilityBrackets] = field(
        default_factory=lambda: packaged_assets().pro_brackets
    )
    fee_in_received_asset: bool = True
    auto_repay: bool = False

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"unknown mode {self.mode!r} (use one of {', '.join(MODES)})")

    @property
    def rules(self) -> MarginMode:
        return MODES[self.mode]

    @property
    def margin_call_ml(self) -> Decimal:
        called = self.rules.margin_call_ml
        return self.pro_margin_call_ml if called is None else called

    def knows_asset(self, asset: str) -> bool:
        """Any asset code: unlisted assets count at ``default_collateral_ratio`` once priced."""
        return asset.isalnum() and asset.isupper()

    def knows(self, instrument: str) -> bool:
        """Return whether ``instrument`` is a spot market (any pair whose assets are priced)."""
        try:
            return parse_symbol(instrument).kind is InstrumentKind.SPOT
        except ValueError:
            return False

    def collateral_ratio(self, asset: str) -> Decimal:
        return self.collateral_ratios.get(asset, self.default_collateral_ratio)

    def hourly_rate(self, asset: str) -> Decimal:
        return self.hourly_rates.get(asset, self.default_hourly_rate)

    def brackets(self, asset: str) -> LiabilityBrackets:
        try:
            return self.pro_brackets[asset]
        except KeyError:
            raise ConfigError(
                f"no Pro liability brackets for {asset} (add them under params.pro_brackets)"
            ) from None

    def classic(self, account: AccountSnapshot) -> ClassicFigures:
        """Return TA, TL, TI and CV (and through them ML and CML)."""
        return classic_figures(account, self.quote, self.collateral_ratio)

    def pro(self, account: AccountSnapshot) -> ProFigures:
        """Return the Pro figures: net collateral, open-order loss, MM and IM per asset."""
        return pro_figures(account, self.quote, self.collateral_ratio, self.brackets)

    def margin_level(self, account: AccountSnapshot) -> Decimal | None:
        """Return the mode's headline ratio (ML, or ML_pro); None without liabilities."""
        if self.rules.is_pro:
            return self.pro(account).margin_level if account.loans else None
        return self.classic(account).margin_level

    def state(self, account: AccountSnapshot) -> MarginState:
        """Classify by the headline ratio: liquidating at ``≤ liquidation_ml``, then margin call."""
        level = self.margin_level(account)
        if level is None or level > self.margin_call_ml:
            return MarginState.OK
        if level > self.rules.liquidation_ml:
            return MarginState.MARGIN_CALL
        return MarginState.LIQUIDATING

    def liquidation_gap(self, account: AccountSnapshot) -> Decimal:
        """Return the distance to liquidation: positive while safe, zero at ``liquidation_ml``.

        Classic: ``TA − liquidation_ml × (TL + TI)``, linear in each price. Pro:
        ``net collateral − open-order loss − liquidation_ml × Σ MM``, continuous and piecewise
        linear (the bracket amounts keep MM continuous).
        """
        if self.rules.is_pro:
            pro = self.pro(account)
            return pro.usable_collateral - self.rules.liquidation_ml * pro.total_maintenance
        figures = self.classic(account)
        return figures.total_assets - self.rules.liquidation_ml * figures.owed

    def initial_gap(self, account: AccountSnapshot) -> Decimal:
        """Classic: ``CV − borrow_cml_threshold × (TL + TI)``; Pro: ``net − loss − Σ IM``.

        The Classic gap is the collateral equity ``CV − (TL + TI)`` left over the initial
        requirement ``(threshold − 1) × (TL + TI)``: non-negative exactly while
        ``CML ≥ borrow_cml_threshold``.
        """
        threshold = self.rules.borrow_cml_threshold
        if threshold is None:
            pro = self.pro(account)
            return pro.usable_collateral - pro.total_initial
        figures = self.classic(account)
        return figures.collateral_value - threshold * figures.owed

    def exposures(self, account: AccountSnapshot) -> tuple[Exposure, ...]:
        """Return one ``ASSET/quote`` row per non-quote asset whose holding minus debt is not 0."""
        assets = set(account.balances) | {loan.asset for loan in account.loans}
        rows = []
        for asset in sorted(assets - {self.quote}):
            net = account.balance(asset) - loan_of(account, asset).liability
            if net != 0:
                price = account.price_of(asset, self.quote)
                rows.append(Exposure(f"{asset}/{self.quote}", net, price, asset=asset))
        return tuple(rows)

    def assess(self, account: AccountSnapshot) -> MarginReport:
        """Report equity ``TA − TL − TI``, collateral ``CV`` and the mode's requirements.

        Classic requirements are ``(borrow_cml_threshold − 1)`` and ``(liquidation_ml − 1)``
        times ``TL + TI``; Pro's are ``Σ IM`` and ``Σ MM``. ``free_collateral`` is the
        initial gap; ``margin_ratio`` is ML (Classic) or ML_pro (Pro), None without debt.
        """
        figures = self.classic(account)
        details = {
            "total_assets": figures.total_assets,
            "total_liabilities": figures.total_liabilities,
            "total_interest": figures.total_interest,
            "collateral_value": figures.collateral_value,
        }
        if figures.margin_level is not None and figures.collateral_margin_level is not None:
            details["margin_level"] = figures.margin_level
            details["collateral_margin_level"] = figures.collateral_margin_level
        if self.rules.is_pro:
            pro = self.pro(account)
            initial, maintenance = dict(pro.initial), dict(pro.maintenance)
            total_im, total_mm = pro.total_initial, pro.total_maintenance
            details["net_collateral"] = pro.net_collateral
            details["open_order_loss"] = pro.open_order_loss
            ratio = pro.margin_level if account.loans else None
        else:
            im_rate = (self.rules.borrow_cml_threshold or Decimal(1)) - 1
            mm_rate = self.rules.liquidation_ml - 1
            owed = {
                loan.asset: loan.liability * account.price_of(loan.asset, self.quote)
                for loan in account.loans
            }
            initial = {a: v * im_rate for a, v in owed.items()}
            maintenance = {a: v * mm_rate for a, v in owed.items()}
            total_im, total_mm = figures.owed * im_rate, figures.owed * mm_rate
            ratio = figures.margin_level
        return MarginReport(
            venue=self.venue,
            quote=self.quote,
            equity=figures.equity,
            collateral=figures.collateral_value,
            initial_margin_required=total_im,
            maintenance_margin_required=total_mm,
            free_collateral=self.initial_gap(account),
            margin_ratio=ratio,
            margin_ratio_kind=self.ratio_kind,
            state=self.state(account),
            exposures=self._exposure_rows(
                account, self._by_instrument(initial), self._by_instrument(maintenance)
            ),
            details=details,
        )

    def _by_instrument(self, per_asset: Mapping[str, Decimal]) -> dict[str, Decimal]:
        return {f"{asset}/{self.quote}": value for asset, value in per_asset.items()}

    def _apply_spot_fill(
        self,
        account: AccountSnapshot,
        base: str,
        quote: str,
        quantity: Decimal,
        price: Decimal,
        fee: Decimal,
    ) -> AccountSnapshot:
        """Move balances, auto-borrowing any shortfall and (with ``auto_repay``) repaying debt."""
        if quantity > 0 and self.fee_in_received_asset:
            moves = ((quote, -quantity * price), (base, quantity - fee / price))
        elif quantity > 0:
            moves = ((quote, -quantity * price - fee), (base, quantity))
        else:
            moves = ((base, quantity), (quote, -quantity * price - fee))
        for asset, delta in moves:
            account = self._move(account, asset, delta)
        return account

    def _move(self, account: AccountSnapshot, asset: str, delta: Decimal) -> AccountSnapshot:
        balance = account.balance(asset) + delta
        if delta > 0 and self.auto_repay:
            owed = loan_of(account, asset).liability
            if owed > 0:
                settled = settle_loan(account, asset, min(delta, owed))
                account, balance = settled.account, balance - settled.paid
        if balance < 0:
            account = add_loan(account, asset, -balance, self.hourly_rate(asset))
            balance = ZERO
        return account.with_balance(asset, balance)

    def max_additional_size(
        self, account: AccountSnapshot, instrument: str, side: OrderSide, price: Decimal
    ) -> Decimal:
        """Return the largest fill the margin rule and the per-asset borrow limits allow."""
        size = super().max_additional_size(account, instrument, side, price)
        if not self.borrow_limits:
            return size
        before = {asset: loan_of(account, asset).principal for asset in self.borrow_limits}

        def headroom(quantity: Decimal) -> Decimal:
            after = self.apply_fill(account, instrument, quantity * side.sign, price)
            room = Decimal("Infinity")
            for asset, limit in self.borrow_limits.items():
                principal = loan_of(after, asset).principal
                if principal > before[asset]:
                    room = min(room, limit - principal)
            return room

        return min(size, max_fill_size(headroom, ZERO))

    def liquidation_done(self, account: AccountSnapshot) -> bool:
        """Return whether regular liquidation stops: no debt left or ML above ``liq_stop_ml``."""
        level = self.margin_level(account)
        return level is None or level > self.rules.liq_stop_ml

    def liquidate(
        self,
        account: AccountSnapshot,
        asset: str,
        amount: Decimal,
        price: Decimal,
        into: str | None = None,
    ) -> LiquidationSale:
        """Sell ``amount`` of ``asset`` in liquidation at the mode's fee; repay ``into`` (quote)."""
        return liquidation_sale(
            account,
            asset,
            amount,
            price,
            into=into or self.quote,
            fee_rate=self.rules.liquidation_fee_rate,
        )

    def permissions(self, account: AccountSnapshot) -> MarginPermissions:
        """Return what the account may do now: trade, borrow, transfer out."""
        return permissions(self, account)

    def can_trade(self, account: AccountSnapshot) -> bool:
        return self.state(account) is not MarginState.LIQUIDATING

    def can_borrow(self, account: AccountSnapshot, asset: str, amount: Decimal) -> bool:
        """Return whether borrowing ``amount`` of ``asset`` is accepted (post-borrow rule)."""
        return can_borrow(self, account, asset, amount)

    def max_borrow(self, account: AccountSnapshot, asset: str) -> Decimal:
        return max_borrow(self, account, asset)

    def can_transfer_out(self, account: AccountSnapshot, asset: str, amount: Decimal) -> bool:
        """Return whether ``amount`` of ``asset`` may be transferred out (post-transfer rule)."""
        return can_transfer_out(self, account, asset, amount)

    def max_transfer_out(self, account: AccountSnapshot, asset: str) -> Decimal:
        return max_transfer_out(self, account, asset)


def binance_cross_margin_from_params(reader: ParamReader) -> BinanceCrossMargin:
    """Build the model from an account file's ``params`` table.

    Tables (``collateral_ratios``, ``hourly_rates``, ``pro_brackets``) are merged over
    the packaged defaults; ``pro_brackets`` maps an asset to a list of
    ``{floor, mmr, imr[, maintenance_amount]}`` tables.
    """
    defaults = packaged_assets()
    ratios = reader.decimal_map("collateral_ratios", minimum=ZERO, maximum=Decimal(1))
    brackets = {
        str(asset): build_brackets(str(asset), rows, reader.location("pro_brackets"))
        for asset, rows in reader.table("pro_brackets").items()
    }
    return BinanceCrossMargin(
        mode=reader.choice("mode", "classic_3x", tuple(MODES)),
        quote=reader.text("quote", "USDT"),
        taker_fee_rate=reader.decimal("taker_fee_rate", Decimal("0.001"), minimum=ZERO),
        collateral_ratios={**defaults.collateral_ratios, **ratios},
        default_collateral_ratio=reader.decimal(
            "default_collateral_ratio",
            defaults.default_collateral_ratio,
            minimum=ZERO,
            maximum=Decimal(1),
        ),
        borrow_limits=reader.decimal_map("borrow_limits", strictly_positive=True),
        hourly_rates={**defaults.hourly_rates, **reader.decimal_map("hourly_rates", minimum=ZERO)},
        default_hourly_rate=reader.decimal(
            "default_hourly_rate", defaults.default_hourly_rate, minimum=ZERO
        ),
        pro_margin_call_ml=reader.decimal(
            "pro_margin_call_ml", DEFAULT_PRO_MARGIN_CALL_ML, minimum=Decimal(1)
        ),
        pro_brackets={**defaults.pro_brackets, **brackets},
        fee_in_received_asset=reader.boolean("fee_in_received_asset", True),
        auto_repay=reader.boolean("auto_repay", False),
    )
