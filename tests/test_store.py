"""The store: nothing stored twice, labels that survive a rescan, threads, undo, search, suppressions."""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest

from app.errors import StoreError
from app.mail.types import BounceRecipient
from app.store import InboxFilter, Store
from app.store.db import now
from tests.storefill import incoming


@pytest.fixture
def store(store_target):
    s = Store(store_target())
    s.ensure_account("a", "me@sender.example")
    yield s
    s.close()


def test_database_file_is_private_and_in_wal_mode(tmp_path):
    """SQLite only: the file's mode and journal (PostgreSQL keeps no file of the store's)."""
    s = Store(tmp_path / "sub" / "rd.db")
    assert stat.S_IMODE(os.stat(tmp_path / "sub" / "rd.db").st_mode) == 0o600
    assert s.db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert s.db.conn.execute("PRAGMA user_version").fetchone()[0] >= 1


def test_a_database_from_a_newer_replydesk_is_refused(tmp_path):
    """SQLite's user_version (PostgreSQL's own: tests/test_store_pg.py)."""
    path = tmp_path / "rd.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    with pytest.raises(StoreError, match="newer replydesk"):
        Store(path)


def _open_and_count_accounts(path: str) -> int:
    s = Store(path)
    try:
        return s.db.conn.execute("SELECT count(*) FROM accounts").fetchone()[0]
    finally:
        s.close()


def test_processes_opening_a_new_database_at_once_all_succeed(tmp_path):
    """The engine and a terminal started together both find an empty file: one migrates it,
    the other waits and finds the schema in place, and neither fails. (A file removed between
    rounds: SQLite's; PostgreSQL's below.)"""
    import multiprocessing

    path = str(tmp_path / "fresh.db")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(6) as pool:
        for _ in range(3):
            if os.path.exists(path):
                for suffix in ("", "-wal", "-shm"):
                    if os.path.exists(path + suffix):
                        os.remove(path + suffix)
            assert pool.map(_open_and_count_accounts, [path] * 6) == [0] * 6


def test_the_same_message_is_stored_once(store):
    msg = incoming(1, "<r1@p>", "Re: hi", "bob@p.example")
    assert len(store.add_messages("a", [msg])) == 1
    assert store.add_messages("a", [msg, msg]) == []
    assert len(store.list_messages()) == 1


def test_a_reply_joins_the_thread_of_our_cold_email(store):
    store.add_messages("a", [incoming(1, "<cold@me>", "Quick question", "me@sender.example",
                                      folder="Sent", direction="out", to="bob@p.example")])
    store.add_messages("a", [incoming(1, "<r1@p>", "Re: Quick question", "bob@p.example",
                                      in_reply_to="<cold@me>", category="interested")])
    [conv] = store.conversations_at(InboxFilter(), 0, 10)
    assert conv["message_count"] == 2 and conv["inbound_count"] == 1
    assert conv["counterpart"] == "bob@p.example" and conv["category"] == "interested"
    thread = store.conversation_messages(conv["id"])
    assert [m["direction"] for m in thread] == ["out", "in"]


def test_a_user_label_survives_a_uidvalidity_rescan(store):
    store.add_messages("a", [incoming(5, "<r1@p>", "Re: x", "bob@p.example", category="not_interested")])
    conv = store.conversations_at(InboxFilter(), 0, 1)[0]["id"]
    store.set_category([conv], "interested")
    assert store.forget_folder("a", "INBOX", keep_uidvalidity=2) == 1
    store.add_messages("a", [incoming(1, "<r1@p>", "Re: x", "bob@p.example", uidvalidity=2,
                                      category="not_interested")])
    [row] = store.list_messages()
    assert (row["category"], row["category_source"], row["uid"]) == ("interested", "user", 1)


def test_label_archive_read_and_undo(store):
    store.add_messages("a", [incoming(1, "<r1@p>", "Re: x", "bob@p.example", category="interested")])
    conv = store.conversations_at(InboxFilter(), 0, 1)[0]["id"]
    store.set_category([conv], "meeting")
    store.set_seen([conv], True)
    store.archive([conv])
    assert store.count_conversations(InboxFilter()) == 0
    assert store.count_conversations(InboxFilter(view="archived")) == 1
    ops = [(o["op"], o["args"]) for o in store.pending_ops("a")]
    assert ("add_flags", {"flags": ["replydesk-meeting"]}) in ops
    assert ("add_flags", {"flags": ["\\Seen"]}) in ops
    assert ("move", {"to_role": "archive"}) in ops
    assert store.undo_last() == "archive"
    assert store.count_conversations(InboxFilter()) == 1
    assert store.undo_last() == "flag"
    assert store.conversation(conv)["unread_count"] == 1
    assert store.undo_last() == "label"
    assert store.conversation(conv)["category"] == "interested"
    assert store.undo_last() is None


