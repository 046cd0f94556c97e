"""``replydesk demo``: its mail reads as what it claims to be, its servers behave like a
provider's, and the real inbox on it lists replies, shows new ones arrive and delivers a reply
to the prospect, who answers back."""

from __future__ import annotations

import asyncio
import imaplib
import json
import os
import signal
import smtplib
import ssl
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from app.config import load_config
from app.demo import letters, scenario
from app.demo.session import start_demo
from app.demo.world import UNANSWERED_PER_MAILBOX, sender_password_env
from app.mail import classify, parse
from tests.conftest import ROOT
from tests.ui_seed import screen_text, select_conversation

ALL_REPLIES = [*scenario.SEEDED, *scenario.LIVE]


def _letters(reply: scenario.Reply) -> tuple[letters.Letter, bytes]:
    now = datetime.now(timezone.utc)
    sender, prospect = scenario.SENDERS[reply.sender], scenario.prospect(reply.prospect)
    cold = letters.cold_email(sender, prospect, now - timedelta(days=2))
    return cold, letters.reply(reply, sender, prospect, cold, now)


@pytest.mark.parametrize("reply", ALL_REPLIES, ids=lambda r: f"{r.expect}-{r.prospect.split('@')[0]}")
def test_each_demo_reply_is_sorted_as_a_reader_would_and_threads_to_its_cold_email(reply) -> None:
    cold, raw = _letters(reply)
    parsed = parse(raw)
    verdict = classify(parsed)
    assert verdict.category == reply.expect
    assert parsed.thread_key == parse(cold.raw).thread_key
    if reply.kind == "hard_bounce":
        assert [(b.address, b.status, b.hard) for b in verdict.bounce_recipients] == [(reply.prospect, "5.1.1", True)]
    if reply.kind == "soft_bounce":
        assert [(b.status, b.hard) for b in verdict.bounce_recipients] == [("4.2.2", False)]
    if reply.kind == "ooo":
        assert verdict.ooo_until is not None


def test_demo_covers_every_kind_of_reply_a_sender_meets() -> None:
    seeded = {(r.expect, r.language if r.kind == "ooo" else "") for r in scenario.SEEDED}
    for category in ("interested", "meeting", "not_interested", "unsubscribe", "wrong_person", "bounce",
                     "uncategorized"):
        assert any(c == category for c, _ in seeded), category
    assert {lang for c, lang in seeded if c == "out_of_office"} >= {"en", "de", "fr", "es"}
    assert {r.kind for r in scenario.SEEDED} >= {"hard_bounce", "soft_bounce", "malformed"}
    assert 8 <= len(scenario.SENDERS) <= 12
    referral = next(r for r in scenario.SEEDED if r.expect == "wrong_person")
    assert classify(parse(_letters(referral)[1])).referral in {p.email for p in scenario.PROSPECTS}


def test_malformed_demo_message_still_reads() -> None:
    malformed = next(r for r in scenario.SEEDED if r.kind == "malformed")
    parsed = parse(_letters(malformed)[1])
    assert "recebi a sua mensagem" in parsed.text
    assert parsed.defects


def _imap(port: int, ca_file: Path, user: str, password: str) -> imaplib.IMAP4:
    conn = imaplib.IMAP4("127.0.0.1", port, timeout=10)
    conn.starttls(ssl.create_default_context(cafile=str(ca_file)))
    conn.login(user, password)
    return conn


