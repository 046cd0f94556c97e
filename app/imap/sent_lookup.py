"""The Sent folder seen from outside the watcher, for replying.

- ``message_in_sent(account, message_id)``: did a reply reach Sent? The outbox drainer asks
  this after a crash in the middle of a submission (``app.smtp.outbox``), through the engine,
  since ``app.smtp`` does not import ``app.imap``.
- ``finish_reply_on_server(account, store, item_id)``: when ``replydesk reply`` sends with no
  engine running, it runs the reply's pending operations itself (APPEND the copy to Sent,
  ``\\Answered`` on the original) instead of leaving them for a watcher.

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
from app.imap.connection import ImapConnection, ImapNo
from app.imap.responses import quote
from app.store import Store
from app.store.lifecycle import IllegalTransition
from app.store.rows import OutboxItem, PendingOp


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


async def finish_reply_on_server(account: Account, store: Store, item_id: int) -> list[str]:
    """Run the pending APPEND-to-Sent and ``\\Answered`` of an outbox item now.

    Returns what could not be done (each stays pending, for the engine's next run).
    """
    item = store.outbox_item(item_id)
    if item is None:
        return []
    ops = [op for op in store.pending_ops(account.id)
           if (op["op"] == "append" and op["args"].get("outbox_id") == item_id)
           or (op["op"] == "add_flags" and op["message"] == item["reply_to_message"]
               and "\\Answered" in op["args"].get("flags", []))]
    if not ops:
        return []
    problems: list[str] = []
    try:
        async with _session(account) as conn:
            for op in ops:
                error = await _run_op(conn, account, op, item)
                try:
                    store.finish_op(op["id"], error)
                except IllegalTransition as exc:  # an engine started meanwhile got there first
                    error = error and str(exc)
                if error:
                    problems.append(error)
    except (ReplydeskError, aioimaplib.AioImapException, OSError, TimeoutError) as exc:
        problems.append(f"{account.id}: IMAP: {exc}")
    return problems


async def _run_op(conn: ImapConnection, account: Account, op: PendingOp, item: OutboxItem) -> str | None:
    try:
        if op["op"] == "append":
            folder = await _sent_folder(conn, account)
            if await _uids_with_message_id(conn, folder, item["message_id"]):
                return None  # already there (an earlier try got that far): never file two copies
            await conn.append(folder, bytes(item["raw"]), list(op["args"].get("flags", ["\\Seen"])))
            return None
        if not op["message_id"] or not op["folder"]:
            return "the original message is no longer stored"
        uids = await _uids_with_message_id(conn, op["folder"], op["message_id"])
        if not uids:
            return f"the original is no longer in {op['folder']}"
        await conn.uid_store(",".join(map(str, uids)), "+FLAGS.SILENT", list(op["args"]["flags"]))
        return None
    except ImapNo as exc:
        return str(exc)
