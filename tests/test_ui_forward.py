"""Forwarding from a thread (``F``, or the palette) with Pilot, against the real SMTP fixture and
Dovecot: the forward goes out through the mailbox that received the message, by the outbox like
a reply, with ``Fwd:``, the original and its headers below the text, and no In-Reply-To; the
prospect is not marked answered by it."""

from __future__ import annotations

from datetime import timezone

import pytest

from app.config import load_config
from app.mail import parse
from app.store import IncomingMessage, Store
from app.ui import ReplydeskApp
from app.ui.conversation import ConversationScreen
from app.ui.forward import ForwardScreen, parse_recipients
from tests.conftest import build_message
from tests.reply_support import Received, mailbox_headers, receive, uidvalidity, wait_for
from tests.test_ui_compose import drainer_running
from tests.ui_seed import screen_text, until


@pytest.fixture
def forwarding(dovecot, smtp_server, users, make_config, tmp_path):
    """Account A received a prospect's message; C is a colleague to forward it to."""
    account, prospect, colleague = users(3)
    got = receive(dovecot, account, prospect, make_config(tmp_path, [account]),
                  body="Sounds interesting, send me the pricing.")
    yield got, colleague
    got.store.close()


def make_app(r) -> ReplydeskApp:
    return ReplydeskApp(r.config.database, r.config, tz=timezone.utc, poll_interval=0.05)


async def test_a_forward_is_sent_through_the_mailbox_that_received_it(forwarding, dovecot):
    r, colleague = forwarding
    app = make_app(r)
    async with drainer_running(r), app.run_test(size=(110, 36)) as pilot:
        await pilot.pause()
        await pilot.press("enter", "F")
        await pilot.pause()
        assert isinstance(app.screen, ForwardScreen)
        text = screen_text(app)
        assert f"From: {r.config.accounts[0].name} <{r.account.email}>" in text
        assert "Subject: Fwd: Quick question" in text
        assert "---------- Forwarded message ---------" in text
        assert f"From: Pat Prospect <{r.prospect.email}>" in text and "Subject: Re: Quick question" in text
        await pilot.press("ctrl+s")  # nobody on the To line yet
        await pilot.pause()
        assert isinstance(app.screen, ForwardScreen) and "type who gets the forward" in screen_text(app)
        await pilot.press(*"not an address", "ctrl+s")
        await pilot.pause()
        assert "not an address: not an address" in screen_text(app)
        app.screen.query_one("#forward-to").value = f"Sam <{colleague.email}>"
        await pilot.press("enter", *"Sam, a hot one for you.", "ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ConversationScreen)
        [item] = await until_sent(pilot, r)
        assert item["kind"] == "forward" and item["recipients"] == [colleague.email]

    [received] = wait_for(lambda: mailbox_headers(dovecot, colleague.email), 20)
    assert f"From: {r.config.accounts[0].name} <{r.account.email}>" in received
    assert f"To: {colleague.email}" in received and "Subject: Fwd: Quick question" in received
    assert "In-Reply-To" not in received
    raw = r.store.outbox()[0]["raw"].decode()
    assert raw.index("Sam, a hot one for you.") < raw.index("Forwarded message")
    assert "Sounds interesting, send me the pricing." in raw
    row = r.store.message(r.row["id"])
    conv = r.store.conversation(r.row["conversation_id"])
    assert row["answered"] == 0 and conv["waiting_since"] is None  # the prospect was not answered
    assert [a.action for a in r.store.activity(conversation=r.row["conversation_id"])] == []  # no "replied"
    assert mailbox_headers(dovecot, r.prospect.email) == []  # nothing went to the prospect


async def until_sent(pilot, r) -> list:
    assert await until(pilot, lambda: [i["state"] for i in r.store.outbox()] == ["sent"], 20)
    return r.store.outbox()


async def test_the_palette_forwards_and_a_cancelled_forward_reopens_with_its_recipients(forwarding):
    r, colleague = forwarding
    app = make_app(r)
    async with app.run_test(size=(110, 36)) as pilot:
        await pilot.pause()
        await pilot.press("enter", "ctrl+p")
        await pilot.pause()
        await pilot.press(*"forward")
        await pilot.pause()
        assert "Forward (F)" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ForwardScreen)

        def presence() -> list[str]:
            return [s for (s,) in r.store.db.conn.execute("SELECT state FROM presence")]
        # the others see the thread viewed, not answered: a forward goes to someone else
        assert await until(pilot, lambda: presence() == ["viewing"])
        app.screen.query_one("#forward-to").value = colleague.email
        await pilot.press("enter", *"For you", "escape")
        await pilot.pause()
        assert isinstance(app.screen, ConversationScreen)
        [draft] = r.store.outbox(("draft",))
        assert draft["kind"] == "forward" and draft["recipients"] == [colleague.email]
        await pilot.press("r")  # a reply does not pick up the forward's draft
        await pilot.pause()
        assert "For you" not in screen_text(app)
        await pilot.press("escape", "F")
        await pilot.pause()
        assert isinstance(app.screen, ForwardScreen)
        assert app.screen.query_one("#forward-to").value == colleague.email
        assert "For you" in screen_text(app) and "draft restored" in screen_text(app)


def test_the_to_line_takes_addresses_and_names_what_is_not_one() -> None:
    assert parse_recipients("Sam <sam@acme.io>; ana@acme.io, ") == (["sam@acme.io", "ana@acme.io"], [])
    assert parse_recipients("sam, bob@localhost, x@y.io") == (["x@y.io"], ["sam", "bob@localhost"])


async def test_a_forward_of_a_message_with_attachments_waits_for_them(dovecot, smtp_server, users, make_config,
                                                                      tmp_path):
    """The screen names the attachments that go with the forward; sent, it waits in the thread
    while the mailbox's watcher fetches them (tests/test_imap_forward_attachments.py sends it)."""
    account, prospect, colleague = users(3)
    msg = build_message(account.email, subject="Re: the deck", body="Prices attached.",
                        from_addr=f"Pat Prospect <{prospect.email}>")
    msg.add_attachment(b"%PDF-1.4 prices", maintype="application", subtype="pdf", filename="prices.pdf")
    raw = msg.as_bytes()
    dovecot.deliver(account.email, raw)
    config_path = make_config(tmp_path, [account])
    config = load_config(config_path)
    store = Store(config.database)
    acc = config.accounts[0]
    store.ensure_account(acc.id, acc.email, acc.name)
    [mid] = store.add_messages(acc.id, [IncomingMessage(
        folder="INBOX", uidvalidity=uidvalidity(dovecot, account.email), uid=max(dovecot.mailbox_uids(account.email)),
        parsed=parse(raw), classification=None)])
    r = Received(config, config_path, store, account, prospect, store.message(mid))
    try:
        app = make_app(r)
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            await pilot.press("enter", "F")
            await pilot.pause()
            assert "Attachments: prices.pdf (PDF, 15 B) (fetched from the mailbox's server when you send)" \
                in " ".join(screen_text(app).split())
            app.screen.query_one("#forward-to").value = colleague.email
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert isinstance(app.screen, ConversationScreen)
            [item] = r.store.outbox()
            assert (item["kind"], item["state"]) == ("forward", "attaching")
            assert await until(pilot, lambda: f"Your forward to {colleague.email} waits for its attachments"
                               in " ".join(screen_text(app).split()))
            ops = [op for op in r.store.pending_ops(acc.id) if op["op"] == "attach_forward"]
            assert [op["args"]["outbox_id"] for op in ops] == [item["id"]]
    finally:
        store.close()
