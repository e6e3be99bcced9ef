"""Tell a run in progress from one that died: its writer's pid on its host, and its heartbeat.

A run still ``running`` has died when its host is this machine and no process has its pid,
or when its heartbeat (committed at least every few seconds while events flow) is older than
``STALE_AFTER_NS``, which also covers a pid reused by another program and runs written on
another machine.
"""

from __future__ import annotations

import os
import socket
import time

DIED = "died"
RUNNING = "running"
STALE_AFTER_NS = 15 * 60 * 1_000_000_000


def pid_alive(pid: int) -> bool:
    """Whether a process with ``pid`` exists on this machine."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def shown_status(
    status: str,
    pid: int | None,
    host: str | None,
    heartbeat_ns: int | None,
    *,
    now_ns: int | None = None,
    this_host: str | None = None,
) -> str:
    """The status to show: ``died`` for a ``running`` run whose writer is gone."""
    if status != RUNNING:
        return status
    now = time.time_ns() if now_ns is None else now_ns
    if heartbeat_ns is not None and now - heartbeat_ns > STALE_AFTER_NS:
        return DIED
    here = socket.gethostname() if this_host is None else this_host
    if pid is not None and host == here and not pid_alive(pid):
        return DIED
    return status
