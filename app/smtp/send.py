"""Submit one message through an account's SMTP server.

Implicit TLS (465) or STARTTLS (587), never plaintext: ``start_tls=True`` makes aiosmtplib
refuse a server that does not offer the upgrade, where its default would silently carry on
in the clear. Certificates are verified against the system CAs plus the account's
``ca_file``, TLS 1.2 at least.

aiosmtplib's errors change name here into ``SendError`` carrying the server's code and words,
``permanent`` for 5xx replies. Authentication failures become the ``AuthError`` that
``app.auth.rejected`` words for the provider.
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable, Sequence
from email.utils import parseaddr

import aiosmtplib

from app.auth.credentials import credentials, invalidate, rejected
from app.config import Account
from app.errors import AuthError, SendError
from app.tls import client_context, set_keepalive

CONNECT_TIMEOUT = 30.0
"""Seconds per socket operation; a submission server silent this long is treated as down."""


def _client(account: Account) -> aiosmtplib.SMTP:
    ep = account.smtp
    implicit = ep.security == "tls"
    return aiosmtplib.SMTP(hostname=ep.host, port=ep.port, use_tls=implicit, start_tls=not implicit,
                           tls_context=client_context(ep.ca_file), timeout=CONNECT_TIMEOUT)


def _words(exc: aiosmtplib.SMTPResponseException) -> str:
    return f"{exc.code} {' '.join(str(exc.message).split())}".strip()


def send_error(account: Account, exc: BaseException) -> SendError:
    """The ``SendError`` for a library or network error, with the server's words."""
    where = f"{account.id}: SMTP {account.smtp.host}:{account.smtp.port}"
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        first = exc.recipients[0]
        return SendError(f"{where} refused {first.recipient}: {_words(first)}", code=first.code,
                         permanent=first.code >= 500)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        permanent = exc.code >= 500
        hint = None if permanent else "will retry"
        return SendError(f"{where}: {_words(exc)}", hint, code=exc.code, permanent=permanent)
    cert = exc if isinstance(exc, ssl.SSLCertVerificationError) else exc.__cause__
    if isinstance(cert, ssl.SSLCertVerificationError):
        return SendError(f"{where}: certificate not trusted: {cert.verify_message}",
                         "set smtp.ca_file for a self-signed server", permanent=True)
    if isinstance(exc, (TimeoutError, aiosmtplib.SMTPTimeoutError)):
        return SendError(f"{where}: timed out", "will retry")
    if isinstance(exc, (OSError, aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected)):
        return SendError(f"{where}: cannot connect: {exc or type(exc).__name__}", "will retry")
    # what is left is the server lacking what we need (STARTTLS, AUTH): a setup problem
    return SendError(f"{where}: {exc}", "check smtp.security, smtp.port and the provider", permanent=True)


async def _login(smtp: aiosmtplib.SMTP, account: Account) -> None:
    creds = await credentials(account, "smtp")
    try:
        if creds.mechanism != "xoauth2":
            await smtp.login(creds.username, creds.secret)
            return
        try:
            await smtp.auth_xoauth2(creds.username, creds.secret)
        except aiosmtplib.SMTPAuthenticationError:
            # a cached access token can expire between its check and its use: one fresh one
            await invalidate(account)
            creds = await credentials(account, "smtp")
            await smtp.auth_xoauth2(creds.username, creds.secret)
    except aiosmtplib.SMTPAuthenticationError as exc:
        await invalidate(account)
        raise rejected(account, "smtp", _words(exc)) from None


async def _transaction(smtp: aiosmtplib.SMTP, sender: str, recipients: Sequence[str], raw: bytes,
                       before_data: Callable[[], Awaitable[None] | None] | None) -> None:
    """MAIL, RCPT, then DATA; ``before_data`` runs once every recipient was accepted.

    Up to DATA the server cannot have taken the message; from DATA on it may have, even if
    we never hear its answer. The caller records that boundary to decide after a crash.
    """
    options = []
    if smtp.supports_extension("size"):
        options.append(f"SIZE={len(raw)}")
    if any(b > 0x7F for b in raw) and smtp.supports_extension("8bitmime"):
        options.append("BODY=8BITMIME")
    await smtp.mail(sender, options=options)
    refused: list[aiosmtplib.SMTPRecipientRefused] = []
    for rcpt in recipients:
        try:
            await smtp.rcpt(rcpt)
        except aiosmtplib.SMTPRecipientRefused as exc:
            refused.append(exc)
    if refused:
        # a reply goes to one person: delivering to only some of its recipients is not a success
        await smtp.rset()
        raise aiosmtplib.SMTPRecipientsRefused(refused)
    if before_data is not None:
        result = before_data()
        if result is not None:
            await result
    await smtp.data(raw)


async def send_message(account: Account, raw: bytes, recipients: Sequence[str], *,
                       before_data: Callable[[], Awaitable[None] | None] | None = None) -> None:
    """Submit ``raw`` to ``recipients`` from the account's address. Returns once accepted.

    Raises ``SendError`` (``permanent`` for a 5xx reply) or ``AuthError``.
    """
    if not recipients:
        raise SendError(f"{account.id}: the reply has no recipient", permanent=True)
    sender = parseaddr(account.email)[1] or account.email
    smtp = _client(account)
    try:
        await smtp.connect()
        if smtp.transport is not None:
            set_keepalive(smtp.transport.get_extra_info("socket"))
        await _login(smtp, account)
        await _transaction(smtp, sender, recipients, raw, before_data)
    except (AuthError, SendError):
        raise
    except (aiosmtplib.SMTPException, OSError, ssl.SSLError, TimeoutError) as exc:
        raise send_error(account, exc) from None
    finally:
        if smtp.is_connected:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError):
                smtp.close()
