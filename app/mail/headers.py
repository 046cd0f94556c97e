"""Header values and body bytes to text, tolerating what real mail gets wrong.

The standard library's modern policy decodes headers well but slowly (see the bench), and its
compat32 policy hands back raw strings. We parse with compat32 and decode here: RFC 2047 words
in any charset, 8-bit headers, unknown or misspelt charsets. Nothing here raises on bad input.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from datetime import datetime, timedelta, timezone
from email.utils import getaddresses, parsedate_to_datetime
from typing import Final

from app.mail.sanitize import one_line, sanitize
from app.mail.types import Address

# Charset names seen in the wild that Python does not know, or knows under another name.
_CHARSET_ALIASES: Final = {
    "unknown-8bit": None, "x-unknown": None, "unknown": None, "x-user-defined": None,
    "default": None, "charset": None, "none": None, "8bit": None,
    "ks_c_5601-1987": "cp949", "ks_c_5601": "cp949", "iso-8859-8-i": "iso-8859-8",
    "x-gbk": "gbk", "gb2312": "gb18030", "gbk": "gb18030", "x-mac-roman": "mac_roman",
    "windows-874": "cp874", "iso-2022-jp-ms": "iso-2022-jp", "x-sjis": "shift_jis",
    "iso-8859-1": "cp1252", "latin1": "cp1252", "us-ascii": None, "ascii": None,
    "ansi_x3.4-1968": None, "utf8": "utf-8",
}


def _codec(charset: str | None) -> str | None:
    """A usable text codec name for ``charset``, or None to guess."""
    if not charset:
        return None
    name = charset.strip().strip("\"'").lower().split("*", 1)[0]
    if name in _CHARSET_ALIASES:
        return _CHARSET_ALIASES[name]
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    # "base64", "rot13" and friends are codecs, but not text encodings.
    return info.name if getattr(info, "_is_text_encoding", True) else None


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Bytes in a declared (maybe wrong) charset to text. Never raises.

    An unknown or absent charset is guessed: UTF-8 if the bytes are valid UTF-8, else
    Windows-1252, which is what most mislabelled Western mail really is. Declared US-ASCII
    and Latin-1 are treated the same way, since 8-bit bytes under those labels are common.
    """
    codec = _codec(charset)
    if codec is None or codec == "cp1252":
        if data.isascii():
            return data.decode("ascii")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("cp1252", "replace")
    try:
        return data.decode(codec, "replace")
    except Exception:
        return data.decode("utf-8", "replace")


def _from_surrogates(value: str) -> str:
    """compat32 keeps 8-bit header bytes as surrogate escapes; turn them back into text."""
    if value.isascii():
        return value  # (no escapes: encoded and decoded again it is itself)
    try:
        raw = value.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return value
    return decode_bytes(raw)


_ENCODED_WORD: Final = re.compile(r"=\?([^?\s]{1,64})\?([bBqQ])\?([^?\s]*)\?=")
_BETWEEN_WORDS: Final = re.compile(r"\s+")


_HEX: Final = re.compile(r"[0-9A-Fa-f]{2}")


def _decode_word(encoding: str, text: str) -> bytes:
    if encoding in "bB":
        text = text.rstrip("=")
        try:
            return base64.b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            return text.encode("ascii", "replace")
    out = bytearray()
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "_":
            out.append(0x20)
        elif ch == "=" and _HEX.fullmatch(text[i + 1:i + 3]):
            out.append(int(text[i + 1:i + 3], 16))
            i += 2
        else:
            out.extend(ch.encode("utf-8", "replace"))
        i += 1
    return bytes(out)


def decode_header(value: object) -> str:
    """An RFC 5322 header value to one sanitized line of text (RFC 2047 decoded)."""
    if value is None:
        return ""
    if type(value) is str and value.isascii() and "=?" not in value:
        return one_line(value)  # (no escapes to turn back, no encoded word: the steps below, shortened)
    text = _from_surrogates(str(value))
    if "=?" in text:
        text = _decode_words(text)
    return one_line(text)


def _decode_words(text: str) -> str:
    parts: list[str] = []
    pending: list[bytes] = []
    pending_charset: str | None = None
    pos = 0

    def flush() -> None:
        nonlocal pending, pending_charset
        if pending:
            parts.append(decode_bytes(b"".join(pending), pending_charset))
        pending, pending_charset = [], None

    for m in _ENCODED_WORD.finditer(text):
        gap = text[pos:m.start()]
        # Whitespace between two encoded words is folding, not content (RFC 2047 6.2).
        if gap and not (pending and _BETWEEN_WORDS.fullmatch(gap)):
            flush()
            parts.append(gap)
        charset = m.group(1)
        if pending and charset.lower() != (pending_charset or "").lower():
            flush()
        pending_charset = charset
        # Multi-byte characters may be split across words: join the bytes, decode once.
        pending.append(_decode_word(m.group(2), m.group(3)))
        pos = m.end()
    flush()
    parts.append(text[pos:])
    return "".join(parts)


_EMAIL_SHAPE: Final = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+$")


