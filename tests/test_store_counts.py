"""The counts the inbox shows (per view, per category, per mailbox, unread) are kept by triggers
in the transaction that changes the rows, and always equal a fresh count of the conversations,
whatever the user, the engine and the server did before: arrivals, threads, labels, read state,
archive, snoozes and waits that end, assignment, expunges, a UIDVALIDITY rescan, warmup marks
and re-applied warmup tags, server flags, undo. A random sequence of these is checked after
every step against ``count(*)`` over the conversations, with hypothesis shrinking any mismatch
to the shortest sequence that shows it. On both backends: SQLite's triggers and PostgreSQL's."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable
from itertools import product

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from app.mail.noise import NoiseContext
from app.mail.types import CATEGORIES
from app.store import InboxFilter, Store, is_postgres
from app.store.activity import AssignRule
from app.store.inbox import VIEWS, _where
from app.store.schema import MIGRATIONS, V_COUNTS
from tests.storefill import incoming

ACCOUNTS = ("a", "b")
USERS = ("ana", "ben")
TAG = "WARMTAG"
VERDICTS = [("reply", c) for c in ("interested", "meeting", "not_interested", "unsubscribe", "uncategorized")] + [
    ("bounce", "bounce"), ("complaint", "complaint"), ("autoreply", "out_of_office"), ("autoreply", "auto_reply"),
    ("warmup", "warmup"), ("internal", "internal"), ("bulk", "bulk")]
T0 = 1_800_000_000.0


def fresh_count(store: Store, f: InboxFilter) -> int:
    where, params = _where(f)
    return store.db.conn.execute(f"SELECT count(*) FROM conversations c WHERE {where}", params).fetchone()[0]


def fresh_categories(store: Store, f: InboxFilter) -> dict[str, int]:
    where, params = _where(f.with_(category=None))
    return dict(store.db.conn.execute(
        f"SELECT coalesce(nullif(c.category, ''), 'uncategorized') AS cat, count(*) FROM conversations c "
        f"WHERE {where} GROUP BY cat", params).fetchall())


def tally_rows(conn: sqlite3.Connection) -> list[tuple]:
    return conn.execute("SELECT * FROM conversation_counts WHERE n != 0 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9").fetchall()


def recounted_rows(conn: sqlite3.Connection) -> list[tuple]:
    return conn.execute(
        "SELECT account, coalesce(category, ''), coalesce(kind, ''), archived, unread_count > 0, "
        "woke_reason IS NOT NULL, snoozed_until IS NOT NULL OR waiting_since IS NOT NULL, "
        "assigned_to IS NOT NULL, coalesce(assigned_to, ''), count(*) FROM conversations "
        "WHERE last_inbound_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9").fetchall()


def assert_counts_exact(store: Store) -> None:
    conn = store.db.conn
    assert tally_rows(conn) == recounted_rows(conn)
    assert not conn.execute("SELECT 1 FROM conversation_counts WHERE n < 0").fetchall()
    fresh_views = {view: fresh_count(store, InboxFilter(view=view)) for view in VIEWS}
    assert store.view_counts() == fresh_views
    for view, unread, account in product(VIEWS, (False, True), (None, *ACCOUNTS)):
        f = InboxFilter(view=view, unread=unread, account=account)
        assert store.count_conversations(f) == fresh_count(store, f), f
        categories = store.category_counts(f)
        assert categories == fresh_categories(store, f), f
        for category in categories:
            g = f.with_(category=category)
            assert store.count_conversations(g) == fresh_count(store, g), g


class InboxHistory(RuleBasedStateMachine):
    """One store, and whatever can happen to it, in any order. ``target`` gives each example a
    new empty store."""

    target: Callable[[], str] = staticmethod(lambda: ":memory:")

    def __init__(self) -> None:
        super().__init__()
        self.store = Store(self.target(), user=USERS[0])
        for account in ACCOUNTS:
            self.store.ensure_account(account, f"{account}@sender.example")
        self.t = T0
        self.n = 0
        self.uidvalidity = dict.fromkeys(ACCOUNTS, 1)
        self.message_ids: list[tuple[str, str]] = []
        """(account, Message-ID) of every message stored, to thread replies onto."""

    # -- picking rows ------------------------------------------------------------------

    def conversations(self, pick: int, many: int = 1) -> list[int]:
        ids = [r[0] for r in self.store.db.conn.execute("SELECT id FROM conversations ORDER BY id")]
        if not ids:
            return []
        return [ids[(pick + i * 7) % len(ids)] for i in range(min(many, len(ids)))]

    def message(self, pick: int) -> tuple | None:
        rows = self.store.db.conn.execute(
            "SELECT account, folder, uidvalidity, uid, flags FROM messages ORDER BY id").fetchall()
        return rows[pick % len(rows)] if rows else None

    # -- the engine --------------------------------------------------------------------

    @rule(account=st.sampled_from(ACCOUNTS), verdict=st.sampled_from(VERDICTS), seen=st.booleans(),
          thread=st.none() | st.integers(0, 1000), tagged=st.booleans(), sent=st.booleans(),
          age=st.integers(-600, 600))
    def arrive(self, account, verdict, seen, thread, tagged, sent, age):
        self.n += 1
        parent = None
        if thread is not None:
            mine = [m for a, m in self.message_ids if a == account]
            parent = mine[thread % len(mine)] if mine else None
        mid = f"<m{self.n}@p.example>"
        kind, category = verdict
        subject = f"Re: offer {TAG}" if tagged else "Re: offer"
        if sent:
            msg = incoming(self.n, mid, subject, f"{account}@sender.example", folder="Sent",
                           direction="out", in_reply_to=parent, received_at=self.t + age)
        else:
            msg = incoming(self.n, mid, subject, f"p{self.n % 5}@p.example", kind=kind, category=category,
                           in_reply_to=parent, uidvalidity=self.uidvalidity[account],
                           flags=frozenset({"\\Seen"}) if seen else frozenset(), received_at=self.t + age)
        self.store.add_messages(account, [msg])
        self.message_ids.append((account, mid))

    @rule(pick=st.integers(0, 1000))
    def expunge(self, pick):
        row = self.message(pick)
        if row is not None:
            self.store.remove_uids(row[0], row[1], row[2], [row[3]])

    @rule(account=st.sampled_from(ACCOUNTS))
    def uidvalidity_rescan(self, account):
        """The folder was recreated: its rows go, and come back under the new UIDVALIDITY."""
        conn = self.store.db.conn
        kept = conn.execute(
            "SELECT uid, message_id, subject, from_addr, kind, category, seen, received_at, in_reply_to "
            "FROM messages WHERE account = ? AND folder = 'INBOX' ORDER BY id", (account,)).fetchall()
        self.uidvalidity[account] += 1
        uv = self.uidvalidity[account]
        self.store.forget_folder(account, "INBOX", keep_uidvalidity=uv)
        self.store.add_messages(account, [
            incoming(uid, mid, subject, sender, kind=kind, category=category, uidvalidity=uv,
                     in_reply_to=parent, flags=frozenset({"\\Seen"}) if seen else frozenset(), received_at=at)
            for uid, mid, subject, sender, kind, category, seen, at, parent in kept])

    @rule(pick=st.integers(0, 1000), seen=st.booleans(), label=st.none() | st.sampled_from(CATEGORIES))
    def server_flags(self, pick, seen, label):
        """Another client read it, or labelled it on another machine (a keyword)."""
        row = self.message(pick)
        if row is None:
            return
        flags = {"\\Seen"} if seen else set()
        if label:
            flags.add(f"replydesk-{label}")
        self.store.apply_server_flags(row[0], row[1], row[2], {row[3]: flags})

    @rule(refused=st.booleans())
    def server_carries_out_moves(self, refused):
        for (op_id,) in self.store.db.conn.execute(
                "SELECT id FROM pending_ops WHERE op = 'move' AND state = 'pending'").fetchall():
            self.store.finish_op(op_id, "refused by the server" if refused else None, give_up=refused)

    @rule(step=st.integers(1, 400))
    def time_passes(self, step):
        self.t += step
        self.store.wake_due(self.t)

    @rule(ooo=st.booleans())
    def schedule_followups(self, ooo):
        self.store.schedule_followups(no_answer_after=lambda since: since + 300,
                                      ooo_wake=(lambda _: self.t + 200) if ooo else None)

    @rule(tags=st.booleans())
    def reapply_warmup_tags(self, tags):
        ctx = NoiseContext.of([TAG] if tags else [])
        self.store.reapply_warmup(lambda account: ctx)

    @rule(on=st.booleans(), user=st.sampled_from(USERS))
    def assign_rules(self, on, user):
        self.store.set_assign_rules([AssignRule(user, category="interested")] if on else [])

    # -- the user ----------------------------------------------------------------------

    @rule(pick=st.integers(0, 1000), many=st.integers(1, 3), category=st.sampled_from(CATEGORIES))
    def label(self, pick, many, category):
        self.store.set_category(self.conversations(pick, many), category)

    @rule(pick=st.integers(0, 1000), seen=st.booleans())
    def read(self, pick, seen):
        self.store.set_seen(self.conversations(pick), seen)

    @rule(pick=st.integers(0, 1000), many=st.integers(1, 3), archived=st.booleans())
    def archive(self, pick, many, archived):
        self.store.archive(self.conversations(pick, many), archived)

    @rule(pick=st.integers(0, 1000), until=st.integers(1, 500))
    def snooze(self, pick, until):
        self.store.snooze(self.conversations(pick), self.t + until, at=self.t)

    @rule(pick=st.integers(0, 1000))
    def unsnooze(self, pick):
        self.store.unsnooze(self.conversations(pick))

    @rule(pick=st.integers(0, 1000))
    def answer(self, pick):
        """We replied: the conversation waits for the prospect."""
        for conv in self.conversations(pick):
            with self.store.db.tx():
                self.store.start_waiting(conv, self.t)

    @rule(pick=st.integers(0, 1000))
    def clear_woke(self, pick):
        self.store.clear_woke(self.conversations(pick))

    @rule(pick=st.integers(0, 1000), user=st.none() | st.sampled_from(USERS))
    def assign(self, pick, user):
        self.store.assign(self.conversations(pick), user)

    @rule(user=st.sampled_from(USERS))
    def another_user_reads(self, user):
        self.store.set_user(user)

    @rule(pick=st.integers(0, 1000), warmup=st.booleans())
    def mark_warmup(self, pick, warmup):
        self.store.mark_warmup(self.conversations(pick), warmup)

    @rule()
    def undo(self):
        self.store.undo_last()

    @invariant()
    def tally_is_exact(self):
        conn = self.store.db.conn
        assert tally_rows(conn) == recounted_rows(conn)

    def teardown(self) -> None:
        try:
            assert_counts_exact(self.store)
        finally:
            self.store.close()


def test_every_count_equals_a_fresh_count_after_any_history(store_target):
    """Each example on a new store: in memory on SQLite, a new database on PostgreSQL (fewer
    examples there: each one costs a database and a round trip per statement)."""
    pg = is_postgres(store_target())
    names = itertools.count()
    history = type("History", (InboxHistory,), {"target": staticmethod(
        lambda: store_target(f"history-{next(names)}") if pg else ":memory:")})
    run_state_machine_as_test(history, settings=settings(
        max_examples=30 if pg else 60, stateful_step_count=25, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow]))


def test_the_migration_counts_what_is_stored_already(tmp_path):
    """A store from before the tally: opening it counts the conversations it holds. SQLite only:
    a PostgreSQL store was never without the tally."""
    from app.store.db import _statements

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    before = MIGRATIONS.index(V_COUNTS)
    for migration in MIGRATIONS[:before]:
        for statement in _statements(migration):
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {before}")
    conn.executemany(
        "INSERT INTO conversations (account, thread_key, kind, category, last_inbound_at, unread_count, archived, "
        "snoozed_until, assigned_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [("a", "t1", "reply", "interested", T0, 1, 0, None, None),
         ("a", "t2", "reply", "interested", T0, 0, 0, None, "ana"),
         ("b", "t3", "bounce", "bounce", T0, 0, 1, None, None),
         ("b", "t4", "reply", None, T0, 2, 0, T0 + 60, None),
         ("b", "t5", "outbound", "sent", None, 0, 0, None, None)])  # nothing inbound: not listed
    conn.commit()
    conn.close()
    store = Store(path, user="ana")
    try:
        assert store.view_counts() == {"replies": 2, "bounces": 0, "auto": 0, "snoozed": 1, "archived": 1,
                                       "all": 4, "noise": 0, "mine": 1, "unassigned": 1}
        assert store.category_counts(InboxFilter()) == {"interested": 2}
        assert store.count_conversations(InboxFilter(view="all", unread=True)) == 2
        assert_counts_exact(store)
    finally:
        store.close()


def test_a_change_that_fails_takes_its_counts_back_with_it(store_target):
    store = Store(store_target())
    store.ensure_account("a", "a@sender.example")
    store.add_messages("a", [incoming(1, "<r1@p>", "Re: x", "bob@p.example", category="interested")])
    before = store.view_counts()
    with pytest.raises(RuntimeError):
        with store.db.tx():
            store.add_messages("a", [incoming(2, "<r2@p>", "Re: y", "cy@p.example")])
            store.archive([r[0] for r in store.db.conn.execute("SELECT id FROM conversations")])
            assert store.view_counts()["replies"] == 0  # inside the transaction: counted at once
            raise RuntimeError("disk gone")
    assert store.view_counts() == before == {**before, "replies": 1, "all": 1}
    assert_counts_exact(store)
    store.close()


def test_a_reply_into_a_waiting_snoozed_assigned_conversation_keeps_the_counts(store_target):
    """New mail in conversations that wait for the prospect, are snoozed, assigned, archived or
    read, each refreshed in one batch (the tallies moved for all of them at once): the counts
    equal a fresh count after every batch."""
    store = Store(store_target(), user=USERS[0])
    try:
        store.ensure_account("a", "a@sender.example")
        firsts = [incoming(i, f"<w{i}@p.example>", "Re: offer", f"p{i}@p.example", category="interested",
                           in_reply_to=f"<o{i}@sender.example>", received_at=T0 + i,
                           flags=frozenset({"\\Seen"}) if i % 2 else frozenset()) for i in range(1, 7)]
        store.add_messages("a", firsts)
        assert_counts_exact(store)
        convs = [store.db.conn.execute("SELECT conversation_id FROM messages WHERE message_id = ?",
                                       (m.parsed.message_id,)).fetchone()[0] for m in firsts]
        with store.db.tx():
            store.start_waiting(convs[0], T0 + 10)
            store.start_waiting(convs[1], T0 + 10)
        store.snooze([convs[2]], T0 + 10_000, at=T0 + 10)
        store.assign([convs[3]], "ben")
        store.archive([convs[4]])
        assert_counts_exact(store)
        replies = [incoming(10 + i, f"<x{i}@p.example>", "Re: Re: offer", f"p{i + 1}@p.example",
                            category="meeting" if i % 2 else "interested", in_reply_to=m.parsed.message_id,
                            received_at=T0 + 100 + i) for i, m in enumerate(firsts)]
        store.add_messages("a", replies)
        assert_counts_exact(store)
    finally:
        store.close()
