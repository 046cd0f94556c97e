"""The single-engine lock: ``flock`` on a file beside the database. Its own module so that who
holds it can be asked (``replydesk`` attaching to a running ``replydesk sync``, ``reply``)
without loading the engine, its protocol libraries and the classifier."""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path

from app import paths
from app.errors import EngineLocked

__all__ = ["EngineLock", "engine_lock_holder"]


class EngineLock:
    """``flock`` on a file beside the database: the kernel frees it when the process dies, so a
    crashed engine never leaves a stale lock. The file says who holds it."""

    def __init__(self, db_path: Path | str) -> None:
        # a PostgreSQL store has no file to lock: engines share its mailboxes by lease instead
        self.path = None if _is_url(db_path) else paths.lock_path_for(Path(db_path))
        self._fd: int | None = None

    def acquire(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = _read_holder(self.path)
            raise EngineLocked(f"another engine runs on {self.path.with_suffix('')} ({holder})",
                               "stop it first, or attach to it: replydesk (the inbox) uses it") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _read_holder(path: Path) -> str:
    try:
        return path.read_text().strip() or "holder unknown"
    except OSError:
        return "holder unknown"


def _is_url(db_path: Path | str) -> bool:
    return paths.is_postgres_url(db_path)


def engine_lock_holder(db_path: Path | str) -> str | None:
    """Who holds the engine lock of ``db_path`` (``"pid 123 on host"``), or None if nobody does
    (always None for a PostgreSQL store: no file lock there)."""
    if _is_url(db_path):
        return None
    path = paths.lock_path_for(Path(db_path))
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _read_holder(path)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
