"""A conversation's summary (subject, counterpart, counts, latest reply) recomputed from its
messages: every part that changes messages calls ``refresh_conversation`` after."""

from __future__ import annotations

import json

from app.store.base import StorePart


class ConversationsMixin(StorePart):
    def refresh_conversation(self, conv: int) -> None:
        """Recompute a conversation's summary from its messages."""
        conn = self.db.conn
        stats = conn.execute(
            "SELECT count(*), sum(direction = 'in'), sum(direction = 'in' AND seen = 0 AND archived = 0), "
            "max(received_at), max(CASE WHEN direction = 'in' THEN received_at END), "
            "min(CASE WHEN direction = 'in' THEN archived END) FROM messages WHERE conversation_id = ?",
            (conv,)).fetchone()
        if not stats[0]:
            conn.execute("DELETE FROM conversations WHERE id = ?", (conv,))
            return
        latest = conn.execute(
            "SELECT id, subject, from_addr, from_name, snippet, kind, category, to_addrs FROM messages "
            "WHERE conversation_id = ? ORDER BY direction = 'in' DESC, received_at DESC, id DESC LIMIT 1",
            (conv,)).fetchone()
        inbound = latest and stats[1]
        if inbound:
            counterpart, name = latest[2], latest[3]
        else:
            to = json.loads(latest[7] or "[]")
            counterpart, name = (to[0] if to else ""), ""
        # a conversation that came back from a snooze or a wait sorts by the time it did
        conn.execute(
            "UPDATE conversations SET subject = ?, counterpart = ?, counterpart_name = ?, snippet = ?, "
            "kind = ?, category = ?, last_message_at = ?, "
            "last_inbound_at = CASE WHEN ? IS NULL THEN NULL ELSE max(?, coalesce(woke_at, 0)) END, "
            "last_inbound_id = ?, message_count = ?, inbound_count = ?, unread_count = ?, archived = ? "
            "WHERE id = ?",
            (latest[1], counterpart, name, latest[4], latest[5] if inbound else None,
             latest[6] if inbound else None, stats[3], stats[4], stats[4], latest[0] if inbound else None,
             stats[0], stats[1] or 0, stats[2] or 0, int(bool(stats[5])), conv))
