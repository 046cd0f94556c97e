"""A batch of messages stored in one call comes out exactly as the same messages stored one at a
time: the same rows, conversations and their summaries, kept counts, references, events, labels,
suppressions and search hits. The engine stores a first sync in batches; a push stores one
message at a time. On both backends."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.mail.types import BounceRecipient
from app.store import IncomingMessage, Store
from app.store.conversations import new_summary
from app.store.messages import _MAX_PARAMETERS, _PIECE_MOST, LOCAL_COPY_FOLDER, _json_list, _pieces
from tests.storefill import incoming

CLOCK_COLUMNS = {"created_at", "updated", "first_seen", "last_seen"}
"""Set from the clock when a row is written: they differ between any two runs."""
TABLES = ("messages", "conversations", "message_refs", "conversation_counts", "events", "labels",
          "pending_ops", "suppressions", "bounce_events")
NOW = datetime.now(timezone.utc).timestamp()


def at(minutes: float) -> float:
    """``minutes`` into the last hour (within the day: new replies make events)."""
    return NOW - 3600 + minutes * 60


def arrive(uid: int, message_id: str, subject: str, sender: str, minutes: float, **kw) -> IncomingMessage:
    """A message sent and received ``minutes`` into the last hour."""
    return incoming(uid, message_id, subject, sender, received_at=at(minutes),
                    date=datetime.fromtimestamp(at(minutes), timezone.utc), **kw)


def prepared(target: str) -> Store:
    """A store with what the batch meets: a reply we sent (its local copy, until the Sent
    folder's copy comes), the prospect's message it answers, and labels kept by Message-ID from
    a folder that was rescanned (a new UIDVALIDITY)."""
    store = Store(target)
    store.ensure_account("a", "me@sender.example")
    store.set_event_types(["reply.received", "reply.categorized"])
    store.add_messages("a", [arrive(1, "<p0@prospect.example>", "Pricing?", "p0@prospect.example", 0,
                                    in_reply_to="<out0@sender.example>")])
    store.add_messages("a", [arrive(5, "<ours0@sender.example>", "Re: Pricing?", "me@sender.example", 1,
                                    folder=LOCAL_COPY_FOLDER, uidvalidity=0, direction="out",
                                    to="p0@prospect.example", in_reply_to="<p0@prospect.example>",
                                    flags=frozenset({"\\Seen"}))])
    store.add_messages("a", [arrive(1, "<lab1@prospect.example>", "Re: outreach 8", "p8@prospect.example", 8,
                                    folder="Old", in_reply_to="<out8@sender.example>"),
                             arrive(2, "<lab2@prospect.example>", "Re: warm", "w@warm.example", 9, folder="Old")])
    store.set_category([conversation_of(store, "<lab1@prospect.example>", "Old")], "interested")
    store.mark_warmup([conversation_of(store, "<lab2@prospect.example>", "Old")])
    store.forget_folder("a", "Old", keep_uidvalidity=2)
    return store


def arrivals() -> list[IncomingMessage]:
    """What a sync brings, in the order it brings it."""
    return [
        # the Sent folder's copy of our reply replaces the local copy, in the prospect's thread
        arrive(1, "<ours0@sender.example>", "Re: Pricing?", "me@sender.example", 2, folder="Sent",
               direction="out", to="p0@prospect.example", in_reply_to="<p0@prospect.example>",
               flags=frozenset({"\\Seen"})),
        arrive(2, "<p2@prospect.example>", "Re: outreach 2", "p2@prospect.example", 3,
               in_reply_to="<out2@sender.example>"),
        # answers the one before it, in the same batch
        arrive(3, "<p3@prospect.example>", "Re: Re: outreach 2", "p2@prospect.example", 4,
               references=["<out2@sender.example>", "<p2@prospect.example>"],
               in_reply_to="<p2@prospect.example>", flags=frozenset({"\\Seen"})),
        # answers a message that comes after it
        arrive(4, "<c5@colleague.example>", "Re: intro", "c5@colleague.example", 5,
               in_reply_to="<p6@prospect.example>"),
        arrive(5, "<p6@prospect.example>", "intro", "p6@prospect.example", 6),
        # names itself among its references
        arrive(6, "<self7@prospect.example>", "Re: outreach 7", "p7@prospect.example", 7,
               references=["<out7@sender.example>", "<self7@prospect.example>"],
               in_reply_to="<out7@sender.example>"),
        # stored already: before this batch, and earlier in it
        arrive(1, "<p0@prospect.example>", "Pricing?", "p0@prospect.example", 0,
               in_reply_to="<out0@sender.example>"),
        arrive(2, "<p2@prospect.example>", "Re: outreach 2", "p2@prospect.example", 3,
               in_reply_to="<out2@sender.example>"),
        # labels kept by Message-ID: the user's category, and a warmup mark
        arrive(7, "<lab1@prospect.example>", "Re: outreach 8", "p8@prospect.example", 8,
               in_reply_to="<out8@sender.example>", category="not_interested"),
        arrive(8, "<lab2@prospect.example>", "Re: warm", "w@warm.example", 9),
        arrive(9, "<u10@prospect.example>", "Re: outreach 10", "p10@prospect.example", 10, category="unsubscribe",
               in_reply_to="<out10@sender.example>"),
        arrive(10, "<b11@mta.example>", "Undelivered Mail", "mailer-daemon@mta.example", 11, kind="bounce",
               category="bounce",
               bounces=[BounceRecipient("gone@prospect.example", "5.1.1", True, "550 no such user",
                                        "user_unknown")]),
        arrive(11, "", "no message id", "p12@prospect.example", 12),
        # the same message in another folder: one conversation by its thread key
        arrive(1, "<p2@prospect.example>", "Re: outreach 2", "p2@prospect.example", 3, folder="Archive",
               in_reply_to="<out2@sender.example>"),
        # a cold email of ours, then the prospect's answer to it
        arrive(2, "<out13@sender.example>", "outreach 13", "me@sender.example", 13, folder="Sent",
               direction="out", to="p13@prospect.example"),
        arrive(12, "<p13@prospect.example>", "Re: outreach 13", "p13@prospect.example", 14,
               in_reply_to="<out13@sender.example>"),
    ]


def dump(store: Store) -> dict[str, list[tuple[object, ...]]]:
    out = {}
    for table in TABLES:
        cur = store.db.conn.execute(f"SELECT * FROM {table}")
        names = [d[0] for d in cur.description]
        keep = [i for i, name in enumerate(names) if name not in CLOCK_COLUMNS]
        out[table] = sorted((tuple(row[i] for i in keep) for row in cur.fetchall()), key=repr)
    # the full-text index (FTS5 on SQLite, the search vector on PostgreSQL) finds each message
    words = {w for (subject,) in store.db.conn.execute("SELECT subject FROM messages") for w in subject.split()}
    out["search"] = [(w, *sorted(r[0] for r in store.db.conn.execute(
        store.db.dialect.search_hits, (store.db.dialect.search_query(w),)))) for w in sorted(words)]
    return out


def conversation_of(store: Store, message_id: str, folder: str = "INBOX") -> int:
    return store.db.conn.execute("SELECT conversation_id FROM messages WHERE message_id = ? AND folder = ?",
                                 (message_id, folder)).fetchone()[0]


def stored_by(target: str, store_them: Callable[[Store, list[IncomingMessage]], None]) -> Store:
    store = prepared(target)
    store_them(store, arrivals())
    return store


@contextmanager
def one_at_a_time_and_in_one_batch(store_target, msgs: Callable[[], list[IncomingMessage]]) -> Iterator[tuple[Store, Store]]:
    """Two stores: ``msgs()`` stored one message at a time, and all in one batch."""
    single, batched = prepared(store_target("single.db")), prepared(store_target("batch.db"))
    try:
        for m in msgs():
            single.add_messages("a", [m])
        batched.add_messages("a", msgs())
        yield single, batched
    finally:
        single.close()
        batched.close()


@pytest.fixture
def one_by_one(store_target):
    store = stored_by(store_target("single.db"),
                      lambda store, msgs: [store.add_messages("a", [m]) for m in msgs])
    yield store
    store.close()


@pytest.mark.parametrize("size", [len(arrivals()), 5, 2])
def test_a_batch_stores_what_one_message_at_a_time_stores(store_target, one_by_one, size):
    batched = stored_by(store_target(f"batch{size}.db"), lambda store, msgs: [
        store.add_messages("a", msgs[i:i + size]) for i in range(0, len(msgs), size)])
    try:
        assert dump(batched) == dump(one_by_one)
    finally:
        batched.close()


def test_threads_and_summaries_of_a_batch(store_target):
    store = stored_by(store_target(), lambda store, msgs: store.add_messages("a", msgs))
    conn = store.db.conn
    try:
        # the local copy is gone; the Sent copy is in the prospect's thread, which counts it
        assert not conn.execute("SELECT 1 FROM messages WHERE folder = ?", (LOCAL_COPY_FOLDER,)).fetchall()
        p0 = conversation_of(store, "<p0@prospect.example>")
        assert conversation_of(store, "<ours0@sender.example>", "Sent") == p0
        assert conversation_of(store, "<p3@prospect.example>") == conversation_of(store, "<p2@prospect.example>") \
            == conversation_of(store, "<p2@prospect.example>", "Archive")
        assert conversation_of(store, "<c5@colleague.example>") == conversation_of(store, "<p6@prospect.example>")
        assert conversation_of(store, "<p13@prospect.example>") == conversation_of(
            store, "<out13@sender.example>", "Sent")
        # no conversation without a message (a duplicate skipped makes none), none twice
        assert conn.execute("SELECT count(*) FROM conversations c WHERE NOT EXISTS "
                            "(SELECT 1 FROM messages m WHERE m.conversation_id = c.id)").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 15
        assert conn.execute("SELECT count(*) FROM conversations").fetchone()[0] == 10
        summary = conn.execute(
            "SELECT subject, counterpart, message_count, inbound_count, unread_count, last_inbound_id "
            "FROM conversations WHERE id = ?", (conversation_of(store, "<p2@prospect.example>"),)).fetchone()
        newest = conn.execute("SELECT id FROM messages WHERE message_id = '<p3@prospect.example>'").fetchone()[0]
        assert tuple(summary) == ("Re: Re: outreach 2", "p2@prospect.example", 3, 3, 2, newest)
        assert tuple(conn.execute("SELECT message_count, inbound_count, last_inbound_at FROM conversations "
                                  "WHERE id = ?", (p0,)).fetchone()) == (2, 1, at(0))
        # the labels kept by Message-ID, and what the classification puts on the suppression list
        assert [tuple(r) for r in conn.execute(
            "SELECT message_id, category, category_source FROM messages WHERE message_id LIKE '<lab%' "
            "ORDER BY message_id")] == [("<lab1@prospect.example>", "interested", "user"),
                                        ("<lab2@prospect.example>", "warmup", "user")]
        assert {r[0] for r in conn.execute("SELECT address FROM suppressions")} == {
            "p10@prospect.example", "gone@prospect.example"}
        # each new reply is announced with the conversation it is in
        events = [json.loads(r[0]) for r in conn.execute(
            "SELECT payload FROM events WHERE type = 'reply.received' ORDER BY id")]
        assert {e["message_id"]: e["conversation"] for e in events}["<p3@prospect.example>"] == \
            conversation_of(store, "<p2@prospect.example>")
    finally:
        store.close()


def test_a_batch_of_new_conversations_reads_the_store_a_fixed_number_of_times(tmp_path):
    """A first sync's batch (replies, each a new conversation) reads the same few times whatever
    its size: the summaries in one query for all, the labels, the duplicates and the thread
    lookups each once for the batch, not once a message (SQLite's statement trace)."""
    def selects(n: int) -> int:
        store = Store(tmp_path / f"{n}.db")
        store.ensure_account("a", "me@sender.example")
        seen: list[str] = []
        store.db.conn.set_trace_callback(seen.append)
        store.add_messages("a", [incoming(i, f"<r{i}@prospect.example>", f"Re: outreach {i}",
                                          f"p{i}@prospect.example", in_reply_to=f"<out{i}@sender.example>",
                                          category="unsubscribe" if i % 2 else "interested")
                                 for i in range(1, n + 1)])
        store.close()
        return sum(1 for sql in seen if sql.lstrip().upper().startswith("SELECT"))

    assert selects(40) == selects(20)


def test_batches_of_every_size_insert_their_rows_in_statements_of_a_few_sizes(tmp_path):
    """A multi-row INSERT's text names its rows, and SQLite prepares each new text anew (~4.5 us
    a row, five times what running it costs): batches of 1 to 40 messages, as a cold start of many
    mailboxes stores them, insert their rows in statements of six sizes at most, not forty."""
    store = Store(tmp_path / "s.db")
    store.ensure_account("a", "me@sender.example")
    seen: list[str] = []
    store.db.conn.set_trace_callback(seen.append)
    uid = 0
    for size in range(1, 41):
        batch = []
        for _ in range(size):
            uid += 1
            batch.append(incoming(uid, f"<m{uid}@size.example>", f"Re: outreach {uid}", f"p{uid}@prospect.example",
                                  in_reply_to=f"<out{uid}@sender.example>"))
        store.add_messages("a", batch)
    stored = store.db.conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    store.close()
    # (the trace repeats a statement's text for each trigger it runs: each text counted once)
    rows = [sql.count("@size.example>") for sql in dict.fromkeys(seen) if sql.startswith("INSERT INTO messages ")]
    assert sum(rows) == uid == stored
    assert len(set(rows)) <= 6


@given(st.integers(0, 100_000), st.integers(1, 40_000))
def test_rows_are_inserted_in_pieces_of_a_few_sizes_within_the_parameter_limit(rows, width):
    pieces = _pieces(rows, width)
    assert sum(pieces) == rows
    assert all(p & (p - 1) == 0 for p in pieces)  # powers of two
    assert all(p * width <= _MAX_PARAMETERS or p == 1 for p in pieces)
    assert all(p <= _PIECE_MOST for p in pieces)
    assert pieces == sorted(pieces, reverse=True)
    assert len(set(pieces)) <= max(1, rows.bit_length())


def test_a_local_copy_and_its_sent_copy_in_one_batch(store_target):
    """The Sent folder's copy replaces the local copy stored earlier in the same batch, as it
    does one message at a time."""
    def msgs() -> list[IncomingMessage]:
        return [arrive(2, "<p20@prospect.example>", "Re: outreach 20", "p20@prospect.example", 20,
                       in_reply_to="<out20@sender.example>"),
                arrive(7, "<ours20@sender.example>", "Re: Re: outreach 20", "me@sender.example", 21,
                       folder=LOCAL_COPY_FOLDER, uidvalidity=0, direction="out", to="p20@prospect.example",
                       in_reply_to="<p20@prospect.example>"),
                arrive(3, "<ours20@sender.example>", "Re: Re: outreach 20", "me@sender.example", 22,
                       folder="Sent", direction="out", to="p20@prospect.example",
                       in_reply_to="<p20@prospect.example>")]

    with one_at_a_time_and_in_one_batch(store_target, msgs) as (single, batched):
        assert [tuple(r) for r in batched.db.conn.execute(
            "SELECT folder FROM messages WHERE message_id = '<ours20@sender.example>'")] == [("Sent",)]
        assert dump(batched) == dump(single)


def test_a_batch_larger_than_one_statement_takes(store_target):
    """A batch whose rows take more parameters than SQLite's default limit lets one INSERT have
    (32,766; a first sync's batch is far smaller), in and out in runs, stores what the same
    messages in batches of a hundred store."""
    def msgs() -> list[IncomingMessage]:
        out = []
        for i in range(1, 841):
            if i <= 20 or i > 820:  # runs of our own mail: rows with other columns
                out.append(arrive(i, f"<out{i}@sender.example>", f"outreach {i}", "me@sender.example", i / 40,
                                  folder="Sent", direction="out", to=f"p{i}@prospect.example"))
            else:
                out.append(arrive(i, f"<r{i}@prospect.example>", f"Re: outreach {i - 1}", f"p{i}@prospect.example",
                                  i / 40, in_reply_to=f"<out{i - 1}@sender.example>"))
        return out

    smaller, batched = prepared(store_target("smaller.db")), prepared(store_target("batch.db"))
    try:
        arrived = msgs()
        for i in range(0, len(arrived), 100):
            smaller.add_messages("a", arrived[i:i + 100])
        batched.add_messages("a", msgs())
        assert dump(batched) == dump(smaller)
    finally:
        smaller.close()
        batched.close()


@pytest.mark.parametrize("together", [True, False])
def test_a_reply_stored_before_the_message_it_answers(store_target, together):
    """A reply whose thread key differs from its parent's (its References start elsewhere),
    stored before the parent in the same batch or an earlier one: the parent joins the reply's
    conversation through the reply's references."""
    def msgs() -> list[IncomingMessage]:
        return [arrive(2, "<reply30@prospect.example>", "Re: intro", "p30@prospect.example", 31,
                       references=["<start30@elsewhere.example>", "<p30@prospect.example>"],
                       in_reply_to="<p30@prospect.example>"),
                arrive(3, "<p30@prospect.example>", "intro", "p30@prospect.example", 30)]

    store = prepared(store_target())
    try:
        if together:
            store.add_messages("a", msgs())
        else:
            for m in msgs():
                store.add_messages("a", [m])
        assert conversation_of(store, "<p30@prospect.example>") == conversation_of(store, "<reply30@prospect.example>")
        assert tuple(store.db.conn.execute(
            "SELECT message_count FROM conversations WHERE id = ?",
            (conversation_of(store, "<p30@prospect.example>"),)).fetchone()) == (2,)
    finally:
        store.close()


def test_a_label_kept_here_goes_back_on_the_server(store_target):
    """A message the user labelled here comes back (a rescanned folder) without its keyword: the
    keyword is queued to go back on the server, on that message's row; a warmup mark stays local."""
    store = stored_by(store_target(), lambda store, msgs: store.add_messages("a", msgs))
    try:
        lab1, lab2 = (store.db.conn.execute("SELECT id FROM messages WHERE message_id = ? AND folder = 'INBOX'",
                                            (m,)).fetchone()[0]
                      for m in ("<lab1@prospect.example>", "<lab2@prospect.example>"))
        ops = [(r[0], r[1], json.loads(r[2])) for r in store.db.conn.execute(
            "SELECT message, op, args FROM pending_ops WHERE message IN (?, ?)", (lab1, lab2))]
        assert ops == [(lab1, "add_flags", {"flags": ["replydesk-interested"]})]
    finally:
        store.close()


def test_two_new_messages_of_one_thread_key_in_a_batch(store_target):
    """Two messages new to the store that share a thread key (their References start at the same
    cold email) and answer different messages, then a new conversation: one conversation for the
    two, and every id as when they are stored one at a time."""
    def msgs() -> list[IncomingMessage]:
        return [arrive(2, "<p40@prospect.example>", "Re: outreach 40", "p40@prospect.example", 40,
                       references=["<start40@sender.example>", "<a40@sender.example>"],
                       in_reply_to="<a40@sender.example>"),
                arrive(3, "<q40@prospect.example>", "Re: outreach 40", "q40@prospect.example", 41,
                       references=["<start40@sender.example>", "<b40@sender.example>"],
                       in_reply_to="<b40@sender.example>"),
                arrive(4, "<p41@prospect.example>", "Re: outreach 41", "p41@prospect.example", 42,
                       in_reply_to="<out41@sender.example>")]

    with one_at_a_time_and_in_one_batch(store_target, msgs) as (single, batched):
        assert conversation_of(batched, "<p40@prospect.example>") == conversation_of(batched, "<q40@prospect.example>")
        assert dump(batched) == dump(single)


def conversations(store: Store) -> list[tuple[object, ...]]:
    return [tuple(r) for r in store.db.conn.execute("SELECT * FROM conversations ORDER BY id")]


def summed_from_messages(store: Store) -> list[tuple[object, ...]]:
    """The conversations as a refresh from their messages, in the table, makes them."""
    store.refresh_conversations([r[0] for r in store.db.conn.execute("SELECT id FROM conversations")])
    return conversations(store)


@pytest.mark.parametrize("size", [len(arrivals()), 1])
def test_a_new_conversation_is_made_with_the_summary_its_messages_give(store_target, size):
    """A conversation made for new messages is written with its summary at once, read off the
    rows: it is exactly what a refresh from the stored messages gives (the inbox, the counts and
    the reply's reason read it). Also for what the rows leave to the table's defaults (a message
    without a classification), two inbound messages of one thread key at the same second (the
    later stored is the latest, the other read), an auto-reply, and a cold email of ours no one
    answered (its counterpart is whom it went to)."""
    def more() -> list[IncomingMessage]:
        unclassified = arrive(30, "<n30@prospect.example>", "Re: outreach 30", "p30@prospect.example", 30,
                              in_reply_to="<out30@sender.example>")
        unclassified.classification = None
        return [unclassified,
                arrive(31, "<t31@prospect.example>", "Re: outreach 31", "p31@prospect.example", 31,
                       references=["<out31@sender.example>", "<x31@sender.example>"],
                       in_reply_to="<x31@sender.example>", category="interested"),
                arrive(32, "<t32@prospect.example>", "Re: Re: outreach 31", "q31@prospect.example", 31,
                       references=["<out31@sender.example>", "<y31@sender.example>"],
                       in_reply_to="<y31@sender.example>", category="not_interested",
                       flags=frozenset({"\\Seen"})),
                arrive(3, "<out33@sender.example>", "outreach 33", "me@sender.example", 33, folder="Sent",
                       direction="out", to="p33@prospect.example", flags=frozenset({"\\Seen"})),
                arrive(34, "<o34@prospect.example>", "Re: outreach 34", "p34@prospect.example", 34,
                       in_reply_to="<out34@sender.example>", kind="auto_reply", category="out_of_office")]

    store = stored_by(store_target(), lambda store, msgs: [
        store.add_messages("a", (msgs + more())[i:i + size]) for i in range(0, len(msgs) + len(more()), size)])
    try:
        made = conversations(store)
        assert len(made) == 14
        assert made == summed_from_messages(store)
        # the rows were summed up: the later of two at the same second is the latest, the
        # unanswered cold email's counterpart is whom it went to
        two = conversation_of(store, "<t31@prospect.example>")
        assert two == conversation_of(store, "<t32@prospect.example>")
        assert store.db.conn.execute(
            "SELECT subject, counterpart, message_count, unread_count, category FROM conversations WHERE id = ?",
            (two,)).fetchone() == ("Re: Re: outreach 31", "q31@prospect.example", 2, 1, "not_interested")
        assert store.db.conn.execute(
            "SELECT counterpart, message_count, inbound_count, last_inbound_at FROM conversations WHERE id = ?",
            (conversation_of(store, "<out33@sender.example>", "Sent"),)).fetchone() == ("p33@prospect.example", 1, 0, None)
    finally:
        store.close()


@given(st.lists(st.text()) | st.lists(st.dictionaries(st.text(), st.text() | st.integers() | st.booleans())))
def test_a_list_column_is_written_as_the_json_encoder_writes_it(items):
    """Lists of strings (addresses, references, reasons) take a shorter way to their JSON text:
    the same text, character for character (quotes, backslashes, accents, surrogates)."""
    assert _json_list(items) == json.dumps(items)


def _summary_by_definition(rows: list[dict[str, object]]) -> tuple[tuple[object, ...], int | None] | None:
    """``new_summary`` as its docstring defines it, a column at a time (``_SUMMARIES`` over rows)."""
    needed = {"direction", "received_at", "seen", "subject", "from_addr", "from_name", "snippet", "kind",
              "category", "to_addrs"}
    if not rows or not all(needed <= row.keys() for row in rows):
        return None
    inbound = [i for i, row in enumerate(rows) if row["direction"] == "in"]
    latest = max(range(len(rows)), key=lambda i: (rows[i]["direction"] == "in", rows[i]["received_at"], i))
    row = rows[latest]
    if inbound:
        counterpart, name = row["from_addr"], row["from_name"]
    else:
        to = json.loads(str(row["to_addrs"]))
        counterpart, name = (to[0] if to else ""), ""
    archived = [rows[i].get("archived", 0) for i in inbound]
    return ((row["subject"], counterpart, name, row["snippet"],
             row["kind"] if inbound else None, row["category"] if inbound else None,
             max(r["received_at"] for r in rows),
             max(rows[i]["received_at"] for i in inbound) if inbound else None,
             len(rows), len(inbound),
             sum(1 for i in inbound if not rows[i]["seen"] and not rows[i].get("archived", 0)),
             int(bool(archived) and min(archived) > 0)),
            latest if inbound else None)


_SUMMARY_ROW = st.fixed_dictionaries(
    {"direction": st.sampled_from(["in", "out"]),
     # times before 1970 (a server's INTERNALDATE) and the same second twice
     "received_at": st.sampled_from([-86400.0, -5.0, 0.0, 5.0, 1_760_000_000.0]),
     "seen": st.sampled_from([0, 1]), "subject": st.sampled_from(["a", "b"]),
     "from_addr": st.sampled_from(["p@x.example", "q@x.example"]), "from_name": st.sampled_from(["", "P"]),
     "snippet": st.sampled_from(["s", "t"]), "kind": st.sampled_from(["reply", "autoreply"]),
     "category": st.sampled_from(["interested", "not_interested"]),
     "to_addrs": st.sampled_from(["[]", '["r@y.example"]'])},
    optional={"archived": st.sampled_from([0, 1])})


@given(st.lists(_SUMMARY_ROW, max_size=6), st.data())
def test_a_new_conversations_summary_is_read_off_its_rows_as_defined(rows, data):
    """The summary made with a new conversation, read off its rows in one pass, is the one the
    rows give column by column: the latest message (the latest inbound one first; the later row
    of two at the same time), times before 1970, archived and unread inbound messages, and none
    where a row leaves a column to the table's default."""
    if rows and data.draw(st.booleans()):
        del rows[data.draw(st.integers(0, len(rows) - 1))][data.draw(st.sampled_from(["category", "seen"]))]
    assert new_summary(rows) == _summary_by_definition(rows)
