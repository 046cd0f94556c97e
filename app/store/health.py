"""What the engine says when the database itself cannot be written (a full disk, an I/O error).

The account rows cannot say it then: writing them fails too. So the engine keeps a small file
beside the database, ``<database>.status``, made at start at its full size and afterwards only
overwritten in place, which needs no new space on the disk. The inbox, the health screen and
``replydesk accounts list`` read it next to the store.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from app import paths

SIZE = 1024


def status_path(db_path: Path | str) -> Path:
    """Where the engine leaves its word on the store: beside a SQLite file; for a PostgreSQL store
    (a URL: no file to sit beside), in the platform data dir under the URL's digest."""
    text = str(db_path)
    if paths.is_postgres_url(text):
        return paths.data_dir() / f"postgresql-{hashlib.sha256(text.encode()).hexdigest()[:16]}.status"
    return Path(text + ".status")


def store_problem_text(exc: BaseException) -> tuple[str, str]:
    """A store error as (what, fix) for people."""
    words = str(exc).strip() or type(exc).__name__
    lowered = words.lower()
    if "full" in lowered or "no space" in lowered:
        return ("disk full: the database cannot be written",
                "free space on the disk that holds the database; replydesk resumes by itself, "
                "and the mail waits on the server meanwhile")
    if "readonly" in lowered or "read-only" in lowered or "permission" in lowered:
        return (f"the database cannot be written: {words}", "check the file's permissions and the disk")
    return (f"the database cannot be written: {words}", "check the disk; replydesk retries by itself")


@dataclass(frozen=True)
class StoreHealth:
    problem: str | None
    fix: str | None
    since: float | None
    updated: float


class StoreStatusFile:
    """The engine's side: ``ready()`` at start, then ``failed()`` / ``recovered()``."""

    def __init__(self, db_path: Path | str) -> None:
        self.path = status_path(db_path)
        self.problem: str | None = None
        self.since: float | None = None

    def ready(self) -> None:
        self.problem = self.since = None
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, _record(None, None, None))
            finally:
                os.close(fd)
        except OSError:
            pass  # the disk is full already: failed() will say so where it can

    def failed(self, exc: BaseException) -> None:
        problem, fix = store_problem_text(exc)
        if self.problem != problem:
            self.since = time.time()
        self.problem = problem
        self._overwrite(_record(problem, fix, self.since))

    def recovered(self) -> None:
        if self.problem is None:
            return
        self.problem = self.since = None
        self._overwrite(_record(None, None, None))

    def _overwrite(self, data: bytes) -> None:
        try:
            fd = os.open(self.path, os.O_WRONLY)
        except OSError:
            return
        try:
            os.pwrite(fd, data, 0)
        except OSError:
            pass
        finally:
            os.close(fd)


def _record(problem: str | None, fix: str | None, since: float | None) -> bytes:
    data = json.dumps({"problem": problem, "fix": fix, "since": since, "updated": time.time()}).encode()
    return data[:SIZE].ljust(SIZE)


def read_store_health(db_path: Path | str) -> StoreHealth | None:
    """The engine's word on the database, or None when no engine left one."""
    try:
        data = json.loads(status_path(db_path).read_bytes().strip() or b"{}")
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or "updated" not in data:
        return None
    return StoreHealth(data.get("problem"), data.get("fix"), data.get("since"), float(data["updated"]))
