"""The suppression list and what feeds it: hard bounces and complaints at once, soft bounces
once the same address failed often enough in a short time, unsubscribe requests; and the
Sent-folder lookups that confirm which address a bounce is about."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypedDict

from app.store.base import StorePart
from app.store.db import now
from app.store.rows import BounceRecipientRow

DAY = 86400.0


@dataclass(frozen=True)
class BouncePolicy:
    soft_limit: int = 3
    """Soft bounces of one address within ``soft_days`` that put it on the list as if hard."""
    soft_days: float = 14


class Suppression(TypedDict):
    address: str
    reason: str
    """Why it is on the list: ``hard_bounce``, ``soft_bounce_repeated``, ``complaint``,
    ``unsubscribe`` or ``do_not_contact``."""
    bounce_reason: str | None
    """For bounces and complaints, the failure's reason (``user_unknown``, ``host_unknown`` …)."""
    hard: bool | None
    count: int
    first_seen: float | None
    last_seen: float | None
    mailbox: str | None
    detail: str
    source_message: int | None
    created_at: float


class BouncesMixin(StorePart):
    bounce_policy: BouncePolicy = BouncePolicy()

    def set_bounce_policy(self, policy: BouncePolicy) -> None:
        self.bounce_policy = policy

    def suppress(self, address: str, reason: str, source_message: int | None = None,
                 detail: str = "", *, mailbox: str | None = None) -> None:
        """Put ``address`` on the list (kept as it is if it is there already); ``mailbox``, the
        account of ``source_message`` where the caller has it already."""
        if not address:
            return
        with self.db.tx() as conn:
            if mailbox is None and source_message is not None:
                row = conn.execute("SELECT account FROM messages WHERE id = ?", (source_message,)).fetchone()
                mailbox = row[0] if row else None
            at = now()
            conn.execute("INSERT OR IGNORE INTO suppressions (address, reason, source_message, detail, "
                         "created_at, first_seen, last_seen, mailbox) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (address.lower(), reason, source_message, detail, at, at, at, mailbox))

    def is_suppressed(self, address: str) -> bool:
        return self.db.conn.execute("SELECT 1 FROM suppressions WHERE address = ?",
                                    (address.lower(),)).fetchone() is not None

    def suppressions(self) -> list[Suppression]:
        rows = self.db.conn.execute(
            "SELECT address, reason, bounce_reason, hard, count, first_seen, last_seen, mailbox, detail, "
            "source_message, created_at FROM suppressions ORDER BY address").fetchall()
        return [Suppression(address=r[0], reason=r[1], bounce_reason=r[2],
                            hard=None if r[3] is None else bool(r[3]), count=r[4], first_seen=r[5],
                            last_seen=r[6], mailbox=r[7], detail=r[8], source_message=r[9],
                            created_at=r[10]) for r in rows]

    def suppress_from_classification(self, message_ids: Iterable[int]) -> None:
        """Record each failed recipient of new bounces and complaints; hard bounces, complaints,
        repeated soft bounces and unsubscribe requests put the address on the list."""
        ids = list(message_ids)
        if not ids:
            return
        # the few that matter, read at once (most new mail is neither a bounce nor a request to stop)
        found = {row[0]: row[1:] for row in self.db.conn.execute(
            "SELECT id, kind, category, from_addr, bounce_recipients, account, received_at, message_id "
            "FROM messages WHERE id IN (SELECT value FROM json_each(?)) AND direction = 'in' "
            "AND (kind IN ('bounce', 'complaint') OR category = 'unsubscribe')", (json.dumps(ids),))}
        for mid in ids:
            if mid not in found:
                continue
            kind, category, sender, bounces, account, at, message_id = found[mid]
            if kind in ("bounce", "complaint"):
                for rcpt in json.loads(bounces):
                    self._record_bounce(rcpt, kind == "complaint", account, mid, message_id, at)
            elif category == "unsubscribe":
                self.suppress(sender, "unsubscribe", mid, "asked to be removed", mailbox=account)

    def _record_bounce(self, rcpt: BounceRecipientRow, complaint: bool, account: str, mid: int,
                       message_id: str | None, at: float) -> None:
        conn = self.db.conn
        address = str(rcpt.get("address") or "").lower()
        if not address:
            return
        reason = str(rcpt.get("reason") or ("complaint" if complaint else "other"))
        hard = bool(rcpt.get("hard")) or complaint
        added = conn.execute(
            "INSERT OR IGNORE INTO bounce_events (address, account, source, message, reason, hard, complaint, "
            "status, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (address, account, message_id or f"row:{mid}", mid, reason, int(hard), int(complaint),
             rcpt.get("status"), at)).rowcount
        if not added:
            return  # the same message again (a rescan): counted already
        detail = str(rcpt.get("status") or rcpt.get("diagnostic") or "")[:200]
        if complaint:
            self._suppress_bounce(address, "complaint", reason, True, account, mid, detail)
        elif hard:
            self._suppress_bounce(address, "hard_bounce", reason, True, account, mid, detail)
        elif self.is_suppressed(address):
            self._suppress_bounce(address, "soft_bounce_repeated", reason, False, account, mid, detail)
        else:
            policy = self.bounce_policy
            soft = conn.execute("SELECT count(*) FROM bounce_events WHERE address = ? AND hard = 0 "
                                "AND at > ? AND at <= ?",
                                (address, at - policy.soft_days * DAY, at)).fetchone()[0]
            if soft >= policy.soft_limit:
                self._suppress_bounce(address, "soft_bounce_repeated", reason, False, account, mid,
                                      f"{soft} soft bounces within {policy.soft_days:g} days; last: {detail}")

    def _suppress_bounce(self, address: str, why: str, reason: str, hard: bool, account: str, mid: int,
                         detail: str) -> None:
        """Add or refresh a bounced address: a row already there (an unsubscribe, an earlier
        bounce) keeps why it was added, and takes the new counts and dates."""
        conn = self.db.conn
        count, first, last = conn.execute("SELECT count(*), min(at), max(at) FROM bounce_events "
                                          "WHERE address = ?", (address,)).fetchone()
        conn.execute(
            "INSERT INTO suppressions (address, reason, source_message, detail, created_at, bounce_reason, hard, "
            "first_seen, last_seen, count, mailbox) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (address) DO UPDATE SET count = excluded.count, last_seen = excluded.last_seen, "
            "first_seen = min(coalesce(suppressions.first_seen, excluded.first_seen), excluded.first_seen), "
            "bounce_reason = coalesce(excluded.bounce_reason, suppressions.bounce_reason), "
            "hard = max(coalesce(suppressions.hard, 0), excluded.hard), "
            "mailbox = coalesce(suppressions.mailbox, excluded.mailbox)",
            (address, why, mid, detail, now(), reason, int(hard), first, last, count, account))

    def reconfirm_bounces(self, account: str, sent_addresses: Iterable[str]) -> int:
        """A bounce stored before the Sent folder was synced (a first sync reads INBOX first)
        named every candidate its words left open; now that the mailbox is known to have written
        to some of them, the others are dropped from it, and from the suppression list where
        nothing else put them there. Returns the bounces changed; call inside a transaction."""
        conn = self.db.conn
        wanted = sorted({a.lower() for a in sent_addresses if a})
        if not wanted:
            return 0
        changed = 0
        for (mid,) in conn.execute(
                "SELECT DISTINCT message FROM bounce_events WHERE account = ? AND address IN "
                "(SELECT value FROM json_each(?))", (account, json.dumps(wanted))).fetchall():
            row = conn.execute("SELECT bounce_recipients, reasons FROM messages WHERE id = ? AND kind = 'bounce'",
                               (mid,)).fetchone()
            if row is None:
                continue
            recipients, reasons = json.loads(row[0]), json.loads(row[1])
            if len(recipients) < 2 or not any(r in _weak_stages() for r in reasons):
                continue
            keep = [r for r in recipients if self.sent_to(account, r.get("address") or "")]
            if not keep or len(keep) == len(recipients):
                continue
            changed += 1
            conn.execute("UPDATE messages SET bounce_recipients = ? WHERE id = ?", (json.dumps(keep), mid))
            for r in recipients:
                if r in keep:
                    continue
                address = str(r.get("address") or "").lower()
                conn.execute("DELETE FROM bounce_events WHERE message = ? AND address = ?", (mid, address))
                left = conn.execute("SELECT count(*), min(at), max(at) FROM bounce_events WHERE address = ?",
                                    (address,)).fetchone()
                if left[0]:
                    conn.execute("UPDATE suppressions SET count = ?, first_seen = ?, last_seen = ? "
                                 "WHERE address = ?", (*left, address))
                else:
                    conn.execute("DELETE FROM suppressions WHERE address = ? AND reason IN "
                                 "('hard_bounce', 'soft_bounce_repeated', 'complaint')", (address,))
        return changed

    def sent_to(self, account: str, address: str) -> bool:
        """Whether the mailbox's synced Sent folder holds a message to ``address`` (To or Cc)."""
        return self.db.conn.execute(
            "SELECT 1 FROM messages m WHERE m.account = ? AND m.direction = 'out' AND "
            "(EXISTS (SELECT 1 FROM json_each(m.to_addrs) WHERE lower(value) = ?) OR "
            "EXISTS (SELECT 1 FROM json_each(m.cc_addrs) WHERE lower(value) = ?)) LIMIT 1",
            (account, address.lower(), address.lower())).fetchone() is not None

    def has_sent_mail(self, account: str) -> bool:
        return self.db.conn.execute("SELECT 1 FROM messages WHERE account = ? AND direction = 'out' LIMIT 1",
                                    (account,)).fetchone() is not None


def _weak_stages() -> tuple[str, ...]:
    # the bounce parser (flufl.bounce, the MIME parser) is not loaded by every store user
    from app.mail.bounce import WEAK_STAGES
    return tuple(WEAK_STAGES)
