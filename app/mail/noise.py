"""Mail that is not a prospect's reply: warmup, your own mailboxes' traffic, and bulk mail.

Decided before intent (``classify``), from what the caller knows about the user's setup: the
warmup tags and the user's own addresses come in a ``NoiseContext``; nothing here reads a config.

- ``warmup``: a configured tag (``group-broth``, ``A6133FE``) found as a whole token, in any
  case, in the subject, the new text or the quoted text. Warmup networks stamp every message
  with such a tag; a reply inside a warmup thread often carries it only in the quote.
- ``internal``: sent by one of the user's own mailboxes, or from a domain they declared theirs.
- ``bulk``: newsletters and notifications. Conservative: list headers alone do not make a
  message bulk (a prospect answering from a Google Group carries them); they must come with
  ``Precedence: bulk`` or a no-reply sender, and a message that answers another is bulk only
  when a no-reply address sent it. When in doubt it is a reply.

Tags are matched by tokenizing the text once (runs of letters, digits, ``-`` and ``_``) and
looking tokens up in a set: linear in the text, however many tags are configured.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from app.mail.thread import is_reply_subject
from app.mail.types import ParsedMessage

NOISE_KINDS = ("warmup", "internal", "bulk")
KINDS = ("reply", "bounce", "autoreply", *NOISE_KINDS)
"""Every kind of inbound message, as ``list --kind`` and the store name them."""

MAX_SCANNED = 200_000
"""Characters of each text searched for a tag; warmup tags sit near the top or the bottom of a
short message, and a huge body must not cost more than this."""
_TOKEN = re.compile(r"[\w-]+")
_EDGES = "-_"
_NOREPLY = re.compile(r"(?:no|do[-_.]?not)[-_.]?reply|notifications?|newsletters?|news|mailer")
_LIST_PRECEDENCE = ("bulk", "list", "junk")
# bounded on both sides of the "@": linear however long the text
_ADDRESS_OR_LINK = re.compile(r"[^\s@<>()\[\]]{1,64}@[^\s@<>()\[\]]{1,255}|\b(?:https?|ftp)://[^\s<>()]{1,2000}")


def tokens(text: str) -> list[str]:
    """The words of ``text`` as tag matching sees them: case-folded, hyphens and underscores kept
    inside a word (``group-broth`` is one token) and dropped at its edges."""
    return _folded_tokens(text[:MAX_SCANNED].casefold())


def _folded_tokens(folded: str) -> list[str]:
    out = []
    for m in _TOKEN.finditer(folded):
        word = m.group(0).strip(_EDGES)
        if word:
            out.append(word)
    return out


def tag_tokens(tag: str) -> tuple[str, ...]:
    """A configured tag as a token sequence (``"group broth"`` is two tokens, matched in a row)."""
    return tuple(tokens(tag))


@dataclass(frozen=True)
class NoiseContext:
    """What the classifier needs to know about the user's own setup."""

    warmup_tags: tuple[str, ...] = ()
    own_addresses: frozenset[str] = frozenset()
    """The user's mailboxes, lower-cased."""
    own_domains: frozenset[str] = frozenset()
    """Domains declared the user's own (``[general] own_domains``), lower-cased."""
    _first: dict[str, list[tuple[tuple[str, ...], str]]] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for tag in self.warmup_tags:
            seq = tag_tokens(tag)
            if seq:
                self._first.setdefault(seq[0], []).append((seq, tag))

    @classmethod
    def of(cls, warmup_tags: Iterable[str] = (), own_addresses: Iterable[str] = (),
           own_domains: Iterable[str] = ()) -> NoiseContext:
        return cls(tuple(dict.fromkeys(t.strip() for t in warmup_tags if t.strip())),
                   frozenset(a.strip().lower() for a in own_addresses if a.strip()),
                   frozenset(d.strip().lower().lstrip("@").rstrip(".") for d in own_domains if d.strip()))

    def find_tag(self, text: str) -> str | None:
        """The first configured tag that ``text`` contains as whole tokens, or None."""
        if not self._first or not text:
            return None
        folded = text[:MAX_SCANNED].casefold()
        # most mail carries no tag at all: a substring check of each tag's first word spares
        # tokenizing it
        if not any(first in folded for first in self._first):
            return None
        words = _folded_tokens(folded)
        for i, word in enumerate(words):
            for seq, tag in self._first.get(word, ()):
                if len(seq) == 1 or tuple(words[i:i + len(seq)]) == seq:
                    return tag
        return None


EMPTY = NoiseContext()


