"""The usual cause of each failure, worded as what to change."""

from __future__ import annotations

from app.auth.oauth_grant import reauth_command
from app.config import Account, Endpoint

# OpenSSL X509 verify codes
_SELF_SIGNED = {18, 19}
_UNKNOWN_ISSUER = {2, 20, 21}
_EXPIRED = {10}
_NOT_YET_VALID = {9}
_HOSTNAME_MISMATCH = {62, 64}


def mode_hint(side: str, should: str) -> str:
    """The port speaks the other TLS mode than the one configured."""
    if should == "starttls":
        port = 993 if side == "imap" else 465
        return f'set {side}.security = "starttls" for this port, or use port {port} for implicit TLS'
    port = 143 if side == "imap" else 587
    return f'set {side}.security = "tls" for this port, or use port {port} for STARTTLS'


def cert_hint(code: int | None, endpoint: Endpoint) -> str | None:
    if code in _SELF_SIGNED:
        if endpoint.ca_file:
            return f"the ca_file {endpoint.ca_file} did not sign this certificate: point ca_file at the server's"
        return "set ca_file for a self-signed server"
    if code in _UNKNOWN_ISSUER:
        return "its issuer is not trusted here: set ca_file to the issuing CA's certificate"
    if code in _EXPIRED:
        return "the server's certificate expired: its administrator must renew it"
    if code in _NOT_YET_VALID:
        return "the certificate is not valid yet: check this machine's clock"
    if code in _HOSTNAME_MISMATCH:
        return f"the certificate does not name {endpoint.host}: use the host name it was issued for"
    return None


def login_hint(account: Account, side: str, server_text: str) -> str | None:
    """A hint from the server's own words, where they tell the cause."""
    text = server_text.lower()
    if "application-specific password" in text or "5.7.9" in text or "invalidsecondfactor" in text:
        return 'Google needs an app password (with 2-Step Verification on), or auth = "oauth2"'
    if ("imap" in text and ("disabled" in text or "not enabled" in text)) or "web login required" in text:
        return ("IMAP is not enabled for this mailbox: turn it on (Gmail: Settings > Forwarding and POP/IMAP; "
                "Microsoft 365: admin center > user > Mail > Manage email apps)")
    if "smtpclientauthentication is disabled" in text or "5.7.139" in text:
        return ("SMTP AUTH is disabled for this mailbox or tenant: enable Authenticated SMTP in the "
                'Microsoft 365 admin center, or use auth = "oauth2"')
    if "basic authentication" in text or "logondenied" in text:
        return ('basic auth is disabled (Microsoft 365): set auth = "oauth2" and run '
                f"{reauth_command(account)}")
    return None
