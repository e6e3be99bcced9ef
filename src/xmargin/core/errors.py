"""The four error families every xmargin failure belongs to."""

from __future__ import annotations

NESTED_TOO_DEEPLY = "nested too deeply to read (arrays or tables inside one another)"
"""The message for a document whose nesting exhausts the parser's recursion (RecursionError)."""


class XmarginError(Exception):
    """Root of every error raised on purpose by xmargin."""


class ConfigError(XmarginError):
    """Bad settings or user input, detected before any order is sent.

    ``where`` names the file (and field) at fault so the CLI can print one clear line.
    """

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class DataError(XmarginError):
    """Malformed market data or account data, rejected at the boundary.

    The message names the file, the row and the field.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.source = source
        self.row = row
        self.field = field
        parts = [p for p in (source, f"row {row}" if row is not None else None, field) if p]
        super().__init__(f"{', '.join(parts)}: {message}" if parts else message)


class InvariantError(XmarginError):
    """A broken internal invariant: a bug. Trading must halt."""


class IllegalTransitionError(InvariantError):
    """A state machine was asked for a transition it does not allow."""


class VenueError(XmarginError):
    """A venue refused or failed a request."""


class TransientVenueError(VenueError):
    """A venue failure worth retrying (timeouts, rate limits, 5xx)."""


class TerminalVenueError(VenueError):
    """A venue refusal that retrying cannot fix (insufficient margin, bad symbol)."""
