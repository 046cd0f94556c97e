"""Thread keys: which messages belong to one conversation.

The root of the References chain names the conversation, then In-Reply-To. A message with
neither that still says "Re:" comes from a client that dropped the headers, so it is grouped by
its normalized subject and the person on the other side, which is the best guess left. A fresh
message is the root of its own thread.
"""

from __future__ import annotations

import re
from typing import Final

# Reply and forward prefixes in the languages we meet, with Outlook's "RE[2]:" counters and
# the "[EXT]"-style tags that gateways add before them.
_PREFIX: Final = re.compile(
    r"^\s*(?:\[[^\]]{0,30}\]\s*)?"
    r"(?:re|fw|fwd|aw|wg|sv|vs|tr|rv|res|enc|odp|pd|antw|doorst|ynt|r|回复|答复|转发|回覆|轉寄)"
    r"\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*",
    re.IGNORECASE,
)
_REPLY_PREFIX: Final = re.compile(
    r"^\s*(?:\[[^\]]{0,30}\]\s*)?(?:re|aw|sv|vs|rv|res|odp|antw|ynt|r|回复|答复|回覆)"
    r"\s*(?:\[\d+\]|\(\d+\))?\s*[:：]",
    re.IGNORECASE,
)


def strip_prefixes(subject: str) -> str:
    """The subject without the reply and forward prefixes stacked before it: "RE: AW: x" -> "x"."""
    text = subject or ""
    for _ in range(20):
        stripped = _PREFIX.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    return text.strip()


def normalize_subject(subject: str) -> str:
    """The subject without reply/forward prefixes, case-folded, whitespace collapsed."""
    return " ".join(strip_prefixes(subject).split()).casefold()


def is_reply_subject(subject: str) -> bool:
    """True when the subject starts with a reply prefix ("Re:", "AW:", "Odp:" …)."""
    return _REPLY_PREFIX.match(subject or "") is not None


_REPLY_MARK: Final = re.compile(r"(?:^|\s)(?:re|aw|sv|vs|antw|odp|r|fw|fwd|wg|tr|rv|res|enc)\s*(?:\[\d+\])?\s*:",
                                re.IGNORECASE)


def added_subject(subject: str) -> str:
    """The part of a subject the replying side wrote, not the subject it answers.

    "Automatic reply: Quick question" gives "Automatic reply", "[Ticket #4] Re: Quick question"
    gives "[Ticket #4]", "Re: Quick question" gives "". A subject with neither a reply mark nor
    a colon is taken whole.
    """
    text = subject or ""
    m = _REPLY_MARK.search(text)
    if m:
        return text[:m.start()].strip()
    head, colon, _ = text.partition(":")
    return head.strip() if colon else text.strip()


def thread_key(message_id: str | None, in_reply_to: str | None, references: list[str],
               subject: str, counterpart: str) -> str:
    """A stable key shared by every message of one conversation.

    ``counterpart`` is the other party: the sender of an incoming message, the first recipient
    of an outgoing one (``parse`` fills it with the sender, as it sees incoming mail).
    """
    if references:
        return references[0]
    if in_reply_to:
        return in_reply_to
    if message_id and not is_reply_subject(subject):
        return message_id
    return f"subject:{normalize_subject(subject)}|{counterpart.casefold()}"