def parse_addresses(value: object) -> list[Address]:
    """All addresses in an address-list header; malformed entries are skipped."""
    if value is None:
        return []
    raw = sanitize(_from_surrogates(str(value)))
    if "=?" in raw:
        raw = _ENCODED_WORD.sub(_clean_word, raw)
    pairs = simple_addresses(raw)
    if pairs is None:
        try:
            pairs = getaddresses([raw])
        except Exception:
            return []
    out = []
    for name, addr in pairs:
        addr = one_line(addr)
        if not _EMAIL_SHAPE.match(addr):
            continue
        name = decode_header(name).strip("\"' ")
        out.append(Address(name=name if name != addr else "", email=addr))
    return out


_ATEXT: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+/=?^_`{|}~-")
_SPEC: Final = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,64}(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,64}){0,20}"
                          r"@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,20}")


def simple_addresses(value: str) -> list[tuple[str, str]] | None:
    """``getaddresses([value])`` for the shapes nearly every header has (``addr``, ``Name <addr>``,
    ``"Name" <addr>``, a list of those without quotes), without the standard library's
    character-by-character reading; None for anything else, which the library then reads.
    tests/test_mail_properties.py holds the two to the same answers."""
    pieces = [value] if '"' in value else value.split(",")
    out: list[tuple[str, str]] = []
    for piece in pieces:
        piece = piece.strip(" ")
        if not piece.endswith(">"):
            if not _SPEC.fullmatch(piece):
                return None
            out.append(("", piece))
            continue
        name, bracket, spec = piece[:-1].rpartition("<")
        if not bracket or not _SPEC.fullmatch(spec):
            return None
        name = name.strip(" ")
        if name[:1] == '"':
            inner = name[1:-1]
            if len(name) < 2 or name[-1] != '"' or '"' in inner or '\\' in inner:
                return None
            name = inner
        elif set(name) <= _ATEXT_OR_SPACE:
            name = " ".join(name.split())
        else:
            return None
        out.append((name, spec))
    return out


_ATEXT_OR_SPACE: Final = _ATEXT | {" "}


def _clean_word(m: re.Match[str]) -> str:
    """An encoded word as a plain base64 one of its sanitized text. Decoded only after the
    address list is split, a word that hides an escape sequence ("=1B]0;title=07") would
    otherwise be split at the ';' of its payload, which then stayed in the sender's name."""
    text = decode_header(m.group(0))
    if text == m.group(0):
        return text  # not decodable: left as it is
    return f"=?utf-8?b?{base64.b64encode(text.encode('utf-8')).decode('ascii')}?="


_PLAIN_DATE: Final = re.compile(r"(?:[A-Za-z]{3}, )?(\d{1,2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) "
                                r"([+-])(\d{2})(\d{2})(?: \([A-Za-z]{1,5}\))?")
"""A date as nearly every mail system writes it (``Sat, 05 Dec 2026 01:00:00 +0000 (UTC)``),
which ``parsedate_to_datetime`` reads field by field (a word with a comma first is dropped, a
zone comment after the offset ignored)."""
_MONTHS: Final = {name: n for n, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}


_ZONES: Final[dict[int, timezone]] = {}
"""One zone a UTC offset (in seconds), made when a date first has it: the dates of a batch share
their zones, and the parse worker's answers to the engine, pickled together, write each zone once
instead of once a message. At most one entry for each offset of two digits of hours and two of
minutes that a zone may have (under a day either way)."""


def _zone(offset: int) -> timezone:
    """The zone of ``offset`` seconds from UTC (``ValueError`` for a day or more)."""
    zone = _ZONES.get(offset)
    if zone is None:
        zone = _ZONES[offset] = timezone(timedelta(seconds=offset))
    return zone


def parse_date(value: object) -> datetime | None:
    """An RFC 5322 date, timezone-aware (an unknown zone is taken as UTC); garbled = None."""
    if not value:
        return None
    if type(value) is str and value.isascii() and (m := _PLAIN_DATE.fullmatch(value.strip())) is not None:
        day, month, year, hour, minute, second, sign, zone_h, zone_m = m.groups()
        if (number := _MONTHS.get(month.lower())) is not None:
            # read as the library reads it: "-0000" (no zone known) is taken as UTC all the same
            offset = (int(zone_h) * 3600 + int(zone_m) * 60) * (-1 if sign == "-" else 1)
            yy = int(year)
            if yy < 100:  # ("0026"), as the library reads a year of two digits: 1969-1999, 2000-2068
                yy += 1900 if yy > 68 else 2000
            try:
                dt = datetime(yy, number, int(day), int(hour), int(minute), int(second), tzinfo=_zone(offset))
            except ValueError:  # (a day, an hour or a zone out of range)
                return None
            return dt if 1970 <= dt.year <= 2200 else None
    try:
        dt = parsedate_to_datetime(_from_surrogates(str(value)).strip())
    except Exception:
        return None
    if dt is None or not 1970 <= dt.year <= 2200:
        return None
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=timezone.utc)


_MSG_ID: Final = re.compile(r"<([^<>\s]{1,998})>")


def parse_message_ids(value: object) -> list[str]:
    """Message-IDs in a References / In-Reply-To header, each as ``<id>``."""
    if not value:
        return []
    text = _from_surrogates(str(value))
    ids = [f"<{m}>" for m in _MSG_ID.findall(text)]
    if not ids:
        # Some clients omit the angle brackets; accept one bare id-like token.
        token = text.strip().split()[0] if text.strip() else ""
        if "@" in token and len(token) < 998:
            ids = [f"<{token.strip('<>')}>"]
    return [one_line(i) for i in ids]
