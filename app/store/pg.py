"""A PostgreSQL store's connection: the URL, the schema and its version.

Imported only where PostgreSQL is used (``replydesk db copy`` so far): psycopg is not loaded by
anything else. The password never travels in the URL: libpq reads ``PGPASSWORD`` or ``~/.pgpass``
by itself, and a caller that found one in the keyring or from a command passes it as ``password``.
"""

from __future__ import annotations

import os
from typing import Any

import psycopg
from psycopg import conninfo

from app import paths
from app.errors import StoreError
from app.store import schema, schema_pg

SCHEMES = paths.POSTGRES_SCHEMES
CONNECT_TIMEOUT = 10
LOCK_KEY = 0x7265706C79  # "reply": the advisory lock under which a store's schema is created or migrated


def is_url(target: str) -> bool:
    return target.startswith(SCHEMES)


def parse_url(url: str) -> dict[str, Any]:
    """The URL's connection parameters; a URL that is malformed or carries a password is refused."""
    try:
        params = conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        # libpq quotes the URL in some of its complaints: the password goes from both
        raise StoreError(_redacted(f"{url}: not a valid postgresql:// URL: {_first_line(exc)}", url)) from None
    if "password" in params:
        raise StoreError(f"{redact(url)}: the URL holds a password",
                         hint="leave it out of the URL: use PGPASSWORD, ~/.pgpass, the keyring "
                              "(replydesk db password URL) or --password-command")
    return params


def redact(url: str) -> str:
    """The URL as it may be shown: a password in it replaced by ***."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in creds:
        return url
    return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"


def _redacted(text: str, url: str) -> str:
    """``text`` with the URL's password (as written in it) replaced by ***."""
    creds = url.partition("://")[2].rpartition("@")[0]
    password = creds.split(":", 1)[1] if ":" in creds else ""
    return text.replace(f":{password}@", ":***@") if password else text


def keyring_name(url: str) -> str:
    """The keyring entry (service ``replydesk``) holding this server's password for this user:
    ``postgresql://USER@HOST:PORT/DBNAME``, from the URL with libpq's defaults filled in."""
    params = parse_url(url)
    info = conninfo.conninfo_to_dict(conninfo.make_conninfo(url))
    user = info.get("user") or params.get("user") or _default_user()
    host = info.get("host") or "localhost"
    port = info.get("port") or "5432"
    return f"postgresql://{user}@{host}:{port}/{info.get('dbname') or user}"


def server_and_database(url: str) -> tuple[str, str, str]:
    """Host, port and database name, libpq's defaults filled in: two URLs naming one database
    (``postgres://`` and ``postgresql://``, a port left out) compare equal."""
    name = keyring_name(url)
    server, _, database = name.removeprefix("postgresql://").partition("@")[2].rpartition("/")
    host, _, port = server.rpartition(":")
    return host.lower(), port, database


def _default_user() -> str:
    import getpass
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "postgres"


LOCAL_HOSTS = ("", "localhost", "127.0.0.1", "::1")


def transport_security(params: dict[str, Any]) -> dict[str, Any]:
    """TLS with the server's certificate verified against the system's authorities for a server
    on another host, where libpq's default (``prefer``) would fall back to plain text or accept
    any certificate; a local socket or loopback is left as it is, and an ``sslmode`` in the URL
    or in ``PGSSLMODE`` is the user's choice."""
    if "sslmode" in params or os.environ.get("PGSSLMODE"):
        return {}
    hosts = str(params.get("host") or "").split(",")
    if all(h.startswith("/") or h in LOCAL_HOSTS for h in hosts):
        return {}
    extra: dict[str, Any] = {"sslmode": "verify-full"}
    if "sslrootcert" not in params and not os.environ.get("PGSSLROOTCERT"):
        extra["sslrootcert"] = "system"
    return extra


def connect(url: str, password: str | None = None) -> psycopg.Connection[tuple[Any, ...]]:
    """A connection (not autocommit), encrypted and verified to another host. Errors are one line
    naming the server, never a traceback."""
    params = parse_url(url)
    extra: dict[str, Any] = {} if "connect_timeout" in params else {"connect_timeout": CONNECT_TIMEOUT}
    extra.update(transport_security(params))
    if password is not None:
        extra["password"] = password
    try:
        return psycopg.connect(url, **extra)
    except psycopg.Error as exc:
        raise StoreError(f"{url}: cannot connect: {_first_line(exc)}") from None


def needs_password(exc: StoreError) -> bool:
    """The server asked for a password and none was found (PGPASSWORD, ~/.pgpass, the caller)."""
    return "no password supplied" in str(exc)


def schema_version(conn: psycopg.Connection[tuple[Any, ...]]) -> int | None:
    """The store's schema version; None when the database holds no replydesk store."""
    row = conn.execute("SELECT to_regclass('replydesk_schema') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return None
    found = conn.execute("SELECT max(version) FROM replydesk_schema").fetchone()
    return int(found[0]) if found and found[0] is not None else None


def user_tables(conn: psycopg.Connection[tuple[Any, ...]]) -> list[str]:
    rows = conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
                        "AND table_type = 'BASE TABLE' ORDER BY table_name").fetchall()
    return [str(r[0]) for r in rows]


def prepare(conn: psycopg.Connection[tuple[Any, ...]], url: str) -> int:
    """Create the store's schema in an empty database, or bring an older one up to date; its
    version. A database with other tables, or a store from a newer replydesk, is refused. Runs in
    its own transaction, under an advisory lock, so two processes preparing one store do it once."""
    if schema_pg.SCHEMA_VERSION != schema.SCHEMA_VERSION:
        raise StoreError(f"this replydesk's PostgreSQL schema (version {schema_pg.SCHEMA_VERSION}) lags its SQLite "
                         f"schema (version {schema.SCHEMA_VERSION})", hint="app/store/schema_pg.py needs the migration")
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        version = schema_version(conn)
        if version is None:
            others = user_tables(conn)
            if others:
                raise StoreError(f"{url}: the database holds tables that are not a replydesk store "
                                 f"({', '.join(others[:3])}{' …' if len(others) > 3 else ''})",
                                 hint="use an empty database: createdb NAME")
            version = schema_pg.BASELINE - 1
        if version > schema_pg.SCHEMA_VERSION:
            raise StoreError(f"{url}: store is from a newer replydesk (schema {version}, this one knows "
                             f"{schema_pg.SCHEMA_VERSION})", hint="upgrade replydesk")
        for number in range(version + 1, schema_pg.SCHEMA_VERSION + 1):
            conn.execute(schema_pg.MIGRATIONS[number - schema_pg.BASELINE].encode())
            conn.execute("DELETE FROM replydesk_schema")
            conn.execute("INSERT INTO replydesk_schema (version) VALUES (%s)", (number,))
    return schema_pg.SCHEMA_VERSION


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__
