"""The one way to learn that the database changed: for the engine, the UI and the CLI alike.

    with watch(path) as changes:         # this process follows the database
        seen = changes.count
        ...read what there is to do...
        seen = await changes.wait(seen)  # returns once anything may have changed

``changes.count`` moves on every write that may matter:

- a commit on any connection this process has open on the database (``Database`` opens its
  connection as a ``NotifyingConnection``): seen at once, whoever wrote it, so the UI's own
  writes and the engine's reach every waiter without a timer;
- a commit by another process (a ``replydesk reply`` in another terminal, the engine in
  ``replydesk sync``): SQLite says so through ``PRAGMA data_version``, which one thread per
  database reads every ``tick`` seconds while anything watches, off every event loop.

A waiter may be woken for a change it caused itself, or twice for one change; it re-reads and
finds nothing new. It is never left asleep after a change it has not seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

from app import paths

TICK = 0.25
"""Seconds between two looks at ``data_version``: how soon another process's write is seen."""


class Changes:
    """A counter of the changes to one database this process has heard of. Thread-safe."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.count = 0
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        self._ticks: list[float] = []
        self._ticker: _Follower | None = None
        self.following = threading.Event()
        """Set once other processes' commits are followed (and the follower's first wake is given)."""

    def notify(self) -> None:
        """Something was written: wake every waiter (from any thread)."""
        with self._lock:
            self.count += 1
            waiters = list(self._waiters)
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for loop, event in waiters:
            if loop is running:
                event.set()
            else:
                with contextlib.suppress(RuntimeError):  # that loop has closed: nobody waits there
                    loop.call_soon_threadsafe(event.set)

    async def wait(self, seen: int, timeout: float | None = None) -> int:
        """Until ``count`` differs from ``seen`` (or ``timeout`` seconds); returns ``count``."""
        event = asyncio.Event()
        entry = (asyncio.get_running_loop(), event)
        with self._lock:
            if self.count != seen:
                return self.count
            self._waiters.append(entry)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout)
        finally:
            with self._lock:
                self._waiters.remove(entry)
        return self.count

    # -- other processes' writes -----------------------------------------------------------

    def _follow(self, tick: float) -> None:
        with self._lock:
            self._ticks.append(tick)
            if self._ticker is None or not self._ticker.is_alive():
                self.following.clear()
                self._ticker = _Listener(self) if paths.is_postgres_url(self.path) else _Ticker(self)
                self._ticker.start()
            else:
                self._ticker.kick.set()  # a shorter tick may have been asked for

    def _unfollow(self, tick: float) -> None:
        with self._lock:
            self._ticks.remove(tick)
            if not self._ticks and self._ticker is not None:
                self._ticker.stop()
                self._ticker = None

    def _tick(self) -> float | None:
        with self._lock:
            return min(self._ticks) if self._ticks else None


class _Follower(threading.Thread):
    """A thread that learns of other processes' commits for one ``Changes`` until stopped."""

    thread_name = "replydesk-follow"

    def __init__(self, changes: Changes) -> None:
        super().__init__(name=self.thread_name, daemon=True)
        self.changes = changes
        self.kick = threading.Event()
        self._stopped = False

    def stop(self) -> None:
        self._stopped = True
        self.kick.set()


class _Listener(_Follower):
    """A PostgreSQL store: LISTENs on a connection of its own for the NOTIFY every commit that
    changed anything sends (``app.store.pgdb``), no polling. A lost connection is opened again
    (a change may have been missed meanwhile: waiters are woken once it is back)."""

    thread_name = "replydesk-listen"

    def run(self) -> None:
        import psycopg

        from app.errors import StoreError
        from app.store import pg
        from app.store.pgdb import CHANNEL, PROCESS
        pause = 0.5
        while not self._stopped:
            try:
                conn = pg.connect(self.changes.path)
            except StoreError:
                self.kick.wait(pause)
                pause = min(pause * 2, 10.0)
                continue
            try:
                conn.autocommit = True
                conn.execute(f"LISTEN {CHANNEL}")
                # listening from now: a commit between the watcher's first read and this moment
                # (or during an outage) would otherwise go unheard until the next one
                self.changes.notify()
                self.changes.following.set()
                pause = 0.5
                while not self._stopped:
                    for note in conn.notifies(timeout=0.5, stop_after=1):
                        if note.payload != PROCESS:  # this process's own commits told it already
                            self.changes.notify()
            except psycopg.Error:
                self.kick.wait(pause)
                pause = min(pause * 2, 10.0)
            finally:
                conn.close()


class _Ticker(_Follower):
    """Reads ``PRAGMA data_version`` on a connection of its own, every tick, while watched."""

    thread_name = "replydesk-changes"

    def run(self) -> None:
        # mode=rw: never creates the file (a Store made it, 0600, before anything watched)
        try:
            conn = sqlite3.connect(f"{Path(self.changes.path).as_uri()}?mode=rw", uri=True, timeout=30)
        except sqlite3.Error:
            return
        try:
            version = _data_version(conn)
            self.changes.notify()  # looking from now: what was committed before the first look is read again
            self.changes.following.set()
            while not self._stopped:
                tick = self.changes._tick()
                if tick is None:
                    return
                self.kick.wait(tick)
                self.kick.clear()
                if self._stopped:
                    return
                now = _data_version(conn)
                if now != version:
                    version = now
                    self.changes.notify()
        finally:
            conn.close()


def _data_version(conn: sqlite3.Connection) -> int | None:
    try:
        return int(conn.execute("PRAGMA data_version").fetchone()[0])
    except sqlite3.Error:
        return None  # a moment's trouble (the disk): look again at the next tick


_registry: dict[str, Changes] = {}
_registry_lock = threading.Lock()


def changes_for(path: Path | str) -> Changes:
    """The one ``Changes`` of this process for the database at ``path`` (a file, or the URL of a
    PostgreSQL store)."""
    key = str(path) if paths.is_postgres_url(str(path)) else os.path.realpath(path)
    with _registry_lock:
        changes = _registry.get(key)
        if changes is None:
            changes = _registry[key] = Changes(key)
        return changes


class watch:  # noqa: N801 (used as a context manager, like contextlib's)
    """Follow the database at ``path`` (other processes' writes too) until ``close()``."""

    def __init__(self, path: Path | str, tick: float = TICK) -> None:
        self.changes = changes_for(path)
        self.tick = tick
        self.changes._follow(tick)
        self._open = True

    def close(self) -> None:
        if self._open:
            self._open = False
            self.changes._unfollow(self.tick)

    def __enter__(self) -> Changes:
        return self.changes

    def __exit__(self, *exc: Any) -> None:
        self.close()


class NotifyingConnection(sqlite3.Connection):
    """A connection that tells its database's ``Changes`` of every write it commits: a
    statement outside a transaction that changed rows, or the COMMIT of one that did."""

    changes: Changes | None = None
    _changes_seen = 0

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        cursor = super().execute(sql, parameters)
        self._committed()
        return cursor

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        cursor = super().executemany(sql, parameters)
        self._committed()
        return cursor

    def _committed(self) -> None:
        if self.changes is not None and not self.in_transaction and self.total_changes != self._changes_seen:
            self._changes_seen = self.total_changes
            self.changes.notify()
