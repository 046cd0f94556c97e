"""The event journal and its durable deliveries (to sending platforms and webhooks).

Triggers (schema ``V_EVENTS``) write an event in the transaction of the change itself; the
engine's dispatcher (``app.sequencers.dispatch``) fans new events out into one delivery per
target that wants them, sends them, and records how each try went here. A delivery is done,
pending (with the time of its next try), or dead (given up, with the receiver's words): nothing
is dropped without a trace, and a restart goes on where the last one stopped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

from app.store.base import StorePart
from app.store.db import now
from app.store.lifecycle import DeliveryState, check_delivery
from app.store.rows import DeliveryRow, columns

EVENT_TYPES = ("reply.received", "reply.categorized", "reply.sent", "suppression.added")


@dataclass(frozen=True)
class Delivery:
    target: str
    event: int
    type: str
    lead: str
    payload: dict[str, Any]
    attempts: int
    created_at: float


@dataclass(frozen=True)
class TargetHealth:
    target: str
    pending: int
    dead: int
    done: int
    last_error: str | None
    last_error_at: float | None


class EventsMixin(StorePart):

    def set_event_types(self, types: Iterable[str]) -> None:
        """The event types some configured target wants: the only ones the triggers record."""
        wanted = sorted(set(types) & set(EVENT_TYPES))
        with self.db.tx() as conn:
            conn.execute("DELETE FROM event_types")
            conn.executemany("INSERT INTO event_types (type) VALUES (?)", [(t,) for t in wanted])

    def fan_out(self, target: str, wants: Callable[[str, dict[str, Any]], bool],
                ordering: Callable[[str, str], str], limit: int = 500) -> int:
        """Queue for ``target`` the events after its cursor that it ``wants`` (type, payload).
        A target seen for the first time starts after the newest event: it gets what happens
        from now on, not the history. Returns how many were queued."""
        conn = self.db.conn
        with self.db.tx():
            row = conn.execute("SELECT last_event FROM delivery_cursors WHERE target = ?", (target,)).fetchone()
            if row is None:
                newest = conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
                conn.execute("INSERT INTO delivery_cursors (target, last_event) VALUES (?, ?)", (target, newest))
                return 0
            events = conn.execute("SELECT id, type, lead, payload FROM events WHERE id > ? ORDER BY id LIMIT ?",
                                  (row[0], limit)).fetchall()
            queued = 0
            for event_id, kind, lead, payload in events:
                if wants(kind, json.loads(payload)):
                    conn.execute("INSERT OR IGNORE INTO deliveries (target, event, ordering, updated_at) "
                                 "VALUES (?, ?, ?, ?)", (target, event_id, ordering(kind, lead), now()))
                    queued += 1
            if events:
                conn.execute("UPDATE delivery_cursors SET last_event = ? WHERE target = ?", (events[-1][0], target))
        return queued

    def due_deliveries(self, target: str, t: float, limit: int = 50) -> list[Delivery]:
        """The next pending delivery of each ordering key of ``target`` (oldest event first), if
        its time has come: a later event for the same lead waits for the one before it."""
        rows = self.db.conn.execute(
            "SELECT d.event, e.type, e.lead, e.payload, d.attempts, e.created_at, d.next_attempt_at "
            "FROM deliveries d JOIN events e ON e.id = d.event "
            "WHERE d.target = ? AND d.state = 'pending' AND d.event = (SELECT min(x.event) FROM deliveries x "
            "WHERE x.target = d.target AND x.ordering = d.ordering AND x.state = 'pending') "
            "ORDER BY d.event LIMIT ?", (target, limit * 4)).fetchall()
        return [Delivery(target, r[0], r[1], r[2], json.loads(r[3]), r[4], r[5])
                for r in rows if r[6] <= t][:limit]

    def finish_delivery(self, target: str, event: int, *, error: str | None = None,
                        retry_at: float | None = None) -> None:
        """How a try went: done (no ``error``), pending again at ``retry_at``, or dead (an
        ``error`` with no ``retry_at``). The move is checked against the delivery lifecycle's
        table (``app.store.lifecycle``): one no longer pending, or no delivery at all, raises
        IllegalTransition and nothing is written."""
        new = (DeliveryState.DONE if error is None
               else DeliveryState.PENDING if retry_at is not None else DeliveryState.DEAD)
        with self.db.tx() as conn:
            row = conn.execute("SELECT state FROM deliveries WHERE target = ? AND event = ?",
                               (target, event)).fetchone()
            check_delivery(row[0] if row else f"(no delivery of event {event} to {target})", new)
            conn.execute("UPDATE deliveries SET state = ?, attempts = attempts + 1, last_error = ?, "
                         "next_attempt_at = coalesce(?, next_attempt_at), updated_at = ? "
                         "WHERE target = ? AND event = ? AND state = ?",
                         (new.value, None if error is None else error[:500], retry_at, now(), target, event,
                          row[0]))

    def retry_dead(self, target: str | None = None) -> int:
        """Give dead deliveries another go (after the user fixed a key or a mapping)."""
        check_delivery(DeliveryState.DEAD, DeliveryState.PENDING)  # the one move this makes, for every row
        with self.db.tx() as conn:
            sql = "UPDATE deliveries SET state = 'pending', next_attempt_at = 0 WHERE state = 'dead'"
            params: list[Any] = []
            if target is not None:
                sql += " AND target = ?"
                params.append(target)
            return conn.execute(sql, params).rowcount

    def delivery_health(self) -> dict[str, TargetHealth]:
        out: dict[str, TargetHealth] = {}
        for target, pending, dead, done in self.db.conn.execute(
                "SELECT target, sum(state = 'pending'), sum(state = 'dead'), sum(state = 'done') "
                "FROM deliveries GROUP BY target"):
            last = self.db.conn.execute(
                "SELECT last_error, updated_at FROM deliveries WHERE target = ? AND last_error IS NOT NULL "
                "ORDER BY updated_at DESC LIMIT 1", (target,)).fetchone()
            out[target] = TargetHealth(target, pending or 0, dead or 0, done or 0,
                                       last[0] if last else None, last[1] if last else None)
        return out

    def deliveries_of(self, target: str) -> list[DeliveryRow]:
        """Every delivery of a target, oldest first (for tests and `replydesk sequencers`)."""
        cols = columns(DeliveryRow)
        return [cast(DeliveryRow, dict(zip(cols, r))) for r in self.db.conn.execute(
            "SELECT d.event, e.type, e.lead, d.state, d.attempts, d.last_error FROM deliveries d "
            "JOIN events e ON e.id = d.event WHERE d.target = ? ORDER BY d.event", (target,))]

    def prune_events(self, older_than: float) -> None:
        """Forget delivered events older than ``older_than`` (undelivered ones stay)."""
        with self.db.tx() as conn:
            conn.execute("DELETE FROM events WHERE created_at < ? AND id NOT IN "
                         "(SELECT event FROM deliveries WHERE state != 'done') "
                         "AND id < (SELECT coalesce(min(last_event), 0) FROM delivery_cursors)", (older_than,))
