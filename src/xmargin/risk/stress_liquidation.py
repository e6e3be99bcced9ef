"""What each venue liquidates in a stressed account, and the liquidation cascade.

``liquidation_orders`` returns the orders a venue's engine sends against an account, by the
rules the simulated exchange follows (spec §A.7, B.4, C.4, D.4, E.1), deterministically:

- ``binance_usdm_cross``: every cross position closed at its mark, clearance fee charged;
- ``bybit_uta_cross``: every position closed at its mark, taker fee;
- ``hyperliquid_cross``: below ``backstop_ratio × MM`` every position goes to the liquidator
  vault and the cross balance is forfeited; otherwise a market order per position, only
  ``partial_liq_fraction`` of one above ``partial_liq_notional`` — full orders in later
  rounds (they fall within the 30-second cooldown);
- ``ftx_cross``: the 10 % chunk ladder while liquidating, auto-close at the position zero
  prices (against the backstop) below the ACMF;
- ``binance_cross_margin``: the largest asset sold for the largest (quote) liability up to
  ``liq_stop_ml``, or a non-quote liability bought back, at the mode's liquidation fee; once
  started, liquidation goes on until ML exceeds ``liq_stop_ml``.

Cascade (``run_cascade``): each liquidation order of notional ``N`` on an asset moves that
asset's price against the order by ``m = bps_per_million × 1e-4 × N / 1e6`` or, with
``impact_lambda``, ``m = λ × N / daily_volume[asset]`` (both in the quote currency), capped
at ``max_move``. The order fills at the moved price (the whole order at the worst price: a
conservative choice) and every instrument on that base, and its valuation price, move with
it. Backstop transfers (the Hyperliquid vault, FTX auto-close) are off-book and move no
price. The account is then re-evaluated at the new prices, round after round, until no
order is due (converged) or ``max_rounds`` is reached. A flat account left with negative
balances has them covered by the insurance fund (its equity ends at 0, not below).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import lru_cache

from xmargin.core.errors import ConfigError
from xmargin.margin.base import CrossMarginModel, MarginState
from xmargin.margin.binance_margin import BinanceCrossMargin
from xmargin.margin.binance_margin_liquidation import liquidation_sale, sale_value_to_stop
from xmargin.margin.binance_margin_loans import loan_of, repay
from xmargin.margin.binance_usdm import BinanceUsdmCross
from xmargin.margin.bybit import BybitUtaCross
from xmargin.margin.ftx import FtxCross
from xmargin.margin.ftx_liquidation import auto_close_fills
from xmargin.margin.ftx_liquidation import liquidation_orders as ftx_ladder
from xmargin.margin.hyperliquid import HyperliquidCross
from xmargin.margin.snapshot import AccountSnapshot
from xmargin.model.instruments import Instrument, parse_symbol
from xmargin.model.numbers import ONE, ZERO

ONE_MILLION = Decimal(1_000_000)
BPS = Decimal(10_000)
_LIQUIDATED = frozenset({MarginState.LIQUIDATING, MarginState.AUTO_CLOSE, MarginState.BACKSTOP})


@lru_cache(maxsize=4096)
def instrument_spec(symbol: str) -> Instrument:
    """Return the parsed ccxt symbol (cached: stress loops parse the same names often)."""
    return parse_symbol(symbol)


@dataclass(frozen=True)
class CascadeModel:
    """The price impact of liquidation orders and how long the cascade may run."""

    bps_per_million: Decimal | None = Decimal(10)
    impact_lambda: Decimal | None = None
    daily_volume: Mapping[str, Decimal] = field(default_factory=dict)
    max_move: Decimal = Decimal("0.9")
    max_rounds: int = 50

    def move(self, asset: str, notional: Decimal) -> Decimal:
        """Return the fraction by which an order of ``notional`` moves ``asset``'s price."""
        if self.impact_lambda is not None:
            volume = self.daily_volume.get(asset)
            if volume is None:
                raise ConfigError(
                    f"no daily volume for {asset} (give cascade.daily_volume.{asset})",
                    where="cascade",
                )
            move = self.impact_lambda * notional / volume
        else:
            move = (self.bps_per_million or ZERO) / BPS * notional / ONE_MILLION
        return min(self.max_move, move)


@dataclass(frozen=True, slots=True)
class LiquidationOrder:
    """One order of a venue's liquidation engine: a signed trade that reduces an exposure."""

    instrument: str
    quantity: Decimal
    price: Decimal  # the price it would fill at without impact
    fee_rate: Decimal
    stage: str  # full, partial, backstop, ladder, auto_close, sale, buy_back
    moves_market: bool = True


