"""Reading IMAP responses as aioimaplib hands them over (untagged lines without ``* ``, literals
as ``bytearray``), and quoting what we send. Pure functions.

We only ask the server for items whose text cannot contain a parenthesis or a quote we would
misread (UID, FLAGS, INTERNALDATE, RFC822.SIZE, MODSEQ and the body as a literal), never
ENVELOPE: aioimaplib counts parentheses to find the end of a FETCH response (upstream #51).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from app.folders import ListEntry, Namespace

_FETCH_START = re.compile(rb"^(\d+) FETCH \(")
_UID = re.compile(rb"[ (]UID (\d+)")
_FLAGS = re.compile(rb"[ (]FLAGS \(([^)]*)\)")
_INTERNALDATE = re.compile(rb'[ (]INTERNALDATE "([^"]+)"')
_SIZE = re.compile(rb"[ (]RFC822\.SIZE (\d+)")
_MODSEQ = re.compile(rb"[ (]MODSEQ \((\d+)\)")
_BODY_LITERAL = re.compile(rb"[ (]BODY\[\](?:<\d+>)? \{\d+\}$")
_ITEM_NAME = rb"[A-Z0-9][A-Z0-9.\-]*(?:\[[^\]\r\n]*\](?:<\d+>)?)?"
_ITEM_VALUE = rb'(?:\d+|NIL|"(?:[^"\\\r\n]|\\.)*"|\((?:[^()\r\n]|\([^()\r\n]*\))*\))'
_AFTER_LITERAL = re.compile(rb"(?: " + _ITEM_NAME + rb" " + _ITEM_VALUE + rb")*(?:\)| " + _ITEM_NAME
                            + rb" ~?\{\d+\+?\})", re.IGNORECASE)
"""What may follow a literal in a FETCH response: more items, then the closing parenthesis or
the announcement of the next literal (RFC 3501's msg-att)."""
_CODE = re.compile(rb"\[([A-Z-]+)(?: ([^\]]*))?\]")
_LIST = re.compile(rb'^(?:LIST |XLIST )?\(([^)]*)\) (NIL|"(?:[^"\\]|\\.)*") (.*)$')
_NAMESPACE = re.compile(rb'^(?:NAMESPACE )?\(\("((?:[^"\\]|\\.){0,200})" (NIL|"(?:[^"\\]|\\.){0,8}")')
_STATUS = re.compile(rb"^(?:STATUS )?(.*) \(([^)]*)\)$")


@dataclass
class Fetched:
    """One message (or one flag update) from a UID FETCH response."""

    uid: int
    flags: frozenset[str]
    internaldate: float | None = None
    size: int | None = None
    modseq: int | None = None
    body: bytes | None = field(default=None, repr=False)
    garbled: bool = False
    """The server's answer did not hold together around this message: after a literal came
    something that is no FETCH item, or a line no FETCH has. Dovecot 2.3 writes a NOTIFY line
    where its output stands, inside a big message it is still sending: the literal's count
    then takes in the server's line and leaves the message's last bytes after it."""


def parse_fetch(lines: list) -> list[Fetched]:
    """Every ``n FETCH (...)`` of a response that carries a UID, in order.

    A literal (``bytearray``) belongs to the FETCH item that announced it; bytes lines that do
    not start a new ``n FETCH (`` continue the current one (items after a literal). A FETCH
    whose lines do not hold together is ``garbled``: a literal is followed by no line, or by a
    line that is no run of items, or a line other than the last (the tagged answer's text)
    follows a FETCH that closed.
    """
    out: list[Fetched] = []
    text = b""
    body: bytes | None = None
    started = garbled = after_literal = False
    last = len(lines) - 1

    def finish() -> None:
        if not started:
            return
        uid = _UID.search(text)
        if uid is None:
            return  # an unsolicited flag change without UID: the next flag sync reads it
        flags = _FLAGS.search(text)
        date = _INTERNALDATE.search(text)
        size = _SIZE.search(text)
        modseq = _MODSEQ.search(text)
        out.append(Fetched(
            uid=int(uid.group(1)),
            flags=frozenset(flags.group(1).decode("utf-8", "replace").split()) if flags else frozenset(),
            internaldate=parse_internaldate(date.group(1).decode("ascii", "replace")) if date else None,
            size=int(size.group(1)) if size else None,
            modseq=int(modseq.group(1)) if modseq else None,
            body=body,
            garbled=garbled,
        ))

    for i, line in enumerate(lines):
        if isinstance(line, bytearray):
            if started and _BODY_LITERAL.search(text):
                body = bytes(line)
            after_literal = True
            continue
        if _FETCH_START.match(line):
            garbled = garbled or after_literal  # a literal is always followed by more of its FETCH
            finish()
            text, body, started, garbled = bytes(line), None, True, False
        elif started:
            if (after_literal and _AFTER_LITERAL.fullmatch(line) is None) or (not after_literal and i != last):
                garbled = True
            text += b" " + bytes(line)
        after_literal = False
    finish()
    return out


_DATE_TIME = re.compile(r"(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})([0-5]\d)")
_EPOCH_DAY = date(1970, 1, 1).toordinal()
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                       "nov", "dec"), 1)}


