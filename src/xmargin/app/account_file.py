"""Load an account file (TOML or JSON) into a venue margin model and an account snapshot.

Every mistake is reported as one ``ConfigError`` naming the file, the field and the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from xmargin.core.errors import ConfigError, DataError
from xmargin.margin.base import CrossMarginModel
from xmargin.margin.registry import build_model
from xmargin.margin.snapshot import AccountSnapshot, LoanSnapshot, OrderSnapshot, PositionSnapshot
from xmargin.margin.tiers import TieredModel, leverage_above_tier
from xmargin.model.documents import read_document
from xmargin.model.numbers import NumberError, parse_decimal, parse_non_negative, parse_positive

TOP_LEVEL_KEYS = frozenset(
    {"venue", "name", "description", "balances", "positions", "loans", "prices", "orders", "params"}
)
POSITION_KEYS = frozenset({"instrument", "size", "entry_price", "mark_price", "leverage"})
LOAN_KEYS = frozenset({"asset", "principal", "interest"})
ORDER_KEYS = frozenset({"instrument", "side", "quantity", "price"})
MAX_VALUE = Decimal("1e15")
"""The largest value of one balance, loan, position or order, in the quote (a quadrillion)."""


@dataclass(frozen=True)
class AccountFile:
    """A loaded account: where it came from, its model and its snapshot."""

    path: Path
    name: str
    model: CrossMarginModel
    snapshot: AccountSnapshot


def load_account_file(path: str | Path) -> AccountFile:
    """Load and validate an account file."""
    path = Path(path)
    document = read_document(path)
    source = str(path)
    unknown = sorted(set(document) - TOP_LEVEL_KEYS)
    if unknown:
        raise ConfigError(
            f"unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(TOP_LEVEL_KEYS))})",
            where=source,
        )
    if "venue" not in document:
        raise ConfigError(
            'missing: name the margin model, e.g. venue = "binance_usdm_cross"',
            where=f"{source}: venue",
        )
    params = _table(document, "params", source)
    model = build_model(document["venue"], params, source=source, base_dir=path.parent)
    reader = _Fields(source)
    balances = {
        reader.asset(asset, "balances", model): reader.number(value, f"balances.{asset}")
        for asset, value in _table(document, "balances", source).items()
    }
    prices = {
        str(asset): reader.positive(value, f"prices.{asset}")
        for asset, value in _table(document, "prices", source).items()
    }
    positions = tuple(
        reader.position(item, f"positions[{i}]", model)
        for i, item in enumerate(_list(document, "positions", source))
    )
    reader.once([p.instrument for p in positions], "positions", "instrument", "one net position")
    for i, position in enumerate(positions):
        reader.leverage_within_tier(position, f"positions[{i}]", model)
    loans = tuple(
        reader.loan(item, f"loans[{i}]", model)
        for i, item in enumerate(_list(document, "loans", source))
    )
    reader.once([loan.asset for loan in loans], "loans", "asset", "one loan")
    orders = tuple(
        reader.order(item, f"orders[{i}]", model)
        for i, item in enumerate(_list(document, "orders", source))
    )
    snapshot = AccountSnapshot(balances, positions, loans, prices, orders)
    _check_prices(snapshot, model, source)
    check_values(snapshot, model.quote, source)
    _assess(snapshot, model, source)
    name = str(document.get("name") or path.stem)
    return AccountFile(path, name, model, snapshot)


def _check_prices(snapshot: AccountSnapshot, model: CrossMarginModel, source: str) -> None:
    """Every non-quote asset held or owed needs a valuation price."""
    held = [a for a, v in snapshot.balances.items() if v != 0]
    owed = [loan.asset for loan in snapshot.loans]
    for asset in held + owed:
        if asset != model.quote and asset not in snapshot.prices:
            raise ConfigError(
                f"missing valuation price of {asset} in {model.quote}",
                where=f"{source}: prices.{asset}",
            )


def check_value(amount: Decimal, price: Decimal, quote: str, where: str, what: str) -> None:
    """Refuse ``amount`` at ``price`` when it is worth more than :data:`MAX_VALUE`.

    Exact sums and displays of larger values would pass the ``decimal`` context's precision.
    """
    value = abs(amount) * price
    if value > MAX_VALUE:
        raise ConfigError(
            f"{what} of {value:.3E} {quote} ({amount} at {price}) — expected at most "
            f"{MAX_VALUE:,f} {quote}",
            where=where,
        )


def check_values(snapshot: AccountSnapshot, quote: str, source: str) -> None:
    """Refuse a balance, loan, position or order worth more than :data:`MAX_VALUE`."""

    def check(amount: Decimal, price: Decimal, field: str, what: str) -> None:
        check_value(amount, price, quote, f"{source}: {field}", what)

    def price_of(asset: str) -> Decimal:
        return Decimal(1) if asset == quote else snapshot.prices.get(asset, Decimal(1))

    for asset, amount in snapshot.balances.items():
        check(amount, price_of(asset), f"balances.{asset}", "a value")
    for i, loan in enumerate(snapshot.loans):
        check(loan.principal + loan.interest, price_of(loan.asset), f"loans[{i}]", "a debt")
    for i, position in enumerate(snapshot.positions):
        for price in (position.entry_price, position.mark_price):
            check(position.size, price, f"positions[{i}].size", "a notional")
    for i, order in enumerate(snapshot.orders):
        check(order.quantity, order.price, f"orders[{i}].quantity", "a notional")


def _assess(snapshot: AccountSnapshot, model: CrossMarginModel, source: str) -> None:
    try:
        model.assess(snapshot)
    except DataError as exc:
        raise ConfigError(str(exc), where=source) from None


def _table(document: Mapping[str, Any], key: str, source: str) -> dict[str, Any]:
    value = document.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"must be a table, got {value!r}", where=f"{source}: {key}")
    return dict(value)


def _list(document: Mapping[str, Any], key: str, source: str) -> list[Mapping[str, Any]]:
    value = document.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise ConfigError(f"must be a list of tables, got {value!r}", where=f"{source}: {key}")
    return value


class _Fields:
    """Validate the fields of one document, naming ``source: field`` in every error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, field: str, message: str) -> ConfigError:
        return ConfigError(message, where=f"{self.source}: {field}")

    def _parse(self, parser: Any, value: object, field: str) -> Decimal:
        try:
            return parser(value)  # type: ignore[no-any-return]
        except NumberError as exc:
            raise self.fail(field, str(exc)) from None

    def number(self, value: object, field: str) -> Decimal:
        return self._parse(parse_decimal, value, field)

    def positive(self, value: object, field: str) -> Decimal:
        return self._parse(parse_positive, value, field)

    def non_negative(self, value: object, field: str) -> Decimal:
        return self._parse(parse_non_negative, value, field)

    def once(self, names: list[str], where: str, key: str, fix: str) -> None:
        """Reject a name given twice (two positions on one instrument, two loans of one asset)."""
        first: dict[str, int] = {}
        for i, name in enumerate(names):
            if name in first:
                raise self.fail(
                    f"{where}[{i}].{key}",
                    f"{name!r} is also {where}[{first[name]}]: give {fix} per {key}",
                )
            first[name] = i

    def leverage_within_tier(
        self, position: PositionSnapshot, where: str, model: CrossMarginModel
    ) -> None:
        """A leverage written for a position may not exceed its notional's tier maximum."""
        if not isinstance(model, TieredModel):
            return
        written: Mapping[str, Decimal] = getattr(model, "leverage", {})
        if position.leverage is not None:
            leverage, field = position.leverage, f"{where}.leverage"
        elif position.instrument in written:
            leverage = written[position.instrument]
            field = f"params.leverage.{position.instrument}"
        else:
            return
        table = model.table(position.instrument)
        excess = leverage_above_tier(table, leverage, model.quote, position.notional)
        if excess is not None:
            raise self.fail(field, excess)

    def asset(self, asset: str, where: str, model: CrossMarginModel) -> str:
        if not model.knows_asset(asset):
            raise self.fail(f"{where}.{asset}", f"unknown asset {asset!r} for {model.venue}")
        return asset

    def required(self, item: Mapping[str, Any], key: str, where: str) -> Any:
        if key not in item:
            raise self.fail(f"{where}.{key}", "missing")
        return item[key]

    def keys(self, item: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
        unknown = sorted(set(item) - allowed)
        if unknown:
            raise self.fail(
                where,
                f"unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})",
            )

    def instrument(self, item: Mapping[str, Any], where: str, model: CrossMarginModel) -> str:
        symbol = self.required(item, "instrument", where)
        if not isinstance(symbol, str) or not model.knows(symbol):
            raise self.fail(
                f"{where}.instrument", f"unknown instrument {symbol!r} for {model.venue}"
            )
        return symbol

    def position(
        self, item: Mapping[str, Any], where: str, model: CrossMarginModel
    ) -> PositionSnapshot:
        self.keys(item, POSITION_KEYS, where)
        symbol = self.instrument(item, where, model)
        leverage = item.get("leverage")
        return PositionSnapshot(
            symbol,
            self.number(self.required(item, "size", where), f"{where}.size"),
            self.positive(self.required(item, "entry_price", where), f"{where}.entry_price"),
            self.positive(self.required(item, "mark_price", where), f"{where}.mark_price"),
            None if leverage is None else self.positive(leverage, f"{where}.leverage"),
        )

    def loan(self, item: Mapping[str, Any], where: str, model: CrossMarginModel) -> LoanSnapshot:
        self.keys(item, LOAN_KEYS, where)
        asset = self.required(item, "asset", where)
        if not isinstance(asset, str) or not model.knows_asset(asset):
            raise self.fail(f"{where}.asset", f"unknown asset {asset!r} for {model.venue}")
        principal = self.non_negative(self.required(item, "principal", where), f"{where}.principal")
        interest = self.non_negative(item.get("interest", 0), f"{where}.interest")
        return LoanSnapshot(asset, principal, interest)

    def order(self, item: Mapping[str, Any], where: str, model: CrossMarginModel) -> OrderSnapshot:
        self.keys(item, ORDER_KEYS, where)
        symbol = self.instrument(item, where, model)
        side = self.required(item, "side", where)
        if side not in ("buy", "sell"):
            raise self.fail(f"{where}.side", f"must be buy or sell, got {side!r}")
        quantity = self.positive(self.required(item, "quantity", where), f"{where}.quantity")
        price = self.positive(self.required(item, "price", where), f"{where}.price")
        return OrderSnapshot(symbol, quantity if side == "buy" else -quantity, price)
