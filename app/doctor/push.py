"""Does the server push? IDLE offered is not IDLE working: some servers push only once an option
or a daemon is set up, and replydesk then waits for its poll. The check changes nothing the user
sees: it creates a scratch folder in the personal namespace, IDLEs on it, APPENDs one message to
it from a second connection, waits up to ``PUSH_WAIT`` seconds for the server's ``EXISTS``, and
deletes the folder again."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from datetime import datetime, timezone
from email.utils import format_datetime

from app.auth.credentials import Credentials
from app.doctor.steps import Failed, Side, close, open_secure
from app.folders import ListEntry, Namespace, namespace_of, under_namespace

SCRATCH = "replydesk-doctor-"
PUSH_WAIT = 10.0
"""Seconds a pushed EXISTS may take after the test APPEND."""
EXISTS = re.compile(r"^\* \d{1,10} EXISTS", re.IGNORECASE)
NAMESPACE_LINE = re.compile(r'^\* NAMESPACE \(\("((?:[^"\\]|\\.){0,200})" (NIL|"(?:[^"\\]|\\.){0,8}")')


async def check_push(speak, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, caps: set[str],
                     entries: list[ListEntry], creds: Credentials) -> None:
    """One ``push`` line: OK with the delay, or WARN naming what does not work."""
    side: Side = speak.side
    wait = min(PUSH_WAIT, side.timeout)
    ns = await _namespace(speak, reader, writer, caps, entries)
    for leftover in [e.name for e in entries if SCRATCH in e.name]:  # from a run that was cut off
        await speak.command(reader, writer, f"DELETE {_quoted(leftover)}")
    scratch = under_namespace(f"{SCRATCH}{secrets.token_hex(4)}", ns)
    quoted = _quoted(scratch)
    status, text, _ = await speak.command(reader, writer, f"CREATE {quoted}")
    if status != "OK":
        side.ok("push", f"not tested: the server refused a scratch folder {scratch!r}: {text}", "WARN")
        return
    try:
        await _test(speak, reader, writer, side, quoted, wait, creds)
    finally:
        await speak.command(reader, writer, "UNSELECT" if "UNSELECT" in caps else "SELECT INBOX")
        await speak.command(reader, writer, f"DELETE {quoted}")


async def _test(speak, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, side: Side, quoted: str,
                wait: float, creds: Credentials) -> None:
    status, text, _ = await speak.command(reader, writer, f"SELECT {quoted}")
    if status != "OK":
        side.ok("push", f"not tested: SELECT of the scratch folder refused: {text}", "WARN")
        return
    speak.tag += 1
    tag = f"d{speak.tag}"
    writer.write(f"{tag} IDLE\r\n".encode())
    await writer.drain()
    while True:
        line = (await asyncio.wait_for(reader.readline(), side.timeout)).decode("utf-8", "replace")
        if line.startswith("+"):
            break
        if line.startswith(tag + " "):
            side.ok("push", f"IDLE is offered but refused: {line[len(tag) + 1:].strip()}", "WARN",
                    "new replies are found by polling (general.poll_interval_seconds)")
            return
    appended = await _append_elsewhere(side, quoted, creds)
    started = time.monotonic()
    pushed = False
    try:
        while (left := wait - (time.monotonic() - started)) > 0:
            line = (await asyncio.wait_for(reader.readline(), left)).decode("utf-8", "replace")
            if not line:
                raise ConnectionResetError("closed")
            if EXISTS.match(line):
                pushed = True
                break
    except TimeoutError:
        pass
    delay = time.monotonic() - started
    writer.write(b"DONE\r\n")
    await writer.drain()
    while not (await asyncio.wait_for(reader.readline(), side.timeout)).decode("utf-8", "replace").startswith(tag):
        pass
    side.ok("push", *verdict(appended, pushed, delay, wait))


def verdict(appended: bool, pushed: bool, delay: float, wait: float) -> tuple[str, str, str | None]:
    """(detail, status, hint) of the push check."""
    if not appended:
        return "not tested: the test APPEND from a second connection failed", "WARN", None
    if pushed:
        return f"new mail pushed {delay:.1f} s after a test APPEND (scratch folder created and removed)", "OK", None
    return (f"IDLE is offered, but no change was pushed within {wait:.0f} s of a test APPEND to a scratch folder "
            "(created and removed again)", "WARN",
            "new replies wait for the poll (general.poll_interval_seconds): the server's push must be set up "
            "(Courier: enhanced IDLE, IMAP_ENHANCEDIDLE=1 with FAM/inotify; Cyrus: the idled daemon)")


async def _append_elsewhere(side: Side, quoted: str, creds: Credentials) -> bool:
    """APPEND one small message to the scratch folder over a second connection, as a delivery
    would arrive. Its steps are not reported (the first connection's are)."""
    from app.doctor.protocols import ImapChecks, greeting

    other = Side(side.account, side.name, side.timeout)
    speak = ImapChecks(other)
    try:
        reader, writer = await open_secure(other, speak)
    except Failed:
        return False
    try:
        if side.endpoint.security == "tls":
            greeting(await reader.readline(), other)
        caps = await speak.capabilities(reader, writer)
        await speak.login(reader, writer, caps, sorted(c[5:] for c in caps if c.startswith("AUTH=")), creds)
        date = format_datetime(datetime.now(timezone.utc))
        message = (f"From: replydesk doctor <{side.account.email}>\r\nTo: {side.account.email}\r\n"
                   f"Subject: replydesk doctor push test\r\nDate: {date}\r\n\r\nA test of IMAP push; "
                   "this folder is deleted again.\r\n")
        status, _, _ = await speak.command(reader, writer, f"APPEND {quoted} (\\Seen) {{{len(message)}}}",
                                           [message])
        await speak.command(reader, writer, "LOGOUT")
        return status == "OK"
    except (Failed, ConnectionError, TimeoutError, asyncio.IncompleteReadError):
        return False
    finally:
        await close(writer)


async def _namespace(speak, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, caps: set[str],
                     entries: list[ListEntry]) -> Namespace:
    if "NAMESPACE" in caps:
        status, _, lines = await speak.command(reader, writer, "NAMESPACE")
        for line in lines if status == "OK" else []:
            m = NAMESPACE_LINE.match(line)
            if m:
                delim = None if m.group(2).upper() == "NIL" else m.group(2)[1:-1].replace("\\\\", "\\")
                return Namespace(m.group(1).replace('\\"', '"').replace("\\\\", "\\"), delim)
    return namespace_of(entries)


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
