"""What a calendar invitation (an ``.ics`` part, RFC 5545) is about: its title, when, who invites.

A bounded line reader of the few properties a thread shows (SUMMARY, DTSTART, ORGANIZER,
LOCATION of the first VEVENT, and the calendar's METHOD), not a full iCalendar parser: the
bytes read are capped, lines are unfolded and split by hand (no regular expression), and
whatever it cannot read is left out rather than guessed.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from app.mail.headers import decode_bytes
from app.mail.sanitize import one_line
from app.mail.types import Invite

MAX_ICS = 256_000
"""Bytes of a calendar part read; an invitation's event comes first and is far smaller."""
MAX_VALUE = 300
_WANTED = ("SUMMARY", "DTSTART", "ORGANIZER", "LOCATION")


def read_invite(data: bytes) -> Invite | None:
    """The first event of a calendar part, or None when it holds no event."""
    method = ""
    props: dict[str, tuple[dict[str, str], str]] = {}
    depth = 0  # inside the first VEVENT; nested components (VALARM) are skipped
    seen_event = False
    for line in _unfolded(decode_bytes(data[:MAX_ICS], "utf-8")):
        name, params, value = _split(line)
        if name == "BEGIN":
            if value.upper() == "VEVENT" and not seen_event:
                seen_event, depth = True, 1
            elif depth:
                depth += 1
            continue
        if name == "END":
            if depth:
                depth -= 1
                if depth == 0:
                    break
            continue
        if name == "METHOD" and not seen_event:
            method = value.upper()[:20]
        elif depth == 1 and name in _WANTED and name not in props:
            props[name] = (params, value)
    if not seen_event:
        return None
    title = _text(props.get("SUMMARY", ({}, ""))[1])
    start, all_day, tz = _when(*props.get("DTSTART", ({}, "")))
    return Invite(title=title, start=start, all_day=all_day, tz=tz,
                  organizer=_organizer(*props.get("ORGANIZER", ({}, ""))),
                  location=_text(props.get("LOCATION", ({}, ""))[1]), method=one_line(method))


def _unfolded(text: str) -> list[str]:
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if raw[:1] in (" ", "\t") and lines:
            if len(lines[-1]) < 4 * MAX_VALUE:
                lines[-1] += raw[1:]
        else:
            lines.append(raw)
    return lines


def _split(line: str) -> tuple[str, dict[str, str], str]:
    """``NAME;PARAM=v;PARAM="quoted:v":value`` into its parts; the first colon outside quotes ends
    the name and parameters."""
    quoted = False
    cut = -1
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            cut = i
            break
    if cut < 0:
        return "", {}, ""
    head, value = line[:cut], line[cut + 1:]
    name, *rest = head.split(";")
    params: dict[str, str] = {}
    for item in rest:
        key, _, val = item.partition("=")
        params[key.strip().upper()] = val.strip().strip('"')
    return name.strip().upper(), params, value


def _text(value: str) -> str:
    """An iCalendar TEXT value: its escapes undone, on one safe line."""
    out: list[str] = []
    chars = iter(value[:4 * MAX_VALUE])
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            out.append(" " if nxt in ("n", "N") else nxt)
        else:
            out.append(ch)
    return one_line("".join(out))[:MAX_VALUE]


def _when(params: dict[str, str], value: str) -> tuple[str, bool, str]:
    """DTSTART as an ISO string, whether it is a whole day, and the zone it is in when that zone
    is not one Python knows (then the time is as written, in that zone)."""
    value = value.strip()
    try:
        if params.get("VALUE", "").upper() == "DATE" or (len(value) == 8 and value.isdigit()):
            return date(int(value[:4]), int(value[4:6]), int(value[6:8])).isoformat(), True, ""
        moment = datetime.strptime(value[:15], "%Y%m%dT%H%M%S")
    except ValueError:
        return "", False, ""
    if value.endswith("Z"):
        return moment.replace(tzinfo=timezone.utc).isoformat(), False, ""
    tzid = one_line(params.get("TZID", ""))[:80]
    if tzid:
        try:
            return moment.replace(tzinfo=ZoneInfo(tzid)).isoformat(), False, ""
        except (ValueError, KeyError, OSError):
            return moment.isoformat(), False, tzid  # e.g. Outlook's "W. Europe Standard Time"
    return moment.isoformat(), False, ""  # a floating time: the same clock time wherever one is


def _organizer(params: dict[str, str], value: str) -> str:
    address = value.strip()
    if address.lower().startswith("mailto:"):
        address = address[7:]
    address = one_line(address)[:MAX_VALUE]
    name = _text(params.get("CN", ""))
    if name and address and name.lower() != address.lower():
        return f"{name} <{address}>"
    return name or address
