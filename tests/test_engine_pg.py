"""The engine on a PostgreSQL store: the first sync, push, and a reply sent through the mailbox's
SMTP server, the same as on SQLite (real Dovecot, real PostgreSQL)."""

from __future__ import annotations

import asyncio

from app.cli import main
from app.commands.reply import queue_reply_to
from app.smtp.outbox import OutboxDrainer
from tests.engine_support import rows, running_engine, state, until
from tests.reply_support import mailbox_headers, receive


async def test_the_engine_syncs_and_pushes_into_postgresql(dovecot, users, deliver, make_config, tmp_path,
                                                            pg_url) -> None:
    accounts = users(3)
    for u in accounts:
        deliver(u.email, subject="Re: intro", body="Earlier reply")
    config_path = make_config(tmp_path, accounts, database=pg_url, idle_refresh_minutes=5)
    async with running_engine(config_path) as (engine, config, store):
        assert store.path == pg_url
        await until(lambda: all(state(store, u.email) == "idle" for u in accounts), 60, "all idle")
        assert len(rows(store)) == 3
        await asyncio.to_thread(deliver, accounts[1].email, subject="Re: pricing", body="What does it cost?")
        await until(lambda: any(r["subject"] == "Re: pricing" for r in rows(store, accounts[1].email)), 20,
                    "pushed message stored", interval=0.02)
        # the full-text search finds it with the inbox's syntax
        from app.store import InboxFilter
        assert store.count_conversations(InboxFilter(search="pric")) == 1
        # nothing stored twice across the sync and the push
        ids = [r["message_id"] for r in rows(store)]
        assert len(ids) == len(set(ids)) == 4


async def test_a_drainer_whose_mailbox_another_engine_took_sends_none_of_its_replies(
        dovecot, smtp_server, users, make_config, tmp_path, pg_url) -> None:
    """An engine back from a pause still counts the mailbox among its own until its next renewal;
    the lease in the database says otherwise, and only the engine holding it sends the reply."""
    account, prospect = users(2)
    r = receive(dovecot, account, prospect, make_config(tmp_path, [account], database=pg_url))
    acc = r.config.accounts[0].id
    assert r.store.hold_leases("holder", "host", 1, [acc], 1000, 30.0).held == {acc}
    item_id = queue_reply_to(r.config, r.store, r.row, "Sent by the engine holding the mailbox")
    stale = OutboxDrainer(r.config, pg_url, accounts=lambda: {acc}, owner="stale")
    holder = OutboxDrainer(r.config, pg_url, accounts=lambda: {acc}, owner="holder")
    try:
        left = await stale.send_now(item_id)
        assert left is not None and left["state"] == "queued" and left["attempts"] == 0
        sent = await holder.send_now(item_id)
        assert sent is not None and sent["state"] == "sent"
    finally:
        await stale.close()
        await holder.close()
        r.store.close()
    await until(lambda: len(mailbox_headers(dovecot, r.prospect.email)) >= 1, 30, "the reply delivered",
                interval=0.1)
    assert len(mailbox_headers(dovecot, r.prospect.email)) == 1
    assert len(smtp_server.accepted_for(r.prospect.email)) == 1


async def test_a_reply_on_postgresql_without_an_engine_is_sent_by_the_command_which_then_gives_the_mailbox_back(
        dovecot, smtp_server, users, make_config, tmp_path, pg_url, capsys) -> None:
    account, prospect = users(2)
    r = receive(dovecot, account, prospect, make_config(tmp_path, [account], database=pg_url))
    try:
        code = await asyncio.to_thread(main, ["--config", str(r.config_path), "reply", r.row["message_id"],
                                              "--body", "Sent from the command"])
        assert code == 0, capsys.readouterr().err
        assert capsys.readouterr().out.startswith("sent <")
        assert r.store.lease_holders() == {}  # an engine starting now takes the mailbox at once
    finally:
        r.store.close()
    assert len(smtp_server.accepted_for(r.prospect.email)) == 1