def test_demo_servers_work_like_a_providers_and_leave_nothing_behind() -> None:
    with start_demo(interval=60, answer_delay=0.2) as demo:
        config = load_config(demo.config_path)
        text = demo.config_path.read_text()
        assert len(config.accounts) == len(scenario.SENDERS)
        alex = config.accounts[0]
        assert (alex.imap.security, alex.smtp.security, alex.imap.ca_file) == ("starttls", "starttls", demo.ca_file)
        assert alex.password_env == sender_password_env(0)
        assert os.environ[alex.password_env] not in text  # the config names secrets, never holds them
        assert set(config.templates) == {"calendar", "pricing", "referral"}  # ctrl+t has something to show

        # plaintext login is refused before STARTTLS, and an untrusted certificate fails
        plain = imaplib.IMAP4("127.0.0.1", demo.imap_port, timeout=10)
        with pytest.raises(imaplib.IMAP4.error):
            plain.login(alex.email, os.environ[alex.password_env])
        plain.shutdown()
        with pytest.raises(ssl.SSLCertVerificationError):
            imaplib.IMAP4("127.0.0.1", demo.imap_port, timeout=10).starttls(ssl.create_default_context())

        conn = _imap(demo.imap_port, demo.ca_file, alex.email, os.environ[alex.password_env])
        folders = b" ".join(conn.list()[1])
        for folder in (b"Sent", b"Junk", b"Archive", b"Trash"):
            assert b'"' + folder + b'"' in folders or b" " + folder in folders
        seeded = [r for r in scenario.SEEDED if r.sender == 0]
        assert int(conn.select("INBOX")[1][0]) == len(seeded)
        assert int(conn.select("Sent")[1][0]) == len(seeded) + UNANSWERED_PER_MAILBOX

        smtp = smtplib.SMTP("127.0.0.1", demo.smtp_port, timeout=10)
        smtp.starttls(context=ssl.create_default_context(cafile=str(demo.ca_file)))
        smtp.login(alex.email, os.environ[alex.password_env])
        dana = "dana.whitfield@acme-logistics.example"
        note = (f"From: Alex Rivera <{alex.email}>\r\nTo: {dana}\r\nSubject: Re: Cutting empty miles\r\n"
                f"Message-ID: <t1@northwind-outreach.test>\r\n\r\nHere are the details.\r\n").encode()
        smtp.sendmail(alex.email, [dana], note)
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.sendmail(alex.email, ["nobody@nowhere.example"], note)
        with pytest.raises(smtplib.SMTPSenderRefused):
            smtp.sendmail("jamie@northwind-outreach.test", [dana], note)
        smtp.quit()

        prospect = _imap(demo.imap_port, demo.ca_file, dana, os.environ[demo.prospect_password_env])
        prospect.select("INBOX")
        assert prospect.uid("SEARCH", None, "HEADER", "Message-ID", "<t1@northwind-outreach.test>")[1][0]
        prospect.logout()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            conn.select("INBOX")
            found = conn.uid("SEARCH", None, "HEADER", "In-Reply-To", "<t1@northwind-outreach.test>")[1][0]
            if found:
                break
            time.sleep(0.1)
        assert found, "Dana answers back"
        uid = found.split()[-1]
        answer = message_from_bytes(conn.uid("FETCH", uid, "(BODY.PEEK[])")[1][0][1], policy=policy.default)
        assert answer["From"].addresses[0].addr_spec == dana
        conn.logout()
        directory = demo.directory
    assert not directory.exists()


# -- the real inbox and engine on the demo -------------------------------------------------



