"""The command line: help, version, list and export against a real store; errors are one line."""

from __future__ import annotations

import csv
import io
import json
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
    assert cli("--version").stdout.strip() == f"replydesk {__version__}"


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
