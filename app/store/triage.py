"""User intents written by the UI and the CLI: labels, read state, archive, undo, and the
server operations they imply (run later by the account's watcher)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Unpack, cast

from app.mail.learn import LEARNED, MAX_EXAMPLES
from app.mail.types import CATEGORIES
from app.store.bounces import BouncesMixin
from app.store.conversations import ConversationsMixin
from app.store.db import now
from app.store.lifecycle import OpState, OutboxState
from app.store.moves import move_op, move_outbox, state_of
from app.store.rows import OpArgs, PendingOp

SERVER_FLAGS = {"seen": "\\Seen", "answered": "\\Answered", "flagged": "\\Flagged"}
KEYWORD_PREFIX = "replydesk-"
"""Labels mirrored on the server as IMAP keywords, so they survive a new machine."""
OP_PROBLEMS_DAYS = 7
"""Failed and skipped operations of the last week are shown in the health view and the CLI."""


@dataclass(frozen=True)
class OpProblems:
    """Server operations of one account that were not carried out (failed or skipped)."""

    failed: int
    skipped: int
    latest: str
    """The newest one: what it was and the server's words (or why it was skipped)."""
    latest_at: float
WARMUP = "warmup"
"""The kind of warmup mail, which replydesk never changes on the server (``queue_op``)."""


def keyword_label(flags: Iterable[str]) -> str | None:
    """The category a ``replydesk-<category>`` keyword on the server names, if any."""
    for flag in flags:
        if flag.lower().startswith(KEYWORD_PREFIX):
            return flag[len(KEYWORD_PREFIX):].lower()
    return None


def _describe_op(op: str, args: OpArgs) -> str:
    if op == "move":
        return f"moving to {args.get('to_role', 'archive')}"
    if op == "append":
        return f"filing in {args.get('role', 'sent')}"
    if op == "attach_forward":
        return "fetching the attachments of a forward"
    if op == "save_attachment":
        return f"saving {Path(str(args.get('path', ''))).name}"
    flags = " ".join(args.get("flags", []))
    labels = [f[len(KEYWORD_PREFIX):] for f in args.get("flags", []) if f.lower().startswith(KEYWORD_PREFIX)]
    if labels:
        return f"{'label' if op == 'add_flags' else 'removing label'} {' '.join(labels)}"
    return f"{'setting' if op == 'add_flags' else 'clearing'} {flags}"


