"""The first seconds of a start (the demo's, a new install's): the inbox says that the configured
mailboxes are connecting and how far their first fetch is, never that there are none."""

from __future__ import annotations

from pathlib import Path

from app.config import parse_config
from app.store import Store
from tests.ui_seed import make_app, screen_text, until


def config_for(db: Path, mailboxes: int):
    return parse_config({"general": {"database": str(db)}, "accounts": [
        {"id": f"box{i}", "email": f"box{i}@sender.example", "provider": "generic", "password_env": "NONE",
         "imap": {"host": "127.0.0.1"}, "smtp": {"host": "127.0.0.1"}} for i in range(mailboxes)]})


async def test_before_the_engine_registers_the_mailboxes_they_are_connecting(tmp_path: Path) -> None:
    db = tmp_path / "rd.db"
    app = make_app(db, config_for(db, 3))
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "Connecting 3 mailboxes" in text
        assert "no mailboxes yet" not in text.lower()
        assert "3 syncing" in text

        # the engine registers them and their first fetch runs: the progress shows in the list
        store = Store(db)
        for i in range(3):
            store.ensure_account(f"box{i}", f"box{i}@sender.example")
        with store.db.tx() as conn:
            conn.execute("UPDATE accounts SET state = 'syncing', sync_done = 40, sync_total = 200")
        store.close()
        assert await until(pilot, lambda: "120 of 600 messages fetched" in screen_text(app)), screen_text(app)
