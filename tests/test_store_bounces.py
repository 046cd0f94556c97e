"""Bounces and complaints reach the suppression list, with their reason, hard or soft, first and
last seen, count and mailbox: through the store (real SQLite) and `replydesk export`."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest

from app.imap.storage import store_batch
from app.mail import classify, parse
from app.store import BouncePolicy, IncomingMessage, Store
from tests.storefill import incoming
from tests.test_cli import cli

FIXTURES = Path(__file__).parent / "fixtures" / "bounces"
DAY = 86400.0
T0 = 1_770_000_000.0


def soft_bounce(n: int, address: str) -> bytes:
    """A delay notice (mailbox full, will retry) for ``address``, the n-th of its kind."""
    return f"""From: Mail Delivery System <MAILER-DAEMON@mx.relay.example>
To: sdr@sender.io
Subject: Delivery Status Notification (Delay)
Message-ID: <soft-{n}@mx.relay.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

Delivery to the following recipient has been delayed: {address}
The recipient's mailbox is full. We will keep trying.

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.relay.example

Final-Recipient: rfc822; {address}
Action: delayed
Status: 4.2.2
Diagnostic-Code: smtp; 452 4.2.2 Mailbox full

--b--
""".replace("\n", "\r\n").encode()


def stored(raw: bytes, uid: int, at: float, folder: str = "INBOX", uidvalidity: int = 1) -> IncomingMessage:
    parsed = parse(raw)
    return IncomingMessage(folder, uidvalidity, uid, parsed, classify(parsed), received_at=at)


@pytest.fixture
def store(store_target):
    s = Store(store_target())
    yield s
    s.close()


def by_address(store: Store) -> dict[str, dict]:
    return {r["address"]: dict(r) for r in store.suppressions()}


def test_a_complaint_suppresses_the_complaining_recipient_at_once(store):
    store.add_messages("a", [stored((FIXTURES / "arf_complaint.eml").read_bytes(), 1, T0)])
    row = by_address(store)["zoe.clarke@meadow.example"]
    assert (row["reason"], row["bounce_reason"], row["hard"], row["count"], row["mailbox"]) == (
        "complaint", "complaint", True, 1, "a")


def test_three_soft_bounces_within_14_days_suppress_as_if_hard(store):
    addr = "full@busy.example"
    store.add_messages("a", [stored(soft_bounce(1, addr), 1, T0), stored(soft_bounce(2, addr), 2, T0 + 5 * DAY)])
    assert not store.is_suppressed(addr)
    store.add_messages("a", [stored(soft_bounce(3, addr), 3, T0 + 13 * DAY)])
    row = by_address(store)[addr]
    assert (row["reason"], row["bounce_reason"], row["hard"], row["count"]) == (
        "soft_bounce_repeated", "mailbox_full", False, 3)
    assert (row["first_seen"], row["last_seen"]) == (T0, T0 + 13 * DAY)
    assert "3 soft bounces within 14 days" in row["detail"]


def test_soft_bounces_spread_wider_than_the_window_do_not(store):
    addr = "slow@busy.example"
    store.add_messages("a", [stored(soft_bounce(n, addr), n, T0 + (n - 1) * 10 * DAY) for n in (1, 2, 3)])
    assert not store.is_suppressed(addr)


def test_the_limit_and_window_come_from_the_policy(store):
    store.set_bounce_policy(BouncePolicy(soft_limit=2, soft_days=3))
    addr = "two@busy.example"
    store.add_messages("a", [stored(soft_bounce(1, addr), 1, T0), stored(soft_bounce(2, addr), 2, T0 + 2 * DAY)])
    assert by_address(store)[addr]["reason"] == "soft_bounce_repeated"


def test_a_rescanned_bounce_is_counted_once(store):
    addr = "full@busy.example"
    store.add_messages("a", [stored(soft_bounce(1, addr), 1, T0), stored(soft_bounce(2, addr), 2, T0 + DAY)])
    # UIDVALIDITY changed: the same two messages come back under new UIDs
    store.add_messages("a", [stored(soft_bounce(1, addr), 1, T0, uidvalidity=2),
                             stored(soft_bounce(2, addr), 2, T0 + DAY, uidvalidity=2)])
    assert not store.is_suppressed(addr)


def test_the_sent_folder_names_the_recipient_of_an_open_bounce(store):
    """The returned headers name two people; this mailbox wrote to one of them."""
    store_batch(store, "a", "Sent", [incoming(1, "<cold@sender.io>", "Quick question", "sdr@sender.io",
                                              direction="out", folder="Sent",
                                              to="assistant@partner.example")], {}, {})
    raw = (FIXTURES / "two_returned_recipients.eml").read_bytes()
    store_batch(store, "a", "INBOX", [stored(raw, 1, T0)], {}, {})
    bounces = store.db.conn.execute("SELECT bounce_recipients FROM messages WHERE kind = 'bounce'").fetchone()[0]
    assert [r["address"] for r in json.loads(bounces)] == ["assistant@partner.example"]
    assert set(by_address(store)) == {"assistant@partner.example"}


def write_config(tmp_path: Path, store: Store) -> Path:
    """A config whose database is the store's (a file, or a PostgreSQL URL)."""
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[general]\ndatabase = "{store.path}"\n')
    return cfg


