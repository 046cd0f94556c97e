"""Team triage: who a conversation is assigned to, and the history of who did what.

The history (table ``activity``) is written by triggers (schema ``V_TEAM``) with the user of the
connection that made the change (``Database.user``, from ``[general] user``): a label, an
assignment, a snooze, a note, a suppression or a reply is recorded whichever part of replydesk
made it, an undo included.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from app.store.base import StorePart
from app.store.db import Database

ACTIONS = ("label", "assign", "unassign", "snooze", "unsnooze", "note", "suppress", "reply")
PRESENCE_SECONDS = 30.0
"""A terminal whose heartbeat is older than this has closed or died: its presence is over."""
RECENT_REPLY_SECONDS = 600.0
"""Sending a reply when someone replied to the same conversation this recently asks first."""
ENGINE_USER = "replydesk"
"""Who the engine's own changes (automatic follow-ups, bounces, assignment rules) are recorded as."""


@dataclass(frozen=True)
class Activity:
    """One line of the team's history; ``counterpart`` and ``subject`` are its conversation's
    prospect and subject where they were asked for (the export)."""
    id: int
    at: float
    user: str
    action: str
    conversation: int | None
    detail: str
    waited: float | None
    counterpart: str = ""
    subject: str = ""


@dataclass(frozen=True)
class AssignRule:
    """A reply that matches every criterion given (None: any) goes to ``user`` when stored."""
    user: str
    mailbox: str | None = None
    """The id or the address of the mailbox it reached."""
    mailbox_domain: str | None = None
    category: str | None = None

    def matches(self, account: str, email: str, category: str) -> bool:
        return ((self.mailbox is None or self.mailbox.lower() in (account.lower(), email.lower()))
                and (self.mailbox_domain is None
                     or email.lower().rpartition("@")[2] == self.mailbox_domain.lower().lstrip("@"))
                and (self.category is None or self.category == category))


@dataclass(frozen=True)
class Presence:
    user: str
    conversation: int
    state: str
    """viewing or replying"""

    def text(self) -> str:
        return f"{self.user} is {self.state}"


@dataclass(frozen=True)
class UserActivity:
    user: str
    counts: dict[str, int]
    replies: int
    median_answer: float | None
    """Median seconds from a prospect's message to this user's reply."""