@dataclass(frozen=True, slots=True)
class Liquidation:
    """A liquidation fill as booked in a stress run."""

    instrument: str
    quantity: Decimal
    price: Decimal
    stage: str
    round: int


@dataclass(frozen=True, slots=True)
class CascadeRun:
    """The account after the cascade, every fill, how many rounds it took and if it settled."""

    account: AccountSnapshot
    liquidations: tuple[Liquidation, ...]
    rounds: int
    converged: bool
    bad_debt: Decimal = ZERO


def is_liquidated(model: CrossMarginModel, account: AccountSnapshot) -> bool:
    """Return whether the venue is liquidating the account (not merely calling margin)."""
    return model.headline(account)[0] in _LIQUIDATED


def liquidation_orders(
    model: CrossMarginModel, account: AccountSnapshot, *, started: bool = False
) -> tuple[LiquidationOrder, ...]:
    """Return the orders the venue sends now; ``started`` once a liquidation is under way."""
    if isinstance(model, BinanceCrossMargin):
        return _binance_margin_orders(model, account, started)
    if isinstance(model, FtxCross):
        ladder = tuple(
            LiquidationOrder(o.instrument, o.quantity, o.price, model.taker_fee_rate, "ladder")
            for o in ftx_ladder(model, account)
        )
        closes = tuple(
            LiquidationOrder(f.instrument, f.quantity, f.account_price, ZERO, "auto_close", False)
            for f in auto_close_fills(model, account)
        )
        return ladder + closes
    if not account.positions or model.liquidation_gap(account) > 0:
        return ()
    if not is_liquidated(model, account):
        return ()
    if isinstance(model, HyperliquidCross):
        return _hyperliquid_orders(model, account, started)
    fee = model.clearance_fee_rate if isinstance(model, BinanceUsdmCross) else model.taker_fee_rate
    return tuple(
        LiquidationOrder(p.instrument, -p.size, p.mark_price, fee, "full")
        for p in account.positions
        if p.size
    )


def _hyperliquid_orders(
    model: HyperliquidCross, account: AccountSnapshot, started: bool
) -> tuple[LiquidationOrder, ...]:
    if model.backstop_gap(account) < 0:
        return tuple(
            LiquidationOrder(p.instrument, -p.size, p.mark_price, ZERO, "backstop", False)
            for p in account.positions
            if p.size
        )
    orders = []
    for p in account.positions:
        quantity = model.liquidation_order_quantity(p.size, p.mark_price, in_cooldown=started)
        stage = "partial" if abs(quantity) < abs(p.size) else "full"
        orders.append(
            LiquidationOrder(p.instrument, quantity, p.mark_price, model.taker_fee_rate, stage)
        )
    return tuple(orders)


def _binance_margin_orders(
    model: BinanceCrossMargin, account: AccountSnapshot, started: bool
) -> tuple[LiquidationOrder, ...]:
    if not account.loans or model.liquidation_done(account):
        return ()
    if not started and model.state(account) is not MarginState.LIQUIDATING:
        return ()
    quote, fee = model.quote, model.rules.liquidation_fee_rate
    loan = max(account.loans, key=lambda item: item.liability * account.price_of(item.asset, quote))
    if loan.asset == quote:
        held = [
            (amount * account.price_of(asset, quote), asset, amount)
            for asset, amount in account.balances.items()
            if asset != quote and amount > 0
        ]
        if not held:
            return ()
        _, asset, amount = max(held)
        price = account.price_of(asset, quote)
        figures = model.classic(account)
        target = sale_value_to_stop(
            figures.total_assets, figures.owed, model.rules.liq_stop_ml, fee
        )
        sold = amount if target is None else min(amount, target / price)
        if sold <= 0:
            return ()
        return (LiquidationOrder(f"{asset}/{quote}", -sold, price, fee, "sale"),)
    price = account.price_of(loan.asset, quote)
    owed = loan.liability - max(account.balance(loan.asset), ZERO)
    cash = account.balance(quote)
    affordable = cash / (price * (1 + fee)) if cash > 0 else ZERO
    bought = min(owed, affordable)
    if bought <= 0:
        return ()
    return (LiquidationOrder(f"{loan.asset}/{quote}", bought, price, fee, "buy_back"),)


