"""A full disk stops nothing for good: the engine backs off, says "disk full" where it can (the
account rows cannot take it: a status file beside the database, made at start, says it), and
stores everything once space returns, each message once. A real small filesystem (tmpfs).
SQLite only: the disk that fills is the one under the store's file.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.store.health import read_store_health
from tests.conftest import ROOT
from tests.engine_support import rows, running_engine, until


@pytest.fixture
def small_disk(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root (the test command runs as root)")
    mnt = tmp_path / "small"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", str(mnt)], check=True)
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill_up(path: Path) -> None:
    """Every byte the filesystem has left, in ``path``. Unbuffered: a buffered file keeps the tail
    of a short write when it is smaller than its buffer (8 KiB) and fails again with it as it
    closes: one way in sixteen the space left can end (it moves by pages as the store's own files
    grow), and the test failed so in a full run."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    chunk = b"\0" * 65536
    try:
        while True:
            os.write(fd, chunk)  # (a short write where less is left; the next one fails)
    except OSError:
        pass
    finally:
        os.close(fd)


async def test_a_full_disk_is_survived_reported_and_caught_up(small_disk, dovecot, users, deliver, make_config,
                                                              tmp_path, capfd):
    [user] = users(1)
    for i in range(5):
        deliver(user.email, subject=f"Re: before {i}", body="x" * 2000)
    config_path = make_config(tmp_path, [user], idle_refresh_minutes=5)
    text = config_path.read_text().replace(f'database = "{tmp_path / "replydesk.db"}"',
                                           f'database = "{small_disk / "replydesk.db"}"')
    config_path.write_text(text)
    db = small_disk / "replydesk.db"
    async with running_engine(config_path) as (engine, config, store):
        await until(lambda: len(rows(store)) == 5, 30, "the first messages stored")
        watcher = engine.watchers[user.email]
        await asyncio.to_thread(fill_up, small_disk / "ballast")
        for i in range(30):
            await asyncio.to_thread(deliver, user.email, subject=f"Re: during {i}", body="y" * 4000)
        await until(lambda: watcher.state == "store_error", 60, "the watcher says the store cannot be written")
        health = read_store_health(db)
        assert health is not None and health.problem and "disk full" in health.problem and "free space" in health.fix
        listed = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "app", "--config", str(config_path), "accounts", "list"],
            cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert listed.returncode == 0 and "disk full" in listed.stderr
        assert not watcher.stopped  # still watching, backing off
        (small_disk / "ballast").unlink()
        await until(lambda: len(rows(store)) == 35, 120, "everything stored once space returned")
        assert len({r["uid"] for r in rows(store)}) == 35
        await until(lambda: (h := read_store_health(db)) is not None and h.problem is None, 30, "recovered")
    out, err = capfd.readouterr()
    assert "Traceback" not in err and "Logging error" not in err


def test_a_failed_transaction_reports_its_own_error_not_the_rollback(tmp_path):
    """SQLite rolls a transaction back by itself on some errors (a full database): the error the
    caller sees is that one, not "cannot rollback - no transaction is active". SQLite only (its
    max_page_count makes the full database)."""
    import sqlite3

    from app.store import Store
    store = Store(tmp_path / "replydesk.db")
    conn = store.db.conn
    conn.execute("CREATE TABLE filler (x BLOB)")
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages + 2}")
    with pytest.raises(sqlite3.OperationalError, match="full"):
        with store.db.tx():
            conn.execute("INSERT INTO filler VALUES (zeroblob(1000000))")
    assert not conn.in_transaction
    store.close()
