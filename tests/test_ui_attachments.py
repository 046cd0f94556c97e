"""Attachments in a thread: listed with type and size, a calendar invitation's event shown, and
``v`` saving one (the picker when there are several, the folder prompt, a file of the same name
replaced only on a second enter). The watcher's fetch and write are tested against Dovecot in
tests/test_imap_save_attachment.py; here another connection finishes the queued save as the
engine would."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import parse_config
from app.mail.types import Attachment, Invite
from app.store import Store
from app.ui.attachments import SaveAttachmentScreen
from app.ui.conversation import ConversationScreen
from app.ui.pickers import PickerScreen
from tests.ui_seed import NOW, inbound, make_app, message, screen_text, seed, until

INVITE = Invite(title="Demo of the [bold]reporting[/bold] module", start="2026-12-03T15:00:00+00:00",
                organizer="Carol Diaz <carol@prospect.io>", location="Teams", method="REQUEST")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = seed(tmp_path / "replydesk.db")
    store = Store(path)
    store.add_messages("ana", [inbound(30, message(
        "<meet@prospect.io>", "Re: Quick question about Acme", "carol@prospect.io", name="Carol Diaz",
        new_text="Booked it, invitation attached.", in_reply_to="<out1@acme.io>", at=NOW - 60,
        attachments=[Attachment("invite.ics", "text/calendar", 1900, invite=INVITE),
                     Attachment("agenda.pdf", "application/pdf", 12_000)]), "reply", "meeting")])
    store.close()
    return path


def pending_saves(db: Path) -> list[tuple[int, dict]]:
    import json
    store = Store(db)
    try:
        return [(r[0], json.loads(r[1])) for r in store.db.conn.execute(
            "SELECT id, args FROM pending_ops WHERE op = 'save_attachment' AND state = 'pending'")]
    finally:
        store.close()


async def test_the_thread_lists_attachments_and_shows_the_invitation(db: Path) -> None:
    app = make_app(db)
    async with app.run_test(size=(160, 36)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        text = screen_text(app)
        assert "Attachments: invite.ics (calendar invitation, 1.9 KB), agenda.pdf (PDF, 11.7 KB)" in text
        # the event's text is shown as it came, never read as markup
        assert ("Invitation: Demo of the [bold]reporting[/bold] module · Thu 03 Dec 2026 15:00 · "
                "organiser Carol Diaz <carol@prospect.io> · Teams") in text


async def test_v_picks_an_attachment_and_saves_it_in_the_folder_typed(db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "agenda.pdf").write_bytes(b"older file")
    app = make_app(db, parse_config({"general": {"download_folder": str(tmp_path / "nowhere")}}))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        conversation = app.screen
        assert isinstance(conversation, ConversationScreen)
        await pilot.press("v")  # several attachments in the thread: which one?
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)
        text = screen_text(app)
        assert "Save which attachment?" in text and "requirements.pdf (PDF, 46.9 KB)" in text
        await pilot.press("j", "k", "j", "enter")  # the second: agenda.pdf, of the newest message
        await pilot.pause()
        assert isinstance(app.screen, SaveAttachmentScreen)
        assert "Save agenda.pdf (PDF, 11.7 KB) as agenda.pdf in the folder:" in screen_text(app)
        await pilot.press("enter")  # the config's folder, which does not exist
        await pilot.pause()
        assert "is not a folder: type another, or escape" in " ".join(screen_text(app).split())
        app.screen.query_one("#save-folder").value = str(folder)
        await pilot.press("enter")
        await pilot.pause()
        assert "agenda.pdf is in" in screen_text(app) and "enter again to replace it" in " ".join(screen_text(app).split())
        assert pending_saves(db) == []  # nothing queued before the second enter
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is conversation
        [(op, args)] = pending_saves(db)
        assert args == {"index": 1, "path": str(folder / "agenda.pdf"), "replace": True}
        assert "saving agenda.pdf to" in screen_text(app)
        store = Store(db)  # the watcher carried it out (another connection, as the engine)
        store.finish_op(op)
        store.close()
        assert await until(pilot, lambda: "saved " + str(folder / "agenda.pdf") in screen_text(app))


async def test_escape_saves_nothing_and_a_thread_without_attachments_says_so(db: Path, tmp_path: Path) -> None:
    app = make_app(db)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await pilot.press("enter", "v", "enter")
        await pilot.pause()
        assert isinstance(app.screen, SaveAttachmentScreen)
        assert app.screen.query_one("#save-folder").value == "~/Downloads"  # no download_folder set
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConversationScreen) and pending_saves(db) == []
        await pilot.press("escape", "j", "enter", "v")  # Gavin's reply has no attachment
        await pilot.pause()
        assert isinstance(app.screen, ConversationScreen)
        assert "no attachments in this thread" in screen_text(app)


@pytest.mark.parametrize(("reason", "shown"), [
    ("{folder}/invite.ics could not be written: Permission denied", "could not be written: Permission denied"),
    # a server's words (a folder's name, a NO's text): folded and sanitized, no escape let through
    ("INBOX\x1b]8;;https://evil.example\x07no longer\x1b[2J\nhas the message", "no longer has the message"),
])
async def test_a_failed_save_says_why(db: Path, tmp_path: Path, reason: str, shown: str) -> None:
    app = make_app(db)
    async with app.run_test(size=(160, 36)) as pilot:
        await pilot.pause()
        await pilot.press("enter", "v", "enter")
        await pilot.pause()
        app.screen.query_one("#save-folder").value = str(tmp_path)
        await pilot.press("enter")
        await pilot.pause()
        [(op, _)] = pending_saves(db)
        store = Store(db)
        store.finish_op(op, reason.format(folder=tmp_path), give_up=True)
        store.close()
        assert await until(pilot, lambda: "invite.ics not saved: " in screen_text(app))
        assert "Not on the server: saving invite.ics failed" in screen_text(app)
        said = next(row for row in screen_text(app).splitlines() if "invite.ics not saved: " in row)
        assert shown in said and not any(ord(c) < 32 or ord(c) == 127 for c in said)
