"""Opening the database: file mode, WAL, busy timeout, migrations, transactions."""

from __future__ import annotations

import getpass
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.errors import StoreError
from app.store.changes import NotifyingConnection, changes_for
from app.store.dialect import SQLITE
from app.store.schema import MIGRATIONS, SCHEMA_VERSION


def now() -> float:
    return time.time()


class Database:
    """One SQLite connection with replydesk's settings. Not shared between threads."""

    dialect = SQLITE

    def __init__(self, path: Path | str, user: str | None = None) -> None:
        self.user = user or login_name()
        self.path = Path(path) if str(path) != ":memory:" else None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():
                # created 0600 before SQLite writes anything into it
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            os.chmod(self.path, 0o600)
        try:
            conn = sqlite3.connect(str(path), timeout=30, isolation_level=None,
                                   check_same_thread=False, factory=NotifyingConnection)
            if self.path is not None:
                # every commit wakes whoever in this process waits on the database
                conn.changes = changes_for(self.path)
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA recursive_triggers = ON")
            # the passing tables of a statement (an IN list, a GROUP BY, a sort without an index)
            # kept in memory, not in a temporary file: a first sync's batch writes take 8 % less
            # CPU. The store never VACUUMs, the one statement that would hold a whole copy there.
            conn.execute("PRAGMA temp_store = MEMORY")
            # who is acting: the activity triggers (schema V_TEAM) record it with every change
            # deterministic: SQLite reads it once per statement, not once per row of a count
            conn.create_function("replydesk_user", 0, lambda: self.user, deterministic=True)
            if self.path is not None:
                _set_wal(conn)
                conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open database: {exc}") from None
        self.conn: sqlite3.Connection = conn
        self._depth = 0
        self._migrate()
        if self.path is not None:
            for suffix in ("-wal", "-shm"):
                side = Path(str(self.path) + suffix)
                if side.exists():
                    os.chmod(side, 0o600)

    def _migrate(self) -> None:
        """Bring the schema up to date. The version is read inside the write transaction, so
        processes opening a new database at the same moment (the engine and a `list`, two
        terminals) migrate it once: the second waits for the first and finds nothing to do."""
        try:
            with self.tx():
                version = self.conn.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise StoreError(
                        f"{self.path}: database is from a newer replydesk (schema {version})",
                        hint="upgrade replydesk")
                for number in range(version, SCHEMA_VERSION):
                    for statement in _statements(MIGRATIONS[number]):
                        self.conn.execute(statement)
                    self.conn.execute(f"PRAGMA user_version = {number + 1}")
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot prepare database: {exc}") from None

    def _begin(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE); nested calls join the outer one."""
        if self._depth:
            self._depth += 1
            try:
                yield self.conn
            finally:
                self._depth -= 1
            return
        self._begin()
        self._depth = 1
        try:
            yield self.conn
        except BaseException:
            # SQLite may have rolled back by itself (a full disk, an I/O error): a ROLLBACK then
            # fails with "no transaction is active" and would hide the error that matters
            if self.conn.in_transaction:
                try:
                    self.conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass  # the original error is the one to report
            raise
        else:
            try:
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    try:
                        self.conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                raise
        finally:
            self._depth = 0

    @property
    def target(self) -> Path | str | None:
        """What another connection opens to reach this store (None: in memory, unreachable)."""
        return self.path

    def query(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        """Rows as dicts keyed by column name."""
        cursor = self.conn.execute(sql, params)
        keys = [d[0] for d in cursor.description or ()]
        for row in cursor:
            yield dict(zip(keys, row))

    def data_version(self) -> int:
        """Changes when another connection commits (``app.store.changes`` follows it)."""
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def change_mark(self) -> tuple[int, int]:
        """What this connection has seen of the database: another connection's commit moves the
        first number, one of its own the second. Equal marks: nothing new to read."""
        return self.data_version(), self.conn.total_changes

    def close(self) -> None:
        self.conn.close()


def login_name() -> str:
    """The login name: who a terminal is when ``[general] user`` is not set."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME (a bare container)
        return "unknown"


def _set_wal(conn: sqlite3.Connection, patience: float = 30.0) -> None:
    """Switch to WAL. Changing the journal mode needs the file to itself and SQLite answers
    'locked' at once rather than waiting, so a second process opening a new database
    while the first is creating it retries here."""
    deadline = time.monotonic() + patience
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _statements(script: str) -> Iterator[str]:
    """Split a schema script into statements, keeping trigger bodies whole."""
    buf: list[str] = []
    for line in script.splitlines():
        if line.strip().startswith("--") and not buf:
            continue
        buf.append(line)
        joined = "\n".join(buf)
        if sqlite3.complete_statement(joined):
            if joined.strip():
                yield joined
            buf = []
