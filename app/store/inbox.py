"""Read queries for the unified inbox: filtered, searched, keyset-paged conversations, and
the flat message list the CLI prints."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

from app.mail.noise import NOISE_KINDS
from app.store.base import StorePart
from app.store.dialect import SQLITE, Dialect
from app.store.followups import AWAKE, PENDING
from app.store.rows import ConversationRow, Lead, ListedMessage, MessageRow, columns

NOISE_SQL = ", ".join(f"'{k}'" for k in NOISE_KINDS)
VIEW_CLAUSES = {
    "replies": f"c.archived = 0 AND (c.kind = 'reply' OR (c.woke_reason IS NOT NULL AND "
                f"coalesce(c.kind, '') NOT IN ({NOISE_SQL}))) AND {AWAKE}",
    "bounces": f"c.archived = 0 AND c.kind IN ('bounce', 'complaint') AND {AWAKE}",
    "auto": f"c.archived = 0 AND c.kind = 'autoreply' AND c.woke_reason IS NULL AND {AWAKE}",
    "snoozed": f"c.archived = 0 AND {PENDING}",
    "archived": "c.archived = 1",
    "all": "1 = 1",
    "noise": f"c.archived = 0 AND c.kind IN ({NOISE_SQL})",
    # team triage: replydesk_user() is the connection's user (app/store/db.py)
    "mine": "c.archived = 0 AND c.assigned_to IS NOT NULL AND c.assigned_to = replydesk_user()",
    "unassigned": f"c.archived = 0 AND c.assigned_to IS NULL AND (c.kind = 'reply' OR (c.woke_reason IS NOT NULL "
                  f"AND coalesce(c.kind, '') NOT IN ({NOISE_SQL}))) AND {AWAKE}",
}
"""What each view shows: ``replies``, people's replies and whatever came back from a snooze or a
wait (the default; never noise); ``bounces`` (abuse complaints too) and ``auto``, set aside; ``snoozed``, what is snoozed
or waits for an answer; ``archived``; ``all``; ``noise``, warmup, internal and bulk mail with the
reason. Snoozed and waiting conversations are out of the first three until they come back.
``mine``: assigned to this connection's user (snoozed ones too); ``unassigned``: the replies no
one has taken."""
VIEWS = tuple(VIEW_CLAUSES)


@dataclass(frozen=True)
class InboxFilter:
    view: str = "replies"
    category: str | None = None
    account: str | None = None
    unread: bool = False
    search: str | None = None
    sort: str = "newest"

    def with_(self, **changes: Any) -> InboxFilter:
        return replace(self, **changes)


def _where(f: InboxFilter, dialect: Dialect = SQLITE, broad: bool = False,
           hits: list[int] | None = None) -> tuple[str, list[Any]]:
    """The SQL condition of the filter over ``conversations c``. A search matches its words in the
    full-text index; ``hits``, the matching message rows found already (a narrow search), spares
    a second look in the index."""
    clauses = ["c.last_inbound_at IS NOT NULL"]
    params: list[Any] = []
    clauses.append(VIEW_CLAUSES.get(f.view, "c.archived = 0"))
    if f.category:
        clauses.append("c.category = ?")
        params.append(f.category)
    if f.account:
        clauses.append("c.account = ?")
        params.append(f.account)
    if f.unread:
        clauses.append("c.unread_count > 0")
    if f.search:
        q = dialect.search_query(f.search)
        if q:
            # the messages' text, and the user's own note on the conversation.
            # A narrow search looks its few hits up by id: one IN over a union (an OR beside it
            # would make SQLite read every conversation). A broad one walks the list in its order
            # and stops at the page: each conversation's messages are looked up in the set of
            # matching rows, built once, instead of finding the conversation of every hit first
            # (a million lookups for a common word in a million messages).
            if broad:
                clauses.append("(EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.id IN "
                               f"({dialect.search_hits})) "
                               "OR (c.note != '' AND c.note LIKE ? ESCAPE '\\'))")
            else:
                found = (f"({dialect.search_hits})" if hits is None
                         else "(SELECT value FROM json_each(?))")
                clauses.append(f"c.id IN (SELECT m.conversation_id FROM messages m WHERE m.id IN {found} "
                               "UNION SELECT n.id FROM conversations n WHERE n.note != '' "
                               "AND n.note LIKE ? ESCAPE '\\')")
            like = f.search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params += [q if broad or hits is None else json.dumps(hits), f"%{like}%"]
        else:
            clauses.append("1 = 0")
    return " AND ".join(clauses), params


CONVERSATION_COLUMNS = columns(ConversationRow)
MESSAGE_SELECT = "SELECT " + ", ".join(columns(MessageRow)) + " FROM messages"
_COMPUTED = {
    # the latest inbound message's first reason: why a row is noise, shown in the Noise view
    "reason": "(SELECT json_extract(m.reasons, '$[0]') FROM messages m WHERE m.id = c.last_inbound_id)",
    # what a row marks: the latest reply answered (its \Answered flag, or ours came after it), the
    # out-of-office return date, how many attachments it carries
    "answered": "(CASE WHEN (SELECT m.answered FROM messages m WHERE m.id = c.last_inbound_id) = 1"
                " OR c.last_message_at > c.last_inbound_at THEN 1 ELSE 0 END)",
    "ooo_until": "(SELECT m.ooo_until FROM messages m WHERE m.id = c.last_inbound_id)",
    "attachments": "(SELECT json_array_length(m.attachments) FROM messages m WHERE m.id = c.last_inbound_id)",
    # a reply of ours that did not go: failed or uncertain first, else a draft (the outbox_state
    # index keeps this to the few such items)
    "outbox_state": "(SELECT o.state FROM outbox o WHERE o.state IN ('failed', 'uncertain', 'draft')"
                    " AND o.conversation_id = c.id ORDER BY o.state = 'draft' LIMIT 1)",
}
_SELECT = ("SELECT " + ", ".join(_COMPUTED.get(c, f"c.{c}") for c in CONVERSATION_COLUMNS)
           + " FROM conversations c")


@dataclass(frozen=True)
class Sort:
    """One order of the list: its columns, each newest- (descending) or A-first (ascending), ``id``
    last so no two rows tie. Keyset paging walks any of them from a row in constant time."""
    name: str
    label: str
    keys: tuple[tuple[str, bool], ...]
    """(column of ``conversations``, descending)"""

    def order(self, reverse: bool = False) -> str:
        return " ORDER BY " + ", ".join(f"c.{col}{'' if desc == reverse else ' DESC'}" for col, desc in self.keys)

    def beyond(self, row: ConversationRow, before: bool = False) -> list[tuple[str, list[Any]]]:
        """The rows after ``row`` in this order (or before it), as conditions each an index reads
        as one range, in list order: a row value over the trailing columns that share a
        direction, and one condition per leading column before them (for ``mailbox``: the rest
        of this mailbox, then the mailboxes after it)."""
        values = cast(Mapping[str, Any], row)
        keys = self.keys
        # the first column from which every remaining one has the same direction
        same_from = len(keys) - 1
        while same_from > 0 and keys[same_from - 1][1] == keys[-1][1]:
            same_from -= 1
        out: list[tuple[str, list[Any]]] = []
        for i in range(same_from + 1):
            cols = keys[i:] if i == same_from else keys[i:i + 1]
            op = ">" if cols[0][1] == before else "<"
            cond = f"({', '.join('c.' + c for c, _ in cols)}) {op} ({', '.join('?' * len(cols))})"
            prefix = [f"c.{c} = ?" for c, _ in keys[:i]]
            out.append((" AND ".join([*prefix, cond]), [values[c] for c, _ in keys[:i]] + [values[c] for c, _ in cols]))
        out.reverse()
        return out


SORTS = {s.name: s for s in (
    Sort("newest", "newest first", (("last_inbound_at", True), ("id", True))),
    Sort("oldest", "oldest first", (("last_inbound_at", False), ("id", False))),
    Sort("mailbox", "by mailbox, newest first", (("account", False), ("last_inbound_at", True), ("id", True))),
)}
"""The list's orders: ``newest`` (the default), ``oldest``, ``mailbox`` (by the receiving
mailbox, newest first within it)."""


MESSAGE_SORTS = {"newest": " ORDER BY m.received_at DESC, m.id DESC",
                 "oldest": " ORDER BY m.received_at, m.id",
                 "mailbox": " ORDER BY m.account, m.received_at DESC, m.id DESC"}
"""The orders of ``replydesk list`` (messages, not conversations), as ``SORTS``."""


def sort_of(f: InboxFilter) -> Sort:
    return SORTS.get(f.sort, SORTS["newest"])


def _any(conditions: list[tuple[str, list[Any]]]) -> tuple[str, list[Any]]:
    """``Sort.beyond``'s conditions as one: a row that meets any of them."""
    return "(" + " OR ".join(f"({cond})" for cond, _ in conditions) + ")", [v for _, values in conditions for v in values]


