"""A reply is never delivered twice: ``replydesk reply`` (the engine's drainer, in-process) is
killed with SIGKILL in the middle of a submission, then started again."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from app.cli import main
from app.commands.reply import queue_reply_to
from app.config import load_config
from app.imap.sent_lookup import message_in_sent
from app.smtp.outbox import OutboxDrainer
from app.store import Store
from tests.conftest import ROOT
from tests.reply_support import (
    Received,
    mailbox_headers,
    message_flags,
    received,  # noqa: F401  (fixture)
    wait_for,
)


class BlackHole:
    """Accepts SMTP connections and never says a word: a server that hangs before the greeting."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


class SilentAfterAccept:
    """Forwards a connection to the real SMTP server, but once the server has accepted a
    message it withholds the server's answer: the client never learns its reply went out."""

    def __init__(self, smtp_server, *, hang_up: bool = False) -> None:
        self.hang_up = hang_up
        """Close the connection instead of staying silent."""
        self.target = (smtp_server.host, smtp_server.port)
        self.smtp_server = smtp_server
        self.baseline = len(smtp_server.accepted)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        try:
            client, _ = self.sock.accept()
        except OSError:
            return
        upstream = socket.create_connection(self.target)
        self.conns += [client, upstream]
        threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
        threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, from_server: bool) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                return
            if not data:
                return
            if from_server and len(self.smtp_server.accepted) > self.baseline:
                if self.hang_up:
                    self.close()
                    return
                continue  # the acceptance (and anything after it) never reaches the client
            try:
                dst.sendall(data)
            except OSError:
                return

    def close(self) -> None:
        self.sock.close()
        for conn in self.conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)  # wakes the pumps blocked in recv()
            except OSError:
                pass
            conn.close()


def point_smtp_at(config_path: Path, old_port: int, new_port: int) -> None:
    text = config_path.read_text()
    config_path.write_text(text.replace(f"port = {old_port}\n", f"port = {new_port}\n"))


def start_reply(config_path: Path, message_id: str, body: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "app", "--config", str(config_path), "reply", message_id,
                             "--body", body], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def kill(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def killed_mid_reply(r: Received, smtp_server, proxy: BlackHole | SilentAfterAccept, body: str,
                     reached: Callable[[], object]) -> None:
    """``replydesk reply`` through ``proxy``, SIGKILLed once ``reached()`` holds; the config
    points at the real SMTP server again afterwards."""
    point_smtp_at(r.config_path, smtp_server.port, proxy.port)
    proc = start_reply(r.config_path, r.row["message_id"], body)
    try:
        assert wait_for(reached)
    finally:
        kill(proc)
        proxy.close()
    point_smtp_at(r.config_path, proxy.port, smtp_server.port)


async def restart(config_path: Path) -> None:
    """What the engine does at start: settle interrupted items, then send what is queued."""
    config = load_config(config_path)
    drainer = OutboxDrainer(config, config.database, lookup_sent=message_in_sent)
    try:
        await drainer.recover()
        for item in await drainer.db.call(Store.outbox, ("queued",)):
            await drainer.send_now(item["id"])
    finally:
        await drainer.close()


def only_item(store: Store) -> dict:
    [item] = store.outbox()
    return item


async def test_killed_before_the_server_had_it_is_sent_once_after_restart(received, dovecot, smtp_server):
    r = received
    killed_mid_reply(r, smtp_server, BlackHole(), "Sent exactly once",
                     lambda: r.store.outbox() and only_item(r.store)["state"] == "sending")
    assert only_item(r.store)["submitted_at"] is None

    await restart(r.config_path)
    assert only_item(r.store)["state"] == "sent"
    assert len(wait_for(lambda: mailbox_headers(dovecot, r.prospect.email))) == 1


async def test_killed_after_the_server_accepted_is_not_sent_again(received, dovecot, smtp_server, capsys):
    r = received
    proxy = SilentAfterAccept(smtp_server)
    killed_mid_reply(r, smtp_server, proxy, "Delivered, but we never heard",
                     lambda: len(smtp_server.accepted) > proxy.baseline)
    assert only_item(r.store)["state"] == "sending" and only_item(r.store)["submitted_at"]

    await restart(r.config_path)
    item = only_item(r.store)
    assert item["state"] == "uncertain" and "may have been delivered" in item["last_error"]
    assert len(wait_for(lambda: mailbox_headers(dovecot, r.prospect.email))) == 1

    # nothing sends it again unless the user asks with --resend
    await restart(r.config_path)
    assert len(mailbox_headers(dovecot, r.prospect.email)) == 1
    assert main(["--config", str(r.config_path), "reply", "--resend", "99"]) == 2
    assert "not a failed or uncertain reply" in capsys.readouterr().err

    # the user checked: it did arrive. Recorded as sent: Sent copy, \Answered, no second delivery
    assert await asyncio.to_thread(main, ["--config", str(r.config_path), "reply", "--delivered", str(item["id"])]) == 0
    assert only_item(r.store)["state"] == "sent"
    assert len(mailbox_headers(dovecot, r.account.email, "Sent")) == 1
    assert "\\Answered" in message_flags(dovecot, r.account.email, r.row["message_id"])
    assert len(mailbox_headers(dovecot, r.prospect.email)) == 1


async def test_a_provider_that_files_submissions_in_sent_settles_it(received, dovecot, smtp_server):
    r = received
    text = r.config_path.read_text().replace('provider = "generic"', 'provider = "generic"\nsmtp_saves_sent = true')
    r.config_path.write_text(text)
    proxy = SilentAfterAccept(smtp_server)
    killed_mid_reply(r, smtp_server, proxy, "Filed in Sent by the provider",
                     lambda: len(smtp_server.accepted) > proxy.baseline)
    # what Gmail or Microsoft 365 do with a submission: a copy in Sent
    raw = smtp_server.accepted[-1][2]
    await asyncio.to_thread(
        subprocess.run, ["doveadm", "-c", str(dovecot.conf), "save", "-u", r.account.email, "-m", "Sent"],
        input=raw, check=True)

    await restart(r.config_path)
    item = only_item(r.store)
    assert item["state"] == "sent"
    assert len(mailbox_headers(dovecot, r.prospect.email)) == 1
    assert len(mailbox_headers(dovecot, r.account.email, "Sent")) == 1
    assert [op["op"] for op in r.store.pending_ops(r.config.accounts[0].id)] == ["add_flags"]
    assert r.store.message(r.row["id"])["answered"] == 1


async def test_a_connection_lost_after_the_server_accepted_is_not_retried(received, dovecot, smtp_server):
    r = received
    proxy = SilentAfterAccept(smtp_server, hang_up=True)
    point_smtp_at(r.config_path, smtp_server.port, proxy.port)
    item_id = queue_reply_to(r.config, r.store, r.row, "The line dropped before the 250")
    drainer = OutboxDrainer(load_config(r.config_path), r.config.database, lookup_sent=message_in_sent,
                            backoff=(0.1, 0.2))
    try:
        item = await drainer.send_now(item_id)
    finally:
        await drainer.close()
        proxy.close()
    assert item["state"] == "uncertain"
    await restart(r.config_path)
    assert only_item(r.store)["state"] == "uncertain"
    assert len(wait_for(lambda: mailbox_headers(dovecot, r.prospect.email))) == 1