class ActivityMixin(StorePart):
    assign_rules: tuple[AssignRule, ...] = ()

    def set_assign_rules(self, rules: Iterable[AssignRule]) -> None:
        """The config's ``[[assign]]`` rules, applied to replies as they are stored."""
        self.assign_rules = tuple(rules)

    def assign_on_arrival(self, message_ids: Sequence[int]) -> None:
        """Give each new reply's conversation, if no one has it yet, to the first rule's user
        that matches it (runs in the transaction that stores the replies)."""
        if not self.assign_rules or not message_ids:
            return
        marks = ", ".join("?" for _ in message_ids)
        rows = self.db.conn.execute(
            f"SELECT m.conversation_id, m.account, coalesce(a.email, ''), m.category FROM messages m "
            f"JOIN conversations c ON c.id = m.conversation_id LEFT JOIN accounts a ON a.id = m.account "
            f"WHERE m.id IN ({marks}) AND m.direction = 'in' AND m.kind = 'reply' AND c.assigned_to IS NULL "
            f"ORDER BY m.id", list(message_ids)).fetchall()
        for conv, account, email, category in rows:
            rule = next((r for r in self.assign_rules if r.matches(account, email, category)), None)
            if rule is not None:
                self.db.conn.execute("UPDATE conversations SET assigned_to = ? WHERE id = ? AND assigned_to IS NULL",
                                     (rule.user, conv))

    @property
    def user(self) -> str:
        return self.db.user

    def set_user(self, user: str) -> None:
        """Who this connection's changes are recorded as from now on."""
        self.db.user = user

    def assign(self, conversations: Sequence[int], user: str | None) -> None:
        """Give conversations to ``user`` (None: unassigned)."""
        with self.db.tx() as conn:
            conn.executemany("UPDATE conversations SET assigned_to = ? WHERE id = ?",
                             [(user or None, c) for c in conversations])

    def assignee(self, conversation: int) -> str | None:
        row = self.db.conn.execute("SELECT assigned_to FROM conversations WHERE id = ?", (conversation,)).fetchone()
        return row[0] if row else None

    def known_users(self, team: Iterable[str] = ()) -> list[str]:
        """The team (from the config), everyone seen in the history or as an assignee, and this user."""
        seen = {r[0] for r in self.db.conn.execute('SELECT DISTINCT "user" FROM activity')}
        seen |= {r[0] for r in self.db.conn.execute(
            "SELECT DISTINCT assigned_to FROM conversations WHERE assigned_to IS NOT NULL")}
        seen |= set(team) | {self.user}
        seen.discard(ENGINE_USER)
        return sorted(u for u in seen if u)

    def activity(self, *, conversation: int | None = None, since: float | None = None,
                 user: str | None = None, limit: int | None = None) -> list[Activity]:
        """History rows, oldest first."""
        where, params = _activity_where("activity", conversation, since, user)
        sql = f'SELECT id, at, "user", action, conversation, detail, waited FROM activity WHERE {where} ORDER BY id'
        if limit is not None:
            sql = f"SELECT * FROM ({sql.replace('ORDER BY id', 'ORDER BY id DESC')} LIMIT ?) AS newest ORDER BY id"
            params.append(limit)
        return [Activity(*r) for r in self.db.conn.execute(sql, params)]

    def activity_rows(self, *, since: float | None = None, user: str | None = None) -> list[Activity]:
        """History rows with their conversation's prospect and subject, oldest first (export)."""
        where, params = _activity_where("a", None, since, user)
        sql = ('SELECT a.id, a.at, a."user", a.action, a.conversation, a.detail, a.waited, '
               "coalesce(c.counterpart, ''), coalesce(c.subject, '') "
               f"FROM activity a LEFT JOIN conversations c ON c.id = a.conversation WHERE {where} ORDER BY a.id")
        return [Activity(*r) for r in self.db.conn.execute(sql, params)]

    def activity_by_user(self, since: float | None = None) -> list[UserActivity]:
        """Per user: how many of each action, and the median time from a prospect's message to
        the user's reply (health screen)."""
        counts: dict[str, dict[str, int]] = {}
        for user, action, n in self.db.conn.execute(
                'SELECT "user", action, count(*) FROM activity WHERE at >= ? GROUP BY "user", action',
                (since or 0,)):
            counts.setdefault(user, {})[action] = n
        waits: dict[str, list[float]] = {}
        for user, waited in self.db.conn.execute(
                """SELECT "user", waited FROM activity WHERE action = 'reply' AND waited >= 0 AND at >= ?""",
                (since or 0,)):
            waits.setdefault(user, []).append(waited)
        return [UserActivity(u, c, c.get("reply", 0),
                             statistics.median(waits[u]) if waits.get(u) else None)
                for u, c in sorted(counts.items())]

    # -- presence -------------------------------------------------------------------------------

    def set_presence(self, terminal: str, conversation: int | None, state: str, at: float) -> None:
        """This terminal's heartbeat: the conversation it shows and whether a reply to it is
        being written (``conversation`` None: none open). Rows of dead terminals go too."""
        with self.db.tx() as conn:
            conn.execute("DELETE FROM presence WHERE heartbeat < ?", (at - PRESENCE_SECONDS,))
            if conversation is None:
                conn.execute("DELETE FROM presence WHERE terminal = ?", (terminal,))
            else:
                conn.execute('INSERT INTO presence (terminal, "user", conversation, state, heartbeat) '
                             'VALUES (?, ?, ?, ?, ?) ON CONFLICT (terminal) DO UPDATE SET "user" = excluded."user", '
                             "conversation = excluded.conversation, state = excluded.state, "
                             "heartbeat = excluded.heartbeat", (terminal, self.user, conversation, state, at))

    def presence(self, at: float, *, besides: str | None = None) -> dict[int, list[Presence]]:
        """Who is on which conversation, from heartbeats of the last ``PRESENCE_SECONDS``,
        leaving out the terminal ``besides`` (this one): replying before viewing."""
        out: dict[int, list[Presence]] = {}
        for user, conv, state in self.db.conn.execute(
                'SELECT "user", conversation, state FROM presence WHERE heartbeat >= ? AND terminal IS NOT ? '
                "ORDER BY state = 'replying' DESC, " '"user"', (at - PRESENCE_SECONDS, besides)):
            out.setdefault(conv, []).append(Presence(user, conv, state))
        return out

    def recent_replies(self, conversation: int, *, besides: int | None = None,
                       seconds: float = RECENT_REPLY_SECONDS) -> list[str]:
        """Who replied to ``conversation`` in the last ``seconds`` (the send guard): replies
        queued, sending or sent then, other than the outbox item ``besides`` (the one being sent)."""
        since = _db_now(self.db) - seconds
        others = self.db.conn.execute(
            "SELECT count(*) FROM outbox WHERE conversation_id = ? AND id IS NOT ? "
            "AND state IN ('queued', 'sending', 'sent', 'uncertain') AND coalesce(sent_at, updated_at) >= ?",
            (conversation, besides, since)).fetchone()[0]
        if not others:
            return []
        users = sorted({a.user for a in self.activity(conversation=conversation, since=since) if a.action == "reply"})
        return users or ["someone"]


def _db_now(db: Database) -> float:
    return float(db.conn.execute("SELECT (julianday('now') - 2440587.5) * 86400.0").fetchone()[0])


def _activity_where(table: str, conversation: int | None, since: float | None,
                    user: str | None) -> tuple[str, list[Any]]:
    """The history rows of one conversation, since a time, by one user (each optional), as a
    condition over ``table`` (the activity table or its alias)."""
    clauses, params = ["1 = 1"], []
    for column, value in (("conversation", conversation), ("at", since), ('"user"', user)):
        if value is not None:
            clauses.append(f"{table}.{column} {'>=' if column == 'at' else '='} ?")
            params.append(value)
    return " AND ".join(clauses), params
