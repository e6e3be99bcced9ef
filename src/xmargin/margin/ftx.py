"""Model A, ``ftx_cross``: FTX International sub-account cross margin (futures + spot margin).

The margin fraction ``MF = TAV / total notional`` is compared with the notional-weighted
maintenance fraction ``MMF_acct``: below it the account is liquidated in chunks, below
``ACMF`` it is auto-closed against backstop liquidity (``ftx_liquidation``). Coins count as
collateral at size-haircut weights; under ``rule_set = spot_margin_era`` negative balances
are borrows margined like positions. See ``shared/spec/margin-models.md`` §A.

Choices where the spec is silent: resting orders in a market without a position are valued
at their highest limit price; ``spot_order_reserve`` is the free collateral that filling
every resting spot order at its limit price would consume; the account fractions
``IMF_acct``/``MMF_acct`` of an account with nothing margined are 0 and ``MF``/``OMF`` infinite.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from xmargin.core.errors import ConfigError, DataError
from xmargin.margin.base import CrossMarginModel, Exposure, MarginReport, MarginState, RatioKind
from xmargin.margin.ftx_markets import FtxCoin, FtxMarket, default_coins, default_markets
from xmargin.margin.liquidation_price import solve_price
from xmargin.margin.snapshot import AccountSnapshot
from xmargin.model.instruments import InstrumentKind, parse_symbol
from xmargin.model.numbers import ONE, ZERO
from xmargin.model.orders import OrderSide

INFINITY = Decimal("Infinity")
HOURS_PER_DAY = Decimal(24)


class RuleSet(StrEnum):
    """The negative-balance regime of spec §A.6."""

    SPOT_MARGIN_ERA = "spot_margin_era"
    LEGACY_2020 = "legacy_2020"


class ConversionTarget(StrEnum):
    """How far an automatic conversion sells (spec §A.6)."""

    CLEAR_TRIGGERS = "clear_triggers"  # until no trigger holds, plus ``conversion_buffer``
    ZERO_USD = "zero_usd"  # until the USD balance is back to zero


@dataclass(frozen=True, slots=True)
class Requirement:
    """One margined line: a futures market, or a borrowed coin named ``COIN/USD``."""

    instrument: str
    size: Decimal  # signed; a borrow is negative
    price: Decimal
    notional: Decimal
    open_notional: Decimal
    imf: Decimal
    mmf: Decimal
    is_borrow: bool = False

    @property
    def initial_margin(self) -> Decimal:
        return self.open_notional * self.imf

    @property
    def maintenance_margin(self) -> Decimal:
        return self.notional * self.mmf


def funding_premium(mark: Decimal, index: Decimal) -> Decimal:
    """Return one premium sample ``(mark − index) / index`` of the hourly TWAP."""
    return (mark - index) / index


@dataclass(frozen=True)
class FtxCross(CrossMarginModel):
    """FTX cross margin; every spec §A.1 parameter, [assumption]s included, is a field."""

    venue: ClassVar[str] = "ftx_cross"
    ratio_kind: ClassVar[RatioKind] = RatioKind.MARGIN_FRACTION

    markets: Mapping[str, FtxMarket] = field(default_factory=default_markets)
    coins: Mapping[str, FtxCoin] = field(default_factory=default_coins)
    account_leverage: Decimal = Decimal(20)
    base_mmf: Decimal = Decimal("0.03")
    mmf_slope: Decimal = Decimal("0.6")
    acmf_offset: Decimal = Decimal("0.06")
    spot_margin_enabled: bool = False
    rule_set: RuleSet = RuleSet.SPOT_MARGIN_ERA
    conv_mmf_buffer: Decimal = Decimal("0.002")
    conv_abs_usd: Decimal = Decimal(30000)
    conv_ratio: Decimal = Decimal(4)
    conversion_target: ConversionTarget = ConversionTarget.CLEAR_TRIGGERS
    conversion_buffer: Decimal = Decimal("0.01")
    legacy_free_usd: Decimal = Decimal(30000)  # legacy_2020: no interest above −30,000 USD
    legacy_daily_rate: Decimal = Decimal("0.001")  # legacy_2020: charged hourly as rate / 24
    borrow_markup_per_taker_fee: Decimal = Decimal(500)  # borrow = lend × (1 + 500 × taker)
    blp_share: Decimal = Decimal(2) / Decimal(3)
    funding_period_hours: Decimal = ONE
    liq_min_notional: Decimal = Decimal(1000)
    liq_chunk_fraction: Decimal = Decimal("0.10")
    liq_price_offset: Decimal = Decimal("0.0003")
    quote: str = "USD"
    taker_fee_rate: Decimal = Decimal("0.0007")

    @property
    def base_imf(self) -> Decimal:
        return 1 / self.account_leverage

    @property
    def borrows_margined(self) -> bool:
        """Whether negative balances enter the notional (not under ``legacy_2020``)."""
        return self.rule_set is RuleSet.SPOT_MARGIN_ERA

    # -- parameters ---------------------------------------------------------------------

    def knows_asset(self, asset: str) -> bool:
        return asset == self.quote or asset in self.coins

    def knows(self, instrument: str) -> bool:
        try:
            spec = parse_symbol(instrument)
        except ValueError:
            return False
        if spec.kind is InstrumentKind.SPOT:
            return spec.quote == self.quote and spec.base in self.coins
        return self._market_key(instrument) in self.markets

    def market(self, instrument: str) -> FtxMarket:
        """Return a futures market's parameters (a dated future falls back to its perpetual)."""
        try:
            return self.markets[self._market_key(instrument)]
        except (KeyError, ValueError):
            raise ConfigError(
                f"unknown instrument {instrument} (add it under params.markets with imf_factor)"
            ) from None

    def _market_key(self, instrument: str) -> str:
        spec = parse_symbol(instrument)
        if instrument not in self.markets and spec.kind is InstrumentKind.DATED_FUTURE:
            return f"{spec.base}/{spec.quote}:{spec.settle}"
        return instrument

    def coin(self, name: str) -> FtxCoin:
        try:
            return self.coins[name]
        except KeyError:
            raise ConfigError(
                f"unknown coin {name} (add it under params.coins with total_weight, "
                "initial_weight and imf_factor)"
            ) from None

    def _balances(self, account: AccountSnapshot) -> Mapping[str, Decimal]:
        if account.loans:
            raise ConfigError(
                "ftx_cross has no loans: an FTX borrow is a negative coin balance "
                "(write e.g. ETH = -100 under balances)"
            )
        return account.balances

    def _spot_instrument(self, instrument: str) -> bool:
        try:
            return parse_symbol(instrument).kind is InstrumentKind.SPOT
        except ValueError:
            raise ConfigError(f"not a ccxt unified symbol: {instrument!r}") from None

    # -- collateral and account value ---------------------------------------------------

    def collateral_total(self, account: AccountSnapshot) -> Decimal:
        return self._collateral(account, initial=False)

    def collateral_initial(self, account: AccountSnapshot) -> Decimal:
        return self._collateral(account, initial=True)

    def _collateral(self, account: AccountSnapshot, *, initial: bool) -> Decimal:
        total = ZERO
        for name, amount in self._balances(account).items():
            value = amount * account.price_of(name, self.quote)
            if amount > 0:
                coin = self.coin(name)
                value *= coin.w_initial(amount) if initial else coin.w_total(amount)
            total += value
        return total

    def unrealized_pnl(self, account: AccountSnapshot) -> Decimal:
        return sum((p.unrealized_pnl for p in account.positions), ZERO)

    def total_account_value(self, account: AccountSnapshot) -> Decimal:
        """Return TAV: weighted collateral plus unrealized PnL."""
        return self.collateral_total(account) + self.unrealized_pnl(account)

    # -- margin fractions ---------------------------------------------------------------

    def open_size(self, account: AccountSnapshot, instrument: str) -> Decimal:
        """Return ``max(|q + ob|, |q − os|)`` with the market's resting buys and sells."""
        position = account.position(instrument)
        size = position.size if position else ZERO
        orders = account.orders_per_instrument().get(instrument)
        if orders is None:
            return abs(size)
        return max(abs(size + orders.buy_quantity), abs(size - orders.sell_quantity))

    def requirements(self, account: AccountSnapshot) -> tuple[Requirement, ...]:
        """Return every margined line: futures markets held or ordered, then borrows."""
        futures = [p.instrument for p in account.positions if p.size]
        futures += [o.instrument for o in account.orders if not self._spot_instrument(o.instrument)]
        rows = []
        for instrument in dict.fromkeys(futures):
            position = account.position(instrument)
            size = position.size if position else ZERO
            if position is not None:
                mark = position.mark_price
            else:
                mark = max(o.price for o in account.orders if o.instrument == instrument)
            open_size = self.open_size(account, instrument)
            market = self.market(instrument)
            imf = market.imf(open_size, self.base_imf)
            mmf = market.mmf(size, self.base_mmf, self.mmf_slope)
            notional = abs(size) * mark
            rows.append(Requirement(instrument, size, mark, notional, open_size * mark, imf, mmf))
        if self.borrows_margined:
            for coin, amount in sorted(self._balances(account).items()):
                if amount < 0:
                    price = account.price_of(coin, self.quote)
                    notional = -amount * price
                    weights = self.coin(coin)
                    imf = weights.borrow_imf(amount)
                    mmf = weights.borrow_mmf(amount, self.mmf_slope)
                    name = f"{coin}/{self.quote}"
                    rows.append(
                        Requirement(name, amount, price, notional, notional, imf, mmf, True)
                    )
        return tuple(rows)

    def total_notional(self, account: AccountSnapshot) -> Decimal:
        return sum((r.notional for r in self.requirements(account)), ZERO)

    def margin_fraction(self, account: AccountSnapshot) -> Decimal:
        """Return MF = TAV / total notional (infinite with nothing margined)."""
        notional = self.total_notional(account)
        return self.total_account_value(account) / notional if notional else INFINITY

    def imf_account(self, account: AccountSnapshot) -> Decimal:
        rows = self.requirements(account)
        weight = sum((r.open_notional for r in rows), ZERO)
        return sum((r.initial_margin for r in rows), ZERO) / weight if weight else ZERO

    def mmf_account(self, account: AccountSnapshot) -> Decimal:
        rows = self.requirements(account)
        weight = sum((r.notional for r in rows), ZERO)
        return sum((r.maintenance_margin for r in rows), ZERO) / weight if weight else ZERO

    def acmf(self, account: AccountSnapshot) -> Decimal:
        """Return the auto-close margin fraction ``max(MMF_acct / 2, MMF_acct − offset)``."""
        mmf = self.mmf_account(account)
        return max(mmf / 2, mmf - self.acmf_offset)

    def _usable_collateral(self, account: AccountSnapshot) -> Decimal:
        """Return ``min(collateral_initial, TAV_initial)``: losses count, gains do not."""
        initial = self.collateral_initial(account)
        return min(initial, initial + self.unrealized_pnl(account))

    def omf(self, account: AccountSnapshot) -> Decimal:
        """Return the open margin fraction that new orders are checked against."""
        open_notional = sum((r.open_notional for r in self.requirements(account)), ZERO)
        if not open_notional:
            return INFINITY
        usable = self._usable_collateral(account) - self.spot_order_reserve(account)
        return max(ZERO, usable) / open_notional

    def free_collateral(self, account: AccountSnapshot) -> Decimal:
        initial = sum((r.initial_margin for r in self.requirements(account)), ZERO)
        return self._usable_collateral(account) - initial

    def spot_order_reserve(self, account: AccountSnapshot) -> Decimal:
        """Return the free collateral resting spot orders would use, filled at their limits."""
        filled = account
        for order in account.orders:
            if self._spot_instrument(order.instrument):
                spec = parse_symbol(order.instrument)
                filled = self._apply_spot_fill(
                    filled, spec.base, spec.quote, order.quantity, order.price, ZERO
                )
        if filled is account:
            return ZERO
        return max(ZERO, self.free_collateral(account) - self.free_collateral(filled))

    # -- gaps, state and report ---------------------------------------------------------

    def liquidation_gap(self, account: AccountSnapshot) -> Decimal:
        """Return ``TAV − Σ notional × MMF``: negative exactly when MF < MMF_acct."""
        maintenance = sum((r.maintenance_margin for r in self.requirements(account)), ZERO)
        return self.total_account_value(account) - maintenance

    def auto_close_gap(self, account: AccountSnapshot) -> Decimal:
        """Return ``TAV − ACMF × total notional``: negative exactly when MF < ACMF."""
        rows = self.requirements(account)
        maintenance = sum((r.maintenance_margin for r in rows), ZERO)
        notional = sum((r.notional for r in rows), ZERO)
        floor = max(maintenance / 2, maintenance - self.acmf_offset * notional)
        return self.total_account_value(account) - floor

    def initial_gap(self, account: AccountSnapshot) -> Decimal:
        """Return free collateral less the spot-order reserve: ≥ 0 exactly when OMF ≥ IMF_acct."""
        return self.free_collateral(account) - self.spot_order_reserve(account)

    def auto_close_price(self, account: AccountSnapshot, instrument: str) -> Decimal | None:
        """Return the price of ``instrument`` at which auto-close starts, all else fixed."""
        exposure = next((e for e in self.exposures(account) if e.instrument == instrument), None)
        if exposure is None:
            raise ConfigError(f"no open exposure in {instrument}", where="auto-close price")
        return solve_price(
            lambda price: self.auto_close_gap(exposure.moved(account, price)), exposure.price
        )

    def state(self, account: AccountSnapshot) -> MarginState:
        """Return OK (MF ≥ MMF_acct), LIQUIDATING (ACMF ≤ MF) or AUTO_CLOSE (MF < ACMF)."""
        if not self.total_notional(account) or self.liquidation_gap(account) >= 0:
            return MarginState.OK
        if self.auto_close_gap(account) >= 0:
            return MarginState.LIQUIDATING
        return MarginState.AUTO_CLOSE

    def assess(self, account: AccountSnapshot) -> MarginReport:
        rows = self.requirements(account)
        tav = self.total_account_value(account)
        notional = sum((r.notional for r in rows), ZERO)
        open_notional = sum((r.open_notional for r in rows), ZERO)
        details = {
            "total_account_value": tav,
            "unrealized_pnl": self.unrealized_pnl(account),
            "collateral_initial": self.collateral_initial(account),
            "total_notional": notional,
            "open_notional": open_notional,
            "borrow_notional": sum((r.notional for r in rows if r.is_borrow), ZERO),
            "spot_order_reserve": self.spot_order_reserve(account),
            "usd_balance": self._balances(account).get(self.quote, ZERO),
        }
        if notional:
            details |= {"mmf_account": self.mmf_account(account), "acmf": self.acmf(account)}
        if open_notional:
            details |= {"imf_account": self.imf_account(account), "omf": self.omf(account)}
        return MarginReport(
            venue=self.venue,
            quote=self.quote,
            equity=tav,
            collateral=self.collateral_total(account),
            initial_margin_required=sum((r.initial_margin for r in rows), ZERO),
            maintenance_margin_required=sum((r.maintenance_margin for r in rows), ZERO),
            free_collateral=self.free_collateral(account),
            margin_ratio=tav / notional if notional else None,
            margin_ratio_kind=self.ratio_kind,
            state=self.state(account),
            exposures=self._exposure_rows(
                account,
                {r.instrument: r.initial_margin for r in rows},
                {r.instrument: r.maintenance_margin for r in rows},
            ),
            details=details,
        )

    # -- exposures and what-if fills ----------------------------------------------------

    def exposures(self, account: AccountSnapshot) -> tuple[Exposure, ...]:
        """Return futures positions, then one ``COIN/USD`` row per non-USD coin balance."""
        coins = tuple(
            Exposure(f"{name}/{self.quote}", amount, account.price_of(name, self.quote), name)
            for name, amount in sorted(self._balances(account).items())
            if name != self.quote and amount
        )
        return super().exposures(account) + coins

    def _apply_spot_fill(
        self,
        account: AccountSnapshot,
        base: str,
        quote: str,
        quantity: Decimal,
        price: Decimal,
        fee: Decimal,
    ) -> AccountSnapshot:
        """Move balances; a balance may go negative (a borrow when spot margin is enabled)."""
        if not self.knows(f"{base}/{quote}"):
            raise ConfigError(f"{self.venue} has no parameters for {base}/{quote}")
        return super()._apply_spot_fill(account, base, quote, quantity, price, fee)

    def max_additional_size(
        self, account: AccountSnapshot, instrument: str, side: OrderSide, price: Decimal
    ) -> Decimal:
        """Return the capacity; without spot margin a spot order cannot exceed the balance."""
        size = super().max_additional_size(account, instrument, side, price)
        spec = parse_symbol(instrument)
        if spec.kind is not InstrumentKind.SPOT or self.spot_margin_enabled:
            return size
        if side is OrderSide.SELL:
            return min(size, max(ZERO, account.balance(spec.base)))
        spendable = max(ZERO, account.balance(spec.quote))
        return min(size, spendable / (price * (1 + self.taker_fee_rate)))

    def max_position_notional(self, collateral: Decimal, instrument: str, mark: Decimal) -> Decimal:
        """Return the largest single-position notional ``collateral`` supports (spec A-2)."""
        market = self.market(instrument)
        flat = collateral / (self.base_imf * market.imf_weight)
        if market.imf_factor * (flat / mark).sqrt() <= self.base_imf:
            return flat
        scaled = collateral * mark.sqrt() / (market.imf_factor * market.imf_weight)
        return scaled ** (Decimal(2) / Decimal(3))

    # -- funding, interest and conversion -----------------------------------------------

    def funding_rate(self, premium_twap: Decimal) -> Decimal:
        """Return the period's rate: the premium TWAP scaled to the period (1 h → / 24)."""
        return premium_twap * self.funding_period_hours / HOURS_PER_DAY

    def borrow_rate(self, lending_rate: Decimal) -> Decimal:
        """Return the hourly borrow rate derived from the lending rate [assumption]."""
        return lending_rate * (1 + self.borrow_markup_per_taker_fee * self.taker_fee_rate)

    def borrow_interest(
        self, account: AccountSnapshot, hourly_rates: Mapping[str, Decimal]
    ) -> dict[str, Decimal]:
        """Return one hour of interest per coin, in that coin (spec §A.5, legacy rule §A.6)."""
        balances = self._balances(account)
        if self.rule_set is RuleSet.LEGACY_2020:
            usd = balances.get(self.quote, ZERO)
            if usd >= -self.legacy_free_usd:
                return {}
            return {self.quote: -usd * self.legacy_daily_rate / HOURS_PER_DAY}
        if not self.spot_margin_enabled:
            return {}
        interest = {}
        for coin, amount in balances.items():
            if amount < 0:
                if coin not in hourly_rates:
                    raise DataError(f"no hourly borrow rate for {coin}", field=f"rates.{coin}")
                interest[coin] = -amount * hourly_rates[coin]
        return interest

    def accrue_interest(
        self, account: AccountSnapshot, hourly_rates: Mapping[str, Decimal]
    ) -> AccountSnapshot:
        """Return the account with one hour of interest added to its borrows."""
        for coin, interest in self.borrow_interest(account, hourly_rates).items():
            account = account.with_balance(coin, account.balance(coin) - interest)
        return account

    def conversion_triggered(self, account: AccountSnapshot) -> bool:
        """Return whether negative USD must be covered by selling other coins (spec §A.6)."""
        usd = self._balances(account).get(self.quote, ZERO)
        if usd >= 0:
            return False
        mf, mmf = self.margin_fraction(account), self.mmf_account(account)
        if self.rule_set is RuleSet.SPOT_MARGIN_ERA:
            return not self.spot_margin_enabled and mf < mmf
        return (
            mf < mmf + self.conv_mmf_buffer
            or usd < -self.conv_abs_usd
            or -usd > self.conv_ratio * self.collateral_total(account)
        )