def parse_internaldate(value: str) -> float | None:
    """An INTERNALDATE (``4-Dec-2026 21:01:14 +0000``) as a timestamp; None when unreadable. The
    usual shape is read directly, as whole seconds from the day's ordinal (strptime, or even an
    aware datetime's ``timestamp()``, costs more than the rest of a FETCH line's reading);
    anything else goes through strptime, which decides (tests/test_imap_responses.py holds the
    two to the same answers)."""
    value = value.strip()
    m = _DATE_TIME.fullmatch(value)
    try:
        if m is None or (month := _MONTHS.get(m.group(2).lower())) is None:
            return datetime.strptime(value, "%d-%b-%Y %H:%M:%S %z").timestamp()
        day, _, year, hour, minute, second, sign, off_hours, off_minutes = m.groups()
        h, mi, s, oh = int(hour), int(minute), int(second), int(off_hours)
        if h > 23 or mi > 59 or s > 59 or oh > 23:  # what datetime and timezone refuse
            return None
        offset = oh * 3600 + int(off_minutes) * 60
        days = date(int(year), month, int(day)).toordinal() - _EPOCH_DAY  # a day that is not: ValueError
        return float(days * 86400 + h * 3600 + mi * 60 + s - (offset if sign == "+" else -offset))
    except ValueError:
        return None


def response_codes(lines: list) -> dict[str, str]:
    """``[CODE value]`` response codes found in text lines (SELECT, COPYUID, APPENDUID …)."""
    codes: dict[str, str] = {}
    for line in lines:
        if isinstance(line, (bytes, str)):
            raw = line.encode() if isinstance(line, str) else line
            for m in _CODE.finditer(raw):
                codes.setdefault(m.group(1).decode(), (m.group(2) or b"").decode("utf-8", "replace"))
    return codes


@dataclass
class SelectInfo:
    uidvalidity: int
    uidnext: int | None
    exists: int
    highestmodseq: int | None
    permanentflags: frozenset[str]


def parse_select(lines: list) -> SelectInfo:
    codes = response_codes(lines)
    exists = 0
    for line in lines:
        if isinstance(line, bytes) and line.endswith(b" EXISTS"):
            exists = int(line.split()[0])
    # no PERMANENTFLAGS at all: "the client should assume that all flags can be changed permanently"
    perm = codes.get("PERMANENTFLAGS", "\\*").strip("()")
    modseq = codes.get("HIGHESTMODSEQ")
    return SelectInfo(
        uidvalidity=int(codes.get("UIDVALIDITY", "0") or 0),
        uidnext=int(codes["UIDNEXT"]) if codes.get("UIDNEXT", "").isdigit() else None,
        exists=exists,
        highestmodseq=int(modseq) if modseq and modseq.isdigit() else None,
        permanentflags=frozenset(perm.split()),
    )


def parse_status(lines: list, folder: str | None = None) -> dict[str, int]:
    """The items of the STATUS answer (for ``folder``: a server that NOTIFYs may put another
    folder's STATUS among the lines)."""
    for line in lines[:-1]:
        if isinstance(line, bytes):
            m = _STATUS.match(line)
            if m and folder is not None and status_mailbox(line) not in (folder, None):
                continue
            if m:
                items = m.group(2).decode().split()
                return {k.upper(): int(v) for k, v in zip(items[::2], items[1::2]) if v.isdigit()}
    return {}


