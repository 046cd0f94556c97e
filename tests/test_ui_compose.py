"""The compose screen with Pilot, against the real SMTP fixture and Dovecot: open a reply with
`r`, type, send, and see it in the thread once the server accepted it."""

from __future__ import annotations

import asyncio
import os
import stat
from contextlib import asynccontextmanager
from datetime import timezone

from app.commands.reply import queue_reply_to
from app.config import load_config, parse_config
from app.smtp.outbox import OutboxDrainer
from app.ui import ReplydeskApp
from app.ui.compose import ComposeScreen, edit_externally
from app.ui.conversation import ConversationScreen
from tests.reply_support import mailbox_headers, received, wait_for  # noqa: F401  (fixture)
from tests.ui_seed import clock, screen_text, seed, until


def make_app(r) -> ReplydeskApp:
    return ReplydeskApp(r.config.database, r.config, tz=timezone.utc, poll_interval=0.05)


@asynccontextmanager
async def drainer_running(r):
    """The in-process engine's outbox drainer, as `replydesk` runs it, for the block's length."""
    task = asyncio.create_task(OutboxDrainer(r.config, r.config.database, tick=0.05).run())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_reply_typed_and_sent_shows_in_the_thread(received, dovecot):
    r = received
    app = make_app(r)
    async with drainer_running(r), app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        assert isinstance(app.screen, ConversationScreen)
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen)
        text = screen_text(app)
        assert f"From: {r.config.accounts[0].name} <{r.account.email}>" in text
        assert f"To: Pat Prospect <{r.prospect.email}>" in text
        assert "Subject: Re: Quick question" in text
        assert "> Sounds interesting, tell me more." in text
        assert "Send" in text and "Cancel" in text  # the footer shows the keys

        await pilot.press(*"Great, Tuesday 10am works.")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ConversationScreen)
        assert await until(pilot, lambda: "Great, Tuesday 10am works." in screen_text(app))
        assert "You" in screen_text(app)
        # the drainer stops with this block: wait for it to record the server's answer
        assert await until(pilot, lambda: [i["state"] for i in r.store.outbox()] == ["sent"])

    [inbox] = wait_for(lambda: mailbox_headers(dovecot, r.prospect.email))
    assert f"In-Reply-To: {r.row['message_id']}" in inbox
    [item] = r.store.outbox()
    assert item["state"] == "sent" and item["body"].startswith("Great, Tuesday 10am works.")
    # the signature and the quote were in the text area: sent once, not twice
    assert item["raw"].count(b"> Sounds interesting") == 1


async def test_cancel_keeps_a_draft_that_reopens(received):
    r = received
    app = make_app(r)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        await pilot.press("enter", "r")
        await pilot.pause()
        await pilot.press(*"Half a thought")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConversationScreen)
        [draft] = r.store.outbox()
        assert draft["state"] == "draft" and draft["body"].startswith("Half a thought")

        await pilot.press("r")
        await pilot.pause()
        assert "Half a thought" in screen_text(app)
        await pilot.press("end", *" and the rest.")
        await pilot.press("ctrl+s")
        await pilot.pause()
    [item] = r.store.outbox()
    assert item["id"] == draft["id"] and item["state"] == "queued"
    assert item["body"].startswith("Half a thought and the rest.")
    assert item["message_id"].encode() in item["raw"]


async def test_ctrl_d_discards_a_new_reply_instead_of_deleting_a_character(received):
    r = received
    app = make_app(r)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        await pilot.press("enter", "r")
        await pilot.pause()
        assert "Discard" in screen_text(app)  # the footer offers it in a new reply too
        await pilot.press(*"Not this one")
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert "Press ctrl+d again to discard" in screen_text(app)
        assert app.screen.query_one("#compose-body").text.startswith("Not this one")
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert isinstance(app.screen, ConversationScreen)
        assert r.store.outbox() == []  # nothing kept, nothing sent

        await pilot.press("r")  # untouched: one ctrl+d closes it
        await pilot.pause()
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert isinstance(app.screen, ConversationScreen)
    assert r.store.outbox() == []


async def test_the_reply_screen_speaks_in_its_title_line_not_over_the_text(received):
    r = received
    app = make_app(r)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        await pilot.press("enter", "r")
        await pilot.pause()
        await pilot.press("ctrl+s")  # nothing written yet
        await pilot.pause()
        assert screen_text(app).splitlines()[0].strip() == "Reply  · write the reply first"
        await pilot.press(*"Kept for later", "escape")
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        assert screen_text(app).splitlines()[0].strip() == "Reply  · draft restored"
        assert screen_text(app).count("draft restored") == 1


async def test_a_suppressed_recipient_needs_a_second_send(received):
    r = received
    r.store.suppress(r.prospect.email, "unsubscribe")
    app = make_app(r)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        await pilot.press("enter", "r")
        await pilot.pause()
        assert "is on the suppression list" in screen_text(app)
        await pilot.press(*"Are you sure?")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen) and r.store.outbox() == []
        assert "Press ctrl+s again to send anyway" in screen_text(app)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ConversationScreen)
    assert [i["state"] for i in r.store.outbox()] == ["queued"]


