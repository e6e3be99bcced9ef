"""A running run is shown as died when its process is gone or its heartbeat is stale; SIGINT
inside a held block takes effect when the block has ended."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from xmargin.storage.interrupts import interrupts_deferred
from xmargin.storage.liveness import STALE_AFTER_NS, pid_alive, shown_status

NOW = 1_767_225_600 * 10**9


def gone_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=30)
    return child.pid


def test_a_running_run_of_a_live_process_on_this_host_is_running():
    assert shown_status("running", os.getpid(), "here", NOW, now_ns=NOW, this_host="here") == (
        "running"
    )


def test_a_running_run_whose_process_is_gone_died():
    pid = gone_pid()
    assert not pid_alive(pid)
    assert shown_status("running", pid, "here", NOW, now_ns=NOW, this_host="here") == "died"


def test_a_process_on_another_host_is_judged_by_its_heartbeat_alone():
    pid = gone_pid()
    fresh = NOW - STALE_AFTER_NS
    assert shown_status("running", pid, "there", fresh, now_ns=NOW, this_host="here") == "running"
    stale = NOW - STALE_AFTER_NS - 1
    assert shown_status("running", pid, "there", stale, now_ns=NOW, this_host="here") == "died"
    assert shown_status("running", os.getpid(), "here", stale, now_ns=NOW, this_host="here") == (
        "died"
    )


@pytest.mark.parametrize("status", ["complete", "failed", "interrupted", "incomplete"])
def test_other_statuses_are_shown_as_stored(status):
    assert shown_status(status, gone_pid(), "here", 0, now_ns=NOW, this_host="here") == status


def test_sigint_inside_a_held_block_is_raised_after_it():
    steps = []
    with pytest.raises(KeyboardInterrupt):
        with interrupts_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            steps.append("the block went on")
        steps.append("not reached")
    assert steps == ["the block went on"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_held_block_without_sigint_ends_normally():
    with interrupts_deferred():
        value = 1
    assert value == 1
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
