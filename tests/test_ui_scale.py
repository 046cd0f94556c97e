"""A new reply reaches the screen at the same pace whatever the size of the store.

The counts above the list scan every conversation (about a second at a million messages); on a
big store they are read in a thread on a connection of their own, so what the inbox does on its
event loop when a reply arrives is the same few indexed queries for 300 conversations or 30,000.
Asserted on the queries the inbox's own connection runs, not on a clock.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import pytest

import app.ui.inbox as inbox_screen
from app.store import Store
from app.store.changes import changes_for
from app.ui.inbox_list import InboxList
from tests.ui_seed import make_app, screen_text, until


def fill(path: Path, conversations: int) -> Path:
    store = Store(path)
    now = time.time() - 3600
    with store.db.tx() as conn:
        conn.execute("INSERT INTO accounts (id, email, state) VALUES ('box', 'box@sender.example', 'idle')")
        conn.executemany(
            "INSERT INTO conversations (id, account, thread_key, subject, counterpart, kind, category, "
            "last_message_at, last_inbound_at, message_count, inbound_count, unread_count) "
            "VALUES (?, 'box', ?, ?, ?, 'reply', ?, ?, ?, 1, 1, 0)",
            [(i + 1, f"<t{i}@x>", f"Re: note {i}", f"p{i}@x.example", ("interested", "meeting")[i % 2],
              now - i, now - i) for i in range(conversations)])
        conn.executemany(
            "INSERT INTO messages (account, folder, uidvalidity, uid, message_id, conversation_id, from_addr, "
            "subject, received_at, seen, kind, category) VALUES ('box', 'INBOX', 1, ?, ?, ?, ?, ?, ?, 1, 'reply', ?)",
            [(i + 1, f"<m{i}@x>", i + 1, f"p{i}@x.example", f"Re: note {i}", now - i,
              ("interested", "meeting")[i % 2]) for i in range(conversations)])
    store.close()
    return path


def arrive(path: Path) -> int:
    store = Store(path)
    try:
        with store.db.tx() as conn:
            t = time.time()
            conv = conn.execute(
                "INSERT INTO conversations (account, thread_key, subject, counterpart, kind, category, "
                "last_inbound_at, message_count, inbound_count, unread_count) VALUES "
                "('box', '<new@x>', 'Re: just now', 'new@x.example', 'reply', 'interested', ?, 1, 1, 1)",
                (t,)).lastrowid
            conn.execute("INSERT INTO messages (account, folder, uidvalidity, uid, message_id, conversation_id, "
                         "from_addr, subject, received_at, kind, category) VALUES ('box', 'INBOX', 2, 1, "
                         "'<new@x>', ?, 'new@x.example', 'Re: just now', ?, 'reply', 'interested')", (conv, t))
        assert conv is not None
        return conv
    finally:
        store.close()


def shape(sql: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"'[^']*'|\b\d+(\.\d+)?\b", "?", sql)).strip()


async def queries_for_one_arrival(path: Path) -> list[str]:
    app = make_app(path)
    async with app.run_test(size=(120, 30)) as pilot:
        inbox = app.screen.query_one(InboxList)
        assert await until(pilot, lambda: inbox.pager is not None and len(inbox.pager) > 0)
        first = len(inbox.pager)
        assert await until(pilot, lambda: f"Replies {first:,}" in screen_text(app))  # the first counts are in
        seen: list[str] = []
        app.store.db.conn.set_trace_callback(seen.append)
        new = arrive(path)
        assert await until(pilot, lambda: inbox.pager.row(0) is not None and inbox.pager.row(0)["id"] == new)
        app.store.db.conn.set_trace_callback(None)
        total = len(inbox.pager)
        # the counts follow from their thread
        assert await until(pilot, lambda: f"Replies {total:,}" in screen_text(app))
    return [shape(q) for q in seen]


@pytest.mark.parametrize("small", [300])
async def test_an_arrival_costs_the_inbox_the_same_queries_on_a_small_and_a_big_store(tmp_path, small,
                                                                                      monkeypatch):
    monkeypatch.setattr(inbox_screen, "COUNTS_INLINE_ROWS", 1000)
    small_queries = await queries_for_one_arrival(fill(tmp_path / "small.db", small))
    big_queries = await queries_for_one_arrival(fill(tmp_path / "big.db", 30 * small))
    # the small store counted inline (it is cheap); the big one in a thread: every query the inbox
    # ran on its own connection for the big store is one it also runs for the small store, and
    # the one count among them is the list's length, read from the tally the triggers keep (a
    # few rows per mailbox and category however many conversations): never a count(*) over the
    # conversations, never the per-view or per-category counts
    assert any("GROUP BY" in q for q in small_queries)
    counts = [q for q in big_queries if "GROUP BY" in q or "sum(" in q or "FROM conversation" in q and "count(" in q]
    assert counts and all("FROM conversation_counts" in q and "GROUP BY" not in q and "sum(CASE" not in q
                          for q in counts), counts
    assert not any("count(*) FROM conversations" in q for q in big_queries)
    assert set(big_queries) <= set(small_queries)
    assert len(big_queries) <= len(small_queries)


async def test_a_label_reads_the_list_once(tmp_path):
    """A key that labels re-reads the list at once; the change signal its own write raised does
    not make the inbox read everything a second time (twice the work for every key on a big store)."""
    path = fill(tmp_path / "label.db", 300)
    app = make_app(path)
    async with app.run_test(size=(120, 30)) as pilot:
        inbox = app.screen.query_one(InboxList)
        assert await until(pilot, lambda: inbox.pager is not None and len(inbox.pager) > 0)
        changes = changes_for(path)
        assert await until(pilot, lambda: app.changes_seen == changes.count)
        before = inbox.current["category"]
        seen: list[str] = []
        app.store.db.conn.set_trace_callback(seen.append)
        await pilot.press("n")
        assert await until(pilot, lambda: inbox.pager.row(0)["category"] != before)
        assert await until(pilot, lambda: app.changes_seen == changes.count)  # the signal was heard
        app.store.db.conn.set_trace_callback(None)
    reads = Counter(shape(q) for q in seen if q.lstrip().upper().startswith("SELECT"))
    assert reads and max(reads.values()) == 1, [q for q, n in reads.items() if n > 1]


async def test_connects_are_paced_and_bounded():
    """A cold start of many mailboxes: never more handshakes at once than allowed, and new ones
    started no closer together than the pace (a lower bound: a slow machine only spaces them more)."""
    import asyncio

    from app.engine import ConnectPace

    pace = ConnectPace(concurrency=3, per_second=50)
    loop = asyncio.get_running_loop()
    started: list[float] = []
    inside = peak = 0

    async def connect() -> None:
        nonlocal inside, peak
        async with pace.slot("imap.example.com"):
            started.append(loop.time())
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.01)
            inside -= 1
    await asyncio.gather(*(connect() for _ in range(20)))
    gaps = [b - a for a, b in zip(started, started[1:])]
    assert peak <= 3 and len(started) == 20
    assert min(gaps) >= 1 / 50 - 0.002
    assert pace.waiting == 0


async def test_each_server_host_has_its_own_pace():
    """Mailboxes at one provider do not wait behind another's: the first connect to the second
    host starts before the second to the first, whose turn is a gap later; each host alone keeps
    the pace, and the engine's bound on handshakes at once holds across hosts."""
    import asyncio

    from app.engine import ConnectPace

    pace = ConnectPace(concurrency=4, per_second=20)
    loop = asyncio.get_running_loop()
    started: list[tuple[str, float]] = []
    inside = peak = 0

    async def connect(host: str) -> None:
        nonlocal inside, peak
        async with pace.slot(host):
            started.append((host, loop.time()))
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.01)
            inside -= 1
    await asyncio.gather(*(connect("imap.gmail.com") for _ in range(6)),
                         *(connect("OUTLOOK.office365.com") for _ in range(6)))
    order = [h for h, _ in started]
    assert order.index("OUTLOOK.office365.com") < order.index("imap.gmail.com", order.index("imap.gmail.com") + 1)
    for host in ("imap.gmail.com", "OUTLOOK.office365.com"):
        times = [t for h, t in started if h == host]
        assert len(times) == 6 and min(b - a for a, b in zip(times, times[1:])) >= 1 / 20 - 0.002
    assert peak <= 4