def test_views_split_replies_from_bounces_and_auto_replies(store):
    store.add_messages("a", [
        incoming(1, "<r1@p>", "Re: x", "bob@p.example", category="interested"),
        incoming(2, "<b1@p>", "Undeliverable", "mailer-daemon@p.example", kind="bounce", category="bounce",
                 bounces=[BounceRecipient("gone@p.example", "5.1.1", True),
                          BounceRecipient("full@p.example", "4.2.2", False)]),
        incoming(3, "<o1@p>", "Out of office", "eve@p.example", kind="autoreply", category="out_of_office"),
    ])
    assert store.view_counts() == {"replies": 1, "bounces": 1, "auto": 1, "snoozed": 0, "archived": 0, "all": 3, "noise": 0,
                                  "mine": 0, "unassigned": 1}
    # hard bounces go to the suppression list, soft ones do not
    assert [s["address"] for s in store.suppressions()] == ["gone@p.example"]
    assert store.is_suppressed("GONE@p.example")


def test_full_text_search_and_filters(store):
    store.add_messages("a", [
        incoming(1, "<r1@p>", "Re: pricing", "bob@p.example", text="Can you send the pricing deck?"),
        incoming(2, "<r2@p>", "Re: hello", "ann@q.example", text="Not now, thanks", category="not_interested"),
    ])
    assert store.count_conversations(InboxFilter(search="deck")) == 1
    assert store.count_conversations(InboxFilter(search="ann@q")) == 1
    assert store.count_conversations(InboxFilter(search='"); DROP TABLE messages; --')) == 0
    assert store.count_conversations(InboxFilter(category="not_interested")) == 1
    assert store.category_counts(InboxFilter()) == {"uncategorized": 1, "not_interested": 1}


def test_keyset_paging_and_positions_follow_the_list_order(store):
    store.add_messages("a", [incoming(i, f"<m{i}@p>", f"Re: {i}", f"p{i}@p.example", received_at=1000.0 + i)
                             for i in range(1, 51)])
    f = InboxFilter()
    first = store.conversations_at(f, 0, 20)
    assert [c["subject"] for c in first[:2]] == ["Re: 50", "Re: 49"]
    nxt = store.conversations_after(f, first[-1], 20)
    assert nxt == store.conversations_at(f, 20, 20)
    assert store.position_of(f, nxt[0]["id"]) == 20


@pytest.mark.parametrize("order", ["newest", "oldest", "mailbox"])
def test_every_sort_order_pages_by_keyset_without_losing_or_repeating_a_row(store, order):
    # three mailboxes, and times that tie across and within them: the order falls back to the id
    for n, account in enumerate(("b", "a", "c")):
        store.add_messages(account, [incoming(i, f"<{account}{i}@p>", f"Re: {account}{i}", f"{account}{i}@p.example",
                                              received_at=1000.0 + (i * (n + 1)) % 7) for i in range(1, 24)])
    f = InboxFilter(sort=order)
    everything = store.conversations_at(f, 0, 1000)
    assert len(everything) == store.count_conversations(f) == 69
    def key(c):
        newest = (-c["last_inbound_at"], -c["id"])
        return {"newest": newest, "oldest": (c["last_inbound_at"], c["id"]),
                "mailbox": (c["account"], *newest)}[order]
    assert [c["id"] for c in everything] == [c["id"] for c in sorted(everything, key=key)]
    walked = store.conversations_at(f, 0, 7)
    while len(walked) < len(everything):
        page = store.conversations_after(f, walked[-1], 7)
        assert page, "a page came back empty before the end of the list"
        walked += page
    assert [c["id"] for c in walked] == [c["id"] for c in everything]
    assert store.conversations_at(f, 0, 10, from_end=True) == everything[-10:]
    assert [store.position_of(f, c["id"]) for c in everything] == list(range(len(everything)))
    assert store.search_ids(f.with_(search="p.example")) == [c["id"] for c in everything]


