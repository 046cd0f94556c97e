"""What every OAuth provider module shares: one token refresh at a time per account, and the
"re-authentication needed" error with the command that fixes it.

Its own module so the providers (``oauth_microsoft``, ``oauth_google``) and the dispatcher over
them (``oauth``) import it without importing each other.
"""

from __future__ import annotations

import threading

from app.config import Account
from app.errors import ReauthNeeded

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def account_lock(email: str) -> threading.Lock:
    """One token refresh at a time per account, however many connections ask at once."""
    with _locks_guard:
        return _locks.setdefault(email, threading.Lock())


def reauth_command(account: Account) -> str:
    return f"replydesk accounts auth {account.id}"


def reauth_needed(account: Account, why: str) -> ReauthNeeded:
    return ReauthNeeded(f"{account.id}: {why}", f"re-authentication needed: {reauth_command(account)}")
