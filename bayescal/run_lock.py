"""An exclusive lock on a run directory, so that two processes never write one store.

``DIR/.bayescal.lock`` is created atomically (``O_CREAT | O_EXCL``) and holds the holder's pid,
host, process start time and command line as JSON. A second process is refused with
:class:`~bayescal.errors.RunLockedError` naming the holder. A lock left by a process that no
longer runs on this host (its pid is gone, or now belongs to a process started at another time)
is stale: it is taken over with a warning. A lock from another host cannot be checked, and the
message says which file to delete if its holder is gone.

The lock is re-entrant within one process (``calibrate`` inside a command that already holds
it), and released when the outermost holder exits.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import socket
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar

from bayescal.errors import InputDataError, RunLockedError

__all__ = ["RunLock"]

logger = logging.getLogger(__name__)


def _start_time(pid: int) -> str | None:
    """Start time of process ``pid`` in clock ticks since boot (Linux ``/proc``), else None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: split after its last ')'
    return stat.rsplit(")", 1)[1].split()[19]


def _alive(pid: int, start: str | None) -> bool:
    """Whether process ``pid`` (started at ``start``, when known) still runs on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    now = _start_time(pid)
    return start is None or now is None or now == start


class RunLock:
    """Exclusive, re-entrant lock on a run directory (a context manager).

    Parameters
    ----------
    directory : path
        The run directory; created if missing.

    Raises
    ------
    RunLockedError
        On entry, when another live process holds the directory.
    InputDataError
        On entry, when ``directory`` is not a directory or cannot be written.
    """

    filename = ".bayescal.lock"
    _depth: ClassVar[dict[Path, int]] = {}
    _guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory)
        self.path = self.directory / self.filename

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock (see the class for what raises)."""
        key = self._key()
        with self._guard:
            if self._depth.get(key, 0):
                self._depth[key] += 1
                return
            self._make_directory()
            self._create()
            self._depth[key] = 1

    def release(self) -> None:
        """Release the lock; the file is removed when the outermost holder releases it."""
        key = self._key()
        with self._guard:
            depth = self._depth.get(key, 0)
            if depth > 1:
                self._depth[key] = depth - 1
                return
            self._depth.pop(key, None)
            holder = self._read()
            if holder is not None and holder.get("pid") == os.getpid():
                self.path.unlink(missing_ok=True)

    def holder(self) -> dict[str, Any] | None:
        """What the lock file says about its holder, or None when there is no lock."""
        return self._read()

    def _key(self) -> Path:
        return Path(os.path.realpath(self.directory))

    def _make_directory(self) -> None:
        if self.directory.exists() and not self.directory.is_dir():
            raise InputDataError(f"--out {self.directory} exists and is not a directory.")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputDataError(
                f"--out {self.directory} cannot be created: {exc.strerror or exc}."
            ) from exc

    def _create(self) -> None:
        me = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "start": _start_time(os.getpid()),
            "since": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "command": " ".join(sys.argv),
        }
        for _ in range(3):  # a stale lock removed between our attempts is retried
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
            except FileExistsError:
                self._refuse_or_clear()
                continue
            except OSError as exc:
                raise InputDataError(
                    f"--out {self.directory} is not writable: {exc.strerror or exc}."
                ) from exc
            with os.fdopen(fd, "w") as fh:
                json.dump(me, fh)
            return
        raise RunLockedError(f"{self.path} keeps reappearing; another process is starting here.")

    def _refuse_or_clear(self) -> None:
        holder = self._read()
        if holder is None:  # unreadable or half-written: its writer died between open and write
            logger.warning("removing an unreadable lock file %s", self.path)
            self.path.unlink(missing_ok=True)
            return
        pid, host = int(holder.get("pid", -1)), str(holder.get("host", "?"))
        if host == socket.gethostname() and not _alive(pid, holder.get("start")):
            logger.warning(
                "taking over the stale lock %s of pid %d (no longer running)", self.path, pid
            )
            self.path.unlink(missing_ok=True)
            return
        where = "this host" if host == socket.gethostname() else f"host {host}"
        raise RunLockedError(
            f"{self.directory} is in use by pid {pid} on {where} since {holder.get('since')} "
            f"({holder.get('command') or 'unknown command'}); wait for it to finish, or use "
            f"another --out directory. If that process is gone, delete {self.path}."
        )

    def _read(self) -> dict[str, Any] | None:
        try:
            holder = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None
        return holder if isinstance(holder, dict) else None
