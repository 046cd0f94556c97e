"""The OS keyring (service ``replydesk``): where passwords and OAuth tokens are kept.

Keyring entries (username under service ``replydesk``):
  ``<email>``                 the password (IMAP, and SMTP unless it differs)
  ``<email>:smtp``            the SMTP password, only when it differs from the IMAP one
  ``<email>:oauth-microsoft`` the MSAL token cache
  ``<email>:oauth-google``    the Google refresh token

A keyring that cannot be used (no backend on a headless server, a locked Secret Service over
SSH) is one ``SecretError`` naming the alternatives, never a traceback. This module loads no
OAuth library: ``accounts list`` and the doctor read the keyring's kind through it.
"""

from __future__ import annotations

import keyring
import keyring.errors

from app.errors import SecretError

SERVICE = "replydesk"

KEYRING_HINT = ("no usable keyring here: set password_command (e.g. \"pass show mail/NAME\") or "
                "password_env for the account, or install an encrypted-file keyring backend: "
                "pip install keyrings.cryptfile and set PYTHON_KEYRING_BACKEND="
                "keyrings.cryptfile.cryptfile.CryptFileKeyring")


def keyring_key(email: str, kind: str = "imap") -> str:
    """The keyring username for one secret of an account."""
    return email if kind == "imap" else f"{email}:{kind}"


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
