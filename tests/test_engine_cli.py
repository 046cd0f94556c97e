"""``replydesk sync`` as a user runs it: one engine per database (a second says who holds it and
exits 1), a log line per state change on stderr and in the log file, a clean exit on SIGTERM
within 5 s; and ``replydesk list --json`` printing what it stored."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from app.config import load_config
from app.engine import Engine, engine_lock_holder, small_tls_buffers
from app.errors import EngineLocked
from tests.conftest import ROOT, SECRETS
from tests.oauth_fakes import file_keyring, make_file_keyring  # noqa: F401  (fixture)
from tests.reply_support import wait_for


def replydesk(*args: str) -> list[str]:
    return [sys.executable, "-m", "app", *args]


async def test_second_engine_on_the_same_database_is_refused(dovecot, users, make_config, tmp_path) -> None:
    [user] = users(1)
    config = load_config(make_config(tmp_path, [user]))
    assert engine_lock_holder(config.database) is None
    first = Engine(config)
    await first.start()
    try:
        holder = engine_lock_holder(config.database)
        assert holder == f"pid {os.getpid()} on {os.uname().nodename}"
        with pytest.raises(EngineLocked, match=f"pid {os.getpid()}"):
            await Engine(config).start()
    finally:
        await first.stop()
    assert engine_lock_holder(config.database) is None


async def test_an_engine_whose_secrets_are_not_in_the_keyring_says_nothing_of_it(dovecot, users, make_config,
                                                                             tmp_path, file_keyring) -> None:
    """The keyring in use keeps secrets in a plain file, but this config's password comes from the
    environment: the engine does not look up the keyring (its backends are imported to find it)
    and does not warn."""
    [user] = users(1)
    config = load_config(make_config(tmp_path, [user]))
    engine = Engine(config)
    await engine.start()
    await engine.stop()
    logged = config.log_file.read_text()
    assert "engine: started" in logged
    assert "unencrypted" not in logged


def test_replydesk_sync_runs_until_sigterm_and_logs_state_changes(dovecot, users, deliver, make_config,
                                                                  tmp_path) -> None:
    [user] = users(1)
    mid = deliver(user.email, subject="Re: from the cli", body="Sure, send details.")
    config_path = make_config(tmp_path, [user])
    # the password in a keyring that keeps it in a plain file (keyrings.alt), not the environment
    config_path.write_text(config_path.read_text().replace(f'password_env = "{user.env}"\n', ""))
    data = tmp_path / "data"
    make_file_keyring(data / "python_keyring").set_password("replydesk", user.email, user.password)
    config = load_config(config_path)
    env = {**{k: v for k, v in os.environ.items() if k != user.env}, "REPLYDESK_CONFIG": str(config_path),
           "XDG_DATA_HOME": str(data), "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}
    proc = subprocess.Popen(replydesk("sync"), cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        assert wait_for(lambda: config.log_file.exists() and f"{user.email}: idle" in config.log_file.read_text(),
                        timeout=30), config.log_file.read_text() if config.log_file.exists() else "no log"
        second = subprocess.run(replydesk("sync"), cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
        assert second.returncode == 1
        assert f"pid {proc.pid}" in second.stderr and "another engine" in second.stderr
        assert "Traceback" not in second.stderr

        listed = subprocess.run(replydesk("list", "--json", "--limit", "5", "--account", user.email),
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
        assert listed.returncode == 0, listed.stderr
        [item] = [json.loads(line) for line in listed.stdout.splitlines()]
        for key in ("account", "folder", "uid", "message_id", "from", "subject", "date", "category", "seen"):
            assert key in item
        assert (item["message_id"], item["folder"], item["seen"]) == (mid, "INBOX", False)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=30)
            stopped_by_itself = True
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            stopped_by_itself = False
    assert stopped_by_itself, "replydesk sync did not stop on SIGTERM"
    assert proc.returncode == 0, err.decode()
    stderr = err.decode()
    for line in (f"{user.email}: connecting", f"{user.email}: syncing", f"{user.email}: idle", "engine: stopped"):
        assert line in stderr
        assert line in config.log_file.read_text()
    assert "Traceback" not in stderr
    # the mailbox's password is in keyrings.alt's plaintext file: the engine's log says so at start
    assert "keeps passwords unencrypted on disk" in config.log_file.read_text()
    logged = config.log_file.read_text() + stderr
    assert not any(secret in logged for secret in SECRETS)
    assert engine_lock_holder(config.database) is None


def test_tls_read_buffers_are_one_record_and_a_python_without_the_setting_starts_all_the_same(monkeypatch) -> None:
    """asyncio's 256 KiB read buffer per TLS connection is most of the memory at thousands of
    mailboxes: the engine makes it one TLS record. The setting is asyncio's own, undocumented;
    where a Python has none, the engine starts with the buffers as they are."""
    import asyncio.sslproto as sslproto
    monkeypatch.setattr(sslproto.SSLProtocol, "max_size", 256 * 1024)
    small_tls_buffers()
    assert sslproto.SSLProtocol.max_size == 16 * 1024
    monkeypatch.delattr(sslproto.SSLProtocol, "max_size")
    small_tls_buffers()
    assert not hasattr(sslproto.SSLProtocol, "max_size")
