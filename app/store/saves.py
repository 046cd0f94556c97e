"""Attachments whose bytes stay on the server (only the text of a message is stored): saving one
queues a ``save_attachment`` server operation, and a forward that carries them waits in the
outbox (state ``attaching``) for an ``attach_forward`` one; the account's watcher fetches the
message and writes the file, or adds the attachments to the forward and queues it
(``app.imap.ops``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from app.store.base import StorePart
from app.store.db import now
from app.store.lifecycle import OUTBOX_EDITABLE, OutboxState
from app.store.moves import move_outbox


@dataclass(frozen=True)
class OpOutcome:
    state: str
    """pending, done, failed or skipped."""
    error: str | None


class SavesMixin(StorePart):
    def queue_attachment_save(self, message: int, index: int, path: Path, *, replace: bool = False) -> int:
        """Queue the fetch of attachment ``index`` of ``message`` into the file ``path`` (absolute;
        an existing file is replaced only with ``replace``). Reading changes nothing on the server
        (BODY.PEEK), so unlike the other operations it is queued for warmup mail too."""
        with self.db.tx() as conn:
            row = conn.execute("SELECT account FROM messages WHERE id = ?", (message,)).fetchone()
            if row is None:
                raise ValueError(f"no message {message}")
            args = {"index": index, "path": str(path), "replace": replace}
            cursor = conn.execute(
                "INSERT INTO pending_ops (account, op, message, args, created_at) VALUES (?, ?, ?, ?, ?)",
                (row[0], "save_attachment", message, json.dumps(args), now()))
        return int(cursor.lastrowid or 0)

    def op_outcome(self, op_id: int) -> OpOutcome | None:
        row = self.db.conn.execute("SELECT state, last_error FROM pending_ops WHERE id = ?", (op_id,)).fetchone()
        return OpOutcome(row[0], row[1]) if row else None

    def forward_with_attachments(self, item_id: int, message: int) -> int:
        """Hold the forward ``item_id`` (a draft, or one that was not sent) until the watcher
        added the attachments of ``message`` to it; then it is queued like any reply."""
        with self.db.tx() as conn:
            row = conn.execute("SELECT account FROM messages WHERE id = ?", (message,)).fetchone()
            if row is None:
                raise ValueError(f"no message {message}")
            move_outbox(conn, item_id, OutboxState.ATTACHING, ", last_error = NULL", only_from=OUTBOX_EDITABLE)
            cursor = conn.execute(
                "INSERT INTO pending_ops (account, op, message, args, created_at) VALUES (?, ?, ?, ?, ?)",
                (row[0], "attach_forward", message, json.dumps({"outbox_id": item_id}), now()))
        return int(cursor.lastrowid or 0)

    def attachments_added(self, item_id: int, raw: bytes) -> None:
        """The watcher built the forward with its attachments: it goes out now."""
        t = now()
        with self.db.tx() as conn:
            move_outbox(conn, item_id, OutboxState.QUEUED, ", raw = ?, next_attempt_at = ?", (raw, t),
                        only_from=[OutboxState.ATTACHING])
