"""Standards-following servers other than the default Dovecot (``imap_server``: also one with an
INBOX. prefix, no special-use and no CONDSTORE): how new mail reaches the store, and whether the
server pushes at all."""

from __future__ import annotations

import asyncio

from tests.conftest import build_message, new_users, write_config
from tests.engine_support import rows, running_engine, state, until


async def test_pushed_mail_is_recorded_with_its_delay(imap_server, tmp_path) -> None:
    [user] = new_users(imap_server, 1)
    config_path = write_config(tmp_path / "config.toml", imap_server, None, [user], idle_refresh_minutes=5)
    async with running_engine(config_path) as (engine, config, store):
        await until(lambda: state(store, user.email) == "idle", 20, "idle")
        assert store.account_row(user.email)["arrival_via"] is None  # nothing new has arrived yet
        msg = build_message(user.email, subject="Re: pushed", body="Tell me more.")
        await asyncio.to_thread(imap_server.deliver, user.email, msg.as_bytes())
        await until(lambda: len(rows(store)) == 1, 10, "pushed message stored")
        await until(lambda: store.account_row(user.email)["arrival_via"] is not None, 10, "arrival noted")
        row = store.account_row(user.email)
        assert row["arrival_via"] == "push" and row["last_push"]
        assert row["arrival_latency"] >= 0
