"""Make untrusted message text safe to show in a terminal.

Mail is written by strangers. A raw ESC can move the cursor, rewrite the title bar or (OSC 52)
the clipboard; C1 bytes are read as control codes by some terminals; bidi overrides make text
read differently than it is stored. We keep newline and tab and drop everything else that is
not printable text.
"""

from __future__ import annotations

import re
from typing import Final

# Whole escape sequences first, so that their parameters ("[31m", "]0;title") do not survive as
# visible litter once the ESC itself is gone. 8-bit C1 introducers (CSI 0x9b, OSC 0x9d, DCS 0x90,
# SOS 0x98, PM 0x9e, APC 0x9f) are the same sequences spelt in one character.
_ESCAPES: Final = re.compile(
    r"""
    (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?             # CSI ... final byte
  | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])       # OSC, DCS, SOS, PM, APC ...
      [^\x07\x1b\x9c]{0,4096}(?:\x07|\x1b\\|\x9c)? # ... up to BEL or ST
  | \x1b[ -/]*[0-~]?                              # any other ESC sequence (charset, keypad)
    """,
    re.VERBOSE,
)

_BIDI: Final = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"

# Everything below 0x20 except tab and newline, DEL, the C1 range, and the bidi controls.
_DELETE: Final[dict[int, str | None]] = {c: None for c in range(0x20) if c not in (0x09, 0x0A)}
_DELETE.update({c: None for c in range(0x7F, 0xA0)})
_DELETE.update({ord(c): None for c in _BIDI})
# Line and paragraph separators would break a row in two inside Textual; make them newlines.
_DELETE[0x2028] = "\n"
_DELETE[0x2029] = "\n"
# Lone surrogates (from undecodable bytes) cannot be encoded for the terminal.
_DELETE.update({c: "\ufffd" for c in range(0xD800, 0xE000)})

# (the surrogates spelt with chr(): a compiled module cannot hold them in a string literal)
_UNSAFE: Final = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029" + chr(0xD800) + "-" + chr(0xDFFF) + _BIDI + "]")


def sanitize(text: str) -> str:
    """Return ``text`` without control characters, escape sequences or bidi controls.

    CRLF and lone CR become LF; tab and LF are kept. Safe for any ``str``, including lone
    surrogates, which become U+FFFD so the result always encodes to UTF-8.
    """
    if not text:
        return ""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _UNSAFE.search(text) is not None:
        if "\x1b" in text or any(c in text for c in "\x90\x98\x9b\x9d\x9e\x9f"):
            text = _ESCAPES.sub("", text)
        text = text.translate(_DELETE)
    return text


_FOLDED_ASCII: Final = bytes(range(0x20, 0x7F)) + b"\t\r\n"
"""Printable ASCII and the controls of folding (tab, CR, LF)."""


def one_line(text: str) -> str:
    """Sanitize and fold to one line: for headers, snippets and table cells."""
    # Most header values are one line already. No printable character is one sanitize removes
    # or changes, and the space is the only printable one split() breaks on: such text with
    # single inner spaces and none at its ends comes out as it went in.
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    # A folded ASCII header (Received, DKIM-Signature, ARC-*: hundreds of characters, most of a
    # mail's headers): sanitize would only turn its CRs into LFs, and split() breaks it at exactly
    # those, the tab and the space. Without sanitize's passes it takes a third of the time.
    if text.isascii() and not text.encode("ascii").translate(None, _FOLDED_ASCII):
        return " ".join(text.split())
    return " ".join(sanitize(text).split())


MAX_FILENAME_BYTES: Final = 200
_NOT_IN_NAMES: Final = str.maketrans({c: "_" for c in '/\\:<>"|?*'})


def safe_filename(name: str, fallback: str = "attachment") -> str:
    """A sender's attachment name made safe to write in a folder the user chose: one line, no
    control or bidi characters, no directory part (no ``/``, ``\\`` or ``..`` can lead out of
    the folder), no leading dot (no hidden file), no character Windows forbids, at most
    ``MAX_FILENAME_BYTES`` bytes with its extension kept; ``fallback`` when nothing is left."""
    name = one_line(name[:1000]).translate(_NOT_IN_NAMES).strip(" .")
    name = name.lstrip(".") or fallback
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 16:
        stem, ext = name, ""
    ext = f".{ext}" if ext else ""
    while len((stem + ext).encode("utf-8")) > MAX_FILENAME_BYTES and stem:
        stem = stem[:-1]
    return (stem.rstrip(" .") or fallback) + ext
