"""The outbox: replies are written here first, then sent. The text is never lost.

States: ``queued`` → ``sending`` → ``sent``; ``failed`` (permanent, with the server's words);
``attaching`` before ``queued`` for a forward whose attachments the watcher fetches first;
``uncertain`` (a send was interrupted and the Sent folder could not decide: the user is asked).
Every write of a state goes through the table in ``app.store.lifecycle`` (``moves.move_outbox``):
a move it does not allow raises IllegalTransition, naming the state the item is really in.

A reply the server accepted is shown in its conversation at once, as a local copy in the
folder ``messages.LOCAL_COPY_FOLDER``; the Sent folder's own copy replaces it when it is synced.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterable
from typing import Any, cast

from app.mail import parse
from app.store.db import now
from app.store.leases import HELD_SQL, LeaseLost, fence
from app.store.lifecycle import OUTBOX_EDITABLE, IllegalTransition, OutboxState, check_created
from app.store.messages import LOCAL_COPY_FOLDER, IncomingMessage, MessagesMixin
from app.store.moves import as_state, move_outbox, state_of
from app.store.rows import OutboxItem, OutboxListing, columns
from app.store.saves import SavesMixin

OUTBOX_STATES = tuple(s.value for s in OutboxState)

_OUTBOX_SELECT = "SELECT " + ", ".join(columns(OutboxItem)) + " FROM outbox"


class OutboxMixin(MessagesMixin, SavesMixin):
    """Replies on their way; one the server accepted files its Sent copy (``queue_op``), marks
    the original answered, starts the wait for an answer and shows in its conversation."""

    def queue_reply(self, *, account: str, message_id: str, raw: bytes, recipients: list[str],
                    subject: str, body: str, reply_to_message: int | None = None,
                    conversation_id: int | None = None, state: str = "queued", kind: str = "reply") -> int:
        """Queue a reply, or with ``kind="forward"`` a forward of ``reply_to_message``; ``state``
        is ``queued`` or ``draft`` (``lifecycle.OUTBOX_CREATED``), anything else raises."""
        state = check_created(state).value
        t = now()
        with self.db.tx() as conn:
            item_id = conn.execute(
                "INSERT INTO outbox (account, reply_to_message, conversation_id, message_id, recipients, "
                "subject, body, raw, state, next_attempt_at, created_at, updated_at, kind) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (account, reply_to_message, conversation_id, message_id, json.dumps(recipients), subject,
                 body, raw, state, t, t, t, kind)).lastrowid
        assert item_id is not None  # an INSERT's row id
        return item_id

    @staticmethod
    def _fence_item(conn: sqlite3.Connection, item_id: int, owner: str | None) -> None:
        if owner is None:
            return
        row = conn.execute("SELECT account FROM outbox WHERE id = ?", (item_id,)).fetchone()
        if row is not None:  # a missing item raises IllegalTransition at its move
            fence(conn, row[0], owner)

    def outbox_item(self, item_id: int) -> OutboxItem | None:
        rows = list(self.db.query(f"{_OUTBOX_SELECT} WHERE id = ?", [item_id]))
        if not rows:
            return None
        row = rows[0]
        row["recipients"] = json.loads(row["recipients"])
        return cast(OutboxItem, row)

    def outbox(self, states: Iterable[str] = OUTBOX_STATES, account: str | None = None) -> list[OutboxItem]:
        states = [as_state(OutboxState, s).value for s in states]
        marks = ",".join("?" for _ in states)
        sql = f"SELECT id FROM outbox WHERE state IN ({marks})"
        params: list[Any] = list(states)
        if account:
            sql += " AND account = ?"
            params.append(account)
        ids = [r[0] for r in self.db.conn.execute(sql + " ORDER BY id", params)]
        return [item for item in map(self.outbox_item, ids) if item is not None]

    def claim_due(self, account: str | None = None, accounts: Collection[str] | None = None, *,
                  owner: str | None = None) -> OutboxItem | None:
        """Move the next due ``queued`` item (of ``account``, or of one of ``accounts``; with
        ``owner``, of a mailbox whose lease it holds: ``leases.fence``) to ``sending`` and return it."""
        with self.db.tx() as conn:
            sql = "SELECT id FROM outbox WHERE state = 'queued' AND coalesce(next_attempt_at, 0) <= ?"
            params: list[Any] = [now()]
            if account:
                sql += " AND account = ?"
                params.append(account)
            if accounts is not None:
                sql += " AND account IN (SELECT value FROM json_each(?))"
                params.append(json.dumps(sorted(accounts)))
            if owner is not None:
                sql += f" AND account IN ({HELD_SQL})"
                params.append(owner)
            row = conn.execute(sql + " ORDER BY id LIMIT 1", params).fetchone()
            if row is None:
                return None
            move_outbox(conn, row[0], OutboxState.SENDING, ", attempts = attempts + 1")
        return self.outbox_item(row[0])

    def set_outbox_state(self, item_id: int, state: str, *, error: str | None = None,
                         retry_at: float | None = None, owner: str | None = None) -> None:
        """Move an item to ``state`` with its reason (``error``); raises IllegalTransition where the
        table allows no such move (a sent reply never becomes anything else), and ``LeaseLost``
        where ``owner`` no longer holds the item's mailbox (``leases.fence``)."""
        new = as_state(OutboxState, state)
        with self.db.tx() as conn:
            self._fence_item(conn, item_id, owner)
            move_outbox(conn, item_id, new, ", last_error = ?, next_attempt_at = coalesce(?, next_attempt_at), "
                        "sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END", (error, retry_at, new.value, now()))

    def save_reply(self, item_id: int | None, *, send: bool, account: str, message_id: str, raw: bytes,
                   recipients: list[str], subject: str, body: str, reply_to_message: int | None = None,
                   conversation_id: int | None = None, kind: str = "reply",
                   attach_from: int | None = None) -> int:
        """The compose screen's one write: a new reply (``item_id`` None), or the draft or unsent
        reply being edited, kept as a draft or queued to be sent (``send``). Returns its id.
        A forward sent with ``attach_from`` waits in the same transaction for that message's
        attachments (``forward_with_attachments``) instead of being queued.
        Raises IllegalTransition when the item is no longer the user's to edit (another terminal
        sent or discarded it meanwhile): the table decides, not the screen."""
        if send and attach_from is not None:
            with self.db.tx():
                item_id = self.save_reply(
                    item_id, send=False, account=account, message_id=message_id, raw=raw, recipients=recipients,
                    subject=subject, body=body, reply_to_message=reply_to_message,
                    conversation_id=conversation_id, kind=kind)
                self.forward_with_attachments(item_id, attach_from)
            return item_id
        new = OutboxState.QUEUED if send else OutboxState.DRAFT
        if item_id is None:
            return self.queue_reply(account=account, message_id=message_id, raw=raw, recipients=recipients,
                                    subject=subject, body=body, reply_to_message=reply_to_message,
                                    conversation_id=conversation_id, state=new.value, kind=kind)
        with self.db.tx() as conn:
            old = state_of(conn, "outbox", item_id)
            if old not in OUTBOX_EDITABLE:
                raise IllegalTransition("outbox item", old or f"(no outbox item {item_id})", new.value)
            conn.execute("UPDATE outbox SET body = ?, raw = ?, message_id = ?, recipients = ?, updated_at = ? "
                         "WHERE id = ?", (body, raw, message_id, json.dumps(recipients), now(), item_id))
            if new is OutboxState.QUEUED:
                move_outbox(conn, item_id, new, ", next_attempt_at = ?, submitted_at = NULL", (now(),))
            elif old != new:
                move_outbox(conn, item_id, new)
        return item_id

    # -- the drainer's steps (app/smtp/outbox.py) ---------------------------------------

    def claim_item(self, item_id: int, *, owner: str | None = None) -> OutboxItem | None:
        """Move one ``queued`` item to ``sending`` now, due or not (``replydesk reply``); with
        ``owner``, only while it holds the item's mailbox (``leases.fence``)."""
        with self.db.tx() as conn:
            if state_of(conn, "outbox", item_id) != OutboxState.QUEUED:
                return None  # another drainer has it, or it is settled: the caller reads its state
            try:
                self._fence_item(conn, item_id, owner)
            except LeaseLost:
                return None  # the engine holding the mailbox sends it
            move_outbox(conn, item_id, OutboxState.SENDING, ", attempts = attempts + 1")
        return self.outbox_item(item_id)

    def mark_submitted(self, item_id: int, *, owner: str | None = None) -> None:
        """DATA is about to start: from now a crash leaves the delivery unknown. Only for an
        item being sent (and with ``owner``, only while it holds the item's mailbox: ``LeaseLost``,
        and DATA must not begin); raises otherwise."""
        with self.db.tx() as conn:
            self._fence_item(conn, item_id, owner)
            state = state_of(conn, "outbox", item_id)
            if state != OutboxState.SENDING:
                raise IllegalTransition("outbox item", state or f"(no outbox item {item_id})", "submitted")
            conn.execute("UPDATE outbox SET submitted_at = ?, updated_at = ? WHERE id = ?",
                         (now(), now(), item_id))

    def retry_later(self, item_id: int, error: str, retry_at: float, *, owner: str | None = None) -> None:
        """The server did not take the message (4xx, network): queue it again (with ``owner``,
        only while it holds the item's mailbox: ``LeaseLost`` otherwise)."""
        with self.db.tx() as conn:
            self._fence_item(conn, item_id, owner)
            move_outbox(conn, item_id, OutboxState.QUEUED, ", last_error = ?, next_attempt_at = ?, submitted_at = NULL",
                        (error, retry_at), only_from=[OutboxState.SENDING])

    def resend(self, item_id: int) -> None:
        """Send a failed or uncertain reply again, or a draft; raises for any other."""
        with self.db.tx() as conn:
            move_outbox(conn, item_id, OutboxState.QUEUED, ", next_attempt_at = ?, submitted_at = NULL", (now(),),
                        only_from=OUTBOX_EDITABLE)

    def record_sent(self, item_id: int, *, append_to_sent: bool) -> None:
        """The server accepted the reply (or the Sent folder has it) while it was being sent."""
        self._record_sent(item_id, OutboxState.SENDING, append_to_sent)

    def record_delivered(self, item_id: int, *, append_to_sent: bool) -> None:
        """The user checked that a reply whose delivery was uncertain arrived: it counts as sent,
        as if the server's answer had come back (the compose screen's ctrl+r and ``replydesk reply
        --delivered``). Raises for an item that is not uncertain."""
        self._record_sent(item_id, OutboxState.UNCERTAIN, append_to_sent)

    def _record_sent(self, item_id: int, was: OutboxState, append_to_sent: bool) -> None:
        """In one transaction: the state, the Sent copy to APPEND (a pending op for the
        watcher), ``\\Answered`` on the original, and the reply in its conversation until the
        Sent folder's own copy replaces it."""
        item = self.outbox_item(item_id)
        local_copy = None if item is None else IncomingMessage(
            folder=LOCAL_COPY_FOLDER, uidvalidity=0, uid=item_id, parsed=parse(item["raw"]), classification=None,
            flags=frozenset({"\\Seen"}), received_at=now(), direction="out")
        with self.db.tx() as conn:
            t = now()
            move_outbox(conn, item_id, OutboxState.SENT, ", last_error = NULL, sent_at = ?", (t,), only_from=[was])
            assert item is not None  # move_outbox raised for a missing item
            if append_to_sent:
                self.queue_op(item["account"], "append", None, role="sent",
                              outbox_id=item_id, flags=["\\Seen"])
            # a forward went to someone else: the prospect is no more answered than before
            if item["reply_to_message"] is not None and item["kind"] == "reply":
                self.mark_message_answered(item["reply_to_message"])
            if item["conversation_id"] is not None and item["kind"] == "reply":
                self.start_waiting(item["conversation_id"], t)
            known = conn.execute("SELECT 1 FROM messages WHERE account = ? AND message_id = ? "
                                 "AND direction = 'out'", (item["account"], item["message_id"])).fetchone()
            if local_copy is not None and known is None:
                self.add_messages(item["account"], [local_copy])

    def discard_reply(self, item_id: int) -> None:
        """The user drops a draft or a reply that was not sent; raises for any other."""
        with self.db.tx() as conn:
            state = state_of(conn, "outbox", item_id)
            if state not in OUTBOX_EDITABLE:
                raise IllegalTransition("outbox item", state or f"(no outbox item {item_id})", "discarded")
            conn.execute("DELETE FROM outbox WHERE id = ?", (item_id,))

    def outbox_listing(self, limit: int = 500) -> tuple[list[OutboxListing], int]:
        """What replydesk sent or holds, for the Sent and drafts screen: what did not go first
        (failed, uncertain, drafts), then what is on its way, then what was sent, newest first in
        each; at most ``limit`` items (without their text), and how many there are in all."""
        # two reads, each from an index: the few not sent (outbox_state), then the newest sent
        # (outbox_sent); one ORDER BY over the whole outbox sorted every reply ever sent at each
        # refresh of the screen (0.1-0.4 s at 100,000)
        unsent = ", ".join(f"'{s.value}'" for s in OutboxState if s is not OutboxState.SENT)
        order = ("CASE state WHEN 'failed' THEN 0 WHEN 'uncertain' THEN 0 WHEN 'draft' THEN 1 "
                 "ELSE 2 END, coalesce(sent_at, updated_at) DESC, id DESC")
        cols = columns(OutboxListing)
        select = f"SELECT {', '.join(cols)} FROM outbox"
        rows = [dict(zip(cols, r)) for r in self.db.conn.execute(
            f"{select} WHERE state IN ({unsent}) ORDER BY {order} LIMIT ?", (limit,))]
        sent = [dict(zip(cols, r)) for r in self.db.conn.execute(
            f"{select} INDEXED BY outbox_sent WHERE state = 'sent' ORDER BY sent_at DESC, id DESC LIMIT ?",
            (limit - len(rows),))]
        # a reply the engine sent between the two reads is in both: listed once, as sent (the
        # later read); the screen keys its rows by id
        now_sent = {row["id"] for row in sent}
        rows = [row for row in rows if row["id"] not in now_sent] + sent
        for row in rows:
            row["recipients"] = json.loads(row["recipients"])
        total = int(self.db.conn.execute("SELECT count(*) FROM outbox").fetchone()[0])
        return [cast(OutboxListing, r) for r in rows], total

    def outbox_for(self, conversation_id: int, states: Iterable[str] = OUTBOX_STATES) -> list[OutboxItem]:
        """A conversation's replies in the outbox, oldest first (drafts, unsent ones)."""
        return [item for item in self.outbox(states) if item["conversation_id"] == conversation_id]

    def next_outbox_due(self, accounts: Collection[str] | None = None) -> float | None:
        """When the earliest queued reply (of ``accounts``, or of any mailbox) is due (the drainer
        sleeps until then)."""
        sql = "SELECT min(coalesce(next_attempt_at, 0)) FROM outbox WHERE state = 'queued'"
        params: list[Any] = []
        if accounts is not None:
            sql += " AND account IN (SELECT value FROM json_each(?))"
            params.append(json.dumps(sorted(accounts)))
        due: float | None = self.db.conn.execute(sql, params).fetchone()[0]
        return due
