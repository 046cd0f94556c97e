"""Who bounced, when the delivery-status part does not say.

The fallbacks, in the order ``bounce.analyze`` tries them: recipient fields written as text
(``Original-Recipient``, ``X-Original-To``), addresses on the diagnostic lines of the notice
(next to a status code or "could not be delivered to" wording, in many languages), and the To
and Cc of the returned message (a ``message/rfc822`` or ``text/rfc822-headers`` part, or an
inline "original message follows" section). The sending mailbox itself (the bounce's To, the
returned message's From) and the mail system's own addresses are never a failed recipient.

Text is read line by line with every line capped, so each pattern sees a bounded string.
"""

from __future__ import annotations

import email.message
import re
from collections.abc import Callable, Iterable
from email.parser import HeaderParser

from app.mail.caseless import Caseless
from app.mail.headers import decode_header, parse_addresses
from app.mail.mime import plain_headers

SentTo = Callable[[str], bool]
"""Whether the mailbox sent mail to an address (from its synced Sent folder)."""

LINE_CAP = 400
TEXT_CAP = 30000
MAX_LINES = 600

_SYSTEM = re.compile(r"(?:mailer-?daemon|postmaster|mail-daemon|mdaemon|bounces?)(?:[+=-][^@]{0,80})?@",
                     re.IGNORECASE)
# Letters beyond ASCII are allowed: internationalized addresses (RFC 6531) bounce too.
_ADDRESS = re.compile(r"[\w!#$%&'*+/=?^`{|}~.-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
_STATUS_CUE = re.compile(r"(?<![\d.])[245]\.\d{1,3}\.\d{1,3}(?![\d.])|(?<![\d.])[45]\d\d(?=[\s-])")
# Wording that introduces or describes a failed address, in the languages mail systems use.
_CUE = re.compile(
    r"deliver|recipient|rcpt to|failed|failure|undeliverable|rejected|unknown|not (?:found|listed)|"
    r"does not exist|doesn't exist|no such|mailbox|user|address(?:es)?\b|bounced|returned|"
    r"could not|couldn't|unable|error|permanent|temporar|delayed|"
    r"zustell|empfänger|adressat|fehlgeschlagen|unbekannt|destinataire|remis|distribu|"
    r"destinatario|entreg|consegn|recapit|ontvanger|bezorg|odbiorc|dostarcz|получател|доставлен|"
    r"адрес|宛先|配信|送信できません|届きません|届け|受信者|收件人|投递|수신자",
    re.IGNORECASE)
_FIELD = re.compile(r"^\s{0,8}(?:original-recipient|x-original-to|original-rcpt-to|"
                    r"x-actual-recipient|final-recipient)\s{0,4}:\s{0,4}(?:rfc822\s{0,4};)?\s{0,4}"
                    r"<?([^\s<>;]{1,200}@[^\s<>;]{1,200})>?", re.IGNORECASE)
_MARKER = Caseless(
    r"original message|unsent message|returned message|undelivered message|rejected message|"
    r"copy of (?:the |your )?(?:original )?message|message (?:text )?follows|headers? follow|"
    r"message headers|headers? of the (?:original|source|returned)|original headers|source mail|"
    r"ursprüngliche nachricht|message d'origine|message original|mensaje original|"
    r"messaggio originale|mensagem original|oorspronkelijk bericht|исходное сообщение|"
    r"元のメッセージ|原始邮件|原始郵件")
_HEADER_LINE = re.compile(r"^([!-9;-~]{1,60}):[ \t]")
_HEADER_LINES = re.compile(_HEADER_LINE.pattern, re.MULTILINE)
_KNOWN_HEADERS = {"return-path", "received", "message-id", "from", "to", "cc", "subject", "date",
                  "mime-version", "content-type", "x-mailer", "reply-to", "dkim-signature"}


def valid_address(addr: str) -> bool:
    local, _, domain = addr.rpartition("@")
    return bool(local and domain and "." in domain and ".." not in addr
                and not local.startswith(".") and not local.endswith(".")
                and _ADDRESS.fullmatch(addr) is not None)


def clean_address(addr: str) -> str:
    """``<User@Host>``, ``rfc822; user@host`` -> ``User@host``."""
    addr = addr.strip().strip("<>\"' ;,")
    if ";" in addr:  # "rfc822; user@host"
        addr = addr.split(";", 1)[1].strip().strip("<>\"' ")
    local, _, domain = addr.rpartition("@")
    return f"{local}@{domain.lower()}" if local else addr


def is_system(addr: str) -> bool:
    return _SYSTEM.match(addr) is not None


def text_lines(text: str) -> list[str]:
    return [line[:LINE_CAP] for line in text[:TEXT_CAP].splitlines()[:MAX_LINES]]


def returned_part(parts: Iterable[email.message.Message]) -> email.message.Message | None:
    """The headers of the returned message where the notice carries it as a part of its own."""
    for part in parts:
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], email.message.Message):
                return payload[0]
        elif ctype in ("text/rfc822-headers", "message/global-headers", "message/rfc822-headers"):
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                return HeaderParser().parsestr(data[:TEXT_CAP].decode("utf-8", "replace"))
    return None


