"""Standards-following servers other than the default Dovecot (``imap_server``: also one with an
INBOX. prefix, no special-use and no CONDSTORE): how new mail reaches the store, and whether the
server pushes at all."""

from __future__ import annotations

import asyncio
import json

from app.cli import main
from app.imap.connection import ImapConnection
from tests.conftest import build_message, new_users, write_config
from tests.engine_support import account, other_client, rows, running_engine, state, until


async def test_pushed_mail_is_recorded_with_its_delay(imap_server, tmp_path, capsys) -> None:
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
        assert row["arrival_latency"] is not None  # the delay was recorded (its size is bench/ material)
        assert main(["accounts", "list", "--json", "--config", str(config_path)]) == 0
        listed = json.loads(capsys.readouterr().out)
        assert (listed["arrival_via"], listed["arrival_latency"]) == ("push", row["arrival_latency"])


async def test_a_reply_filed_in_junk_is_found_by_the_poll_on_every_server(imap_server, tmp_path) -> None:
    """Junk found by special-use or, below an INBOX. prefix, by its common name; polled by STATUS."""
    [user] = new_users(imap_server, 1)
    config_path = write_config(tmp_path / "config.toml", imap_server, None, [user], idle_refresh_minutes=5,
                               poll_interval_seconds=1)
    junk = imap_server.folder("Junk")
    async with running_engine(config_path) as (engine, config, store):
        await until(lambda: state(store, user.email) == "idle", 20, "idle")
        assert store.folder_for_role(user.email, "junk") == junk
        assert store.folder_for_role(user.email, "sent") == imap_server.folder("Sent")
        raw = build_message(user.email, subject="Re: landed in spam", body="Yes, interested!").as_bytes()

        def spam_filter_files_it() -> None:
            with other_client(imap_server, user) as imap:
                imap.append(junk, None, None, raw)
        await asyncio.to_thread(spam_filter_files_it)
        await until(lambda: [r["folder"] for r in rows(store)] == [junk], 10, "Junk polled")
        assert store.list_messages()[0]["subject"] == "Re: landed in spam"


async def test_uidnext_without_select_comes_from_status_even_after_the_newest_was_deleted(imap_server) -> None:
    """For a server whose SELECT leaves UIDNEXT out: STATUS gives the same value SELECT would,
    also when the newest message was deleted (the highest UID plus one would be too low)."""
    [user] = new_users(imap_server, 1)
    for i in range(3):
        imap_server.deliver(user.email, build_message(user.email, subject=f"Re: {i}").as_bytes())
    with other_client(imap_server, user) as imap:
        imap.select("INBOX")
        imap.uid("STORE", "3", "+FLAGS", "(\\Deleted)")
        imap.expunge()
    conn = ImapConnection(account(imap_server, user, port=imap_server.imaps_port, security="tls",
                                  ca_file=imap_server.ca_file))
    await conn.open()
    try:
        info = await conn.select("INBOX")
        assert (info.uidnext, info.exists) == (4, 2)
        assert await conn.fallback_uidnext("INBOX", info.exists) == 4
    finally:
        await conn.close()
