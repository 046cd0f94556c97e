"""Secrets (keyring, password_command, env), OAuth for Google and Microsoft, XOAUTH2.

The IMAP and SMTP layers use ``credentials(account, kind)`` (``app.auth.credentials``) before each
login, and ``rejected``/``invalidate`` when the server refuses them.

The package imports nothing itself, so a command that only reads the keyring
(``app.auth.keyring_store``) does not load the OAuth libraries. The modules import one way:
credentials -> secrets -> oauth -> oauth_microsoft, oauth_google -> oauth_grant, keyring_store.
"""
