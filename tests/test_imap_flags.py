"""Flags both ways and the server side of triage: \\Seen set here reaches the server, \\Seen set by
another IMAP client comes back, archive moves the message (and undo brings it back) without a
duplicate or a loss, a sent reply is appended to Sent.

Every test runs against the standard Dovecot and against one with an ``INBOX.`` namespace prefix,
``.`` as separator, no special-use folders, no Archive and no CONDSTORE (``imap_server``)."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import build_message, new_users, write_config
from tests.engine_support import other_client, rows, running_engine, until
from tests.reply_support import message_flags


@pytest.fixture
def users(imap_server):
    return lambda n=1, prefix="user": new_users(imap_server, n, prefix)


@pytest.fixture
def deliver(imap_server):
    def send(to: str, **kwargs) -> str:
        msg = build_message(to, **kwargs)
        imap_server.deliver(to, msg.as_bytes())
        return msg["Message-ID"]
    return send


@pytest.fixture
def make_config(imap_server):
    return lambda tmp_path, users, **general: write_config(tmp_path / "config.toml", imap_server, None, users,
                                                           **general)


def other_client_stores(imap_server, user, flags: str, message_id: str | None = None, how: str = "+FLAGS") -> None:
    """Another IMAP client (a phone's mail app, a colleague's replydesk) adding ``flags`` to one
    message found by Message-ID, or to every message in INBOX (``how="-FLAGS"`` takes them off)."""
    with other_client(imap_server, user) as imap:
        imap.select("INBOX")
        uids = "1:*"
        if message_id is not None:
            _, data = imap.uid("SEARCH", None, "HEADER", "Message-ID", f'"{message_id}"')
            uids = data[0].split()[-1]
        imap.uid("STORE", uids, how, f"({flags})")


async def test_seen_both_ways(imap_server, users, deliver, make_config, tmp_path) -> None:
    [user] = users(1)
    mine = deliver(user.email, subject="Re: one", body="first")
    theirs = deliver(user.email, subject="Re: two", body="second")
    config_path = make_config(tmp_path, [user], idle_refresh_minutes=5)
    async with running_engine(config_path) as (engine, config, store):
        await until(lambda: len(rows(store)) == 2, 20, "first sync")
        row = next(r for r in rows(store) if r["message_id"] == mine)
        assert row["seen"] == 0
        store.set_seen([row["conversation_id"]], True)  # the UI's connection, as a user would
        await until(lambda: "\\Seen" in imap_server.fetch_field(user.email, "flags"), 5, "\\Seen on the server")
        assert "\\Seen" in message_flags(imap_server, user.email, mine)

        await asyncio.to_thread(other_client_stores, imap_server, user, "\\Seen", theirs)
        await until(lambda: next(r for r in rows(store) if r["message_id"] == theirs)["seen"] == 1, 5,
                    "\\Seen from another client")
        assert store.pending_ops(user.email) == []


async def test_archive_moves_on_the_server_and_undo_brings_it_back_once(imap_server, users, deliver, make_config,
                                                                         tmp_path) -> None:
    [user] = users(1)
    mid = deliver(user.email, subject="Re: archive me", body="thanks, not now")
    config_path = make_config(tmp_path, [user], idle_refresh_minutes=5)
    async with running_engine(config_path) as (engine, config, store):
        await until(lambda: len(rows(store)) == 1, 20, "first sync")
        [row] = rows(store)
        store.archive([row["conversation_id"]])
        archive = imap_server.folder("Archive")
        await until(lambda: mid in imap_server.fetch_field(user.email, "hdr", archive), 5, "moved to Archive")
        assert mid not in imap_server.fetch_field(user.email, "hdr", "INBOX")
        await until(lambda: rows(store)[0]["folder"] == archive, 5, "row follows the message")
        assert len(rows(store)) == 1

        assert store.undo_last() == "archive"
        await until(lambda: mid in imap_server.fetch_field(user.email, "hdr", "INBOX"), 5, "back in INBOX")
        await until(lambda: rows(store)[0]["folder"] == "INBOX", 5, "row back in INBOX")
        deliver(user.email, subject="Re: newer", body="later")
        await until(lambda: len(rows(store)) == 2, 5, "next message synced")
        assert [r["message_id"] for r in rows(store)].count(mid) == 1
        assert next(r for r in rows(store) if r["message_id"] == mid)["archived"] == 0


async def test_sent_reply_is_appended_to_sent(imap_server, users, make_config, tmp_path) -> None:
    [user] = users(1)
    config_path = make_config(tmp_path, [user], idle_refresh_minutes=5, poll_interval_seconds=1)
    raw = (f"From: {user.email}\r\nTo: pat@prospect.example\r\nSubject: Re: hello\r\n"
           "Message-ID: <reply-1@replydesk.test>\r\n\r\nThanks Pat.\r\n").encode()
    async with running_engine(config_path) as (engine, config, store):
        await until(lambda: store.account_row(user.email) and store.account_row(user.email)["state"] == "idle",
                    20, "idle")
        item = store.queue_reply(account=user.email, message_id="<reply-1@replydesk.test>", raw=raw,
                                 recipients=["pat@prospect.example"], subject="Re: hello", body="Thanks Pat.",
                                 state="draft")  # a draft: the engine's drainer leaves it alone
        store.queue_op(user.email, "append", None, role="sent", outbox_id=item, flags=["\\Seen"])
        sent = imap_server.folder("Sent")
        await until(lambda: "reply-1@replydesk.test" in imap_server.fetch_field(user.email, "hdr", sent), 5,
                    "appended to Sent")
        await until(lambda: any(r["direction"] == "out" and r["message_id"] == "<reply-1@replydesk.test>"
                                for r in rows(store)), 10, "Sent synced back as outbound")


async def test_a_label_set_on_another_machine_comes_back_from_its_keyword(imap_server, users, deliver, make_config,
                                                                          tmp_path) -> None:
    [user] = users(1)
    mid = deliver(user.email, subject="Re: labelled elsewhere", body="Not for us, thanks.")

    await asyncio.to_thread(other_client_stores, imap_server, user, "replydesk-meeting")
    config_path = make_config(tmp_path, [user], idle_refresh_minutes=5)
    async with running_engine(config_path) as (engine, config, store):
        await until(lambda: len(rows(store)) == 1, 20, "first sync")
        [row] = rows(store)
        assert (row["message_id"], row["category"], row["category_source"]) == (mid, "meeting", "user")


async def test_a_label_changed_on_another_machine_later_is_followed(imap_server, users, deliver, make_config,
                                                                    tmp_path) -> None:
    """Two colleagues on two machines: one relabels a reply after this engine synced it."""
    [user] = users(1)
    mid = deliver(user.email, subject="Re: our call", body="Thanks for reaching out.")
    config_path = make_config(tmp_path, [user], idle_refresh_minutes=5)
    async with running_engine(config_path) as (engine, config, store):
        await until(lambda: len(rows(store)) == 1, 20, "first sync")
        classified = rows(store)[0]["category"]
        assert classified != "unsubscribe"

        await asyncio.to_thread(other_client_stores, imap_server, user, "replydesk-unsubscribe")
        await until(lambda: rows(store)[0]["category"] == "unsubscribe", 5, "the other machine's label")
        [row] = rows(store)
        assert (row["message_id"], row["category_source"]) == (mid, "user")
        # the label means what it means here too: the sender is not mailed again
        assert store.is_suppressed(row["from_addr"])
        [conv] = store.db.conn.execute("SELECT category FROM conversations").fetchall()
        assert conv[0] == "unsubscribe"

        # and cleared again over there: the classifier's verdict is back, the sender stays suppressed
        await asyncio.to_thread(other_client_stores, imap_server, user, "replydesk-unsubscribe", None, "-FLAGS")
        await until(lambda: rows(store)[0]["category_source"] == "classifier", 5, "the label cleared")
        assert rows(store)[0]["category"] == classified
        assert store.is_suppressed(row["from_addr"])


async def test_an_archive_the_server_refuses_shows_and_the_message_stays_in_the_inbox(inbox_prefix_dovecot,
                                                                                      tmp_path) -> None:
    """The server refuses the Archive folder's name: after its retries the move fails, the message
    is back in the inbox here as it still is on the server, and the health view says why."""
    server = inbox_prefix_dovecot
    [user] = new_users(server, 1)
    msg = build_message(user.email, subject="Re: keep me", body="Maybe next quarter.")
    server.deliver(user.email, msg.as_bytes())
    config_path = write_config(tmp_path / "config.toml", server, None, [user], idle_refresh_minutes=5)
    config_path.write_text(config_path.read_text() + '[accounts.folders]\narchive = "Arch&ive"\n')
    async with running_engine(config_path) as (engine, config, store):
        await until(lambda: len(rows(store)) == 1, 20, "first sync")
        [row] = rows(store)
        store.archive([row["conversation_id"]])
        assert rows(store)[0]["archived"] == 1
        await until(lambda: store.pending_ops(user.email) == [], 60, "the move given up")
        [(state, attempts)] = store.db.conn.execute("SELECT state, attempts FROM pending_ops").fetchall()
        assert (state, attempts) == ("failed", 3)
        assert rows(store)[0]["archived"] == 0
        assert msg["Message-ID"] in server.fetch_field(user.email, "hdr", "INBOX")
        problems = store.op_problems()[user.email]
        assert problems.failed == 1
        assert problems.latest.startswith("moving to archive failed: CREATE INBOX.Arch&ive: NO")


async def test_an_op_that_cannot_be_carried_out_fails_alone_and_the_connection_stays(imap_server, users, deliver,
                                                                                     make_config, tmp_path) -> None:
    """A pending op whose arguments are spoilt fails with its reason; the op after it reaches the
    server on the same connection, and the mailbox neither reconnects nor leaves IDLE for it."""
    from tests.engine_support import logins, state
    [user] = users(1)
    bad = deliver(user.email, subject="Re: one", body="first")
    good = deliver(user.email, subject="Re: two", body="second")
    config_path = make_config(tmp_path, [user], idle_refresh_minutes=5)
    async with running_engine(config_path) as (engine, config, store):
        await until(lambda: len(rows(store)) == 2 and state(store, user.email) == "idle", 20, "first sync")
        before = logins(imap_server, user.email)
        by_id = {r["message_id"]: r for r in rows(store)}
        with store.db.tx() as conn:
            conn.execute("INSERT INTO pending_ops (account, op, message, args, created_at) "
                         "VALUES (?, 'add_flags', ?, '{\"flags\": 5}', 0)", (user.email, by_id[bad]["id"]))
        store.set_seen([by_id[good]["conversation_id"]], True)
        await until(lambda: "\\Seen" in message_flags(imap_server, user.email, good), 10, "the good op on the server")
        [(op_state, error)] = store.db.conn.execute(
            "SELECT state, last_error FROM pending_ops WHERE op = 'add_flags' AND message = ?",
            (by_id[bad]["id"],)).fetchall()
        assert op_state == "failed" and "could not be carried out" in error
        assert logins(imap_server, user.email) == before and state(store, user.email) == "idle"
