"""Arrivals and wakes as one compact line in the status bar, never a toast over what the user
reads or types. Announcements that come while one is on show merge into it ("5 new replies");
the line stays ``general.notice_seconds`` after the last one."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from rich.text import Text

from app.store.rows import Arrival
from app.ui.text import category_label, line, sender_label

HOT_CATEGORIES = ("interested", "meeting")
"""Arrivals that ring the terminal bell (``general.bell``) and say their category."""
REMEMBERED = 2000
"""Message-IDs announced lately: a reply stored twice (INBOX and Junk, or a copy the server
keeps in another folder) is announced once."""


@dataclass
class Notice:
    replies: int = 0
    latest: str = ""
    """Who wrote the latest (or the hot one) and what about."""
    hot: str | None = None
    """The category of a hot reply among them, which the line names."""
    wake: str = ""
    """The latest conversation that came back (snooze, out of office, no answer)."""
    said: str = ""
    """The result of the user's last action ("interested", "archived (3 conversations)")."""
    until: float = 0.0


class Notices:
    """The app's current notice. ``now`` is monotonic time."""

    def __init__(self) -> None:
        self.current: Notice | None = None
        self._announced: deque[str] = deque(maxlen=REMEMBERED)
        self._announced_set: set[str] = set()

    def fresh(self, rows: list[Arrival]) -> list[Arrival]:
        """The rows not announced before, remembered from now on."""
        out = []
        for row in rows:
            key = row["message_id"] or f"#{row['id']}"
            if key in self._announced_set:
                continue
            if len(self._announced) == self._announced.maxlen:
                self._announced_set.discard(self._announced[0])
            self._announced.append(key)
            self._announced_set.add(key)
            out.append(row)
        return out

    def shown(self, now: float) -> Notice | None:
        if self.current is not None and now >= self.current.until:
            self.current = None
        return self.current

    def replies(self, count: int, first: Arrival, now: float, seconds: float) -> Notice:
        """``count`` new replies, ``first`` the one to name (a hot one if any): merged into the
        notice on show."""
        notice = self.shown(now) or Notice()
        notice.replies += count
        hot = first["category"] in HOT_CATEGORIES
        if hot or notice.hot is None:
            notice.latest = f"{sender_label(first['from_name'], first['from_addr'])}: {line(first['subject'])}"
            notice.hot = first["category"] if hot else notice.hot
        notice.until = now + seconds
        self.current = notice
        return notice

    def say(self, text: str, now: float, seconds: float) -> Notice:
        notice = self.shown(now) or Notice()
        notice.said = text
        notice.until = max(notice.until, now + seconds)
        self.current = notice
        return notice

    def woke(self, text: str, now: float, seconds: float) -> Notice:
        notice = self.shown(now) or Notice()
        notice.wake = text
        notice.until = now + seconds
        self.current = notice
        return notice


def notice_text(notice: Notice) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    if notice.replies:
        hot = category_label(notice.hot) if notice.hot else ""
        if notice.replies == 1:
            text.append(f"✉ New {hot + ' ' if hot else ''}reply", style="bold reverse")
            text.append(f" from {notice.latest}", style="bold")
        else:
            text.append(f"✉ {notice.replies} new replies{', one ' + hot if hot else ''}", style="bold reverse")
            text.append(f" · {notice.latest}", style="bold")
    if notice.said:
        if notice.replies:
            text.append("  │ ")
        # what was said can carry stored words (a server's reason, a path): one safe line
        text.append(f"✓ {line(notice.said)}", style="bold")
    if notice.wake:
        if notice.replies or notice.said:
            text.append("  │ ")
        text.append(f"⏰ {line(notice.wake)}", style="bold")
    return text
