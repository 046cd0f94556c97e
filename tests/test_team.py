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
def team(tmp_path):
    """Two people on one database, each on their own connection."""
    db = seed(tmp_path / "rd.db")
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


def test_the_cli_acts_as_the_configured_user(tmp_path):
    db = seed(tmp_path / "rd.db")
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[general]\ndatabase = "{db}"\nuser = "kim"\n')
    proc = cli("--config", str(cfg), "export", "activity", "--user", "kim")
    assert proc.returncode == 0 and proc.stdout.strip() == ",".join(
        ["at", "user", "action", "conversation", "counterpart", "subject", "detail", "waited"])
    bad = tmp_path / "bad.toml"
    bad.write_text(f'[general]\ndatabase = "{db}"\nuser = ""\n')
    proc = cli("--config", str(bad), "export", "activity")
    assert proc.returncode != 0 and "user" in proc.stderr and "Traceback" not in proc.stderr
