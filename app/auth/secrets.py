"""Where passwords and tokens come from: an environment variable, a command, or the OS keyring.

Resolution order for an account: ``password_env``, then ``password_command``, then the keyring
(service ``replydesk``). For ``auth = "oauth2"`` accounts without an env var or command, the
secret is a fresh OAuth access token (``app.auth.oauth``).

Secrets are never written anywhere but the keyring (``app.auth.keyring_store``).
"""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
from typing import Literal

from app.auth import oauth
from app.auth.keyring_store import keyring_get, keyring_key
from app.config import SECRET_ENV_NAMES, Account
from app.errors import SecretError

Kind = Literal["imap", "smtp"]
COMMAND_TIMEOUT = 60.0


def _from_keyring(account: Account, kind: Kind) -> str:
    if kind == "smtp":
        value = keyring_get(keyring_key(account.email, "smtp"))
        if value:
            return value
    value = keyring_get(keyring_key(account.email, "imap"))
    if not value:
        raise SecretError(f"{account.id}: no password in the keyring for {account.email}",
                          f"store it with: replydesk accounts password {account.id}")
    return value


# --- env and command -------------------------------------------------------------------

def _from_env(account: Account) -> str:
    name = account.password_env or ""
    value = os.environ.get(name)
    if not value:
        raise SecretError(f"{account.id}: environment variable {name} is not set or empty",
                          "export it before starting replydesk, or use the keyring")
    return value


def _command_name(command: str) -> str:
    try:
        return shlex.split(command)[0]
    except (ValueError, IndexError):
        return "password_command"


def _command_result(account: Account, code: int | None, out: bytes) -> str:
    name = _command_name(account.password_command or "")
    if code != 0:
        raise SecretError(f"{account.id}: password_command {name} exited with status {code}",
                          "run the command yourself to see why")
    value = out.decode("utf-8", "replace").strip()
    if not value:
        raise SecretError(f"{account.id}: password_command {name} printed nothing")
    # a command may print more lines (pass adds metadata): the secret is the first
    return value.splitlines()[0].strip()


def _command_env() -> dict[str, str]:
    """The command's environment: replydesk's own, without the variables any configured mailbox,
    platform or webhook keeps a secret in (``app.config.SECRET_ENV_NAMES``)."""
    return {**{k: v for k, v in os.environ.items() if k not in SECRET_ENV_NAMES}, "HISTFILE": "/dev/null"}


async def _from_command(account: Account) -> str:
    command = account.password_command or ""
    try:
        proc = await asyncio.create_subprocess_shell(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=_command_env())
    except OSError as exc:
        raise SecretError(f"{account.id}: cannot run password_command {_command_name(command)}: "
                          f"{exc.strerror}") from None
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), COMMAND_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise SecretError(f"{account.id}: password_command {_command_name(command)} did not finish "
                          f"in {COMMAND_TIMEOUT:.0f} s") from None
    return _command_result(account, proc.returncode, out)


# --- the entry points ------------------------------------------------------------------

async def get_secret(account: Account, kind: Kind = "imap") -> str:
    """The password for ``kind`` or, for ``auth = "oauth2"``, a fresh access token."""
    if account.password_env:
        return _from_env(account)
    if account.password_command:
        return await _from_command(account)
    if account.auth == "oauth2":
        return await oauth.access_token(account)
    return await asyncio.to_thread(_from_keyring, account, kind)
