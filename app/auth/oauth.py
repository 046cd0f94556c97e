"""OAuth for ``auth = "oauth2"`` accounts, by provider: Microsoft (MSAL) or Google.

The provider modules block (HTTP, MSAL's discovery); the async entry points run them in a thread
so the event loop never waits on a token endpoint. What the providers share with this module is
in ``oauth_grant``, so the imports run one way: secrets -> oauth -> providers -> oauth_grant.
A provider module (and MSAL or google-auth with it) is imported when an account of that provider
first needs a token, so the engine, the doctor and ``replydesk reply`` start without ~0.1 s of OAuth
libraries where no mailbox uses them.
"""

from __future__ import annotations

import asyncio
import importlib
import os
from collections.abc import Callable
from types import ModuleType

from app.auth.oauth_grant import reauth_command, reauth_needed
from app.config import Account
from app.errors import SecretError

__all__ = ["access_token", "access_token_sync", "authorize", "invalidate", "reauth_command", "reauth_needed"]

# accounts whose cached access token a server refused: the next request asks the token endpoint
_force_refresh: set[str] = set()


# provider -> its module, imported on first use
PROVIDERS = {"microsoft": "app.auth.oauth_microsoft", "google": "app.auth.oauth_google"}


def _provider(account: Account) -> ModuleType:
    name = PROVIDERS.get(account.provider)
    if name is not None:
        return importlib.import_module(name)
    raise SecretError(f"{account.id}: auth = \"oauth2\" works with provider \"google\" or \"microsoft\", "
                      f"not {account.provider!r}", "use auth = \"password\" for this provider")


def access_token_sync(account: Account) -> str:
    module = _provider(account)
    force = account.email in _force_refresh
    token = module.access_token(account, force_refresh=force)
    _force_refresh.discard(account.email)
    return token


async def access_token(account: Account) -> str:
    return await asyncio.to_thread(access_token_sync, account)


def invalidate(account: Account) -> None:
    _force_refresh.add(account.email)


def in_ssh_session() -> bool:
    return bool(os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_TTY"))


def authorize(account: Account, show: Callable[[str], None], ask: Callable[[str], str], *,
              paste: bool | None = None) -> None:
    """Run the provider's interactive flow and store the tokens in the keyring (blocking).

    Google: the loopback flow, or the paste-the-URL flow when ``paste`` (default: in an SSH session).
    """
    module = _provider(account)
    if module.__name__.endswith("microsoft"):
        module.device_flow(account, show)
    elif paste if paste is not None else in_ssh_session():
        module.authorize_paste(account, show, ask)
    else:
        module.authorize_loopback(account, show)
    _force_refresh.discard(account.email)
