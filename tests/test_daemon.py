"""``replydesk sync`` as a service with terminals attached: the engine runs in its own process,
two inboxes (two SSH sessions) see each other's triage within a second, a reply queued from
one is sent by the engine, and SIGHUP adds and removes accounts without dropping the others."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.config import load_config
from app.store import Store
from app.ui import ReplydeskApp
from tests.conftest import ROOT, write_config
from tests.engine_support import logins, until
from tests.reply_support import mailbox_headers, wait_for
from tests.ui_seed import screen_text, select_conversation


@contextmanager
def running_sync(config_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``replydesk sync`` in its own process, as systemd would run it."""
    proc = subprocess.Popen([sys.executable, "-m", "app", "--config", str(config_path), "sync"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()


def account_state(db: Path, account: str) -> str | None:
    store = Store(db)
    try:
        row = store.account_row(account)
        return row["state"] if row else None
    finally:
        store.close()


def stored_from(db: Path, sender: str) -> list[dict]:
    store = Store(db)
    try:
        return [dict(r) for r in store.db.query("SELECT * FROM messages WHERE from_addr = ?", [sender])]
    finally:
        store.close()


def imap_sessions(dovecot, email: str) -> bool:
    return email in dovecot.doveadm("who", check=False)


async def test_two_terminals_on_one_engine_see_each_others_triage_and_the_engine_sends_their_replies(
        dovecot, smtp_server, users, deliver, make_config, tmp_path) -> None:
    account, prospect = users(2)
    quinn = "quinn@other.example"
    deliver(account.email, from_addr=f"Pat Prospect <{prospect.email}>", subject="Re: Quick question",
            body="Could be useful. What does it cost?")
    deliver(account.email, from_addr=f"Quinn Other <{quinn}>", subject="Re: Intro",
            body="Tell me more about it.")
    config_path = make_config(tmp_path, [account])
    config = load_config(config_path)
    db = config.database
    with running_sync(config_path):
        assert wait_for(lambda: stored_from(db, prospect.email) and stored_from(db, quinn), timeout=30)
        first = ReplydeskApp(db, config, attached=True)
        second = ReplydeskApp(db, config, attached=True)
        async with first.run_test(size=(120, 30)) as one, second.run_test(size=(120, 30)) as two:
            await one.pause()
            await two.pause()
            assert first.engine is None and "sync" in first.engine_note
            await select_conversation(first, one, prospect.email)
            await one.press("m")
            await until(lambda: "meeting 1" in screen_text(second), timeout=1.0)

            await select_conversation(second, two, quinn)
            await two.press("n")
            await until(lambda: "not interested 1" in screen_text(first), timeout=1.0)

            # a reply queued from the second terminal is sent by the engine process
            await select_conversation(second, two, prospect.email)
            await two.press("r")
            await two.pause()
            await two.press(*"Twelve euros per seat. Shall we talk Tuesday?")
            await two.press("ctrl+s")
            await two.pause()
            [delivered] = wait_for(lambda: mailbox_headers(dovecot, prospect.email), timeout=20)
            assert f"From: {account.email.split('@')[0].title()} <{account.email}>" in delivered
            store = Store(db)
            try:
                assert wait_for(lambda: [i["state"] for i in store.outbox()] == ["sent"], timeout=10)
            finally:
                store.close()


def test_sighup_adds_and_removes_accounts_and_keeps_the_others_connected(dovecot, smtp_server, users,
                                                                         deliver, tmp_path) -> None:
    stays, leaves, joins = users(3)
    config_path = write_config(tmp_path / "config.toml", dovecot, smtp_server, [stays, leaves])
    db = load_config(config_path).database
    with running_sync(config_path) as engine:
        assert wait_for(lambda: account_state(db, stays.email) == "idle" == account_state(db, leaves.email),
                        timeout=30)
        logins_before = logins(dovecot, stays.email)
        assert logins_before >= 1 and imap_sessions(dovecot, leaves.email)

        write_config(config_path, dovecot, smtp_server, [stays, joins])
        engine.send_signal(signal.SIGHUP)

        deliver(joins.email, from_addr="Ann New <ann@prospect.example>", body="Hello from a new mailbox")
        assert wait_for(lambda: stored_from(db, "ann@prospect.example"), timeout=30)
        assert wait_for(lambda: not imap_sessions(dovecot, leaves.email), timeout=15)
        assert account_state(db, leaves.email) != "idle"
        # the account that stayed kept its connection: no new login, and push still works
        deliver(stays.email, from_addr="Sam Still <sam@prospect.example>", body="Still here")
        assert wait_for(lambda: stored_from(db, "sam@prospect.example"), timeout=15)
        assert logins(dovecot, stays.email) == logins_before
        assert engine.poll() is None
    log_file = load_config(config_path).log_file
    assert log_file.exists() and log_file.stat().st_size > 0
