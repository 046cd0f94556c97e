"""Helpers shared by the replying tests (tests/test_smtp_*.py, tests/test_reply_*.py, the compose
screen's): an account with a prospect's message received and stored, and looks at Dovecot."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.config import Config, load_config
from app.mail import parse
from app.store import IncomingMessage, Store
from tests.conftest import User, build_message


@dataclass
class Received:
    """Account A received a message from prospect B; the store has it."""

    config: Config
    config_path: Path
    store: Store
    account: User
    prospect: User
    row: dict


def uidvalidity(dovecot, email: str, mailbox: str = "INBOX") -> int:
    out = dovecot.doveadm("mailbox", "status", "-u", email, "uidvalidity", mailbox)
    return int(re.search(r"uidvalidity=(\d+)", out).group(1))


def receive(dovecot, account: User, prospect: User, config_path: Path, *,
            subject: str = "Re: Quick question", body: str = "Sounds interesting, tell me more.",
            references: str | None = None, extra_headers: dict | None = None,
            account_index: int = 0) -> Received:
    """Deliver a prospect's reply into the account's INBOX and store it as the watcher would."""
    msg = build_message(account.email, subject=subject, body=body,
                        from_addr=f"Pat Prospect <{prospect.email}>", references=references,
                        in_reply_to=references.split()[-1] if references else None,
                        extra_headers=extra_headers)
    raw = msg.as_bytes()
    dovecot.deliver(account.email, raw, mail_from=prospect.email)
    uid = max(dovecot.mailbox_uids(account.email))
    config = load_config(config_path)
    store = Store(config.database)
    acc = config.accounts[account_index]
    store.ensure_account(acc.id, acc.email, acc.name)
    [mid] = store.add_messages(acc.id, [IncomingMessage(
        folder="INBOX", uidvalidity=uidvalidity(dovecot, account.email), uid=uid,
        parsed=parse(raw), classification=None)])
    return Received(config, config_path, store, account, prospect, store.message(mid))


@pytest.fixture
def received(dovecot, smtp_server, users, make_config, tmp_path):
    """Account A with a prospect's message stored, its config pointing at both fixtures."""
    account, prospect = users(2)
    got = receive(dovecot, account, prospect, make_config(tmp_path, [account]))
    yield got
    got.store.close()


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def mailbox_headers(dovecot, email: str, mailbox: str = "INBOX") -> list[str]:
    """The header block of every message in a mailbox, one string each."""
    out = dovecot.doveadm("fetch", "-u", email, "hdr", "mailbox", mailbox, "ALL")
    return [h for h in re.split(r"^hdr:\n?", out, flags=re.M) if h.strip()]


def message_flags(dovecot, email: str, message_id: str, mailbox: str = "INBOX") -> str:
    return dovecot.doveadm("fetch", "-u", email, "flags", "mailbox", mailbox,
                           "header", "Message-ID", message_id)
