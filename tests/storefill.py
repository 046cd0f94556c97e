"""Building store rows without a server: hand-made parsed messages for store and UI tests."""

from __future__ import annotations

from datetime import datetime, timezone

from app.mail.types import Address, BounceRecipient, Classification, ParsedMessage
from app.store import IncomingMessage


def parsed(message_id: str, subject: str, sender: str, *, text: str = "hello", name: str = "",
           in_reply_to: str | None = None, references: list[str] | None = None,
           to: str = "me@sender.example", date: datetime | None = None) -> ParsedMessage:
    refs = references if references is not None else ([in_reply_to] if in_reply_to else [])
    return ParsedMessage(
        message_id=message_id, in_reply_to=in_reply_to, references=refs, subject=subject,
        from_=Address(name, sender), to=[Address("", to)], cc=[], reply_to=[],
        date=date or datetime.now(timezone.utc), text=text, new_text=text, quoted_text="",
        snippet=text[:80], attachments=[], size=len(text), thread_key=refs[0] if refs else message_id)


def incoming(uid: int, message_id: str, subject: str, sender: str, *, folder: str = "INBOX",
             uidvalidity: int = 1, kind: str = "reply", category: str = "uncategorized",
             bounces: list[BounceRecipient] | None = None, direction: str = "in",
             flags: frozenset[str] = frozenset(), received_at: float | None = None,
             **kw) -> IncomingMessage:
    cls = None if direction == "out" else Classification(kind, category, 0.9, [f"test: {category}"],
                                                         bounces or [])
    return IncomingMessage(folder, uidvalidity, uid, parsed(message_id, subject, sender, **kw), cls,
                           flags=flags, received_at=received_at, direction=direction)
