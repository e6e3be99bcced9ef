"""An asyncio loop on a thread of its own, with the thread-safe event queue the kernel drains."""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any

log = logging.getLogger(__name__)
QUERY_TIMEOUT_S = 60.0


class LoopThread:
    """Runs coroutines for a synchronous caller: fire-and-report, or wait for the answer."""

    def __init__(self, name: str, on_crash: Callable[[BaseException], object]) -> None:
        self.events: queue.Queue[object] = queue.Queue()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name=name)
        self._on_crash = on_crash

    def start(self) -> None:
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, closing: Coroutine[Any, Any, None]) -> None:
        """Run ``closing``, cancel every task left (ccxt's throttler outlives close()), stop."""
        if not self.running:
            closing.close()
            return
        self.wait(self._close(closing))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    @staticmethod
    async def _close(closing: Coroutine[Any, Any, None]) -> None:
        await closing
        current = asyncio.current_task()
        leftovers = [t for t in asyncio.all_tasks() if t is not current]
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)

    def schedule(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run ``coro`` on the loop; a crash is reported through ``on_crash``, never lost."""
        asyncio.run_coroutine_threadsafe(coro, self._loop).add_done_callback(self._done)

    def _done(self, future: Future[None]) -> None:
        exc = None if future.cancelled() else future.exception()
        if exc is not None:
            log.error("ccxt adapter task failed: %s", exc)
            self.events.put(self._on_crash(exc))

    def wait(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run ``coro`` on the loop and block for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(QUERY_TIMEOUT_S)

    def drain(self) -> list[object]:
        """Every event reported since the last drain, in arrival order."""
        events: list[object] = []
        while True:
            try:
                events.append(self.events.get_nowait())
            except queue.Empty:
                return events

    def wait_event(self, timeout_s: float) -> object | None:
        """Block up to ``timeout_s`` for the next event (None if none came)."""
        try:
            return self.events.get(timeout=timeout_s)
        except queue.Empty:
            return None
