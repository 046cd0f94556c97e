"""Plain data that flows out of ``app.mail``: what a message says, and what it is."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class Address:
    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email

    def __reduce__(self) -> tuple[type[Address], tuple[str, str]]:
        # pickled as the call that makes it: a parse worker's answers carry two to four a
        # message, each written in 0.27 µs instead of 0.47 (read back in about the same time)
        return (Address, (self.name, self.email))


@dataclass(frozen=True)
class Invite:
    """A calendar invitation's event, as the thread shows it (sanitized one-line values)."""

    title: str
    start: str
    """ISO 8601: a date for a whole day, a time with its offset, or a clock time without one
    (floating, or in ``tz``); empty when unreadable."""
    all_day: bool = False
    tz: str = ""
    """The zone ``start`` is in when Python does not know it (Outlook's Windows names)."""
    organizer: str = ""
    location: str = ""
    method: str = ""
    """REQUEST (an invitation), CANCEL, REPLY (an answer to one) …"""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    truncated: bool = False
    """Cut where the fetch stopped (a message larger than the fetch limit): ``size`` is only what
    arrived, the attachment itself is larger."""
    invite: Invite | None = None
    """For a calendar part: the event it carries."""


@dataclass
class ParsedMessage:
    """A message as replydesk understands it. All text is already sanitized for a terminal."""

    message_id: str | None
    in_reply_to: str | None
    references: list[str]
    subject: str
    from_: Address | None
    to: list[Address]
    cc: list[Address]
    reply_to: list[Address]
    date: datetime | None
    text: str
    """The best text body (text/plain first, else HTML converted)."""
    new_text: str
    """The part of ``text`` the sender wrote now, without the quoted history."""
    quoted_text: str
    snippet: str
    attachments: list[Attachment]
    size: int
    thread_key: str
    headers: dict[str, str] = field(default_factory=dict)
    """Lower-cased header names -> decoded values, for the headers classification reads. (A parse
    worker sends them back to the engine with a bounce only, and ``quoted_text`` and
    ``structure`` not at all: ``app.imap.parsework._for_the_engine``.)"""
    defects: list[str] = field(default_factory=list)
    raw: bytes = field(default=b"", repr=False)
    structure: str = ""
    """The MIME tree as content types, e.g. ``multipart/mixed(text/plain,image/png)``."""
    library_tree: Any = field(default=None, init=False, repr=False, compare=False)
    """The standard library's compat32 Message tree of ``raw``, where ``parse`` could put it
    together from the parts it read (bounce reading walks it instead of parsing ``raw`` again).
    Not copied by ``dataclasses.replace`` nor pickled."""

    def __getstate__(self) -> dict[str, Any]:
        if self.library_tree is None:  # (a parse worker's answers: no copy made)
            return self.__dict__
        state = dict(self.__dict__)
        state["library_tree"] = None
        return state


@dataclass(frozen=True)
class BounceRecipient:
    address: str
    status: str | None
    """RFC 3463 status code such as ``5.1.1``, where known."""
    hard: bool
    diagnostic: str | None = None
    """The receiving server's words (Diagnostic-Code, or the notice's line with the status)."""
    reason: str = "other"
    """Why, from one taxonomy (``app.mail.bounce_reason.REASONS``): ``user_unknown``,
    ``mailbox_full``, ``spam_detected`` …; ``complaint`` for an abuse report."""


@dataclass
class Classification:
    kind: str
    """``reply`` (a person answering), ``bounce``, ``complaint`` (an abuse report), ``autoreply``,
    or noise: ``warmup``, ``internal`` (from the user's own mailboxes), ``bulk`` (newsletters,
    notifications)."""
    category: str
    """``interested``, ``meeting``, ``not_interested``, ``unsubscribe``, ``wrong_person``,
    ``out_of_office``, ``bounce``, ``auto_reply`` or ``uncategorized``; noise carries its kind
    (``warmup``, ``internal``, ``bulk``)."""
    confidence: float
    reasons: list[str]
    bounce_recipients: list[BounceRecipient] = field(default_factory=list)
    ooo_until: date | None = None
    referral: str | None = None
    """For ``wrong_person``: the address the sender pointed us to."""


CATEGORIES = ("interested", "meeting", "not_interested", "unsubscribe", "wrong_person",
              "out_of_office", "bounce", "complaint", "auto_reply", "uncategorized")
