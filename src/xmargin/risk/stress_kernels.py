"""Vectorised stress kernels: equity and maintenance requirement of N scenarios at once.

``compile_kernel`` reads the exact account once (the one place its Decimals become floats)
and returns a kernel that evaluates an ``(N, K)`` matrix of price multipliers — one column
per risk asset (``stress.risk_assets``), applied as in ``stress``: to the asset's valuation
price and to the mark of every instrument on it. Per model it reproduces the report's
``equity``, its ``maintenance_margin_required`` and its liquidation test:

- ``binance_usdm_cross``: ``MB = WB + Σ uPnL`` (Multi-Assets: ``Σ (wallet + uPnL) × price ×
  ratio`` over positive amounts), bracket MM by ``np.searchsorted``; liquidated at ``MM ≥ MB``;
- ``hyperliquid_cross``: ``AV = B + Σ uPnL``, tier MM; liquidated at ``AV < MM``;
- ``bybit_uta_cross``: coin amounts at price × collateral ratio, less the haircut loss, plus
  the order loss; MM = tiers + borrowed value × MM rate; liquidated at ``MM ≥ denominator``;
- ``ftx_cross``: TAV with size-scaled collateral weights; MM = Σ notional × size-scaled MMF
  (+ borrows × borrow MMF); liquidated at ``TAV < MM`` (weights and fractions depend on
  sizes only, so they are exact constants);
- ``binance_cross_margin``: Classic ``TA`` against ``liquidation_ml × (TL + TI)`` (maintenance
  ``(liquidation_ml − 1) × (TL + TI)``); Pro: bracket MM over liability values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from xmargin.core.errors import ConfigError
from xmargin.margin.base import CrossMarginModel
from xmargin.margin.binance_margin import BinanceCrossMargin
from xmargin.margin.binance_usdm import BinanceUsdmCross
from xmargin.margin.bybit import BybitUtaCross
from xmargin.margin.ftx import FtxCross
from xmargin.margin.hyperliquid import HyperliquidCross
from xmargin.margin.snapshot import AccountSnapshot
from xmargin.margin.tiers import TierTable
from xmargin.risk.stress import risk_assets
from xmargin.risk.stress_liquidation import instrument_spec

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class KernelResult:
    """Per scenario: the model's equity, maintenance requirement and liquidation verdict."""

    equity: Floats
    maintenance: Floats
    liquidated: Bools


class _Book:
    """The float view of an account: risk-asset columns, positions and valuation prices."""

    def __init__(self, model: CrossMarginModel, account: AccountSnapshot) -> None:
        self.assets = risk_assets(model, account)
        self.column = {asset: i for i, asset in enumerate(self.assets)}
        self.quote = model.quote
        self.account = account
        self.positions = tuple(p for p in account.positions if p.size)
        specs = [instrument_spec(p.instrument) for p in self.positions]
        self.settles = tuple(s.settle for s in specs)
        self.size = np.array([float(p.size) for p in self.positions])
        self.entry = np.array([float(p.entry_price) for p in self.positions])
        self.mark = np.array([float(p.mark_price) for p in self.positions])
        self.columns = np.array([self.column[s.base] for s in specs], dtype=np.intp)

    def marks(self, moves: Floats) -> Floats:
        marks: Floats = self.mark * moves[:, self.columns]
        return marks

    def upnl(self, marks: Floats) -> Floats:
        upnl: Floats = (marks - self.entry) * self.size
        return upnl

    def price(self, moves: Floats, asset: str) -> Floats:
        """Return ``asset``'s valuation price in every scenario (1 for the quote)."""
        if asset == self.quote:
            return np.ones(moves.shape[0])
        base = float(self.account.price_of(asset, self.quote))
        if asset not in self.column:
            return np.full(moves.shape[0], base)
        price: Floats = base * moves[:, self.column[asset]]
        return price

    def settled_upnl(self, upnl: Floats, asset: str) -> Floats:
        chosen = [i for i, settle in enumerate(self.settles) if settle == asset]
        total: Floats = upnl[:, chosen].sum(axis=1)
        return total


class _Tiers:
    """Bracket maintenance margin of every position, tier found by ``np.searchsorted``."""

    def __init__(self, tables: Sequence[TierTable]) -> None:
        self.tables = [
            (
                np.array([float(t.cap) for t in table.tiers]),
                np.array([float(t.mmr) for t in table.tiers]),
                np.array([float(t.cum) for t in table.tiers]),
            )
            for table in tables
        ]

    def maintenance(self, notionals: Floats) -> Floats:
        total = np.zeros(notionals.shape[0])
        for j, (caps, mmr, cum) in enumerate(self.tables):
            notional = notionals[:, j]
            tier = np.minimum(np.searchsorted(caps, notional, side="right"), len(caps) - 1)
            total += notional * mmr[tier] - cum[tier]
        return total


