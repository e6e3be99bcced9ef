"""The event log as it happens: each event rendered once to its JSON line, hashed, handed on.

``EventLog`` keeps the running SHA-256 and the count of the log's lines and passes each
``(record, line)`` to its sinks (the ``--events-out`` file, the run store), so a run holds no
event in memory. ``EventLogFile`` writes the lines to a temporary file beside the target and
renames it into place only when the run ends well: a failed or interrupted run leaves the
target as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, Protocol

from xmargin.core.errors import ConfigError
from xmargin.core.output_file import check_output_file

render_line = json.JSONEncoder(separators=(",", ":")).encode
"""The JSON line of one record, exactly as the event log writes it (no newline)."""


class EventSink(Protocol):
    """Receives every event of a run in order, with its rendered JSON line."""

    def write(self, record: dict[str, Any], line: str) -> None: ...


class EventLog:
    """The running SHA-256 and count of the event log's lines; hands each line to sinks."""

    def __init__(self, sinks: Sequence[EventSink] = ()) -> None:
        self.sinks = list(sinks)
        self.count = 0
        self._digest = hashlib.sha256()

    def add(self, record: dict[str, Any]) -> str:
        """Render ``record``, hash its line and pass it to every sink; return the line."""
        line = render_line(record)
        self._digest.update(line.encode())
        self._digest.update(b"\n")
        self.count += 1
        for sink in self.sinks:
            sink.write(record, line)
        return line

    def sha256(self) -> str:
        return self._digest.hexdigest()


class EventLogFile:
    """An event-log sink writing to a temporary file, renamed over ``path`` by ``commit``."""

    def __init__(self, path: Path) -> None:
        check_output_file(path)
        self.path = path
        try:
            descriptor, name = tempfile.mkstemp(
                prefix=f".{path.name}.", suffix=".partial", dir=path.parent
            )
        except OSError as exc:
            raise self._error(exc) from None
        self.temporary = Path(name)
        self._file: IO[str] | None = os.fdopen(descriptor, "w", encoding="utf-8", newline="\n")

    def write(self, record: dict[str, Any], line: str) -> None:
        assert self._file is not None
        try:
            self._file.write(line)
            self._file.write("\n")
        except OSError as exc:
            raise self._error(exc) from None

    def _error(self, exc: OSError) -> ConfigError:
        kept = " (the previous file is kept)" if self.path.exists() else ""
        return ConfigError(f"cannot write ({exc.strerror or exc}){kept}", where=str(self.path))

    def commit(self) -> None:
        """Flush, sync and rename the file into place (checking the target again)."""
        assert self._file is not None
        handle, self._file = self._file, None
        try:
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
            check_output_file(self.path)
            self.temporary.chmod(0o666 & ~_umask())
            os.replace(self.temporary, self.path)
        except OSError as exc:
            self._drop(handle)
            raise self._error(exc) from None
        except BaseException:
            self._drop(handle)
            raise

    def _drop(self, handle: IO[str]) -> None:
        with contextlib.suppress(OSError):
            handle.close()
        self.temporary.unlink(missing_ok=True)

    def discard(self) -> None:
        """Remove the temporary file; the target is left as it was."""
        handle, self._file = self._file, None
        if handle is not None:
            self._drop(handle)
        else:
            self.temporary.unlink(missing_ok=True)


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current
