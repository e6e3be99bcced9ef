"""Plain-data rendering of commands and events: Decimals as strings, nanoseconds as ``ts_ms``."""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal
from enum import Enum
from typing import Any


def decimal_string(value: Decimal) -> str:
    """Render a Decimal exactly, without exponent or trailing zeros (``0E-13`` → ``0``)."""
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


def to_plain(value: Any) -> Any:
    """Render a value for JSON: Decimal → exact text without exponent, Enum → value, tuples
    → lists."""
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    return value


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def record_of(message: Any) -> dict[str, Any]:
    """Return ``{"type": ClassName, "ts_ms": …, field: value…}`` for a dataclass message."""
    kind = type(message)
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = tuple(f.name for f in fields(message) if f.name != "ts_event")
    record: dict[str, Any] = {"type": kind.__name__}
    ts_event = getattr(message, "ts_event", None)
    if ts_event is not None:
        record["ts_ms"] = ts_event // 1_000_000
    for name in names:
        record[name] = to_plain(getattr(message, name))
    return record