class StressKernel:
    """A compiled account: ``evaluate`` maps ``(N, K)`` multipliers to a ``KernelResult``."""

    def __init__(self, book: _Book, evaluator: Callable[[Floats], KernelResult]) -> None:
        self.book = book
        self._evaluator = evaluator

    @property
    def assets(self) -> tuple[str, ...]:
        return self.book.assets

    def evaluate(self, multipliers: Floats) -> KernelResult:
        moves = np.asarray(multipliers, dtype=np.float64)
        if moves.ndim != 2 or moves.shape[1] != len(self.assets):
            raise ConfigError(
                f"multipliers must be (N, {len(self.assets)}) for {', '.join(self.assets)}"
            )
        return self._evaluator(moves)


def compile_kernel(model: CrossMarginModel, account: AccountSnapshot) -> StressKernel:
    """Compile ``account`` under ``model`` into a vectorised kernel."""
    book = _Book(model, account)
    if isinstance(model, BinanceUsdmCross | HyperliquidCross):
        return StressKernel(book, _perp_evaluator(model, book))
    if isinstance(model, BybitUtaCross):
        return StressKernel(book, _bybit_evaluator(model, book))
    if isinstance(model, FtxCross):
        return StressKernel(book, _ftx_evaluator(model, book))
    if isinstance(model, BinanceCrossMargin):
        return StressKernel(book, _binance_margin_evaluator(model, book))
    raise ConfigError(f"no vectorised stress kernel for {model.venue}")


def _perp_evaluator(
    model: BinanceUsdmCross | HyperliquidCross, book: _Book
) -> Callable[[Floats], KernelResult]:
    tiers = _Tiers([model.table(p.instrument) for p in book.positions])
    multi = isinstance(model, BinanceUsdmCross) and model.multi_assets
    wallet = float(book.account.balance(model.quote))
    assets = sorted(set(book.account.balances) | set(book.settles))
    ratios = model.collateral_ratios if isinstance(model, BinanceUsdmCross) else {}

    def run(moves: Floats) -> KernelResult:
        marks = book.marks(moves)
        upnl = book.upnl(marks)
        if multi:
            equity = np.zeros(moves.shape[0])
            for asset in assets:
                amount = float(book.account.balance(asset)) + book.settled_upnl(upnl, asset)
                value = amount * book.price(moves, asset)
                ratio = float(ratios.get(asset, Decimal(1)))
                equity += np.where(amount > 0, value * ratio, value)
        else:
            equity = wallet + upnl.sum(axis=1)
        maintenance = tiers.maintenance(np.abs(book.size) * marks)
        if isinstance(model, HyperliquidCross):
            liquidated = equity < maintenance
        else:
            liquidated = maintenance >= equity
        return KernelResult(equity, maintenance, liquidated & bool(book.positions))

    return run


def _bybit_evaluator(model: BybitUtaCross, book: _Book) -> Callable[[Floats], KernelResult]:
    account, quote = book.account, model.quote
    tiers = _Tiers([model.table(p.instrument) for p in book.positions])
    coins = sorted(
        {coin for coin, amount in account.balances.items() if amount}
        | set(book.settles)
        | {loan.asset for loan in account.loans}
    )
    owed: dict[str, float] = {}
    for loan in account.loans:
        owed[loan.asset] = owed.get(loan.asset, 0.0) + float(loan.liability)
    borrowed = {coin: float(amount) for coin, amount in model.borrowed(account).items() if amount}
    orders = []
    for order in account.orders:
        spec = instrument_spec(order.instrument)
        held = account.position(order.instrument)
        reference = held.mark_price if held is not None else account.price_of(spec.base, quote)
        orders.append((float(order.quantity), float(order.price), float(reference), spec.base))
    haircut = float(model.haircut_loss)

    def run(moves: Floats) -> KernelResult:
        marks = book.marks(moves)
        upnl = book.upnl(marks)
        balance = np.zeros(moves.shape[0])
        for coin in coins:
            amount = float(account.balance(coin)) + book.settled_upnl(upnl, coin)
            amount = amount - owed.get(coin, 0.0)
            value = amount * book.price(moves, coin)
            ratio = float(model.collateral_ratios.get(coin, model.default_collateral_ratio))
            balance += np.where(amount > 0, value * ratio, value)
        loss = np.zeros(moves.shape[0])
        for quantity, price, reference, base in orders:
            moved = moves[:, book.column[base]] if base in book.column else np.ones(len(moves))
            loss += np.minimum(0.0, quantity * (reference * moved - price))
        maintenance = tiers.maintenance(np.abs(book.size) * marks)
        for coin, debt in borrowed.items():
            rate = float(model.borrow_mm_rates.get(coin, model.default_borrow_mm_rate))
            maintenance = maintenance + debt * book.price(moves, coin) * rate
        denominator = balance - haircut + loss
        margined = bool(book.positions) or bool(borrowed)
        liquidated = (maintenance > 0) & (maintenance >= denominator) & margined
        return KernelResult(denominator, maintenance, liquidated)

    return run


