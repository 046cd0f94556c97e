"""The engine on a PostgreSQL store: the first sync, push, and a reply sent through the mailbox's
SMTP server, the same as on SQLite (real Dovecot, real PostgreSQL)."""

from __future__ import annotations

import asyncio

from tests.engine_support import rows, running_engine, state, until


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
