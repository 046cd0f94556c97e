"""The steps every side shares: DNS, TCP, the TLS mode against the port, TLS and certificate."""

from __future__ import annotations

import asyncio
import socket
import ssl
from dataclasses import dataclass, field

from app.auth.secrets import Kind
from app.config import Account, Endpoint
from app.doctor.hints import cert_hint, mode_hint
from app.errors import AccountConfigError
from app.tls import client_context, new_client_context

TIMEOUT = 10.0
PROBE_AFTER = 1.5
"""Seconds of silence after which a STARTTLS port is probed for implicit TLS."""


@dataclass
class Result:
    account: str
    side: str
    check: str
    status: str  # OK, WARN, FAIL
    detail: str
    hint: str | None = None

    def line(self, width: int = 0) -> str:
        hint = f" (hint: {self.hint})" if self.hint else ""
        return f"{self.account:<{width}}  {self.side:<4}  {self.check:<12} {self.status:<4}  {self.detail}{hint}"


class Failed(Exception):
    """A step failed; ends the checks of one side."""

    def __init__(self, check: str, detail: str, hint: str | None = None) -> None:
        super().__init__(detail)
        self.check, self.detail, self.hint = check, detail, hint


@dataclass
class Side:
    """One side's checks, recording a line per step."""

    account: Account
    name: Kind
    timeout: float
    results: list[Result] = field(default_factory=list)

    @property
    def endpoint(self) -> Endpoint:
        return self.account.imap if self.name == "imap" else self.account.smtp

    def ok(self, check: str, detail: str, status: str = "OK", hint: str | None = None) -> None:
        self.results.append(Result(self.account.id, self.name, check, status, detail, hint))


# --- connection steps shared by both protocols -----------------------------------------

async def resolve(side: Side) -> None:
    ep = side.endpoint
    try:
        infos = await asyncio.wait_for(
            asyncio.get_running_loop().getaddrinfo(ep.host, ep.port, type=socket.SOCK_STREAM), side.timeout)
    except (socket.gaierror, TimeoutError) as exc:
        reason = exc.strerror if isinstance(exc, socket.gaierror) else "timed out"
        raise Failed("dns", f"cannot resolve {ep.host}: {reason}",
                     f"check {side.name}.host; the provider's help pages name its servers") from None
    side.ok("dns", f"{ep.host} -> {', '.join(sorted({str(i[4][0]) for i in infos}))}")


async def connect(side: Side, *, tls: ssl.SSLContext | None = None,
                  check: str = "tcp") -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    ep = side.endpoint
    try:
        return await asyncio.wait_for(
            asyncio.open_connection(ep.host, ep.port, ssl=tls, server_hostname=ep.host if tls else None,
                                    ssl_handshake_timeout=side.timeout if tls else None), side.timeout)
    except ConnectionRefusedError:
        raise Failed(check, f"connection refused by {ep.host}:{ep.port}",
                     f"nothing listens on port {ep.port}: check {side.name}.port and that the server "
                     "runs, or a firewall rejects it") from None
    except TimeoutError:
        raise Failed(check, f"no answer from {ep.host}:{ep.port} in {side.timeout:.0f} s",
                     "blocked by a firewall, or the wrong host/port (many networks block outgoing "
                     "ports 25/465/587)") from None
    except ssl.SSLCertVerificationError as exc:
        raise _cert_failure(side, exc) from None
    except (ssl.SSLError, ConnectionResetError) as exc:
        reason = getattr(exc, "reason", None) or str(exc) or "the server closed the connection"
        raise Failed(check, f"TLS handshake failed: {reason}") from None
    except OSError as exc:
        raise Failed(check, f"cannot connect to {ep.host}:{ep.port}: {exc.strerror or exc}",
                     "check the network and the host name") from None


def _cert_failure(side: Side, exc: ssl.SSLCertVerificationError) -> Failed:
    message = getattr(exc, "verify_message", None) or str(exc)
    code = getattr(exc, "verify_code", None)
    return Failed("tls", f"certificate verify failed: {message}", cert_hint(code, side.endpoint))


async def close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    try:
        await asyncio.wait_for(writer.wait_closed(), 2)
    except (OSError, TimeoutError, ssl.SSLError):
        return


async def greeting(reader: asyncio.StreamReader, timeout: float) -> bytes | None:
    """The server's first line, or None when it says nothing (it waits for a TLS ClientHello)."""
    try:
        line = await asyncio.wait_for(reader.readline(), timeout)
    except (TimeoutError, ConnectionError):
        return None
    return line or None