def test_replydesk_list_sorts_messages(store):
    store.add_messages("b", [incoming(1, "<b1@p>", "Re: b1", "b1@p.example", received_at=1003.0)])
    store.add_messages("a", [incoming(1, "<a1@p>", "Re: a1", "a1@p.example", received_at=1001.0),
                             incoming(2, "<a2@p>", "Re: a2", "a2@p.example", received_at=1002.0)])
    subjects = {o: [m["subject"] for m in store.list_messages(sort=o)] for o in ("newest", "oldest", "mailbox")}
    assert subjects == {"newest": ["Re: b1", "Re: a2", "Re: a1"], "oldest": ["Re: a1", "Re: a2", "Re: b1"],
                        "mailbox": ["Re: a2", "Re: a1", "Re: b1"]}


def test_server_flag_changes_come_back(store):
    store.add_messages("a", [incoming(7, "<r1@p>", "Re: x", "bob@p.example")])
    assert store.apply_server_flags("a", "INBOX", 1, {7: ["\\Seen"]}) == 1
    assert store.apply_server_flags("a", "INBOX", 1, {7: ["\\Seen"]}) == 0
    assert store.list_messages()[0]["seen"] == 1


def test_processes_opening_a_new_postgresql_store_at_once_all_succeed(postgres, pg_url):
    """The same on PostgreSQL: six processes find an empty database; the schema is made once
    (under the store's advisory lock) and every one of them opens the store."""
    import multiprocessing

    urls = [pg_url, *(postgres.url(postgres.create_database()) for _ in range(2))]
    with multiprocessing.get_context("spawn").Pool(6) as pool:
        for url in urls:
            assert pool.map(_open_and_count_accounts, [url] * 6) == [0] * 6


def test_another_connection_sees_commits_through_data_version(store, tmp_path):
    reader = Store(store.path)
    before = reader.data_version()
    store.add_messages("a", [incoming(1, "<r1@p>", "Re: x", "bob@p.example")])
    assert reader.data_version() != before
    assert reader.count_conversations(InboxFilter()) == 1


def test_a_label_waiting_for_the_server_is_not_undone_by_a_stale_keyword(store):
    """The user relabels while the server still carries the old keyword: the flag sync that
    arrives before the watcher has pushed the change must not put the old label back."""
    [mid] = store.add_messages("a", [incoming(7, "<r7@p>", "Re: hi", "bob@p.example", category="interested")])
    conv = store.db.conn.execute("SELECT conversation_id FROM messages WHERE id = ?", (mid,)).fetchone()[0]
    store.set_category([conv], "meeting")
    store.apply_server_flags("a", "INBOX", 1, {7: ["\\Seen", "replydesk-interested"]})
    assert store.db.conn.execute("SELECT category FROM messages WHERE id = ?", (mid,)).fetchone()[0] == "meeting"
    for op in store.pending_ops("a"):
        store.finish_op(op["id"])
    store.apply_server_flags("a", "INBOX", 1, {7: ["replydesk-wrong_person"]})
    assert store.db.conn.execute("SELECT category FROM messages WHERE id = ?",
                                 (mid,)).fetchone()[0] == "wrong_person"


def test_a_label_cleared_on_another_machine_hands_the_message_back_to_the_classifier(store):
    [mid] = store.add_messages("a", [incoming(8, "<r8@p>", "Re: hi", "bob@p.example", category="interested")])
    conv = store.db.conn.execute("SELECT conversation_id FROM messages WHERE id = ?", (mid,)).fetchone()[0]
    store.set_category([conv], "wrong_person")
    for op in store.pending_ops("a"):
        store.finish_op(op["id"])
    store.apply_server_flags("a", "INBOX", 1, {8: ["\\Seen", "replydesk-wrong_person"]})

    def state():
        return store.db.conn.execute("SELECT m.category, m.category_source, c.category FROM messages m "
                                     "JOIN conversations c ON c.id = m.conversation_id WHERE m.id = ?",
                                     (mid,)).fetchone()
    assert state() == ("wrong_person", "user", "wrong_person")
    store.apply_server_flags("a", "INBOX", 1, {8: ["\\Seen"]})  # the keyword is gone on the server
    assert state() == ("interested", "classifier", "interested")
    assert store.db.conn.execute("SELECT count(*) FROM labels").fetchone()[0] == 0
    # a message that never carried a keyword (a server that refuses them) keeps its label
    [other] = store.add_messages("a", [incoming(9, "<r9@p>", "Re: yo", "cy@p.example", category="meeting")])
    conv9 = store.db.conn.execute("SELECT conversation_id FROM messages WHERE id = ?", (other,)).fetchone()[0]
    store.set_category([conv9], "not_interested")
    for op in store.pending_ops("a"):
        store.finish_op(op["id"])
    store.apply_server_flags("a", "INBOX", 1, {9: ["\\Seen"]})
    assert store.db.conn.execute("SELECT category FROM messages WHERE id = ?", (other,)).fetchone()[0] == \
        "not_interested"


