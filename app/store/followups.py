"""Follow-ups: snoozes, out-of-office returns, "no answer yet" waits, and notes.

Time is data: a conversation waiting for something has ``snoozed_until`` (when it comes back)
and ``snooze_reason`` (``snooze``, ``out_of_office`` or ``no_answer``); one we answered and
whose prospect has not written since has ``waiting_since``. Both keep it out of the Replies
view. The engine calls ``schedule_followups`` and ``wake_due`` with its clock (so a headless
``replydesk sync`` fires them, and tests drive the clock); the UI and ``replydesk due`` only
read. A conversation that came back carries ``woke_at`` and ``woke_reason``: it sorts by the
time it came back (``last_inbound_at`` is lifted to it) and shows in Replies, whatever its kind,
until the user archives it, answers it or snoozes it again.

Every time here is a Unix timestamp; the caller turns the user's words and time zone into one
(``app.when``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import cast

from app.store.rows import DueRow, FollowupState, WokenRow, columns
from app.store.triage import TriageMixin

SNOOZE_REASONS = ("snooze", "out_of_office", "no_answer")
WOKE_REASONS = {
    "snooze": "snooze ended",
    "out_of_office": "back from out of office",
    "no_answer": "no answer for {days} days",
    "new_reply": "new reply while snoozed",
}

CLOCK_SLACK = 300.0
"""Seconds a message may seem older than the snooze or the reply it answers and still count as
new: the server stamps its arrival (INTERNALDATE) to the second, on its own clock."""

AWAKE = "c.snoozed_until IS NULL AND c.waiting_since IS NULL"
"""The SQL condition of a conversation that is neither snoozed nor waiting for an answer."""
PENDING = "(c.snoozed_until IS NOT NULL OR c.waiting_since IS NOT NULL)"


class FollowupMixin(TriageMixin):
    """Snoozes and waits; a conversation that comes back is marked unread (``set_seen``)."""

    # -- what the user does --------------------------------------------------------------

    def snooze(self, conversations: Sequence[int], until: float, *, at: float) -> None:
        """Hide conversations until ``until``. One that waits for an answer keeps waiting (the
        snooze sets when "no answer" comes back); any other is a plain snooze."""
        with self.db.tx() as conn:
            for conv in conversations:
                conn.execute(
                    "UPDATE conversations SET snoozed_until = ?, snoozed_at = ?, woke_at = NULL, "
                    "woke_reason = NULL, snooze_reason = CASE WHEN waiting_since IS NOT NULL "
                    "THEN 'no_answer' ELSE 'snooze' END WHERE id = ?", (until, at, conv))
            self.refresh_conversations(conversations)

    def unsnooze(self, conversations: Sequence[int]) -> None:
        """Back to the inbox now, neither snoozed nor waiting."""
        with self.db.tx() as conn:
            for conv in conversations:
                conn.execute("UPDATE conversations SET snoozed_until = NULL, snooze_reason = NULL, "
                             "snoozed_at = NULL, waiting_since = NULL WHERE id = ?", (conv,))
            self.refresh_conversations(conversations)

    def set_note(self, conversation: int, text: str) -> None:
        """A private note on a conversation (empty to remove it). Never leaves this store."""
        with self.db.tx() as conn:
            conn.execute("UPDATE conversations SET note = ? WHERE id = ?", (text.strip()[:4000], conversation))

    def note(self, conversation: int) -> str:
        row = self.db.conn.execute("SELECT note FROM conversations WHERE id = ?", (conversation,)).fetchone()
        return row[0] if row else ""

    def start_waiting(self, conversation: int, since: float) -> None:
        """We answered: the conversation waits for the prospect (called in the sending transaction)."""
        self.db.conn.execute(
            "UPDATE conversations SET waiting_since = ?, woke_at = NULL, woke_reason = NULL, "
            "snoozed_until = CASE WHEN snooze_reason = 'snooze' THEN snoozed_until END, "
            "snooze_reason = CASE WHEN snooze_reason = 'snooze' THEN 'snooze' END WHERE id = ?",
            (since, conversation))
        self.refresh_conversation(conversation)

    def clear_woke(self, conversations: Iterable[int]) -> None:
        """The user dealt with a conversation that came back (archived it): the cue goes."""
        with self.db.tx() as conn:
            for conv in conversations:
                conn.execute("UPDATE conversations SET woke_at = NULL, woke_reason = NULL WHERE id = ?",
                             (conv,))
            self.refresh_conversations(conversations)

    # -- what arrives ----------------------------------------------------------------------

    def followups_on_arrival(self, message_ids: Iterable[int]) -> None:
        """A new message from the prospect wakes its conversation early and ends a wait. An
        automatic reply does not: an out-of-office one is scheduled by ``schedule_followups``.
        Call inside the storing transaction."""
        ids = list(message_ids)
        if not ids:
            return
        conn = self.db.conn
        marks = ",".join("?" * len(ids))
        rows = conn.execute(
            f"SELECT DISTINCT c.id, c.snoozed_until IS NOT NULL AND c.snooze_reason != 'no_answer' "
            f"FROM messages m JOIN conversations c ON c.id = m.conversation_id "
            f"WHERE m.id IN ({marks}) AND m.direction = 'in' AND m.kind NOT IN ('autoreply') "
            f"AND {PENDING} AND m.received_at >= coalesce(c.snoozed_at, c.waiting_since, 0) - ?",
            [*ids, CLOCK_SLACK]).fetchall()
        for conv, was_snoozed in rows:
            conn.execute(
                "UPDATE conversations SET snoozed_until = NULL, snooze_reason = NULL, snoozed_at = NULL, "
                "waiting_since = NULL, woke_at = NULL, woke_reason = ? WHERE id = ?",
                ("new_reply" if was_snoozed else None, conv))
        self.refresh_conversations(conv for conv, _ in rows)

    # -- what the engine does with its clock ---------------------------------------------------

    def schedule_followups(self, *, no_answer_after: Callable[[float], float] | None,
                           ooo_wake: Callable[[str], float | None] | None) -> int:
        """Give a wake time to what waits without one: a conversation we answered (``no_answer_after``
        maps the time of our reply to when "no answer" comes back; None: reminders off), and one
        whose latest message is an out-of-office reply with a return date (``ooo_wake`` maps the
        ISO date to the wake time; None: off). Returns how many were scheduled."""
        conn = self.db.conn
        count = 0
        with self.db.tx():
            if no_answer_after is not None:
                for conv, since in conn.execute(
                        "SELECT id, waiting_since FROM conversations WHERE waiting_since IS NOT NULL "
                        "AND snoozed_until IS NULL").fetchall():
                    # what arrives after our reply ends the wait: snoozed_at is the reply's time
                    conn.execute("UPDATE conversations SET snoozed_until = ?, snooze_reason = 'no_answer', "
                                 "snoozed_at = ? WHERE id = ?", (no_answer_after(since), since, conv))
                    count += 1
            if ooo_wake is not None:
                for conv, mid, until, received in conn.execute(
                        "SELECT c.id, m.id, m.ooo_until, m.received_at FROM conversations c JOIN messages m "
                        "ON m.id = c.last_inbound_id WHERE m.category = 'out_of_office' "
                        "AND m.ooo_until IS NOT NULL AND c.ooo_message IS NOT m.id AND c.archived = 0").fetchall():
                    wake = ooo_wake(until)
                    conn.execute("UPDATE conversations SET ooo_message = ? WHERE id = ?", (mid, conv))
                    if wake is None:
                        continue
                    conn.execute(
                        "UPDATE conversations SET snoozed_until = ?, snooze_reason = 'out_of_office', "
                        "snoozed_at = ?, waiting_since = NULL, woke_at = NULL, woke_reason = NULL "
                        "WHERE id = ?", (wake, received, conv))
                    self.refresh_conversation(conv)
                    count += 1
        return count

    def wake_due(self, t: float) -> list[int]:
        """Bring back every conversation whose time has come: unread, at the top of Replies, with
        why. Returns the conversations woken."""
        conn = self.db.conn
        with self.db.tx():
            due = conn.execute("SELECT id, snooze_reason FROM conversations WHERE snoozed_until IS NOT NULL "
                               "AND snoozed_until <= ? ORDER BY snoozed_until", (t,)).fetchall()
            for conv, reason in due:
                conn.execute(
                    "UPDATE conversations SET snoozed_until = NULL, snooze_reason = NULL, snoozed_at = NULL, "
                    "waiting_since = NULL, woke_at = ?, woke_reason = ? WHERE id = ?",
                    (t, reason or "snooze", conv))
            self.refresh_conversations(conv for conv, _ in due)
            if due:
                self.set_seen([conv for conv, _ in due], False, log=False)
        return [conv for conv, _ in due]

    def woken_after(self, woke_at: float) -> tuple[float, list[WokenRow]]:
        """Conversations that came back after ``woke_at`` (a value this returned before: the
        clock of whoever woke them, compared with itself), newest first, and the new mark."""
        cols = columns(WokenRow)
        rows = [cast(WokenRow, dict(zip(cols, r))) for r in self.db.conn.execute(
            f"SELECT {', '.join(cols)} FROM conversations WHERE woke_at > ? ORDER BY woke_at DESC LIMIT 50",
            (woke_at,))]
        return (rows[0]["woke_at"] if rows else woke_at), rows

    def next_wake(self) -> float | None:
        row = self.db.conn.execute("SELECT min(snoozed_until) FROM conversations").fetchone()
        return row[0] if row else None

    # -- what the UI and `replydesk due` read ---------------------------------------------------

    def due(self) -> list[DueRow]:
        """What is snoozed or waiting, soonest first (waits not yet scheduled last)."""
        cols = columns(DueRow)
        sql = (f"SELECT {', '.join('c.' + c for c in cols)} FROM conversations c WHERE {PENDING} "
               "AND c.archived = 0 ORDER BY c.snoozed_until IS NULL, c.snoozed_until, c.id")
        return [cast(DueRow, dict(zip(cols, r))) for r in self.db.conn.execute(sql)]

    def followup_state(self, conversation: int) -> FollowupState | None:
        cols = columns(FollowupState)
        row = self.db.conn.execute(f"SELECT {', '.join(cols)} FROM conversations WHERE id = ?",
                                   (conversation,)).fetchone()
        return cast(FollowupState, dict(zip(cols, row))) if row else None


def woke_text(reason: str | None, follow_up_days: int) -> str:
    """Why a conversation came back, for the row and the thread."""
    if not reason:
        return ""
    return WOKE_REASONS.get(reason, reason).format(days=follow_up_days)
