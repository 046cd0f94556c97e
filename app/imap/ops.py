"""Carrying out what the user did, on the server: the store's ``pending_ops``, run by the account's
watcher between two IDLEs.

- ``add_flags`` / ``remove_flags`` (``flags``: system flags and ``replydesk-<category>`` keywords;
  where PERMANENTFLAGS lacks ``\\*`` the keywords are not sent and the op ends ``skipped`` with
  that reason, never ``done``: the label is kept here only, and the health view says so),
- ``move`` (``to_role``: archive, inbox …): MOVE where offered, else COPY + \\Deleted + EXPUNGE;
  the stored row follows the message (COPYUID) so it is neither fetched again as new nor lost,
- ``append`` (``outbox_id`` or ``raw_b64``, ``role``, ``flags``): a sent reply into Sent.
- ``save_attachment`` (``index``, ``path``, ``replace``): the whole message fetched with
  BODY.PEEK (nothing changes on the server), attachment ``index`` of it written to ``path``; an
  existing file is replaced only when asked, and a file that cannot be written fails at once
  with the reason (no retry).

A NO from the server is tried again after ``RETRY_DELAYS`` and then fails the op (its words are
kept, and a failed move puts the message back where the server has it); a network error leaves
it pending for the next connection. Folders replydesk creates (Archive) go below the personal
namespace, with the server's hierarchy separator (``INBOX.Archive``).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import stat
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from app.config import Account
from app.folders import under_namespace
from app.imap.connection import ImapConnection, ImapNo
from app.imap.responses import quote
from app.mail.compose import with_attachments
from app.mail.parse import attachment_payloads
from app.mail.types import Attachment
from app.store.lifecycle import IllegalTransition
from app.store.rows import PendingOp
from app.store.thread import StoreThread

log = logging.getLogger(__name__)

RETRY_DELAYS = (2.0, 10.0)
"""Seconds before the second and third try of an op the server refused; then it fails."""
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


class OpSkipped(Exception):
    """The op cannot be asked of this server (it allows no keywords); the reason is shown."""


class OpFailed(Exception):
    """The op cannot succeed by trying again (a file that cannot be written); the reason is shown."""


class OpsRunner:
    def __init__(self, conn: ImapConnection, db: StoreThread, account: Account, roles: dict[str, str],
                 select: Callable[[str], Awaitable[Any]]) -> None:
        self.conn = conn
        self.db = db
        self.account = account
        self.roles = roles
        self._select = select
        self._retry_at: dict[int, float] = {}

    def next_retry(self) -> float | None:
        """``time.monotonic()`` at which a refused op is due again, if one waits."""
        return min(self._retry_at.values(), default=None)

    async def run(self) -> int:
        """Run every pending op that is due; returns how many were done."""
        acct = self.account.id
        done = 0
        while True:
            ops = await self.db.call(lambda s: s.pending_ops(acct))
            now = time.monotonic()
            ops = [op for op in ops if self._retry_at.get(op["id"], 0.0) <= now]
            if not ops:
                return done
            done += len(ops) - len(await self.run_ops(ops))

    async def run_ops(self, ops: list[PendingOp]) -> list[str]:
        """Carry out ``ops`` and record each outcome; returns what was not done, one line each.
        The watcher runs every due op through here; ``replydesk reply`` with no engine, the
        ops of the reply it sent (``sent_lookup.finish_reply_on_server``)."""
        acct = self.account.id
        problems: list[str] = []
        # one SELECT per folder: group while keeping each folder's order
        for op in sorted(ops, key=lambda o: (o["folder"] or "", o["id"])):
            self._retry_at.pop(op["id"], None)
            try:
                await self._run_one(op)
            except OpSkipped as exc:
                log.info("%s: %s #%d skipped: %s", acct, op["op"], op["id"], exc)
                await self._finish(op, str(exc), skipped=True)
                problems.append(str(exc))
                continue
            except OpFailed as exc:
                log.info("%s: %s #%d failed: %s", acct, op["op"], op["id"], exc)
                await self._finish(op, str(exc)[:500], give_up=True)
                problems.append(str(exc))
                continue
            except (ValueError, TypeError, LookupError, AttributeError) as exc:
                # an op this code cannot carry out (its arguments spoilt, a fault here): it fails
                # with the reason, alone; the connection is fine and the other ops go on
                log.exception("%s: %s #%d could not be carried out", acct, op["op"], op["id"])
                error = f"could not be carried out: {type(exc).__name__}: {exc}"[:500]
                await self._finish(op, error, give_up=True)
                problems.append(error)
                continue
            except ImapNo as exc:
                give_up = op["attempts"] + 1 >= MAX_ATTEMPTS
                log.info("%s: %s #%d failed%s: %s", acct, op["op"], op["id"],
                         "" if not give_up else " (giving up)", exc)
                if not give_up:
                    self._retry_at[op["id"]] = time.monotonic() + RETRY_DELAYS[op["attempts"]]
                error = str(exc)[:500]
                await self._finish(op, error, give_up=give_up)
                problems.append(error)
                continue
            await self._finish(op, None)
        return problems

    async def _finish(self, op: PendingOp, error: str | None, **how: bool) -> bool:
        """Record the try; False when the op was no longer pending (finished by ``replydesk
        reply`` meanwhile, or removed with its message): the table refused, and it is logged."""
        try:
            await self.db.call(lambda s: s.finish_op(op["id"], error, **how))
        except IllegalTransition as exc:
            log.info("%s: %s #%d not recorded: %s", self.account.id, op["op"], op["id"], exc)
            return False
        return True

    async def _run_one(self, op: PendingOp) -> None:
        kind = op["op"]
        if kind == "append":
            await self._append(op)
            return
        if op["message"] is not None and op["folder"] is None:
            raise ImapNo("the message is no longer stored")
        if op["folder"] is None:
            raise ImapNo(f"{kind}: no message given")
        info = self.conn.select_info if self.conn.selected == op["folder"] else await self._select(op["folder"])
        if info is None:
            raise ImapNo(f"{op['folder']} could not be selected")
        if info.uidvalidity != op["uidvalidity"]:
            raise ImapNo(f"{op['folder']} was rebuilt on the server (UIDVALIDITY changed)")
        uid = str(op["uid"])
        if kind in ("add_flags", "remove_flags"):
            wanted = op["args"].get("flags", [])
            flags = self._allowed(wanted, info.permanentflags)
            if flags:
                await self.conn.uid_store(uid, "+FLAGS.SILENT" if kind == "add_flags" else "-FLAGS.SILENT", flags)
            refused = [f for f in wanted if f not in flags]
            if refused:
                raise OpSkipped(f"{op['folder']} allows no keywords (PERMANENTFLAGS without \\*): "
                                f"{' '.join(refused)} kept here only")
        elif kind == "move":
            await self._move(op)
        elif kind == "save_attachment":
            await self._save_attachment(op)
        elif kind == "attach_forward":
            await self._attach_forward(op)
        else:
            raise ImapNo(f"unknown operation {kind!r}")

    @staticmethod
    def _allowed(flags: list[str], permanent: frozenset[str]) -> list[str]:
        keywords_ok = "\\*" in permanent
        return [f for f in flags if f.startswith("\\") or keywords_ok or f in permanent]

    async def _move(self, op: PendingOp) -> None:
        role = op["args"].get("to_role", "archive")
        dest = self.roles.get(role)
        if dest is None and role == "archive":
            dest = await self._create_archive()
        if dest is None:
            raise ImapNo(f"this mailbox has no {role} folder")
        if dest == op["folder"]:
            return
        moved = await self.conn.uid_move(str(op["uid"]), dest)
        new_uid = moved[1].get(op["uid"]) if moved and op["uid"] is not None else None
        if moved and new_uid is not None:
            await self.db.call(lambda s: s.relocate_message(op["message"], dest, moved[0], new_uid))
            return
        # no UIDPLUS: find the message in its new folder by Message-ID
        info = await self._select(dest)
        hits = []
        if op["message_id"]:
            hits = await self.conn.uid_search("HEADER", "Message-ID", quote(op["message_id"]))
        if hits:
            await self.db.call(lambda s: s.relocate_message(op["message"], dest, info.uidvalidity, max(hits)))
        else:
            await self.db.call(lambda s: s.remove_uids(self.account.id, op["folder"], op["uidvalidity"],
                                                       [op["uid"]]))

    async def _create_archive(self) -> str:
        """Archiving on a server without an Archive folder creates one, as mail apps do, in the
        personal namespace (``INBOX.Archive`` where folders live below INBOX)."""
        name = under_namespace(self.account.folders.get("archive") or "Archive", await self.conn.namespace())
        await self.conn.create(name)
        self.roles["archive"] = name
        acct = self.account.id
        await self.db.call(lambda s: s.save_folder(acct, name, role="archive"))
        log.info("%s: created folder %s for archiving", acct, name)
        return name

    async def _attachments(self, op: PendingOp) -> list[tuple[Attachment, bytes]]:
        """The op's message fetched whole (BODY.PEEK: it stays unread), its attachments taken out."""
        fetched = await self.conn.uid_fetch(str(op["uid"]), "(UID BODY.PEEK[])")
        raw = next((f.body for f in fetched if f.uid == op["uid"] and f.body is not None), None)
        if raw is None:
            raise ImapNo(f"{op['folder']} no longer has the message")
        return await asyncio.to_thread(attachment_payloads, raw)

    async def _attach_forward(self, op: PendingOp) -> None:
        item_id = op["args"].get("outbox_id")
        item = await self.db.call(lambda s: s.outbox_item(item_id)) if item_id is not None else None
        if item is None or item["state"] != "attaching":
            return  # discarded or sent meanwhile: nothing waits for the attachments
        parts = await self._attachments(op)
        raw = await asyncio.to_thread(with_attachments, bytes(item["raw"]), parts)
        await self.db.call(lambda s: s.attachments_added(item["id"], raw))
        log.info("%s: forward %d carries %d attachments", self.account.id, item["id"], len(parts))

    async def _save_attachment(self, op: PendingOp) -> None:
        args = op["args"]
        parts = await self._attachments(op)
        index = int(args.get("index", -1))
        if not 0 <= index < len(parts):
            raise OpFailed("the message on the server has no such attachment")
        path = Path(str(args.get("path", "")))
        try:
            await asyncio.to_thread(write_file, path, parts[index][1], bool(args.get("replace")))
        except FileExistsError:
            raise OpFailed(f"{path} exists (not replaced)") from None
        except OSError as exc:
            raise OpFailed(f"{path} could not be written: {exc.strerror or exc}") from None
        log.info("%s: saved an attachment of message %s (%d bytes)", self.account.id, op["message"],
                 len(parts[index][1]))

    async def _append(self, op: PendingOp) -> None:
        args = op["args"]
        role = args.get("role") or args.get("to_role") or "sent"
        folder = self.roles.get(role)
        if folder is None:
            raise ImapNo(f"this mailbox has no {role} folder")
        raw: bytes | None = None
        message_id: str | None = None
        if args.get("outbox_id") is not None:
            item = await self.db.call(lambda s: s.outbox_item(args["outbox_id"]))
            raw, message_id = (item["raw"], item["message_id"]) if item else (None, None)
        elif args.get("raw_b64"):
            raw = base64.b64decode(args["raw_b64"])
        if not raw:
            raise ImapNo("nothing to append: the message is gone from the outbox")
        if message_id:
            # an earlier try may have reached the server before the link dropped: never file two copies
            await self._select(folder)
            if await self.conn.uid_search("HEADER", "Message-ID", quote(message_id)):
                return
        await self.conn.append(folder, bytes(raw), list(args.get("flags", ["\\Seen"])))



def write_file(path: Path, data: bytes, replace: bool) -> None:
    """Write ``data`` to ``path``: never over an existing file unless ``replace``, and a replaced
    file is swapped in whole (written beside it first), so a failure leaves the old one."""
    if not path.is_absolute():
        raise OSError(f"not an absolute path: {path}")
    if not replace:
        with open(path, "xb") as out:
            out.write(data)
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".replydesk-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        if path.exists():
            os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))  # the replaced file's permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
