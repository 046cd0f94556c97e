"""A store on PostgreSQL: the connection the store's parts use, speaking their SQL.

The parts write their queries once, in the SQL both databases share, with ``?`` placeholders.
What differs between the two is said in one of two places:

- here, ``to_pg``: the mechanical differences, rewritten once per statement text (cached):
  placeholders, ``INSERT OR IGNORE``, SQLite's case-blind ``LIKE``, ``IS [NOT] ?`` between values,
  SQLite's JSON functions over the columns that hold JSON text, two-argument ``min``/``max``,
  SQLite's planner hints (``INDEXED BY``, a unary ``+`` on a column) dropped;
- ``Dialect`` (``app.store.dialect``): what is a different construction, not a different
  spelling: full-text search (FTS5 there, a ``tsvector`` under GIN here).

A connection is in autocommit; ``tx()`` opens a transaction with ``BEGIN`` and takes the store's
write lock (an advisory lock), so write transactions follow one another as SQLite's ``BEGIN
IMMEDIATE`` makes them, whichever host they come from; a statement outside one commits by
itself, as on SQLite. Errors are raised as the ``sqlite3`` exception of the same
kind (``IntegrityError``, ``OperationalError`` …): the store's callers catch one family whichever
database holds the store.
"""

from __future__ import annotations

import functools
import re
import secrets
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any, cast

import psycopg
from psycopg.adapt import Dumper, Loader

from app.errors import StoreError
from app.store import pg
from app.store.changes import Changes, changes_for
from app.store.db import Database, login_name
from app.store.dialect import POSTGRES

CHANNEL = "replydesk_changes"
"""The LISTEN/NOTIFY channel a commit that changed anything is announced on."""
PROCESS = secrets.token_hex(8)
"""This process, as its NOTIFYs say: its listener skips them (its own commits woke its waiters at
once, in process)."""
WRITE_LOCK = 0x7265706C7A
"""The advisory lock a write transaction holds until it ends: the store's one writer at a time."""


class _NumberLoader(Loader):
    """``numeric`` (what ``sum`` of integers gives) read as SQLite would give it: an int when
    whole, else a float, never a ``Decimal``."""

    def load(self, data: Any) -> int | float:
        value = Decimal(bytes(data).decode())
        return int(value) if value == value.to_integral_value() else float(value)


_IDENTITY: dict[str, frozenset[str]] = {}
"""Per store (its URL): the tables whose ``id`` is an identity (read once a process)."""


class _BoolDumper(Dumper):
    """True and False stored as SQLite stores them: 1 and 0 (the flag columns are numbers)."""

    oid = psycopg.adapters.types["int8"].oid

    def dump(self, obj: Any) -> bytes:
        return b"1" if obj else b"0"

    def quote(self, obj: Any) -> bytes:
        return self.dump(obj)