def inline_headers(lines: list[str], start: int) -> email.message.Message | None:
    """The headers of a copy of the returned message inside the notice's text, from ``start``."""
    block = _header_block(lines, start)
    if not block:
        return None
    text = "\n".join(block)
    # header lines as the splitter reads a part's (the same headers the library gets), where ASCII
    fast = plain_headers(text.encode("ascii").splitlines(keepends=True)) if text.isascii() else None
    return fast if fast is not None else HeaderParser().parsestr(text)


def inline_start(lines: list[str]) -> int:
    """The first line of an inline copy of the returned message: a marker line, else a block of
    header lines (two known names in a row) after the notice's first paragraph."""
    # one search over the whole text, not one per line (a marker never spans lines)
    joined = "\n".join(lines)
    lowered = joined.lower()
    pos = 0
    while (span := _MARKER.span(joined, lowered, pos)) is not None:
        i = joined.count("\n", 0, span[0])
        if _marker_shape(lines[i]):
            return i
        pos = joined.find("\n", span[0]) + 1
        if pos == 0:
            break
    # the lines that start like a header, found in one pass (the pattern never crosses a line)
    i, at = 0, 0
    for a in _HEADER_LINES.finditer(joined):
        i += joined.count("\n", at, a.start())
        at = a.start()
        if not 1 <= i < len(lines) - 1 or a.group(1).lower() not in _KNOWN_HEADERS:
            continue
        j = i + 1
        while j < len(lines) and j < i + 12 and lines[j][:1] in (" ", "\t") and lines[j].strip():
            j += 1  # a folded header's continuation lines
        b = _HEADER_LINE.match(lines[j]) if j < len(lines) else None
        if b and b.group(1).lower() in _KNOWN_HEADERS:
            return i
    return len(lines)


def _marker_shape(line: str) -> bool:
    """A line that introduces the copy ("--- Below this line is a copy", "Original message
    follows.", "Original message headers:"), not prose that mentions the original message."""
    text = line.strip()
    low = text.lower()
    return (text.startswith(("-", "=", "*", "_", "[", "<")) or text.endswith(":")
            or any(w in low for w in ("follow", "below", "attached", "copy", "header", "---"))
            or len(text) < 40)


def _header_block(lines: list[str], start: int) -> list[str]:
    """The header lines of an inline copy, from ``start`` (a marker or the first header)."""
    out: list[str] = []
    i = start
    while i < len(lines) and i < start + 8 and not _HEADER_LINE.match(lines[i].lstrip(" \t>")):
        i += 1
    while i < len(lines) and len(out) < 80:
        line = lines[i]
        stripped = line.lstrip(" \t>")
        if _HEADER_LINE.match(stripped):
            out.append(stripped)
        elif out and line[:1] in (" ", "\t") and line.strip():
            out.append(" " + line.strip())
        else:
            break
        i += 1
    names = {h.split(":", 1)[0].lower() for h in out}
    return out if len(names & _KNOWN_HEADERS) >= 2 else []


