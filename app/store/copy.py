"""``replydesk db copy``: a whole store from one database to another (SQLite, PostgreSQL, either way).

The source is read in one snapshot (a read transaction), table by table in batches, so memory stays
bounded whatever the store's size; the target is written in one transaction, so a copy that fails
half-way leaves it as it was. The target ends as an exact copy of the source: every table's rows,
and each table's id counter (ids of deleted rows are not handed out again, so a webhook's cursor
over the events stays right). Safe to re-run: a target that holds the same store (its id in
``store_meta``) is replaced; one that holds another store is refused.

What a database derives by itself is left to it: SQLite rebuilds its full-text index after the
copy, PostgreSQL computes its search vector. On a SQLite target the triggers are dropped for the
copy and created again in the same transaction, so copying rows writes no event and no activity.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from app.errors import StoreError
from app.store import schema

if TYPE_CHECKING:
    import psycopg

BATCH = 2000
Row = tuple[Any, ...]


RUNTIME_TABLES = frozenset({"engines", "leases"})
"""Not copied: which engines run on a database, and what they hold (app/store/leases.py)."""


class Side(Protocol):
    label: str

    def version(self) -> int: ...
    def tables(self) -> dict[str, list[str]]: ...
    def count(self, table: str) -> int: ...
    def read(self, table: str, columns: Sequence[str], batch: int) -> Iterator[list[Row]]: ...
    def store_id(self) -> str | None: ...
    def counters(self) -> dict[str, int]: ...
    def close(self) -> None: ...


class Target(Side, Protocol):
    def begin(self, tables: Sequence[str]) -> None: ...
    def write(self, table: str, columns: Sequence[str], batches: Iterator[list[Row]]) -> None: ...
    def finish(self, counters: dict[str, int]) -> None: ...
    def abort(self) -> None: ...


@dataclass
class Progress:
    """What the copy reports as it goes: ``on_rows(table, done, total)``."""

    on_rows: Callable[[str, int, int], None] = lambda table, done, total: None
    rows: int = 0
    tables: dict[str, int] = field(default_factory=dict)


# --- SQLite ---------------------------------------------------------------------------------

class SqliteSide:
    """A SQLite store. As a source it is opened read-only and must exist; as a target it is
    created (or migrated) by the store's own ``Database``."""

    def __init__(self, path: Path, *, target: bool) -> None:
        self.label = str(path)
        self.path = path
        self._db: Any = None
        self.created = target and not path.exists()
        """The copy made this file: a copy that fails removes it again."""
        if target:
            from app.store.db import Database
            if not self.created:
                _refuse_foreign(path)
            self._db = Database(path)
            self.conn: sqlite3.Connection = self._db.conn
        else:
            if not path.is_file():
                raise StoreError(f"{path}: no such store")
            try:
                self.conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
                self.conn.execute("PRAGMA query_only = ON")
                self.conn.execute("BEGIN")  # one snapshot for the whole copy
                self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.Error as exc:
                raise StoreError(f"{path}: cannot read store: {exc}") from None
        self._triggers: list[str] = []

    def version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def tables(self) -> dict[str, list[str]]:
        rows = self.conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY rowid").fetchall()
        virtual = [name for name, sql in rows if (sql or "").upper().startswith("CREATE VIRTUAL TABLE")]
        out: dict[str, list[str]] = {}
        for name, _ in rows:
            if name.startswith("sqlite_") or name in virtual or any(name.startswith(v + "_") for v in virtual):
                continue
            out[name] = [c[1] for c in self.conn.execute(f'PRAGMA table_info("{name}")')]
        return out

    def count(self, table: str) -> int:
        return int(self.conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])

    def read(self, table: str, columns: Sequence[str], batch: int) -> Iterator[list[Row]]:
        sql = self.conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
        # a WITHOUT ROWID table is read in its key's order, any other in its rows' order
        order = "" if "WITHOUT ROWID" in sql.upper() else " ORDER BY rowid"
        cursor = self.conn.execute(f'SELECT {_columns(columns)} FROM "{table}"{order}')
        while rows := cursor.fetchmany(batch):
            yield rows

    def store_id(self) -> str | None:
        try:
            row = self.conn.execute("SELECT value FROM store_meta WHERE key = 'store_id'").fetchone()
        except sqlite3.OperationalError:
            return None
        return str(row[0]) if row else None

    def counters(self) -> dict[str, int]:
        try:
            return {str(n): int(s) for n, s in self.conn.execute("SELECT name, seq FROM sqlite_sequence")}
        except sqlite3.OperationalError:
            return {}

    def begin(self, tables: Sequence[str]) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("PRAGMA defer_foreign_keys = ON")
        self._triggers = [sql for (sql,) in self.conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' ORDER BY rowid")]
        for (name,) in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            self.conn.execute(f'DROP TRIGGER "{name}"')
        for table in reversed(tables):
            self.conn.execute(f'DELETE FROM "{table}"')

    def write(self, table: str, columns: Sequence[str], batches: Iterator[list[Row]]) -> None:
        marks = ", ".join("?" for _ in columns)
        for rows in batches:
            self.conn.executemany(f'INSERT INTO "{table}" ({_columns(columns)}) VALUES ({marks})', rows)

    def finish(self, counters: dict[str, int]) -> None:
        for (name,) in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                         "AND sql LIKE 'CREATE VIRTUAL TABLE%USING fts5%'").fetchall():
            self.conn.execute(f'INSERT INTO "{name}" ("{name}") VALUES (\'rebuild\')')
        for sql in self._triggers:
            self.conn.execute(sql)
        self.conn.execute("DELETE FROM sqlite_sequence")
        self.conn.executemany("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)",
                              [(name, seq) for name, seq in counters.items() if seq > 0])
        self.conn.execute("COMMIT")

    def abort(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
        else:
            self.conn.close()

    def remove(self) -> None:
        """Remove the file this copy created (and its WAL)."""
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(self.path) + suffix).unlink(missing_ok=True)


