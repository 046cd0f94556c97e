"""The engine on a PostgreSQL store: the first sync, push, and a reply sent through the mailbox's
SMTP server, the same as on SQLite (real Dovecot, real PostgreSQL)."""

from __future__ import annotations

import asyncio

from app.cli import main
from app.engine import Engine
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


async def test_a_reply_on_postgresql_is_sent_once_through_the_engine_holding_its_mailbox(
        dovecot, smtp_server, users, make_config, tmp_path, pg_url, capsys) -> None:
    """The CLI sees that an engine holds the mailbox (its lease) and leaves the sending to it:
    the prospect gets the reply once."""
    account, prospect = users(2)
    r = receive(dovecot, account, prospect, make_config(tmp_path, [account], database=pg_url,
                                                        poll_interval_seconds=1))
    engine = Engine(r.config)
    await engine.start()
    try:
        assert engine.held == {r.config.accounts[0].id}
        code = await asyncio.to_thread(main, ["--config", str(r.config_path), "reply", r.row["message_id"],
                                              "--body", "Handled on PostgreSQL"])
        assert code == 0, capsys.readouterr().err
        assert capsys.readouterr().out.startswith("sent <")
        await until(lambda: len(mailbox_headers(dovecot, r.account.email, "Sent")) == 1, 30, "the Sent copy",
                    interval=0.1)
        await until(lambda: any(m["direction"] == "out" for m in r.store.conversation_messages(
            r.row["conversation_id"])), 30, "the thread shows the Sent copy", interval=0.1)
    finally:
        await engine.stop()
        r.store.close()
    assert len(mailbox_headers(dovecot, r.prospect.email)) == 1