def test_a_version_1_database_is_migrated_and_keeps_its_rows(tmp_path):
    """A database written by the first schema: the upgrade adds the classifier's own category
    for rows it sorted, leaves the user's labels alone, and loses nothing. SQLite only: a
    PostgreSQL store starts at a later version (its migrations: tests/test_store_pg.py)."""
    from app.store.db import _statements
    from app.store.schema import MIGRATIONS

    path = tmp_path / "v1.db"
    conn = sqlite3.connect(path)
    for statement in _statements(MIGRATIONS[0]):
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO accounts (id, email) VALUES ('a', 'me@s.example')")
    for uid, cat, src in ((1, "meeting", "classifier"), (2, "unsubscribe", "user")):
        conn.execute("INSERT INTO messages (account, folder, uidvalidity, uid, message_id, received_at, "
                     "category, category_source) VALUES ('a', 'INBOX', 1, ?, ?, 0, ?, ?)",
                     (uid, f"<{uid}@p>", cat, src))
    conn.commit()
    conn.close()
    s = Store(path)
    try:
        assert s.db.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) >= 2
        rows = s.db.conn.execute("SELECT uid, category, category_source, auto_category FROM messages "
                                 "ORDER BY uid").fetchall()
        assert rows == [(1, "meeting", "classifier", "meeting"), (2, "unsubscribe", "user", None)]
    finally:
        s.close()


def test_view_and_category_counts_add_up(store):
    store.add_messages("a", [
        incoming(1, "<r1@p>", "Re: a", "bob@p.example", category="interested"),
        incoming(2, "<r2@p>", "Re: b", "ann@q.example"),
        incoming(3, "<r3@p>", "Re: c", "cy@r.example"),
    ])
    conv = store.db.conn.execute("SELECT conversation_id FROM messages WHERE uid = 1").fetchone()[0]
    store.archive([conv])
    # a conversation with no category recorded counts as uncategorized, next to those that say so
    store.db.conn.execute("UPDATE conversations SET category = '' WHERE counterpart = 'cy@r.example'")
    assert store.view_counts() == {"replies": 2, "bounces": 0, "auto": 0, "snoozed": 0, "archived": 1, "all": 3, "noise": 0,
                                  "mine": 0, "unassigned": 2}
    assert store.category_counts(InboxFilter()) == {"uncategorized": 2}
    assert store.category_counts(InboxFilter(view="all")) == {"uncategorized": 2, "interested": 1}


def test_an_arrival_during_the_announcement_is_told_once(store):
    """The UI reads the newest row, then the arrivals up to it: a reply stored in between is left
    for the next round, neither missed nor announced twice."""
    store.add_messages("a", [incoming(1, "<n1@p>", "Re: one", "bob@p.example", received_at=now())])
    upto = store.newest_message_id()
    store.add_messages("a", [incoming(2, "<n2@p>", "Re: two", "ann@q.example", received_at=now())])
    count, newest = store.arrivals_since(0, upto, now() - 60)
    assert (count, [m["from_addr"] for m in newest]) == (1, ["bob@p.example"])
    count, newest = store.arrivals_since(upto, store.newest_message_id(), now() - 60)
    assert (count, [m["from_addr"] for m in newest]) == (1, ["ann@q.example"])


def test_hot_leads_are_announced_first_then_the_newest(store):
    store.add_messages("a", [
        incoming(1, "<h1@p>", "Re: one", "hot@p.example", category="interested", received_at=now()),
        incoming(2, "<h2@p>", "Re: two", "cold@p.example", category="not_interested", received_at=now()),
        incoming(3, "<h3@p>", "Re: three", "meet@p.example", category="meeting", received_at=now()),
        incoming(4, "<h4@p>", "Re: four", "new@p.example", received_at=now())])
    count, newest = store.arrivals_since(0, store.newest_message_id(), now() - 60, limit=4)
    assert (count, [m["from_addr"] for m in newest]) == (
        4, ["meet@p.example", "hot@p.example", "new@p.example", "cold@p.example"])
