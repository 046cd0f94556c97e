"""The store's one way to write a lifecycle's state: read the row's state, ask the table
(``app.store.lifecycle``), then an UPDATE guarded by the state it read. All of it runs in the
caller's write transaction (BEGIN IMMEDIATE), so no other writer comes between the read and
the write; a move the table refuses, or a row that is not there, raises IllegalTransition
instead of an UPDATE that quietly matched nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Any, TypeVar

from app.store.db import now
from app.store.lifecycle import (
    AccountState,
    IllegalTransition,
    OpState,
    OutboxState,
    check_account,
    check_op,
    check_outbox,
)

S = TypeVar("S", OutboxState, AccountState, OpState)

_TABLES: dict[str, tuple[str, str, str]] = {
    # table: (the lifecycle's name, the key column, the time column the move sets)
    "outbox": ("outbox item", "id", "updated_at"),
    "pending_ops": ("server operation", "id", ""),
    "accounts": ("account", "id", "state_changed"),
}


def state_of(conn: sqlite3.Connection, table: str, key: object) -> str | None:
    row = conn.execute(f"SELECT state FROM {table} WHERE id = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def _move(conn: sqlite3.Connection, table: str, key: object, new: S, check: Callable[[str, str], S],
          sets: str, params: Iterable[Any], only_from: Iterable[S] | None) -> S:
    lifecycle, column, stamp = _TABLES[table]
    old = state_of(conn, table, key)
    if old is None:
        raise IllegalTransition(lifecycle, f"(no {lifecycle} {key})", new.value)
    if only_from is not None and old not in {s.value for s in only_from}:
        raise IllegalTransition(lifecycle, old, new.value)
    check(old, new.value)
    stamped: list[Any] = [now()] if stamp else []
    moved = conn.execute(f"UPDATE {table} SET state = ?{f', {stamp} = ?' if stamp else ''}{sets} "
                         f"WHERE {column} = ? AND state = ?", (new.value, *stamped, *params, key, old)).rowcount
    if moved != 1:  # cannot happen inside BEGIN IMMEDIATE; said loudly if it ever does
        raise IllegalTransition(lifecycle, old, new.value)
    return type(new)(old)


def move_outbox(conn: sqlite3.Connection, item_id: int, new: OutboxState, sets: str = "",
                params: Iterable[Any] = (), *, only_from: Iterable[OutboxState] | None = None) -> OutboxState:
    """Move outbox item ``item_id`` to ``new`` (``sets``: more ``, column = ?`` with ``params``);
    ``only_from`` narrows the table's moves to the ones this step makes. Returns the old state."""
    return _move(conn, "outbox", item_id, new, check_outbox, sets, params, only_from)


def move_op(conn: sqlite3.Connection, op_id: int, new: OpState, sets: str = "",
            params: Iterable[Any] = ()) -> OpState:
    return _move(conn, "pending_ops", op_id, new, check_op, sets, params, None)


def move_account(conn: sqlite3.Connection, account_id: str, new: AccountState, sets: str = "",
                 params: Iterable[Any] = ()) -> AccountState:
    return _move(conn, "accounts", account_id, new, check_account, sets, params, None)


def as_state(kind: type[S], value: str | StrEnum) -> S:
    """A state given as a string, as its enum; a value the lifecycle does not know raises."""
    try:
        return kind(value)
    except ValueError:
        raise IllegalTransition(kind.__name__, "(any)", str(value)) from None
