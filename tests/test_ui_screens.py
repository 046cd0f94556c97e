"""The conversation, health and help screens, themes and the command palette."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.config import load_config, parse_config
from app.store import Store
from app.ui.conversation import ConversationScreen
from app.ui.folds import EarlierMessage, EarlierTurns
from app.ui.health import HealthScreen
from app.ui.help import HelpScreen
from app.ui.inbox_list import InboxList
from app.ui.themes import SHIPPED_DIR, load_theme_file, load_themes
from tests.storefill import account_in
from tests.ui_seed import NOW, inbound, make_app, message, screen_text, seed, sent, shown_words, until


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return seed(tmp_path / "replydesk.db")


@pytest.mark.parametrize("size", [(100, 30), (80, 24)])
async def test_open_thread_shows_our_mail_their_reply_and_why(db: Path, size: tuple[int, int]) -> None:
    app = make_app(db)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConversationScreen)
        text = screen_text(app)
        assert "▶ You · Sat 21 Nov 2026 15:00 · Hi Carol, would a demo help your team?" in text  # ours, folded
        assert "You <ana@acme.io>" not in text
        assert "Yes, let's talk next week. Tuesday works." in text
        assert "Carol Diaz <carol@prospect.io>" in text
        await pilot.press("G")
        await pilot.pause()
        text = screen_text(app)
        assert "Why interested: asks to talk; proposes a day" in text
        assert "requirements.pdf (PDF, 46.9 KB)" in text
        assert "quoted history, 2 lines" in text
        assert "> Hi Carol" not in text  # folded
        await pilot.press("f", "G")
        await pilot.pause()
        assert "> Hi Carol, would a demo help your team?" in screen_text(app)
        store = Store(db)
        conv = store.conversation(app.screen.conversation_id)
        store.close()
        assert conv["unread_count"] == 0  # opening reads it
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.query_one(InboxList).current["counterpart"] == "carol@prospect.io"


async def test_labelling_in_a_thread_moves_on_to_the_next_conversation(db: Path) -> None:
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("j", "enter")
        await pilot.pause()
        gavin = app.screen.conversation_id
        assert "Gavin Belson <gavin@hooli.com>" in screen_text(app)
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, ConversationScreen) and app.screen.conversation_id != gavin
        text = screen_text(app)
        assert "mallory@spam.example" in text and "✓ interested" in text  # the next thread, the label said
        store = Store(db)
        assert store.conversation(gavin)["category"] == "interested"
        store.close()
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.query_one(InboxList).current["counterpart"] == "mallory@spam.example"
        await pilot.press("G", "enter")  # the last conversation of the view: a label goes back to the list
        await pilot.pause()
        last = app.screen.conversation_id
        await pilot.press("n")
        await pilot.pause()
        assert not isinstance(app.screen, ConversationScreen)
        assert app.screen.query_one(InboxList).current_id == last


async def test_triage_inside_a_thread(db: Path) -> None:
    """With ``advance_after_label = false`` a label keeps the thread open."""
    app = make_app(db, parse_config({"general": {"advance_after_label": False}}))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("j", "enter")
        await pilot.pause()
        conv_id = app.screen.conversation_id
        await pilot.press("m")
        await pilot.pause()
        assert "[meeting]" in screen_text(app)
        await pilot.press("e")
        await pilot.pause()
        assert not isinstance(app.screen, ConversationScreen)  # archiving returns to the list
        store = Store(db)
        assert store.conversation(conv_id)["archived"] == 1
        assert store.conversation(conv_id)["category"] == "meeting"
        store.close()
        assert "gavin@hooli.com" not in screen_text(app)


async def test_health_screen(db: Path) -> None:
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("h")
        await pilot.pause()
        assert isinstance(app.screen, HealthScreen)
        text = screen_text(app)
        assert "Mailbox health · 2 mailboxes" in text
        assert "first sync: " in text and "150 of 600 messages" in text
        assert "idle" in text and "auth failed" in text and "2 min ago" in text
        # ana sent 2 in the last week, both threads got a human reply; ben's bounce has no sends
        ana_line = next(line for line in text.splitlines() if line.strip().startswith("ana "))
        assert "100.0%" in ana_line and "0.0%" in ana_line
        await pilot.press("j")
        await pilot.pause()
        text = screen_text(app)
        assert "Error: LOGIN failed: [AUTHENTICATIONFAILED]" in text
        assert "Hint: Google needs an app password" in text
        assert "· fetched 150 of 600" in text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HealthScreen)


async def test_help_lists_keys_with_their_ids_and_remaps(db: Path) -> None:
    app = make_app(db, parse_config({"keymap": {"archive": "E", "interested": "exclamation_mark,ctrl+n"}}))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        assert "interested" in text and "do_not_contact" in text
        assert any(line.split()[:2] == ["│", "E"] and "archive" in line for line in text.splitlines())
        assert any(line.split()[:3] == ["│", "!", "^n"] and "interested" in line for line in text.splitlines())
        await pilot.press(*"j" * 70)
        await pilot.pause()
        assert "Command palette" in screen_text(app)  # the last section, below the fold
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


def test_shipped_themes_load() -> None:
    themes, problems = load_themes([SHIPPED_DIR])
    assert problems == []
    names = {t.name for t in themes}
    assert {"replydesk-dark", "replydesk-light", "replydesk-contrast"} <= names
    assert not next(t for t in themes if t.name == "replydesk-light").dark


def test_bad_theme_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "odd.toml").write_text('name = "odd"\nprimary = "#000000"\nsparkle = true\n')
    themes, problems = load_themes([tmp_path])
    assert themes == []
    assert problems == [f"{tmp_path / 'odd.toml'}: unknown theme key 'sparkle'"]
    with pytest.raises(ValueError, match="primary"):
        (tmp_path / "x.toml").write_text('name = "x"\n')
        load_theme_file(tmp_path / "x.toml")


async def test_theme_from_config_and_palette(db: Path) -> None:
    app = make_app(db, parse_config({"general": {"theme": "replydesk-contrast"}}))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.theme == "replydesk-contrast"
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"theme", "enter")
        await pilot.pause()
        await pilot.press(*"replydesk-light", "enter")
        await pilot.pause()
        assert app.theme == "replydesk-light"


async def test_a_theme_picked_in_the_palette_is_there_next_time(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    original = ('# my replydesk\n[general]\n# dark for the night shift\ntheme = "replydesk-dark"  # was contrast\n'
                f'database = "{db}"\n\n[keymap]\nquit = "ctrl+q"\n')
    path.write_text(original)
    app = make_app(db, load_config(path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"theme", "enter")
        await pilot.pause()
        await pilot.press(*"replydesk-light", "enter")
        assert await until(pilot, lambda: 'theme = "replydesk-light"' in path.read_text(), 5)
    text = path.read_text()
    assert text == original.replace('theme = "replydesk-dark"  # was contrast', 'theme = "replydesk-light"')
    again = make_app(db, load_config(path))
    async with again.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert again.theme == "replydesk-light"


async def test_unknown_theme_falls_back_with_a_warning(db: Path) -> None:
    app = make_app(db, parse_config({"general": {"theme": "nope"}}))
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.pause()
        assert app.theme == "replydesk-dark"
        assert await until(pilot, lambda: "theme 'nope' not found; using replydesk-dark" in shown_words(app))


async def test_health_shows_server_operations_not_carried_out(db: Path) -> None:
    """A label the server would not store and an archive it refused are not passed off as done."""
    store = Store(db)
    [mid] = [r[0] for r in store.db.conn.execute("SELECT id FROM messages WHERE account = 'ana' LIMIT 1")]
    label = store.queue_op("ana", "add_flags", mid, flags=["replydesk-meeting"])
    store.finish_op(label, "INBOX allows no keywords (PERMANENTFLAGS without \\*)", skipped=True)
    move = store.queue_op("ana", "move", mid, to_role="archive")
    store.finish_op(move, "CREATE Archive: NO Invalid mailbox name", give_up=True)
    store.close()
    app = make_app(db)
    async with app.run_test(size=(170, 30)) as pilot:
        await pilot.pause()
        await pilot.press("h")
        await pilot.pause()
        text = screen_text(app)
        assert "Not on the server: 1 failed, 1 skipped this week; latest: moving to archive failed: " \
               "CREATE Archive: NO Invalid mailbox name" in text
        await pilot.press("escape")
        await pilot.pause()
        store = Store(db)
        conv = store.db.conn.execute("SELECT conversation_id FROM messages WHERE id = ?", (mid,)).fetchone()[0]
        store.close()
        app.push_screen(ConversationScreen(conv))  # the thread says it too
        await pilot.pause()
        text = screen_text(app)
        assert "Not on the server: moving to archive failed: CREATE Archive: NO Invalid mailbox name" in text
        assert "Not on the server: label meeting skipped: INBOX allows no keywords" in text


async def test_health_says_whether_the_server_pushes_and_how_late_mail_arrives(db: Path) -> None:
    store = Store(db)
    store.update_account("ana", capabilities="IMAP4rev1 IDLE", arrival_latency=0.4, arrival_via="push")
    store.update_account("ben", capabilities="IMAP4rev1 IDLE", last_push=None, arrival_latency=48.0,
                         arrival_via="poll")
    store.close()
    app = make_app(db)
    async with app.run_test(size=(170, 30)) as pilot:
        await pilot.pause()
        await pilot.press("h")
        await pilot.pause()
        text = screen_text(app)
        assert "2 min ago · 0.4 s" in text
        assert "New mail: the server pushes (last push 2 min ago); the newest message was here 0.4 s after " \
               "it arrived, found by a push" in text
        await pilot.press("j")
        await pilot.pause()
        text = screen_text(app)
        assert "New mail: the server offers IDLE but has pushed nothing yet (replydesk doctor tests it); the " \
               "newest message was here 48 s after it arrived, found by a poll" in text


async def test_open_thread_and_health_follow_the_store_live(db: Path) -> None:
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("h")
        await pilot.pause()
        other = Store(db)
        account_in(other, "ben", "idle")
        other.update_account("ben", sync_done=600)
        await until(pilot, lambda: "2 live" in screen_text(app))
        text = screen_text(app)
        assert "● 2 live  ◐ 0 syncing  ✖ 0 failing" in text
        assert "auth failed" not in text and "first sync" not in text
        await pilot.press("escape", "enter")
        await pilot.pause()
        thread = app.screen.conversation_id
        other.add_messages("ana", [inbound(9, message(
            "<r9@prospect.io>", "Re: Quick question about Acme", "carol@prospect.io", name="Carol Diaz",
            new_text="Also, can you send pricing?", in_reply_to="<r1@prospect.io>", at=NOW - 60),
            "reply", "interested")])
        other.close()
        await until(pilot, lambda: "Also, can you send pricing?" in screen_text(app))
        await pilot.press("G")
        await pilot.pause()
        assert "Also, can you send pricing?" in screen_text(app)
        assert app.screen.conversation_id == thread


async def test_a_mailbox_named_by_its_address_is_shown_once(db: Path) -> None:
    store = Store(db)
    store.ensure_account("alex@acme.io", "alex@acme.io", "Alex")
    store.close()
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        text = screen_text(app)
        assert text.count("alex@acme.io") == 1
        assert "ana  <ana@acme.io>" in text  # an id that is not the address still shows both
        await pilot.press("escape", "h")  # the first mailbox by id: alex
        await pilot.pause()
        detail = screen_text(app).split("────")[-1]
        assert "alex@acme.io" in detail and detail.count("alex@acme.io") == 1


async def test_health_sync_column_says_when_each_mailbox_last_synced(db: Path) -> None:
    store = Store(db)
    # what the watcher leaves after a finished sync: no progress, the time it ended
    store.update_account("ana", last_sync=NOW - 300, sync_done=0, sync_total=0)
    store.close()
    app = make_app(db)
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.pause()
        await pilot.press("h")
        await pilot.pause()
        lines = screen_text(app).splitlines()
        header = next(text for text in lines if "Sync" in text and "Mailbox" in text)
        column = header.index("Sync")
        ana = next(text for text in lines if text.startswith(" ana "))
        ben = next(text for text in lines if text.startswith(" ben "))
        assert ana[column:].startswith("5 min ago")
        assert ben[column:].split()[1] == "150/600"  # still in its first sync: the progress


async def test_help_keeps_every_description_apart_from_its_id(db: Path) -> None:
    app = make_app(db)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        seen = ""
        for _ in range(60):  # down to the last section
            await pilot.pause()
            seen += screen_text(app)
            await pilot.press("j")
        assert "Cancel (keeps a draft)  " in seen and "cancel_reply" in seen
        assert "Cancel (keeps a draft)cancel_reply" not in seen


def _luminance(color) -> float:
    def channel(value: int) -> float:
        v = value / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    r, g, b = color.get_truecolor()
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def _contrast(a, b) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("theme", ["replydesk-dark", "replydesk-light", "replydesk-contrast"])
async def test_every_colour_of_the_list_is_readable_on_its_theme(db: Path, theme: str) -> None:
    """WCAG AA (4.5:1) for every text style of the inbox, muted text quieter than the subject,
    and the theme's accent and warning readable on its background."""
    from rich.color import Color
    app = make_app(db, parse_config({"general": {"theme": theme}}))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        inbox = app.screen.query_one(InboxList)
        background = inbox.rich_style.bgcolor
        colours = {}
        for name in sorted(InboxList.COMPONENT_CLASSES - {"inbox-list--cursor"}):
            style = inbox.get_component_rich_style(name, partial=True)
            if style.color is not None:
                colours[name] = style.color
                assert _contrast(style.color, background) >= 4.5, (theme, name, style.color)
        muted = _contrast(colours["inbox-list--snippet"], background)
        assert muted < _contrast(colours["inbox-list--subject"], background), theme
        for variable in ("accent", "warning", "text-muted"):
            colour = Color.parse(app.theme_variables[variable])
            assert _contrast(colour, background) >= 4.5, (theme, variable)


