"""``replydesk classify``: the subcommand module driven through its own argument parser.

The module is exercised directly (add_arguments + run, as app.cli wires it) so these tests
depend on the mail package and this command only.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from app.commands import classify as command
from app.errors import UsageError

FIXTURES = Path(__file__).parent / "fixtures" / "mail"


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="replydesk classify")
    command.add_arguments(parser)
    return command.run(parser.parse_args(list(argv)))


def test_json_lines_and_unreadable_file(capsys, tmp_path):
    missing = tmp_path / "missing.eml"
    files = [str(FIXTURES / "dsn_hard.eml"), str(missing), str(FIXTURES / "ooo_de.eml")]
    assert _run("--json", *files) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["file"] for line in lines] == files
    dsn, error, ooo = lines
    assert dsn["kind"] == "bounce" and dsn["category"] == "bounce"
    assert {"address": "ghost@prospect.example", "status": "5.1.1", "hard": True,
            "reason": "user_unknown"} in \
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
    assert _run(str(message)) == 0
    assert "reply/uncategorized" in capsys.readouterr().out
    assert _run("--rules", str(rules), str(message)) == 0
    assert "reply/interested" in capsys.readouterr().out


def test_warmup_tags_and_own_domains_on_the_command_line(capsys, tmp_path):
    message = tmp_path / "warm.eml"
    message.write_bytes(b"From: f@ops.acme.dev\nSubject: hello group-broth\n\nNice day.\n")
    assert _run(str(message)) == 0
    assert "internal" not in capsys.readouterr().out
    assert _run("--own-domain", "acme.dev", str(message)) == 0
    assert "internal/internal" in capsys.readouterr().out
    assert _run("--json", "--warmup-tag", "A6133FE", "--warmup-tag", "GROUP-BROTH", "--own-domain", "acme.dev",
                str(message)) == 0
    line = json.loads(capsys.readouterr().out)
    assert (line["kind"], line["reasons"]) == ("warmup", ["warmup tag 'GROUP-BROTH' in the subject"])


def test_text_output_is_terminal_safe(capsys, tmp_path):
    message = tmp_path / "evil\x1b[2J.eml"
    message.write_bytes(b"From: p@x.example\nSubject: Re: hi\n\nok\n")
    assert _run(str(message)) == 0
    assert "\x1b" not in capsys.readouterr().out


def test_bad_rules_file_is_a_usage_error(tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text("[intent.interested]\npatterns = ['(']\n")
    with pytest.raises(UsageError) as info:
        _run("--rules", str(rules), str(FIXTURES / "ticket.eml"))
    assert "intent.interested" in str(info.value) and "\n" not in str(info.value)
    assert info.value.exit_code == 2


def test_explain_prints_every_cue_and_the_decision(capsys, tmp_path):
    reply = tmp_path / "reply.eml"
    reply.write_bytes(b"From: p@prospect.example\nTo: bob@sender.io\nSubject: Re: Quick question\n"
                      b"Message-ID: <e@prospect.example>\n\n"
                      b"Not for us this quarter, but send me the deck.\n")
    assert _run("--explain", str(reply)) == 0
    out = capsys.readouterr().out
    assert "reply/interested" in out
    assert "cue overridden not interested 'Not for us' (before 'but'" in out
    assert "cue counted interested 'send me the'" in out
    assert "decision: reply/interested" in out
    assert _run("--explain", "--json", str(reply)) == 0
    item = json.loads(capsys.readouterr().out)
    assert any(line.startswith("cue overridden") for line in item["explain"])


def test_learned_reads_the_labelled_replies_from_the_database(capsys, tmp_path, monkeypatch):
    from app.store import Store
    from tests.ui_seed import seed

    db_path = seed(tmp_path / "seed.db")
    config = tmp_path / "config.toml"
    config.write_text(f'[general]\ndatabase = "{db_path}"\n')
    store = Store(db_path)
    conv, text = store.db.conn.execute(
        "SELECT conversation_id, new_text FROM messages WHERE direction = 'in' AND kind = 'reply' "
        "AND trim(new_text) != '' LIMIT 1").fetchone()
    store.set_category([conv], "meeting")
    store.close()
    reply = tmp_path / "reply.eml"
    reply.write_bytes(b"From: z@prospect.example\nTo: bob@sender.io\nSubject: Re: Quick question\n"
                      b"Message-ID: <l@prospect.example>\nContent-Type: text/plain; charset=utf-8\n\n"
                      + text.encode() + b"\n")
    monkeypatch.setenv("REPLYDESK_CONFIG", str(config))
    assert _run("--explain", "--learned", str(reply)) == 0
    out = capsys.readouterr().out
    assert "learned: like 1 reply you labelled meeting" in out
