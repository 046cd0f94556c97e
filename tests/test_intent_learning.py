"""The inbox learns from the user's labels: a reply relabelled in the TUI is an example of that
label, kept in the database, and a similar reply that arrives later is read like it (with the
reason shown). The examples never leave the machine and live nowhere but the database."""

from __future__ import annotations

import ipaddress
import logging
import socket
from pathlib import Path

from app.config import load_config
from app.engine import Engine
from app.mail import classify, parse
from app.mail.learn import Examples
from app.store import Store
from app.ui import ReplydeskApp
from app.ui.inbox_list import InboxList
from tests.ui_seed import screen_text, until

LABELLED = "Count me in for the pilot, friend."
LATER = "Count me in for the pilot!"


def _reply(text: str, sender: str = "pat@prospect.example") -> bytes:
    return (f"From: {sender}\nTo: bob@sender.io\nSubject: Re: Quick question\nMessage-ID: <{len(text)}@x>\n"
            f"Content-Type: text/plain; charset=utf-8\n\n{text}\n").encode()


def test_examples_decide_where_the_rules_are_unsure_and_a_refusal_needs_more_of_them():
    assert classify(parse(_reply(LATER))).category == "uncategorized"
    one = Examples([(LABELLED, "meeting")])
    result = classify(parse(_reply(LATER)), examples=one)
    assert result.category == "meeting"
    assert result.reasons[0].startswith("like 1 reply you labelled meeting")
    # a refusal learned from one example is not enough to file a reply as one
    refusal = Examples([(LABELLED, "not_interested")])
    result = classify(parse(_reply(LATER)), examples=refusal)
    assert result.category == "uncategorized"
    assert any("not followed" in r for r in result.reasons)
    twice = Examples([(LABELLED, "not_interested"), ("Count me in for the pilot, mate.", "not_interested")])
    assert classify(parse(_reply(LATER)), examples=twice).category == "not_interested"
    # a reply nothing like the examples is left to the rules
    assert classify(parse(_reply("Who is this?")), examples=one).category == "uncategorized"


def _loopback_only(monkeypatch) -> list[object]:
    """Record every outgoing connection; fail the test on one that leaves the machine."""
    seen: list[object] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def check(address) -> None:
        seen.append(address)
        if isinstance(address, tuple):
            host = address[0]
            assert ipaddress.ip_address(host).is_loopback, f"connection to {address} leaves the machine"

    def connect(self, address):
        check(address)
        return real_connect(self, address)

    def connect_ex(self, address):
        check(address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    return seen


async def test_a_relabel_in_the_inbox_changes_how_a_similar_later_reply_is_read(
        users, deliver, make_config, dovecot, tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    connections = _loopback_only(monkeypatch)
    [user] = users(1)
    config = load_config(make_config(tmp_path, [user]))
    app = ReplydeskApp(config.database, config, engine=Engine(config, config.database), poll_interval=0.05)
    db = Store(config.database)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            assert await until(pilot, lambda: "● 1 live" in screen_text(app)), screen_text(app)
            deliver(user.email, subject="Re: Quick question", body=LABELLED,
                    from_addr="Pat Prospect <pat@prospect.example>")
            inbox = app.screen.query_one(InboxList)
            assert await until(pilot, lambda: inbox.current is not None), screen_text(app)
            first = db.db.conn.execute("SELECT category FROM messages WHERE from_addr = ?",
                                       ("pat@prospect.example",)).fetchone()
            assert first == ("uncategorized",)  # the rules alone do not know this phrasing

            await pilot.press("m")  # the user: this is a meeting
            assert await until(pilot, lambda: db.intent_examples() != ()), "no example kept"
            assert db.intent_examples() == ((LABELLED, "meeting"),)

            deliver(user.email, subject="Re: Quick question", body=LATER,
                    from_addr="Quinn Prospect <quinn@prospect.example>")

            def later() -> tuple | None:
                return db.db.conn.execute("SELECT category, reasons FROM messages WHERE from_addr = ?",
                                          ("quinn@prospect.example",)).fetchone()

            assert await until(pilot, lambda: later() is not None), screen_text(app)
            category, reasons = later()
            assert category == "meeting", reasons
            assert "like 1 reply you labelled meeting" in reasons
            await pilot.press("q")
    finally:
        db.close()
    # nothing left the machine: every connection went to loopback (Dovecot, the SMTP fixture)
    assert connections
    # the examples live in the database only: not in the log records, the log file, the config,
    # the undo log or the server operations
    # (replydesk's own records: aioimaplib's protocol trace at DEBUG carries the fetched mail itself)
    assert not any("Count me in" in record.getMessage() for record in caplog.records
                   if record.name.startswith("app"))
    for path in tmp_path.rglob("*"):
        if path.is_file() and not path.name.startswith(Path(config.database).name):
            assert b"Count me in" not in path.read_bytes(), path
    check = Store(config.database)
    try:
        for table in ("triage_log", "pending_ops"):
            dump = " ".join(str(row) for row in check.db.conn.execute(f"SELECT * FROM {table}"))
            assert "Count me in" not in dump, table
    finally:
        check.close()


def test_undoing_a_label_takes_the_example_back(tmp_path):
    from tests.ui_seed import seed

    db = Store(seed(tmp_path / "seed.db"))
    try:
        conv = db.db.conn.execute("SELECT conversation_id FROM messages WHERE direction = 'in' AND kind = 'reply' "
                                  "AND trim(new_text) != '' LIMIT 1").fetchone()[0]
        db.set_category([conv], "interested")
        assert [label for _, label in db.intent_examples()] == ["interested"]
        db.set_category([conv], "out_of_office")  # no reply intent: not an example
        assert db.intent_examples() == ()
        db.undo_last()
        assert [label for _, label in db.intent_examples()] == ["interested"]
        db.undo_last()
        assert db.intent_examples() == ()
    finally:
        db.close()