def test_editor_round_trip_uses_a_private_file(tmp_path, monkeypatch):
    script = tmp_path / "editor.sh"
    seen = tmp_path / "mode"
    script.write_text(f'#!/bin/sh\nstat -c %a "$1" > {seen}\nprintf "edited\\n" >> "$1"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("VISUAL", str(script))
    assert edit_externally("draft\n") == "draft\nedited\n"
    assert seen.read_text().strip() == "600"
    assert not [p for p in os.listdir(tmp_path) if p.startswith("replydesk-reply-")]



async def test_a_refused_reply_shows_the_server_words_and_can_be_sent_again(received, dovecot, smtp_server):
    r = received
    smtp_server.fail_next(550, "5.7.1 Sender blocked by policy")
    app = make_app(r)
    async with drainer_running(r), app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await pilot.press("enter", "r")
        await pilot.pause()
        await pilot.press(*"First try")
        await pilot.press("ctrl+s")
        assert await until(pilot, lambda: "Your reply was NOT sent" in screen_text(app))
        text = screen_text(app)
        assert "550 5.7.1 Sender blocked by policy" in text and "First try" in text

        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen)
        assert "Not sent: " in screen_text(app) and "First try" in screen_text(app)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert await until(pilot, lambda: "NOT sent" not in screen_text(app)
                           and "First try" in screen_text(app) and "You" in screen_text(app))
        # shown as it goes out; the server's acceptance follows (on a loaded machine, later)
        assert await until(pilot, lambda: [i["state"] for i in r.store.outbox()] == ["sent"])
    assert len(wait_for(lambda: mailbox_headers(dovecot, r.prospect.email))) == 1


async def test_an_uncertain_reply_can_be_recorded_as_delivered_and_a_draft_discarded(received):
    r = received
    uncertain = queue_reply_to(r.config, r.store, r.row, "Did this arrive?")
    r.store.claim_item(uncertain)
    r.store.set_outbox_state(uncertain, "uncertain", error="interrupted while the server was receiving it")
    app = make_app(r)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert "Your reply may or may not have been delivered" in screen_text(app)
        await pilot.press("r")
        await pilot.pause()
        text = screen_text(app)
        assert "Delivery uncertain" in text and "It arrived" in text and "Discard" not in text
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert isinstance(app.screen, ConversationScreen)
        assert "may or may not" not in screen_text(app) and "Did this arrive?" in screen_text(app)
        assert r.store.outbox_item(uncertain)["state"] == "sent"
        assert {op["op"] for op in r.store.pending_ops(r.config.accounts[0].id)} == {"append", "add_flags"}

        await pilot.press("r")
        await pilot.pause()
        await pilot.press(*"Never mind")
        await pilot.press("escape")
        await pilot.pause()
        [draft] = r.store.outbox(("draft",))
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert "Press ctrl+d again to discard" in screen_text(app)
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert isinstance(app.screen, ConversationScreen)
    assert r.store.outbox_item(draft["id"]) is None


def test_compose_screen_layout(snap_compare, tmp_path):
    config = parse_config({"accounts": [{"id": "ana", "email": "ana@acme.io", "name": "Ana Reyes",
                                         "provider": "google", "signature": "Ana Reyes\nAcme"}]})
    app = ReplydeskApp(seed(tmp_path / "replydesk.db"), config, clock=clock, tz=timezone.utc)
    assert snap_compare(app, press=["enter", "r"], terminal_size=(100, 30))


async def test_health_says_when_a_mailbox_cannot_send(received):
    r = received
    r.store.set_smtp_health(r.config.accounts[0].id, False, "SMTP 127.0.0.1:1: cannot connect: refused")
    app = make_app(r)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        await pilot.press("h")
        await pilot.pause()
        assert "SMTP: failing (just now): SMTP 127.0.0.1:1: cannot connect: refused" in screen_text(app)


async def test_a_saved_reply_goes_in_at_the_cursor_with_the_prospects_name(received):
    r = received
    with open(r.config_path, "a", encoding="utf-8") as f:  # noqa: ASYNC230 (a small local file)
        f.write('\n[templates]\ncalendar = "Hi {first_name|there},\\n\\nHere is my calendar: '
                'https://cal.example/{my_first_name}"\npricing = "Pricing for {company|your team}."\n')
    config = load_config(r.config_path)
    app = ReplydeskApp(config.database, config, tz=timezone.utc, poll_interval=0.05)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        await pilot.press("enter", "r")
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen) and "Template" in screen_text(app)
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert "Insert a saved reply" in screen_text(app) and "pricing" in screen_text(app)
        await pilot.press("enter")  # the first: calendar
        await pilot.pause()
        body = app.screen.query_one("#compose-body").text
        me = config.accounts[0].name.split()[0]
        assert body.startswith(f"Hi Pat,\n\nHere is my calendar: https://cal.example/{me}\n")
        assert "> Sounds interesting, tell me more." in body  # the quote stays below


async def test_no_template_key_without_templates(received):
    app = make_app(received)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        await pilot.press("enter", "r")
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen) and "Template" not in screen_text(app)
