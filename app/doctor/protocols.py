"""IMAP and SMTP spoken just far enough to check them: greeting, capabilities, login, folders."""

from __future__ import annotations

import asyncio
import base64
import re

from app.auth.credentials import Credentials, credentials, password_hint, rejected
from app.auth.xoauth2 import xoauth2_string
from app.config import PRESETS
from app.doctor.hints import login_hint
from app.doctor.push import check_push
from app.doctor.steps import Failed, Protocol, Side
from app.errors import ReplydeskError
from app.folders import ROLES, SPECIAL_USE, ListEntry, assign_roles

LITERAL = re.compile(rb"\{(\d+)\}\r?\n$")
LIST_LINE = re.compile(r'^\* LIST \(([^)]*)\) ("(?:[^"\\]|\\.){0,4}"|NIL) (.*)$', re.IGNORECASE)


async def login_secret(side: Side, check: str) -> Credentials:
    try:
        return await credentials(side.account, side.name)
    except ReplydeskError as exc:
        raise Failed(check, f"no secret: {exc.message}", exc.hint) from None


def login_failure(side: Side, check: str, server_text: str) -> Failed:
    err = rejected(side.account, side.name, server_text)
    return Failed(check, err.message.split(": ", 1)[-1],
                  login_hint(side.account, side.name, server_text) or err.hint)


def sasl_initial(creds: Credentials) -> tuple[str, str]:
    """(mechanism, base64 initial response) for the account's credentials."""
    if creds.mechanism == "xoauth2":
        return "XOAUTH2", xoauth2_string(creds.username, creds.secret)
    return "PLAIN", base64.b64encode(f"\0{creds.username}\0{creds.secret}".encode()).decode()


