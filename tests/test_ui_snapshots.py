"""Screenshots of every screen, compared with the accepted ones in tests/__snapshots__/.

Fixed data, a fixed clock and UTC make them deterministic. After a deliberate change to the
layout: ``pytest tests/test_ui_snapshots.py --snapshot-update``, then look at the SVGs.
"""

from __future__ import annotations

from datetime import timezone
from pathlib import Path

import pytest

from app.config import parse_config
from app.store import Store
from app.ui import ReplydeskApp
from tests.storefill import outbox_in
from tests.ui_seed import clock, seed


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return seed(tmp_path / "replydesk.db")


def make_app(db: Path, theme: str = "replydesk-dark") -> ReplydeskApp:
    return ReplydeskApp(db, parse_config({"general": {"theme": theme}}), clock=clock, tz=timezone.utc)


def test_inbox(snap_compare, db: Path) -> None:
    assert snap_compare(make_app(db), terminal_size=(100, 30))


def test_inbox_80x24(snap_compare, db: Path) -> None:
    assert snap_compare(make_app(db), terminal_size=(80, 24))


def test_inbox_light(snap_compare, db: Path) -> None:
    assert snap_compare(make_app(db, "replydesk-light"), terminal_size=(100, 30))


def test_inbox_high_contrast(snap_compare, db: Path) -> None:
    assert snap_compare(make_app(db, "replydesk-contrast"), terminal_size=(100, 30))


def test_conversation(snap_compare, db: Path) -> None:
    assert snap_compare(make_app(db), press=["enter"], terminal_size=(100, 30))


def test_health(snap_compare, db: Path) -> None:
    assert snap_compare(make_app(db), press=["h"], terminal_size=(100, 30))


def test_help(snap_compare, db: Path) -> None:
    assert snap_compare(make_app(db), press=["question_mark"], terminal_size=(100, 30))


def test_conversation_80x24(snap_compare, db: Path) -> None:
    assert snap_compare(make_app(db), press=["enter"], terminal_size=(80, 24))


def test_health_80x24(snap_compare, db: Path) -> None:
    assert snap_compare(make_app(db), press=["h", "j"], terminal_size=(80, 24))


@pytest.mark.parametrize("theme", ["replydesk-dark", "replydesk-light", "replydesk-contrast"])
@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
def test_inbox_markers(snap_compare, db: Path, theme: str, size: tuple[int, int]) -> None:
    """Every row marker (unread, answered, draft, failed reply, attachment, return date) and the
    selection count, at the smallest and a wide terminal in every shipped theme."""
    from tests.test_ui_inbox import marked_store
    marked_store(db)
    assert snap_compare(make_app(db, theme), press=["x"], terminal_size=size)


@pytest.mark.parametrize("theme", ["replydesk-dark", "replydesk-light", "replydesk-contrast"])
@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
def test_conversation_opens_at_newest(snap_compare, db: Path, theme: str, size: tuple[int, int]) -> None:
    """The thread opened at the newest reply, the cold email folded above it."""
    assert snap_compare(make_app(db, theme), press=["enter"], terminal_size=size)


THEMES = ["replydesk-dark", "replydesk-light", "replydesk-contrast"]
SIZES = [(80, 24), (200, 60)]


def held_replies(db: Path) -> None:
    """Carol's conversation with a reply that failed, Mallory's with one whose delivery is
    uncertain, Erin's with a draft, and one sent to Gavin."""
    store = Store(db)
    try:
        def item(sender: str, subject: str, state: str, error: str | None = None) -> None:
            conv, msg = store.db.conn.execute(
                "SELECT conversation_id, id FROM messages WHERE from_addr = ?", (sender,)).fetchone()
            account = "ben" if sender.endswith("hooli.com") else "ana"
            queued = store.queue_reply(account=account, message_id=f"<held-{state}@acme.io>", raw=b"x",
                                       recipients=[sender], subject=subject, body=f"Thanks ({state}).",
                                       reply_to_message=msg, conversation_id=conv,
                                       state="draft" if state == "draft" else "queued")
            if state not in ("draft", "queued"):
                outbox_in(store, queued, state, error=error)  # claimed, then refused or lost
        item("carol@prospect.io", "Re: Quick question about Acme", "failed", "550 5.7.1 message rejected as spam")
        item("mallory@spam.example", "Re: pay now", "uncertain", "connection lost after DATA")
        item("erin@globex.com", "Re: Idea for Globex", "draft")
        item("gavin@hooli.com", "Re: Partnership", "sent")
        # the team history records these at the real time, by the real user: not for a screenshot
        store.db.conn.execute("DELETE FROM activity")
    finally:
        store.close()


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", SIZES)
def test_health_every_theme(snap_compare, db: Path, theme: str, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(db, theme), press=["h"], terminal_size=size)


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", SIZES)
def test_sent_and_drafts(snap_compare, db: Path, theme: str, size: tuple[int, int]) -> None:
    held_replies(db)
    assert snap_compare(make_app(db, theme), press=["0"], terminal_size=size)


@pytest.mark.parametrize("sender_row", [0, 2], ids=["failed", "uncertain"])
def test_thread_with_a_reply_that_did_not_go(snap_compare, db: Path, sender_row: int) -> None:
    """The block a thread shows for its reply that failed (the server's reason, r to send again)
    or whose delivery is uncertain."""
    held_replies(db)
    assert snap_compare(make_app(db), press=[*["j"] * sender_row, "enter"], terminal_size=(100, 30))


def test_category_picker(snap_compare, db: Path) -> None:
    assert snap_compare(make_app(db), press=["c"], terminal_size=(100, 30))


def test_mailbox_picker(snap_compare, db: Path) -> None:
    assert snap_compare(make_app(db), press=["a"], terminal_size=(100, 30))


def test_search_typed_and_applied(snap_compare, db: Path) -> None:
    assert snap_compare(make_app(db), press=["slash", *"tuesday", "enter"], terminal_size=(100, 30))


def test_search_being_typed(snap_compare, db: Path) -> None:
    assert snap_compare(make_app(db), press=["slash", *"carol"], terminal_size=(100, 30))
