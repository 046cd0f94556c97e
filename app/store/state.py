"""Per-account health and per-folder sync state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from app.store.base import StorePart
from app.store.db import now
from app.store.lifecycle import AccountState
from app.store.moves import as_state, move_account
from app.store.rows import AccountRow, columns


@dataclass
class FolderState:
    account: str
    name: str
    role: str | None
    uidvalidity: int | None
    highest_uid: int
    highestmodseq: int | None
    uidnext: int | None
    message_count: int | None


_ACCOUNT_SELECT = "SELECT " + ", ".join(columns(AccountRow)) + " FROM accounts"


class StateMixin(StorePart):

    def ensure_account(self, account_id: str, email: str, name: str = "") -> None:
        with self.db.tx() as conn:
            conn.execute(
                "INSERT INTO accounts (id, email, name) VALUES (?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET email = excluded.email, name = excluded.name",
                (account_id, email, name))

    def set_account_state(self, account_id: str, state: str, *, error: str | None = None,
                          hint: str | None = None) -> None:
        """Move the account's connection to ``state`` with its reason; raises IllegalTransition
        where ``lifecycle.ACCOUNT_TRANSITIONS`` allows no such move (idle straight from
        connecting, say), or when the account has no row."""
        with self.db.tx() as conn:
            move_account(conn, account_id, as_state(AccountState, state), ", last_error = ?, hint = ?",
                         (error, hint))

    def update_account(self, account_id: str, **fields: Any) -> None:
        """Set health columns: last_push, last_sync, sync_done, sync_total, capabilities."""
        if not fields:
            return
        cols = ", ".join(f"{k} = ?" for k in fields)
        with self.db.tx() as conn:
            conn.execute(f"UPDATE accounts SET {cols} WHERE id = ?", [*fields.values(), account_id])

    def note_arrival(self, account_id: str, folder: str, uidvalidity: int, after_uid: int, via: str) -> None:
        """New mail stored past ``after_uid`` was found by ``via`` (``push`` or ``poll``): keep how
        long after its arrival on the server it reached the store (the health view's latency)."""
        with self.db.tx() as conn:
            row = conn.execute("SELECT max(received_at) FROM messages WHERE account = ? AND folder = ? "
                               "AND uidvalidity = ? AND uid > ? AND direction = 'in'",
                               (account_id, folder, uidvalidity, after_uid)).fetchone()
            if row is None or row[0] is None:
                return
            conn.execute("UPDATE accounts SET arrival_latency = ?, arrival_via = ? WHERE id = ?",
                         (max(0.0, now() - row[0]), via, account_id))

    def set_smtp_health(self, account_id: str, ok: bool, error: str | None = None) -> None:
        """What the last submission said about the account's SMTP server (the outbox drainer)."""
        with self.db.tx() as conn:
            conn.execute("UPDATE accounts SET smtp_ok = ?, smtp_error = ?, smtp_checked = ? WHERE id = ?",
                         (int(ok), error, now(), account_id))

    def remove_account_rows(self, account_id: str) -> None:
        """Forget an account's mail (``accounts remove``); the suppression list stays."""
        with self.db.tx() as conn:
            for table in ("pending_ops", "outbox"):
                conn.execute(f"DELETE FROM {table} WHERE account = ?", (account_id,))
            conn.execute("DELETE FROM messages WHERE account = ?", (account_id,))
            for table in ("conversations", "folders", "labels"):
                conn.execute(f"DELETE FROM {table} WHERE account = ?", (account_id,))
            conn.execute("DELETE FROM accounts WHERE id = ?", (account_id,))

    def accounts(self) -> list[AccountRow]:
        return [cast(AccountRow, r) for r in self.db.query(f"{_ACCOUNT_SELECT} ORDER BY id")]

    def account_row(self, account_id: str) -> AccountRow | None:
        rows = list(self.db.query(f"{_ACCOUNT_SELECT} WHERE id = ?", [account_id]))
        return cast(AccountRow, rows[0]) if rows else None

    def folder_state(self, account: str, name: str) -> FolderState | None:
        row = self.db.conn.execute(
            "SELECT account, name, role, uidvalidity, highest_uid, highestmodseq, uidnext, message_count "
            "FROM folders WHERE account = ? AND name = ?", (account, name)).fetchone()
        return FolderState(*row) if row else None

    def folders(self, account: str) -> list[FolderState]:
        return [FolderState(*r) for r in self.db.conn.execute(
            "SELECT account, name, role, uidvalidity, highest_uid, highestmodseq, uidnext, message_count "
            "FROM folders WHERE account = ? ORDER BY name", (account,))]

    def folder_for_role(self, account: str, role: str) -> str | None:
        row = self.db.conn.execute("SELECT name FROM folders WHERE account = ? AND role = ?",
                                   (account, role)).fetchone()
        return row[0] if row else None

    def save_folder(self, account: str, name: str, **fields: Any) -> None:
        """Upsert a folder's sync state: role, uidvalidity, highest_uid, highestmodseq, uidnext, …"""
        fields["last_checked"] = now()
        cols = ["account", "name", *fields]
        updates = ", ".join(f"{k} = excluded.{k}" for k in fields)
        with self.db.tx() as conn:
            conn.execute(
                f"INSERT INTO folders ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)}) "
                f"ON CONFLICT (account, name) DO UPDATE SET {updates}",
                [account, name, *fields.values()])
