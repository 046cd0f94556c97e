"""Follow-ups: snoozes, out-of-office returns, "no answer yet" reminders and notes.

The engine runs for real (Dovecot, the SMTP fixture) with a clock the test moves: days pass
without sleeping. Free input for the snooze prompt is a table of what people type.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from app.cli import main
from app.config import load_config
from app.engine import Engine
from app.store import InboxFilter, Store
from app.when import WhenError, add_business_days, morning_after, parse_when
from tests.conftest import ROOT
from tests.engine_support import until

UTC = timezone.utc
# Wednesday 2 December 2026, 10:30
NOW = datetime(2026, 12, 2, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize(("typed", "expected"), [
    ("3d", datetime(2026, 12, 5, 9, 0, tzinfo=UTC)),
    ("2w", datetime(2026, 12, 16, 9, 0, tzinfo=UTC)),
    ("in 2 days", datetime(2026, 12, 4, 9, 0, tzinfo=UTC)),
    ("2h", datetime(2026, 12, 2, 12, 30, tzinfo=UTC)),
    ("45m", datetime(2026, 12, 2, 11, 15, tzinfo=UTC)),
    ("1mo", datetime(2027, 1, 2, 9, 0, tzinfo=UTC)),
    ("tomorrow", datetime(2026, 12, 3, 9, 0, tzinfo=UTC)),
    ("Tomorrow 14:00", datetime(2026, 12, 3, 14, 0, tzinfo=UTC)),
    ("tomorrow 5pm", datetime(2026, 12, 3, 17, 0, tzinfo=UTC)),
    ("monday", datetime(2026, 12, 7, 9, 0, tzinfo=UTC)),
    ("wed", datetime(2026, 12, 9, 9, 0, tzinfo=UTC)),  # the next one, never today
    ("next friday 08:15", datetime(2026, 12, 4, 8, 15, tzinfo=UTC)),
    ("dec 14", datetime(2026, 12, 14, 9, 0, tzinfo=UTC)),
    ("14 December", datetime(2026, 12, 14, 9, 0, tzinfo=UTC)),
    ("jan 5", datetime(2027, 1, 5, 9, 0, tzinfo=UTC)),  # the next January
    ("dec 1", datetime(2027, 12, 1, 9, 0, tzinfo=UTC)),  # passed this year
    ("2026-12-14 09:00", datetime(2026, 12, 14, 9, 0, tzinfo=UTC)),
    ("2026-12-14", datetime(2026, 12, 14, 9, 0, tzinfo=UTC)),
    ("17:30", datetime(2026, 12, 2, 17, 30, tzinfo=UTC)),
    ("09:00", datetime(2026, 12, 3, 9, 0, tzinfo=UTC)),  # passed today: tomorrow
    ("week", datetime(2026, 12, 9, 9, 0, tzinfo=UTC)),
])
def test_snooze_input_is_read_as_people_type_it(typed, expected):
    assert parse_when(typed, NOW) == expected


@pytest.mark.parametrize(("typed", "says"), [
    ("", "say when"),
    ("soonish", "can't read"),
    ("2026-12-01 09:00", "has passed"),
    ("2026-02-30", "no day"),
    ("feb 30", "no day 30"),
    ("tomorrow at noonish", "can't read the time"),
    ("tomorrow 25:00", "can't read the time"),
    ("0d", "no time"),
    ("900w", "two years"),
    ("2031-01-01", "two years"),
])
def test_wrong_snooze_input_gets_one_line_and_no_time(typed, says):
    with pytest.raises(WhenError) as caught:
        parse_when(typed, NOW)
    assert says in str(caught.value) and "\n" not in str(caught.value)


def test_business_days_and_the_morning_after():
    friday = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)
    assert add_business_days(friday, 3) == datetime(2026, 12, 9, 9, 0, tzinfo=UTC)  # Wed, past the weekend
    assert add_business_days(NOW, 1) == datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    assert morning_after(datetime(2026, 12, 14).date(), 1, NOW) == datetime(2026, 12, 15, 9, 0, tzinfo=UTC)
    # a return date already gone: the next morning, never the past
    assert morning_after(datetime(2026, 11, 20).date(), 1, NOW) == datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


# -- the engine with a clock the test moves ------------------------------------------------------

class Clock:
    def __init__(self) -> None:
        self.t = time.time()

    def __call__(self) -> float:
        return self.t

    def advance(self, **delta: float) -> None:
        self.t += timedelta(**delta).total_seconds()


def conv_of(store: Store, message_id: str) -> int:
    row = store.find_message(message_id)
    assert row is not None
    return row["conversation_id"]


def in_view(store: Store, view: str, conv: int) -> bool:
    return any(r["id"] == conv for r in store.conversations_at(InboxFilter(view=view), 0, 500))


def state_of(store: Store, conv: int) -> dict:
    got = store.followup_state(conv)
    assert got is not None
    return got


async def test_snoozes_and_follow_ups_wake_on_the_engines_clock(dovecot, smtp_server, users, deliver,
                                                                make_config, tmp_path, capsys):
    me, = users(1)
    config_path = make_config(tmp_path, [me], follow_up_days=3, ooo_follow_up_days=1,
                              followup_check_seconds=0.2)
    config = load_config(config_path)
    clock = Clock()
    first = deliver(me.email, subject="Re: Quick question", body="Interested, but ping me later.",
                    from_addr="Ana Prospect <ana@prospect.example>")
    answered = deliver(me.email, subject="Re: Pricing", body="What does it cost?",
                       from_addr="Ben Buyer <ben@buyer.example>")
    silent = deliver(me.email, subject="Re: Demo", body="Could you send a deck?",
                     from_addr="Cleo Quiet <cleo@quiet.example>")
    engine = Engine(config, clock=clock)
    await engine.start()
    store = Store(config.database)
    try:
        await until(lambda: all(store.find_message(m) for m in (first, answered, silent)), 30, "stored")
        snoozed, waited, ignored = (conv_of(store, m) for m in (first, answered, silent))
        assert engine.followups is not None

        # a snooze hides the conversation until its time, then brings it back unread on top
        store.set_seen([snoozed], True)
        store.snooze([snoozed], clock.t + 86400, at=time.time())
        assert not in_view(store, "replies", snoozed) and in_view(store, "snoozed", snoozed)
        clock.advance(hours=23)  # a tick before its time changes nothing
        await engine.followups.tick()
        assert state_of(store, snoozed)["snoozed_until"] is not None
        clock.advance(hours=2)
        engine.followups.kick()
        await until(lambda: state_of(store, snoozed)["woke_reason"] == "snooze", 10, "the snooze ends")
        top = store.conversations_at(InboxFilter(), 0, 1)[0]
        assert top["id"] == snoozed and top["unread_count"] == 1 and top["woke_reason"] == "snooze"

        # a new message from the prospect wakes a snooze early
        store.snooze([snoozed], clock.t + 7 * 86400, at=time.time() - 1)
        deliver(me.email, subject="Re: Quick question", body="Actually, let's talk this week.",
                from_addr="Ana Prospect <ana@prospect.example>", in_reply_to=first)
        await until(lambda: state_of(store, snoozed)["snoozed_until"] is None, 30, "woken early by a reply")
        assert state_of(store, snoozed)["woke_reason"] == "new_reply" and in_view(store, "replies", snoozed)

        # our replies: both conversations wait out of Replies
        for mid, body in ((answered, "It is 49 a month."), (silent, "Deck attached.")):
            code = await asyncio.to_thread(main, ["--config", str(config_path), "reply", mid, "--body", body])
            assert code == 0, capsys.readouterr().err
        await until(lambda: all(state_of(store, c)["waiting_since"] for c in (waited, ignored)), 30, "waiting")
        assert not in_view(store, "replies", waited) and in_view(store, "snoozed", ignored)
        engine.followups.kick()
        await until(lambda: state_of(store, ignored)["snooze_reason"] == "no_answer", 10, "reminder scheduled")

        # Ben answers; Cleo does not
        deliver(me.email, subject="Re: Pricing", body="Thanks, that works for us.",
                from_addr="Ben Buyer <ben@buyer.example>", in_reply_to=answered)
        await until(lambda: state_of(store, waited)["waiting_since"] is None, 30, "an answer ends the wait")
        assert in_view(store, "replies", waited)

        clock.advance(days=7)  # past 3 business days, whatever day of the week this runs
        engine.followups.kick()
        await until(lambda: state_of(store, ignored)["woke_reason"] == "no_answer", 10, "no answer: back")
        assert in_view(store, "replies", ignored)
        assert state_of(store, waited)["woke_reason"] is None  # answered: never reminded
        assert ignored in engine.followups.woken and waited not in engine.followups.woken

        # an out-of-office reply with a return date snoozes until the morning after it
        back = (datetime.fromtimestamp(clock.t) + timedelta(days=10)).date()
        deliver(me.email, subject="Automatic reply: Re: Demo",
                body=f"I am out of the office until {back:%d %B %Y} with limited access to email.",
                from_addr="Cleo Quiet <cleo@quiet.example>", in_reply_to=silent,
                extra_headers={"Auto-Submitted": "auto-replied"})
        await until(lambda: state_of(store, ignored)["snooze_reason"] == "out_of_office", 30, "OOO snoozes")
        wake = datetime.fromtimestamp(state_of(store, ignored)["snoozed_until"])
        assert wake.date() == back + timedelta(days=1) and wake.hour == 9
        assert not in_view(store, "replies", ignored)
        clock.advance(days=12)
        engine.followups.kick()
        await until(lambda: state_of(store, ignored)["woke_reason"] == "out_of_office", 10, "back from OOO")
        assert in_view(store, "replies", ignored)
    finally:
        await engine.stop()
        store.close()


def test_due_lists_what_waits_as_the_store_has_it(store_target, tmp_path):
    from tests.ui_seed import seed
    db = seed(store_target())
    config = tmp_path / "config.toml"
    config.write_text(f'[general]\ndatabase = "{db}"\ntimezone = "UTC"\n')
    store = Store(db)
    convs = [r["id"] for r in store.conversations_at(InboxFilter(), 0, 10)]
    wake = time.time() + 3 * 86400
    store.snooze(convs[:2], wake, at=time.time())
    store.set_note(convs[0], "Call after the board meeting")
    store.start_waiting(convs[2], time.time())
    out = subprocess.run([sys.executable, "-m", "app", "--config", str(config), "due", "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    items = [json.loads(line) for line in out.stdout.splitlines()]
    assert [i["conversation"] for i in items] == [r["id"] for r in store.due()]
    assert {i["conversation"] for i in items} == set(convs[:3])
    by_id = {i["conversation"]: i for i in items}
    assert by_id[convs[0]]["state"] == "snoozed" and by_id[convs[0]]["note"] == "Call after the board meeting"
    assert datetime.fromisoformat(by_id[convs[1]]["wakes_at"]).timestamp() == pytest.approx(wake)
    assert by_id[convs[2]]["state"] == "waiting" and by_id[convs[2]]["wakes_at"]
    plain = subprocess.run([sys.executable, "-m", "app", "--config", str(config), "due"],
                           cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert plain.returncode == 0 and len(plain.stdout.splitlines()) == 3
    store.close()


def test_notes_are_searchable_and_go_out_with_the_leads(store_target, tmp_path):
    from tests.ui_seed import seed
    db = seed(store_target())
    config = tmp_path / "config.toml"
    config.write_text(f'[general]\ndatabase = "{db}"\n')
    store = Store(db)
    interested = store.conversations_at(InboxFilter(category="interested"), 0, 1)[0]["id"]
    store.set_note(interested, "Budget opens in Q2, ask for Dana")
    hits = store.conversations_at(InboxFilter(search="budget opens"), 0, 10)
    assert [h["id"] for h in hits] == [interested]
    out = subprocess.run([sys.executable, "-m", "app", "--config", str(config), "export", "leads",
                          "--format", "json"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    notes = [json.loads(line)["note"] for line in out.stdout.splitlines()]
    assert "Budget opens in Q2, ask for Dana" in notes
    store.close()


# -- the keys: snooze, note, the Snoozed view, a second terminal ------------------------------------

def _ui():
    from app.ui.followup import NoteScreen, SnoozeScreen
    from app.ui.inbox_list import InboxList
    from tests.ui_seed import make_app, screen_text
    from tests.ui_seed import until as ui_until
    return NoteScreen, SnoozeScreen, InboxList, make_app, screen_text, ui_until


def _select(app, InboxList, sender: str) -> int:
    inbox = app.screen.query_one(InboxList)
    for i in range(len(inbox.pager)):
        if inbox.pager.row(i)["counterpart"] == sender:
            inbox.cursor = i
            return inbox.pager.row(i)["id"]
    raise AssertionError(f"{sender} not listed")


def _listed(app, InboxList) -> list[str]:
    inbox = app.screen.query_one(InboxList)
    return [inbox.pager.row(i)["counterpart"] for i in range(len(inbox.pager))]


async def test_s_snoozes_with_a_preset_and_the_row_goes_to_the_snoozed_view(store_target):
    from tests.ui_seed import NOW, seed
    NoteScreen, SnoozeScreen, InboxList, make_app, screen_text, ui_until = _ui()
    db = seed(store_target())
    app = make_app(db)
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.pause()
        conv = _select(app, InboxList, "carol@prospect.io")
        await pilot.press("s")
        assert isinstance(app.screen, SnoozeScreen)
        assert "Tomorrow morning" in screen_text(app) and "Next Monday" in screen_text(app)
        await pilot.press("j", "enter")  # the second preset: tomorrow morning
        await pilot.pause()
        assert not isinstance(app.screen, SnoozeScreen)
        assert "carol@prospect.io" not in _listed(app, InboxList)
        state = app.store.followup_state(conv)
        tomorrow = datetime.fromtimestamp(NOW, timezone.utc).date() + timedelta(days=1)
        assert datetime.fromtimestamp(state["snoozed_until"], timezone.utc) == datetime.combine(
            tomorrow, datetime.min.time(), timezone.utc).replace(hour=9)
        await pilot.press("7")
        await pilot.pause()
        assert _listed(app, InboxList) == ["carol@prospect.io"]
        assert "snoozed until tomorrow 09:00" in screen_text(app)
        # and back: s, then "Back to the inbox now" (the last choice)
        await pilot.press("s")
        await pilot.press("end", "enter")
        await pilot.pause()
        assert app.store.followup_state(conv)["snoozed_until"] is None
        await pilot.press("1")
        await pilot.pause()
        assert "carol@prospect.io" in _listed(app, InboxList)


@pytest.mark.parametrize(("typed", "error"), [
    ("soonish", "can't read"),
    ("2020-01-01 09:00", "has passed"),
    ("tomorrow 25:00", "can't read the time"),
])
async def test_a_wrong_time_is_said_in_place_and_changes_nothing(tmp_path, typed, error):
    from tests.ui_seed import seed
    NoteScreen, SnoozeScreen, InboxList, make_app, screen_text, ui_until = _ui()
    db = seed(tmp_path / "replydesk.db")
    app = make_app(db)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        conv = _select(app, InboxList, "gavin@hooli.com")
        await pilot.press("s", "slash")
        await pilot.press(*typed)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SnoozeScreen)
        assert error in screen_text(app)
        assert app.store.followup_state(conv)["snoozed_until"] is None
        await pilot.press("ctrl+a", "ctrl+k", *"3d", "enter")  # then a good one
        await pilot.pause()
        assert not isinstance(app.screen, SnoozeScreen)
        assert app.store.followup_state(conv)["snoozed_until"] is not None


async def test_N_keeps_a_note_shown_on_the_row_and_in_the_thread(store_target):
    from tests.ui_seed import seed
    NoteScreen, SnoozeScreen, InboxList, make_app, screen_text, ui_until = _ui()
    db = seed(store_target())
    app = make_app(db)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        conv = _select(app, InboxList, "erin@globex.com")
        await pilot.press("N")
        assert isinstance(app.screen, NoteScreen)
        await pilot.press(*"Call after the board meeting", "enter")
        await pilot.pause()
        assert app.store.note(conv) == "Call after the board meeting"
        assert "✎ Re: Idea for Globex" in screen_text(app)
        await pilot.press("enter")  # open the thread
        await pilot.pause()
        assert "Note: Call after the board meeting" in screen_text(app)
        await pilot.press("escape", "N", "escape")  # escape changes nothing
        await pilot.pause()
        assert app.store.note(conv) == "Call after the board meeting"


async def test_a_snooze_reaches_a_second_terminal_and_due_matches_the_snoozed_view(store_target, tmp_path):
    from tests.ui_seed import seed
    NoteScreen, SnoozeScreen, InboxList, make_app, screen_text, ui_until = _ui()
    db = seed(store_target())
    config = tmp_path / "config.toml"
    config.write_text(f'[general]\ndatabase = "{db}"\n')
    first, second = make_app(db), make_app(db)
    async with first.run_test(size=(120, 30)) as one, second.run_test(size=(120, 30)) as two:
        await one.pause()
        await two.pause()
        _select(first, InboxList, "mallory@spam.example")
        await one.press("s", "slash", *"2w", "enter")
        await one.pause()
        assert await ui_until(two, lambda: "mallory@spam.example" not in _listed(second, InboxList))
        await two.press("7")
        assert await ui_until(two, lambda: _listed(second, InboxList) == ["mallory@spam.example"])
        assert "snoozed until" in screen_text(second)
        shown = [second.screen.query_one(InboxList).pager.row(0)["id"]]
    out = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "app", "--config", str(config), "due", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert [json.loads(line)["conversation"] for line in out.stdout.splitlines()] == shown


async def test_a_conversation_that_comes_back_is_announced(store_target):
    from tests.ui_seed import NOW, seed
    NoteScreen, SnoozeScreen, InboxList, make_app, screen_text, ui_until = _ui()
    db = seed(store_target())
    app = make_app(db)
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.pause()
        conv = _select(app, InboxList, "gavin@hooli.com")
        await pilot.press("s", "slash", *"2h", "enter")
        await pilot.pause()
        other = Store(db)  # the engine, in another process, wakes it
        try:
            assert other.wake_due(NOW + 3 * 3600) == [conv]
        finally:
            other.close()
        # in the status bar's line, not a pop-up over the list
        assert await ui_until(pilot, lambda: "⏰ Gavin Belson: snooze ended" in screen_text(app))
        assert await ui_until(pilot, lambda: _listed(app, InboxList)[0] == "gavin@hooli.com")


async def test_the_reply_to_someone_back_from_out_of_office_starts_with_its_template(store_target, tmp_path):
    from app.config import load_config as load
    from app.ui.compose import ComposeScreen
    from tests.ui_seed import NOW, seed
    NoteScreen, SnoozeScreen, InboxList, make_app, screen_text, ui_until = _ui()
    db = seed(store_target())
    config_path = tmp_path / "config.toml"
    config_path.write_text(f'[general]\ndatabase = "{db}"\nooo_template = "welcome_back"\n'
                           '[templates]\nwelcome_back = "Welcome back, {first_name|there}! Is now a better time?"\n'
                           '[[accounts]]\nid = "ana"\nemail = "ana@acme.io"\nprovider = "google"\n')
    store = Store(db)
    conv = store.conversations_at(InboxFilter(view="auto"), 0, 1)[0]["id"]  # Peter's out-of-office
    store.snooze([conv], NOW + 3600, at=NOW)
    store.db.conn.execute("UPDATE conversations SET snooze_reason = 'out_of_office' WHERE id = ?", (conv,))
    assert store.wake_due(NOW + 7200) == [conv]
    store.close()
    app = make_app(db, load(config_path))
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.pause()
        assert _listed(app, InboxList)[0] == "peter@initech.com"  # back on top of Replies
        assert "back from out of office" in screen_text(app)
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen)
        assert "Welcome back, Peter! Is now a better time?" in screen_text(app)
