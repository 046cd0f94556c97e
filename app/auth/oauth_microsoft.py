"""Microsoft 365 OAuth through MSAL: the device-code flow (works over SSH) and silent refresh.

Each account keeps its own MSAL ``SerializableTokenCache`` in the keyring (``<email>:oauth-microsoft``),
saved whenever MSAL changes it: Microsoft hands out a new refresh token with every refresh, and a
chain whose newest token was not kept ends within 90 days in AADSTS700082. Every call here blocks (MSAL's constructor already does network IO
for authority discovery): call from a thread, never on the event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msal
import requests

from app.auth.keyring_store import keyring_get, keyring_key, keyring_set
from app.auth.oauth_grant import account_lock, reauth_needed
from app.config import Account
from app.errors import NetworkError, SecretError

# MSAL adds offline_access (for the refresh token) itself and refuses it when passed
SCOPES = ["https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/SMTP.Send"]
KIND = "oauth-microsoft"

# discovery responses are shared by every account's application (MSAL caches GETs for a day)
_HTTP_CACHE: dict[Any, Any] = {}
_apps: dict[str, tuple[msal.PublicClientApplication, msal.SerializableTokenCache]] = {}


def authority_url(account: Account) -> str:
    return account.oauth.authority or f"https://login.microsoftonline.com/{account.oauth.tenant}"


def _application(account: Account) -> tuple[msal.PublicClientApplication, msal.SerializableTokenCache]:
    if account.email in _apps:
        return _apps[account.email]
    if not account.oauth.client_id:
        raise SecretError(f"{account.id}: auth = \"oauth2\" needs [accounts.oauth] client_id",
                          "register an app in Entra ID (public client flows allowed) and set its id")
    cache = msal.SerializableTokenCache()
    blob = keyring_get(keyring_key(account.email, KIND))
    if blob:
        cache.deserialize(blob)
    try:
        app = msal.PublicClientApplication(
            account.oauth.client_id, authority=authority_url(account), token_cache=cache,
            http_cache=_HTTP_CACHE,
            # an explicit authority override (sovereign cloud, test endpoint) is trusted as given
            instance_discovery=False if account.oauth.authority else None)
    except requests.RequestException as exc:
        raise NetworkError(f"{account.id}: cannot reach the Microsoft authority {authority_url(account)}: "
                           f"{type(exc).__name__}") from None
    except ValueError as exc:
        raise SecretError(f"{account.id}: Microsoft authority {authority_url(account)} rejected: "
                          f"{str(exc).splitlines()[0]}", "check [accounts.oauth] tenant / authority") from None
    _apps[account.email] = (app, cache)
    return app, cache


def _save(account: Account, cache: msal.SerializableTokenCache) -> None:
    if cache.has_state_changed:
        keyring_set(keyring_key(account.email, KIND), cache.serialize())
        cache.has_state_changed = False


def _signed_in(app: msal.PublicClientApplication, account: Account) -> dict[str, Any] | None:
    accounts = app.get_accounts()
    for entry in accounts:
        if (entry.get("username") or "").lower() == account.email.lower():
            return entry
    return accounts[0] if accounts else None


def access_token(account: Account, *, force_refresh: bool = False) -> str:
    """A valid access token; MSAL refreshes it when it expires within five minutes."""
    with account_lock(account.email):
        app, cache = _application(account)
        who = _signed_in(app, account)
        if who is None:
            forget(account)
            raise reauth_needed(account, "no Microsoft authorization stored")
        try:
            result = app.acquire_token_silent_with_error(SCOPES, account=who, force_refresh=force_refresh)
        except requests.RequestException as exc:
            raise NetworkError(f"{account.id}: token refresh failed: {type(exc).__name__}") from None
        if result and "access_token" in result:
            _save(account, cache)
            return str(result["access_token"])
        forget(account)
        error = (result or {}).get("error", "no refresh token")
        if error in ("invalid_grant", "interaction_required", "no refresh token", "invalid_client"):
            detail = ((result or {}).get("error_description") or "").splitlines()
            err = reauth_needed(account, f"Microsoft refused the refresh token ({error}"
                                         f"{': ' + detail[0] if detail else ''})")
            if detail and "AADSTS700082" in detail[0]:
                err.hint = f"the mailbox was not connected for 90 days, so its refresh token expired: {err.hint}"
            raise err
        raise NetworkError(f"{account.id}: token refresh failed: {error}")


def device_flow(account: Account, show: Callable[[str], None]) -> None:
    """Authorize the account: show the code and URL, wait for the user, store the tokens."""
    forget(account)
    app, cache = _application(account)
    try:
        flow = app.initiate_device_flow(scopes=SCOPES)
        if "user_code" not in flow:
            raise SecretError(f"{account.id}: device code request refused: "
                              f"{flow.get('error_description') or flow.get('error')}",
                              "check client_id and that the app allows public client flows")
        show(flow["message"])
        result = app.acquire_token_by_device_flow(flow)
    except requests.RequestException as exc:
        raise NetworkError(f"{account.id}: device flow failed: {type(exc).__name__}") from None
    if "access_token" not in result:
        detail = (result.get("error_description") or "").splitlines()
        raise SecretError(f"{account.id}: authorization failed: {result.get('error')}"
                          f"{': ' + detail[0] if detail else ''}")
    user = (result.get("id_token_claims") or {}).get("preferred_username")
    if user and user.lower() != account.email.lower():
        forget(account)
        raise SecretError(f"{account.id}: signed in as {user}, not {account.email}",
                          "run it again and sign in with the mailbox's own account")
    keyring_set(keyring_key(account.email, KIND), cache.serialize())
    cache.has_state_changed = False


def forget(account: Account) -> None:
    """Drop the in-memory application so the next call reloads the cache from the keyring."""
    _apps.pop(account.email, None)
