"""The Sent folder seen from outside the watcher, for replying.

- ``message_in_sent(account, message_id)``: did a reply reach Sent? The outbox drainer asks
  this after a crash in the middle of a submission (``app.smtp.outbox``), through the engine,
  since ``app.smtp`` does not import ``app.imap``.
- ``finish_reply_on_server(account, db, item_id)``: when ``replydesk reply`` sends with no
  engine running, it runs the reply's pending operations itself (APPEND the copy to Sent,
  ``\\Answered`` on the original) with the watcher's runner instead of leaving them for a watcher.

Each call is one short session on ``app.imap.connection.ImapConnection`` (TLS verified,
implicit or STARTTLS, never plaintext), with the watcher's folder roles.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aioimaplib

from app.config import Account
from app.errors import ReplydeskError
from app.folders import assign_roles
from app.imap.connection import ImapConnection
from app.imap.ops import OpsRunner
from app.imap.responses import quote
from app.store.thread import StoreThread


@asynccontextmanager
async def _session(account: Account) -> AsyncIterator[ImapConnection]:
    conn = ImapConnection(account)
    try:
        await conn.open()
        yield conn
    finally:
        await conn.close()


async def _sent_folder(conn: ImapConnection, account: Account) -> str:
    """The folder flagged ``\\Sent`` (SPECIAL-USE), else the preset's or a usual name."""
    roles = assign_roles(await conn.list_folders(), account.folders)
    if "sent" not in roles:
        raise ReplydeskError(f"{account.id}: this mailbox has no Sent folder",
                             "set folders.sent to its name in the config")
    return roles["sent"]


async def _uids_with_message_id(conn: ImapConnection, folder: str, message_id: str) -> list[int]:
    await conn.select(folder)
    return await conn.uid_search("HEADER", "Message-ID", quote(message_id))


async def message_in_sent(account: Account, message_id: str) -> bool | None:
    """True when the account's Sent folder holds ``message_id``; None when it cannot be told."""
    try:
        async with _session(account) as conn:
            folder = await _sent_folder(conn, account)
            return bool(await _uids_with_message_id(conn, folder, message_id))
    except (ReplydeskError, aioimaplib.AioImapException, OSError, TimeoutError):
        return None


async def finish_reply_on_server(account: Account, db: StoreThread, item_id: int) -> list[str]:
    """Run the pending APPEND-to-Sent and ``\\Answered`` of an outbox item now, through the
    watcher's own runner (``app.imap.ops.OpsRunner``) on a short session.

    Returns what could not be done (each stays pending, for the engine's next run).
    """
    item = await db.call(lambda s: s.outbox_item(item_id))
    if item is None:
        return []
    ops = [op for op in await db.call(lambda s: s.pending_ops(account.id))
           if (op["op"] == "append" and op["args"].get("outbox_id") == item_id)
           or (op["op"] == "add_flags" and op["message"] == item["reply_to_message"]
               and "\\Answered" in op["args"].get("flags", []))]
    if not ops:
        return []
    try:
        async with _session(account) as conn:
            roles = assign_roles(await conn.list_folders(), account.folders)
            return await OpsRunner(conn, db, account, roles, conn.select).run_ops(ops)
    except (ReplydeskError, aioimaplib.AioImapException, OSError, TimeoutError) as exc:
        return [f"{account.id}: IMAP: {exc}"]