async def test_j_and_k_move_in_every_picker(db: Path) -> None:
    config = parse_config({"accounts": [{"id": "ana", "email": "ana@acme.io", "provider": "google"}],
                           "templates": {"hello": "Hello {first_name|there}", "price": "Pricing"}})
    app = make_app(db, config)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("c", "j", "j", "k", "j", "enter")  # all categories, interested, meeting
        await pilot.pause()
        assert app.screen.filter.category == "meeting"
        await pilot.press("escape", "a", "j", "j", "enter")  # all mailboxes, ana, ben
        await pilot.pause()
        assert app.screen.filter.account == "ben"
        await pilot.press("escape", "g", "r")  # carol, ana's
        await pilot.pause()
        await pilot.press("ctrl+t", "j", "enter")  # the second template
        await pilot.pause()
        assert app.screen.query_one("#compose-body").text.startswith("Pricing")


async def test_the_palette_offers_triage_and_export_not_maximize_or_screenshot(db: Path, tmp_path: Path,
                                                                                 monkeypatch) -> None:
    config_path = tmp_path / "config.toml"
    config_path.write_text(f'[general]\ndatabase = "{db}"\n')
    monkeypatch.chdir(tmp_path)
    app = make_app(db, load_config(config_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        for word in ("Maximize", "Screenshot"):
            await pilot.press(*word.lower())
            await pilot.pause()
            assert word not in screen_text(app)
            await pilot.press(*["backspace"] * len(word))
        # the palette searches in the background: each choice is waited for before enter
        await pilot.press(*"theme")
        assert await until(pilot, lambda: "Change the current theme" in screen_text(app)), screen_text(app)
        await pilot.press(*["backspace"] * 5, *"meeting")
        assert await until(pilot, lambda: "Meeting (m)" in screen_text(app)), screen_text(app)
        await pilot.press("enter")  # labels carol, under the cursor
        await pilot.pause()
        store = Store(db)
        carol = store.db.conn.execute("SELECT category FROM conversations WHERE counterpart = 'carol@prospect.io'")
        assert carol.fetchone()[0] == "meeting"
        store.close()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"export: leads")
        assert await until(pilot, lambda: "Export: leads (CSV)" in screen_text(app)), screen_text(app)
        await pilot.press("enter")
        assert await until(pilot, lambda: "leads exported to" in screen_text(app)), screen_text(app)
    [exported] = await asyncio.to_thread(lambda: list(tmp_path.glob("replydesk-leads-*.csv")))
    text = await asyncio.to_thread(exported.read_text)
    assert "carol@prospect.io" in text and "meeting" in text


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
async def test_a_long_thread_opens_at_the_newest_reply_with_its_body(db: Path, size: tuple[int, int]) -> None:
    store = Store(db)
    turns = []
    for n in range(14):  # fourteen rounds of ours and theirs before the newest reply: more than a screen
        at = NOW - (40 - 2 * n) * 3600
        turns.append(sent(10 + n, message(f"<o{n}@acme.io>", "Re: Quick question about Acme", "ana@acme.io",
                                          name="Ana Reyes", to="carol@prospect.io", in_reply_to="<out1@acme.io>",
                                          new_text=f"Our turn {n}\n" + "more words\n" * 6, at=at)))
    store.add_messages("ana", turns)
    store.add_messages("ana", [inbound(20, message("<r9@prospect.io>", "Re: Quick question about Acme",
                                                   "carol@prospect.io", name="Carol Diaz", in_reply_to="<out1@acme.io>",
                                                   new_text="Newest: Thursday 3pm then.", at=NOW - 600),
                                       "reply", "meeting")])
    store.close()
    app = make_app(db)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConversationScreen)
        text = screen_text(app)
        assert "Newest: Thursday 3pm then." in text and "Carol Diaz <carol@prospect.io>" in text
        assert "more words" not in text  # the older turns are folded
        await pilot.press("g")
        await pilot.pause()
        text = screen_text(app)
        # the cold email, the turns in between in one line, the last two before the newest
        assert "▶ You · Sat 21 Nov 2026 15:00 · Hi Carol" in text and "▶ 13 earlier messages" in text
        assert "Our turn 13" in text and "▶ Carol Diaz · Tue 24 Nov 2026 13:00 · Yes, let's talk" in text
        assert "Our turn 12" not in text
        await pilot.click(EarlierTurns)
        await pilot.pause()
        text = screen_text(app)
        assert "earlier messages" not in text and "▶ You · Sun 22 Nov 2026 23:00 · Our turn 0" in text
        await pilot.click(EarlierMessage)  # the first line: the cold email, unfolded in place
        await pilot.pause()
        assert "▼ You · Sat 21 Nov 2026 15:00" in screen_text(app)
        assert "You <ana@acme.io>" in screen_text(app)
        await pilot.press("f")  # one was unfolded: f folds everything again
        await pilot.pause()
        assert "You <ana@acme.io>" not in screen_text(app) and "▶ You · Sat 21 Nov 2026 15:00" in screen_text(app)
        await pilot.press("f", "g")  # and again unfolds every message
        await pilot.pause()
        assert "▼ You · Sat 21 Nov 2026 15:00" in screen_text(app) and "more words" in screen_text(app)
