"""Read a TOML or JSON document exactly: every number a Decimal, every key given once.

Any failure is one :class:`ConfigError` naming the file (and the line where the parser
knows it): unreadable or non-UTF-8 files, malformed syntax, a key or table given twice
(TOML and JSON alike), ``NaN``/``Infinity`` in JSON, and integers too long to read.
"""

from __future__ import annotations

import json
import re
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

from xmargin.core.errors import NESTED_TOO_DEEPLY, ConfigError
from xmargin.model.numbers import MAX_SIGNIFICANT_DIGITS

_LONG_DIGIT_RUN = re.compile(r"\d{4000,}")
_DUPLICATE_HINTS = ("Cannot overwrite", "Cannot declare", "Duplicate")


class _DuplicateKeyError(ValueError):
    pass


def read_document(path: Path, *, toml_only: bool = False) -> dict[str, Any]:
    """Parse ``path`` into a table with Decimal numbers: TOML, or JSON for a ``.json`` file.

    ``toml_only`` reads TOML whatever the suffix (run configs); otherwise the suffix must be
    ``.toml`` or ``.json``.
    """
    suffix = ".toml" if toml_only else path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise ConfigError("unsupported file type (use .toml or .json)", where=str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", where=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read file: {exc}", where=str(path)) from None
    try:
        if suffix == ".json":
            document = json.loads(
                text,
                parse_float=Decimal,
                parse_int=Decimal,
                parse_constant=_reject_constant,
                object_pairs_hook=_unique_keys,
            )
        else:
            document = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        hint = "; a key or table is given twice: keep one" if _is_duplicate(exc) else ""
        raise ConfigError(f"malformed TOML: {exc}{hint}", where=str(path)) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"malformed JSON: {exc}", where=str(path)) from None
    except _DuplicateKeyError as exc:
        raise ConfigError(
            f"key {exc} is given twice in one JSON object: keep one", where=str(path)
        ) from None
    except ValueError as exc:  # tomllib's int() of thousands of digits, or a NaN constant
        raise ConfigError(_number_failure(text, exc), where=str(path)) from None
    except RecursionError:
        raise ConfigError(NESTED_TOO_DEEPLY, where=str(path)) from None
    if not isinstance(document, dict):
        raise ConfigError("must hold a table/object at the top level", where=str(path))
    return document


def _reject_constant(name: str) -> Decimal:
    raise ValueError(f"{name} — expected a finite number (NaN and Infinity are not amounts)")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(repr(key))
        result[key] = value
    return result


def _is_duplicate(exc: tomllib.TOMLDecodeError) -> bool:
    return any(hint in str(exc) for hint in _DUPLICATE_HINTS)


def _number_failure(text: str, exc: ValueError) -> str:
    run = _LONG_DIGIT_RUN.search(text)
    if run is None:
        return str(exc)
    line = text.count("\n", 0, run.start()) + 1
    return (
        f"line {line}: a number of {len(run.group())} digits — expected at most "
        f"{MAX_SIGNIFICANT_DIGITS} significant digits"
    )
