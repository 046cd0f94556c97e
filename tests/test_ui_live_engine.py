"""The TUI with the engine in its own process, as `replydesk` runs it, against Dovecot: a reply
delivered to the mailbox appears without a key press, and a label set with one key reaches the
server as an IMAP keyword."""

from __future__ import annotations

from app.config import load_config
from app.engine import Engine
from app.ui import ReplydeskApp
from app.ui.inbox_list import InboxList
from tests.ui_seed import screen_text, until


async def test_delivered_reply_appears_live_and_its_label_reaches_the_server(
        users, deliver, make_config, dovecot, tmp_path):
    [user] = users(1)
    config = load_config(make_config(tmp_path, [user]))
    app = ReplydeskApp(config.database, config, engine=Engine(config, config.database), poll_interval=0.05)
    async with app.run_test(size=(100, 30)) as pilot:
        assert await until(pilot, lambda: "● 1 live" in screen_text(app)), screen_text(app)
        assert "No replies here yet." in screen_text(app)
        deliver(user.email, subject="Re: Quick question", body="Sounds interesting, can we talk Friday?",
                from_addr="Pat Prospect <pat@prospect.example>")
        inbox = app.screen.query_one(InboxList)
        assert await until(pilot, lambda: inbox.current is not None), screen_text(app)
        assert inbox.current["counterpart"] == "pat@prospect.example"
        assert "Pat Prospect" in screen_text(app)
        assert await until(pilot, lambda: "reply from Pat Prospect" in screen_text(app)), screen_text(app)

        await pilot.press("i")

        def keyword_on_server() -> bool:
            flags = dovecot.doveadm("fetch", "-u", user.email, "flags", "mailbox", "INBOX", "ALL")
            return "replydesk-interested" in flags

        assert await until(pilot, keyword_on_server), dovecot.doveadm(
            "fetch", "-u", user.email, "flags", "mailbox", "INBOX", "ALL")
        assert "interested" in screen_text(app)
        await pilot.press("q")
    assert app.engine is None  # stopped with the UI
