"""What the IMAP and SMTP layers ask for right before they log in.

    creds = await credentials(account, "imap")
    if creds.mechanism == "xoauth2": ... AUTHENTICATE XOAUTH2 (app.auth.xoauth2)
    else: ... LOGIN / AUTH PLAIN with creds.username, creds.secret

When the server refuses them, ``rejected(account, kind, server_text)`` gives the error to raise
and store (an ``AuthError`` with the hint for the provider's usual cause, or ``ReauthNeeded``
for OAuth accounts), and ``invalidate(account)`` makes the next ``credentials`` call fetch a
new access token instead of the cached one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from app.auth import oauth
from app.auth.secrets import Kind, get_secret
from app.config import Account
from app.errors import AuthError

Mechanism = Literal["password", "xoauth2"]


@dataclass(frozen=True)
class Credentials:
    username: str
    secret: str = field(repr=False)
    """The password, or the OAuth access token for ``xoauth2``."""
    mechanism: Mechanism = "password"


def _username(account: Account, kind: Kind) -> str:
    return (account.smtp if kind == "smtp" else account.imap).username


def _mechanism(account: Account) -> Mechanism:
    return "xoauth2" if account.auth == "oauth2" else "password"


async def credentials(account: Account, kind: Kind = "imap") -> Credentials:
    """Username and secret for logging in to ``kind``; OAuth tokens are refreshed when due."""
    secret = await get_secret(account, kind)
    return Credentials(_username(account, kind), secret, _mechanism(account))


async def invalidate(account: Account) -> None:
    """Forget the cached access token: the next ``credentials`` call asks the token endpoint."""
    if account.auth == "oauth2":
        oauth.invalidate(account)


def password_hint(account: Account, kind: Kind) -> str:
    """The usual cause of a refused password, by provider."""
    if account.provider == "google":
        return ("Google refuses the account password: use an app password (2-Step Verification on), "
                f"or auth = \"oauth2\"; store it with: replydesk accounts password {account.id}")
    if account.provider == "microsoft" and kind == "smtp":
        return ("Microsoft 365 has basic auth disabled for SMTP in many tenants, and by default in existing "
                "ones from the end of December 2026: set auth = \"oauth2\" and run "
                f"{oauth.reauth_command(account)}, or ask the admin to enable SMTP AUTH for the mailbox")
    if account.provider == "microsoft":
        return ("Microsoft 365 has basic auth disabled for IMAP (no password works): set auth = \"oauth2\" "
                f"and run {oauth.reauth_command(account)}")
    if account.provider == "yahoo" or account.provider == "icloud":
        return f"{account.provider} needs an app-specific password; store it with: " \
               f"replydesk accounts password {account.id}"
    return f"check the username and password; store a new one with: replydesk accounts password {account.id}"


def rejected(account: Account, kind: Kind, server_text: str = "") -> AuthError:
    """The error for credentials the server refused (``server_text``: its words, if any)."""
    said = f": {server_text.strip()}" if server_text.strip() else ""
    side = kind.upper()
    if account.auth == "oauth2":
        return oauth.reauth_needed(account, f"{side} rejected the OAuth token{said}")
    return AuthError(f"{account.id}: {side} login failed{said}", password_hint(account, kind))
