"""The Sent and drafts screen (0 in the inbox): what replydesk sent or holds, each with its state;
enter takes up a draft or an unsent reply with its text, and it is sent from there."""

from __future__ import annotations

from app.store import Store
from app.ui.compose import ComposeScreen
from app.ui.conversation import ConversationScreen
from app.ui.inbox import InboxScreen
from app.ui.outbox import OutboxScreen
from tests.reply_support import received  # noqa: F401  (fixture)
from tests.storefill import outbox_in
from tests.test_ui_compose import drainer_running, make_app
from tests.ui_seed import make_app as seeded_app
from tests.ui_seed import screen_text, seed, until


def states(app) -> list[str]:
    """The State column as drawn."""
    table = app.screen.query_one("#outbox-table")
    return [table.get_row_at(i)[0].plain for i in range(table.row_count)]


async def test_a_draft_is_listed_resumed_with_its_text_and_then_shown_sent(received, smtp_server):
    r = received
    app = make_app(r)
    async with app.run_test(size=(140, 36)) as pilot:
        await pilot.pause()
        await pilot.press("0")
        assert await until(pilot, lambda: isinstance(app.screen, OutboxScreen))
        assert "Nothing sent or held yet" in screen_text(app)
        await pilot.press("escape")
        await pilot.press("enter", "r")
        await pilot.pause()
        await pilot.press(*"Half a thought")
        await pilot.press("escape")  # kept as a draft
        assert await until(pilot, lambda: isinstance(app.screen, ConversationScreen))
        await pilot.press("escape")
        assert await until(pilot, lambda: isinstance(app.screen, InboxScreen))
        await pilot.press("0")
        assert await until(pilot, lambda: isinstance(app.screen, OutboxScreen))
        assert states(app) == ["draft"]
        text = screen_text(app)
        assert r.row["subject"] in text and r.prospect.email in text
        assert "1 not sent: enter resumes one" in text
        await pilot.press("enter")
        assert await until(pilot, lambda: isinstance(app.screen, ComposeScreen))
        assert app.screen.query_one("#compose-body").text.startswith("Half a thought")
        await pilot.press("end", *" and the rest.", "ctrl+s")
        assert await until(pilot, lambda: isinstance(app.screen, OutboxScreen))
        assert await until(pilot, lambda: states(app) == ["queued"])
        async with drainer_running(r):
            assert await until(pilot, lambda: states(app) == ["sent"], timeout=30)
        [item] = r.store.outbox()
        assert item["state"] == "sent" and item["body"].startswith("Half a thought and the rest.")
        await pilot.press("enter")  # a sent one opens its thread
        assert await until(pilot, lambda: isinstance(app.screen, ConversationScreen))


async def test_what_did_not_go_comes_first_and_message_text_is_shown_as_text(tmp_path):
    db = seed(tmp_path / "replydesk.db")
    store = Store(db)
    conv = store.db.conn.execute("SELECT id FROM conversations WHERE counterpart = 'mallory@spam.example'").fetchone()[0]
    common = dict(account="ana", raw=b"x", recipients=["mallory@spam.example"], conversation_id=conv)
    sent = store.queue_reply(message_id="<s@acme.io>", subject="Re: sent one", body="b", **common)
    outbox_in(store, sent, "sent")
    store.queue_reply(message_id="<q@acme.io>", subject="Re: queued one", body="b", **common)
    store.queue_reply(message_id="<d@acme.io>", subject="Re: [red]Alert[/red] \x1b[31mpay", body="b",
                      state="draft", **common)
    failed = store.queue_reply(message_id="<f@acme.io>", subject="Re: failed one", body="b", **common)
    outbox_in(store, failed, "failed", error="550 5.2.2 mailbox full")
    store.close()
    app = seeded_app(db)
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.press(*"sent and drafts", "enter")
        assert await until(pilot, lambda: isinstance(app.screen, OutboxScreen))
        assert states(app) == ["failed", "draft", "queued", "sent"]
        assert "Reply to mallory@spam.example: not sent" in screen_text(app)  # the highlighted one in words
        text = screen_text(app)
        assert "550 5.2.2 mailbox full" in text
        assert "[red]Alert[/red]" in text and "\x1b" not in text  # not markup, no escape reaches the terminal
        assert "2 not sent" in text
