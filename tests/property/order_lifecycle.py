"""The order lifecycle as the tests expect it, written out edge by edge from the design
(ARCHITECTURE.md §4, docs/decisions/0004), independently of ``xmargin.model.orders``."""

from __future__ import annotations

WORKING = {"canceled", "expired", "pending_update", "pending_cancel", "partially_filled", "filled"}

ALLOWED: dict[str, set[str]] = {
    "initialized": {"denied", "submitted"},
    "submitted": {"accepted", "rejected", "canceled", "partially_filled", "filled"},
    "accepted": WORKING | {"triggered", "rejected"},
    "triggered": WORKING | {"rejected"},
    "pending_update": WORKING | {"accepted", "triggered"},
    "pending_cancel": {"canceled", "partially_filled", "filled", "accepted"},
    "partially_filled": WORKING,
    "denied": set(),
    "rejected": set(),
    "filled": set(),
    "canceled": set(),
    "expired": set(),
}

TERMINAL = {status for status, targets in ALLOWED.items() if not targets}
