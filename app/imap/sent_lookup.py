"""The Sent folder seen from outside the watcher, for replying.

- ``message_in_sent(account, message_id)``: did a reply reach Sent? The outbox drainer asks
  this after a crash in the middle of a submission (``app.smtp.outbox``), through the engine,
  since ``app.smtp`` does not import ``app.imap``.
- ``finish_reply_on_server(account, store, item_id)``: when ``replydesk reply`` sends with no
  engine running, it runs the reply's pending operations itself (APPEND the copy to Sent,
  ``\\Answered`` on the original) instead of leaving them for a watcher.

Each call is one short IMAP session: TLS verified (TLS 1.2+), implicit or STARTTLS, never
plaintext.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aioimaplib

from app.auth import credentials, imap_authenticate_xoauth2, rejected
from app.config import Account
from app.errors import AccountConfigError, NetworkError, ReplydeskError
from app.store import Store

TIMEOUT = 30.0


def _context(account: Account) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if account.imap.ca_file is not None:
        ctx.load_verify_locations(cafile=str(account.imap.ca_file))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


async def _starttls(client: aioimaplib.IMAP4, account: Account, ctx: ssl.SSLContext) -> None:
    """aioimaplib has no STARTTLS: send it, then upgrade the transport in place."""
    protocol = client.protocol
    response = await protocol.execute(aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop))
    if response.result != "OK":
        raise AccountConfigError(f"{account.id}: IMAP server refused STARTTLS",
                                 "use imap.security = \"tls\" and its port (993)")
    loop = asyncio.get_running_loop()
    transport = await loop.start_tls(protocol.transport, protocol, ctx, server_hostname=account.imap.host)
    protocol.transport = transport
    await protocol.capability()


@asynccontextmanager
async def _session(account: Account) -> AsyncIterator[aioimaplib.IMAP4]:
    ep = account.imap
    ctx = _context(account)
    client = aioimaplib.IMAP4(ep.host, ep.port, timeout=TIMEOUT,
                              ssl_context=ctx if ep.security == "tls" else None)
    try:
        try:
            await asyncio.wait_for(client.wait_hello_from_server(), TIMEOUT)
            if ep.security == "starttls":
                await _starttls(client, account, ctx)
        except (OSError, asyncio.TimeoutError) as exc:
            raise NetworkError(f"{account.id}: cannot reach IMAP {ep.host}:{ep.port}: {exc}") from None
        creds = await credentials(account, "imap")
        if creds.mechanism == "xoauth2":
            response = await imap_authenticate_xoauth2(client, creds.username, creds.secret)
        else:
            response = await client.login(creds.username, creds.secret)
        if response.result != "OK":
            raise rejected(account, "imap", _text(response))
        yield client
    finally:
        try:
            await asyncio.wait_for(client.logout(), 5)
        except (aioimaplib.AioImapException, OSError, asyncio.TimeoutError):
            if client.protocol is not None and client.protocol.transport is not None:
                client.protocol.transport.abort()


def _text(response: Any) -> str:
    return " ".join(line.decode(errors="replace") if isinstance(line, (bytes, bytearray)) else str(line)
                    for line in response.lines).strip()


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def _sent_folder(client: aioimaplib.IMAP4, account: Account) -> str:
    """The folder flagged ``\\Sent`` (SPECIAL-USE), else the preset's name."""
    response = await client.list('""', "*")
    for line in response.lines:
        text = line.decode(errors="replace") if isinstance(line, (bytes, bytearray)) else str(line)
        match = re.match(r'\((?P<flags>[^)]*)\) (?:"[^"]*"|NIL) (?P<name>.+)$', text)
        if match and "\\sent" in match["flags"].lower():
            name = match["name"].strip()
            return name[1:-1].replace('\\"', '"').replace("\\\\", "\\") if name.startswith('"') else name
    return account.folders["sent"]


async def _search_message_id(client: aioimaplib.IMAP4, folder: str, message_id: str) -> list[str]:
    response = await client.select(_quote(folder))
    if response.result != "OK":
        raise ReplydeskError(f"cannot open folder {folder!r}: {_text(response)}")
    response = await client.uid_search("HEADER", "Message-ID", _quote(message_id), charset=None)
    if response.result != "OK":
        raise ReplydeskError(f"search in {folder!r} failed: {_text(response)}")
    first = response.lines[0] if response.lines else b""
    text = first.decode() if isinstance(first, (bytes, bytearray)) else str(first)
    return [t for t in text.split() if t.isdigit()]


async def message_in_sent(account: Account, message_id: str) -> bool | None:
    """True when the account's Sent folder holds ``message_id``; None when it cannot be told."""
    try:
        async with _session(account) as client:
            folder = await _sent_folder(client, account)
            return bool(await _search_message_id(client, folder, message_id))
    except (ReplydeskError, aioimaplib.AioImapException, OSError, asyncio.TimeoutError):
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
        async with _session(account) as client:
            for op in ops:
                error = await _run_op(client, account, op, item)
                store.finish_op(op["id"], error)
                if error:
                    problems.append(error)
    except (ReplydeskError, aioimaplib.AioImapException, OSError, asyncio.TimeoutError) as exc:
        problems.append(f"{account.id}: IMAP: {exc}")
    return problems


async def _run_op(client: aioimaplib.IMAP4, account: Account, op: dict[str, Any],
                  item: dict[str, Any]) -> str | None:
    if op["op"] == "append":
        folder = await _sent_folder(client, account)
        if await _search_message_id(client, folder, item["message_id"]):
            return None  # already there: never file two copies
        flags = " ".join(op["args"].get("flags", ["\\Seen"]))
        response = await client.append(item["raw"], mailbox=_quote(folder), flags=f"({flags})")
        return None if response.result == "OK" else f"APPEND to {folder} failed: {_text(response)}"
    if not op["message_id"] or not op["folder"]:
        return "the original message is no longer stored"
    uids = await _search_message_id(client, op["folder"], op["message_id"])
    if not uids:
        return f"the original is no longer in {op['folder']}"
    flags = " ".join(op["args"]["flags"])
    response = await client.uid("store", ",".join(uids), "+FLAGS", f"({flags})")
    return None if response.result == "OK" else f"setting {flags} failed: {_text(response)}"
