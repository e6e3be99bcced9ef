"""The hook every order passes before it reaches a venue, in every environment."""

from __future__ import annotations

from typing import Any, Protocol

from xmargin.model.orders import Order

Denial = tuple[str, str]


class RiskHook(Protocol):
    """Return ``(rule, reason with the numbers)`` to deny an order, or None to let it pass."""

    def check(self, order: Order, kernel: Any) -> Denial | None: ...


class NoPreTradeChecks:
    """Lets every order through; the venue's own margin rules still apply."""

    def check(self, order: Order, kernel: Any) -> Denial | None:
        return None