def _refuse_foreign(path: Path) -> None:
    """A SQLite file that holds tables but no replydesk store is not turned into one."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: not a SQLite database: {exc}") from None
    if version == 0 and tables:
        raise StoreError(f"{path}: the file holds tables that are not a replydesk store "
                         f"({', '.join(tables[:3])}{' …' if len(tables) > 3 else ''})",
                         hint="copy into a new file or an existing replydesk store")


# --- PostgreSQL -----------------------------------------------------------------------------

class PostgresSide:
    """A PostgreSQL store. As a target its schema is created in an empty database."""

    def __init__(self, url: str, password: str | None, *, target: bool) -> None:
        import psycopg

        from app.store import pg
        self.label = url
        self.conn: psycopg.Connection[Row] = pg.connect(url, password)
        self._pg = pg
        self._identity: dict[str, str] | None = None
        self._indexes: list[tuple[str, str]] = []
        self._tables: list[str] = []
        if target:
            pg.prepare(self.conn, url)
        else:
            # every read of the copy in one snapshot, whatever is written meanwhile
            self.conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            self.conn.read_only = True
            if pg.schema_version(self.conn) is None:
                self.conn.close()
                raise StoreError(f"{url}: the database holds no replydesk store")

    def version(self) -> int:
        return self._pg.schema_version(self.conn) or 0

    def tables(self) -> dict[str, list[str]]:
        rows = self.conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND is_generated = 'NEVER' AND table_name != 'replydesk_schema' ORDER BY table_name, ordinal_position"
        ).fetchall()
        out: dict[str, list[str]] = {}
        for table, column in rows:
            out.setdefault(str(table), []).append(str(column))
        return out

    def count(self, table: str) -> int:
        from psycopg import sql
        row = self.conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
        return int(row[0]) if row else 0

    def read(self, table: str, columns: Sequence[str], batch: int) -> Iterator[list[Row]]:
        from psycopg import sql
        order = sql.SQL(" ORDER BY id") if table in self._identity_tables() else sql.SQL("")
        query = sql.SQL("SELECT {} FROM {}{}").format(
            sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(table), order)
        with self.conn.cursor(name=f"copy_{table}") as cursor:
            cursor.itersize = batch
            cursor.execute(query)
            while rows := cursor.fetchmany(batch):
                yield rows

    def _identity_tables(self) -> dict[str, str]:
        """Tables with an id counter (SQLite's AUTOINCREMENT): table → its sequence."""
        if self._identity is None:
            rows = self.conn.execute(
                "SELECT table_name, pg_get_serial_sequence(quote_ident(table_name), column_name) "
                "FROM information_schema.columns WHERE table_schema = current_schema() AND is_identity = 'YES'"
            ).fetchall()
            self._identity = {str(t): str(s) for t, s in rows}
        return self._identity

    def store_id(self) -> str | None:
        row = self.conn.execute("SELECT value FROM store_meta WHERE key = 'store_id'").fetchone()
        return str(row[0]) if row else None

    def counters(self) -> dict[str, int]:
        from psycopg import sql
        out = {}
        for table, sequence in self._identity_tables().items():
            row = self.conn.execute(sql.SQL("SELECT last_value, is_called FROM {}").format(
                sql.Identifier(*sequence.split(".")))).fetchone()
            if row and row[1]:
                out[table] = int(row[0])
        return out

    def begin(self, tables: Sequence[str]) -> None:
        from psycopg import sql
        self.conn.commit()  # what was read before; the copy is the next transaction
        self.conn.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(map(sql.Identifier, tables))))
        # an index is built faster once over all rows than kept row by row (the search index most):
        # the indexes no constraint stands on are dropped here and built again before the commit
        self._indexes = [(str(name), str(definition)) for name, definition in self.conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE connamespace = current_schema()::regnamespace)").fetchall()]
        for name, _ in self._indexes:
            self.conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        # the rows come whole, the derived ones (counts, events, activity) among them: the
        # triggers that keep those would count them twice
        self._tables = list(tables)
        for table in self._tables:
            self.conn.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER USER").format(sql.Identifier(table)))

    def write(self, table: str, columns: Sequence[str], batches: Iterator[list[Row]]) -> None:
        from psycopg import sql
        from psycopg.copy import QueuedLibpqWriter
        query = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)))
        # one COPY per table, its data sent by a thread: the server stores a batch while the
        # next is read from the source
        cursor = self.conn.cursor()
        with cursor.copy(query, writer=QueuedLibpqWriter(cursor)) as copy:
            for rows in batches:
                for row in rows:
                    copy.write_row(row)

    def finish(self, counters: dict[str, int]) -> None:
        from psycopg import sql
        self.conn.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the foreign keys checked now, before the indexes
        self.conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _, definition in self._indexes:
            self.conn.execute(definition.encode())
        for table in self._tables:
            self.conn.execute(sql.SQL("ALTER TABLE {} ENABLE TRIGGER USER").format(sql.Identifier(table)))
        for table, sequence in self._identity_tables().items():
            row = self.conn.execute(sql.SQL("SELECT coalesce(max(id), 0) FROM {}").format(
                sql.Identifier(table))).fetchone()
            high = max(counters.get(table, 0), int(row[0]) if row else 0)
            self.conn.execute("SELECT setval(%s, %s, %s)", (sequence, max(high, 1), high > 0))
        self.conn.commit()

    def abort(self) -> None:
        self.conn.rollback()

    def close(self) -> None:
        self.conn.close()


