"""`replydesk db copy`: a whole store from SQLite to a real PostgreSQL and back, and its errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.cli import main
from app.store import InboxFilter, Store, schema
from app.store.copy import RUNTIME_TABLES
from tests.oauth_fakes import file_keyring  # noqa: F401  (fixture)
from tests.servers.ports import free_port
from tests.storefill import fill_every_table, incoming


def sqlite_tables(path: Path) -> dict[str, list[tuple]]:
    """Every table's rows (sorted), the id counters included; the full-text index left out
    (SQLite derives it)."""
    conn = sqlite3.connect(path)
    names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                        "AND name NOT LIKE 'messages_fts%'")]
    out = {n: sorted(conn.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr) for n in names}
    conn.close()
    return out


def pg_tables(postgres, url: str) -> dict[str, list[tuple]]:
    import psycopg
    out = {}
    with psycopg.connect(url, password=postgres.password) as conn:
        names = [n for (n,) in conn.execute("SELECT table_name FROM information_schema.tables "
                                            "WHERE table_schema = current_schema()")]
        for name in names:
            columns = [c for (c,) in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                "AND is_generated = 'NEVER' ORDER BY ordinal_position", (name,))]
            query = "SELECT {} FROM {}".format(", ".join(f'"{c}"' for c in columns), f'"{name}"')
            out[name] = sorted(conn.execute(query.encode()).fetchall(), key=repr)
    return out


def copy(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["db", "copy", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("replydesk: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def filled(tmp_path) -> Path:
    path = tmp_path / "source.db"
    store = Store(path, user="ann")
    fill_every_table(store)
    store.close()
    return path


# --- the copy ----------------------------------------------------------------------------------

def test_a_store_goes_to_postgresql_and_back_unchanged(filled, pg_url, postgres, tmp_path, capsys):
    before = sqlite_tables(filled)
    assert all(before[t] for t in before), [t for t in before if not before[t]]  # every table has rows

    code, out, err = copy(capsys, str(filled), pg_url)
    assert code == 0, err
    assert f"from {filled} to {pg_url}" in out
    assert "copied messages: 16 rows" in err
    on_pg = pg_tables(postgres, pg_url)
    for table, rows in before.items():
        if table != "sqlite_sequence":
            assert on_pg[table] == ([] if table in RUNTIME_TABLES else rows), table

    back = tmp_path / "back" / "copy.db"
    code, out, err = copy(capsys, pg_url, str(back))
    assert code == 0, err
    # everything but which engines ran on the source and what they held
    assert sqlite_tables(back) == {t: [] if t in RUNTIME_TABLES else rows for t, rows in before.items()}

    # the copy is a working store: search (its rebuilt index), the inbox, ids that go on
    store = Store(back)
    hits = store.conversations_at(InboxFilter(view="all", search="pricing"), 0, 50)
    assert len(hits) == 12
    assert store.view_counts() == Store(filled).view_counts()
    events = len(before["events"])
    new_id = store.add_messages("box1", [incoming(50, "<new@prospect.example>", "Re: new", "new@prospect.example")])[0]
    assert new_id > max(r[0] for r in before["messages"]) and new_id > dict(before["sqlite_sequence"])["messages"]
    assert len(sqlite_tables(back)["events"]) == events + 1  # the triggers are back
    store.close()


def test_postgresql_finds_a_word_in_the_copied_messages(filled, pg_url, postgres, capsys):
    import psycopg
    assert copy(capsys, str(filled), pg_url)[0] == 0
    with psycopg.connect(pg_url, password=postgres.password) as conn:
        found = conn.execute("SELECT count(*) FROM messages WHERE search_vector @@ "
                             "to_tsquery('simple', 'pricing & 3')").fetchone()
    assert found == (2,)  # the third reply in each mailbox


def test_a_copy_run_again_changes_nothing(filled, pg_url, postgres, tmp_path, capsys):
    assert copy(capsys, str(filled), pg_url)[0] == 0
    first = pg_tables(postgres, pg_url)
    code, _, err = copy(capsys, str(filled), pg_url)
    assert code == 0, err
    assert pg_tables(postgres, pg_url) == first

    back = tmp_path / "back.db"
    assert copy(capsys, pg_url, str(back))[0] == 0
    once = sqlite_tables(back)
    assert copy(capsys, pg_url, str(back))[0] == 0
    assert sqlite_tables(back) == once


def test_a_copy_takes_the_changes_made_since_the_last(filled, pg_url, postgres, capsys):
    assert copy(capsys, str(filled), pg_url)[0] == 0
    store = Store(filled)
    store.archive(store.conversation_ids(InboxFilter(view="all"))[:3])
    store.close()
    assert copy(capsys, str(filled), pg_url)[0] == 0
    on_pg = pg_tables(postgres, pg_url)
    assert on_pg["conversations"] == sqlite_tables(filled)["conversations"]


# --- errors: one line, non-zero exit ------------------------------------------------------------

def test_an_unreachable_server(filled, capsys, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "unused")
    port = free_port()
    code, _, err = copy(capsys, str(filled), f"postgresql://replydesk@127.0.0.1:{port}/db")
    assert code == 1
    line = one_line_error(err)
    assert f"127.0.0.1:{port}/db: cannot connect" in line and "refused" in line


@pytest.mark.parametrize("url", ["postgresql://u@h/db?nosuch=1", "postgresql://[::1/db", "postgres://%zz@h/db"])
def test_a_bad_url(filled, capsys, url):
    code, _, err = copy(capsys, str(filled), url)
    assert code == 1
    assert "not a valid postgresql:// URL" in one_line_error(err)


@pytest.mark.parametrize("url", ["postgresql://u:Pw-s3cret%21@h/db?nosuch=1", "postgresql://u:Pw-s3cret%21@[::1/db"])
def test_a_bad_url_holding_a_password_is_refused_without_it(filled, capsys, url):
    code, _, err = copy(capsys, str(filled), url)
    assert code == 1
    line = one_line_error(err)
    assert "not a valid postgresql:// URL" in line and "Pw-s3cret" not in line and "u:***@" in line


def test_a_password_in_the_url_is_refused_and_not_printed(filled, pg_url, postgres, capsys):
    url = pg_url.replace("replydesk@", f"replydesk:{postgres.password}@")
    code, _, err = copy(capsys, str(filled), url)
    assert code == 1
    line = one_line_error(err)
    assert "the URL holds a password" in line and postgres.password not in line


def test_no_password_anywhere(filled, pg_url, capsys, monkeypatch, tmp_path, file_keyring):
    monkeypatch.delenv("PGPASSWORD")
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    code, _, err = copy(capsys, str(filled), pg_url)
    assert code == 1
    line = one_line_error(err)
    assert "asks for a password and none was found" in line and "PGPASSWORD" in line


def test_the_password_from_the_keyring(filled, pg_url, postgres, capsys, monkeypatch, tmp_path, file_keyring):
    monkeypatch.delenv("PGPASSWORD")
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(postgres.password + "\n"))
    assert main(["db", "password", pg_url, "--password-stdin"]) == 0
    assert "stored the password for" in capsys.readouterr().out
    code, _, err = copy(capsys, str(filled), pg_url)
    assert code == 0, err


def test_the_password_from_a_command_and_from_pgpass(filled, pg_url, postgres, capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("PGPASSWORD")
    secret = tmp_path / "secret"
    secret.write_text(postgres.password + "\n")
    code, _, err = copy(capsys, str(filled), pg_url, "--password-command", f"cat {secret}")
    assert code == 0, err
    code, _, err = copy(capsys, str(filled), pg_url, "--password-command", "false")
    assert code == 1 and "--password-command false exited with status 1" in one_line_error(err)
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{postgres.port}:*:{postgres.user}:{postgres.password}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    code, _, err = copy(capsys, str(filled), pg_url)
    assert code == 0, err


def test_a_target_holding_another_store_is_left_alone(filled, pg_url, postgres, tmp_path, capsys):
    other = tmp_path / "other.db"
    store = Store(other)
    fill_every_table(store, accounts=1)
    store.close()
    assert copy(capsys, str(other), pg_url)[0] == 0
    before = pg_tables(postgres, pg_url)
    code, _, err = copy(capsys, str(filled), pg_url)
    assert code == 1
    assert "holds another replydesk store" in one_line_error(err)
    assert pg_tables(postgres, pg_url) == before
    code, _, err = copy(capsys, pg_url, str(filled))
    assert code == 1 and "holds another replydesk store" in one_line_error(err)


def test_a_schema_version_that_does_not_match(filled, pg_url, postgres, tmp_path, capsys):
    import psycopg
    assert copy(capsys, str(filled), pg_url)[0] == 0
    with psycopg.connect(pg_url, password=postgres.password) as conn:
        conn.execute("UPDATE replydesk_schema SET version = version + 1")
    code, _, err = copy(capsys, pg_url, str(tmp_path / "x.db"))
    assert code == 1
    assert f"at schema version {schema.SCHEMA_VERSION + 1}, this replydesk copies version" in one_line_error(err)
    code, _, err = copy(capsys, str(filled), pg_url)
    assert code == 1 and "from a newer replydesk" in one_line_error(err)

    old = tmp_path / "old.db"
    conn = sqlite3.connect(old)
    conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION - 1}")
    conn.close()
    code, _, err = copy(capsys, str(old), str(tmp_path / "y.db"))
    assert code == 1 and "open it once with this replydesk" in one_line_error(err)
    # the targets the failed copies created are not left behind, nor their lock files
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(("x.", "y."))]


def test_a_database_that_is_not_a_store(filled, pg_url, postgres, tmp_path, capsys):
    import psycopg
    with psycopg.connect(pg_url, password=postgres.password) as conn:
        conn.execute("CREATE TABLE invoices (id int)")
    code, _, err = copy(capsys, str(filled), pg_url)
    assert code == 1 and "holds tables that are not a replydesk store (invoices)" in one_line_error(err)
    code, _, err = copy(capsys, pg_url, str(tmp_path / "z.db"))
    assert code == 1 and "holds no replydesk store" in one_line_error(err)
    code, _, err = copy(capsys, str(tmp_path / "missing.db"), pg_url)
    assert code == 1 and "missing.db: no such store" in one_line_error(err)
    code, _, err = copy(capsys, str(filled), str(filled))
    assert code == 2 and "source and target are the same store" in one_line_error(err)
    other_spelling = pg_url.replace("postgresql://", "postgres://")
    code, _, err = copy(capsys, pg_url, other_spelling + "?connect_timeout=5")
    assert code == 2 and "source and target are the same store" in one_line_error(err)
    foreign = tmp_path / "crm.sqlite"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE invoices (id int)")
    code, _, err = copy(capsys, str(filled), str(foreign))
    assert code == 1 and "crm.sqlite: the file holds tables that are not a replydesk store (invoices)" in \
        one_line_error(err)
    with sqlite3.connect(foreign) as conn:
        assert [n for (n,) in conn.execute("SELECT name FROM sqlite_master")] == ["invoices"]


def test_a_store_an_engine_runs_on_is_not_replaced(filled, pg_url, tmp_path, capsys):
    from app.engine_lock import EngineLock
    assert copy(capsys, str(filled), pg_url)[0] == 0
    target = tmp_path / "live.db"
    assert copy(capsys, pg_url, str(target))[0] == 0
    engine = EngineLock(target)
    engine.acquire()
    try:
        code, _, err = copy(capsys, pg_url, str(target))
    finally:
        engine.release()
    assert code == 1 and "another engine runs on" in one_line_error(err)
    assert copy(capsys, pg_url, str(target))[0] == 0


def test_a_role_that_may_not_create_the_tables(filled, pg_url, postgres, capsys, monkeypatch):
    """PostgreSQL's own refusal mid-way (here: no CREATE on the schema) is one line too."""
    import secrets

    import psycopg
    from psycopg import sql
    password = secrets.token_urlsafe(12)
    role = f"reader_{secrets.token_hex(4)}"
    with psycopg.connect(pg_url, password=postgres.password, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))
    monkeypatch.setenv("PGPASSWORD", password)
    code, _, err = copy(capsys, str(filled), pg_url.replace("//replydesk@", f"//{role}@"))
    assert code == 1
    line = one_line_error(err)
    assert "failed: permission denied for schema public" in line


def test_a_server_on_another_host_is_reached_only_encrypted_and_verified(filled, pg_url, postgres, capsys):
    # the test server (no TLS) under a name that is not loopback: libpq's default would fall back
    # to plain text and send the store unencrypted; replydesk asks for TLS with a verified certificate
    url = pg_url.replace("127.0.0.1", "store.db.example")
    url += ("&" if "?" in url else "?") + "hostaddr=127.0.0.1"
    code, _, err = copy(capsys, str(filled), url)
    assert code == 1
    line = one_line_error(err)
    assert "cannot connect" in line and "SSL" in line
    # an sslmode the user wrote is theirs
    url += "&sslmode=disable"
    assert copy(capsys, str(filled), url)[0] == 0
