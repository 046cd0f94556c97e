"""Submitting one message: implicit TLS and XOAUTH2, refused tokens, certificates that cannot be
verified, and a server without STARTTLS (never plaintext)."""

from __future__ import annotations

import asyncio
import os
from dataclasses import replace

import pytest
from aiosmtpd.controller import Controller

from app.config import load_config
from app.errors import AuthError, SendError
from app.smtp.send import send_message
from tests.conftest import build_message
from tests.reply_support import mailbox_headers, wait_for
from tests.servers.ports import free_port


@pytest.fixture
def pair(users, make_config, tmp_path):
    account, prospect = users(2)
    config = load_config(make_config(tmp_path, [account]))
    return config.accounts[0], account, prospect


def raw_for(account, prospect, subject: str) -> bytes:
    return build_message(prospect.email, subject=subject, from_addr=account.email).as_bytes()


async def test_implicit_tls_with_xoauth2_delivers(pair, dovecot, smtp_server):
    acc, account, prospect = pair
    oauth = replace(acc, auth="oauth2", smtp=replace(acc.smtp, port=smtp_server.tls_port, security="tls"))
    await send_message(oauth, raw_for(account, prospect, "over 465 with a token"), [prospect.email])
    [headers] = wait_for(lambda: mailbox_headers(dovecot, prospect.email))
    assert "Subject: over 465 with a token" in headers


async def test_a_refused_token_asks_for_reauthorization(pair, smtp_server, monkeypatch):
    acc, account, prospect = pair
    monkeypatch.setenv(account.env, "expired-token")
    oauth = replace(acc, auth="oauth2")
    with pytest.raises(AuthError) as err:
        await send_message(oauth, raw_for(account, prospect, "never"), [prospect.email])
    assert "535" in str(err.value) and f"replydesk accounts auth {acc.id}" in str(err.value)
    assert smtp_server.accepted_for(prospect.email) == []


async def test_a_certificate_that_cannot_be_verified_is_refused(pair, smtp_server):
    acc, account, prospect = pair
    untrusted = replace(acc, smtp=replace(acc.smtp, ca_file=None))
    with pytest.raises(SendError) as err:
        await send_message(untrusted, raw_for(account, prospect, "never"), [prospect.email])
    assert err.value.permanent and "certificate not trusted" in str(err.value)
    assert "ca_file" in str(err.value)


class _Recorder:
    def __init__(self) -> None:
        self.commands: list[str] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.commands.append("DATA")
        return "250 OK"


async def test_a_server_without_starttls_gets_no_password(pair):
    acc, account, prospect = pair
    recorder = _Recorder()
    port = free_port()
    plain = Controller(recorder, hostname="127.0.0.1", port=port, auth_require_tls=False)
    plain.start()
    try:
        cleartext = replace(acc, smtp=replace(acc.smtp, port=port))
        with pytest.raises(SendError) as err:
            await asyncio.wait_for(send_message(cleartext, raw_for(account, prospect, "x"), [prospect.email]), 30)
    finally:
        plain.stop()
    assert err.value.permanent and "STARTTLS" in str(err.value)
    assert recorder.commands == []


async def test_an_expired_token_is_replaced_once_before_giving_up(pair, dovecot, smtp_server, tmp_path):
    acc, account, prospect = pair
    # the token source hands out an expired token first, then a fresh one
    counter = tmp_path / "calls"
    script = tmp_path / "token.sh"
    script.write_text(f'#!/bin/sh\nif [ -e {counter} ]; then echo "$FRESH"; else touch {counter}; echo expired; fi\n')
    script.chmod(0o700)
    os.environ["FRESH"] = account.password
    try:
        oauth = replace(acc, auth="oauth2", password_env=None, password_command=str(script))
        await send_message(oauth, raw_for(account, prospect, "second token"), [prospect.email])
    finally:
        del os.environ["FRESH"]
    assert counter.exists()  # the expired token was offered first
    assert len(wait_for(lambda: mailbox_headers(dovecot, prospect.email))) == 1
