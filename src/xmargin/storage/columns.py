"""Column types: exact money as ``NUMERIC`` (as text on SQLite), time as integer nanoseconds.

PostgreSQL's ``NUMERIC`` without precision keeps every digit and the scale of a ``Decimal``.
SQLite has no decimal type: a ``NUMERIC`` column there would turn ``"1.10"`` into the float
``1.1``. On SQLite a money value is therefore stored as its exact decimal text (a ``VARCHAR``
column, TEXT affinity) and read back as the same ``Decimal``. Floats are refused: an
analytics float must be converted on purpose (see :func:`decimal_from_float`).
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import BigInteger, Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from xmargin.core.errors import InvariantError

Nanos = BigInteger


class Money(TypeDecorator[Decimal]):
    """An exact ``Decimal``: ``NUMERIC`` on PostgreSQL, decimal text on SQLite."""

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String())
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return money_parameter(value, dialect.name == "sqlite")

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(str(value))


def money_parameter(value: Any, as_text: bool) -> Any:
    """The driver value of a money amount: exact text (SQLite) or the ``Decimal`` itself."""
    if value is None:
        return None
    if isinstance(value, float | bool):
        raise InvariantError(f"a float or bool ({value!r}) cannot be stored as money")
    amount = value if isinstance(value, Decimal) else Decimal(value)
    if not amount.is_finite():
        raise InvariantError(f"money must be finite, got {amount}")
    return str(amount) if as_text else amount


def decimal_from_float(value: float | None, places: int = 8) -> Decimal | None:
    """Convert an analytics float to a ``Decimal`` rounded to ``places`` (None and NaN → None)."""
    if value is None or not math.isfinite(value):
        return None
    exact = Decimal(repr(value))
    try:
        return exact.quantize(Decimal(1).scaleb(-places))
    except InvalidOperation:
        return exact
