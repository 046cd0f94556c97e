"""The inbox's rows at the smallest and a wide terminal: at 80x24 the sender and the subject stay
readable (the snippet goes first, a mailbox named by its address is cut to its local part); at
200 columns the extra width goes to the subject and the snippet. And range selection by
shift+arrows, as by J/K."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.store import Store
from app.ui.inbox_list import InboxList
from tests.ui_seed import HOUR, NOW, inbound, make_app, message, screen_text, seed, until

SNIPPET = "Happy to look at pricing for the whole sales team next quarter, send the deck"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = seed(tmp_path / "replydesk.db")
    store = Store(path)
    store.ensure_account("sam@acme-mail.io", "sam@acme-mail.io", "Sam Ortiz")
    store.add_messages("sam@acme-mail.io", [inbound(1, message(
        "<wide@bigco.io>", "Re: Pricing for the sales team", "dana@bigco.io", name="Dana Whitfield",
        to="sam@acme-mail.io", new_text=SNIPPET, at=NOW - 0.5 * HOUR), "reply", "interested")])
    store.close()
    return path


def dana_row(app) -> str:
    return next(line for line in screen_text(app).splitlines() if "Dana Whitfield" in line)


async def test_at_80_columns_the_sender_and_subject_stay_and_the_snippet_goes_first(db: Path) -> None:
    app = make_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        row = dana_row(app)
        assert "Dana Whitfield" in row and "Re: Pricing for the" in row
        assert "Happy to look" not in row  # no room for the snippet: it goes before the subject
        assert row.rstrip().endswith(" sam")  # the mailbox by its local part
        assert "sam@" not in row


async def test_at_200_columns_the_width_goes_to_the_subject_and_the_snippet(db: Path) -> None:
    app = make_app(db)
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        row = dana_row(app)
        assert f"Re: Pricing for the sales team — {SNIPPET}" in row  # subject and snippet whole
        assert row.rstrip().endswith("sam@acme-mail.io")  # the whole address fits now
        # the sender's column stops at its cap: no wide blank before the subject
        assert "Dana Whitfield" + " " * 20 not in row


async def test_shift_arrows_select_a_range_like_j_and_k(db: Path) -> None:
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("j", "shift+down", "shift+down")  # three rows from the second
        await pilot.pause()
        assert "✓ 3 selected" in screen_text(app)
        await pilot.press("shift+up")  # back up: the rows stay marked, as with K
        await pilot.pause()
        assert "✓ 3 selected" in screen_text(app)
        marked = [line for line in screen_text(app).splitlines() if line.startswith("✓")]
        assert len(marked) == 3
        await pilot.press("escape")
        await pilot.pause()
        assert "selected" not in screen_text(app)


@pytest.mark.parametrize("order", ["oldest", "mailbox"])
async def test_t_jumps_to_the_newest_conversation_in_any_order(db: Path, order: str) -> None:
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("S")  # oldest first
        if order == "mailbox":
            await pilot.press("S")
        await pilot.pause()
        assert app.screen.filter.sort == order
        store = Store(db)  # a reply reaches ben's mailbox, in the middle of the mailbox order
        try:
            store.add_messages("ben", [inbound(9, message("<late@hooli.com>", "Re: Partnership", "kai@hooli.com",
                                                          name="Kai Berg", to="ben@acme-mail.com", at=NOW - 60))])
        finally:
            store.close()
        inbox = app.screen.query_one(InboxList)
        assert await until(pilot, lambda: len(inbox.pager) == 6)
        await pilot.press("g", "t")
        await pilot.pause()
        assert inbox.current["counterpart"] == "kai@hooli.com"
        assert inbox.cursor == (5 if order == "oldest" else 3)  # the bottom; the top of ben's group, after ana's
