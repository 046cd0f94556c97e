"""The fixtures themselves: TLS logins with verification, and SMTP submission that lands in an INBOX."""

from __future__ import annotations

import imaplib
import smtplib
import ssl
import time

import pytest


def verifying_context(ca_file) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca_file))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def test_imap_login_over_implicit_tls_verifies_the_certificate(dovecot, users):
    user = users(1)[0]
    with imaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=verifying_context(dovecot.ca_file)) as imap:
        imap.login(user.email, user.password)
        typ, data = imap.list()
        assert typ == "OK"
        names = b" ".join(data)
        assert b"\\Sent" in names and b"\\Junk" in names and b"\\Archive" in names


def test_imap_rejects_a_certificate_it_cannot_verify(dovecot):
    with pytest.raises(ssl.SSLCertVerificationError):
        imaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=ssl.create_default_context())


def test_smtp_starttls_auth_submission_lands_in_dovecot_inbox(dovecot, smtp_server, users, deliver):
    sender, prospect = users(2)
    raw = (f"From: {sender.email}\r\nTo: {prospect.email}\r\nSubject: harness check\r\n"
           "Message-ID: <harness-1@example.com>\r\n\r\nhello\r\n").encode()
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=30) as smtp:
        smtp.starttls(context=verifying_context(dovecot.ca_file))
        smtp.login(sender.email, sender.password)
        smtp.sendmail(sender.email, [prospect.email], raw)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not dovecot.mailbox_uids(prospect.email):
        time.sleep(0.1)
    assert len(dovecot.mailbox_uids(prospect.email)) == 1
    assert "harness check" in dovecot.fetch_field(prospect.email, "hdr")


def test_smtp_refuses_auth_before_tls(smtp_server, users):
    user = users(1)[0]
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=30) as smtp:
        smtp.ehlo()
        with pytest.raises(smtplib.SMTPException):
            smtp.login(user.email, user.password)


def test_smtp_fault_injection_answers_data(dovecot, smtp_server, users):
    sender, prospect = users(2)
    smtp_server.fail_next(451, "4.3.0 try again later")
    with smtplib.SMTP_SSL(smtp_server.host, smtp_server.tls_port, timeout=30,
                          context=verifying_context(dovecot.ca_file)) as smtp:
        smtp.login(sender.email, sender.password)
        with pytest.raises(smtplib.SMTPDataError) as err:
            smtp.sendmail(sender.email, [prospect.email], b"Subject: x\r\n\r\ny\r\n")
        assert err.value.smtp_code == 451


def test_lmtp_delivery_helper_returns_the_message_id(dovecot, users, deliver):
    user = users(1)[0]
    mid = deliver(user.email, subject="Hello from a prospect")
    assert mid.startswith("<") and dovecot.mailbox_uids(user.email) == [1]
