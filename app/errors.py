"""One tree of replydesk errors. Each carries the hint a user needs to fix its cause.

Library errors change name at the border (imap/, smtp/, auth/) into these, and the
CLI prints ``str(error)`` as one line with a non-zero exit.
"""

from __future__ import annotations


class ReplydeskError(Exception):
    """Base of every error replydesk reports to a user."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(ReplydeskError):
    """The config file is missing, unreadable or invalid."""

    exit_code = 2


class UsageError(ReplydeskError):
    """The command line asks for something that cannot be done."""

    exit_code = 2


class StoreError(ReplydeskError):
    """The database cannot be opened or is from a newer replydesk."""


class EngineLocked(ReplydeskError):
    """Another engine already runs on this database."""


class SecretError(ReplydeskError):
    """A password or token could not be read or stored."""


class AuthError(ReplydeskError):
    """The server refused our credentials: stop the account, do not retry in a loop."""


class ReauthNeeded(AuthError):
    """An OAuth grant was revoked or expired: the user must authorize the account again."""


class AccountConfigError(ReplydeskError):
    """The server cannot be used as configured (TLS mode, STARTTLS missing, IMAP disabled)."""


class NetworkError(ReplydeskError, ConnectionError):
    """A transient network failure: reconnect with backoff."""


class SendError(ReplydeskError):
    """An SMTP submission failed. ``permanent`` failures are not retried."""

    def __init__(self, message: str, hint: str | None = None, *, code: int | None = None,
                 permanent: bool = False) -> None:
        super().__init__(message, hint)
        self.code = code
        self.permanent = permanent
