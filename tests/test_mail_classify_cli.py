"""``replydesk classify`` end to end through the CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

from app.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "mail"


def test_json_lines_and_unreadable_file(capsys, tmp_path):
    missing = tmp_path / "missing.eml"
    files = [str(FIXTURES / "dsn_hard.eml"), str(missing), str(FIXTURES / "ooo_de.eml")]
    assert main(["classify", "--json", *files]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["file"] for line in lines] == files
    dsn, error, ooo = lines
    assert dsn["kind"] == "bounce" and dsn["category"] == "bounce"
    assert {"address": "ghost@prospect.example", "status": "5.1.1", "hard": True} in \
        dsn["bounce_recipients"]
    assert set(dsn) >= {"file", "kind", "category", "confidence", "reasons",
                        "bounce_recipients", "ooo_until"}
    assert "error" in error
    assert ooo["category"] == "out_of_office" and ooo["ooo_until"] == "2026-03-16"


def test_text_output_and_extra_rules(capsys, tmp_path):
    message = tmp_path / "reply.eml"
    message.write_bytes(b"From: p@x.example\nSubject: Re: hi\nIn-Reply-To: <c@s>\n\nCount me in!\n")
    rules = tmp_path / "rules.toml"
    rules.write_text("[intent.interested]\npatterns = ['count me in']\n")
    assert main(["classify", str(message)]) == 0
    assert "human/uncategorized" in capsys.readouterr().out
    assert main(["classify", "--rules", str(rules), str(message)]) == 0
    assert "human/interested" in capsys.readouterr().out


def test_bad_rules_file_is_one_line_error(capsys, tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text("[intent.interested]\npatterns = ['(']\n")
    assert main(["classify", "--rules", str(rules), str(FIXTURES / "ticket.eml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "intent.interested" in err
