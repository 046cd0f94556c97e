"""Secrets (keyring, password_command, env), OAuth for Google and Microsoft, XOAUTH2.

The IMAP and SMTP layers use ``credentials(account, kind)`` before each login, and
``rejected``/``invalidate`` when the server refuses them.
"""

from app.auth.credentials import Credentials, credentials, invalidate, rejected
from app.auth.secrets import get_secret, set_secret
from app.auth.xoauth2 import xoauth2_string

__all__ = ["Credentials", "credentials", "invalidate", "rejected",
           "get_secret", "set_secret", "xoauth2_string"]
