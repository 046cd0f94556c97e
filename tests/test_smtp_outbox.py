"""The outbox drainer against the real SMTP fixture and Dovecot: delivery, threading headers,
retries, permanent failures and a server that goes away."""

from __future__ import annotations

import asyncio
import email
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email import policy

from app.commands.reply import queue_reply_to
from app.smtp.outbox import OutboxDrainer
from tests.engine_support import until
from tests.reply_support import Received, mailbox_headers, receive, received, wait_for  # noqa: F401  (fixture)


def delivered(dovecot, prospect) -> list[email.message.EmailMessage]:
    parts = [p for p in dovecot.fetch_field(prospect.email, "text").split("text:\n") if p.strip()]
    return [email.message_from_string(p, policy=policy.default) for p in parts]


async def send_at_once(r: Received, body: str) -> tuple[int, dict]:
    """Queue a reply to the received message and send it now: (item id, its outbox row after)."""
    item_id = queue_reply_to(r.config, r.store, r.row, body)
    drainer = OutboxDrainer(r.config, r.config.database)
    try:
        item = await drainer.send_now(item_id)
    finally:
        await drainer.close()
    return item_id, item


@asynccontextmanager
async def draining(drainer: OutboxDrainer) -> AsyncIterator[None]:
    """The drainer's loop running, as in the engine, for the duration of the block."""
    task = asyncio.create_task(drainer.run())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def state_of(r: Received, item_id: int) -> str:
    return r.store.outbox_item(item_id)["state"]


async def test_reply_reaches_the_prospect_from_the_receiving_account(received, dovecot):
    r = received
    item_id, item = await send_at_once(r, "Happy to. Tuesday at 10?")
    assert item["state"] == "sent" and item["attempts"] == 1 and item["last_error"] is None
    assert item["account"] == r.config.accounts[0].id

    [msg] = wait_for(lambda: delivered(dovecot, r.prospect))
    name = r.config.accounts[0].name
    assert msg["From"] == f"{name} <{r.account.email}>"
    assert msg["To"] == f"Pat Prospect <{r.prospect.email}>"
    assert msg["Subject"] == "Re: Quick question"
    assert msg["In-Reply-To"] == r.row["message_id"]
    assert r.row["message_id"] in msg["References"]
    assert msg["Message-ID"].endswith(f"@{r.account.email.split('@')[1]}>")
    assert "Happy to. Tuesday at 10?" in msg.get_content()
    assert "> Sounds interesting, tell me more." in msg.get_content()

    # the reply is in the conversation at once, the original is answered, a Sent copy is due
    thread = r.store.conversation_messages(r.row["conversation_id"])
    assert [m["direction"] for m in thread] == ["in", "out"]
    assert thread[1]["message_id"] == item["message_id"]
    assert r.store.message(r.row["id"])["answered"] == 1
    ops = {op["op"]: op for op in r.store.pending_ops(r.config.accounts[0].id)}
    assert ops["append"]["args"]["outbox_id"] == item_id
    assert ops["add_flags"]["args"]["flags"] == ["\\Answered"]


async def test_a_4xx_is_retried_and_delivered_once(received, dovecot, smtp_server):
    r = received
    smtp_server.fail_next(451, "4.3.0 Mailbox busy, try again later")
    item_id = queue_reply_to(r.config, r.store, r.row, "Retry me")
    drainer = OutboxDrainer(r.config, r.config.database, backoff=(1.0, 1.0), tick=0.05)
    async with draining(drainer):
        # between the two tries (about a second apart) the outbox shows it queued, with the server's words
        await until(lambda: r.store.outbox_item(item_id)["last_error"], 10, "a first try", interval=0.02)
        waiting = r.store.outbox_item(item_id)
        await until(lambda: state_of(r, item_id) == "sent", 10, "sent on the retry", interval=0.05)
    assert waiting["state"] == "queued" and "451 4.3.0 Mailbox busy" in waiting["last_error"], waiting
    assert waiting["next_attempt_at"] is not None
    item = r.store.outbox_item(item_id)
    assert item["state"] == "sent" and item["attempts"] == 2, item
    assert len(smtp_server.accepted_for(r.prospect.email)) == 1
    assert len(wait_for(lambda: delivered(dovecot, r.prospect))) == 1


async def test_a_5xx_fails_at_once_with_the_server_words_and_keeps_the_text(received, dovecot, smtp_server):
    r = received
    smtp_server.fail_next(554, "5.7.1 Message rejected as spam")
    item_id, item = await send_at_once(r, "Words worth keeping")
    assert item["state"] == "failed"
    assert "554 5.7.1 Message rejected as spam" in item["last_error"]
    # the whole text is kept, as the compose screen keeps it (the quote below the words)
    assert item["body"].startswith("Words worth keeping\n") and b"Words worth keeping" in item["raw"]
    assert "> Sounds interesting, tell me more." in item["body"]
    assert item["attempts"] == 1
    assert smtp_server.accepted_for(r.prospect.email) == []
    assert r.store.message(r.row["id"])["answered"] == 0


