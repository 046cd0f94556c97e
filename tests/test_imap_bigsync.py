"""A mailbox of a few thousand messages: the first sync stores them all in batches, only
``initial_sync_days`` back; a full flag resync of that many lines works (aioimaplib alone
overflows its recursion on one such read); messages deleted elsewhere leave the store."""

from __future__ import annotations

import asyncio
import imaplib
import smtplib
import time

from app.imap.connection import ImapConnection
from app.imap.storage import ParsePool, store_batch
from app.imap.sync import BATCH, BATCH_BYTES, BATCH_MOST, PARSE_AHEAD, FolderSync
from app.store.thread import StoreThread
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


class HeldStore(StoreThread):
    """The engine's store thread, whose stores of fetched batches wait for ``release``: a store
    that falls behind the fetch and the parse. Says the size of each batch it stored."""

    def __init__(self, path) -> None:
        super().__init__(path)
        self.release = asyncio.Event()
        self.stored: list[int] = []

    async def call(self, fn, *args, **kwargs):
        if fn is store_batch:
            await self.release.wait()
            self.stored.append(len(args[2]))
        return await super().call(fn, *args, **kwargs)


class CountingPool(ParsePool):
    """The parse pool, counting the batches it has read, and the size of each as it came."""

    read = 0

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sizes: list[int] = []

    async def parse(self, folder, uidvalidity, direction, fetched, *args, **kwargs):
        self.sizes.append(len(fetched))
        out = await super().parse(folder, uidvalidity, direction, fetched, *args, **kwargs)
        self.read += 1
        return out


def deliver_sized(dovecot, to: str, n: int, body_bytes: int, start: int = 0) -> None:
    """``n`` replies whose bodies hold about ``body_bytes`` bytes each."""
    words = "we looked at the proposal and would like to hear more about the pricing ".split()
    with smtplib.LMTP(dovecot.host, dovecot.lmtp_port, timeout=60) as lmtp:
        for i in range(start, start + n):
            body, w = [], 0
            while sum(map(len, body)) + len(body) < body_bytes:
                body.append(words[w % len(words)])
                w += 1
            lmtp.sendmail("prospect@example.net", [to], build_message(
                to, subject=f"Re: sized {i}", body=" ".join(body), message_id=f"<sized-{i}@prospect.example>").as_bytes())


async def _batch_sizes(dovecot, user, tmp_path) -> list[int]:
    """The size of each batch a first sync of ``user``'s INBOX fetched, with every message stored."""
    acct = account(dovecot, user, port=dovecot.imaps_port, security="tls", ca_file=dovecot.ca_file)
    db = StoreThread(tmp_path / f"{user.email}.db")
    await db.call(lambda s: s.ensure_account(acct.id, acct.email, acct.name))
    pool = CountingPool(workers=1)
    conn = ImapConnection(acct)
    await conn.open()
    try:
        # bounded: a parse worker and the engine waiting on each other would hang it for good
        await asyncio.wait_for(FolderSync(conn, db, pool, acct, 30).sync("INBOX", "inbox"), 120)
        assert await db.call(count) == sum(pool.sizes)
        return pool.sizes
    finally:
        await conn.close()
        pool.close()
        await db.close()


async def test_a_big_sync_of_short_replies_comes_in_bigger_batches_and_one_of_big_mail_does_not(
        dovecot, users, tmp_path) -> None:
    """The first batch is small (its rows come soon); after it, batches hold about BATCH_BYTES by
    the messages' sizes so far: hundreds of short replies a batch, fewer round trips, frames and
    transactions; big messages stay at BATCH a batch, so a batch holds no more bytes than ever."""
    short, big = users(2)
    await asyncio.to_thread(deliver_sized, dovecot, short.email, BATCH + BATCH_MOST + 30, 200)
    big_body = 2 * BATCH_BYTES // BATCH  # a batch of BATCH such messages is twice BATCH_BYTES
    await asyncio.to_thread(deliver_sized, dovecot, big.email, 2 * BATCH + 30, big_body)
    assert await _batch_sizes(dovecot, short, tmp_path) == [BATCH, BATCH_MOST, 30]
    assert await _batch_sizes(dovecot, big, tmp_path) == [BATCH, BATCH, 30]


async def test_batches_parsed_while_the_store_was_busy_go_in_one_transaction(dovecot, users, tmp_path) -> None:
    """While a batch waits for the store, those after it are fetched and parsed; when the store
    is free again they are stored together, in one transaction, not one after another: a store
    that falls behind catches up. Every message is stored once, and the folder's high-water mark
    is that of the last."""
    [user] = users(1)
    total = BATCH * (PARSE_AHEAD + 2)
    await asyncio.to_thread(deliver_many, dovecot, user.email, total)
    acct = account(dovecot, user, port=dovecot.imaps_port, security="tls", ca_file=dovecot.ca_file)
    db = HeldStore(tmp_path / "store.db")
    await db.call(lambda s: s.ensure_account(acct.id, acct.email, acct.name))
    pool = CountingPool(workers=1)
    pool.start()
    conn = ImapConnection(acct)
    await conn.open()
    try:
        syncing = asyncio.ensure_future(FolderSync(conn, db, pool, acct, 30, batch_most=BATCH).sync("INBOX", "inbox"))
        # the first batch waits for the store; the queue behind it fills and is read meanwhile
        await until(lambda: pool.read >= 1 + PARSE_AHEAD, 120, "the batches behind the first read")
        db.release.set()
        await syncing
        assert sum(db.stored) == total
        assert db.stored[0] == BATCH and db.stored[1] >= PARSE_AHEAD * BATCH
        assert len(db.stored) < total // BATCH
        stored = await db.call(lambda s: (count(s), s.folder_state(acct.id, "INBOX").highest_uid))
        assert stored == (total, total)
    finally:
        await conn.close()
        pool.close()
        await db.close()