def parse_statuses(lines: list) -> dict[str, dict[str, int]]:
    """Folder -> its STATUS items, from the ``STATUS`` lines of a LIST-STATUS answer."""
    out: dict[str, dict[str, int]] = {}
    for line in lines[:-1]:
        if isinstance(line, bytes) and line.startswith(b"STATUS "):
            name = status_mailbox(line)
            if name is not None:
                out[name] = status_items(line)
    return out


def status_items(line: bytes) -> dict[str, int]:
    """The numbers of a ``STATUS name (MESSAGES 3 UIDNEXT 9 …)`` line."""
    m = _STATUS.match(line)
    if not m:
        return {}
    items = m.group(2).decode("ascii", "replace").split()
    return {k.upper(): int(v) for k, v in zip(items[::2], items[1::2]) if v.isdigit()}


def status_mailbox(line: bytes) -> str | None:
    """The folder of a ``STATUS name (...)`` line (quoted or an atom); None for a literal."""
    m = _STATUS.match(line)
    if not m:
        return None
    name = m.group(1).decode("utf-8", "replace").strip()
    if not name or name.startswith("{"):
        return None
    return _unquote(name)


def parse_search(lines: list) -> list[int]:
    """aioimaplib strips ``SEARCH`` from the untagged line; the last line is the tagged OK's text."""
    uids: list[int] = []
    for line in lines[:-1]:
        if isinstance(line, bytes):
            uids.extend(int(t) for t in line.split() if t.isdigit())
    return uids


def parse_list(lines: list) -> list[ListEntry]:
    entries: list[ListEntry] = []
    pending: tuple[frozenset[str], str | None] | None = None
    for line in lines:
        if isinstance(line, bytearray):
            if pending is not None:
                entries.append(ListEntry(bytes(line).decode("utf-8", "replace"), *pending))
                pending = None
            continue
        m = _LIST.match(line)
        if not m:
            continue
        attrs = frozenset(a.lower() for a in m.group(1).decode("utf-8", "replace").split())
        delim = None if m.group(2) == b"NIL" else _unquote(m.group(2).decode("utf-8", "replace"))
        name = m.group(3).decode("utf-8", "replace")
        if re.fullmatch(r"\{\d+\}", name):
            pending = (attrs, delim)
            continue
        entries.append(ListEntry(_unquote(name), attrs, delim))
    return entries


def parse_namespace(lines: list) -> Namespace | None:
    """The first personal namespace of a NAMESPACE reply (``(("INBOX." ".")) NIL NIL``)."""
    for line in lines[:-1]:
        if isinstance(line, bytes):
            m = _NAMESPACE.match(line)
            if m:
                delim = None if m.group(2) == b"NIL" else _unquote(m.group(2).decode("utf-8", "replace"))
                return Namespace(_unquote('"' + m.group(1).decode("utf-8", "replace") + '"'), delim)
    return None


def parse_copyuid(lines: list) -> tuple[int, dict[int, int]] | None:
    """``COPYUID uidvalidity src dst`` → (destination UIDVALIDITY, {source uid: destination uid})."""
    value = response_codes(lines).get("COPYUID")
    if not value:
        return None
    parts = value.split()
    if len(parts) != 3 or not parts[0].isdigit():
        return None
    src, dst = expand_uid_set(parts[1]), expand_uid_set(parts[2])
    if len(src) != len(dst):
        return None
    return int(parts[0]), dict(zip(src, dst))


def expand_uid_set(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        if ":" in part:
            a, b = part.split(":", 1)
            lo, hi = sorted((int(a), int(b)))
            out.extend(range(lo, hi + 1))
        elif part.isdigit():
            out.append(int(part))
    return out


def uid_set(uids: list[int]) -> str:
    """Sorted UIDs as the shortest ``a:b,c`` set."""
    ranges: list[str] = []
    values = sorted(set(uids))
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[j] + 1:
            j += 1
        ranges.append(str(values[i]) if i == j else f"{values[i]}:{values[j]}")
        i = j + 1
    return ",".join(ranges)


def quote(text: str) -> str:
    """An IMAP quoted string (mailbox names, search values); aioimaplib sends arguments as is."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


def search_date(ts: float) -> str:
    """The date of ``ts`` as IMAP SEARCH wants it (``25-Nov-2026``)."""
    months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    d = datetime.fromtimestamp(ts)
    return f"{d.day}-{months[d.month - 1]}-{d.year}"
