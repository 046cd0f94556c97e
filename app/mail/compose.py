"""Write the reply to a parsed message, as RFC 5322 bytes ready for SMTP. Pure.

Plain text in UTF-8 with format=flowed (RFC 3676): lines are wrapped near 76 characters with a
trailing space marking soft breaks, so clients that know flowed text re-join them and the rest
still see tidy lines. Long words (URLs) are never broken.
"""

from __future__ import annotations

import email
import json
import re
import secrets
from collections.abc import Mapping
from datetime import datetime, timezone
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from app.mail.sanitize import safe_filename
from app.mail.thread import strip_prefixes
from app.mail.types import Address, Attachment, ParsedMessage

WIDTH = 76

def reply_subject(subject: str) -> str:
    """``Re: <subject>`` with exactly one "Re:", whatever prefixes the original stacked."""
    stripped = strip_prefixes(subject)
    return f"Re: {stripped}" if stripped else "Re:"


def reply_recipients(original: ParsedMessage) -> list[Address]:
    """Who a reply goes to: the Reply-To addresses, else the sender."""
    return list(original.reply_to) or ([original.from_] if original.from_ else [])


def stored_original(row: Mapping[str, object]) -> ParsedMessage:
    """A ParsedMessage rebuilt from a stored message row, enough to reply to it.

    The store keeps the parsed fields, not the raw bytes; list columns may still be JSON text.
    """
    def items(key: str) -> list[object]:
        value = row.get(key)
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return []
        return list(value) if isinstance(value, (list, tuple)) else []

    def text(key: str) -> str:
        value = row.get(key)
        return value if isinstance(value, str) else ""

    sender = text("from_addr")
    sent_at = row.get("sent_at")
    return ParsedMessage(
        message_id=text("message_id") or None, in_reply_to=text("in_reply_to") or None,
        references=[r for r in items("refs") if isinstance(r, str)], subject=text("subject"),
        from_=Address(text("from_name"), sender) if sender else None,
        to=[Address("", a) for a in items("to_addrs") if isinstance(a, str)],
        cc=[Address("", a) for a in items("cc_addrs") if isinstance(a, str)],
        reply_to=[Address("", a) for a in items("reply_to") if isinstance(a, str)],
        date=datetime.fromtimestamp(sent_at, timezone.utc) if isinstance(sent_at, (int, float)) else None,
        text=text("body_text"), new_text=text("new_text"), quoted_text="", snippet=text("snippet"),
        attachments=[], size=int(str(row.get("size") or 0)), thread_key=text("thread_key"),
    )


def build_reply(original: ParsedMessage, *, from_addr: Address, body: str, signature: str = "",
                domain: str, now: datetime | None = None) -> tuple[str, bytes]:
    """Return ``(message_id, message_bytes)`` for a reply to ``original`` from ``from_addr``."""
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    message_id = f"<{now.strftime('%Y%m%d%H%M%S')}.{secrets.token_hex(8)}@{domain}>"
    recipients = reply_recipients(original)

    msg = EmailMessage(policy=SMTP)
    msg["From"] = _header_address(from_addr)
    if recipients:
        msg["To"] = ", ".join(_header_address(a) for a in recipients)
    msg["Subject"] = reply_subject(original.subject)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id
    if original.message_id:
        msg["In-Reply-To"] = original.message_id
    references = [r for r in original.references if r != original.message_id]
    if original.message_id:
        references.append(original.message_id)
    if references:
        # Long chains are cut from the middle, keeping the root and the latest (RFC 5322 3.6.4).
        if len(references) > 20:
            references = references[:1] + references[-19:]
        msg["References"] = " ".join(references)
    msg["MIME-Version"] = "1.0"
    msg.set_content(_flowed(reply_text(original, body, signature)), subtype="plain", charset="utf-8",
                    cte="quoted-printable")
    msg.set_param("format", "flowed")
    msg.set_param("delsp", "no")
    return message_id, msg.as_bytes()


def forward_subject(subject: str) -> str:
    """``Fwd: <subject>`` with one "Fwd:", whatever "Re:"/"Fwd:" the original stacked."""
    stripped = strip_prefixes(subject)
    return f"Fwd: {stripped}" if stripped else "Fwd:"


