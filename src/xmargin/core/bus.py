"""A small synchronous publish/subscribe bus, keyed by message type."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

Handler = Callable[[Any], None]


class MessageBus:
    """Deliver each published message to the handlers of its exact type, in subscription order.

    Delivery is synchronous and depth-first: a handler that publishes sees its message
    handled before ``publish`` returns. Handlers subscribed to ``object`` see everything.
    """

    __slots__ = ("_handlers",)

    def __init__(self) -> None:
        self._handlers: dict[type, list[Handler]] = defaultdict(list)

    def subscribe(self, message_type: type, handler: Handler) -> None:
        self._handlers[message_type].append(handler)

    def unsubscribe(self, message_type: type, handler: Handler) -> None:
        self._handlers[message_type].remove(handler)

    def publish(self, message: object) -> None:
        for handler in tuple(self._handlers.get(type(message), ())):
            handler(message)
        for handler in tuple(self._handlers.get(object, ())):
            handler(message)
