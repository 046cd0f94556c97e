"""Engines sharing a PostgreSQL store's mailboxes by lease.

Any number of ``replydesk sync`` processes, on any hosts, read the same account list. Each beats
a heartbeat (``engines``) and holds mailboxes by a lease row (``leases``: owner, expiry), renewed
at every beat. An engine's share is ``min(max_accounts_per_engine, ceil(mailboxes / live
engines))``: when a second engine comes up, the first gives back what is over its share, which
the second then takes. A mailbox whose lease expired (its engine died or lost the database) is
free for any engine. The times are the database's clock, never an engine's.

Claims run in a write transaction, and write transactions follow one another under the store's
write lock (``app.store.pgdb``), so no two engines can take the same mailbox. An engine gives a
mailbox back only after it has stopped it (``hold_leases`` says what is over its share; the
engine stops those, then calls ``release_leases``): at no moment do two engines watch one mailbox.

The outbox is fenced by the lease (``fence``): an engine claims, submits and settles a mailbox's
reply only in a transaction that finds its lease on that mailbox unexpired. An engine that lost a
lease without noticing yet (paused, cut off from the database) can therefore not submit a reply
the new holder has already queued again, nor move one the new holder is sending: its write raises
``LeaseLost`` and the item is left to the holder, whose takeover settles whatever the old engine
left in ``sending`` (queued again if DATA never began, else looked for in Sent).
"""

from __future__ import annotations

import json
import math
import os
import secrets
import socket
import sqlite3
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from app.store.base import StorePart

LEADER = "~store"
"""The lease of the store-wide work (follow-up clock, platform and webhook dispatch): one engine
runs it, taken over like a mailbox when that engine dies."""

CLOCK = "(julianday('now') - 2440587.5) * 86400.0"
"""The database's clock in seconds (PostgreSQL's ``clock_timestamp()`` there: ``app.store.pgdb``)."""
NOW_SQL = f"SELECT {CLOCK}"
CLAIM_SQL = ("INSERT INTO leases (account, owner, expires_at) VALUES (?, ?, ?) ON CONFLICT (account) "
             "DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at")
"""Hold a mailbox (or the store-wide work) until a time: whoever held it before."""


def lease_owner(role: str = "") -> str:
    """A new lease owner's name: ``host:pid:token`` (``:role`` after it, for one that is not an
    engine), unique even where a pid is reused or two hosts share a name."""
    name = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
    return f"{name}:{role}" if role else name


class LeaseLost(RuntimeError):
    """This process no longer holds the mailbox's lease: another engine has it (or may take it
    at any moment), and what its outbox holds is that engine's to send and settle."""

    def __init__(self, account: str, owner: str) -> None:
        super().__init__(f"{account}: the mailbox's lease is no longer held by {owner}")
        self.account, self.owner = account, owner


HELD_SQL = f"SELECT account FROM leases WHERE owner = ? AND expires_at > {CLOCK}"
"""The mailboxes ``owner`` holds now, by the database's clock."""


def fence(conn: sqlite3.Connection, account: str, owner: str | None) -> None:
    """Inside a write transaction: raise ``LeaseLost`` unless ``owner`` holds ``account``'s lease
    (``owner`` None: nothing is fenced, as with one engine on SQLite). Write transactions follow
    one another under the store's write lock, so the answer holds until this one commits."""
    if owner is None:
        return
    if conn.execute(HELD_SQL + " AND account = ?", (owner, account)).fetchone() is None:
        raise LeaseLost(account, owner)


@dataclass(frozen=True)
class Holding:
    held: frozenset[str]
    """The mailboxes this engine holds now, their leases renewed."""
    over_share: frozenset[str]
    """Held too, but beyond this engine's share: stop them, then ``release_leases`` them."""
    engines: int
    """Engines alive (a heartbeat within the lease time), this one included."""
    leader: bool
    """This engine runs the store-wide work (``LEADER``)."""