def _ftx_evaluator(model: FtxCross, book: _Book) -> Callable[[Floats], KernelResult]:
    account = book.account
    mmf = np.array(
        [
            float(model.market(p.instrument).mmf(p.size, model.base_mmf, model.mmf_slope))
            for p in book.positions
        ]
    )
    coins = []
    for coin, amount in sorted(account.balances.items()):
        if not amount:
            continue
        weights = model.coin(coin)
        weight = weights.w_total(amount) if amount > 0 else Decimal(1)
        borrow = amount < 0 and model.borrows_margined
        fraction = weights.borrow_mmf(amount, model.mmf_slope) if borrow else Decimal(0)
        coins.append((coin, float(amount), float(weight), float(fraction)))
    lines = bool(book.positions) or any(fraction for *_, fraction in coins)

    def run(moves: Floats) -> KernelResult:
        marks = book.marks(moves)
        tav = book.upnl(marks).sum(axis=1)
        maintenance = (np.abs(book.size) * marks * mmf).sum(axis=1)
        for coin, amount, weight, fraction in coins:
            value = amount * book.price(moves, coin)
            tav = tav + value * weight
            maintenance = maintenance - value * fraction
        return KernelResult(tav, maintenance, (tav < maintenance) & lines)

    return run


def _binance_margin_evaluator(
    model: BinanceCrossMargin, book: _Book
) -> Callable[[Floats], KernelResult]:
    account, rules = book.account, model.rules
    if account.positions:
        raise ConfigError("Binance Cross Margin holds no derivatives positions")
    held = [
        (a, float(v), float(model.collateral_ratio(a))) for a, v in account.balances.items() if v
    ]
    loans = [(loan.asset, float(loan.liability)) for loan in account.loans]
    brackets = {}
    if rules.is_pro:
        for asset, _ in loans:
            table = model.brackets(asset).brackets
            brackets[asset] = tuple(
                np.array([float(getattr(b, name)) for b in table])
                for name in ("floor", "mmr", "maintenance_amount")
            )
    orders = []
    for order in account.orders:
        spec = instrument_spec(order.instrument)
        orders.append((abs(float(order.quantity)), float(order.price), order.quantity > 0, spec))
    liquidation_ml = float(rules.liquidation_ml)

    def run(moves: Floats) -> KernelResult:
        n = moves.shape[0]
        assets, collateral, owed = np.zeros(n), np.zeros(n), np.zeros(n)
        for asset, amount, ratio in held:
            value = amount * book.price(moves, asset)
            assets += value
            collateral += value * ratio
        maintenance = np.zeros(n)
        for asset, liability in loans:
            value = liability * book.price(moves, asset)
            owed += value
            if asset in brackets:
                floors, mmr, amounts = brackets[asset]
                tier = np.maximum(np.searchsorted(floors, value, side="right") - 1, 0)
                maintenance += np.where(value > 0, value * mmr[tier] - amounts[tier], 0.0)
        if not rules.is_pro:
            maintenance = owed * (liquidation_ml - 1)
            liquidated = (owed > 0) & (assets <= liquidation_ml * owed)
            return KernelResult(assets - owed, maintenance, liquidated)
        loss = np.zeros(n)
        for quantity, price, buy, spec in orders:
            base = (
                quantity * book.price(moves, spec.base) * float(model.collateral_ratio(spec.base))
            )
            paid = quantity * price * book.price(moves, spec.quote)
            paid = paid * float(model.collateral_ratio(spec.quote))
            loss += np.maximum(0.0, paid - base) if buy else np.maximum(0.0, base - paid)
        usable = collateral - owed - loss
        liquidated = (maintenance > 0) & (usable <= liquidation_ml * maintenance) & bool(loans)
        return KernelResult(assets - owed, maintenance, liquidated)

    return run