def move_asset(
    account: AccountSnapshot, asset: str, numerator: Decimal, denominator: Decimal = ONE
) -> AccountSnapshot:
    """Scale ``asset``'s valuation price and the mark of every instrument on that base."""
    positions = tuple(
        p
        if instrument_spec(p.instrument).base != asset
        else replace(p, mark_price=p.mark_price * numerator / denominator)
        for p in account.positions
    )
    prices = dict(account.prices)
    if asset in prices:
        prices[asset] = prices[asset] * numerator / denominator
    return AccountSnapshot(
        account.balances, positions, account.loans, prices, account.orders, account.leverage
    )


def execute(
    model: CrossMarginModel,
    account: AccountSnapshot,
    orders: tuple[LiquidationOrder, ...],
    cascade: CascadeModel | None,
    round_number: int,
) -> tuple[AccountSnapshot, tuple[Liquidation, ...]]:
    """Book ``orders`` in turn, moving prices by the impact model when one is given."""
    fills = []
    moved: dict[str, Decimal] = {}
    for order in orders:
        asset = instrument_spec(order.instrument).base
        ratio = ONE
        if cascade is not None and order.moves_market:
            move = cascade.move(asset, abs(order.quantity) * order.price)
            ratio = 1 - move if order.quantity < 0 else 1 + move
        price = order.price * moved.get(asset, ONE) * ratio
        if ratio != ONE:
            account = move_asset(account, asset, ratio)
            moved[asset] = moved.get(asset, ONE) * ratio
        account = _book(model, account, order, price)
        fills.append(
            Liquidation(order.instrument, order.quantity, price, order.stage, round_number)
        )
    if any(order.stage == "backstop" for order in orders):
        account = account.with_balance(model.quote, ZERO)
    return account, tuple(fills)


def _book(
    model: CrossMarginModel, account: AccountSnapshot, order: LiquidationOrder, price: Decimal
) -> AccountSnapshot:
    if isinstance(model, BinanceCrossMargin):
        spec = instrument_spec(order.instrument)
        if order.stage == "sale":
            return liquidation_sale(
                account, spec.base, -order.quantity, price, into=spec.quote, fee_rate=order.fee_rate
            ).account
        cost = order.quantity * price * (1 + order.fee_rate)
        account = account.with_balance(spec.quote, account.balance(spec.quote) - cost)
        account = account.with_balance(spec.base, account.balance(spec.base) + order.quantity)
        owed = loan_of(account, spec.base).liability
        return repay(account, spec.base, min(account.balance(spec.base), owed)).account
    return model.apply_fill(account, order.instrument, order.quantity, price, order.fee_rate)


def run_cascade(
    model: CrossMarginModel, account: AccountSnapshot, cascade: CascadeModel | None
) -> CascadeRun:
    """Liquidate round after round (with price impact when ``cascade`` is given)."""
    max_rounds = cascade.max_rounds if cascade is not None else 1
    fills: list[Liquidation] = []
    rounds = 0
    for round_number in range(1, max_rounds + 1):
        orders = liquidation_orders(model, account, started=rounds > 0)
        if not orders:
            break
        account, booked = execute(model, account, orders, cascade, round_number)
        fills.extend(booked)
        rounds = round_number
    converged = not liquidation_orders(model, account, started=rounds > 0)
    bad_debt = ZERO
    if rounds:
        account, bad_debt = cover_deficit(model, account)
    return CascadeRun(account, tuple(fills), rounds, converged, bad_debt)


def cover_deficit(
    model: CrossMarginModel, account: AccountSnapshot
) -> tuple[AccountSnapshot, Decimal]:
    """Credit the quote balance of a flat, negative account up to zero equity (insurance)."""
    equity = equity_of(model, account)
    if equity >= 0 or any(p.size for p in account.positions):
        return account, ZERO
    return account.with_balance(model.quote, account.balance(model.quote) - equity), -equity


def equity_of(model: CrossMarginModel, account: AccountSnapshot) -> Decimal:
    """Return the model's report equity without solving liquidation prices (cheap)."""
    if isinstance(model, BinanceUsdmCross):
        return model.margin_balance(account)
    if isinstance(model, HyperliquidCross):
        return model.account_value(account)
    if isinstance(model, BybitUtaCross):
        return model.denominator(account)
    if isinstance(model, FtxCross):
        return model.total_account_value(account)
    if isinstance(model, BinanceCrossMargin):
        return model.classic(account).equity
    return model.assess(account).equity