def own_addresses(bounce_to: Iterable[str], returned: email.message.Message | None) -> set[str]:
    """The sending mailbox: the bounce was delivered to it, and the returned message is its own."""
    own = {a.lower() for a in bounce_to}
    if returned is None:
        return own

    def named(*names: str) -> set[str]:
        return {a.lower() for name in names for value in returned.get_all(name) or []
                for a in _ADDRESS.findall(str(value)[:LINE_CAP])}

    # the sender, unless it wrote to itself; a mailing list's own addresses (its post is returned
    # with the list as To) are not a subscriber who bounced; a Message-ID looks like an address
    own |= named("from", "sender", "return-path") - named("to", "cc")
    return own | named("message-id", "in-reply-to", "list-post", "x-beenthere", "errors-to", "list-owner")


def field_recipients(lines: list[str], returned: email.message.Message | None) -> list[str]:
    """Recipient fields written into the notice's text, then the returned message's X-Original-To."""
    out = [m.group(1) for line in lines if (m := _FIELD.match(line))]
    if returned is not None:
        for name in ("x-original-to", "original-recipient"):
            out += [a.email for a in parse_addresses(decode_header(returned.get(name)))]
    return out


def diagnostic_recipients(lines: list[str]) -> list[str]:
    """Addresses on the notice's diagnostic lines: a line with a status code or failure wording,
    or a line under one (a list of failed addresses after "could not be delivered to:")."""
    out: list[str] = []
    aliased: set[str] = set()
    cue_at = -10
    cues = [bool(_STATUS_CUE.search(line) or _CUE.search(line)) for line in lines]
    for i, line in enumerate(lines):
        has_cue = cues[i]
        found = _ADDRESS.findall(line) if "@" in line else []
        final, expanded, alias = line.lower().partition("expanded from")
        if expanded:  # "<final@host> (expanded from <what-we-wrote-to@domain>)": the latter bounced
            aliased.update(_ADDRESS.findall(final))
            found = _ADDRESS.findall(alias)
        below = i + 1 < len(lines) and cues[i + 1]  # "Your message to: x@y" / "was blocked …"
        if found and (has_cue or below or i - cue_at <= 3):
            out += found
        if has_cue:
            cue_at = i
        elif not line.strip():
            cue_at -= 1  # a blank line loosens the tie to the wording above
    return [a for a in out if a.lower() not in aliased]


def returned_recipients(returned: email.message.Message | None) -> list[str]:
    """The returned message's To and Cc; none for a mailing list's post, whose To is the list
    and whose failed subscriber is named nowhere in its headers."""
    if returned is None or any(returned.get(n) for n in ("list-id", "list-post", "x-beenthere")):
        return []
    out: list[str] = []
    for name in ("to", "cc"):
        for value in returned.get_all(name) or []:
            out += [a.email for a in parse_addresses(decode_header(value))]
    return out


def choose(stages: list[list[str]], own: set[str], sent_to: SentTo | None,
           valid: Callable[[str], bool], clean: Callable[[str], str],
           own_domains: frozenset[str] = frozenset()) -> tuple[list[str], int]:
    """The failed recipients from the first stage that names one, and that stage's index.
    ``own_domains``: where words are read loosely, the mailbox's own domain is taken for its
    message ids and hosts (``Parsing message <id@sender.example>``), never for a prospect.

    With ``sent_to``, a stage's addresses the mailbox sent to are preferred, and the first stage
    naming such an address wins over earlier ones that name only strangers."""
    cleaned: list[list[str]] = []
    for stage in stages:
        seen: dict[str, str] = {}
        for raw in stage:
            addr = clean(raw)
            key = addr.lower()
            if valid(addr) and key not in own and not is_system(addr) and key not in seen \
                    and key.rpartition("@")[2] not in own_domains:
                seen[key] = addr
        cleaned.append(list(seen.values()))
    if sent_to is not None:
        for index, stage in enumerate(cleaned):
            confirmed = [a for a in stage if sent_to(a.lower())]
            if confirmed:
                return confirmed, index
    for index, stage in enumerate(cleaned):
        if stage:
            return stage, index
    return [], -1
