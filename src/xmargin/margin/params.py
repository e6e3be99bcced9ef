"""Read a model's ``params`` table strictly: typed values, exact numbers, unknown keys rejected."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from xmargin.core.errors import ConfigError
from xmargin.margin.tiers import TierTable, load_tier_file
from xmargin.model.numbers import NumberError, parse_integer, parse_number


class ParamReader:
    """Take typed values out of a params mapping; :meth:`finish` rejects whatever is left.

    ``where`` prefixes every error (for example ``account.toml: params``), so a bad value
    is reported as ``account.toml: params.account_leverage: -1 — expected a positive number``.
    """

    def __init__(
        self,
        params: Mapping[str, Any],
        where: str = "params",
        base_dir: Path | None = None,
        *,
        top_level: bool = False,
    ):
        self._params = dict(params)
        self._where = where
        self._base_dir = base_dir
        self._separator = ": " if top_level else "."

    @property
    def where(self) -> str:
        """The location prefix of every error, e.g. ``account.toml: params``."""
        return self._where

    def location(self, key: str) -> str:
        return f"{self._where}{self._separator}{key}"

    def fail(self, key: str, message: str) -> ConfigError:
        """Return an error about ``key`` located under this reader's prefix."""
        return ConfigError(message, where=self.location(key))

    _fail = fail

    def decimal(
        self,
        key: str,
        default: Decimal,
        *,
        minimum: Decimal | None = None,
        maximum: Decimal | None = None,
        strictly_positive: bool = False,
    ) -> Decimal:
        if key not in self._params:
            return default
        return self._check_decimal(key, self._params.pop(key), minimum, maximum, strictly_positive)

    def _check_decimal(
        self,
        key: str,
        raw: object,
        minimum: Decimal | None = None,
        maximum: Decimal | None = None,
        strictly_positive: bool = False,
    ) -> Decimal:
        if isinstance(raw, float):
            raw = repr(raw)
        try:
            return parse_number(raw, positive=strictly_positive, minimum=minimum, maximum=maximum)
        except NumberError as exc:
            raise self._fail(key, str(exc)) from None

    def integer(
        self, key: str, default: int, *, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        """Read a whole number within ``[minimum, maximum]`` (a fraction is an error, not cut)."""
        if key not in self._params:
            return default
        try:
            return parse_integer(self._params.pop(key), minimum=minimum, maximum=maximum)
        except NumberError as exc:
            raise self._fail(key, str(exc)) from None

    def decimal_map(
        self,
        key: str,
        *,
        strictly_positive: bool = False,
        minimum: Decimal | None = None,
        maximum: Decimal | None = None,
    ) -> dict[str, Decimal]:
        """Read a table of name → number (for example per-asset collateral ratios)."""
        raw = self._params.pop(key, {})
        if not isinstance(raw, Mapping):
            raise self._fail(key, f"must be a table of name = number, got {raw!r}")
        return {
            str(name): self._check_decimal(
                f"{key}.{name}",
                value,
                minimum=minimum,
                maximum=maximum,
                strictly_positive=strictly_positive,
            )
            for name, value in raw.items()
        }

    def decimal_or_map(self, key: str, default: Decimal) -> tuple[Decimal, dict[str, Decimal]]:
        """Read a positive number for every name, or a table of name → positive number.

        Returns ``(value for names not in the table, table)``.
        """
        if isinstance(self._params.get(key), Mapping):
            return default, self.decimal_map(key, strictly_positive=True)
        return self.decimal(key, default, strictly_positive=True), {}

    def boolean(self, key: str, default: bool) -> bool:
        if key not in self._params:
            return default
        raw = self._params.pop(key)
        if not isinstance(raw, bool):
            raise self._fail(key, f"must be true or false, got {raw!r}")
        return raw

    def choice(self, key: str, default: str, options: tuple[str, ...]) -> str:
        if key not in self._params:
            return default
        raw = self._params.pop(key)
        if raw not in options:
            raise self._fail(key, f"must be one of {', '.join(options)}, got {raw!r}")
        return str(raw)

    def text(self, key: str, default: str) -> str:
        raw = self._params.pop(key, default)
        if not isinstance(raw, str) or not raw:
            raise self._fail(key, f"must be a non-empty string, got {raw!r}")
        return raw

    def table(self, key: str) -> dict[str, Any]:
        """Read a nested table as-is (the caller validates its contents)."""
        raw = self._params.pop(key, {})
        if not isinstance(raw, Mapping):
            raise self._fail(key, f"must be a table, got {raw!r}")
        return dict(raw)

    def tiers(self, key: str, default: Mapping[str, TierTable]) -> dict[str, TierTable]:
        """Read a tier-file path (relative to the account file) and merge it over ``default``."""
        if key not in self._params:
            return dict(default)
        raw = self._params.pop(key)
        if not isinstance(raw, str):
            raise self._fail(key, f"must be a path to a tier CSV file, got {raw!r}")
        path = Path(raw).expanduser()
        if not path.is_absolute() and self._base_dir is not None:
            path = self._base_dir / path
        if not path.exists():
            raise self._fail(key, f"tier file not found: {path}")
        return {**default, **load_tier_file(path)}

    def take(self, key: str, default: Any = None) -> Any:
        """Take a raw value as written (the caller validates it)."""
        return self._params.pop(key, default)

    def finish(self) -> None:
        """Reject every key that was not read."""
        if self._params:
            names = ", ".join(sorted(self._params))
            raise ConfigError(f"unknown parameter(s): {names}", where=self._where)
