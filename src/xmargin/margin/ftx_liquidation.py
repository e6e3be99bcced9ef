"""FTX liquidation ladder, zero prices, backstop split (spec §A.7) and conversion sales (§A.6).

Pure helpers for the simulated exchange's risk pass and its 1-second / 6-second timers.
Sizes are signed as held (a borrow is a negative ``COIN/USD`` line); quantities returned
for orders are the signed trades that reduce them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

from xmargin.margin.base import MarginState
from xmargin.margin.ftx import ConversionTarget, FtxCross
from xmargin.margin.snapshot import AccountSnapshot
from xmargin.model.numbers import ONE, ZERO

_CONVERSION_RESOLUTION = Decimal("1e-8")  # USD


def zero_price(size: Decimal, mark: Decimal, fraction: Decimal) -> Decimal:
    """Return ``mark × (1 ∓ fraction)``: ZP with ``fraction = MF``, PZP with ``PMPD``."""
    return mark * (1 - fraction) if size > 0 else mark * (1 + fraction)


def mark_price_deltas(model: FtxCross, account: AccountSnapshot) -> dict[str, Decimal]:
    """Return PMPD per margined line: its share of maintenance times TAV, over its notional."""
    rows = [r for r in model.requirements(account) if r.notional]
    maintenance = sum((r.maintenance_margin for r in rows), ZERO)
    tav = model.total_account_value(account)
    return {r.instrument: r.maintenance_margin / maintenance * tav / r.notional for r in rows}


def position_zero_prices(model: FtxCross, account: AccountSnapshot) -> dict[str, Decimal]:
    """Return PZP per margined line; closing every line at its PZP consumes exactly TAV."""
    rows = {r.instrument: r for r in model.requirements(account)}
    return {
        name: zero_price(rows[name].size, rows[name].price, delta)
        for name, delta in mark_price_deltas(model, account).items()
    }


def liquidation_chunk(
    size: Decimal, mark: Decimal, fraction: Decimal, min_notional: Decimal
) -> Decimal:
    """Return ``min(|q|, max(fraction × |q|, min_notional / mark))``, the size to close now."""
    return min(abs(size), max(fraction * abs(size), min_notional / mark))


def liquidation_order_price(reference: Decimal, size: Decimal, offset: Decimal) -> Decimal:
    """Return the IOC limit ``offset`` through ``reference``: below it to sell a long."""
    return reference * (1 - offset) if size > 0 else reference * (1 + offset)


def auto_close_fraction(margin_fraction: Decimal, acmf: Decimal) -> Decimal:
    """Return ``1 − MF / ACMF`` per second (all of it once MF < 0)."""
    if margin_fraction < 0 or acmf <= 0:
        return ONE
    return max(ZERO, 1 - margin_fraction / acmf)


def backstop_fill_price(pzp: Decimal, mark: Decimal, blp_share: Decimal) -> Decimal:
    """Return the backstop's price ``blp_share × PZP + (1 − blp_share) × mark``."""
    return blp_share * pzp + (1 - blp_share) * mark


def backstop_gain(size: Decimal, mark: Decimal, fill: Decimal) -> Decimal:
    """Return the backstop counterparty's mark gain on taking over ``size`` at ``fill``."""
    return size * (mark - fill)


def backstop_fund_share(size: Decimal, pzp: Decimal, fill: Decimal) -> Decimal:
    """Return what the backstop fund is credited: the gap between the two fill prices."""
    return size * (fill - pzp)


@dataclass(frozen=True, slots=True)
class LadderOrder:
    """A liquidation IOC order: signed quantity (reduces the line) at a limit price."""

    instrument: str
    quantity: Decimal
    price: Decimal


@dataclass(frozen=True, slots=True)
class BackstopFill:
    """One auto-close trade: the account closes at ``account_price``, the backstop fills at
    ``backstop_price`` and the backstop fund is credited ``fund_credit``."""

    instrument: str
    quantity: Decimal
    account_price: Decimal
    backstop_price: Decimal
    fund_credit: Decimal


