"""Write the reply to a parsed message, as RFC 5322 bytes ready for SMTP. Pure.

Plain text in UTF-8 with format=flowed (RFC 3676): lines are wrapped near 76 characters with a
trailing space marking soft breaks, so clients that know flowed text re-join them and the rest
still see tidy lines. Long words (URLs) are never broken.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from datetime import datetime, timezone
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any

from app.mail.types import Address, ParsedMessage

WIDTH = 76

# Any run of reply/forward prefixes at the start: "Re: RE: AW: Fwd:" all go before one "Re:".
_PREFIXES = re.compile(
    r"^(?:\s*(?:\[[^\]]{0,30}\]\s*)?(?:re|aw|sv|vs|rv|res|odp|antw|r|wg|fw|fwd|tr|enc|pd)"
    r"\s*(?:\[\d+\]|\(\d+\))?\s*[:：])+\s*", re.IGNORECASE)


def reply_subject(subject: str) -> str:
    """``Re: <subject>`` with exactly one "Re:", whatever prefixes the original stacked."""
    stripped = _PREFIXES.sub("", subject or "").strip()
    return f"Re: {stripped}" if stripped else "Re:"


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
    msg.set_content(_flowed(_text(original, body, signature)), subtype="plain", charset="utf-8",
                    cte="quoted-printable")
    msg.set_param("format", "flowed")
    msg.set_param("delsp", "no")
    return message_id, msg.as_bytes()


def stored_original(row: Mapping[str, Any]) -> ParsedMessage:
    """The message to answer, from a message row of the store (what the outbox and the UI hold).

    The store keeps addresses without display names, except the sender's.
    """
    sent = row.get("sent_at")
    return ParsedMessage(
        message_id=row.get("message_id"), in_reply_to=row.get("in_reply_to"),
        references=list(row.get("refs") or []), subject=row.get("subject") or "",
        from_=Address(row.get("from_name") or "", row["from_addr"]) if row.get("from_addr") else None,
        to=[Address("", a) for a in row.get("to_addrs") or []],
        cc=[Address("", a) for a in row.get("cc_addrs") or []],
        reply_to=[Address("", a) for a in row.get("reply_to") or []],
        date=datetime.fromtimestamp(sent, timezone.utc) if sent is not None else None,
        text=row.get("body_text") or "", new_text=row.get("new_text") or "", quoted_text="",
        snippet=row.get("snippet") or "", attachments=[], size=row.get("size") or 0,
        thread_key=row.get("thread_key") or "")


def reply_recipients(original: ParsedMessage) -> list[Address]:
    """Reply-To where the sender set one, else From."""
    return list(original.reply_to) or ([original.from_] if original.from_ else [])


def _header_address(addr: Address) -> str:
    return str(HeaderAddress(display_name=addr.name or "", addr_spec=addr.email))


def _text(original: ParsedMessage, body: str, signature: str) -> str:
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