TALLY = ("(SELECT n, account, nullif(category, '') AS category, nullif(kind, '') AS kind, archived, "
         "unread AS unread_count, CASE WHEN woke <> 0 THEN 1 END AS woke_reason, "
         "CASE WHEN pending <> 0 THEN 1 END AS snoozed_until, NULL AS waiting_since, "
         "CASE WHEN assigned <> 0 THEN assignee END AS assigned_to, 1 AS last_inbound_at "
         "FROM conversation_counts) c")
"""The counts the triggers keep (schema ``V_COUNTS``), shaped as the conversations the view
clauses test: the same ``WHERE`` over it sums what a ``count(*)`` over the conversations would
find, in a few rows per mailbox instead of one per conversation. A search cannot be tallied."""

BROAD_HITS = 60_000
"""A search with at least this many matching messages is broad (see ``_where``): finding the
conversation of each hit costs more than walking the list until a page is full."""
SEARCH_CAP = 10_000
"""A search lists at most this many conversations at once, and says when there are more."""


class InboxMixin(StorePart):

    def _where(self, f: InboxFilter) -> tuple[str, list[Any]]:
        dialect = self.db.dialect
        if f.search and (q := dialect.search_query(f.search)):
            # the hits themselves, not their count: a narrow search then uses them as they are
            # (matching words that are common together costs as much as the rest of the query)
            hits = [r[0] for r in self.db.conn.execute(f"{dialect.search_hits} LIMIT ?", (q, BROAD_HITS))]
            if len(hits) >= BROAD_HITS:
                return _where(f, dialect, broad=True)
            return _where(f, dialect, hits=hits)
        return _where(f, dialect)

    def _rows(self, sql: str, params: list[Any]) -> list[ConversationRow]:
        return [cast(ConversationRow, dict(zip(CONVERSATION_COLUMNS, r))) for r in self.db.conn.execute(sql, params)]

    def count_conversations(self, f: InboxFilter) -> int:
        where, params = self._where(f)
        source = "conversations c" if f.search else TALLY
        return int(self.db.conn.execute(f"SELECT {'count(*)' if f.search else 'coalesce(sum(c.n), 0)'} "
                                        f"FROM {source} WHERE {where}", params).fetchone()[0])

    def conversation_ids(self, f: InboxFilter) -> list[int]:
        """Every conversation the filter lists (select all in a view)."""
        where, params = self._where(f)
        return [r[0] for r in self.db.conn.execute(f"SELECT c.id FROM conversations c WHERE {where}", params)]

    def listed_among(self, f: InboxFilter, ids: Collection[int]) -> set[int]:
        """Which of ``ids`` the filter still lists, in one query: a selection (every conversation
        of a big view, marked with ``*``) is kept through a refresh without a lookup per row."""
        if not ids:
            return set()
        where, params = self._where(f)
        return {r[0] for r in self.db.conn.execute(
            f"SELECT c.id FROM conversations c WHERE c.id IN (SELECT value FROM json_each(?)) AND {where}",
            [json.dumps(list(ids)), *params])}

    def search_ids(self, f: InboxFilter, cap: int = SEARCH_CAP) -> list[int]:
        """The conversations a search lists, in the list's order: at most ``cap`` + 1 (one more
        than ``cap`` says there are more). One pass gives the first page and the total (or
        "10,000+") of a search over a million messages, where counting every hit would not."""
        where, params = self._where(f)
        return [r[0] for r in self.db.conn.execute(
            f"SELECT c.id FROM conversations c WHERE {where}{sort_of(f).order()} LIMIT ?", [*params, cap + 1])]

    def conversations_by_id(self, ids: Sequence[int]) -> list[ConversationRow]:
        """These conversations, in this order (those gone since are left out)."""
        rows = {r["id"]: r for r in self._rows(
            f"{_SELECT} WHERE c.id IN (SELECT value FROM json_each(?))", [json.dumps(list(ids))])}
        return [rows[i] for i in ids if i in rows]

    def conversations_at(self, f: InboxFilter, offset: int, limit: int, *,
                         from_end: bool = False) -> list[ConversationRow]:
        """A page by position (for jumps: top, bottom, a scrollbar drag). ``from_end``: ``offset``
        counts from the last row (the page still in the list's order), so a jump to the bottom
        of a million conversations skips a few rows, not all of them."""
        where, params = self._where(f)
        if from_end:
            rows = self._rows(f"{_SELECT} WHERE {where}{sort_of(f).order(reverse=True)} LIMIT ? OFFSET ?",
                              [*params, limit, offset])
            return rows[::-1]
        return self._rows(f"{_SELECT} WHERE {where}{sort_of(f).order()} LIMIT ? OFFSET ?", [*params, limit, offset])

    def conversations_after(self, f: InboxFilter, last: ConversationRow, limit: int) -> list[ConversationRow]:
        """The page after a row (keyset paging: constant time however deep, in every order)."""
        where, params = self._where(f)
        sort = sort_of(f)
        rows: list[ConversationRow] = []
        for cond, values in sort.beyond(last):
            rows += self._rows(f"{_SELECT} WHERE {where} AND {cond}{sort.order()} LIMIT ?",
                               [*params, *values, limit - len(rows)])
            if len(rows) >= limit:
                break
        return rows

    def position_of(self, f: InboxFilter, conv_id: int,
                    near: tuple[int, ConversationRow] | None = None) -> int | None:
        """Index of a conversation in the filtered list, to keep the cursor on it after a refresh.
        ``near``: a listed row and its index; only the rows between the two are counted then, not
        every row above (a mark deep in a million conversations)."""
        where, params = self._where(f)
        found = self._rows(f"{_SELECT} WHERE {where} AND c.id = ?", [*params, conv_id])
        if not found:
            return None
        sort = sort_of(f)
        if near is None:
            ahead, values = _any(sort.beyond(found[0], before=True))
            return int(self.db.conn.execute(f"SELECT count(*) FROM conversations c WHERE {where} AND {ahead}",
                                            [*params, *values]).fetchone()[0])
        index, anchor = near
        if anchor["id"] == conv_id:
            return index
        after_anchor, after_values = _any(sort.beyond(anchor))
        below = self.db.conn.execute(f"SELECT 1 FROM conversations c WHERE c.id = ? AND {after_anchor}",
                                     [conv_id, *after_values]).fetchone() is not None
        first, first_values = (after_anchor, after_values) if below else _any(sort.beyond(anchor, before=True))
        second, second_values = _any(sort.beyond(found[0], before=below))
        between = int(self.db.conn.execute(
            f"SELECT count(*) FROM conversations c WHERE {where} AND {first} AND {second}",
            [*params, *first_values, *second_values]).fetchone()[0])
        return index + 1 + between if below else index - 1 - between

    def category_counts(self, f: InboxFilter) -> dict[str, int]:
        """Conversations per category under the filter's other criteria."""
        where, params = self._where(f.with_(category=None))
        if f.search:  # the words decide: no tally has them
            return dict(self.db.conn.execute(
                f"SELECT coalesce(nullif(c.category, ''), 'uncategorized') AS cat, count(*) "
                f"FROM conversations c WHERE {where} GROUP BY cat", params).fetchall())
        return dict(self.db.conn.execute(
            f"SELECT coalesce(nullif(c.category, ''), 'uncategorized') AS cat, sum(c.n) "
            f"FROM {TALLY} WHERE {where} GROUP BY cat HAVING sum(c.n) > 0", params).fetchall())

    def view_counts(self) -> dict[str, int]:
        """Conversations in each view, from the tally the triggers keep."""
        sums = ", ".join(f"coalesce(sum(CASE WHEN {clause} THEN c.n END), 0)" for clause in VIEW_CLAUSES.values())
        row = self.db.conn.execute(f"SELECT {sums} FROM {TALLY}").fetchone()
        return dict(zip(VIEWS, row))

    def conversation(self, conv_id: int) -> ConversationRow | None:
        rows = self._rows(f"{_SELECT} WHERE c.id = ?", [conv_id])
        return rows[0] if rows else None

    def conversation_messages(self, conv_id: int) -> list[MessageRow]:
        """Every message of a thread, oldest first, ours from Sent included."""
        return [_decode(r) for r in self.db.query(
            f"{MESSAGE_SELECT} WHERE conversation_id = ? ORDER BY coalesce(sent_at, received_at), id",
            [conv_id])]

    def message(self, message_row: int) -> MessageRow | None:
        rows = list(self.db.query(f"{MESSAGE_SELECT} WHERE id = ?", [message_row]))
        return _decode(rows[0]) if rows else None

    def find_message(self, ref: str) -> MessageRow | None:
        """By the row id ``list --json`` prints or by the Message-ID header (brackets optional)."""
        ref = ref.strip()
        if ref.isdigit():
            return self.message(int(ref))
        mid = ref if ref.startswith("<") else f"<{ref}>"
        rows = list(self.db.query(
            f"{MESSAGE_SELECT} WHERE message_id IN (?, ?) ORDER BY direction = 'in' DESC, id DESC LIMIT 1",
            [mid, ref]))
        return _decode(rows[0]) if rows else None

    def leads(self, categories: Sequence[str], account: str | None = None) -> list[Lead]:
        """One row per conversation whose latest reply is in ``categories``, newest first: who to
        follow up (``export leads``), with what they wrote, where it came in, a referral or a
        return date, and whether we answered."""
        marks = ", ".join("?" * len(categories))
        params: list[Any] = list(categories)
        where = f"c.category IN ({marks}) AND c.last_inbound_id IS NOT NULL AND c.kind NOT IN ({NOISE_SQL})"
        if account:
            where += " AND c.account = ?"
            params.append(account)
        sql = ("SELECT m.from_addr, m.from_name, c.category, m.category_source, m.received_at, "
               "coalesce(a.email, c.account), m.subject, m.new_text, m.referral, m.ooo_until, m.message_id, "
               "CASE WHEN EXISTS (SELECT 1 FROM messages o WHERE o.conversation_id = c.id AND o.direction = 'out' "
               "AND o.received_at > m.received_at) OR m.answered = 1 THEN 1 ELSE 0 END, c.note "
               "FROM conversations c JOIN messages m ON m.id = c.last_inbound_id "
               "LEFT JOIN accounts a ON a.id = c.account WHERE " + where +
               " ORDER BY c.last_inbound_at DESC, c.id DESC")
        cols = columns(Lead)
        return [cast(Lead, dict(zip(cols, r))) for r in self.db.conn.execute(sql, params)]

    def list_messages(self, *, limit: int | None = None, account: str | None = None,
                      category: str | None = None, unread: bool = False, kind: str | None = None,
                      sort: str = "newest") -> list[ListedMessage]:
        """The unified inbox as messages, newest first (``replydesk list``), or in another of
        ``MESSAGE_SORTS``; ``kind``: only replies, bounces, auto-replies, warmup, internal or bulk mail."""
        clauses = ["m.direction = 'in'"]
        params: list[Any] = []
        if kind:
            clauses.append("m.kind = ?")
            params.append(kind)
        if account:
            clauses.append("m.account = ?")
            params.append(account)
        if category:
            clauses.append("m.category = ?")
            params.append(category)
        if unread:
            clauses.append("m.seen = 0")
        sql = ("SELECT m.id, m.account, m.folder, m.uid, m.message_id, m.from_addr, m.from_name, m.subject, "
               "m.sent_at, m.received_at, m.kind, m.category, m.category_source, m.seen, m.answered, "
               "m.archived, m.snippet, m.conversation_id, json_extract(m.reasons, '$[0]') FROM messages m WHERE " + " AND ".join(clauses) +
               MESSAGE_SORTS[sort])
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        cols = columns(ListedMessage)
        return [cast(ListedMessage, dict(zip(cols, r))) for r in self.db.conn.execute(sql, params)]


_JSON_COLUMNS = ("refs", "to_addrs", "cc_addrs", "reply_to", "reasons", "bounce_recipients", "attachments",
                 "defects")


def _decode(row: dict[str, Any]) -> MessageRow:
    """A message row read with ``MESSAGE_SELECT``, its JSON columns decoded."""
    for col in _JSON_COLUMNS:
        if isinstance(row[col], str):
            row[col] = json.loads(row[col])
    return cast(MessageRow, row)
