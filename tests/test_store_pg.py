"""The PostgreSQL schema (app/store/schema_pg.py) against SQLite's, on a real PostgreSQL."""

from __future__ import annotations

import sqlite3

import pytest

from app.errors import StoreError
from app.store import schema, schema_pg

PG_TYPES = {"INTEGER": "bigint", "REAL": "double precision", "TEXT": "text", "BLOB": "bytea"}


def test_the_postgresql_schema_has_every_sqlite_table_and_column(pg_url, postgres):
    """Each table of SQLite's schema (the full-text index aside) is in PostgreSQL's, with the same
    columns, types and NOT NULLs, at the same version; preparing a prepared store changes nothing."""
    import psycopg

    from app.store import pg
    assert schema_pg.SCHEMA_VERSION == schema.SCHEMA_VERSION
    with pg.connect(pg_url) as conn:
        assert pg.prepare(conn, pg_url) == schema.SCHEMA_VERSION
        assert pg.prepare(conn, pg_url) == schema.SCHEMA_VERSION
        conn.commit()
    lite = sqlite3.connect(":memory:")
    lite.create_function("replydesk_user", 0, lambda: "x")
    for script in schema.MIGRATIONS:
        lite.executescript(script)
    expected = {}
    for (table,) in lite.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                                 "AND name NOT LIKE 'messages_fts%'"):
        expected[table] = {(c[1], PG_TYPES[c[2]]) for c in lite.execute(f"PRAGMA table_info({table})")}
    with psycopg.connect(pg_url, password=postgres.password) as conn:
        rows = conn.execute("SELECT table_name, column_name, data_type, is_nullable = 'NO' FROM "
                            "information_schema.columns WHERE table_schema = current_schema() "
                            "AND is_generated = 'NEVER' AND table_name != 'replydesk_schema'").fetchall()
        version = conn.execute("SELECT version FROM replydesk_schema").fetchall()
        searched = conn.execute("SELECT count(*) FROM pg_indexes WHERE indexname = 'messages_search' "
                                "AND indexdef LIKE '%USING gin (search_vector)%'").fetchone()
    found: dict[str, set] = {}
    for table, column, type_, not_null in rows:
        found.setdefault(table, set()).add((column, type_, not_null))
    assert set(found) == set(expected)
    for table in expected:
        assert {(c, t) for c, t, _ in found[table]} == expected[table], table
    assert version == [(schema.SCHEMA_VERSION,)]
    assert searched == (1,)


def test_the_postgresql_schema_allows_null_where_sqlite_does(pg_url, postgres):
    import psycopg

    from app.store import pg
    with pg.connect(pg_url) as conn:
        pg.prepare(conn, pg_url)
    lite = sqlite3.connect(":memory:")
    lite.create_function("replydesk_user", 0, lambda: "x")
    for script in schema.MIGRATIONS:
        lite.executescript(script)
    with psycopg.connect(pg_url, password=postgres.password) as conn:
        for table, column, not_null in conn.execute(
                "SELECT table_name, column_name, is_nullable = 'NO' FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND is_generated = 'NEVER' AND table_name != 'replydesk_schema'"):
            info = {c[1]: c for c in lite.execute(f'PRAGMA table_info("{table}")')}[column]
            # a primary key is NOT NULL in PostgreSQL (in SQLite an INTEGER one is the rowid: never NULL)
            assert not_null == bool(info[3] or info[5]), (table, column)


def test_a_store_from_an_older_version_is_brought_up_to_date_and_a_newer_one_refused(pg_url, postgres):
    """The migrations run in order from the version the store is at; a store from a newer
    replydesk is refused with one line, never guessed at."""
    import psycopg

    from app.store import pg
    with psycopg.connect(pg_url, password=postgres.password, autocommit=True) as conn:
        conn.execute(schema_pg.MIGRATIONS[0].encode())  # a store as the first PostgreSQL version made it
        conn.execute("INSERT INTO replydesk_schema (version) VALUES (%s)", (schema_pg.BASELINE,))
        conn.execute("INSERT INTO accounts (id, email) VALUES ('box', 'box@sender.example')")
    with pg.connect(pg_url) as conn:
        assert pg.prepare(conn, pg_url) == schema.SCHEMA_VERSION
        assert conn.execute("SELECT version FROM replydesk_schema").fetchall() == [(schema.SCHEMA_VERSION,)]
        assert conn.execute("SELECT email FROM accounts").fetchall() == [("box@sender.example",)]
        conn.execute("UPDATE replydesk_schema SET version = version + 1")
        conn.commit()
        with pytest.raises(StoreError, match="from a newer replydesk"):
            pg.prepare(conn, pg_url)



def test_every_sqlite_trigger_has_its_twin_on_postgresql(pg_url, postgres):
    """What SQLite keeps by a trigger (counts, events, activity) PostgreSQL keeps by one of the same
    name on the same table: a trigger added to SQLite's schema without its twin fails here. The
    full-text index's triggers have none: PostgreSQL's search vector is a generated column."""
    import psycopg

    from app.store import pg
    with pg.connect(pg_url) as conn:
        pg.prepare(conn, pg_url)
        conn.commit()
    lite = sqlite3.connect(":memory:")
    lite.create_function("replydesk_user", 0, lambda: "x")
    for script in schema.MIGRATIONS:
        lite.executescript(script)
    expected = {(name, table) for name, table in lite.execute(
        "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger' AND name NOT LIKE 'messages_fts%'")}
    with psycopg.connect(pg_url, password=postgres.password) as conn:
        found = {(str(n), str(t)) for n, t in conn.execute(
            "SELECT tgname, tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal").fetchall()}
    assert expected and expected == found
