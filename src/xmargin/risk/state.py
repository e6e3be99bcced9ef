"""Trading state: ACTIVE → REDUCING → HALTED, escalating on its own, resuming only on command."""

from __future__ import annotations

from enum import StrEnum

from xmargin.core.errors import IllegalTransitionError


class TradingState(StrEnum):
    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


class TradingStateMachine:
    """The latching kill switch: breakers only escalate; only ``resume`` de-escalates."""

    __slots__ = ("reason", "state")

    def __init__(self) -> None:
        self.state = TradingState.ACTIVE
        self.reason = ""

    def escalate(self, target: TradingState, reason: str) -> TradingState | None:
        """Move to ``target`` if it is more severe; return the previous state when it moved."""
        if target.severity <= self.state.severity:
            return None
        previous = self.state
        self.state = target
        self.reason = reason
        return previous

    def resume(self, reason: str) -> TradingState:
        """Return to ACTIVE by an explicit command; return the previous state."""
        if self.state is TradingState.ACTIVE:
            raise IllegalTransitionError("trading is already active")
        previous = self.state
        self.state = TradingState.ACTIVE
        self.reason = reason
        return previous