async def test_a_search_with_more_hits_than_it_lists_says_so(tmp_path, monkeypatch):
    """A broad search on a big store lists its first conversations at once and reads "10,000+"
    instead of counting every hit first (here with a cap of 20)."""
    import app.ui.paging as paging

    monkeypatch.setattr(paging, "SEARCH_CAP", 20)
    app = make_app(fill(tmp_path / "search.db", 300))
    async with app.run_test(size=(120, 30)) as pilot:
        inbox = app.screen.query_one(InboxList)
        assert await until(pilot, lambda: inbox.pager is not None and len(inbox.pager) == 300)
        await pilot.press("slash", *"note", "enter")
        assert await until(pilot, lambda: "“note” 20+ found" in screen_text(app))
        assert len(inbox.pager) == 20 and inbox.current["subject"] == "Re: note 0"
        await pilot.press("G")
        assert await until(pilot, lambda: inbox.current is not None and inbox.current["subject"] == "Re: note 19")
        await pilot.press("slash", *["backspace"] * 4, *"note 7", "enter")
        assert await until(pilot, lambda: "“note 7” 11 found" in screen_text(app))  # 7, 70-79


async def test_a_search_on_a_big_store_is_counted_off_the_event_loop(tmp_path, monkeypatch):
    """A search lists few rows, but its counts scan its hits: on a big store they are read in
    the counts' thread whatever the length of the list."""
    monkeypatch.setattr(inbox_screen, "COUNTS_INLINE_ROWS", 1000)
    app = make_app(fill(tmp_path / "big.db", 3000))
    async with app.run_test(size=(120, 30)) as pilot:
        inbox = app.screen.query_one(InboxList)
        assert await until(pilot, lambda: "Replies 3,000" in screen_text(app))
        seen: list[str] = []
        app.store.db.conn.set_trace_callback(seen.append)
        await pilot.press("slash", *"note 7", "enter")  # 7, 70-79, 700-799
        assert await until(pilot, lambda: "“note 7” 111 found" in screen_text(app))
        assert await until(pilot, lambda: "interested 55  meeting 56" in screen_text(app))
        app.store.db.conn.set_trace_callback(None)
        assert len(inbox.pager) == 111
    assert seen and not any("GROUP BY" in q or "sum(" in q for q in seen)