async def _until(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"not within {timeout} s"
        await asyncio.sleep(0.05)


def _prospect_received(demo, prospect: str, text: str) -> bool:
    conn = _imap(demo.imap_port, demo.ca_file, prospect, os.environ[demo.prospect_password_env])
    try:
        conn.select("INBOX", readonly=True)
        return bool(conn.uid("SEARCH", None, "BODY", f'"{text}"')[1][0])
    finally:
        conn.logout()


async def test_demo_inbox_lists_replies_shows_new_ones_and_delivers_a_reply_to_the_prospect() -> None:
    from app.engine import Engine
    from app.store import Store
    from app.ui import ReplydeskApp

    dana = "dana.whitfield@acme-logistics.example"
    first_live = scenario.prospect(scenario.LIVE[0].prospect)
    with start_demo(interval=1.0, answer_delay=0.5) as demo:
        config = load_config(demo.config_path)
        # what `replydesk` builds on a database no `replydesk sync` holds
        app = ReplydeskApp(config.database, config, engine=Engine(config, config.database))
        async with app.run_test(size=(140, 40)) as pilot:
            await _until(lambda: "Dana Whitfield" in screen_text(app), timeout=30)
            await _until(lambda: first_live.name in screen_text(app), timeout=20)
            # every mailbox's first sync lands (the live mail may come in before the last of them)
            for shown in ("Raj Mehta", "interested", "meeting", "not interested", "do not contact", "wrong person"):
                await _until(lambda shown=shown: shown in screen_text(app), timeout=20)

            await select_conversation(app, pilot, dana)
            await pilot.press("r")
            await pilot.pause()
            await pilot.press(*"Pricing attached, Dana. Tuesday works.")
            await pilot.press("ctrl+s")
            await _until(lambda: _prospect_received(demo, dana, "Pricing attached, Dana"), timeout=20)

            # Dana answers back, and the answer shows in the inbox like any reply
            store = Store(config.database)
            try:
                await _until(lambda: any("Tuesday at 10:00" in (m["body_text"] or "")
                                         for m in store.db.query("SELECT body_text FROM messages")),
                             timeout=20)
            finally:
                store.close()
            await pilot.press("q")


def _cli_env(tmp_path: Path) -> dict[str, str]:
    # the demo's temporary directory goes under tmp_path, so the test can see it go
    return {**os.environ, "TMPDIR": str(tmp_path), "TEXTUAL_ANIMATIONS": "none"}


@pytest.mark.parametrize("sigint", ["default", "ignored"])
def test_replydesk_demo_in_a_terminal_shows_the_inbox_and_cleans_up_on_sigterm(tmp_path: Path, sigint: str) -> None:
    # "ignored": started in the background of a shell without job control, or under nohup
    import pexpect

    def ignore_sigint() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    child = pexpect.spawn(sys.executable, ["-m", "app", "demo", "--interval", "1"], cwd=str(ROOT),
                          env=_cli_env(tmp_path), dimensions=(40, 140), timeout=40,
                          preexec_fn=ignore_sigint if sigint == "ignored" else None)
    try:
        child.expect("Dana Whitfield")
        assert list(tmp_path.glob("replydesk-demo-*"))
        child.expect(scenario.prospect(scenario.LIVE[0].prospect).name)
        child.kill(signal.SIGTERM)
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert not list(tmp_path.glob("replydesk-demo-*"))


def test_headless_demo_runs_the_engine_for_other_terminals_to_attach(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "app", "demo", "--headless", "--interval", "1",
                             "--duration", "40"], cwd=ROOT, env=_cli_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        config_path = first.split(" config ", 1)[1].strip()
        listing: list[dict] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(listing) <= len(scenario.SEEDED):
            out = subprocess.run([sys.executable, "-m", "app", "--config", config_path, "list", "--json"],
                                 cwd=ROOT, capture_output=True, text=True, check=True).stdout
            listing = [json.loads(line) for line in out.splitlines()]
            time.sleep(0.5)
        # the seeded replies and at least one that arrived while the demo ran
        assert len(listing) > len(scenario.SEEDED)
        assert {"interested", "out_of_office", "bounce"} <= {item["category"] for item in listing}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not list(tmp_path.glob("replydesk-demo-*"))


def test_demo_killed_outright_still_leaves_no_files(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "app", "demo", "--headless", "--interval", "5"], cwd=ROOT,
                            env=_cli_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    assert " config " in proc.stdout.readline()
    assert list(tmp_path.glob("replydesk-demo-*"))
    proc.kill()  # no finally runs: the demo's servers notice their parent is gone and clean up
    proc.wait()
    proc.stdout.close()
    deadline = time.monotonic() + 10
    while list(tmp_path.glob("replydesk-demo-*")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not list(tmp_path.glob("replydesk-demo-*"))