class LeasesMixin(StorePart):

    def hold_leases(self, owner: str, host: str, pid: int, accounts: Sequence[str], cap: int,
                    ttl: float) -> Holding:
        """Beat this engine's heartbeat, renew its leases and take free mailboxes up to its share."""
        wanted = set(accounts)
        with self.db.tx() as conn:
            t = float(conn.execute(NOW_SQL).fetchone()[0])
            conn.execute("INSERT INTO engines (owner, host, pid, started, heartbeat) VALUES (?, ?, ?, ?, ?) "
                         "ON CONFLICT (owner) DO UPDATE SET heartbeat = excluded.heartbeat", (owner, host, pid, t, t))
            conn.execute("DELETE FROM engines WHERE heartbeat < ?", (t - ttl,))
            engines = int(conn.execute("SELECT count(*) FROM engines").fetchone()[0])
            mine: set[str] = set()
            taken: set[str] = set()
            leader = False
            for account, holder, expires in conn.execute("SELECT account, owner, expires_at FROM leases").fetchall():
                if account == LEADER:
                    leader = holder == owner or expires < t
                elif holder == owner:
                    mine.add(account)
                elif expires >= t:
                    taken.add(account)
            gone = mine - wanted
            if gone:  # no longer in the config
                conn.execute("DELETE FROM leases WHERE owner = ? AND account IN (SELECT value FROM json_each(?))",
                             (owner, json.dumps(sorted(gone))))
            mine -= gone
            share = min(cap, math.ceil(len(wanted) / max(engines, 1)))
            keep = sorted(mine)[:share]
            over = sorted(mine)[share:]
            # what is over the share stays held (renewed) until it is stopped and given back
            conn.execute("UPDATE leases SET expires_at = ? WHERE owner = ?", (t + ttl, owner))
            take = sorted(wanted - mine - taken)[:max(0, share - len(keep))]
            if take:
                conn.executemany(CLAIM_SQL, [(account, owner, t + ttl) for account in take])
                keep += take
            if leader or not conn.execute("SELECT 1 FROM leases WHERE account = ?", (LEADER,)).fetchone():
                leader = True
                conn.execute(CLAIM_SQL, (LEADER, owner, t + ttl))
        return Holding(frozenset(keep + over), frozenset(over), engines, leader)

    def release_leases(self, owner: str, accounts: Collection[str] | None = None) -> None:
        """Give mailboxes back (every one this engine holds, with ``accounts`` None: a clean
        stop, which also ends its heartbeat)."""
        with self.db.tx() as conn:
            if accounts is None:
                conn.execute("DELETE FROM leases WHERE owner = ?", (owner,))
                conn.execute("DELETE FROM engines WHERE owner = ?", (owner,))
                return
            conn.execute("DELETE FROM leases WHERE owner = ? AND account IN (SELECT value FROM json_each(?))",
                         (owner, json.dumps(sorted(accounts))))

    def borrow_lease(self, owner: str, account: str, ttl: float) -> bool:
        """Hold one mailbox that no engine holds for ``ttl`` seconds, without joining the engines
        (``replydesk reply`` sending a reply itself): False when its lease is taken. Given back
        with ``release_leases(owner, [account])``; a process that dies lets it expire."""
        with self.db.tx() as conn:
            t = float(conn.execute(NOW_SQL).fetchone()[0])
            row = conn.execute("SELECT owner, expires_at FROM leases WHERE account = ?", (account,)).fetchone()
            if row is not None and row[0] != owner and row[1] >= t:
                return False
            conn.execute(CLAIM_SQL, (account, owner, t + ttl))
            return True

    def lease_holders(self) -> dict[str, str]:
        """Which engine holds each mailbox whose lease has not expired (``host:pid:…``)."""
        t = float(self.db.conn.execute(NOW_SQL).fetchone()[0])
        return {a: o for a, o in self.db.conn.execute(
            "SELECT account, owner FROM leases WHERE expires_at >= ? AND account != ?", (t, LEADER)).fetchall()}

    def live_engines(self, ttl: float) -> int:
        """Engines whose heartbeat came within ``ttl`` seconds."""
        t = float(self.db.conn.execute(NOW_SQL).fetchone()[0])
        return int(self.db.conn.execute("SELECT count(*) FROM engines WHERE heartbeat >= ?", (t - ttl,)).fetchone()[0])
