"""The inbox screen driven from the keyboard: what it lists, filters, search, triage and undo,
and rows stored by another connection while the app runs."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from app.config import parse_config
from app.store import InboxFilter, Store
from app.ui import ReplydeskApp
from app.ui.compose import ComposeScreen
from app.ui.inbox import InboxScreen
from app.ui.inbox_list import InboxList
from tests.storefill import account_in, outbox_in
from tests.ui_seed import NOW, add_reply, inbound, make_app, message, screen_text, seed, shown_words, until

SIZES = [(100, 30), (80, 24)]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return seed(tmp_path / "replydesk.db")


def rows(app: ReplydeskApp) -> list[str]:
    inbox = app.screen.query_one(InboxList)
    return [inbox.pager.row(i)["counterpart"] for i in range(len(inbox.pager))]


def current(app: ReplydeskApp) -> str:
    return app.screen.query_one(InboxList).current["counterpart"]


def conv_id(db: Path, sender: str) -> int:
    store = Store(db)
    try:
        return store.db.conn.execute("SELECT conversation_id FROM messages WHERE from_addr = ?",
                                     (sender,)).fetchone()[0]
    finally:
        store.close()


def conversation(db: Path, sender: str) -> dict:
    store = Store(db)
    try:
        return store.conversation(conv_id(db, sender))
    finally:
        store.close()


@pytest.mark.parametrize("size", SIZES)
async def test_human_replies_newest_first_with_counts(db: Path, size: tuple[int, int]) -> None:
    app = make_app(db)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        assert rows(app) == ["carol@prospect.io", "gavin@hooli.com", "mallory@spam.example", "erin@globex.com"]
        text = screen_text(app)
        assert "Replies 4" in text and "Bounces 1" in text and "Auto 1" in text
        assert "interested 1" in text and "uncategorized 1" in text
        assert "Carol Diaz" in text and "13:00" in text and "ana" in text
        assert "mailer-daemon" not in text and "Peter Gibbons" not in text
        assert "● 1 live  ◐ 0 syncing  ✖ 1 failing" in text
        assert "fetched 150 of 600 (25%)" in text  # ben's first sync, overall
        inbox = app.screen.query_one(InboxList)
        carol, gavin = inbox.render_line(0), inbox.render_line(1)
        assert any(seg.style and seg.style.bold for seg in carol if "Carol" in seg.text)  # unread
        assert not any(seg.style and seg.style.bold for seg in gavin if "Gavin" in seg.text)  # read


async def test_markup_and_escapes_in_mail_shown_literally(db: Path) -> None:
    app = make_app(db)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "[bold]Mallory[/bold]" in text
        assert "[red]Alert[/red] pay now" in text
        assert "\x1b" not in text
        await pilot.press("j", "j", "enter")
        await pilot.pause()
        text = screen_text(app)
        assert "click [link=http://evil.example]here[/link] now" in text
        assert "[red]Alert[/red]" in text


async def test_label_archive_and_undo(db: Path) -> None:
    app = make_app(db)
    mallory = conv_id(db, "mallory@spam.example")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("j", "j")
        assert current(app) == "mallory@spam.example"
        await pilot.press("i")
        await pilot.pause()
        assert conversation(db, "mallory@spam.example")["category"] == "interested"
        assert await until(pilot, lambda: "interested 2" in screen_text(app))  # (counts may come from a thread)
        assert current(app) == "erin@globex.com"  # labelled: on to the next conversation
        assert "✓ interested" in screen_text(app)  # said in the status bar, not over the list
        store = Store(db)
        ops = store.pending_ops("ana")
        assert {"op": "add_flags", "args": {"flags": ["replydesk-interested"]}}.items() <= ops[-1].items()
        store.close()
        await pilot.press("z")
        await pilot.pause()
        assert conversation(db, "mallory@spam.example")["category"] == "uncategorized"
        assert await until(pilot, lambda: "interested 1" in screen_text(app))

        await pilot.press("k", "e")
        await pilot.pause()
        assert conversation(db, "mallory@spam.example")["archived"] == 1
        assert "mallory@spam.example" not in rows(app)
        assert current(app) == "erin@globex.com"  # the next row takes its place
        await pilot.press("4")
        await pilot.pause()
        assert rows(app) == ["mallory@spam.example"]
        await pilot.press("1", "z")
        await pilot.pause()
        assert conversation(db, "mallory@spam.example")["archived"] == 0
        assert "mallory@spam.example" in rows(app)
        assert conv_id(db, "mallory@spam.example") == mallory


async def test_labelling_can_keep_the_cursor_on_the_labelled_conversation(db: Path) -> None:
    app = make_app(db, parse_config({"general": {"advance_after_label": False}}))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("j", "j", "i")
        await pilot.pause()
        assert conversation(db, "mallory@spam.example")["category"] == "interested"
        assert current(app) == "mallory@spam.example"
        await pilot.press("x", "j", "x", "n")  # a selection: the cursor stays where it is either way
        await pilot.pause()
        assert current(app) == "erin@globex.com"


async def test_do_not_contact_suppresses_and_undo_lifts_it(db: Path) -> None:
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("j", "d")
        await pilot.pause()
        store = Store(db)
        assert store.is_suppressed("gavin@hooli.com")
        assert conversation(db, "gavin@hooli.com")["category"] == "unsubscribe"
        assert "do not contact" in screen_text(app)
        await pilot.press("z")
        await pilot.pause()
        assert not store.is_suppressed("gavin@hooli.com")
        assert conversation(db, "gavin@hooli.com")["category"] == "not_interested"
        store.close()


async def test_toggle_read_and_bulk_select(db: Path) -> None:
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("U")
        await pilot.pause()
        assert conversation(db, "carol@prospect.io")["unread_count"] == 0
        await pilot.press("U")
        await pilot.pause()
        assert conversation(db, "carol@prospect.io")["unread_count"] == 1
        # x marks a row and moves on; a triage key then acts on every marked row
        await pilot.press("x", "j", "x", "w")
        await pilot.pause()
        assert conversation(db, "carol@prospect.io")["category"] == "wrong_person"
        assert conversation(db, "mallory@spam.example")["category"] == "wrong_person"
        assert conversation(db, "gavin@hooli.com")["category"] == "not_interested"
        await pilot.press("z")
        await pilot.pause()
        assert conversation(db, "carol@prospect.io")["category"] == "interested"
        assert conversation(db, "mallory@spam.example")["category"] == "uncategorized"


@pytest.mark.parametrize("size", SIZES)
async def test_views_and_filters_from_the_keyboard(db: Path, size: tuple[int, int]) -> None:
    app = make_app(db)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("2")
        await pilot.pause()
        assert rows(app) == ["mailer-daemon@mx.example"]
        await pilot.press("3")
        await pilot.pause()
        assert rows(app) == ["peter@initech.com"]
        await pilot.press("1", "u")
        await pilot.pause()
        assert rows(app) == ["carol@prospect.io", "mallory@spam.example"]
        assert "filter: unread" in screen_text(app)
        await pilot.press("u", "a")
        await pilot.pause()
        await pilot.press("down", "down", "enter")  # all mailboxes, ana, ben
        await pilot.pause()
        assert app.screen.filter == InboxFilter(account="ben")
        assert rows(app) == ["gavin@hooli.com"]
        await pilot.press("escape")
        await pilot.pause()
        assert len(rows(app)) == 4
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("down", "enter")  # all categories, interested
        await pilot.pause()
        assert rows(app) == ["carol@prospect.io"]


async def test_clearing_filters_keeps_the_cursor_on_its_conversation(db: Path) -> None:
    app = make_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("u")  # unread only: carol, mallory
        await pilot.pause()
        await pilot.press("j")
        assert current(app) == "mallory@spam.example"
        await pilot.press("escape")
        await pilot.pause()
        assert len(rows(app)) == 4 and current(app) == "mallory@spam.example"
        await pilot.press("slash", *"calendar", "enter")
        await pilot.pause()
        assert current(app) == "erin@globex.com"
        await pilot.press("escape")
        await pilot.pause()
        assert len(rows(app)) == 4 and current(app) == "erin@globex.com"


async def test_full_text_search(db: Path) -> None:
    app = make_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("slash")
        await pilot.press(*"calendar thursday")
        await pilot.press("enter")
        await pilot.pause()
        assert rows(app) == ["erin@globex.com"]
        assert "“calendar thursday”" in screen_text(app)
        await pilot.press("slash", *"carol", "escape")  # escape while typing cancels
        await pilot.pause()
        assert rows(app) == ["erin@globex.com"]
        assert app.screen.inbox_list.has_focus
        await pilot.press("slash", *"nosuchword", "enter")
        await pilot.pause()
        assert rows(app) == []
        assert "Nothing matches the filters." in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert len(rows(app)) == 4


def status(app: ReplydeskApp) -> str:
    """The status bar, the last line above the footer."""
    return screen_text(app).splitlines()[-2]


def bell_counting(app: ReplydeskApp) -> ReplydeskApp:
    """The app, counting the terminal bells it rings (in ``app.rang``)."""
    ring = app.bell
    app.rang = 0

    def bell() -> None:
        app.rang += 1
        ring()
    app.bell = bell
    return app


async def test_live_arrival_keeps_the_cursor_on_its_row(db: Path) -> None:
    app = bell_counting(make_app(db))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("j", "j")
        assert current(app) == "mallory@spam.example"
        await asyncio.to_thread(add_reply, db, 50, "Re: Quick question", "zoe@newco.io", "Zoe Park",
                                NOW - 600, "interested")
        await until(pilot, lambda: rows(app) and rows(app)[0] == "zoe@newco.io")
        assert rows(app)[0] == "zoe@newco.io"
        assert current(app) == "mallory@spam.example"
        assert "Zoe Park" in screen_text(app)
        assert await until(pilot, lambda: "Replies 5" in screen_text(app))
        assert await until(pilot, lambda: "✉ New interested reply from Zoe Park: Re: Quick question" in status(app))
        assert app.rang == 1  # a hot lead rings the terminal bell
        # ben is still in its first sync: what it fetches is history, shown but not announced
        store = Store(db)
        store.add_messages("ben", [inbound(7, message("<old@hist.example>", "Re: Partnership", "old@hist.example",
                                                      name="Olga Hist", to="ben@acme-mail.com", at=NOW - 300))])
        store.close()
        await until(pilot, lambda: rows(app)[0] == "old@hist.example")
        assert rows(app)[0] == "old@hist.example"
        assert "Olga" not in status(app)
        # an ordinary reply is announced without a bell
        await asyncio.to_thread(add_reply, db, 51, "Re: Quick question", "yan@newco.io", "Yan Li",
                                NOW - 500, "uncategorized")
        # merged with the one on show, naming the hot one
        assert await until(pilot, lambda: "✉ 2 new replies, one interested · Zoe Park" in status(app))
        assert app.rang == 1


async def test_the_bell_can_be_turned_off(db: Path) -> None:
    app = bell_counting(make_app(db, parse_config({"general": {"bell": False}})))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await asyncio.to_thread(add_reply, db, 52, "Re: Quick question", "kai@newco.io", "Kai Berg",
                                NOW - 400, "meeting")
        assert await until(pilot, lambda: "✉ New meeting reply from Kai Berg" in status(app))
        assert app.rang == 0


async def test_reply_key_opens_the_compose_screen_for_the_row(db: Path) -> None:
    config = parse_config({"accounts": [{"id": "ana", "email": "ana@acme.io", "name": "Ana Reyes",
                                         "provider": "google"}]})
    app = make_app(db, config)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen)
        assert app.screen.conversation_id == conv_id(db, "carol@prospect.io")
        assert "To: Carol Diaz <carol@prospect.io>" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, InboxScreen)


async def test_keymap_from_config_remaps_by_binding_id(db: Path) -> None:
    config = parse_config({"keymap": {"interested": "I", "cursor_down": "ctrl+n"}})
    app = make_app(db, config)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+n", "ctrl+n", "i")
        await pilot.pause()
        assert current(app) == "mallory@spam.example"
        assert conversation(db, "mallory@spam.example")["category"] == "uncategorized"
        await pilot.press("I")
        await pilot.pause()
        assert conversation(db, "mallory@spam.example")["category"] == "interested"


async def test_keymap_entry_naming_no_binding_is_reported(db: Path) -> None:
    app = make_app(db, parse_config({"keymap": {"intrested": "I"}}))
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        assert await until(pilot, lambda: "[keymap] intrested: no key binding has this id (see the ? screen)"
                           in shown_words(app))


async def test_paging_through_many_conversations(tmp_path: Path) -> None:
    db = tmp_path / "many.db"
    store = Store(db)
    conn = store.db.conn
    with store.db.tx():
        for i in range(1, 1201):
            conn.execute("INSERT INTO conversations (account, thread_key, subject, counterpart, kind, category, "
                         "last_inbound_at, message_count, inbound_count) VALUES "
                         "('ana', ?, ?, ?, 'reply', 'uncategorized', ?, 1, 1)",
                         (f"t{i}", f"subject {i}", f"p{i}@x.example", NOW - i * 60))
    store.close()
    app = make_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("G")
        await pilot.pause()
        assert current(app) == "p1200@x.example"
        assert "p1200@x.example" in screen_text(app) or "subject 1200" in screen_text(app)
        await pilot.press("g", *["pagedown"] * 5, *["j"] * 20)
        inbox = app.screen.query_one(InboxList)
        assert inbox.cursor > 100  # past the first page, fetched by keyset after it
        assert current(app) == f"p{inbox.cursor + 1}@x.example"
        assert f"subject {inbox.cursor + 1} " in screen_text(app)
        await pilot.press("k")
        assert current(app) == f"p{inbox.cursor + 1}@x.example"
        assert len(inbox.pager._pages) <= 40
        # scrolled deep into the list, an arrival keeps the cursor's row on its screen line
        before, line_on_screen = current(app), inbox.cursor - round(inbox.scroll_y)
        other = Store(db)
        with other.db.tx():
            other.db.conn.execute(
                "INSERT INTO conversations (account, thread_key, subject, counterpart, kind, category, "
                "last_inbound_at, message_count, inbound_count) VALUES "
                "('ana', 'tnew', 'brand new', 'new@x.example', 'reply', 'uncategorized', ?, 1, 1)", (NOW,))
        other.close()
        await until(pilot, lambda: len(inbox.pager) == 1201)
        assert len(inbox.pager) == 1201
        assert current(app) == before
        assert inbox.cursor - round(inbox.scroll_y) == line_on_screen


async def test_empty_store(tmp_path: Path) -> None:
    app = make_app(tmp_path / "empty.db")
    async with app.run_test(size=(80, 24)) as pilot:
        assert await until(pilot, lambda: "No replies here yet." in screen_text(app))
        assert "no mailboxes yet" in status(app)
        await pilot.press("j", "enter", "i", "e", "z", "G")
        await pilot.pause()
        assert isinstance(app.screen, InboxScreen)
        assert "✓ nothing to undo" in status(app)


async def test_command_palette_switches_view(db: Path) -> None:
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"View: Bounces")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert rows(app) == ["mailer-daemon@mx.example"]


def store_in(db: Path, folder: str, uid: int, message_id: str, sender: str, name: str) -> None:
    """Another connection stores a reply in ``folder``, as the engine does for INBOX and Junk."""
    store = Store(db)
    try:
        parsed = message(message_id, "Re: Quick question", sender, name=name, new_text="Tell me more.",
                         at=NOW - 60)
        row = inbound(uid, parsed, "reply", "uncategorized")
        store.add_messages("ana", [replace(row, folder=folder)])
    finally:
        store.close()


async def test_a_reply_stored_twice_is_announced_once_in_one_line(db: Path) -> None:
    app = make_app(db, parse_config({"general": {"notice_seconds": 600}}))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await asyncio.to_thread(store_in, db, "INBOX", 60, "<twice@newco.io>", "tia@newco.io", "Tia Moss")
        assert await until(pilot, lambda: "✉ New reply from Tia Moss" in status(app))
        await asyncio.to_thread(store_in, db, "Junk", 1, "<twice@newco.io>", "tia@newco.io", "Tia Moss")
        await asyncio.to_thread(add_reply, db, 61, "Re: Quick question", "uma@newco.io", "Uma Roy", NOW - 30)
        assert await until(pilot, lambda: "✉ 2 new replies · Uma Roy" in status(app)), status(app)
        assert screen_text(app).count("Tia Moss") == 1  # her row in the list, and no toast over it


async def test_the_arrival_line_goes_after_the_set_time_and_never_over_a_reply(db: Path) -> None:
    config = parse_config({"general": {"notice_seconds": 0.5},
                           "accounts": [{"id": "ana", "email": "ana@acme.io", "provider": "google"}]})
    app = make_app(db, config)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await asyncio.to_thread(add_reply, db, 62, "Re: Quick question", "vic@newco.io", "Vic Dunn", NOW - 30)
        assert await until(pilot, lambda: "✉ New reply from Vic Dunn" in status(app))
        assert await until(pilot, lambda: "✉" not in status(app))
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen)
        await asyncio.to_thread(add_reply, db, 63, "Re: Quick question", "wes@newco.io", "Wes Hale", NOW - 20)
        assert await until(pilot, lambda: app.notice is not None)
        assert "Wes Hale" not in screen_text(app)  # nothing drawn over the text being written


async def test_a_first_sync_announces_nothing_only_what_arrives_after_it(tmp_path: Path) -> None:
    db = tmp_path / "fresh.db"
    config = parse_config({"general": {"notice_seconds": 600},
                           "accounts": [{"id": "ana", "email": "ana@acme.io", "provider": "google"},
                                        {"id": "ben", "email": "ben@acme-mail.com", "provider": "google"}]})
    app = make_app(db, config)
    async with app.run_test(size=(120, 30)) as pilot:
        # the engine has not registered the mailboxes yet: they are starting, not missing
        assert await until(pilot, lambda: status(app).strip() != "")  # (the first read of the store)
        assert "no mailboxes yet" not in status(app) and "◐ 2 syncing" in status(app)
        store = Store(db)
        store.ensure_account("ana", "ana@acme.io")
        account_in(store, "ana", "syncing")
        store.close()
        # a small mailbox's first sync: no progress figures, a few recent replies stored at once
        await asyncio.to_thread(add_reply, db, 1, "Re: Quick question", "old@newco.io", "Ola Seed", NOW - 3600)
        assert await until(pilot, lambda: "Ola Seed" in screen_text(app))
        store = Store(db)
        store.update_account("ana", last_sync=NOW)  # the first sync ends
        store.set_account_state("ana", "idle")
        store.close()
        assert await until(pilot, lambda: "● 1 live" in status(app))
        assert "✉" not in status(app)
        await asyncio.to_thread(add_reply, db, 2, "Re: Quick question", "new@newco.io", "Nia Fresh", NOW - 10)
        assert await until(pilot, lambda: "✉ New reply from Nia Fresh" in status(app)), status(app)
        assert "Ola" not in status(app)


def flat(app: ReplydeskApp) -> str:
    """The screen's words as one line (a dialog's text wraps)."""
    return " ".join(" ".join(line.strip().strip("│").split()) for line in screen_text(app).splitlines())


async def test_replying_to_a_bounce_an_auto_reply_or_a_no_reply_address_asks_first(db: Path) -> None:
    config = parse_config({"accounts": [
        {"id": "ana", "email": "ana@acme.io", "provider": "google"},
        {"id": "ben", "email": "ben@acme-mail.com", "provider": "google"}]})
    app = make_app(db, config)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("2", "r")  # the bounce from mailer-daemon
        await pilot.pause()
        assert not isinstance(app.screen, ComposeScreen)
        assert "delivery failure notice from mailer-daemon@mx.example" in flat(app)
        await pilot.press("enter")  # the first choice: don't reply
        await pilot.pause()
        assert isinstance(app.screen, InboxScreen)
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("down", "enter")  # reply anyway
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen)
        assert "To: mailer-daemon@mx.example" in screen_text(app)
        await pilot.press("escape", "3", "r")  # an out-of-office notice: its sender will be back
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, InboxScreen)

    await asyncio.to_thread(add_reply, db, 70, "Re: Quick question", "no-reply@vendor.io", "Vendor", NOW - 30)
    store = Store(db)
    store.add_messages("ana", [inbound(71, message("<ack@help.io>", "We received your request", "help@help.io",
                                                   name="Help Desk", new_text="Ticket 4411 opened.", at=NOW - 40),
                                       "autoreply", "auto_reply")])
    store.close()
    app = make_app(db, config)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert current(app) == "no-reply@vendor.io"
        await pilot.press("r")
        await pilot.pause()
        assert "no-reply@vendor.io is a no-reply address" in flat(app)
        await pilot.press("escape", "3")
        await pilot.pause()
        assert current(app) == "help@help.io"
        await pilot.press("r")
        await pilot.pause()
        assert "automatic reply from help@help.io" in flat(app)
        await pilot.press("escape", "1", "j", "r")  # carol, a person: the reply opens at once
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen)


async def test_a_list_read_before_conversations_left_it_shows_no_gap(tmp_path: Path) -> None:
    """The count and a later page disagree when conversations leave the view in between (a
    reply sent, an archive elsewhere): the list reads itself again instead of drawing blanks."""
    db = tmp_path / "gap.db"
    store = Store(db)
    with store.db.tx():
        for i in range(1, 131):
            store.db.conn.execute(
                "INSERT INTO conversations (account, thread_key, subject, counterpart, kind, category, "
                "last_inbound_at, message_count, inbound_count) VALUES "
                "('ana', ?, ?, ?, 'reply', 'uncategorized', ?, 1, 1)", (f"t{i}", f"subject {i}", f"p{i}@x.example",
                                                                          NOW - i * 60))
    store.close()
    # another process's write, not looked for within the test (a one-hour tick): no refresh
    app = ReplydeskApp(db, None, clock=lambda: NOW, poll_interval=3600)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        inbox = app.screen.query_one(InboxList)
        assert len(inbox.pager) == 130
        other = sqlite3.connect(db, isolation_level=None)  # the 16 oldest leave the Replies view
        other.execute("UPDATE conversations SET archived = 1 WHERE last_inbound_at < ?", (NOW - 114 * 60,))
        other.close()
        await pilot.press("G")
        assert await until(pilot, lambda: len(inbox.pager) == 114)
        await pilot.pause()
        lines = screen_text(app).splitlines()[2:-2]
        assert all(line.strip() for line in lines), "\n".join(lines)  # no blank row in the list
        assert current(app) == "p114@x.example"


def many_conversations(db: Path, count: int) -> None:
    store = Store(db)
    with store.db.tx():
        for i in range(1, count + 1):
            store.db.conn.execute(
                "INSERT INTO conversations (account, thread_key, subject, counterpart, kind, category, "
                "last_inbound_at, message_count, inbound_count) VALUES "
                "('ana', ?, ?, ?, 'reply', 'uncategorized', ?, 1, 1)", (f"t{i}", f"subject {i}", f"p{i}@x.example",
                                                                          NOW - i * 60))
    store.close()


@pytest.mark.parametrize("size", SIZES)
async def test_arrivals_above_a_scrolled_list_are_counted_and_t_jumps_to_them(tmp_path: Path, size) -> None:
    db = tmp_path / "above.db"
    many_conversations(db, 60)
    app = make_app(db)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("pagedown", "pagedown")
        before = current(app)
        other = Store(db)
        with other.db.tx():
            for i in range(3):
                other.db.conn.execute(
                    "INSERT INTO conversations (account, thread_key, subject, counterpart, kind, category, "
                    "last_inbound_at, message_count, inbound_count) VALUES "
                    "('ana', ?, 'fresh', ?, 'reply', 'uncategorized', ?, 1, 1)", (f"n{i}", f"n{i}@x.example", NOW + i))
        other.close()
        assert await until(pilot, lambda: "↑ 3 new above (t)" in screen_text(app)), screen_text(app)
        assert current(app) == before  # nothing moved under the cursor
        await pilot.press("t")
        await pilot.pause()
        assert current(app) == "n2@x.example"
        assert "new above" not in screen_text(app)


def marked_store(db: Path) -> None:
    """Rows in every state a marker shows: a draft, a reply that failed, one answered, an
    out-of-office with its return date (carol's carries an attachment in the seed)."""
    store = Store(db)
    for sender, state in (("gavin@hooli.com", "draft"), ("mallory@spam.example", "failed")):
        conv = conv_id(db, sender)
        item = store.queue_reply(account="ana", message_id=f"<{state}@acme.io>", raw=b"x", recipients=[sender],
                                 subject="Re", body="text", conversation_id=conv,
                                 state="draft" if state == "draft" else "queued")
        if state == "failed":  # the way a reply fails: claimed by the drainer, refused by the server
            outbox_in(store, item, "failed", error="550 refused")
    store.mark_message_answered(store.find_message("<r2@globex.com>")["id"])
    store.db.conn.execute("UPDATE messages SET ooo_until = '2026-12-07' WHERE from_addr = 'peter@initech.com'")
    store.db.conn.commit()
    store.close()


@pytest.mark.parametrize("size", SIZES)
async def test_rows_mark_unread_answered_draft_failed_attachment_and_return_date(db: Path, size) -> None:
    marked_store(db)
    app = make_app(db)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        lines = screen_text(app).splitlines()

        def row(name: str) -> str:
            return next(text for text in lines if name in text)
        assert row("Carol Diaz").startswith(" • ") and "⊕" in row("Carol Diaz")  # unread, an attachment
        assert row("Gavin Belson").startswith("   ") and " … " in row("Gavin Belson")  # read; a draft
        assert row("Mallory").startswith(" • ") and " ! " in row("Mallory")  # our reply failed
        assert " ↩ " in row("Erin Ko")  # answered
        await pilot.press("3")
        await pilot.pause()
        assert "back Dec 07" in screen_text(app)
        await pilot.press("1", "x", "x")
        await pilot.pause()
        assert "✓ 2 selected" in screen_text(app)
        assert screen_text(app).splitlines()[2].startswith("✓")
        await pilot.press("escape")
        await pilot.pause()
        assert "selected" not in screen_text(app)


async def test_a_click_on_the_highlighted_row_opens_it(db: Path) -> None:
    from app.ui.conversation import ConversationScreen
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.click(InboxList, offset=(20, 1))  # gavin's row: the cursor moves there
        await pilot.pause()
        assert current(app) == "gavin@hooli.com" and isinstance(app.screen, InboxScreen)
        await pilot.click(InboxList, offset=(20, 1))  # again: it opens
        await pilot.pause()
        assert isinstance(app.screen, ConversationScreen)
        assert "Gavin Belson" in screen_text(app)


async def test_the_view_tabs_respond_to_clicks(db: Path) -> None:
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        top = screen_text(app).splitlines()[0]
        await pilot.click("#views", offset=(top.index("Bounces"), 0))
        await pilot.pause()
        assert app.screen.filter.view == "bounces" and rows(app) == ["mailer-daemon@mx.example"]
        await pilot.click("#views", offset=(top.index("Replies"), 0))
        await pilot.pause()
        assert app.screen.filter.view == "replies"


async def test_select_all_in_the_view_and_range_select(db: Path) -> None:
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("asterisk")
        await pilot.pause()
        assert "✓ 4 selected" in screen_text(app)
        await pilot.press("e")  # archive all four
        await pilot.pause()
        assert rows(app) == [] and "Archived 4" in screen_text(app)
        await pilot.press("z", "asterisk", "asterisk")  # undo; all, then none
        await pilot.pause()
        assert len(rows(app)) == 4 and "selected" not in screen_text(app)
        await pilot.press("j", "J", "J")  # gavin to erin, by range
        await pilot.pause()
        assert "✓ 3 selected" in screen_text(app)
        await pilot.press("n")
        await pilot.pause()
        for sender in ("gavin@hooli.com", "mallory@spam.example", "erin@globex.com"):
            assert conversation(db, sender)["category"] == "not_interested"
        assert conversation(db, "carol@prospect.io")["category"] == "interested"


async def test_s_sorts_oldest_first_then_by_mailbox_keeping_the_cursor_and_the_order(db: Path) -> None:
    app = make_app(db)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert current(app) == "carol@prospect.io"
        await pilot.press("S")
        assert await until(pilot, lambda: rows(app) == ["erin@globex.com", "mallory@spam.example",
                                                        "gavin@hooli.com", "carol@prospect.io"])
        assert current(app) == "carol@prospect.io"  # still on the conversation it was on
        assert "sorted oldest first" in screen_text(app)
        # a reply stored by another connection joins the list in the chosen order
        add_reply(db, 9, "Re: Later", "zoe@initech.com", "Zoe", NOW - 100 * 3600)
        assert await until(pilot, lambda: rows(app)[0] == "zoe@initech.com")
        await pilot.press("S")
        assert await until(pilot, lambda: rows(app) == ["carol@prospect.io", "mallory@spam.example",
                                                        "erin@globex.com", "zoe@initech.com", "gavin@hooli.com"])
        assert "sorted by mailbox" in screen_text(app)
        await pilot.press("escape")  # clearing filters keeps the order: it is not a filter
        assert "sorted by mailbox" in screen_text(app)
        await pilot.press("S")
        assert await until(pilot, lambda: rows(app)[0] == "carol@prospect.io" and rows(app)[-1] == "zoe@initech.com")


async def test_the_palette_sorts_by_mailbox(db: Path) -> None:
    app = make_app(db)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"sort: by mailbox")
        assert await until(pilot, lambda: "Sort: by mailbox, newest first (S)" in screen_text(app))
        await pilot.press("enter")
        assert await until(pilot, lambda: rows(app) == ["carol@prospect.io", "mallory@spam.example",
                                                        "erin@globex.com", "gavin@hooli.com"])
