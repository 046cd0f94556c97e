"""Where passwords and tokens come from: an environment variable, a command, or the OS keyring.

Resolution order for an account: ``password_env``, then ``password_command``, then the keyring
(service ``replydesk``). For ``auth = "oauth2"`` accounts without an env var or command, the
secret is a fresh OAuth access token (``app.auth.oauth``).

Secrets are never written anywhere but the keyring. A keyring that cannot be used (no backend
on a headless server, a locked Secret Service over SSH) is one ``SecretError`` naming the
alternatives, never a traceback.

Keyring entries (username under service ``replydesk``):
  ``<email>``                 the password (IMAP, and SMTP unless it differs)
  ``<email>:smtp``            the SMTP password, only when it differs from the IMAP one
  ``<email>:oauth-microsoft`` the MSAL token cache
  ``<email>:oauth-google``    the Google refresh token
"""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
from typing import Literal

import keyring
import keyring.errors

from app.config import SECRET_ENV_NAMES, Account
from app.errors import SecretError

SERVICE = "replydesk"
Kind = Literal["imap", "smtp"]
COMMAND_TIMEOUT = 60.0

KEYRING_HINT = ("no usable keyring here: set password_command (e.g. \"pass show mail/NAME\") or "
                "password_env for the account, or install an encrypted-file keyring backend: "
                "pip install keyrings.cryptfile and set PYTHON_KEYRING_BACKEND="
                "keyrings.cryptfile.cryptfile.CryptFileKeyring")


def keyring_key(email: str, kind: str = "imap") -> str:
    """The keyring username for one secret of an account."""
    return email if kind == "imap" else f"{email}:{kind}"


# --- the keyring -----------------------------------------------------------------------

def keyring_get(key: str) -> str | None:
    try:
        return keyring.get_password(SERVICE, key)
    except keyring.errors.KeyringError as exc:
        raise _keyring_error("read", key, exc) from None


KEYRING_WARNING = ("warning: the keyring in use ({name}) keeps passwords unencrypted on disk; install an "
                   "encrypted one (keyrings.cryptfile, or the desktop's Secret Service) or use password_command")


def plaintext_keyring() -> str | None:
    """The active keyring's name when it keeps secrets unencrypted on disk (keyrings.alt's
    plaintext file, and the like), else None: the doctor and ``accounts list`` warn about it."""
    try:
        backend = keyring.get_keyring()
    except Exception:
        return None
    backends = getattr(backend, "backends", None) or [backend]  # a chainer holds several
    for b in backends:
        name = f"{type(b).__module__}.{type(b).__name__}"
        if "plaintext" in name.lower() or "uncrypted" in name.lower():
            return name
    return None


def keyring_set(key: str, value: str) -> None:
    try:
        keyring.set_password(SERVICE, key, value)
    except keyring.errors.KeyringError as exc:
        raise _keyring_error("store", key, exc) from None


def keyring_delete(key: str) -> bool:
    """Remove one entry; False when there was none."""
    try:
        keyring.delete_password(SERVICE, key)
    except keyring.errors.PasswordDeleteError:
        return False
    except keyring.errors.KeyringError as exc:
        raise _keyring_error("delete", key, exc) from None
    return True


def _keyring_error(action: str, key: str, exc: Exception) -> SecretError:
    if isinstance(exc, keyring.errors.KeyringLocked):
        what = "the keyring is locked"
    elif isinstance(exc, keyring.errors.NoKeyringError):
        what = "no keyring backend is available"
    else:
        # the backend's words never contain the secret itself; keep only the first line
        what = (str(exc).splitlines() or [type(exc).__name__])[0]
    return SecretError(f"cannot {action} the secret for {key} in the keyring: {what}", KEYRING_HINT)


def set_secret(account_email: str, value: str, kind: str = "imap") -> None:
    """Store a password (or an OAuth blob) in the keyring."""
    if not value:
        raise SecretError(f"refusing to store an empty secret for {account_email}")
    keyring_set(keyring_key(account_email, kind), value)


def delete_secrets(account_email: str) -> int:
    """Forget every keyring entry of an account (``accounts remove``); returns how many."""
    kinds = ("imap", "smtp", "oauth-microsoft", "oauth-google")
    return sum(keyring_delete(keyring_key(account_email, k)) for k in kinds)


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
        from app.auth import oauth

        return await oauth.access_token(account)
    return await asyncio.to_thread(_from_keyring, account, kind)
