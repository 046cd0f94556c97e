"""Figures for the health screen and the live-arrival notice: replies, bounces and sends per
account over a window, and the inbound messages stored since a given row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from app.store.base import StorePart
from app.store.rows import Arrival, columns


def bounce_warnings(stats: dict[str, int], threshold_percent: float) -> list[str]:
    """What is wrong with a mailbox's last week of sending, for the health screen and
    ``accounts list``: a bounce rate above ``threshold_percent`` of its sends, or complaints."""
    sent, bounces = stats.get("sent_7d", 0), stats.get("bounces_7d", 0)
    complaints = stats.get("complaints_7d", 0)
    problems = []
    if sent and 100 * bounces / sent > threshold_percent:
        problems.append(f"bounce rate {100 * bounces / sent:.1f}% ({bounces} of {sent} sent in 7 days) is above "
                        f"{threshold_percent:g}%: check the list's addresses before sending more from this mailbox")
    elif not sent and bounces:
        problems.append(f"{bounces} bounce(s) in 7 days and no sent mail synced from its Sent folder")
    if complaints:
        problems.append(f"{complaints} spam complaint(s) in 7 days: the complaining addresses are suppressed; "
                        "slow down and review this mailbox's copy")
    return problems


class StatsMixin(StorePart):

    def account_stats(self, today_start: float, week_start: float, *, threads: bool = True) -> dict[str, dict[str, int]]:
        """Per account: replies (not bounces, auto-answers or noise) received since ``today_start``; since ``week_start``, the
        messages sent (the account's Sent folder), the threads they went to, how many of those
        threads have a reply, and the bounces and abuse complaints received. ``threads=False``
        leaves the two thread counts at 0 (most of the cost: ``accounts list`` shows sends and bounces)."""
        conn = self.db.conn
        stats: dict[str, dict[str, int]] = {}

        def row(account: str) -> dict[str, int]:
            return stats.setdefault(account, {"replies_today": 0, "bounces_7d": 0, "complaints_7d": 0,
                                              "sent_7d": 0, "threads_7d": 0, "replied_7d": 0})

        # "+account" keeps SQLite on the received_at index (a range of days) rather than walking
        # the whole table in account order to group it
        for account, today, bounces, complaints in conn.execute(
                "SELECT +account, sum(kind = 'reply' AND received_at >= ?), sum(kind = 'bounce' AND received_at >= ?), "
                "sum(kind = 'complaint' AND received_at >= ?) "
                "FROM messages WHERE direction = 'in' AND received_at >= ? GROUP BY +account",
                (today_start, week_start, week_start, min(today_start, week_start))):
            row(account).update(replies_today=today or 0, bounces_7d=bounces or 0, complaints_7d=complaints or 0)
        counts = ("count(DISTINCT o.conversation_id), "
                  "count(DISTINCT CASE WHEN EXISTS (SELECT 1 FROM messages r WHERE r.conversation_id = o.conversation_id "
                  "AND r.direction = 'in' AND r.kind = 'reply') THEN o.conversation_id END)") if threads else "0, 0"
        for account, sent, to_threads, replied in conn.execute(
                f"SELECT +o.account, count(*), {counts} "
                "FROM messages o WHERE o.direction = 'out' AND o.received_at >= ? GROUP BY +o.account",
                (week_start,)):
            row(account).update(sent_7d=sent, threads_7d=to_threads, replied_7d=replied)
        return stats

    def newest_message_id(self) -> int:
        return int(self.db.conn.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()[0])

    def arrivals_since(self, message_id: int, upto: int, received_after: float, *,
                       skip_accounts: Sequence[str] = (), limit: int = 3) -> tuple[int, list[Arrival]]:
        """Replies (never noise, bounces or auto-answers) stored after row ``message_id`` up to row ``upto`` (read before, with
        ``newest_message_id``: a row committed meanwhile is left for the next call, neither lost
        nor told twice) and received after ``received_after`` (so a first sync of old mail is
        not announced), leaving out ``skip_accounts``: their count and the newest few, hot leads
        (interested, meeting) first."""
        where = "id > ? AND id <= ? AND direction = 'in' AND kind = 'reply' AND received_at >= ?"
        params: list[Any] = [message_id, upto, received_after]
        if skip_accounts:
            where += f" AND account NOT IN ({', '.join('?' for _ in skip_accounts)})"
            params += list(skip_accounts)
        count = self.db.conn.execute(f"SELECT count(*) FROM messages WHERE {where}", params).fetchone()[0]
        cols = columns(Arrival)
        newest = [cast(Arrival, dict(zip(cols, r))) for r in self.db.conn.execute(
            f"SELECT {', '.join(cols)} FROM messages WHERE {where} "
            # hot first: a CASE, so a row without a category sorts with the rest on both databases
            # (PostgreSQL sorts a NULL first where SQLite sorts it last)
            f"ORDER BY CASE WHEN category IN ('interested', 'meeting') THEN 1 ELSE 0 END DESC, id DESC LIMIT ?",
            [*params, limit])]
        return count, newest