def forward_text(original: ParsedMessage, body: str = "", signature: str = "") -> str:
    """The whole text of a forward before wrapping: body, signature, then the original under a
    "Forwarded message" line with its From, Date, Subject, To and Cc, as mail apps forward."""
    parts = [body.rstrip()]
    if signature.strip():
        parts.append("-- \n" + signature.strip("\n"))
    head = ["---------- Forwarded message ---------",
            f"From: {original.from_ if original.from_ else '(unknown)'}"]
    if original.date:
        head.append(f"Date: {original.date.strftime('%a, %d %b %Y at %H:%M')}")
    head.append(f"Subject: {original.subject}")
    if original.to:
        head.append(f"To: {', '.join(str(a) for a in original.to)}")
    if original.cc:
        head.append(f"Cc: {', '.join(str(a) for a in original.cc)}")
    parts.append("\n".join(head) + "\n\n" + original.text.strip("\n"))
    return "\n\n".join(parts) + "\n"


def build_forward(original: ParsedMessage, *, from_addr: Address, to: list[Address], body: str,
                  domain: str, now: datetime | None = None) -> tuple[str, bytes]:
    """``(message_id, message_bytes)`` forwarding ``original`` to ``to``; ``body`` is the whole
    text (``forward_text``'s, as edited). A new thread for its recipients: no In-Reply-To."""
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    message_id = f"<{now.strftime('%Y%m%d%H%M%S')}.{secrets.token_hex(8)}@{domain}>"
    msg = EmailMessage(policy=SMTP)
    msg["From"] = _header_address(from_addr)
    msg["To"] = ", ".join(_header_address(a) for a in to)
    msg["Subject"] = forward_subject(original.subject)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id
    msg["MIME-Version"] = "1.0"
    msg.set_content(_flowed(body if body.endswith("\n") else body + "\n"), subtype="plain", charset="utf-8",
                    cte="quoted-printable")
    msg.set_param("format", "flowed")
    msg.set_param("delsp", "no")
    return message_id, msg.as_bytes()


def with_attachments(raw: bytes, parts: list[tuple[Attachment, bytes]]) -> bytes:
    """``raw`` (a message this module built) with ``parts`` attached after its text, each under
    a safe file name; an attached message goes as a ``.eml`` file."""
    msg = email.message_from_bytes(raw, policy=SMTP)
    assert isinstance(msg, EmailMessage)
    for attachment, data in parts:
        maintype, _, subtype = attachment.content_type.partition("/")
        if maintype in ("message", "multipart") or not subtype:
            maintype, subtype = "application", "octet-stream"
        msg.add_attachment(data, maintype=maintype, subtype=subtype,
                           filename=safe_filename(attachment.filename, "attachment.bin"))
    return msg.as_bytes()


def _header_address(addr: Address) -> str:
    return str(HeaderAddress(display_name=addr.name or "", addr_spec=addr.email))


def reply_text(original: ParsedMessage, body: str = "", signature: str = "") -> str:
    """The whole text of a reply before wrapping: body, signature after "-- ", attribution
    line and quote.

    The compose screen lets the user edit all of it, then passes it to ``build_reply`` as the
    body, with no signature and an original whose text is empty, so nothing is added twice.
    """
    parts = [body.rstrip()]
    if signature.strip():
        parts.append("-- \n" + signature.strip("\n"))
    quoted = original.text.strip("\n")
    if quoted:
        parts.append(_attribution(original) + "\n" + "\n".join(
            "> " + line if line and not line.startswith(">") else ">" + line
            for line in quoted.split("\n")))
    return "\n\n".join(parts) + "\n"


def _attribution(original: ParsedMessage) -> str:
    who = original.from_.name or original.from_.email if original.from_ else "someone"
    if original.date:
        when = original.date.strftime("%a, %d %b %Y at %H:%M")
        return f"On {when}, {who} wrote:"
    return f"{who} wrote:"


def _flowed(text: str) -> str:
    """RFC 3676 format=flowed: soft breaks end in a space; the signature line stays "-- "."""
    out: list[str] = []
    for line in text.split("\n"):
        if line == "-- ":
            out.append(line)
            continue
        line = line.rstrip(" ")
        quote = re.match(r"^>+ ?", line)
        prefix = quote.group(0) if quote else ""
        content = line[len(prefix):]
        if not prefix and (content.startswith((" ", ">")) or content.startswith("From ")):
            content = " " + content  # space-stuffing (RFC 3676 4.4)
        out.extend(_wrap(prefix, content))
    return "\n".join(out)


def _wrap(prefix: str, content: str) -> list[str]:
    if len(prefix) + len(content) <= WIDTH:
        return [prefix + content]
    lines, current = [], ""
    for word in re.split(r"(?<= )", content):
        if current and len(prefix) + len(current) + len(word.rstrip()) > WIDTH:
            lines.append(prefix + current)  # ends in a space: a soft break
            current = ""
        current += word
    lines.append(prefix + current.rstrip(" "))
    return lines
