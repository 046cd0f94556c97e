"""A mailbox of a few thousand messages: the first sync stores them all in batches, only
``initial_sync_days`` back; a full flag resync of that many lines works (aioimaplib alone
overflows its recursion on one such read); messages deleted elsewhere leave the store."""

from __future__ import annotations

import asyncio
import imaplib
import smtplib
import time

from app.imap.connection import ImapConnection
from tests.conftest import build_message
from tests.engine_support import account, other_client, rows, running_engine, until

COUNT = 2500



OLD_ID = "<ninety-days-old@prospect.example>"


def append_old(dovecot, user) -> None:
    """A message that arrived 90 days ago (INTERNALDATE), outside ``initial_sync_days``."""
    raw = build_message(user.email, subject="Re: ancient", message_id=OLD_ID).as_bytes()
    with other_client(dovecot, user) as imap:
        imap.append("INBOX", None, imaplib.Time2Internaldate(time.time() - 90 * 86400), raw)


def count(store, where: str = "1") -> int:
    return store.db.conn.execute(f"SELECT count(*) FROM messages WHERE {where}").fetchone()[0]


def deliver_many(dovecot, to: str, n: int, start: int = 0, **kwargs) -> None:
    with smtplib.LMTP(dovecot.host, dovecot.lmtp_port, timeout=60) as lmtp:
        for i in range(start, start + n):
            lmtp.sendmail("prospect@example.net", [to], build_message(to, subject=f"Re: bulk {i}", body=f"n{i}",
                                                                      **kwargs).as_bytes())


async def test_big_first_sync_then_flag_resync_and_expunge(dovecot, users, make_config, tmp_path) -> None:
    [user] = users(1)
    await asyncio.to_thread(deliver_many, dovecot, user.email, COUNT)
    await asyncio.to_thread(append_old, dovecot, user)
    config_path = make_config(tmp_path, [user], idle_refresh_minutes=5, initial_sync_days=30)
    async with running_engine(config_path) as (engine, config, store):
        await until(lambda: count(store) == COUNT, 120, "first sync of the whole mailbox", interval=0.2)
        assert len({r["uid"] for r in rows(store)}) == COUNT

        conn = ImapConnection(account(dovecot, user, port=dovecot.imaps_port, security="tls",
                                      ca_file=dovecot.ca_file))
        await conn.open()
        try:
            await conn.select("INBOX")
            everything = await conn.uid_fetch("1:*", "(UID FLAGS)")
            assert len(everything) == COUNT + 1
            await conn.uid_store("1:10", "+FLAGS.SILENT", ["\\Seen"])
            await conn.uid_store("11:15", "+FLAGS.SILENT", ["\\Deleted"])
            await conn.proto.expunge()
        finally:
            await conn.close()
        # cheap looks, not every row's body 50 times a second: the engine shares this event loop
        await until(lambda: count(store) == COUNT - 5, 60, "expunged messages leave the store", interval=0.2)
        await until(lambda: count(store, "seen = 1") == 10, 60, "flags from the other client", interval=0.2)
        assert not any(r["message_id"] == OLD_ID for r in rows(store))