class PgDatabase(Database):
    """One PostgreSQL connection with replydesk's settings: the store's ``Database`` on
    PostgreSQL (its transactions and queries are Database's), its connection a ``PgConnection``.
    Not shared between threads."""

    dialect = POSTGRES

    def __init__(self, url: str, user: str | None = None) -> None:
        self.user = user or login_name()
        self.url = url
        self.path = None
        raw = self._open(first=True)
        identity = _IDENTITY.get(url)
        if identity is None:
            identity = _IDENTITY[url] = frozenset(str(r[0]) for r in raw.execute(
                "SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND column_name = 'id' AND is_identity = 'YES'"))
        self.pg = PgConnection(raw, changes_for(url), identity, self._open)
        # the parts use it as a sqlite3.Connection: it speaks that interface (see PgConnection)
        self.conn = cast(sqlite3.Connection, self.pg)
        self._depth = 0

    def _open(self, first: bool = False) -> psycopg.Connection[Any]:
        """A connection set up for the store; the first one also creates or migrates the schema.
        Called again when the connection was lost (the server restarted, the network broke)."""
        url = self.url
        try:
            raw = pg.connect(url)
        except StoreError as exc:
            if pg.needs_password(exc):
                raise StoreError(f"{pg.redact(url)}: the server asks for a password and none was found",
                                 hint="set PGPASSWORD, add it to ~/.pgpass, store it with: replydesk db password "
                                      f"{pg.keyring_name(url)}, or set [general] database_password_command") from None
            if not first:
                raise sqlite3.OperationalError(str(exc)) from None
            raise
        try:
            raw.adapters.register_loader("numeric", _NumberLoader)
            raw.adapters.register_dumper(bool, _BoolDumper)
            # parameters quoted into the statement: PostgreSQL types them from where they stand,
            # as SQLite does, instead of refusing an untyped NULL or a number beside a text
            raw.cursor_factory = psycopg.ClientCursor
            if first:
                pg.prepare(raw, pg.redact(url))
                raw.commit()
            raw.autocommit = True
            # who is acting: replydesk_user() in the views and the activity triggers reads it
            raw.execute("SELECT set_config('replydesk.user', %s, false)", (self.user,))
        except psycopg.Error as exc:
            raw.close()
            message = f"{pg.redact(url)}: cannot prepare the store: {pg._first_line(exc)}"
            if first:
                raise StoreError(message) from None
            raise sqlite3.OperationalError(message) from None
        except BaseException:
            raw.close()
            raise
        return raw

    @property
    def target(self) -> str:
        return self.url

    def _begin(self) -> None:
        self.conn.execute("BEGIN")
        # one writer at a time, as SQLite's BEGIN IMMEDIATE: what the parts read inside a write
        # transaction stays true until it commits (a guarded move, a read-then-write), on every
        # host. Each statement after the lock sees every commit before it (READ COMMITTED).
        self.pg.run_raw("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))

    def data_version(self) -> int:
        """Moves when another connection committed a change (this process's at once, another's by
        LISTEN/NOTIFY), as SQLite's ``data_version`` does."""
        return self.pg.changes.count - self.pg.total_changes

    def change_mark(self) -> tuple[int, int]:
        return self.data_version(), self.pg.total_changes



class PgCursor:
    """What the store's parts read from a statement: rows as tuples, ``rowcount``, ``lastrowid``."""

    def __init__(self, cursor: psycopg.Cursor[Any] | None, rows: list[Any] | None = None,
                 lastrowid: int | None = None, rowcount: int = -1) -> None:
        self._cursor = cursor
        self._rows = rows
        self.lastrowid = lastrowid
        self.rowcount = rowcount if cursor is None else cursor.rowcount

    @property
    def description(self) -> Any:
        return self._cursor.description if self._cursor is not None else None

    def fetchone(self) -> Any:
        if self._rows is not None:
            return self._rows.pop(0) if self._rows else None
        if self._cursor is None or self._cursor.description is None:
            return None
        return _guard(self._cursor.fetchone)

    def fetchall(self) -> list[Any]:
        if self._rows is not None:
            rows, self._rows = self._rows, []
            return rows
        if self._cursor is None or self._cursor.description is None:
            return []
        return list(_guard(self._cursor.fetchall))

    def fetchmany(self, size: int) -> list[Any]:
        if self._rows is not None:
            rows, self._rows = self._rows[:size], self._rows[size:]
            return rows
        if self._cursor is None or self._cursor.description is None:
            return []
        return list(_guard(self._cursor.fetchmany, size))

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class PgConnection:
    """The connection as the store's parts use a ``sqlite3.Connection``: ``execute`` and
    ``executemany`` with SQLite's SQL, ``in_transaction``, ``total_changes``. Tells the store's
    ``Changes`` of its own commits at once and announces them to other processes."""

    def __init__(self, raw: psycopg.Connection[Any], changes: Changes, identity: frozenset[str],
                 reopen: Callable[[], psycopg.Connection[Any]]) -> None:
        self.raw = raw
        self.changes = changes
        self.identity = identity
        self.total_changes = 0
        self._dirty = False
        self._reopen = reopen
        self._in_tx = False

    def _usable(self) -> None:
        """A lost connection (the server restarted, the network broke) is opened again before
        the next statement, unless a transaction was open on it: that transaction is lost, and
        the caller's ``tx()`` hears so; the next one starts on a new connection."""
        if not (self.raw.broken or self.raw.closed):
            return
        if self._in_tx:
            raise sqlite3.OperationalError("the connection to PostgreSQL was lost during a transaction")
        self.raw.close()
        self.raw = self._reopen()

    @property
    def in_transaction(self) -> bool:
        return self._in_tx

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> PgCursor:
        head = sql.lstrip()[:8].upper()
        if head.startswith("COMMIT"):
            try:
                if self._dirty:
                    # one notification a transaction: PostgreSQL folds the same one sent twice
                    self.run_raw(f"NOTIFY {CHANNEL}, '{PROCESS}'", None)
                self.run_raw("COMMIT", None)
            finally:
                self._in_tx = False
            self._committed()
            return PgCursor(None, [])
        if head.startswith("ROLLBACK"):
            self._in_tx = False
            self._dirty = False
            if not (self.raw.broken or self.raw.closed):
                self.run_raw("ROLLBACK", None)
            return PgCursor(None, [])
        if head.startswith("BEGIN"):
            self._usable()
            self.run_raw("BEGIN", None)
            self._in_tx = True
            return PgCursor(None, [])
        self._usable()
        text, returning = to_pg(sql, self.identity)
        writes = not head.startswith(("SELECT", "WITH"))
        cursor = self.raw.cursor()
        try:
            _guard(cursor.execute, text, list(parameters))
        except sqlite3.OperationalError:
            if writes or self._in_tx or not self.raw.broken:
                raise
            # a read on a connection found lost only now: once more on a new one
            self._usable()
            cursor = self.raw.cursor()
            _guard(cursor.execute, text, list(parameters))
        if writes and cursor.rowcount:
            self._wrote()
        if returning:
            rows = _guard(cursor.fetchall)
            return PgCursor(None, [], lastrowid=int(rows[-1][0]) if rows else None, rowcount=len(rows))
        return PgCursor(cursor)

    def executemany(self, sql: str, seq: Any, /) -> PgCursor:
        self._usable()
        text, _ = to_pg(sql, frozenset())
        cursor = self.raw.cursor()
        _guard(cursor.executemany, text, [list(p) for p in seq])
        if cursor.rowcount:
            self._wrote()
        return PgCursor(cursor)

    def run_raw(self, sql: str, params: Any) -> None:
        """A statement in PostgreSQL's own SQL, not rewritten."""
        _guard(self.raw.execute, sql, params)

    def _wrote(self) -> None:
        self._dirty = True
        if not self.in_transaction:  # a statement on its own: committed already
            self.run_raw(f"NOTIFY {CHANNEL}, '{PROCESS}'", None)
            self._committed()

    def _committed(self) -> None:
        if self._dirty:
            self._dirty = False
            self.total_changes += 1
            self.changes.notify()

    def close(self) -> None:
        self.raw.close()


def _guard(call: Any, *args: Any) -> Any:
    """``call``, its PostgreSQL error raised as the ``sqlite3`` error of the same kind."""
    try:
        return call(*args)
    except psycopg.errors.IntegrityError as exc:
        raise sqlite3.IntegrityError(pg._first_line(exc)) from None
    except (psycopg.OperationalError, psycopg.errors.LockNotAvailable, psycopg.errors.QueryCanceled) as exc:
        raise sqlite3.OperationalError(pg._first_line(exc)) from None
    except psycopg.ProgrammingError as exc:
        raise sqlite3.ProgrammingError(pg._first_line(exc)) from None
    except psycopg.Error as exc:
        raise sqlite3.DatabaseError(pg._first_line(exc)) from None


# -- SQLite's SQL, spoken to PostgreSQL -------------------------------------------------------

_LITERAL = re.compile(r"('(?:[^']|'')*')")
_INSERT = re.compile(r"^\s*INSERT\s+(OR\s+(IGNORE|REPLACE)\s+)?INTO\s+(\w+)", re.IGNORECASE)
_RETURNING = re.compile(r"\sRETURNING\s", re.IGNORECASE)
_JSON_IDS = re.compile(r"(\b(?:\w+\.)?(?!message_id\b)(?:id|uid|\w+_id)) IN \(SELECT value FROM json_each\(\?\)\)")
"""A list of row ids (numbers) passed as JSON; not of Message-IDs (a header's text)."""
_JSON_EACH = re.compile(r"json_each\(([\w.?]+)\)")
_JSON_PATH = re.compile(r"json_extract\(([\w.]+), '\$\[(\d+)\]'\)")
_JSON_KEY = re.compile(r"json_extract\(([\w.]+), '\$\.(\w+)'\)")
_JSON_LENGTH_KEY = re.compile(r"json_array_length\(([\w.]+), '\$\.(\w+)'\)")
_JSON_LENGTH = re.compile(r"json_array_length\(([\w.]+)\)")
_NOW = re.compile(r"\(julianday\('now'\) - 2440587\.5\) \* 86400\.0")
_KEYWORD_AFTER_IS = r"(?!(?:NOT|NULL|TRUE|FALSE|DISTINCT|UNKNOWN)\b)(?=[\w(?])"
_IS_NOT = re.compile(r"\bIS NOT " + _KEYWORD_AFTER_IS, re.IGNORECASE)
_IS = re.compile(r"\bIS " + _KEYWORD_AFTER_IS, re.IGNORECASE)
_MINMAX = re.compile(r"\b(min|max)\(", re.IGNORECASE)
_HINTS = re.compile(r" (?:INDEXED BY \w+|NOT INDEXED)\b")
"""SQLite's index hints: PostgreSQL's planner takes none."""
_UNARY_PLUS = re.compile(r"(\bSELECT |\bBY |, |\()\+(?=[A-Za-z_])")
"""A unary ``+`` before a column (SQLite: "not from an index"): only a number takes it on PostgreSQL."""


@functools.lru_cache(maxsize=2048)
def to_pg(sql: str, identity: frozenset[str]) -> tuple[str, bool]:
    """SQLite's statement as PostgreSQL's, and whether ``RETURNING id`` was added to it (an
    INSERT into a table whose ``id`` is an identity, so ``lastrowid`` can be read)."""
    text = sql
    returning = False
    insert = _INSERT.match(text)
    if insert:
        if insert.group(2) and insert.group(2).upper() == "REPLACE":
            raise sqlite3.ProgrammingError("INSERT OR REPLACE has no PostgreSQL equivalent: use ON CONFLICT")
        text = _INSERT.sub(f"INSERT INTO {insert.group(3)}", text, count=1)
        if insert.group(1):  # OR IGNORE
            found = _RETURNING.search(text)
            text = (text[:found.start()] + " ON CONFLICT DO NOTHING" + text[found.start():] if found
                    else text.rstrip().rstrip(";") + " ON CONFLICT DO NOTHING")
        if insert.group(3) in identity and not _RETURNING.search(text):
            text = text.rstrip().rstrip(";") + " RETURNING id"
            returning = True
    text = _NOW.sub("extract(epoch from clock_timestamp())", text)
    text = _JSON_IDS.sub(r"\1 IN (SELECT value::bigint FROM json_array_elements_text(?::json))", text)
    text = _JSON_EACH.sub(lambda m: f"json_array_elements_text({m.group(1)}::json)", text)
    text = _JSON_PATH.sub(r"(\1::json->>\2)", text)
    text = _JSON_KEY.sub(r"(\1::json->>'\2')", text)
    text = _JSON_LENGTH_KEY.sub(r"json_array_length((\1::json)->'\2')", text)
    text = _JSON_LENGTH.sub(r"json_array_length(\1::json)", text)
    text = _scalar_minmax(text)
    parts = _LITERAL.split(text)
    for i in range(0, len(parts), 2):  # outside string literals
        part = parts[i].replace("%", "%%")
        # SQLite's IS between two values (a parameter, a column, a row of them)
        part = _IS_NOT.sub("IS DISTINCT FROM ", part)
        part = _IS.sub("IS NOT DISTINCT FROM ", part)
        part = _HINTS.sub("", part)
        part = _UNARY_PLUS.sub(r"\1", part)
        part = re.sub(r"\bNOT LIKE\b", "NOT ILIKE", part)
        part = re.sub(r"(?<!NOT )\bLIKE\b", "ILIKE", part)
        parts[i] = part.replace("?", "%s")
    for i in range(1, len(parts), 2):
        parts[i] = parts[i].replace("%", "%%")
    return "".join(parts), returning


def _scalar_minmax(text: str) -> str:
    """SQLite's ``min(a, b)`` and ``max(a, b)`` (scalar: two or more arguments) as ``LEAST`` and
    ``GREATEST``; the one-argument aggregates stay."""
    out: list[str] = []
    pos = 0
    for found in _MINMAX.finditer(text):
        if found.start() < pos:
            continue
        depth, commas, i = 1, 0, found.end()
        quoted = False
        while i < len(text) and depth:
            ch = text[i]
            if ch == "'":
                quoted = not quoted
            elif not quoted:
                if ch == "(":
                    depth += 1
                elif ch == ")":
                    depth -= 1
                elif ch == "," and depth == 1:
                    commas += 1
            i += 1
        if commas:
            name = "LEAST" if found.group(1).lower() == "min" else "GREATEST"
            inner = _scalar_minmax(text[found.end():i - 1])
            out.append(text[pos:found.start()] + f"{name}(" + inner + ")")
            pos = i
    out.append(text[pos:])
    return "".join(out)
