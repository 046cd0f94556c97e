"""The one way replydesk makes a client TLS context, for IMAP, SMTP and the doctor alike.

The system's trust store plus the account's ``ca_file`` (for self-signed servers), certificate
and host name always verified, TLS 1.2 at least.
"""

from __future__ import annotations

import ssl
from functools import lru_cache
from pathlib import Path

from app.errors import AccountConfigError


@lru_cache(maxsize=64)
def client_context(ca_file: Path | None) -> ssl.SSLContext:
    """Cached per CA file: 500 connections share one context (and one copy of the trust store).
    Shared, so never to be changed: ``new_client_context`` gives one of your own."""
    return new_client_context(ca_file)


def new_client_context(ca_file: Path | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca_file is not None:
        try:
            ctx.load_verify_locations(cafile=str(ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise AccountConfigError(f"cannot load ca_file {ca_file}: {exc}",
                                     "point ca_file at a PEM certificate") from None
    return ctx