def liquidation_orders(model: FtxCross, account: AccountSnapshot) -> tuple[LadderOrder, ...]:
    """Return the 6-second step's chunk orders, priced through the mark, when liquidating."""
    if model.state(account) is not MarginState.LIQUIDATING:
        return ()
    orders = []
    for row in model.requirements(account):
        if row.size:
            chunk = liquidation_chunk(
                row.size, row.price, model.liq_chunk_fraction, model.liq_min_notional
            )
            price = liquidation_order_price(row.price, row.size, model.liq_price_offset)
            orders.append(LadderOrder(row.instrument, -chunk if row.size > 0 else chunk, price))
    return tuple(orders)


def auto_close_fills(model: FtxCross, account: AccountSnapshot) -> tuple[BackstopFill, ...]:
    """Return this second's auto-close trades against the backstop; none unless auto-closing."""
    if model.state(account) is not MarginState.AUTO_CLOSE:
        return ()
    fraction = auto_close_fraction(model.margin_fraction(account), model.acmf(account))
    zero_prices = position_zero_prices(model, account)
    fills = []
    for row in model.requirements(account):
        if row.instrument not in zero_prices:
            continue
        closed = liquidation_chunk(row.size, row.price, fraction, model.liq_min_notional)
        closed = closed if row.size > 0 else -closed
        pzp = zero_prices[row.instrument]
        fill = backstop_fill_price(pzp, row.price, model.blp_share)
        fund = backstop_fund_share(closed, pzp, fill)
        fills.append(BackstopFill(row.instrument, -closed, pzp, fill, fund))
    return tuple(fills)


def conversion_sales(model: FtxCross, account: AccountSnapshot) -> tuple[tuple[str, Decimal], ...]:
    """Return ``(coin, quantity)`` to sell for USD, largest weighted collateral first.

    Sales are valued at the coins' valuation prices without fees. With
    ``ConversionTarget.CLEAR_TRIGGERS`` the smallest USD amount that ends every trigger
    (found to 1e-8 USD) is raised by ``conversion_buffer``; with ``ZERO_USD`` the sales
    cover the negative USD balance exactly. Sales never exceed the coins held.
    """
    if not model.conversion_triggered(account):
        return ()
    deficit = -account.balance(model.quote)
    with localcontext() as ctx:
        ctx.prec = 50
        if model.conversion_target is ConversionTarget.ZERO_USD:
            target = deficit
        else:
            low, high = ZERO, deficit
            while high - low > _CONVERSION_RESOLUTION:
                middle = (low + high) / 2
                if model.conversion_triggered(_after_sales(model, account, middle)):
                    low = middle
                else:
                    high = middle
            target = high * (1 + model.conversion_buffer)
        return _sales(model, account, target)


def _sales(
    model: FtxCross, account: AccountSnapshot, value: Decimal
) -> tuple[tuple[str, Decimal], ...]:
    """Split a USD amount over the coins, largest weighted collateral first."""
    held = []
    for coin, amount in account.balances.items():
        if coin != model.quote and amount > 0:
            price = account.price_of(coin, model.quote)
            held.append((amount * price * model.coin(coin).w_total(amount), coin, amount, price))
    sales = []
    for _, coin, amount, price in sorted(held, key=lambda item: (-item[0], item[1])):
        if value <= 0:
            break
        quantity = min(amount, value / price)
        sales.append((coin, quantity))
        value -= quantity * price
    return tuple(sales)


def _after_sales(model: FtxCross, account: AccountSnapshot, value: Decimal) -> AccountSnapshot:
    for coin, quantity in _sales(model, account, value):
        price = account.price_of(coin, model.quote)
        account = account.with_balance(coin, account.balance(coin) - quantity)
        account = account.with_balance(model.quote, account.balance(model.quote) + quantity * price)
    return account
