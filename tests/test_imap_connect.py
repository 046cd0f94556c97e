"""Connecting: implicit TLS and STARTTLS against Dovecot, a server without STARTTLS refused before
any credential is sent, certificates verified, refused passwords and tokens reported promptly."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from app.errors import AccountConfigError, AuthError, NetworkError, ReauthNeeded
from app.imap.connection import ImapConnection
from tests.engine_support import account, rows, running_engine, state, until


async def test_starttls_on_143_logs_in_over_tls(dovecot, users) -> None:
    [user] = users(1)
    conn = ImapConnection(account(dovecot, user, port=dovecot.imap_port, security="starttls",
                                  ca_file=dovecot.ca_file))
    await conn.open()
    try:
        assert conn.proto.transport.get_extra_info("ssl_object") is not None
        assert "STARTTLS" not in conn.capabilities  # capabilities were read again after the upgrade
        info = await conn.select("INBOX")
        assert info.uidvalidity > 0
    finally:
        await conn.close()
    assert "TLS" in dovecot.log_tail(200)


async def test_engine_syncs_a_starttls_account(dovecot, users, deliver, make_config, tmp_path) -> None:
    [user] = users(1)
    deliver(user.email, subject="Re: over starttls", body="hello")
    config_path = make_config(tmp_path, [user])
    text = config_path.read_text().replace(f"port = {dovecot.imaps_port}", f"port = {dovecot.imap_port}")
    config_path.write_text(text.replace('security = "tls"', 'security = "starttls"', 1))
    async with running_engine(config_path) as (engine, config, store):
        assert config.accounts[0].imap.security == "starttls"
        await until(lambda: len(rows(store)) == 1, 20, "synced over STARTTLS")
        await until(lambda: state(store, user.email) == "idle", 10, "idle")


class PlainOnlyServer:
    """A real IMAP peer on a socket that offers no STARTTLS; records every line it receives."""

    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN LOGIN] plaintext only\r\n")
        await writer.drain()
        while line := await reader.readline():
            self.received.append(line)
            tag, _, rest = line.decode().strip().partition(" ")
            if rest.upper() == "CAPABILITY":
                writer.write(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN LOGIN\r\n" + f"{tag} OK done\r\n".encode())
            elif rest.upper() == "LOGOUT":
                writer.write(f"* BYE\r\n{tag} OK bye\r\n".encode())
            else:
                writer.write(f"{tag} OK fine\r\n".encode())
            await writer.drain()
        writer.close()


async def test_server_without_starttls_is_refused_never_used_in_plaintext(dovecot, users, make_config,
                                                                         tmp_path) -> None:
    [user] = users(1)
    fake = PlainOnlyServer()
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        conn = ImapConnection(account(dovecot, user, port=port, security="starttls"))
        with pytest.raises(AccountConfigError, match="does not offer STARTTLS"):
            await conn.open()
        await asyncio.sleep(0.1)
        sent = b"".join(fake.received).upper()
        assert b"LOGIN" not in sent and b"AUTHENTICATE" not in sent
        assert user.password.encode() not in b"".join(fake.received)

        config_path = make_config(tmp_path, [user])
        text = config_path.read_text().replace(f"port = {dovecot.imaps_port}", f"port = {port}")
        config_path.write_text(text.replace('security = "tls"', 'security = "starttls"', 1))
        async with running_engine(config_path) as (engine, config, store):
            await until(lambda: state(store, user.email) == "config_error", 10, "config_error")
            assert "STARTTLS" in store.account_row(user.email)["last_error"]
            await asyncio.sleep(1.5)
            assert state(store, user.email) == "config_error"  # stopped: no reconnect loop
        sent = b"".join(fake.received).upper()
        assert b"LOGIN" not in sent and b"AUTHENTICATE" not in sent
    finally:
        server.close()
        await server.wait_closed()


async def test_untrusted_certificate_is_a_config_error(dovecot, users) -> None:
    [user] = users(1)
    conn = ImapConnection(account(dovecot, user, port=dovecot.imaps_port, security="tls"))
    with pytest.raises(AccountConfigError, match="certificate not trusted"):
        await conn.open()


async def test_tls_mode_on_a_plaintext_port_says_wrong_port(dovecot, users) -> None:
    [user] = users(1)
    conn = ImapConnection(account(dovecot, user, port=dovecot.imap_port, security="tls",
                                  ca_file=dovecot.ca_file))
    with pytest.raises(AccountConfigError) as err:
        await conn.open()
    assert "wrong port" in (err.value.hint or "")


async def test_wrong_password_is_an_auth_error_with_a_hint(dovecot, users, monkeypatch) -> None:
    [user] = users(1)
    monkeypatch.setenv(user.env, "wrong")
    conn = ImapConnection(account(dovecot, user, port=dovecot.imaps_port, security="tls",
                                  ca_file=dovecot.ca_file))
    with pytest.raises(AuthError) as err:
        await conn.open()
    await conn.close()
    assert "login failed" in err.value.message and err.value.hint


async def test_xoauth2_token_accepted_and_a_rejected_one_answers_promptly(dovecot, users, monkeypatch) -> None:
    [user] = users(1)
    # Dovecot's passwd-file checks the bearer token as the password
    good = ImapConnection(account(dovecot, user, port=dovecot.imaps_port, security="tls",
                                  ca_file=dovecot.ca_file, auth="oauth2"))
    await good.open()
    await good.close()
    monkeypatch.setenv(user.env, "expired-token")
    bad = ImapConnection(account(dovecot, user, port=dovecot.imaps_port, security="tls",
                                 ca_file=dovecot.ca_file, auth="oauth2"))
    bad.timeout = 120  # a command timeout would end in NetworkError, well after the test's own bound
    with pytest.raises(ReauthNeeded):
        await asyncio.wait_for(bad.open(), 60)
    await bad.close()


async def test_a_silent_server_is_noticed_at_the_idle_refresh(dovecot, users) -> None:
    """The link stays up but the server says nothing (its process frozen): DONE at the refresh
    gets no answer within the grace, and the connection counts as dead instead of hanging."""
    import os
    import re
    import signal

    [user] = users(1)
    conn = ImapConnection(account(dovecot, user, port=dovecot.imaps_port, security="tls",
                                  ca_file=dovecot.ca_file))
    await conn.open()
    await conn.select("INBOX")
    conn.take_changes()  # the SELECT's own EXISTS
    conn.timeout = 2.0  # the grace after the refresh
    pid = int(re.findall(rf"Login: user=<{re.escape(user.email)}>.*?mpid=(\d+)", dovecot.log_text())[-1])
    idle = asyncio.create_task(conn.idle(asyncio.Event(), 1.0))
    await asyncio.sleep(0.3)
    os.kill(pid, signal.SIGSTOP)
    try:
        with pytest.raises(NetworkError, match="no answer"):
            await asyncio.wait_for(idle, 30)
    finally:
        os.kill(pid, signal.SIGCONT)
        await conn.close()


async def test_connections_per_mailbox_stay_within_its_budget(dovecot, users) -> None:
    """Gmail allows 15 connections per account and Microsoft 365 about 20: replydesk never opens
    more than the account's max_connections to one mailbox."""
    [user] = users(1)
    acc = replace(account(dovecot, user, port=dovecot.imaps_port, security="tls", ca_file=dovecot.ca_file),
                  max_connections=2)
    first, second, third = ImapConnection(acc), ImapConnection(acc), ImapConnection(acc)
    await first.open()
    await second.open()
    try:
        with pytest.raises(NetworkError, match="2 IMAP connections already open"):
            await third.open()
        await third.close()
        await first.close()
        third = ImapConnection(acc)
        await third.open()  # one closed: room again
        assert (await third.select("INBOX")).uidvalidity > 0
    finally:
        for conn in (first, second, third):
            await conn.close()


async def test_a_silently_dropped_link_is_probed_by_the_kernel_within_25_seconds(dovecot, users) -> None:
    """A link that drops packets without a word is noticed without IMAP traffic: every IMAP socket
    (after STARTTLS too) has keepalive probes after 10 s of silence, every 5 s, 3 of them, and a
    25 s limit on unacknowledged data. What the kernel was told is what is checked here: this
    machine has no way to drop packets on loopback for one port."""
    import socket

    [user] = users(1)
    for port, security in ((dovecot.imaps_port, "tls"), (dovecot.imap_port, "starttls")):
        conn = ImapConnection(account(dovecot, user, port=port, security=security, ca_file=dovecot.ca_file))
        await conn.open()
        try:
            sock = conn.proto.transport.get_extra_info("socket")
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
            idle, interval, count = (sock.getsockopt(socket.IPPROTO_TCP, o)
                                     for o in (socket.TCP_KEEPIDLE, socket.TCP_KEEPINTVL, socket.TCP_KEEPCNT))
            assert idle + interval * count <= 30
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT) <= 30_000
        finally:
            await conn.close()