async def test_a_refresh_with_a_whole_view_selected_reads_the_selection_at_once(tmp_path):
    """Every conversation of a view marked with * stays marked through a refresh, checked against
    the store in one query: a lookup per marked row froze the screen for minutes at every arrival
    once 60,000 were selected. Those that left the view leave the selection."""
    path = fill(tmp_path / "selected.db", 3000)
    app = make_app(path)
    async with app.run_test(size=(120, 30)) as pilot:
        inbox = app.screen.query_one(InboxList)
        assert await until(pilot, lambda: inbox.pager is not None and len(inbox.pager) == 3000)
        await pilot.press("asterisk")
        assert await until(pilot, lambda: "✓ 3,000 selected" in screen_text(app))
        seen: list[str] = []
        app.store.db.conn.set_trace_callback(seen.append)
        new = arrive(path)
        assert await until(pilot, lambda: inbox.pager.row(0) is not None and inbox.pager.row(0)["id"] == new)
        app.store.db.conn.set_trace_callback(None)
        assert "✓ 3,000 selected" in screen_text(app)  # the newcomer is not marked, the rest still are
        lookups = [q for q in seen if "FROM conversations c WHERE" in q]
        assert len(lookups) < 20, len(lookups)
        other = Store(path)
        try:
            other.archive(list(range(1, 11)))
        finally:
            other.close()
        assert await until(pilot, lambda: "✓ 2,990 selected" in screen_text(app))


async def test_a_big_bulk_label_is_written_off_the_event_loop(tmp_path, monkeypatch):
    """A label on more conversations than BULK_INLINE is written in a thread: while the write
    waits (here on a lock another connection holds) the screen answers keys, a second triage
    key is told to wait, and the label lands on every marked conversation once the lock goes."""
    import sqlite3

    import app.ui.triage as triage
    monkeypatch.setattr(triage, "BULK_INLINE", 50)
    path = fill(tmp_path / "bulk.db", 300)
    app = make_app(path)
    async with app.run_test(size=(120, 30)) as pilot:
        inbox = app.screen.query_one(InboxList)
        assert await until(pilot, lambda: inbox.pager is not None and len(inbox.pager) == 300)
        await pilot.press("asterisk")
        assert await until(pilot, lambda: "✓ 300 selected" in screen_text(app))
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            await pilot.press("n")
            assert await until(pilot, lambda: "working on 300 conversations" in screen_text(app))
            await pilot.press("j")  # the screen answers while the write waits
            await pilot.pause()
            assert inbox.cursor == 1
            await pilot.press("e")
            assert await until(pilot, lambda: "still working on the last change" in screen_text(app))
        finally:
            holder.execute("COMMIT")
            holder.close()
        assert await until(pilot, lambda: "not interested (300 conversations)" in screen_text(app))
        assert "selected" not in screen_text(app).splitlines()[1]
        store = Store(path)
        try:
            labelled = "SELECT count(*) FROM conversations WHERE category = 'not_interested' AND archived = 0"
            assert store.db.conn.execute(labelled).fetchone()[0] == 300
            holder = sqlite3.connect(path, isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")
            try:
                await pilot.press("z")  # undone in the background too
                assert await until(pilot, lambda: "undoing the last change on 300 messages" in screen_text(app))
            finally:
                holder.execute("COMMIT")
                holder.close()
            assert await until(pilot, lambda: "undone: label" in screen_text(app))
            assert store.db.conn.execute(labelled).fetchone()[0] == 0
        finally:
            store.close()