def _text(line: bytes) -> str:
    return line.decode("utf-8", "replace").strip()


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapChecks(Protocol):
    def __init__(self, side: Side) -> None:
        self.side = side
        self.tag = 0

    async def command(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, line: str,
                      answers: list[str] | None = None) -> tuple[str, str, list[str]]:
        """Send one command; returns (status, text, untagged lines). ``answers`` go to ``+`` requests;
        with none left, an empty line ends a SASL exchange (the server's error challenge)."""
        self.tag += 1
        tag = f"d{self.tag}"
        writer.write(f"{tag} {line}\r\n".encode())
        await writer.drain()
        answers = list(answers or [])
        untagged: list[str] = []
        while True:
            raw = await reader.readline()
            if not raw:
                raise ConnectionResetError("closed")
            while (m := LITERAL.search(raw)):
                raw = raw[:m.start()] + b'"' + await reader.readexactly(int(m.group(1))) + b'"' + \
                    await reader.readline()
            text = _text(raw)
            if text.startswith(tag + " "):
                status, _, rest = text[len(tag) + 1:].partition(" ")
                return status.upper(), rest, untagged
            if text.startswith("+"):
                writer.write((answers.pop(0) if answers else "").encode() + b"\r\n")
                await writer.drain()
            else:
                untagged.append(text)

    async def capabilities(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> set[str]:
        status, text, lines = await self.command(reader, writer, "CAPABILITY")
        caps = {w.upper() for line in lines if line.upper().startswith("* CAPABILITY")
                for w in line.split()[2:]}
        if status != "OK":
            raise Failed("capabilities", f"CAPABILITY refused: {text}")
        return caps

    async def starttls(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, first: bytes) -> None:
        greeting(first, self.side)
        caps = await self.capabilities(reader, writer)
        if "STARTTLS" not in caps:
            raise Failed("tls", f"the server offers no STARTTLS on port {self.side.endpoint.port}",
                         'use security = "tls" with port 993')
        status, text, _ = await self.command(reader, writer, "STARTTLS")
        if status != "OK":
            raise Failed("tls", f"STARTTLS refused: {text}")

    async def run(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, implicit: bool) -> None:
        side = self.side
        if implicit:
            greeting(await reader.readline(), side)
        caps = await self.capabilities(reader, writer)
        creds = await login_secret(side, "login")
        mechanisms = sorted(c[5:] for c in caps if c.startswith("AUTH="))
        detail = f"AUTH={' '.join(mechanisms) or '-'}" + (", SASL-IR" if "SASL-IR" in caps else "")
        if creds.mechanism == "xoauth2" and "XOAUTH2" not in mechanisms:
            raise Failed("capabilities", f"{detail}: no XOAUTH2", "this server does not take OAuth tokens")
        if creds.mechanism == "password" and "LOGINDISABLED" in caps:
            raise Failed("capabilities", f"{detail}: LOGINDISABLED", "the server refuses passwords here")
        side.ok("capabilities", detail)
        if creds.mechanism == "password" and not PRESETS[side.account.provider].password_imap:
            # a refused login would only add to the account's failed-login count
            raise Failed("login", "Microsoft 365 takes no password for IMAP: basic auth is gone",
                         password_hint(side.account, "imap"))
        await self.login(reader, writer, caps, mechanisms, creds)
        # servers announce their full list only to a logged-in client
        caps = await self.capabilities(reader, writer)
        found = [c for c in ("IDLE", "SPECIAL-USE", "CONDSTORE", "QRESYNC", "MOVE", "UIDPLUS") if c in caps]
        detail = ", ".join(found) or "none of IDLE, SPECIAL-USE, MOVE"
        if "IDLE" in caps:
            side.ok("extensions", detail)
        else:
            side.ok("extensions", detail, "WARN", "no IDLE: new replies are found by polling, not pushed")
        entries = await self.folders(reader, writer)
        if "IDLE" in caps:
            await check_push(self, reader, writer, caps, entries, creds)
        await self.command(reader, writer, "LOGOUT")

    async def login(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, caps: set[str],
                    mechanisms: list[str], creds: Credentials) -> None:
        mechanism, initial = sasl_initial(creds)
        if mechanism == "PLAIN" and "PLAIN" not in mechanisms:
            status, text, _ = await self.command(
                reader, writer, f"LOGIN {_quoted(creds.username)} {_quoted(creds.secret)}")
        elif "SASL-IR" in caps:
            status, text, _ = await self.command(reader, writer, f"AUTHENTICATE {mechanism} {initial}")
        else:
            status, text, _ = await self.command(reader, writer, f"AUTHENTICATE {mechanism}", [initial])
        if status != "OK":
            raise login_failure(self.side, "login", text)
        self.side.ok("login", f"logged in as {creds.username} ({mechanism if mechanism != 'PLAIN' else 'password'})")

    async def folders(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> list[ListEntry]:
        """The special folders as the engine will find them (``app.folders``, the same finder)."""
        status, text, lines = await self.command(reader, writer, 'LIST "" "*"')
        if status != "OK":
            raise Failed("folders", f"LIST refused: {text}")
        entries = [entry for line in lines if (entry := _list_entry(line)) is not None]
        roles = assign_roles(entries, self.side.account.folders)
        special = {role: e.name for e in entries for a in e.attributes
                   if (role := SPECIAL_USE.get(a)) in ROLES}
        found = "; ".join(f"{role}={roles[role]!r}" for role in ROLES[1:] if role in roles)
        sent = roles.get("sent")
        if sent is None:
            wanted = self.side.account.folders.get("sent", "Sent")
            self.side.ok("folders", f"no Sent folder among {len(entries)} ({found or 'none of Sent, Junk, Archive'})",
                         "WARN", f'set folders.sent to the Sent folder\'s name (looked for "{wanted}" and the '
                                 "common names, also below INBOX)")
        else:
            how = "special-use" if special.get("sent") == sent else "by name"
            self.side.ok("folders", f"Sent folder {sent!r} ({how}); {len(entries)} folders; {found}")
        return entries


def _list_entry(line: str) -> ListEntry | None:
    m = LIST_LINE.match(line)
    if not m:
        return None
    name = m.group(3).strip()
    name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\") if name.startswith('"') else name
    delim = None if m.group(2).upper() == "NIL" else m.group(2)[1:-1].replace("\\\\", "\\")
    return ListEntry(name, frozenset(a.lower() for a in m.group(1).split()), delim)


def greeting(line: bytes, side: Side) -> None:
    text = _text(line)
    if not text.upper().startswith("* OK") and not text.upper().startswith("* PREAUTH"):
        raise Failed("tls" if not text else "capabilities", f"unexpected IMAP greeting: {text[:80]!r}",
                     "this port may not be IMAP")


class SmtpChecks(Protocol):
    def __init__(self, side: Side) -> None:
        self.side = side

    @staticmethod
    async def reply(reader: asyncio.StreamReader, first: bytes | None = None) -> tuple[int, str]:
        lines: list[str] = []
        raw = first
        while True:
            if raw is None:
                raw = await reader.readline()
            if not raw:
                raise ConnectionResetError("closed")
            text = _text(raw)
            lines.append(text[4:])
            if len(text) < 4 or text[3] != "-":
                try:
                    return int(text[:3]), "\n".join(lines)
                except ValueError:
                    raise Failed("capabilities", f"not an SMTP reply: {text[:80]!r}",
                                 "this port may not be SMTP") from None
            raw = None

    async def command(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                      line: str) -> tuple[int, str]:
        writer.write(line.encode() + b"\r\n")
        await writer.drain()
        return await self.reply(reader)

    async def ehlo(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> dict[str, str]:
        code, text = await self.command(reader, writer, "EHLO replydesk.localhost")
        if code != 250:
            raise Failed("capabilities", f"EHLO refused: {code} {text}")
        ext = {}
        for line in text.splitlines()[1:]:
            key, _, value = line.partition(" ")
            ext[key.upper()] = value
        return ext

    async def starttls(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, first: bytes) -> None:
        code, text = await self.reply(reader, first)
        if code != 220:
            raise Failed("tls", f"the server refuses connections: {code} {text}")
        if "STARTTLS" not in await self.ehlo(reader, writer):
            raise Failed("tls", f"the server offers no STARTTLS on port {self.side.endpoint.port}",
                         'use security = "tls" with port 465')
        code, text = await self.command(reader, writer, "STARTTLS")
        if code != 220:
            raise Failed("tls", f"STARTTLS refused: {code} {text}")

    async def run(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, implicit: bool) -> None:
        side = self.side
        if implicit:
            code, text = await self.reply(reader)
            if code != 220:
                raise Failed("capabilities", f"the server refuses connections: {code} {text}")
        ext = await self.ehlo(reader, writer)
        mechanisms = ext.get("AUTH", "").upper().split()
        if not mechanisms:
            raise Failed("capabilities", "the server offers no AUTH",
                         "a relay port (25), not submission: use port 587 or 465")
        creds = await login_secret(side, "auth")
        if creds.mechanism == "xoauth2" and "XOAUTH2" not in mechanisms:
            raise Failed("capabilities", f"AUTH {' '.join(mechanisms)}: no XOAUTH2",
                         "this server does not take OAuth tokens")
        size = f", SIZE {ext['SIZE']}" if ext.get("SIZE") else ""
        side.ok("capabilities", f"AUTH {' '.join(mechanisms)}{size}")
        mechanism, initial = sasl_initial(creds)
        if mechanism == "PLAIN" and "PLAIN" not in mechanisms and "LOGIN" in mechanisms:
            code, text = await self.command(reader, writer, "AUTH LOGIN")
            for answer in (creds.username, creds.secret):
                if code != 334:
                    break
                code, text = await self.command(reader, writer, base64.b64encode(answer.encode()).decode())
        else:
            code, text = await self.command(reader, writer, f"AUTH {mechanism} {initial}")
            if code == 334:  # an error challenge (XOAUTH2): an empty answer gets the final reply
                code, text = await self.command(reader, writer, "")
        if code != 235:
            raise login_failure(side, "auth", f"{code} {text}")
        side.ok("auth", f"authenticated as {creds.username} ({mechanism if mechanism != 'PLAIN' else 'password'})")
        await self.command(reader, writer, "QUIT")
