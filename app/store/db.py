"""Opening the database: file mode, WAL, busy timeout, migrations, transactions, checkpoints."""

from __future__ import annotations

import getpass
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.errors import StoreError
from app.store.changes import NotifyingConnection, changes_for
from app.store.dialect import SQLITE
from app.store.schema import MIGRATIONS, SCHEMA_VERSION

log = logging.getLogger(__name__)

CHECKPOINT_CHANGES = 1000
"""Rows changed (triggers' included) by a connection with background checkpoints between two of
them: about as much as SQLite's own checkpoint waits for (1,000 pages of log)."""
CHECKPOINT_EVERY = 0.5
"""Seconds a background checkpoint waits after the one before it ended: a burst of writes (a first
sync) is copied in a few large checkpoints, not many small ones."""
BACKSTOP_PAGES = 10_000
"""Pages of log after which a connection with background checkpoints makes one itself, as SQLite
does after 1,000 (``wal_autocheckpoint``): the log stays bounded should the background fall behind."""


def now() -> float:
    return time.time()


class Checkpoints:
    """WAL checkpoints for one writing connection, made on a thread and a connection of their own.

    In WAL mode SQLite copies the log into the database file once it holds 1,000 pages, inside
    the commit that crossed the mark, and with ``synchronous = NORMAL`` that copy is where the
    files are synced: the writer waits for the disk. In the engine the writer is the store
    thread, which a first sync keeps busy: storing 10,000 replies it waited 40 ms for those
    syncs on a local disk, 230 ms where a sync takes 10 ms longer (bench/README, issue 18).

    Here the writer only counts what it changed; every ``CHECKPOINT_CHANGES`` rows this thread
    copies the log (a PASSIVE checkpoint: it takes no lock a writer or reader waits for, and
    SQLite lets go of the interpreter meanwhile), resting ``CHECKPOINT_EVERY`` seconds after each.
    ``runs`` and ``ran`` say when one was made (a test waits on them, not on a clock)."""

    def __init__(self, path: Path, changes: int) -> None:
        self.path = path
        self.runs = 0
        """Checkpoints made so far."""
        self.ran = threading.Condition()
        self._counted = changes
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._warned = False
        self._thread = threading.Thread(target=self._run, name="replydesk-checkpoint", daemon=True)
        self._thread.start()

    def committed(self, changes: int) -> None:
        """The writer committed; ``changes``: its connection's ``total_changes`` now."""
        if changes - self._counted >= CHECKPOINT_CHANGES:
            self._counted = changes
            self._wake.set()

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(str(self.path), timeout=30, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            self._failed(exc)
            return
        try:
            conn.execute("PRAGMA busy_timeout = 30000")
            while True:
                self._wake.wait()
                if self._closing.is_set():
                    return
                self._wake.clear()
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:  # (a full disk, say): the writer's own checkpoint remains
                    self._failed(exc)
                with self.ran:
                    self.runs += 1
                    self.ran.notify_all()
                if self._closing.wait(CHECKPOINT_EVERY):
                    return
        finally:
            conn.close()

    def _failed(self, exc: sqlite3.Error) -> None:
        if not self._warned:
            self._warned = True
            log.warning("%s: a background checkpoint failed (%s): the writer makes them itself past "
                        "%d pages of log", self.path, exc, BACKSTOP_PAGES)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def close(self) -> None:
        self._closing.set()
        self._wake.set()
        self._thread.join()


class Database:
    """One SQLite connection with replydesk's settings. Not shared between threads."""

    dialect = SQLITE
    checkpoints: Checkpoints | None = None
    """Set where the log is copied in the background (``checkpoint_in_background``)."""

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
            if self.checkpoints is not None:
                self.checkpoints.committed(self.conn.total_changes)
        finally:
            self._depth = 0

    def checkpoint_in_background(self) -> None:
        """Copy the log into the database file on another thread (``Checkpoints``), for a
        connection that writes much and must not wait for the disk: the engine's. A store in
        memory, or on PostgreSQL, has no log to copy."""
        if self.path is None or self.checkpoints is not None:
            return
        self.conn.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP_PAGES}")
        self.checkpoints = Checkpoints(self.path, self.conn.total_changes)

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
        if self.checkpoints is not None:
            self.checkpoints.close()
            self.checkpoints = None
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
