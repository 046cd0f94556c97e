"""A store on PostgreSQL as its users meet it: named in the config, read by the CLI, shown in
two terminals that see each other's changes (LISTEN/NOTIFY, no polling)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import timezone
from pathlib import Path

import pytest

from app.config import load_config
from app.store import Store
from tests.ui_seed import NOW, screen_text, seed, until

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


def config_for(tmp_path: Path, url: str, user: str = "ana", extra: str = "") -> Path:
    cfg = tmp_path / f"{user}.toml"
    cfg.write_text(f'[general]\ndatabase = "{url}"\nuser = "{user}"\n{extra}\n'
                   '[[accounts]]\nid = "ana"\nemail = "ana@acme.io"\nname = "Ana Reyes"\nprovider = "google"\n')
    return cfg


@pytest.fixture
def pg_store(postgres, monkeypatch) -> str:
    """An empty PostgreSQL database: the first connection makes it a store."""
    monkeypatch.setenv("PGPASSWORD", postgres.password)
    return postgres.url(postgres.create_database())


def test_the_cli_lists_a_postgresql_store_named_in_the_config(tmp_path, pg_store):
    seed(pg_store)  # type: ignore[arg-type]
    cfg = config_for(tmp_path, pg_store)
    proc = cli("--config", str(cfg), "list", "--json", "--limit", "50")
    assert proc.returncode == 0, proc.stderr
    senders = {json.loads(line)["from"] for line in proc.stdout.splitlines()}
    assert "carol@prospect.io" in senders
    # the same rows as the store itself lists
    assert senders == {m["from"] for m in Store(pg_store).list_messages(limit=50)}


def test_a_password_in_the_url_or_a_wrong_one_is_one_line(tmp_path, postgres, pg_store, monkeypatch):
    user_host = pg_store.removeprefix("postgresql://")
    cfg = config_for(tmp_path, f"postgresql://{user_host.replace('@', ':hunter2@', 1)}")
    proc = cli("--config", str(cfg), "list")
    assert proc.returncode != 0 and "holds a password" in proc.stderr and "hunter2" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    cfg = config_for(tmp_path, pg_store)
    proc = cli("--config", str(cfg), "list", env={"PGPASSWORD": "wrong", "PGPASSFILE": "/nonexistent"})
    assert proc.returncode != 0 and "password authentication failed" in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 2 and "Traceback" not in proc.stderr


def test_the_password_comes_from_the_configured_command_never_the_config(tmp_path, postgres, pg_store):
    Store(pg_store).close()
    secret = tmp_path / "secret"
    secret.write_text(postgres.password + "\n")
    cfg = config_for(tmp_path, pg_store, extra=f'database_password_command = "cat {secret}"')
    env = {k: v for k, v in os.environ.items() if k != "PGPASSWORD"}
    proc = subprocess.run([sys.executable, "-m", "app", "--config", str(cfg), "list", "--json"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**env, "PYTHONPATH": str(ROOT), "PGPASSFILE": "/nonexistent"})
    assert proc.returncode == 0, proc.stderr
    assert postgres.password not in cfg.read_text()


LABEL = """
import sys
from app.store import Store
store = Store(sys.argv[1], "sam")
conv = store.db.conn.execute(
    "SELECT id FROM conversations WHERE counterpart = 'carol@prospect.io'").fetchone()[0]
store.set_category([conv], "not_interested")
store.close()
"""


async def test_two_terminals_on_postgresql_see_each_others_labels(tmp_path, pg_store):
    """A label set in another process (another terminal, on another host as far as the store can
    tell) reaches this terminal through LISTEN/NOTIFY: the terminal never polls (its tick is an
    hour), so the NOTIFY is the only way it can learn of it."""
    from app.ui import ReplydeskApp
    from app.ui.inbox_list import InboxList
    seed(pg_store)  # type: ignore[arg-type]
    config = load_config(config_for(tmp_path, pg_store))
    app = ReplydeskApp(pg_store, config, clock=lambda: NOW, tz=timezone.utc, poll_interval=3600)

    def carol() -> dict:
        inbox = app.screen.query_one(InboxList)
        return next(inbox.pager.row(i) for i in range(len(inbox.pager))
                    if inbox.pager.row(i)["counterpart"] == "carol@prospect.io")

    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.pause()
        assert carol()["category"] == "interested"
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", LABEL, pg_store, cwd=ROOT,
                                                    env={**os.environ, "PYTHONPATH": str(ROOT)},
                                                    stderr=asyncio.subprocess.PIPE)
        _, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, err.decode()
        assert await until(pilot, lambda: carol()["category"] == "not_interested")
        assert "carol" in screen_text(app).lower()
    # and who did it is in the team's history
    assert [(a.user, a.action) for a in Store(pg_store).activity()][-1][0] == "sam"


def test_a_lost_connection_is_opened_again_and_a_lost_transaction_says_so(pg_store, postgres):
    """The server restarted or the network broke: the next read goes through on a new
    connection; a transaction that was open is lost and its caller hears it, and the one after
    it works."""
    import sqlite3
    store = Store(pg_store)
    store.ensure_account("a", "a@sender.example")

    def cut() -> None:
        with postgres.connect() as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (store.db.conn.raw.info.backend_pid,))
    cut()
    assert [a["id"] for a in store.accounts()] == ["a"]
    with pytest.raises(sqlite3.OperationalError):
        with store.db.tx() as conn:
            conn.execute("UPDATE accounts SET name = 'x' WHERE id = 'a'")
            cut()
            conn.execute("UPDATE accounts SET name = 'y' WHERE id = 'a'")
    assert store.accounts()[0]["name"] == ""  # nothing of the lost transaction
    store.ensure_account("a", "a@sender.example", "Ana")
    assert store.accounts()[0]["name"] == "Ana"
    store.close()