def warmup_reason(ctx: NoiseContext, subject: str, new_text: str, quoted_text: str) -> str | None:
    """Why this is warmup mail (which tag, where), or None."""
    for where, text in (("subject", subject), ("text", new_text), ("quoted text", quoted_text)):
        tag = ctx.find_tag(text)
        if tag is not None:
            return f"warmup tag {tag!r} in the {where}"
    return None


def internal_reason(ctx: NoiseContext, pm: ParsedMessage) -> str | None:
    sender = (pm.from_.email if pm.from_ else "").strip().lower()
    if not sender:
        return None
    if sender in ctx.own_addresses:
        return f"from your own mailbox {sender}"
    domain = sender.rsplit("@", 1)[-1]
    for own in ctx.own_domains:
        if domain == own or domain.endswith("." + own):
            return f"from your own domain {own}"
    return None


def bulk_reason(pm: ParsedMessage) -> str | None:
    """Newsletters and notifications, by their headers and sender; None when in doubt."""
    h = pm.headers
    sender = (pm.from_.email if pm.from_ else "").lower()
    local = sender.rsplit("@", 1)[0][:64]
    noreply = bool(local) and _NOREPLY.fullmatch(local.split("+", 1)[0]) is not None
    precedence = (h.get("precedence", "") or h.get("x-precedence", "")).strip().lower()
    listed = "list-id" in h or "list-unsubscribe" in h
    answers = bool(pm.in_reply_to or pm.references) or is_reply_subject(pm.subject)
    if answers and not noreply:
        return None  # someone answering, maybe through a group address: a reply
    header = "List-Id" if "list-id" in h else "List-Unsubscribe"
    if listed and precedence in _LIST_PRECEDENCE:
        return f"{header} with Precedence: {precedence}"
    if listed and noreply:
        return f"{header} from the no-reply address {sender}"
    if listed and "list-unsubscribe-post" in h:
        return "one-click List-Unsubscribe (a bulk sender's header)"
    if noreply and precedence in _LIST_PRECEDENCE:
        return f"Precedence: {precedence} from the no-reply address {sender}"
    return None


# -- learning a tag from the messages a user marked ------------------------------------------

LEARN_AFTER = 3
"""Marked messages needed before a tag is proposed."""
MAX_OTHERS_SHARE = 0.5
"""A token in more than this share of the other messages is a common word, not a tag."""


@dataclass(frozen=True)
class TagProposal:
    tag: str
    marked: int
    """Marked messages, all of which carry the tag."""
    others_with: int
    others: int
    """Other (unmarked) messages looked at, and how many carry the tag."""


def _tag_like(token: str) -> bool:
    if len(token) < 4 or len(token) > 100:
        return False
    return not (token.isdigit() and len(token) < 6)  # years, times and counts are everywhere


def propose_tag(marked: list[str], others: list[str], exclude: Iterable[str] = ()) -> TagProposal | None:
    """The token every marked text shares that looks most like a tag: code-like tokens (digits,
    hyphens) first, then the one the other texts carry least, then the longer; none when even
    that one is in more than half of the others (a common word). ``exclude``: tokens never
    proposed (the user's own addresses' parts, tags already configured or rejected). The other
    texts may well carry the tag too: warmup mail the user has not marked yet."""
    if len(marked) < LEARN_AFTER:
        return None
    skip = set(exclude)
    shared: set[str] | None = None
    for text in marked:
        # addresses and links are not tags, but one warmup partner's address is in every quote
        # of its thread ("On …, Friend <friend@net1.example> wrote:")
        text = _ADDRESS_OR_LINK.sub(" ", text[:MAX_SCANNED])
        words = {w for w in tokens(text) if _tag_like(w) and w not in skip}
        shared = words if shared is None else shared & words
        if not shared:
            return None
    assert shared is not None
    # warmup tags are codes (A6133FE) or hyphenated word pairs (group-broth); a plain word the
    # marked messages happen to share is only looked at when they share no such token
    code_like = [w for w in shared if any(ch.isdigit() for ch in w) or "-" in w or "_" in w]
    group = code_like or list(shared)
    counts = _carrying(group, others)
    best = min(group, key=lambda w: (counts[w], -len(w), w))
    total = len(others)
    if total and counts[best] > MAX_OTHERS_SHARE * total:
        return None
    return TagProposal(best, len(marked), counts[best], total)


def _carrying(words: list[str], texts: list[str]) -> dict[str, int]:
    """How many of ``texts`` carry each of ``words`` as a token. A text is tokenized only when
    one of the words is in it as a substring: codes are rare, so most texts cost one scan."""
    counts = dict.fromkeys(words, 0)
    for text in texts:
        folded = text[:MAX_SCANNED].casefold()
        present = [w for w in words if w in folded]
        if present:
            found = set(tokens(text))
            for w in present:
                counts[w] += w in found
    return counts
