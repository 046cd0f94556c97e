"""The store's one change signal (app.store.changes): a write in this process wakes its waiters at
once, whatever the tick; a write in another process is seen at the next look at data_version
(SQLite) or by its NOTIFY (PostgreSQL); and the engine's op runner and outbox drainer wait on it
instead of a timer of their own."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from app.commands.reply import queue_reply_to
from app.engine import Engine
from app.store import Store, is_postgres
from app.store.changes import changes_for, watch
from app.store.pgdb import CHANNEL
from tests.conftest import ROOT
from tests.engine_support import state, until
from tests.reply_support import mailbox_headers, message_flags, receive

HOUR = 3600.0


def add_account(path, account: str = "box") -> None:
    store = Store(path)
    try:
        store.ensure_account(account, f"{account}@sender.example", account)
    finally:
        store.close()


async def test_a_write_in_this_process_wakes_a_waiter_without_the_tick(store_target):
    path = store_target("in.db")
    Store(path).close()
    with watch(path, tick=HOUR) as changes:  # another process's write would wait an hour
        seen = changes.count
        waiter = asyncio.create_task(changes.wait(seen))
        await asyncio.sleep(0)
        await asyncio.to_thread(add_account, path)  # another connection, on another thread
        assert await asyncio.wait_for(waiter, 30) != seen


async def test_a_read_or_a_write_that_changes_nothing_wakes_no_one(store_target):
    path = store_target("quiet.db")
    add_account(path)
    with watch(path, tick=HOUR) as changes:
        store = Store(path)
        try:
            # the follower wakes its waiters once when it starts following: after that, quiet
            assert await asyncio.to_thread(changes.following.wait, 30)
            seen = changes.count
            store.accounts()
            store.db.conn.execute("UPDATE accounts SET name = 'x' WHERE id = 'nobody'")
            assert changes.count == seen
            store.db.conn.execute("UPDATE accounts SET name = 'x' WHERE id = 'box'")
            assert changes.count != seen
        finally:
            store.close()


async def test_one_signal_per_database_in_a_process(store_target):
    a, b = store_target("a.db"), store_target("b.db")
    assert changes_for(a) is changes_for(str(a))
    assert changes_for(a) is not changes_for(b)
    Store(b).close()
    seen = changes_for(a).count
    add_account(b)
    assert changes_for(a).count == seen  # a write to b is no news to a's waiters


SQLITE_WRITE = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
                "c.execute(\"INSERT INTO accounts (id, email, state) VALUES ('far', 'far@x.example', 'idle')\")")
"""Another program writing to the file: SQLite's data_version moves whoever wrote."""
STORE_WRITE = ("import sys; from app.store import Store; s = Store(sys.argv[1]); "
               "s.ensure_account('far', 'far@x.example'); s.close()")
"""Another replydesk writing through its store: on PostgreSQL its commit sends the NOTIFY."""


def listening(url: str) -> bool:
    """Whether a connection LISTENs for the store's changes on the database at ``url``."""
    import psycopg
    with psycopg.connect(url, autocommit=True) as conn:
        return bool(conn.execute("SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
                                 "AND query = %s", (f"LISTEN {CHANNEL}",)).fetchone())


async def test_a_write_in_another_process_is_noticed(store_target):
    path = store_target("other.db")
    Store(path).close()
    with watch(path, tick=0.05) as changes:
        if is_postgres(path):  # a commit is announced to those already listening
            await until(lambda: listening(str(path)), 30, "the LISTEN", interval=0.05)
        seen = changes.count
        waiter = asyncio.create_task(changes.wait(seen))
        write = STORE_WRITE if is_postgres(path) else SQLITE_WRITE
        await asyncio.to_thread(subprocess.run, [sys.executable, "-c", write, str(path)], check=True, cwd=ROOT)
        assert await asyncio.wait_for(waiter, 30) != seen


async def test_the_engine_is_woken_by_a_write_in_its_process_without_a_timer(dovecot, smtp_server, users,
                                                                             make_config, tmp_path):
    """The tick (another process's writes), the IDLE refresh and the folder polls all an hour or
    more away: a reply queued on another connection of this process (as the inbox does) is sent
    by the drainer, and the op runner files its Sent copy and sets \\Answered."""
    account, prospect = users(2)
    path = make_config(tmp_path, [account], idle_refresh_minutes=28, poll_interval_seconds=HOUR)
    r = receive(dovecot, account, prospect, path)
    engine = Engine(r.config, tick=HOUR)
    await engine.start()
    try:
        acct = r.config.accounts[0].id
        await until(lambda: state(r.store, acct) == "idle", 30, "the watcher in IDLE", interval=0.05)
        item_id = queue_reply_to(r.config, r.store, r.row, "Woken, not polled")
        # the drainer sleeps up to a minute when nothing is due: 30 s cannot be its own timer
        await until(lambda: r.store.outbox_item(item_id)["state"] == "sent", 30, "sent", interval=0.05)
        await until(lambda: len(mailbox_headers(dovecot, account.email, "Sent")) == 1, 30, "the Sent copy",
                    interval=0.1)
        await until(lambda: "\\Answered" in message_flags(dovecot, account.email, r.row["message_id"]), 30,
                    "\\Answered on the original", interval=0.1)
    finally:
        await engine.stop()
        r.store.close()
    assert len(mailbox_headers(dovecot, prospect.email)) == 1