# --- the copy -------------------------------------------------------------------------------

def copy_store(source: Side, target: Target, progress: Progress | None = None, batch: int = BATCH) -> Progress:
    """Make ``target`` an exact copy of ``source``; what was copied."""
    progress = progress or Progress()
    want = schema.SCHEMA_VERSION
    for side, what in ((source, "source"), (target, "target")):
        version = side.version()
        if version != want:
            newer = version > want
            raise StoreError(f"{side.label}: the {what} store is at schema version {version}, this replydesk "
                             f"copies version {want}",
                             hint="upgrade replydesk" if newer else "open it once with this replydesk "
                                  "(e.g. replydesk list) to bring it up to date")
    tables = source.tables()
    theirs = target.tables()
    if {t: set(c) for t, c in tables.items()} != {t: set(c) for t, c in theirs.items()}:
        raise StoreError(f"{source.label} and {target.label} have different tables at the same schema version "
                         f"({_difference(tables, theirs)})")
    mine = source.store_id()
    if target.store_id() not in (mine, None) and any(target.count(t) for t in tables if t != "store_meta"):
        raise StoreError(f"{target.label}: holds another replydesk store",
                         hint="copy into an empty database, or remove that store first")
    # the engines alive and their leases on mailboxes belong to the database the engines run on,
    # not to the store: the target keeps its own (none, for a new one)
    order = [t for t in tables if t not in RUNTIME_TABLES]
    target.begin(order)
    try:
        for table in order:
            columns = tables[table]
            total = source.count(table)
            progress.on_rows(table, 0, total)
            target.write(table, columns, _counted(source.read(table, columns, batch), table, total, progress))
        target.finish(source.counters())
    except BaseException:
        target.abort()
        raise
    return progress


def _counted(batches: Iterator[list[Row]], table: str, total: int, progress: Progress) -> Iterator[list[Row]]:
    done = 0
    for rows in batches:
        yield rows
        done += len(rows)
        progress.rows += len(rows)
        progress.on_rows(table, done, total)
    progress.tables[table] = done


def _difference(mine: dict[str, list[str]], theirs: dict[str, list[str]]) -> str:
    for table in sorted(set(mine) | set(theirs)):
        if table not in theirs:
            return f"table {table} only in the source"
        if table not in mine:
            return f"table {table} only in the target"
        if set(mine[table]) != set(theirs[table]):
            return f"table {table}: columns {', '.join(sorted(set(mine[table]) ^ set(theirs[table])))}"
    return "none"


def _columns(columns: Sequence[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)

