"""`replydesk accounts add` for OAuth and interactive use, and `accounts auth` after a revocation."""

from __future__ import annotations

import asyncio
import io

import keyring
import pytest

from app.auth import oauth
from app.auth.credentials import credentials
from app.auth.keyring_store import keyring_key
from app.cli import main
from app.config import load_config
from app.errors import ReauthNeeded
from app.store import Store
from tests.conftest import SECRETS
from tests.oauth_fakes import file_keyring, oauth_server  # noqa: F401  (fixtures)
from tests.storefill import account_in


class Terminal(io.StringIO):
    """Typed answers, on what looks like a terminal."""

    def isatty(self) -> bool:
        return True


def test_add_a_microsoft_account_with_the_device_flow_then_reauthorize(tmp_path, oauth_server, file_keyring,
                                                                       monkeypatch, capsys):
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[general]\ndatabase = "{tmp_path / "replydesk.db"}"\n')
    oauth_server.username = "ceo@contoso.example"
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["accounts", "add", "--config", str(cfg), "--email", "ceo@contoso.example",
                 "--provider", "microsoft", "--auth", "oauth2", "--client-id", "app-id-1",
                 "--authority", oauth_server.authority, "--id", "ceo"]) == 0
    out = capsys.readouterr().out
    assert "enter the code ABCD-EFGH" in out and "added ceo" in out
    account = load_config(cfg).account("ceo")
    assert (account.auth, account.oauth.client_id, account.oauth.authority) == \
        ("oauth2", "app-id-1", oauth_server.authority)
    token = asyncio.run(credentials(account)).secret
    assert token.startswith("at-") and token not in cfg.read_text()
    assert keyring.get_password("replydesk", keyring_key(account.email, "oauth-microsoft"))

    # the grant is revoked: the engine marks the account, `accounts auth` fixes it
    oauth_server.revoke_all()
    oauth_server.expires_in = 60
    oauth.invalidate(account)
    with pytest.raises(ReauthNeeded, match="replydesk accounts auth ceo") as err:
        asyncio.run(credentials(account))
    store = Store(load_config(cfg).database)
    store.ensure_account("ceo", account.email)
    account_in(store, "ceo", "reauth_needed", error=err.value.message, hint=err.value.hint)
    store.close()
    assert main(["accounts", "list", "--config", str(cfg)]) == 0
    assert "reauth_needed" in capsys.readouterr().out
    assert main(["accounts", "auth", "--config", str(cfg), "ceo"]) == 0
    assert "ceo is authorized" in capsys.readouterr().out
    assert asyncio.run(credentials(account)).secret.startswith("at-")
    store = Store(load_config(cfg).database)
    assert store.account_row("ceo")["state"] == "new"
    # authorizing a mailbox whose watcher is live again leaves the state its watcher wrote
    account_in(store, "ceo", "idle")
    store.close()
    assert main(["accounts", "auth", "--config", str(cfg), "ceo"]) == 0
    store = Store(load_config(cfg).database)
    assert store.account_row("ceo")["state"] == "idle"
    store.close()


def test_interactive_add_asks_for_what_the_flags_leave_out(tmp_path, file_keyring, monkeypatch, capsys):
    cfg = tmp_path / "config.toml"
    answers = "\n".join(["ana@acme.io", "nosuchprovider", "yahoo", "Ana Reyes"]) + "\n"
    monkeypatch.setattr("sys.stdin", Terminal(answers))
    SECRETS.add("yahoo-app-password")
    monkeypatch.setattr("app.commands.accounts.getpass.getpass", lambda prompt: "yahoo-app-password")
    assert main(["accounts", "add", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "one of: google, microsoft, yahoo" in out  # a wrong provider is asked again
    account = load_config(cfg).account("ana@acme.io")
    assert (account.provider, account.name, account.imap.host) == ("yahoo", "Ana Reyes", "imap.mail.yahoo.com")
    assert asyncio.run(credentials(account)).secret == "yahoo-app-password"
    assert "yahoo-app-password" not in cfg.read_text()


def test_add_without_a_terminal_names_the_missing_flag(tmp_path, file_keyring, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["accounts", "add", "--config", str(tmp_path / "c.toml"), "--email", "x@acme.io",
                 "--provider", "google"]) == 2
    assert "no password: pass --password-stdin" in capsys.readouterr().err
    assert not (tmp_path / "c.toml").exists()
