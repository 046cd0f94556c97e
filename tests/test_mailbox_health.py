"""A mailbox's bounce rate (bounces against its last 7 days of sent mail, from its Sent folder) and
its spam complaints, on the health screen and in `replydesk accounts list`, with a warning above
the configured rate."""

from __future__ import annotations

import json
import time
from pathlib import Path

from app.config import parse_config
from app.mail.types import BounceRecipient
from app.store import Store
from app.ui.health import HealthScreen
from tests.test_cli import cli
from tests.ui_seed import NOW, inbound, make_app, message, screen_text, sent

HOUR = 3600.0


def fill(path: Path, now: float) -> None:
    """ana: 50 sent this week, 3 bounces (6 %) and a complaint; ben: 100 sent, 1 bounce (1 %);
    old bounces and sends from three weeks ago count for neither."""
    store = Store(path)
    store.ensure_account("ana", "ana@acme.io", "Ana")
    store.ensure_account("ben", "ben@acme.io", "Ben")
    for account, sends, bounces in (("ana", 50, 3), ("ben", 100, 1)):
        store.add_messages(account, [
            sent(n, message(f"<out{n}@{account}>", "Hello", f"{account}@acme.io", to=f"p{n}@prospect.example",
                            at=now - (n % 100 + 1) * HOUR)) for n in range(1, sends + 1)])
        store.add_messages(account, [
            sent(1000 + n, message(f"<old{n}@{account}>", "Hello", f"{account}@acme.io", to="q@x.example",
                                   at=now - 21 * 24 * HOUR)) for n in range(5)])
        store.add_messages(account, [
            inbound(n, message(f"<b{n}@{account}>", "Undelivered Mail", "mailer-daemon@mx.example",
                               to=f"{account}@acme.io", at=now - n * HOUR), "bounce", "bounce",
                    bounces=[BounceRecipient(f"p{n}@prospect.example", "5.1.1", True, reason="user_unknown")])
            for n in range(1, bounces + 1)])
        store.add_messages(account, [
            inbound(900 + n, message(f"<ob{n}@{account}>", "Undelivered Mail", "mailer-daemon@mx.example",
                                     to=f"{account}@acme.io", at=now - 20 * 24 * HOUR), "bounce", "bounce",
                    bounces=[BounceRecipient(f"old{n}@prospect.example", "5.1.1", True)]) for n in range(4)])
    store.add_messages("ana", [
        inbound(500, message("<arf@fbl.example>", "complaint", "feedback@fbl.example", to="ana@acme.io",
                             at=now - 2 * HOUR), "complaint", "complaint",
                bounces=[BounceRecipient("p7@prospect.example", None, True, reason="complaint")])])
    store.close()


async def test_health_screen_shows_bounce_rate_complaints_and_warns(tmp_path: Path) -> None:
    db = tmp_path / "rd.db"
    fill(db, NOW)
    app = make_app(db)
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.pause()
        await pilot.press("h")
        await pilot.pause()
        assert isinstance(app.screen, HealthScreen)
        text = screen_text(app)
        rows: dict[str, str] = {}
        for line in text.splitlines():  # the table's row, not the detail line below it
            if line.strip().split()[:1] in (["ana"], ["ben"]):
                rows.setdefault(line.split()[0], line)
        assert "! 6.0%" in rows["ana"] and " 50 " in rows["ana"]
        assert rows["ana"].split("6.0%")[1].split()[0] == "1"  # the complaints column
        assert "1.0%" in rows["ben"] and "!" not in rows["ben"]
        assert "Warning: bounce rate 6.0% (3 of 50 sent in 7 days) is above 3%" in text
        assert "1 spam complaint(s)" in text


async def test_the_warning_threshold_comes_from_the_config(tmp_path: Path) -> None:
    db = tmp_path / "rd.db"
    fill(db, NOW)
    app = make_app(db, parse_config({"general": {"bounce_rate_warning": 0.5}}))
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.pause()
        await pilot.press("h")
        await pilot.pause()
        ben = next(line for line in screen_text(app).splitlines() if line.strip().startswith("ben"))
        assert "! 1.0%" in ben


def test_accounts_list_gives_bounce_rate_and_complaints(tmp_path: Path) -> None:
    db = tmp_path / "rd.db"
    fill(db, time.time())
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[general]\ndatabase = "{db}"\n\n[[accounts]]\nid = "ana"\nemail = "ana@acme.io"\n'
                   f'provider = "google"\n\n[[accounts]]\nid = "ben"\nemail = "ben@acme.io"\nprovider = "google"\n')
    proc = cli("--config", str(cfg), "accounts", "list", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = {r["id"]: r for r in map(json.loads, proc.stdout.splitlines())}
    assert (rows["ana"]["sent_7d"], rows["ana"]["bounces_7d"], rows["ana"]["complaints_7d"],
            rows["ana"]["bounce_rate_7d"]) == (50, 3, 1, 6.0)
    assert "above 3%" in rows["ana"]["bounce_warning"]
    assert (rows["ben"]["bounce_rate_7d"], rows["ben"]["bounce_warning"]) == (1.0, None)
    text = cli("--config", str(cfg), "accounts", "list").stdout
    ana = text.split("ben")[0]
    assert "bounce   6.0% of    50 sent 7d, 1 complaint(s)" in ana and "warning: bounce rate 6.0%" in ana
