"""Screenshots of every screen, compared with the accepted ones in tests/__snapshots__/.

Fixed data, a fixed clock and UTC make them deterministic. After a deliberate change to the
layout: ``pytest tests/test_ui_snapshots.py --snapshot-update``, then look at the SVGs.
"""

from __future__ import annotations

from datetime import timezone
from pathlib import Path

import pytest

from app.config import parse_config
from app.ui import ReplydeskApp
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