async def plaintext_greeting(side: Side) -> bytes | None:
    """Does the port speak first in plaintext? (tells a STARTTLS port from an implicit TLS one)"""
    try:
        reader, writer = await connect(side)
    except Failed:
        return None
    try:
        return await greeting(reader, min(3.0, side.timeout))
    finally:
        await close(writer)


async def speaks_tls(side: Side, ctx: ssl.SSLContext) -> bool:
    try:
        _, writer = await connect(side, tls=ctx, check="tls")
    except Failed as failure:
        # a certificate problem still means the port speaks TLS
        return failure.detail.startswith("certificate")
    await close(writer)
    return True


async def legacy_tls_version(side: Side) -> str | None:
    """The TLS version a server that refused TLS 1.2+ speaks, learned by a handshake that still
    verifies the certificate and is closed at once, before any protocol byte."""
    ctx = new_client_context(side.endpoint.ca_file)  # loosened below: not the shared one
    ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    try:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        _, writer = await connect(side, tls=ctx, check="tls")
    except (Failed, ssl.SSLError):
        return None
    version = writer.get_extra_info("ssl_object").version()
    await close(writer)
    return version if version in ("TLSv1", "TLSv1.1", "SSLv3") else None


def describe_tls(writer: asyncio.StreamWriter) -> str:
    obj = writer.get_extra_info("ssl_object")
    cert = obj.getpeercert() or {}
    subject = dict(x[0] for x in cert.get("subject", ()))
    issuer = dict(x[0] for x in cert.get("issuer", ()))
    return (f"{obj.version()}, certificate for {subject.get('commonName', '?')} "
            f"from {issuer.get('organizationName') or issuer.get('commonName', '?')}, "
            f"valid until {cert.get('notAfter', '?')}")


async def open_secure(side: Side, speak: Protocol) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """TCP, then TLS as configured (implicit or STARTTLS); returns a verified TLS stream."""
    ep = side.endpoint
    reader, writer = await connect(side)
    side.ok("tcp", f"connected to {ep.host}:{ep.port}")
    try:
        ctx = client_context(ep.ca_file)
    except AccountConfigError as exc:
        raise Failed("tls", exc.message, exc.hint) from None
    if ep.security == "tls":
        await close(writer)
        try:
            reader, writer = await connect(side, tls=ctx, check="tls")
        except Failed as failure:
            if failure.check != "tls" or failure.detail.startswith("certificate"):
                raise
            if await plaintext_greeting(side):
                raise Failed("tls", f"port {ep.port} speaks plaintext first (a STARTTLS port), "
                                    "not implicit TLS", mode_hint(side.name, "starttls")) from None
            legacy = await legacy_tls_version(side)
            if legacy:
                raise Failed("tls", f"{failure.detail} (the server offers only {legacy})",
                             "replydesk requires TLS 1.2 or newer: the server must be upgraded") from None
            raise
        side.ok("tls", describe_tls(writer))
        return reader, writer
    # a server that stays silent may want a TLS ClientHello (implicit TLS port), or may just greet
    # late (some SMTP servers pause on purpose): probe TLS on a second connection meanwhile
    first = await greeting(reader, min(PROBE_AFTER, side.timeout))
    if first is None:
        if await speaks_tls(side, ctx):
            await close(writer)
            raise Failed("tls", f"port {ep.port} expects implicit TLS, not STARTTLS", mode_hint(side.name, "tls"))
        first = await greeting(reader, max(0.0, side.timeout - PROBE_AFTER))
    if first is None:
        await close(writer)
        raise Failed("tls", f"{ep.host}:{ep.port} sent no greeting in {side.timeout:.0f} s",
                     "the server is overloaded, or this port is not IMAP/SMTP")
    try:
        await speak.starttls(reader, writer, first)
        await asyncio.wait_for(writer.start_tls(ctx, server_hostname=ep.host), side.timeout)
    except ssl.SSLCertVerificationError as exc:
        await close(writer)
        raise _cert_failure(side, exc) from None
    except (ssl.SSLError, ConnectionError, TimeoutError) as exc:
        await close(writer)
        raise Failed("tls", f"STARTTLS handshake failed: {getattr(exc, 'reason', None) or exc}") from None
    side.ok("tls", "STARTTLS, " + describe_tls(writer))
    return reader, writer


class Protocol:
    """What ``open_secure`` needs from IMAP or SMTP: the STARTTLS exchange."""

    async def starttls(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, first: bytes) -> None:
        raise NotImplementedError