class TriageMixin(ConversationsMixin, BouncesMixin):
    """Labels (an ``unsubscribe`` label suppresses the address) and flags, each change
    refreshing its conversation."""

    _examples_cache: tuple[object, tuple[tuple[str, str], ...]] | None = None

    # -- server operations -------------------------------------------------------------

    def queue_op(self, account: str, op: str, message: int | None, **args: Unpack[OpArgs]) -> int | None:
        """Queue ``op`` (``add_flags``, ``remove_flags``, ``move``, ``append``) for the watcher.

        Hands off warmup mail: an op on a warmup message is not queued (returns None). The
        warmup tool reads, stars and moves its mail itself; a \\Seen, a keyword or a move from
        here would falsify its signals. What the user did stays local."""
        with self.db.tx() as conn:
            if message is not None and conn.execute(
                    "SELECT 1 FROM messages WHERE id = ? AND kind = ?", (message, WARMUP)).fetchone():
                return None
            return conn.execute(
                "INSERT INTO pending_ops (account, op, message, args, created_at) VALUES (?, ?, ?, ?, ?)",
                (account, op, message, json.dumps(args), now())).lastrowid

    def pending_ops(self, account: str, limit: int = 200) -> list[PendingOp]:
        rows = self.db.conn.execute(
            "SELECT o.id, o.op, o.message, o.args, o.attempts, m.folder, m.uidvalidity, m.uid, m.message_id "
            "FROM pending_ops o LEFT JOIN messages m ON m.id = o.message "
            "WHERE o.account = ? AND o.state = 'pending' ORDER BY o.id LIMIT ?", (account, limit)).fetchall()
        return [PendingOp(id=r[0], op=r[1], message=r[2], args=cast(OpArgs, json.loads(r[3])), attempts=r[4],
                          folder=r[5], uidvalidity=r[6], uid=r[7], message_id=r[8]) for r in rows]

    def adopt_server_labels(self, account: str, labels: dict[str, str]) -> None:
        """Labels read back from ``replydesk-<category>`` keywords (another machine set them), by
        Message-ID; a label made here wins. Call before storing the messages."""
        with self.db.tx() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO labels (account, message_id, category, updated) VALUES (?, ?, ?, ?)",
                [(account, mid, cat, now()) for mid, cat in labels.items() if cat in CATEGORIES])

    def newest_pending_ops(self) -> dict[str, int]:
        """Each account with server operations waiting, and the id of its newest: the engine
        wakes a watcher when a new one appears (the watcher times its own retries)."""
        return {str(account): int(newest) for account, newest in self.db.conn.execute(
            "SELECT account, max(id) FROM pending_ops WHERE state = 'pending' GROUP BY account")}

    def finish_op(self, op_id: int, error: str | None = None, *, give_up: bool = False,
                  skipped: bool = False) -> None:
        """Record how a try went: done (no ``error``), ``skipped`` (not sent; ``error`` says why),
        failed for good (``give_up``) or pending for another try. A move that failed for good
        puts the message back where the server still has it, so the list shows the truth."""
        state = OpState.SKIPPED if skipped else OpState.DONE if error is None else (
            OpState.FAILED if give_up else OpState.PENDING)
        with self.db.tx() as conn:
            # only a pending op moves on (lifecycle.OP_TRANSITIONS): one finished elsewhere meanwhile
            # (`replydesk reply`'s own run, or removed with its message) raises IllegalTransition
            move_op(conn, op_id, state, ", last_error = ?, attempts = attempts + 1", (error,))
            if state is not OpState.FAILED:
                return
            row = conn.execute("SELECT op, message, args FROM pending_ops WHERE id = ?", (op_id,)).fetchone()
            if row is not None and row[0] == "attach_forward":
                # the forward it was getting its attachments for is not sent: the thread says why
                item = json.loads(row[2]).get("outbox_id")
                if state_of(conn, "outbox", item) == OutboxState.ATTACHING:
                    move_outbox(conn, item, OutboxState.FAILED, ", last_error = ?",
                                (f"its attachments could not be fetched: {error}",))
                return
            if row is None or row[0] != "move" or row[1] is None:
                return
            to_role = json.loads(row[2]).get("to_role")
            if to_role in ("archive", "inbox"):
                conn.execute("UPDATE messages SET archived = ? WHERE id = ?", (int(to_role != "archive"), row[1]))
                conv = conn.execute("SELECT conversation_id FROM messages WHERE id = ?", (row[1],)).fetchone()
                if conv is not None:
                    self.refresh_conversation(conv[0])

    def op_problems_in(self, conversation: int, limit: int = 3) -> list[str]:
        """What the server did not carry out for this conversation's messages, newest first."""
        return [f"{_describe_op(op, json.loads(args))} {state}: {error}" for op, args, state, error in
                self.db.conn.execute(
                    "SELECT o.op, o.args, o.state, o.last_error FROM pending_ops o JOIN messages m "
                    "ON m.id = o.message WHERE m.conversation_id = ? AND o.state IN ('failed', 'skipped') "
                    "ORDER BY o.id DESC LIMIT ?", (conversation, limit))]

    def op_problems(self, since: float | None = None) -> dict[str, OpProblems]:
        """Per account, the server operations of the last week that were not carried out."""
        since = now() - OP_PROBLEMS_DAYS * 86400 if since is None else since
        out: dict[str, OpProblems] = {}
        for account, failed, skipped, at in self.db.conn.execute(
                "SELECT account, sum(state = 'failed'), sum(state = 'skipped'), max(created_at) FROM pending_ops "
                "WHERE state IN ('failed', 'skipped') AND created_at >= ? GROUP BY account", (since,)).fetchall():
            op, args, state, error = self.db.conn.execute(
                "SELECT op, args, state, last_error FROM pending_ops WHERE account = ? AND state IN "
                "('failed', 'skipped') ORDER BY created_at DESC, id DESC LIMIT 1", (account,)).fetchone()
            out[account] = OpProblems(failed, skipped, f"{_describe_op(op, json.loads(args))} {state}: {error}", at)
        return out

    # -- labels ------------------------------------------------------------------------

    def _latest_inbound(self, conv: int) -> tuple[int, str, str | None, str, str] | None:
        row: tuple[int, str, str | None, str, str] | None = self.db.conn.execute(
            "SELECT id, account, message_id, category, category_source FROM messages WHERE conversation_id = ? "
            "AND direction = 'in' ORDER BY received_at DESC, id DESC LIMIT 1", (conv,)).fetchone()
        return row

    def set_category(self, conversations: Sequence[int], category: str, *, log: bool = True) -> None:
        """Label conversations (their latest inbound message). A user's label beats the classifier."""
        if category not in CATEGORIES:
            raise ValueError(f"unknown category {category!r}")
        undo = []
        labelled: list[int] = []
        with self.db.tx():
            for conv in conversations:
                latest = self._latest_inbound(conv)
                if latest is None:
                    continue
                mid, account, message_id, old, src = latest
                undo.append({"message": mid, "category": old, "source": src})
                unsuppress = self._label_message(mid, account, message_id, category)
                if message_id:
                    self._mirror_keyword(account, mid, old if src == "user" else None, category)
                if unsuppress:
                    # undoing the label takes the address off the list again
                    undo[-1]["unsuppress"] = unsuppress
                labelled.append(conv)
            self.refresh_conversations(labelled)
            if log and undo:
                self._log("label", {"labels": undo})

    def _label_message(self, mid: int, account: str, message_id: str | None, category: str) -> str | None:
        """Give one message the user's label (inside a transaction). Returns the address put on
        the suppression list by an ``unsubscribe`` label, if it was not there already."""
        conn = self.db.conn
        conn.execute("UPDATE messages SET category = ?, category_source = 'user' WHERE id = ?", (category, mid))
        if message_id:
            conn.execute("INSERT INTO labels (account, message_id, category, updated) VALUES "
                         "(?, ?, ?, ?) ON CONFLICT (account, message_id) DO UPDATE SET category = excluded.category, "
                         "updated = excluded.updated", (account, message_id, category, now()))
        self._keep_example(mid, category)
        if category == "unsubscribe":
            addr: str = conn.execute("SELECT from_addr FROM messages WHERE id = ?", (mid,)).fetchone()[0]
            if addr and not self.is_suppressed(addr):
                self.suppress(addr, "unsubscribe", mid, "labelled by the user")
                return addr.lower()
        return None

    # -- the user's labels as examples for the classifier ----------------------------------

    def _keep_example(self, mid: int, category: str | None) -> None:
        """A reply the user labelled is an example of that label (inside a transaction); a label
        that is no reply intent, or none (``category`` None), takes the example back."""
        conn = self.db.conn
        row = conn.execute("SELECT account, coalesce(message_id, 'row:' || id), new_text, kind "
                           "FROM messages WHERE id = ? AND direction = 'in'", (mid,)).fetchone()
        if row is None:
            return
        account, source, text, kind = row
        if category in LEARNED and kind == "reply" and text.strip():
            conn.execute("INSERT INTO intent_examples (account, source, new_text, category, updated) "
                         "VALUES (?, ?, ?, ?, ?) ON CONFLICT (account, source) DO UPDATE SET category = excluded.category, "
                         "new_text = excluded.new_text, updated = excluded.updated",
                         (account, source, text, category, now()))
        else:
            conn.execute("DELETE FROM intent_examples WHERE account = ? AND source = ?", (account, source))

    def intent_examples(self) -> tuple[tuple[str, str], ...]:
        """The user's labelled replies as ``(new text, label)``, newest first, for
        ``app.mail.learn.examples_from``. Read again only when they changed."""
        conn = self.db.conn
        signature = conn.execute("SELECT count(*), max(updated) FROM intent_examples").fetchone()
        cached = self._examples_cache
        if cached is not None and cached[0] == signature:
            return cached[1]
        rows = tuple((text, category) for text, category in conn.execute(
            "SELECT new_text, category FROM intent_examples ORDER BY updated DESC LIMIT ?", (MAX_EXAMPLES,)))
        self._examples_cache = (signature, rows)
        return rows

    def follow_server_labels(self, labels: Iterable[tuple[int, str]], cleared: Iterable[int] = ()) -> set[int]:
        """Labels another machine set or cleared since the first sync, read from the keywords a
        flag sync brought back: ``labels`` as ``(message row, category)``; ``cleared``, rows
        whose label keyword is gone, which go back to the classifier's category (the
        suppression list keeps what an ``unsubscribe`` label put on it). A message with server
        operations still waiting keeps its label here: the server has not seen this machine's
        change yet. Returns the conversations changed; call inside the flag update's transaction."""
        conn = self.db.conn
        touched: set[int] = set()
        wanted: list[tuple[int, str | None]] = [(mid, cat) for mid, cat in labels if cat in CATEGORIES]
        wanted += [(mid, None) for mid in cleared]
        for mid, category in wanted:
            row = conn.execute(
                "SELECT account, message_id, category, conversation_id, category_source, "
                "coalesce(auto_category, 'uncategorized') FROM messages WHERE id = ? "
                "AND direction = 'in' AND kind != 'warmup' AND NOT EXISTS (SELECT 1 FROM pending_ops WHERE message = ? "
                "AND state = 'pending')", (mid, mid)).fetchone()
            if row is None:
                continue
            account, message_id, current, conv, source, auto = row
            if category is None:
                if source != "user":
                    continue
                conn.execute("UPDATE messages SET category = ?, category_source = 'classifier' WHERE id = ?",
                             (auto, mid))
                self._keep_example(mid, None)
                if message_id:
                    conn.execute("DELETE FROM labels WHERE account = ? AND message_id = ?", (account, message_id))
            elif current != category:
                self._label_message(mid, account, message_id, category)
            else:
                continue
            touched.add(conv)
        return touched

    def _mirror_keyword(self, account: str, mid: int, old: str | None, new: str) -> None:
        if old and old != new:
            self.queue_op(account, "remove_flags", mid, flags=[KEYWORD_PREFIX + old])
        self.queue_op(account, "add_flags", mid, flags=[KEYWORD_PREFIX + new])

    def set_seen(self, conversations: Sequence[int], seen: bool, *, log: bool = True) -> None:
        self._set_flag(conversations, "seen", seen, log=log)

    def _set_flag(self, conversations: Sequence[int], column: str, value: bool, *, log: bool) -> None:
        undo = []
        with self.db.tx() as conn:
            for conv in conversations:
                rows = conn.execute(
                    f"SELECT id, account, {column} FROM messages WHERE conversation_id = ? AND direction = 'in' "
                    f"AND {column} != ?", (conv, int(value))).fetchall()
                for mid, account, old in rows:
                    conn.execute(f"UPDATE messages SET {column} = ? WHERE id = ?", (int(value), mid))
                    self.queue_op(account, "add_flags" if value else "remove_flags", mid,
                                  flags=[SERVER_FLAGS[column]])
                    undo.append({"message": mid, "column": column, "value": old})
            self.refresh_conversations(conversations)
            if log and undo:
                self._log("flag", {"flags": undo})

    def mark_message_answered(self, message: int) -> None:
        with self.db.tx() as conn:
            row = conn.execute("SELECT account, conversation_id FROM messages WHERE id = ?",
                               (message,)).fetchone()
            if row is None:
                return
            conn.execute("UPDATE messages SET answered = 1 WHERE id = ?", (message,))
            self.queue_op(row[0], "add_flags", message, flags=["\\Answered"])
            self.refresh_conversation(row[1])

    def archive(self, conversations: Sequence[int], archived: bool = True, *, log: bool = True) -> None:
        """Archive here at once; the watcher moves the messages to the Archive folder."""
        undo = []
        with self.db.tx() as conn:
            for conv in conversations:
                rows = conn.execute("SELECT id, account FROM messages WHERE conversation_id = ? "
                                    "AND direction = 'in' AND archived != ?", (conv, int(archived))).fetchall()
                for mid, account in rows:
                    conn.execute("UPDATE messages SET archived = ? WHERE id = ?", (int(archived), mid))
                    self.queue_op(account, "move", mid, to_role="archive" if archived else "inbox")
                    undo.append({"message": mid, "column": "archived", "value": int(not archived)})
                if archived:  # dealt with: a "came back" cue goes with it
                    conn.execute("UPDATE conversations SET woke_at = NULL, woke_reason = NULL WHERE id = ?",
                                 (conv,))
            self.refresh_conversations(conversations)
            if log and undo:
                self._log("archive", {"flags": undo})

    # -- undo --------------------------------------------------------------------------

    def _log(self, action: str, undo: dict[str, Any]) -> None:
        self.db.conn.execute("INSERT INTO triage_log (action, undo, created_at) VALUES (?, ?, ?)",
                             (action, json.dumps(undo), now()))

    def undo_size(self) -> int:
        """How many messages undoing the newest triage action changes (0: nothing to undo)."""
        row = self.db.conn.execute(
            "SELECT coalesce(json_array_length(undo, '$.labels'), 0) + coalesce(json_array_length(undo, '$.flags'), 0) "
            "FROM triage_log ORDER BY id DESC LIMIT 1").fetchone()
        return int(row[0]) if row else 0

    def undo_last(self) -> str | None:
        """Undo the newest triage action. Returns its name, or None when there is nothing to undo."""
        with self.db.tx() as conn:
            row = conn.execute("SELECT id, action, undo FROM triage_log ORDER BY id DESC LIMIT 1").fetchone()
            if row is None:
                return None
            conn.execute("DELETE FROM triage_log WHERE id = ?", (row[0],))
            data = json.loads(row[2])
            convs: set[int] = set()
            for item in data.get("labels", []):
                mid = item["message"]
                m = conn.execute("SELECT account, message_id, conversation_id, category FROM messages "
                                 "WHERE id = ?", (mid,)).fetchone()
                if m is None:
                    continue
                conn.execute("UPDATE messages SET category = ?, category_source = ? WHERE id = ?",
                             (item["category"], item["source"], mid))
                self._keep_example(mid, item["category"] if item["source"] == "user" else None)
                if item.get("unsuppress"):
                    conn.execute("DELETE FROM suppressions WHERE address = ?", (item["unsuppress"],))
                if m[1]:
                    if item["source"] == "user":
                        conn.execute("UPDATE labels SET category = ? WHERE account = ? AND message_id = ?",
                                     (item["category"], m[0], m[1]))
                    else:
                        conn.execute("DELETE FROM labels WHERE account = ? AND message_id = ?", (m[0], m[1]))
                    self.queue_op(m[0], "remove_flags", mid, flags=[KEYWORD_PREFIX + m[3]])
                    if item["source"] == "user":
                        self.queue_op(m[0], "add_flags", mid, flags=[KEYWORD_PREFIX + item["category"]])
                convs.add(m[2])
            for item in data.get("flags", []):
                mid, column, value = item["message"], item["column"], item["value"]
                m = conn.execute("SELECT account, conversation_id FROM messages WHERE id = ?", (mid,)).fetchone()
                if m is None:
                    continue
                conn.execute(f"UPDATE messages SET {column} = ? WHERE id = ?", (value, mid))
                if column == "archived":
                    self.queue_op(m[0], "move", mid, to_role="archive" if value else "inbox")
                else:
                    self.queue_op(m[0], "add_flags" if value else "remove_flags", mid,
                                  flags=[SERVER_FLAGS[column]])
                convs.add(m[1])
            self.refresh_conversations(convs)
            action: str = row[1]
            return action
