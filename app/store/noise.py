"""Warmup, internal and bulk mail in the store: the user's warmup marks, the tag proposed from
them, and re-applying the warmup tags to every stored message when they change.

A warmup mark is a local label (``labels.category = 'warmup'``, keyed on Message-ID like every
label, so it survives a rescan) and is never mirrored to the server as a keyword.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.mail.noise import NoiseContext, TagProposal, propose_tag, tokens, warmup_reason
from app.mail.types import Address, ParsedMessage
from app.store.conversations import ConversationsMixin
from app.store.db import now
from app.store.triage import WARMUP

MARKED_READ = 50
"""The newest marked messages a proposal is learned from."""
OTHERS_READ = 2000
"""The newest other messages a proposed tag is checked against."""
PASS_CHUNK = 500
TEXT_READ = 20_000
"""Characters of a stored body read when learning (tags sit near the top or the bottom)."""


@dataclass(frozen=True)
class Reapplied:
    """What re-applying the warmup tags changed."""

    to_warmup: int
    """Messages that are warmup now."""
    from_warmup: int
    """Messages whose tag is no longer configured, classified again from their stored text."""
    conversations: int


class NoiseMixin(ConversationsMixin):

    # -- marks -------------------------------------------------------------------------

    def mark_warmup(self, conversations: Sequence[int], warmup: bool = True) -> int:
        """Mark conversations (every inbound message) as warmup, or take the mark back (the
        messages return to the classifier's kind). Queued server operations of the messages are
        dropped: from now on they are the warmup tool's. Returns the messages changed."""
        changed = 0
        with self.db.tx() as conn:
            for conv in conversations:
                rows = conn.execute(
                    "SELECT id, account, message_id, category = ? AND category_source = 'user', "
                    "coalesce(auto_kind, 'reply'), coalesce(auto_category, 'uncategorized') FROM messages "
                    "WHERE conversation_id = ? AND direction = 'in'", (WARMUP, conv)).fetchall()
                for mid, account, message_id, marked, auto_kind, auto_category in rows:
                    if warmup and not marked:
                        conn.execute("UPDATE messages SET kind = ?, category = ?, category_source = 'user' "
                                     "WHERE id = ?", (WARMUP, WARMUP, mid))
                        conn.execute("DELETE FROM pending_ops WHERE message = ? AND state = 'pending'", (mid,))
                        if message_id:
                            conn.execute(
                                "INSERT INTO labels (account, message_id, category, updated) VALUES (?, ?, ?, ?) "
                                "ON CONFLICT (account, message_id) DO UPDATE SET category = excluded.category, "
                                "updated = excluded.updated",
                                (account, message_id, WARMUP, now()))
                    elif not warmup and marked:
                        conn.execute("UPDATE messages SET kind = ?, category = ?, category_source = 'classifier' "
                                     "WHERE id = ?", (auto_kind, auto_category, mid))
                        if message_id:
                            conn.execute("DELETE FROM labels WHERE account = ? AND message_id = ?",
                                         (account, message_id))
                    else:
                        continue
                    changed += 1
            self.refresh_conversations(conversations)
        return changed

    def is_marked_warmup(self, conversation: int) -> bool:
        return self.db.conn.execute(
            "SELECT 1 FROM messages WHERE conversation_id = ? AND direction = 'in' AND category = ? "
            "AND category_source = 'user' LIMIT 1", (conversation, WARMUP)).fetchone() is not None

    # -- learning ----------------------------------------------------------------------

    def propose_warmup_tag(self, configured: Sequence[str] = ()) -> TagProposal | None:
        """A tag the messages the user marked as warmup share and the others lack, unless it is
        configured already or the user rejected it."""
        conn = self.db.conn
        marked = [f"{s}\n{b[:TEXT_READ]}" for s, b in conn.execute(
            "SELECT subject, body_text FROM messages WHERE direction = 'in' AND category = ? "
            "AND category_source = 'user' ORDER BY id DESC LIMIT ?", (WARMUP, MARKED_READ))]
        if not marked:
            return None
        others = [f"{s}\n{b[:TEXT_READ]}" for s, b in conn.execute(
            "SELECT subject, body_text FROM messages WHERE direction = 'in' AND kind != ? "
            "ORDER BY id DESC LIMIT ?", (WARMUP, OTHERS_READ))]
        exclude = {w for (t,) in conn.execute("SELECT tag FROM warmup_proposals") for w in tokens(t)}
        exclude |= {w for t in configured for w in tokens(t)}
        # the user's own addresses are in every quote's attribution
        exclude |= {w for (e,) in conn.execute("SELECT email FROM accounts") for w in tokens(e.replace(".", " "))}
        exclude |= {w for (e,) in conn.execute("SELECT email FROM accounts") for w in tokens(e)}
        return propose_tag(marked, others, exclude)

    def decide_warmup_tag(self, tag: str, accepted: bool) -> None:
        with self.db.tx() as conn:
            conn.execute("INSERT INTO warmup_proposals (tag, decision, decided_at) VALUES (?, ?, ?) "
                         "ON CONFLICT (tag) DO UPDATE SET decision = excluded.decision, decided_at = excluded.decided_at",
                         (tag, "accepted" if accepted else "rejected", now()))

    # -- re-applying the tags ----------------------------------------------------------

    def reapply_warmup(self, noise: Callable[[str], NoiseContext],
                       progress: Callable[[int, int], None] | None = None,
                       stop: Callable[[], bool] | None = None) -> Reapplied:
        """Apply the warmup tags (``noise(account)``) to every stored inbound message, in one pass
        by row id, committed chunk by chunk so the engine and other terminals keep writing.
        A message now carrying a tag becomes warmup (its queued server operations dropped); one
        the classifier had called warmup whose tag is gone is classified again from its stored
        text (its headers are not kept: at worst it comes back as a reply). User labels and
        warmup marks are kept as they are. ``stop()`` true ends the pass between two chunks
        (what is committed stays: running the pass again finishes it)."""
        conn = self.db.conn
        total = conn.execute("SELECT count(*) FROM messages WHERE direction = 'in'").fetchone()[0]
        done = to_warmup = from_warmup = 0
        convs: set[int] = set()
        contexts: dict[str, NoiseContext] = {}
        last = 0
        while stop is None or not stop():
            rows = conn.execute(
                "SELECT id, account, subject, new_text, body_text, kind, auto_kind, category_source, "
                "conversation_id, from_addr, from_name, in_reply_to, category FROM messages "
                "WHERE direction = 'in' AND id > ? ORDER BY id LIMIT ?", (last, PASS_CHUNK)).fetchall()
            if not rows:
                break
            last = rows[-1][0]
            with self.db.tx():
                for (mid, account, subject, new_text, body, kind, auto_kind, source, conv, sender, name,
                     in_reply_to, category) in rows:
                    if category == WARMUP and source == "user":
                        continue  # the user's own mark
                    ctx = contexts.get(account)
                    if ctx is None:
                        ctx = contexts[account] = noise(account)
                    reason = warmup_reason(ctx, subject, new_text, body)
                    if reason and kind != WARMUP:
                        self._set_kind(mid, source, WARMUP, WARMUP, [reason])
                        conn.execute("DELETE FROM pending_ops WHERE message = ? AND state = 'pending'", (mid,))
                        to_warmup += 1
                    elif not reason and (auto_kind or kind) == WARMUP:
                        pm = _stored_message(subject, new_text, body, sender, name, in_reply_to)
                        from app.mail.classify import classify  # the classifier loads only when it runs
                        c = classify(pm, context=ctx)
                        self._set_kind(mid, source, c.kind, c.category, c.reasons)
                        from_warmup += 1
                    else:
                        continue
                    convs.add(conv)
                done += len(rows)
            if progress is not None:
                progress(done, total)
        with self.db.tx():
            self.refresh_conversations(convs)
        return Reapplied(to_warmup, from_warmup, len(convs))

    def _set_kind(self, mid: int, source: str, kind: str, category: str, reasons: list[str]) -> None:
        """The classifier's new verdict; a user's label keeps its category."""
        if source == "classifier":
            self.db.conn.execute(
                "UPDATE messages SET kind = ?, auto_kind = ?, category = ?, auto_category = ?, reasons = ? "
                "WHERE id = ?", (kind, kind, category, category, json.dumps(reasons), mid))
        else:
            self.db.conn.execute(
                "UPDATE messages SET kind = ?, auto_kind = ?, auto_category = ?, reasons = ? WHERE id = ?",
                (kind, kind, category, json.dumps(reasons), mid))


def _stored_message(subject: str, new_text: str, body: str, sender: str, name: str,
                    in_reply_to: str | None) -> ParsedMessage:
    """What the store kept of a message, as the classifier reads it (no headers)."""
    quoted = body[len(new_text):] if body.startswith(new_text) else ""
    return ParsedMessage(
        message_id=None, in_reply_to=in_reply_to, references=[], subject=subject,
        from_=Address(name, sender) if sender else None, to=[], cc=[], reply_to=[], date=None,
        text=body, new_text=new_text, quoted_text=quoted.strip("\n"), snippet="", attachments=[],
        size=len(body), thread_key="")