async def test_a_server_that_is_down_gets_the_reply_when_it_comes_back(received, dovecot, smtp_server):
    r = received
    item_id = queue_reply_to(r.config, r.store, r.row, "Sent after the outage")
    drainer = OutboxDrainer(r.config, r.config.database, backoff=(0.2, 0.4), tick=0.05)
    smtp_server.stop()
    try:
        async with draining(drainer):
            await until(lambda: state_of(r, item_id) == "queued" and r.store.outbox_item(item_id)["attempts"] >= 2,
                        5, "two attempts while the server is down", interval=0.05)
            item = r.store.outbox_item(item_id)
            assert item["state"] == "queued" and "cannot connect" in item["last_error"]
            health = r.store.account_row(r.config.accounts[0].id)
            assert health["smtp_ok"] == 0 and "cannot connect" in health["smtp_error"]
            smtp_server.start()
            await until(lambda: state_of(r, item_id) == "sent", 10, "sent once the server is back", interval=0.05)
    finally:
        if not smtp_server.running:
            smtp_server.start()
    assert r.store.outbox_item(item_id)["state"] == "sent"
    assert r.store.account_row(r.config.accounts[0].id)["smtp_ok"] == 1
    assert len(wait_for(lambda: delivered(dovecot, r.prospect))) == 1
    assert len(mailbox_headers(dovecot, r.prospect.email)) == 1


async def test_a_store_error_holds_the_outbox_back_and_it_sends_once_the_store_takes_writes(
        received, dovecot, smtp_server):
    """A write the store refuses (here its lock held past the wait by another connection, as a
    full disk or an I/O error would refuse it) does not end the drainer: it says so beside the
    store, as the watchers do, tries again by itself, and the reply goes out once."""
    import sqlite3

    from app.store.health import read_store_health

    r = received
    drainer = OutboxDrainer(r.config, r.config.database, backoff=(1.0, 1.0), tick=0.05)
    drainer.db.status.ready()  # as the engine does at start
    await drainer.db.call(lambda s: s.db.conn.execute("PRAGMA busy_timeout = 100"))
    await drainer.recover()
    item_id = queue_reply_to(r.config, r.store, r.row, "Sent after the store came back")
    holder = sqlite3.connect(r.config.database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        async with draining(drainer):
            await until(lambda: (h := read_store_health(r.config.database)) is not None and h.problem, 30,
                        "the outbox says the store cannot be written")
            assert "database is locked" in read_store_health(r.config.database).problem
            assert state_of(r, item_id) == "queued"
            holder.execute("ROLLBACK")
            await until(lambda: state_of(r, item_id) == "sent", 60, "sent once the store takes writes")
            await until(lambda: read_store_health(r.config.database).problem is None, 30, "recovered")
    finally:
        holder.close()
    assert len(smtp_server.accepted_for(r.prospect.email)) == 1


async def test_a_send_whose_outcome_the_store_refused_is_settled_not_left_sending(received, dovecot, smtp_server):
    """The server accepted the reply but the store refused to record it (its lock held past the
    wait): the item is not left "sending" until the next start; once the store takes writes it is
    settled as after a crash (here: not found in Sent, so uncertain, for the user to decide), and
    it is never sent a second time."""
    import sqlite3

    from app.store.health import read_store_health

    r = received
    drainer = OutboxDrainer(r.config, r.config.database, backoff=(1.0, 1.0), tick=0.05)
    drainer.db.status.ready()  # as the engine does at start
    await drainer.db.call(lambda s: s.db.conn.execute("PRAGMA busy_timeout = 100"))
    await drainer.recover()
    holder = sqlite3.connect(r.config.database, isolation_level=None, check_same_thread=False)
    smtp_server.on_data = lambda: holder.execute("BEGIN IMMEDIATE")
    item_id = queue_reply_to(r.config, r.store, r.row, "Accepted, then the store said no")
    try:
        async with draining(drainer):
            await until(lambda: (h := read_store_health(r.config.database)) is not None and h.problem, 30,
                        "the outbox says the store cannot be written")
            assert state_of(r, item_id) == "sending"
            smtp_server.on_data = None
            holder.execute("ROLLBACK")
            await until(lambda: state_of(r, item_id) == "uncertain", 60, "settled once the store takes writes")
    finally:
        smtp_server.on_data = None
        holder.close()
    assert "may have been delivered" in r.store.outbox_item(item_id)["last_error"]
    assert len(smtp_server.accepted_for(r.prospect.email)) == 1