def test_export_carries_complaints_and_escalated_soft_bounces(tmp_path, store):
    cfg = write_config(tmp_path, store)
    store.add_messages("a", [
        stored((FIXTURES / "arf_complaint.eml").read_bytes(), 1, T0),
        *[stored(soft_bounce(n, "full@busy.example"), 1 + n, T0 + n * DAY) for n in (1, 2, 3)],
        stored((FIXTURES / "postfix.eml").read_bytes(), 9, T0 + 4 * DAY),
    ])
    proc = cli("--config", str(cfg), "export", "suppressions")
    assert proc.returncode == 0, proc.stderr
    rows = {r["address"]: r for r in csv.DictReader(io.StringIO(proc.stdout))}
    assert set(rows) == {"zoe.clarke@meadow.example", "full@busy.example", "nora.hale@acme-corp.example"}
    soft = rows["full@busy.example"]
    assert (soft["reason"], soft["bounce_reason"], soft["bounce_type"], soft["count"], soft["mailbox"]) == (
        "soft_bounce_repeated", "mailbox_full", "soft", "3", "a")
    assert soft["first_seen"].startswith("2026-02-03") and soft["last_seen"].startswith("2026-02-05")
    assert (rows["zoe.clarke@meadow.example"]["reason"], rows["zoe.clarke@meadow.example"]["bounce_type"]) == (
        "complaint", "hard")
    assert (rows["nora.hale@acme-corp.example"]["bounce_reason"], rows["nora.hale@acme-corp.example"]["reason"]) == (
        "user_unknown", "hard_bounce")


def test_export_per_domain_where_the_host_is_unknown(tmp_path, store):
    cfg = write_config(tmp_path, store)
    store.add_messages("a", [stored((FIXTURES / "sendgrid.eml").read_bytes(), 1, T0),
                             stored((FIXTURES / "postmark.eml").read_bytes(), 2, T0 + DAY),
                             stored((FIXTURES / "postfix.eml").read_bytes(), 3, T0 + DAY)])
    proc = cli("--config", str(cfg), "export", "suppressions", "--domains", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(r["domain"], r["reason"], r["addresses"]) for r in rows] == [
        ("crestview.example", "host_unknown", 1), ("riverbend.example", "host_unknown", 1)]
    bad = cli("--config", str(cfg), "export", "leads", "--domains")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_the_bounces_migration_keeps_the_list_and_backfills_events(tmp_path):
    """SQLite only: a PostgreSQL store starts at a later version."""
    from app.store.db import _statements
    from app.store.schema import MIGRATIONS, V_BOUNCES

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    before = MIGRATIONS.index(V_BOUNCES)
    for migration in MIGRATIONS[:before]:
        for statement in _statements(migration):
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {before}")
    conn.execute("INSERT INTO messages (id, account, folder, uidvalidity, uid, message_id, received_at, kind, "
                 "bounce_recipients) VALUES (7, 'a', 'INBOX', 1, 1, '<b@x>', 100, 'bounce', ?)",
                 (json.dumps([{"address": "gone@p.example", "status": "5.1.1", "hard": True}]),))
    conn.execute("INSERT INTO suppressions (address, reason, source_message, detail, created_at) "
                 "VALUES ('gone@p.example', 'hard_bounce', 7, '5.1.1', 100)")
    conn.commit()
    conn.close()
    s = Store(path)
    try:
        row = by_address(s)["gone@p.example"]
        assert (row["reason"], row["hard"], row["first_seen"], row["mailbox"], row["count"]) == (
            "hard_bounce", True, 100, "a", 1)
        assert s.db.conn.execute("SELECT address, hard FROM bounce_events").fetchall() == [("gone@p.example", 1)]
    finally:
        s.close()


def test_a_bounce_stored_before_the_sent_folder_is_settled_when_sent_mail_arrives(store):
    """A first sync reads INBOX before Sent: the open bounce names both candidates until the
    Sent folder shows which one the mailbox wrote to."""
    raw = (FIXTURES / "two_returned_recipients.eml").read_bytes()
    store_batch(store, "a", "INBOX", [stored(raw, 1, T0)], {}, {})
    assert set(by_address(store)) == {"alex.moreau@partner.example", "assistant@partner.example"}
    store_batch(store, "a", "Sent", [incoming(1, "<cold@sender.io>", "Quick question", "sdr@sender.io",
                                              direction="out", folder="Sent",
                                              to="assistant@partner.example")], {}, {})
    bounces = store.db.conn.execute("SELECT bounce_recipients FROM messages WHERE kind = 'bounce'").fetchone()[0]
    assert [r["address"] for r in json.loads(bounces)] == ["assistant@partner.example"]
    assert set(by_address(store)) == {"assistant@partner.example"}
    assert store.db.conn.execute("SELECT address FROM bounce_events").fetchall() == [("assistant@partner.example",)]
