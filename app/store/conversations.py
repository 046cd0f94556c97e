"""A conversation's summary (subject, counterpart, counts, latest reply) recomputed from its
messages: every part that changes messages calls ``refresh_conversations`` (or, for one,
``refresh_conversation``) after. A conversation made for new rows is written with its summary
already (``new_summary``), read off the rows as ``_SUMMARIES`` reads them off the table."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from app.store.base import StorePart

_SUMMARIES = (
    "SELECT s.conversation_id, s.n, s.inbound, s.unread, s.last_at, s.last_inbound_at, s.inbound_archived, "
    "m.id, m.subject, m.from_addr, m.from_name, m.snippet, m.kind, m.category, m.to_addrs FROM ("
    "SELECT conversation_id, count(*) AS n, sum(direction = 'in') AS inbound, "
    "sum(direction = 'in' AND seen = 0 AND archived = 0) AS unread, max(received_at) AS last_at, "
    "max(CASE WHEN direction = 'in' THEN received_at END) AS last_inbound_at, "
    "min(CASE WHEN direction = 'in' THEN archived END) AS inbound_archived "
    "FROM messages WHERE conversation_id IN (SELECT value FROM json_each(?)) GROUP BY conversation_id) AS s "
    "JOIN messages m ON m.id = (SELECT l.id FROM messages l WHERE l.conversation_id = s.conversation_id "
    "ORDER BY l.direction = 'in' DESC, l.received_at DESC, l.id DESC LIMIT 1)")
"""Each conversation's counts and its latest message (the latest inbound one where it has one),
for a set of conversations in one statement; only the latest message's text columns are read."""

_UPDATE = (
    "UPDATE conversations SET subject = ?, counterpart = ?, counterpart_name = ?, snippet = ?, "
    "kind = ?, category = ?, last_message_at = ?, "
    # a conversation that came back from a snooze or a wait sorts by the time it did
    "last_inbound_at = CASE WHEN ? IS NULL THEN NULL ELSE max(?, coalesce(woke_at, 0)) END, "
    "last_inbound_id = ?, message_count = ?, inbound_count = ?, unread_count = ?, archived = ? "
    "WHERE id = ?")


SUMMARY_COLUMNS = ("subject", "counterpart", "counterpart_name", "snippet", "kind", "category",
                   "last_message_at", "last_inbound_at", "message_count", "inbound_count", "unread_count",
                   "archived")
"""What ``new_summary`` gives, in its order: every column of the summary but ``last_inbound_id``
(the id of a row not inserted yet)."""
BLANK_SUMMARY: tuple[object, ...] = ("", "", "", "", None, None, None, None, 0, 0, 0, 0)
"""The summary of a conversation without messages: the columns' defaults."""
_ROW_COLUMNS = frozenset(("direction", "received_at", "seen", "subject", "from_addr", "from_name", "snippet",
                          "kind", "category", "to_addrs"))


def new_summary(rows: Sequence[Mapping[str, Any]]) -> tuple[tuple[object, ...], int | None] | None:
    """The summary of a new conversation whose messages are ``rows`` (in the order they are
    inserted, ids rising), in ``SUMMARY_COLUMNS``' order, and the index in ``rows`` of the one
    whose id is ``last_inbound_id`` (None without an inbound one). None where a row leaves a column
    the summary reads to the table's default (a message without a category): that conversation is
    refreshed from the table instead. (One pass over the rows: a first sync makes one for nearly
    every message it stores.)"""
    if not rows:
        return None
    # the latest message, the latest inbound one where there is one (``_SUMMARIES``' ORDER BY)
    latest, order = 0, None
    last_at = last_inbound_at = None
    inbound = unread = 0
    all_archived = True
    for i, row in enumerate(rows):
        if not _ROW_COLUMNS <= row.keys():
            return None
        received = row["received_at"]
        is_in = row["direction"] == "in"
        if order is None or (is_in, received, i) > order:
            latest, order = i, (is_in, received, i)
        if last_at is None or received > last_at:
            last_at = received
        if is_in:
            inbound += 1
            if last_inbound_at is None or received > last_inbound_at:
                last_inbound_at = received
            archived = row.get("archived", 0)
            unread += not row["seen"] and not archived
            all_archived = all_archived and archived > 0
    row = rows[latest]
    if inbound:
        counterpart, name = row["from_addr"], row["from_name"]
    else:
        to = json.loads(row["to_addrs"])
        counterpart, name = (to[0] if to else ""), ""
    return ((row["subject"], counterpart, name, row["snippet"],
             row["kind"] if inbound else None, row["category"] if inbound else None,
             last_at, last_inbound_at, len(rows), inbound, unread, int(inbound > 0 and all_archived)),
            latest if inbound else None)


class ConversationsMixin(StorePart):
    def refresh_conversation(self, conv: int) -> None:
        """Recompute a conversation's summary from its messages."""
        self.refresh_conversations([conv])

    def refresh_conversations(self, convs: Iterable[int | None]) -> None:
        """Recompute the summaries of conversations from their messages, in a fixed number of
        statements however many they are; a conversation left without messages goes."""
        wanted = sorted({c for c in convs if c is not None})
        if not wanted:
            return
        conn = self.db.conn
        found = conn.execute(_SUMMARIES, (json.dumps(wanted),)).fetchall()
        updates = []
        for (conv, n, inbound, unread, last_at, last_inbound_at, archived,
             latest, subject, from_addr, from_name, snippet, kind, category, to_addrs) in found:
            if inbound:
                counterpart, name = from_addr, from_name
            else:
                to = json.loads(to_addrs or "[]")
                counterpart, name = (to[0] if to else ""), ""
            updates.append((subject, counterpart, name, snippet, kind if inbound else None,
                            category if inbound else None, last_at, last_inbound_at, last_inbound_at,
                            latest if inbound else None, n, inbound or 0, unread or 0, int(bool(archived)), conv))
        if updates:
            conn.executemany(_UPDATE, updates)
        gone = set(wanted) - {row[0] for row in found}
        if gone:
            conn.execute("DELETE FROM conversations WHERE id IN (SELECT value FROM json_each(?))",
                         (json.dumps(sorted(gone)),))
