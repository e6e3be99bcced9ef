"""The hook every order and every other venue command passes before it reaches a venue."""

from __future__ import annotations

from typing import Any, Protocol

from xmargin.model.commands import (
    COMMAND_NAMES,
    Borrow,
    CancelOrder,
    ModifyOrder,
    Repay,
    SetLeverage,
    Transfer,
    VenueCommand,
)
from xmargin.model.events import CommandDenied
from xmargin.model.orders import Order

Denial = tuple[str, str]


class RiskHook(Protocol):
    """Return ``(rule, reason with the numbers)`` to deny, or None to let it pass.

    ``check`` sees every order; ``check_command`` every cancel, modify, borrow, repay,
    transfer and leverage change. Nothing reaches a venue without one of them.
    """

    def check(self, order: Order, kernel: Any) -> Denial | None: ...

    def check_command(self, command: VenueCommand, kernel: Any) -> Denial | None: ...


class NoPreTradeChecks:
    """Lets every order and command through; the venue's own rules still apply."""

    def check(self, order: Order, kernel: Any) -> Denial | None:
        return None

    def check_command(self, command: VenueCommand, kernel: Any) -> Denial | None:
        return None


def denial_event(command: VenueCommand, rule: str, reason: str) -> CommandDenied:
    """The ``CommandDenied`` event of a command the hook refused."""
    name = COMMAND_NAMES[type(command)]
    if isinstance(command, CancelOrder | ModifyOrder):
        return CommandDenied(
            command.ts_event,
            command.account,
            name,
            rule,
            reason,
            command.strategy_id,
            client_order_id=command.client_order_id,
        )
    if isinstance(command, SetLeverage):
        return CommandDenied(
            command.ts_event,
            command.account,
            name,
            rule,
            reason,
            command.strategy_id,
            instrument=command.instrument,
            amount=command.leverage,
        )
    account = command.from_account if isinstance(command, Transfer) else command.account
    assert isinstance(command, Borrow | Repay | Transfer)
    return CommandDenied(
        command.ts_event,
        account,
        name,
        rule,
        reason,
        command.strategy_id,
        asset=command.asset,
        amount=command.amount,
    )
