"""The command line: help, version, list and export against a real store; errors are one line."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

from app import __version__
from app.cli import SUBCOMMANDS
from app.mail.types import BounceRecipient
from app.store import Store
from tests.conftest import ROOT
from tests.storefill import incoming


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, capture_output=True, text=True)


def test_help_lists_every_subcommand_and_version_prints():
    proc = cli("--help")
    assert proc.returncode == 0
    for name in SUBCOMMANDS:
        assert name in proc.stdout
    export = next(line for line in proc.stdout.splitlines() if line.strip().startswith("export"))
    assert "leads" in export and "suppression" in export
    # the checkout's Python here; tests/test_compiled.py asks the wheel's
    assert cli("--version").stdout.strip() == f"replydesk {__version__} (message reader: pure Python)"


def seeded(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[general]\ndatabase = "rd.db"\n')
    store = Store(tmp_path / "rd.db")
    store.add_messages("a", [
        incoming(1, "<r1@p>", "Re: pricing", "bob@p.example", category="interested", received_at=100.0),
        incoming(2, "<r2@p>", "Re: stop", "ann@q.example", category="unsubscribe", received_at=200.0),
        incoming(3, "<b1@p>", "Undeliverable", "mailer-daemon@p.example", kind="bounce", category="bounce",
                 bounces=[BounceRecipient("gone@p.example", "5.1.1", True)], received_at=300.0),
    ])
    store.close()
    return cfg


def test_list_json_is_one_object_per_line_newest_first(tmp_path):
    cfg = seeded(tmp_path)
    proc = cli("--config", str(cfg), "list", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["subject"] for r in rows] == ["Undeliverable", "Re: stop", "Re: pricing"]
    for key in ("account", "folder", "uid", "message_id", "from", "subject", "date", "category", "seen"):
        assert key in rows[0]
    limited = cli("list", "--json", "--limit", "1", "--category", "interested", "--config", str(cfg))
    assert [json.loads(x)["from"] for x in limited.stdout.splitlines()] == ["bob@p.example"]


def test_export_suppressions_as_csv(tmp_path):
    cfg = seeded(tmp_path)
    proc = cli("--config", str(cfg), "export", "suppressions")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert {(r["address"], r["reason"]) for r in rows} == {("gone@p.example", "hard_bounce"),
                                                          ("ann@q.example", "unsubscribe")}


def test_export_to_an_unwritable_path_is_one_line(tmp_path):
    cfg = seeded(tmp_path)
    proc = cli("--config", str(cfg), "export", "-o", str(tmp_path / "missing" / "x.csv"))
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "cannot write" in proc.stderr


def test_a_file_that_is_not_a_database_is_one_line_and_left_alone(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[general]\ndatabase = "rd.db"\n')
    junk = b"this is a spreadsheet, not a database\n" * 200
    (tmp_path / "rd.db").write_bytes(junk)
    proc = cli("--config", str(cfg), "list", "--json")
    assert proc.returncode != 0
    assert len(proc.stderr.strip().splitlines()) == 1 and "rd.db" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert (tmp_path / "rd.db").read_bytes() == junk


def _classified(uid: int, raw: str, received_at: float):
    from app.mail import classify, parse
    from app.store import IncomingMessage

    p = parse(raw.encode())
    return IncomingMessage("INBOX", 1, uid, p, classify(p), received_at=received_at)


def test_export_leads_for_a_crm(tmp_path):
    """One row per prospect worth a follow-up, newest first, with what they wrote and where; a
    cell a spreadsheet would run as a formula is defused."""
    cfg = tmp_path / "config.toml"
    cfg.write_text('[general]\ndatabase = "rd.db"\n')
    store = Store(tmp_path / "rd.db")
    store.ensure_account("a", "ana@sender.example")
    head = "To: ana@sender.example\nSubject: Re: Quick question\nIn-Reply-To: <cold{n}@sender.example>\n"
    store.add_messages("a", [
        _classified(1, "From: Bob <bob@p.example>\n" + head.format(n=1) + "Message-ID: <1@p>\n\n"
                    "Sounds interesting, what does it cost for 20 seats?\n", 100.0),
        _classified(2, "From: =HYPERLINK(\"http://x.example\") <eve@q.example>\n" + head.format(n=2)
                    + "Message-ID: <2@q>\n\nCan we talk on Tuesday at 3pm?\n", 200.0),
        _classified(3, "From: Carl <carl@r.example>\n" + head.format(n=3) + "Message-ID: <3@r>\n\n"
                    "No thanks, we already have a vendor for this.\n", 300.0),
        _classified(4, "From: Dana <dana@s.example>\n" + head.format(n=4) + "Message-ID: <4@s>\n\n"
                    "I'm not the right person, please contact jo@s.example instead.\n", 400.0),
    ])
    store.mark_message_answered(store.find_message("<2@q>")["id"])
    store.close()
    proc = cli("--config", str(cfg), "export", "leads")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [(r["email"], r["category"]) for r in rows] == [("eve@q.example", "meeting"),
                                                           ("bob@p.example", "interested")]
    assert rows[0]["name"].startswith("'=HYPERLINK") and rows[0]["answered"] == "True"
    assert rows[1]["reply"] == "Sounds interesting, what does it cost for 20 seats?"
    assert rows[1]["mailbox"] == "ana@sender.example" and rows[1]["answered"] == "False"

    referrals = cli("--config", str(cfg), "export", "leads", "--category", "wrong_person", "--format", "json")
    [row] = [json.loads(x) for x in referrals.stdout.splitlines()]
    assert (row["email"], row["referral"]) == ("dana@s.example", "jo@s.example")

    unknown = cli("--config", str(cfg), "export", "leads", "--account", "nobody@x.example")
    assert unknown.returncode != 0 and len(unknown.stderr.strip().splitlines()) == 1


def test_list_with_nothing_set_up_says_how_to_start_and_creates_nothing(tmp_path):
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "HOME": str(tmp_path)}
    env.pop("REPLYDESK_CONFIG", None)
    proc = subprocess.run([sys.executable, "-m", "app", "list"], cwd=ROOT, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "no accounts yet: replydesk accounts add" in proc.stdout
    assert not any(p.is_file() for p in tmp_path.rglob("*")), list(tmp_path.rglob("*"))
    as_json = subprocess.run([sys.executable, "-m", "app", "list", "--json"], cwd=ROOT, capture_output=True,
                             text=True, env=env)
    assert as_json.stdout == "" and "replydesk accounts add" in as_json.stderr


def test_categories_by_the_names_the_inbox_shows(tmp_path):
    cfg = seeded(tmp_path)
    for typed in ("do not contact", "do-not-contact", "unsubscribe", "Do_Not_Contact"):
        proc = cli("--config", str(cfg), "list", "--category", typed)
        assert proc.returncode == 0, proc.stderr
        [row] = proc.stdout.splitlines()
        assert "do not contact" in row and "ann@q.example" in row
    as_json = json.loads(cli("--config", str(cfg), "list", "--json", "--category", "do not contact").stdout)
    assert (as_json["category"], as_json["category_name"]) == ("unsubscribe", "do not contact")
    bad = cli("--config", str(cfg), "list", "--category", "hot")
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1 and "do not contact" in bad.stderr

    exported = cli("--config", str(cfg), "export", "messages", "--category", "do not contact")
    assert exported.returncode == 0, exported.stderr
    [row] = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert (row["from"], row["category"]) == ("ann@q.example", "do not contact")
    leads = cli("--config", str(cfg), "export", "leads", "--category", "interested", "--category", "do not contact")
    assert leads.returncode == 0, leads.stderr
    assert {r["category"] for r in csv.DictReader(io.StringIO(leads.stdout))} <= {"interested", "do not contact"}


def test_a_limit_below_one_is_a_one_line_error(tmp_path):
    cfg = seeded(tmp_path)
    for limit in ("-1", "0"):
        proc = cli("--config", str(cfg), "list", "--limit", limit)
        assert proc.returncode != 0 and proc.stdout == ""
        assert len(proc.stderr.strip().splitlines()) == 1 and "--limit" in proc.stderr, proc.stderr
    assert len(cli("--config", str(cfg), "list", "--limit", "2").stdout.splitlines()) == 2
