"""Output files that are checked before a run and replaced whole, or not at all.

:func:`check_output_file` is called before any work starts: the folder must exist and be
writable, and the target must be a regular file or absent. A symlink, a FIFO, a device or a
directory is refused, never replaced. :func:`write_file` writes to a temporary file in the
same folder, flushes it to disk and renames it over the target, so a full disk or a crash
leaves the previous file intact and no partial file behind. Failures raise ``ConfigError``
naming the path (one line at the CLI).
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from xmargin.core.errors import ConfigError

_KINDS = (
    (stat.S_ISREG, "a regular file"),
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def check_output_file(path: str | Path) -> Path:
    """Return ``path`` if a file may be written there; raise ``ConfigError`` otherwise."""
    target = Path(path)
    _check_replaceable(target)
    _check_folder(target.parent, target)
    return target


def check_output_dir(path: str | Path, names: tuple[str, ...]) -> Path:
    """Return ``path`` if it is (or can become) a folder whose files ``names`` can be written."""
    folder = Path(path)
    try:
        mode = os.stat(folder).st_mode  # a symlink to a folder is a folder
    except FileNotFoundError:
        _check_folder(folder.parent, folder)
        return folder
    except OSError as exc:
        raise ConfigError(f"cannot use this folder ({_reason(exc)})", where=str(folder)) from None
    if not stat.S_ISDIR(mode):
        raise ConfigError(
            f"is {_kind(mode)}, not a folder; choose a folder to write into", where=str(folder)
        )
    for name in names:
        check_output_file(folder / name)
    return folder


def make_output_dir(path: Path) -> None:
    """Create the folder ``path`` (and missing parents), with a one-line error on failure."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), path)
        raise ConfigError(
            f"cannot create this folder: {blocker} is not a folder", where=str(path)
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot create this folder ({_reason(exc)})", where=str(path)) from None


def write_file(path: str | Path, write: Callable[[BinaryIO], object]) -> None:
    """Replace ``path`` with what ``write`` writes to the binary file it is given, atomically."""
    target = check_output_file(path)
    folder = target.parent
    try:
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp", dir=folder
        )
    except OSError as exc:
        raise ConfigError(f"cannot write ({_reason(exc)})", where=str(target)) from None
    try:
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
            handle.flush()
            os.fchmod(handle.fileno(), _mode_for(target))
            os.fsync(handle.fileno())
        _check_replaceable(target)
        os.replace(temporary, target)
    except OSError as exc:
        kept = " (the previous file is kept)" if target.exists() else ""
        raise ConfigError(f"cannot write ({_reason(exc)}){kept}", where=str(target)) from None
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)
    _sync_folder(folder)


def write_text(path: str | Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8), atomically."""
    data = text.encode("utf-8")
    write_file(path, lambda handle: handle.write(data))


def _check_replaceable(target: Path) -> None:
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ConfigError(f"cannot use this path ({_reason(exc)})", where=str(target)) from None
    if not stat.S_ISREG(mode):
        raise ConfigError(
            f"is {_kind(mode)}; refusing to replace it (choose a regular file's path)",
            where=str(target),
        )


def _check_folder(folder: Path, target: Path) -> None:
    if not folder.is_dir():
        raise ConfigError(
            f"its folder {folder} does not exist or is not a folder; create it first",
            where=str(target),
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"its folder {folder} is not writable", where=str(target))


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _mode_for(target: Path) -> int:
    """Keep an existing file's permissions; a new file gets 0666 less the umask."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _sync_folder(folder: Path) -> None:
    """Flush the rename to disk where the platform allows opening a folder."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
