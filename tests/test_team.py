"""Team triage: who you are, who did what (the history and its export), who owns a reply."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from app.store import Store
from tests.conftest import ROOT
from tests.ui_seed import NOW, seed


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, capture_output=True, text=True)


def conv_of(store: Store, sender: str) -> int:
    row = store.db.conn.execute("SELECT id FROM conversations WHERE counterpart = ?", (sender,)).fetchone()
    assert row is not None, sender
    return int(row[0])


@pytest.fixture
def team(store_target):
    """Two people on one database, each on their own connection."""
    db = seed(store_target())
    ana, sam = Store(db, "ana"), Store(db, "sam")
    yield db, ana, sam
    ana.close()
    sam.close()


def every_action(ana: Store, sam: Store) -> tuple[int, int]:
    carol, erin = conv_of(ana, "carol@prospect.io"), conv_of(ana, "erin@globex.com")
    start = len(ana.activity())
    ana.set_category([carol], "meeting")
    ana.assign([carol], "sam")
    sam.snooze([erin], NOW + 86400, at=NOW)
    sam.unsnooze([erin])
    sam.set_note(erin, "call after the board meeting")
    ana.suppress("erin@globex.com", "do_not_contact",
                 source_message=ana.db.conn.execute("SELECT last_inbound_id FROM conversations WHERE id = ?",
                                                    (erin,)).fetchone()[0])
    sam.queue_reply(account="ana", message_id="<a1@acme.io>", raw=b"x", recipients=["carol@prospect.io"],
                    subject="Re: Quick question about Acme", body="Tuesday it is.", conversation_id=carol)
    ana.assign([carol], None)
    ana.undo_last()  # the label is taken back: the undo is history too, by who undid it
    return carol, start


def test_every_kind_of_change_records_who_did_it_and_when(team):
    _, ana, sam = team
    carol, start = every_action(ana, sam)
    erin = conv_of(ana, "erin@globex.com")
    rows = ana.activity()[start:]
    got = [(r.user, r.action, r.conversation, r.detail) for r in rows]
    assert got[:8] == [
        ("ana", "label", carol, "meeting"),
        ("ana", "assign", carol, "sam"),
        ("sam", "snooze", erin, "2026-11-25 15:00 UTC (snooze)"),
        ("sam", "unsnooze", erin, ""),
        ("sam", "note", erin, "edited"),
        ("ana", "suppress", erin, "erin@globex.com (do_not_contact)"),
        ("sam", "reply", carol, "Re: Quick question about Acme"),
        ("ana", "unassign", carol, "sam"),
    ]
    assert got[8][:3] == ("ana", "label", carol) and got[8][3] != "meeting"
    assert all(abs(r.at - rows[0].at) < 3600 for r in rows)  # stamped when written
    # the reply knows how long the prospect waited for it (2 hours before the seed's clock)
    reply = next(r for r in rows if r.action == "reply")
    assert reply.waited is not None and reply.waited > 2 * 3600
    # a note's text never reaches the history
    assert all("board" not in r.detail for r in ana.activity())
    # the other connection sees the same history
    assert [r.id for r in sam.activity(conversation=carol)] == [r.id for r in ana.activity(conversation=carol)]
    assert {"ana", "sam"} <= set(ana.known_users())


def test_per_user_counts_and_median_answer_time(team):
    _, ana, sam = team
    every_action(ana, sam)
    by_user = {u.user: u for u in ana.activity_by_user()}
    assert by_user["sam"].counts["reply"] == 1 and by_user["sam"].counts["snooze"] == 1
    assert by_user["ana"].counts["assign"] == 1 and by_user["ana"].counts["label"] == 2
    assert by_user["sam"].median_answer == next(r.waited for r in ana.activity() if r.action == "reply")
    assert by_user["ana"].median_answer is None


def test_export_activity_matches_the_history(team, tmp_path):
    db, ana, sam = team
    every_action(ana, sam)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[general]\ndatabase = "{db}"\n')
    proc = cli("--config", str(cfg), "export", "activity", "--format", "json", "--user", "sam")
    assert proc.returncode == 0, proc.stderr
    exported = [json.loads(line) for line in proc.stdout.splitlines()]
    history = [r for r in ana.activity() if r.user == "sam"]
    assert [(e["action"], e["conversation"], e["detail"]) for e in exported] == \
        [(r.action, r.conversation, r.detail) for r in history]
    assert exported[-1]["counterpart"] == "carol@prospect.io"

    proc = cli("--config", str(cfg), "export", "activity")
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert len(rows) == len(ana.activity())
    assert {r["user"] for r in rows} >= {"ana", "sam"}

    proc = cli("--config", str(cfg), "export", "activity", "--since", "2999-01-01")
    assert proc.returncode == 0 and list(csv.DictReader(io.StringIO(proc.stdout))) == []

    proc = cli("--config", str(cfg), "export", "activity", "--since", "last tuesday")
    assert proc.returncode == 2 and "expected a date" in proc.stderr and "Traceback" not in proc.stderr


def test_the_cli_acts_as_the_configured_user(store_target, tmp_path):
    db = seed(store_target())
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[general]\ndatabase = "{db}"\nuser = "kim"\n')
    proc = cli("--config", str(cfg), "export", "activity", "--user", "kim")
    assert proc.returncode == 0 and proc.stdout.strip() == ",".join(
        ["at", "user", "action", "conversation", "counterpart", "subject", "detail", "waited"])
    bad = tmp_path / "bad.toml"
    bad.write_text(f'[general]\ndatabase = "{db}"\nuser = ""\n')
    proc = cli("--config", str(bad), "export", "activity")
    assert proc.returncode != 0 and "user" in proc.stderr and "Traceback" not in proc.stderr


# -- two terminals as two people ---------------------------------------------------------------

def _listed(app) -> list[str]:
    from app.ui.inbox_list import InboxList
    inbox = app.screen.query_one(InboxList)
    return [inbox.pager.row(i)["counterpart"] for i in range(len(inbox.pager))]


def _row(app, sender: str) -> dict:
    from app.ui.inbox_list import InboxList
    inbox = app.screen.query_one(InboxList)
    return next(inbox.pager.row(i) for i in range(len(inbox.pager)) if inbox.pager.row(i)["counterpart"] == sender)


def _terminal(db, tmp_path, user: str, *, clock=None, heartbeat: float = 10.0):
    from datetime import timezone

    from app.config import load_config
    from app.ui import ReplydeskApp
    from tests.ui_seed import clock as fixed_clock
    cfg = tmp_path / f"{user}.toml"
    cfg.write_text(f'[general]\ndatabase = "{db}"\nuser = "{user}"\nteam = ["ana", "sam"]\n\n'
                   '[[accounts]]\nid = "ana"\nemail = "ana@acme.io"\nname = "Ana Reyes"\nprovider = "google"\n')
    return ReplydeskApp(db, load_config(cfg), clock=clock or fixed_clock, tz=timezone.utc, poll_interval=0.05,
                        heartbeat=heartbeat)


async def test_an_assignment_reaches_the_teammate_with_mine_unassigned_and_the_history(store_target, tmp_path):
    from textual.widgets import OptionList

    from app.ui.inbox_list import InboxList
    from app.ui.pickers import PickerScreen
    from tests.ui_seed import screen_text
    from tests.ui_seed import until as ui_until
    db = seed(store_target())
    ana, sam = _terminal(db, tmp_path, "ana"), _terminal(db, tmp_path, "sam")
    async with ana.run_test(size=(140, 30)) as one, sam.run_test(size=(140, 30)) as two:
        await one.pause()
        await two.pause()
        assert "you: ana" in screen_text(ana) and "you: sam" in screen_text(sam)
        assert "8 Mine" in screen_text(ana) and "9 Unassigned" in screen_text(ana)
        inbox = ana.screen.query_one(InboxList)
        inbox.cursor = _listed(ana).index("carol@prospect.io")
        await one.pause()
        await one.press("A")
        assert await ui_until(one, lambda: isinstance(ana.screen, PickerScreen))
        picker = ana.screen
        values = [c.value for c in picker.choices]  # the team, and whoever seeded the store
        assert {"ana", "sam"} <= set(values) and values[-1] is None
        picker.query_one(OptionList).highlighted = values.index("sam")
        await one.press("enter")
        # the other terminal shows it within a second
        assert await ui_until(two, lambda: _row(sam, "carol@prospect.io")["assigned_to"] == "sam"
                              and "@sam · " in screen_text(sam), timeout=1.0)
        await two.press("8")
        assert await ui_until(two, lambda: _listed(sam) == ["carol@prospect.io"])
        await one.press("8")
        assert await ui_until(one, lambda: _listed(ana) == [])
        await one.press("9")
        assert await ui_until(one, lambda: "carol@prospect.io" not in _listed(ana) and _listed(ana))
        # sam opens it: the thread says whose it is and who did what
        await two.press("enter")
        assert await ui_until(two, lambda: "History:" in screen_text(sam))
        assert "ana assigned to sam" in screen_text(sam) and "@sam" in screen_text(sam)
    assert [(a.user, a.action, a.detail) for a in Store(db).activity()][-1] == ("ana", "assign", "sam")


async def test_the_health_screen_gives_each_person_their_counts_and_answer_time(store_target, tmp_path):
    from tests.ui_seed import screen_text
    from tests.ui_seed import until as ui_until
    db = seed(store_target())
    ana, sam = Store(db, "ana"), Store(db, "sam")
    every_action(ana, sam)
    app = _terminal(db, tmp_path, "ana")
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        await pilot.press("h")
        assert await ui_until(pilot, lambda: "Team this week" in screen_text(app))
        text = screen_text(app)
        assert "sam: 1 note, 1 reply, 1 snooze, 1 unsnooze; median answer" in text
        assert "ana: 1 assign, 2 label, 1 suppress, 1 unassign" in text


async def test_presence_reaches_the_teammate_and_a_second_reply_is_guarded(store_target, tmp_path):
    from textual.widgets import OptionList, TextArea

    from app.ui.compose import ComposeScreen
    from app.ui.conversation import ConversationScreen
    from app.ui.inbox_list import InboxList
    from app.ui.pickers import PickerScreen
    from tests.ui_seed import screen_text
    from tests.ui_seed import until as ui_until
    db = seed(store_target())
    ana, sam = _terminal(db, tmp_path, "ana"), _terminal(db, tmp_path, "sam")
    async with ana.run_test(size=(140, 30)) as one, sam.run_test(size=(140, 30)) as two:
        await one.pause()
        await two.pause()
        for app in (ana, sam):
            app.screen.query_one(InboxList).cursor = _listed(app).index("carol@prospect.io")
        await two.pause()
        await two.press("enter")
        assert await ui_until(one, lambda: "sam is viewing · " in screen_text(ana), timeout=1.0)
        await two.press("r")
        assert await ui_until(two, lambda: isinstance(sam.screen, ComposeScreen))
        assert await ui_until(one, lambda: "sam is replying · " in screen_text(ana), timeout=1.0)
        await one.press("enter")
        assert await ui_until(one, lambda: isinstance(ana.screen, ConversationScreen)
                              and "sam is replying" in screen_text(ana))
        # a second reply asks first
        await one.press("r")
        assert await ui_until(one, lambda: isinstance(ana.screen, PickerScreen))
        assert await ui_until(one, lambda: "already writing" in screen_text(ana)), screen_text(ana)
        labels = [c.label for c in ana.screen.choices]
        ana.screen.query_one(OptionList).highlighted = labels.index("Reply anyway")
        await one.press("enter")
        assert await ui_until(one, lambda: isinstance(ana.screen, ComposeScreen))
        # sam sends first; ana's send then asks again
        sam.screen.query_one(TextArea).insert("Tuesday works for us. ")
        await two.press("ctrl+s")
        assert await ui_until(two, lambda: not isinstance(sam.screen, ComposeScreen))
        ana.screen.query_one(TextArea).insert("Happy to set up a call. ")
        await one.press("ctrl+s")
        assert await ui_until(one, lambda: "sam replied to this conversation in the last 10 minutes"
                              in screen_text(ana))
        assert isinstance(ana.screen, ComposeScreen)
        await one.press("ctrl+s")
        assert await ui_until(one, lambda: not isinstance(ana.screen, ComposeScreen))
    carol = conv_of(Store(db), "carol@prospect.io")
    assert [(a.user, a.action) for a in Store(db).activity(conversation=carol) if a.action == "reply"] == \
        [("sam", "reply"), ("ana", "reply")]
    assert Store(db).presence(0.0) == {}  # both terminals closed: no one is on it


async def test_a_killed_terminal_drops_out_within_30_seconds(store_target, tmp_path):
    from tests.ui_seed import NOW as T
    from tests.ui_seed import screen_text
    from tests.ui_seed import until as ui_until
    db = seed(store_target())
    now = [T]
    dead = Store(db, "kim")
    dead.set_presence("kim-laptop:4242", conv_of(dead, "carol@prospect.io"), "replying", T)
    dead.close()  # killed: no goodbye, the heartbeat just stops
    ana = _terminal(db, tmp_path, "ana", clock=lambda: now[0], heartbeat=0.05)
    async with ana.run_test(size=(140, 30)) as pilot:
        assert await ui_until(pilot, lambda: "kim is replying · " in screen_text(ana))
        now[0] = T + 29
        await pilot.pause(0.2)
        assert "kim is replying · " in screen_text(ana)
        now[0] = T + 31
        assert await ui_until(pilot, lambda: "kim is replying" not in screen_text(ana), timeout=1.0)


def test_assignment_rules_give_new_replies_to_their_owner(store_target):
    from app.config import parse_config
    from app.engine import assign_rules
    from app.errors import ConfigError
    from app.store.activity import ENGINE_USER
    from tests.ui_seed import HOUR, add_reply
    config = parse_config({"assign": [
        {"category": "interested", "mailbox_domain": "acme.io", "user": "sam"},
        {"mailbox": "ben@acme-mail.com", "user": "kim"},
        {"category": "do not contact", "user": "lee"}]})
    rules = assign_rules(config)
    assert [(r.user, r.category) for r in rules] == [("sam", "interested"), ("kim", None), ("lee", "unsubscribe")]
    db = seed(store_target())
    engine = Store(db, ENGINE_USER)
    engine.set_assign_rules(rules)
    before = len(engine.activity())
    engine.add_messages("ana", [_reply(10, "<hot@x.example>", "dana@hot.example", "interested", NOW + HOUR)])
    engine.add_messages("ana", [_reply(11, "<cool@x.example>", "fred@cool.example", "meeting", NOW + HOUR)])
    hot, cool = conv_of(engine, "dana@hot.example"), conv_of(engine, "fred@cool.example")
    assert engine.assignee(hot) == "sam" and engine.assignee(cool) is None
    assert [(a.user, a.action, a.conversation, a.detail) for a in engine.activity()[before:]] == [
        (ENGINE_USER, "assign", hot, "sam")]
    # someone who has the conversation keeps it when the next reply comes in
    engine.assign([hot], "ana")
    engine.add_messages("ana", [_reply(12, "<hot2@x.example>", "dana@hot.example", "interested", NOW + 2 * HOUR,
                                       in_reply_to="<hot@x.example>")])
    assert engine.assignee(hot) == "ana"
    add_reply(db, 13, "Re: hi", "gil@x.example", "Gil", NOW)  # a store with no rules assigns nothing
    assert engine.assignee(conv_of(engine, "gil@x.example")) is None
    engine.close()
    with pytest.raises(ConfigError, match="needs mailbox"):
        parse_config({"assign": [{"user": "sam"}]})
    with pytest.raises(ConfigError, match=r"assign\[0\]\.category"):
        assign_rules(parse_config({"assign": [{"user": "sam", "category": "hot"}]}))


def _reply(uid, message_id, sender, category, at, in_reply_to=None):
    from tests.ui_seed import inbound, message
    return inbound(uid, message(message_id, "Re: hello", sender, new_text="Sounds good", at=at,
                                in_reply_to=in_reply_to), "reply", category)


async def test_with_the_real_engine_a_rule_assigns_and_two_terminals_see_each_other(
        dovecot, smtp_server, users, deliver, make_config, tmp_path):
    from textual.widgets import OptionList

    from app.ui import ReplydeskApp
    from app.ui.inbox_list import InboxList
    from app.ui.pickers import PickerScreen
    from tests.engine_support import running_engine
    from tests.ui_seed import screen_text
    from tests.ui_seed import until as ui_until
    account, prospect = users(2)
    config_path = make_config(tmp_path, [account])
    with open(config_path, "a", encoding="utf-8") as fh:  # noqa: ASYNC230 (a small local file)
        fh.write(f'\n[[assign]]\nmailbox = "{account.email}"\nuser = "sam"\n')
    async with running_engine(config_path) as (_, config, store):
        ana = ReplydeskApp(config.database, config, attached=True, user="ana", poll_interval=0.05)
        sam = ReplydeskApp(config.database, config, attached=True, user="sam", poll_interval=0.05)
        async with ana.run_test(size=(140, 30)) as one, sam.run_test(size=(140, 30)) as two:
            deliver(account.email, from_addr=f"Pat Prospect <{prospect.email}>", subject="Re: Quick question",
                    body="Could be useful. What does it cost?")
            # the engine stores the reply and the rule gives it to sam; both terminals show it
            assert await ui_until(two, lambda: "@sam · " in screen_text(sam), timeout=30)
            assert await ui_until(one, lambda: "@sam · " in screen_text(ana), timeout=5)
            assert store.activity()[-1].user == "replydesk"
            for app in (ana, sam):
                app.screen.query_one(InboxList).cursor = _listed(app).index(prospect.email)
            await one.pause()
            await one.press("enter")
            assert await ui_until(two, lambda: "ana is viewing · " in screen_text(sam), timeout=1.0)
            await one.press("A")
            assert await ui_until(one, lambda: isinstance(ana.screen, PickerScreen))
            values = [c.value for c in ana.screen.choices]
            ana.screen.query_one(OptionList).highlighted = values.index("ana")
            await one.press("enter")
            assert await ui_until(two, lambda: "@ana · " in screen_text(sam), timeout=1.0)
        assert [(a.user, a.action, a.detail) for a in store.activity()[-2:]] == [
            ("replydesk", "assign", "sam"), ("ana", "assign", "ana")]


async def test_assign_and_the_team_views_are_in_the_help_and_the_palette(tmp_path):
    from app.ui.help import HelpScreen
    from tests.ui_seed import screen_text
    from tests.ui_seed import until as ui_until
    db = seed(tmp_path / "rd.db")
    app = _terminal(db, tmp_path, "ana")
    async with app.run_test(size=(140, 60)) as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"Assign (A)", "View: Mine", "View: Unassigned", "Export: team activity (CSV)"} <= set(titles)
        await pilot.press("question_mark")
        assert await ui_until(pilot, lambda: isinstance(app.screen, HelpScreen) and "Assign" in screen_text(app))
        assert "Unassigned" in screen_text(app)
