"""Bounces through the engine against Dovecot: a first sync reads the bounce in INBOX before the
Sent folder, and still suppresses only the address the mailbox wrote to; an abuse report and
repeated soft bounces delivered later reach the suppression list and `replydesk export`."""

from __future__ import annotations

import asyncio
import csv
import imaplib
import io
import time
from pathlib import Path

from tests.engine_support import other_client, running_engine, state, until
from tests.test_cli import cli
from tests.test_store_bounces import soft_bounce

FIXTURES = Path(__file__).parent / "fixtures" / "bounces"


def addressed_to(raw: bytes, mailbox: str) -> bytes:
    """A fixture as delivered to ``mailbox`` (the fixtures are addressed to sdr@sender.io)."""
    return raw.replace(b"sdr@sender.io", mailbox.encode())


def suppressed(store) -> dict[str, dict]:
    return {r["address"]: dict(r) for r in store.suppressions()}


async def test_bounces_and_complaints_reach_the_suppression_list(dovecot, users, make_config, tmp_path) -> None:
    (user,) = users(1)
    cold = (f"From: {user.email}\r\nTo: Assistant <assistant@partner.example>\r\nSubject: Quick question\r\n"
            f"Message-ID: <cold-e2e@sender.io>\r\nDate: Mon, 2 Mar 2026 09:00:00 +0000\r\n\r\nHi there\r\n").encode()
    with other_client(dovecot, user) as imap:
        imap.create("Sent")
        imap.append("Sent", "\\Seen", imaplib.Time2Internaldate(time.time()), cold)
    dovecot.deliver(user.email, addressed_to((FIXTURES / "two_returned_recipients.eml").read_bytes(), user.email))
    config_path = make_config(tmp_path, [user])
    async with running_engine(config_path) as (_engine, _config, store):
        await until(lambda: state(store, user.email) == "idle", 60, "first sync done")
        await until(lambda: set(suppressed(store)) == {"assistant@partner.example"}, 20,
                    "only the address the mailbox wrote to suppressed")
        arf = addressed_to((FIXTURES / "arf_complaint.eml").read_bytes(), user.email)
        await asyncio.to_thread(dovecot.deliver, user.email, arf)
        for n in (1, 2, 3):
            await asyncio.to_thread(dovecot.deliver, user.email,
                                    addressed_to(soft_bounce(100 + n, "full@busy.example"), user.email))
        await until(lambda: {"zoe.clarke@meadow.example", "full@busy.example"} <= set(suppressed(store)), 20,
                    "complaint and repeated soft bounces suppressed")
    proc = cli("--config", str(config_path), "export", "suppressions")
    assert proc.returncode == 0, proc.stderr
    rows = {r["address"]: r for r in csv.DictReader(io.StringIO(proc.stdout))}
    assert (rows["zoe.clarke@meadow.example"]["reason"], rows["zoe.clarke@meadow.example"]["mailbox"]) == (
        "complaint", user.email)
    assert (rows["full@busy.example"]["reason"], rows["full@busy.example"]["bounce_reason"],
            rows["full@busy.example"]["count"]) == ("soft_bounce_repeated", "mailbox_full", "3")
    assert rows["assistant@partner.example"]["bounce_type"] == "hard"
