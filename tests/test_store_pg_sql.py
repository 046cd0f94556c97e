"""SQLite's SQL as the PostgreSQL store speaks it (``app.store.pgdb.to_pg``): each rewrite, and
what it must leave alone (string literals, the aggregates)."""

from __future__ import annotations

import sqlite3

import pytest

from app.store.pgdb import to_pg

HINTS = [
    # SQLite's index hints: PostgreSQL has none, its planner picks
    ("SELECT id FROM outbox INDEXED BY outbox_sent WHERE state = 'sent' ORDER BY sent_at DESC LIMIT ?",
     "SELECT id FROM outbox WHERE state = 'sent' ORDER BY sent_at DESC LIMIT %s"),
    ("SELECT id FROM outbox NOT INDEXED WHERE state = 'sent'", "SELECT id FROM outbox WHERE state = 'sent'"),
    # a unary + that keeps SQLite off an index: on PostgreSQL only a number takes it
    ("SELECT +o.account, count(*) FROM messages o WHERE o.uid > 1 + ? GROUP BY +o.account",
     "SELECT o.account, count(*) FROM messages o WHERE o.uid > 1 + %s GROUP BY o.account"),
    # ... and nothing in a string literal is touched
    ("SELECT id FROM messages WHERE subject = ' INDEXED BY x, +y'",
     "SELECT id FROM messages WHERE subject = ' INDEXED BY x, +y'"),
]

CASES = [
    ("SELECT a FROM t WHERE b = ? AND c LIKE ? ESCAPE '\\'", "SELECT a FROM t WHERE b = %s AND c ILIKE %s ESCAPE '\\'"),
    ("SELECT 'a ? b', x FROM t WHERE y = ?", "SELECT 'a ? b', x FROM t WHERE y = %s"),
    ("SELECT 1 FROM t WHERE flags LIKE '%replydesk-%'", "SELECT 1 FROM t WHERE flags ILIKE '%%replydesk-%%'"),
    ("INSERT OR IGNORE INTO labels (a) VALUES (?)", "INSERT INTO labels (a) VALUES (%s) ON CONFLICT DO NOTHING"),
    ("INSERT OR IGNORE INTO t (a) VALUES (?) RETURNING a",
     "INSERT INTO t (a) VALUES (%s) ON CONFLICT DO NOTHING RETURNING a"),
    ("SELECT 1 FROM c WHERE a IS NOT ? AND (x, y) IS NOT (?, ?) AND b IS m.id AND d IS NOT NULL AND e IS NULL",
     "SELECT 1 FROM c WHERE a IS DISTINCT FROM %s AND (x, y) IS DISTINCT FROM (%s, %s) "
     "AND b IS NOT DISTINCT FROM m.id AND d IS NOT NULL AND e IS NULL"),
    ("SELECT c.id FROM c WHERE c.id IN (SELECT value FROM json_each(?))",
     "SELECT c.id FROM c WHERE c.id IN (SELECT value::bigint FROM json_array_elements_text(%s::json))"),
    # Message-IDs are text, not row ids
    ("SELECT category FROM labels WHERE l.message_id IN (SELECT value FROM json_each(?))",
     "SELECT category FROM labels WHERE l.message_id IN (SELECT value FROM json_array_elements_text(%s::json))"),
    ("SELECT 1 FROM json_each(m.to_addrs) WHERE lower(value) = ?",
     "SELECT 1 FROM json_array_elements_text(m.to_addrs::json) WHERE lower(value) = %s"),
    ("SELECT json_extract(m.reasons, '$[0]'), json_array_length(m.attachments), "
     "json_array_length(undo, '$.labels')",
     "SELECT (m.reasons::json->>0), json_array_length(m.attachments::json), "
     "json_array_length((undo::json)->'labels')"),
    ("SELECT max(a, coalesce(b, 0)), min(x), max(y), min(p, max(q, r))",
     "SELECT GREATEST(a, coalesce(b, 0)), min(x), max(y), LEAST(p, GREATEST(q, r))"),
    ("SELECT (julianday('now') - 2440587.5) * 86400.0", "SELECT extract(epoch from clock_timestamp())"),
    *HINTS,
]


@pytest.mark.parametrize(("sqlite_sql", "postgres_sql"), CASES)
def test_each_rewrite(sqlite_sql, postgres_sql):
    assert to_pg(sqlite_sql, frozenset())[0] == postgres_sql


def test_an_insert_into_a_table_with_an_identity_returns_its_id():
    text, returning = to_pg("INSERT INTO outbox (a) VALUES (?)", frozenset({"outbox"}))
    assert returning and text == "INSERT INTO outbox (a) VALUES (%s) RETURNING id"
    assert to_pg("INSERT INTO labels (a) VALUES (?)", frozenset({"outbox"})) == (
        "INSERT INTO labels (a) VALUES (%s)", False)


def test_insert_or_replace_is_refused_rather_than_guessed():
    with pytest.raises(sqlite3.ProgrammingError, match="ON CONFLICT"):
        to_pg("INSERT OR REPLACE INTO t (a) VALUES (?)", frozenset())


@pytest.mark.parametrize(("sqlite_sql", "postgres_sql"), HINTS)
def test_a_statement_with_sqlite_planner_hints_reads_the_same_rows_on_both(store_target, sqlite_sql, postgres_sql):
    from app.store import Store
    from tests.storefill import incoming
    store = Store(store_target())
    try:
        store.ensure_account("a", "a@sender.example")
        store.add_messages("a", [incoming(n, f"<m{n}@p>", f"Re: {n}", "p@p.example") for n in (1, 2, 3)])
        params = (1,) if "?" in sqlite_sql else ()
        assert store.db.conn.execute(sqlite_sql, params).fetchall() == (
            [("a", 1)] if "GROUP BY" in sqlite_sql else [])
    finally:
        store.close()
