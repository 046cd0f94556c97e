"""Turning stored values into what the screen shows.

Everything that came from a message (names, subjects, bodies, server error words) is sanitized
again here, although app/mail already did it at ingest, and only ever becomes a ``rich.text.Text``
or plain segments: never a markup string, so ``[red]`` or ``[link=…]`` in a mail shows literally.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from rich.text import Text

from app.mail.categories import CATEGORY_NAMES
from app.mail.sanitize import one_line, sanitize

CATEGORY_LABELS = {
    **CATEGORY_NAMES,
    # kinds of noise, shown where a category would be
    "warmup": "warmup",
    "internal": "internal",
    "bulk": "bulk",
}


def line(value: object) -> str:
    """A stored value folded onto one safe line."""
    return one_line(str(value)) if value is not None else ""


def safe_text(value: object, style: str = "") -> Text:
    """A multi-line stored value as Text, never parsed as markup."""
    return Text(sanitize(str(value)) if value is not None else "", style=style)


def category_label(category: str | None) -> str:
    return CATEGORY_LABELS.get(category or "uncategorized", line(category))


def mailbox_label(account_id: str | None, email: str | None, sep: str = " ") -> str:
    """A mailbox by its id and address, the address once when the id is the address."""
    ident, address = line(account_id), line(email)
    if not address or ident.casefold() == address.casefold():
        return ident or address
    return f"{ident}{sep}<{address}>"


def sender_label(name: str | None, address: str | None) -> str:
    return line(name) or line(address)


def short_time(ts: float | None, now: float, tz: tzinfo | None) -> str:
    """Six cells at most: ``14:05`` today, ``Nov 23`` this year, ``Nov'24`` before."""
    if ts is None:
        return ""
    when = datetime.fromtimestamp(ts, tz)
    today = datetime.fromtimestamp(now, tz)
    if when.date() == today.date():
        return when.strftime("%H:%M")
    if when.year == today.year:
        return when.strftime("%b %d")
    return when.strftime("%b'%y")


def long_time(ts: float | None, tz: tzinfo | None) -> str:
    if ts is None:
        return "—"
    return datetime.fromtimestamp(ts, tz).strftime("%a %d %b %Y %H:%M")


def ago(ts: float | None, now: float) -> str:
    """How long ago, in the largest whole unit: ``just now``, ``5 min ago``, ``3 h ago``, ``2 d ago``."""
    if ts is None:
        return "never"
    seconds = max(0, now - ts)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} d ago"


def day_start(now: float, tz: tzinfo | None) -> float:
    """Midnight of the day ``now`` falls in, in the display time zone."""
    today = datetime.fromtimestamp(now, tz)
    return today.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def week_start(now: float) -> float:
    return now - timedelta(days=7).total_seconds()


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "—"


def bar(done: int, total: int, width: int = 10) -> str:
    """A progress bar in block characters: no animation, so screenshots stay still."""
    if total <= 0:
        return " " * width
    filled = min(width, round(width * done / total))
    return "█" * filled + "░" * (width - filled)
