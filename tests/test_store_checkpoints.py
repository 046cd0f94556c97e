"""The engine's writer leaves the copying of SQLite's log into the database file to a thread of its
own (``app.store.db.Checkpoints``): what it committed reaches the file without it waiting for the
disk, the log stays bounded, and closing the store ends that thread."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from app.store.db import BACKSTOP_PAGES, CHECKPOINT_CHANGES, Database
from app.store.thread import StoreThread


def rows_in_file_alone(path: Path, copy: Path) -> int:
    """The rows of table ``t`` the database file holds without its log (a copy of the file only)."""
    shutil.copyfile(path, copy)
    conn = sqlite3.connect(copy)
    try:
        return int(conn.execute("SELECT count(*) FROM t").fetchone()[0])
    finally:
        conn.close()


def test_what_the_writer_commits_reaches_the_database_file_through_the_background_thread(tmp_path) -> None:
    path = tmp_path / "store.db"
    db = Database(path)
    try:
        db.conn.execute("CREATE TABLE t (x TEXT)")
        db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the schema in the file
        db.checkpoint_in_background()
        checkpoints = db.checkpoints
        assert checkpoints is not None and checkpoints.running
        # the writer's own checkpoint only past the backstop (SQLite's default is 1,000 pages)
        assert db.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == BACKSTOP_PAGES
        with db.tx() as conn:
            conn.executemany("INSERT INTO t VALUES (?)", [(f"row {i}",) for i in range(CHECKPOINT_CHANGES // 2)])
        # fewer changes than a checkpoint waits for: the rows are in the log only
        assert rows_in_file_alone(path, tmp_path / "early.db") == 0
        with db.tx() as conn:
            conn.executemany("INSERT INTO t VALUES (?)", [(f"row {i}",) for i in range(CHECKPOINT_CHANGES)])
        with checkpoints.ran:
            assert checkpoints.ran.wait_for(lambda: checkpoints.runs >= 1, timeout=60)
        # a few pages of log, far below SQLite's own mark: copied by the thread, not the writer
        assert rows_in_file_alone(path, tmp_path / "copy.db") == CHECKPOINT_CHANGES // 2 + CHECKPOINT_CHANGES
    finally:
        db.close()
    assert not checkpoints.running


def test_a_store_in_memory_has_no_log_to_copy() -> None:
    db = Database(":memory:")
    try:
        db.checkpoint_in_background()
        assert db.checkpoints is None
    finally:
        db.close()


async def test_the_engines_store_thread_checkpoints_in_the_background(tmp_path) -> None:
    thread = StoreThread(tmp_path / "store.db")
    try:
        assert await thread.call(lambda s: s.db.checkpoints is not None and s.db.checkpoints.running)
        checkpoints = await thread.call(lambda s: s.db.checkpoints)
    finally:
        await thread.close()
    assert not checkpoints.running
