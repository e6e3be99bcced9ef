"""Deterministic identifiers: a prefix and a counter per prefix."""

from __future__ import annotations


class IdGenerator:
    """Generate ids such as ``O-000001``; the same sequence of calls gives the same ids."""

    __slots__ = ("_counters", "_namespace")

    def __init__(self, namespace: str = "") -> None:
        self._namespace = namespace
        self._counters: dict[str, int] = {}

    def next(self, prefix: str) -> str:
        """Return the next id for ``prefix``."""
        n = self._counters.get(prefix, 0) + 1
        self._counters[prefix] = n
        ns = f"{self._namespace}-" if self._namespace else ""
        return f"{ns}{prefix}-{n:06d}"
