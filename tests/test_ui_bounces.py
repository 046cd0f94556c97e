"""The conversation view names each failed recipient with its reason and hard/soft, and an abuse
complaint as a complaint; both are in the Bounces view."""

from __future__ import annotations

from pathlib import Path

from app.mail.types import BounceRecipient
from app.store import Store
from app.ui.conversation import ConversationScreen
from tests.ui_seed import NOW, inbound, make_app, message, screen_text

HOUR = 3600.0


def fill(path: Path) -> Path:
    store = Store(path)
    store.ensure_account("ana", "ana@acme.io", "Ana")
    store.add_messages("ana", [
        inbound(1, message("<b1@mx.example>", "Undelivered Mail Returned to Sender", "mailer-daemon@mx.example",
                           new_text="Your message could not be delivered.", at=NOW - 2 * HOUR), "bounce", "bounce",
                bounces=[BounceRecipient("full@busy.example", "4.2.2", False, "452 4.2.2 Mailbox full",
                                         reason="mailbox_full")]),
        inbound(2, message("<arf@fbl.example>", "complaint about message", "feedback@fbl.example",
                           new_text="This is an email abuse report.", at=NOW - 1 * HOUR), "complaint", "complaint",
                bounces=[BounceRecipient("zoe@meadow.example", None, True, "abuse report", reason="complaint")]),
    ])
    store.close()
    return path


async def test_bounce_reason_and_complaint_in_the_thread(tmp_path: Path) -> None:
    app = make_app(fill(tmp_path / "rd.db"))
    async with app.run_test(size=(110, 30)) as pilot:
        await pilot.pause()
        await pilot.press("2")  # the Bounces view
        await pilot.pause()
        text = screen_text(app)
        assert "zoe@meadow.example" in text or "complaint about message" in text
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConversationScreen)
        await pilot.press("G")
        await pilot.pause()
        assert "Complained: zoe@meadow.example (marked our mail as spam; suppressed)" in screen_text(app)
        await pilot.press("escape", "j", "enter")
        await pilot.pause()
        await pilot.press("G")
        await pilot.pause()
        assert "Bounced: full@busy.example 4.2.2 (mailbox full, soft)" in screen_text(app)
