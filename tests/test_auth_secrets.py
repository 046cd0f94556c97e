"""Secrets: env, password_command, keyring (file backend), and the headless-server message."""

from __future__ import annotations

import keyring
import keyring.backends.fail
import pytest

from app.auth.credentials import credentials, rejected
from app.auth.keyring_store import delete_secrets, keyring_key, set_secret
from app.auth.secrets import get_secret
from app.auth.xoauth2 import xoauth2_string
from app.config import parse_config
from app.errors import AuthError, ReauthNeeded, SecretError
from tests.conftest import SECRETS
from tests.oauth_fakes import file_keyring  # noqa: F401  (fixture)


def account(**over):
    acc = {"id": "ana", "email": "ana@acme.io", "provider": "generic",
           "imap": {"host": "imap.acme.io"}, "smtp": {"host": "smtp.acme.io", "username": "ana-smtp"}}
    acc.update(over)
    return parse_config({"accounts": [acc]}).accounts[0]


async def test_keyring_holds_the_password_and_a_distinct_smtp_one(file_keyring):
    set_secret("ana@acme.io", "imap-secret-1")
    SECRETS.add("imap-secret-1")
    acc = account()
    assert await get_secret(acc) == "imap-secret-1"
    assert await get_secret(acc, "smtp") == "imap-secret-1"  # one password for both by default
    set_secret("ana@acme.io", "smtp-secret-2", kind="smtp")
    SECRETS.add("smtp-secret-2")
    assert await get_secret(acc, "smtp") == "smtp-secret-2"
    assert await get_secret(acc, "imap") == "imap-secret-1"
    creds = await credentials(acc, "smtp")
    assert (creds.username, creds.secret, creds.mechanism) == ("ana-smtp", "smtp-secret-2", "password")
    assert "smtp-secret-2" not in repr(creds)
    assert keyring.get_password("replydesk", keyring_key("ana@acme.io")) == "imap-secret-1"
    assert delete_secrets("ana@acme.io") == 2
    with pytest.raises(SecretError, match="replydesk accounts password ana"):
        await get_secret(acc)


async def test_env_wins_over_command_and_keyring(file_keyring, monkeypatch):
    monkeypatch.setenv("ANA_PW", "from-env")
    acc = account(password_env="ANA_PW", password_command="echo from-command")
    assert await get_secret(acc) == "from-env"
    assert (await credentials(acc)).secret == "from-env"
    monkeypatch.delenv("ANA_PW")
    with pytest.raises(SecretError, match="ANA_PW is not set"):
        await get_secret(acc)


async def test_password_command_output_is_stripped_and_failures_do_not_echo_it(file_keyring):
    acc = account(password_command="printf '  cmd-secret  \\nmetadata: x\\n'")
    assert await get_secret(acc) == "cmd-secret"
    failing = account(password_command="sh -c 'echo leaked-output; exit 3'")
    with pytest.raises(SecretError) as err:
        await get_secret(failing)
    assert "sh exited with status 3" in str(err.value)
    assert "leaked-output" not in str(err.value)


async def test_no_keyring_backend_names_the_alternatives():
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        with pytest.raises(SecretError) as err:
            set_secret("ana@acme.io", "x")
        text = str(err.value)
        assert "no keyring backend is available" in text
        assert "password_command" in text and "keyrings.cryptfile" in text
        with pytest.raises(SecretError, match="password_command"):
            await get_secret(account())
    finally:
        keyring.set_keyring(previous)


def test_xoauth2_string_and_rejection_hints():
    import base64
    assert base64.b64decode(xoauth2_string("a@b.c", "tok")) == b"user=a@b.c\x01auth=Bearer tok\x01\x01"
    google = account(provider="google")
    assert "app password" in str(rejected(google, "imap", "NO [AUTHENTICATIONFAILED]"))
    ms = account(provider="microsoft")
    assert "basic auth disabled" in str(rejected(ms, "smtp"))
    oauth = account(provider="microsoft", auth="oauth2")
    err = rejected(oauth, "imap")
    assert isinstance(err, ReauthNeeded) and isinstance(err, AuthError)
    assert "replydesk accounts auth ana" in str(err)


async def test_one_mailboxs_password_never_reaches_anothers_password_command(monkeypatch):
    leaked = "env-secret-" + "a1b2c3d4e5"
    SECRETS.add(leaked)
    monkeypatch.setenv("RD_TEST_MAILBOX_A_PW", leaked)
    config = parse_config({"accounts": [
        {"email": "a@acme.io", "provider": "google", "password_env": "RD_TEST_MAILBOX_A_PW"},
        {"email": "b@acme.io", "provider": "google",
         # prints "pw" and how many environment lines hold the other mailbox's password
         "password_command": "printf 'pw%s\\n' \"$(env | grep -c env-secret- || true)\""},
    ]})
    assert await get_secret(config.accounts[1]) == "pw0"
    assert await get_secret(config.accounts[0]) == leaked
