"""A small, fixed store for the UI tests: two mailboxes, a handful of threads of every kind,
fixed timestamps, and helpers to read what the screen shows."""

from __future__ import annotations

import html
import re
from datetime import datetime, timezone
from pathlib import Path

from app.mail.types import Address, Attachment, BounceRecipient, Classification, ParsedMessage
from app.store import IncomingMessage, Store
from app.ui import ReplydeskApp
from tests.storefill import account_in

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc).timestamp()
HOUR = 3600.0


def clock() -> float:
    return NOW


def message(message_id: str, subject: str, sender: str, *, name: str = "", to: str = "ana@acme.io",
            new_text: str = "hello", quoted: str = "", in_reply_to: str | None = None,
            at: float = NOW, attachments: list[Attachment] | None = None) -> ParsedMessage:
    text = new_text + ("\n\n" + quoted if quoted else "")
    refs = [in_reply_to] if in_reply_to else []
    return ParsedMessage(
        message_id=message_id, in_reply_to=in_reply_to, references=refs, subject=subject,
        from_=Address(name, sender), to=[Address("", to)], cc=[], reply_to=[],
        date=datetime.fromtimestamp(at, timezone.utc), text=text, new_text=new_text, quoted_text=quoted,
        snippet=" ".join(new_text.split())[:80], attachments=attachments or [], size=len(text),
        thread_key=refs[0] if refs else message_id)


def inbound(uid: int, parsed: ParsedMessage, kind: str = "reply", category: str = "uncategorized", *,
            reasons: list[str] | None = None, seen: bool = False,
            bounces: list[BounceRecipient] | None = None) -> IncomingMessage:
    cls = Classification(kind, category, 0.9, reasons or [f"matched {category}"], bounces or [])
    assert parsed.date is not None
    return IncomingMessage("INBOX", 1, uid, parsed, cls, flags=frozenset({"\\Seen"} if seen else ()),
                           received_at=parsed.date.timestamp())


def sent(uid: int, parsed: ParsedMessage) -> IncomingMessage:
    assert parsed.date is not None
    return IncomingMessage("Sent", 1, uid, parsed, None, flags=frozenset({"\\Seen"}),
                           received_at=parsed.date.timestamp(), direction="out")


def seed(path: Path) -> Path:
    """Fill a new database at ``path`` and return the path."""
    store = Store(path)
    store.ensure_account("ana", "ana@acme.io", "Ana Reyes")
    store.ensure_account("ben", "ben@acme-mail.com", "Ben Ode")
    account_in(store, "ana", "idle")
    account_in(store, "ben", "auth_failed", error="LOGIN failed: [AUTHENTICATIONFAILED]",
               hint="Google needs an app password: myaccount.google.com/apppasswords")
    store.update_account("ana", last_push=NOW - 120, last_sync=NOW - 60, sync_done=400, sync_total=400)
    store.update_account("ben", sync_done=150, sync_total=600)
    store.add_messages("ana", [
        sent(1, message("<out1@acme.io>", "Quick question about Acme", "ana@acme.io", name="Ana Reyes",
                        to="carol@prospect.io", new_text="Hi Carol, would a demo help your team?",
                        at=NOW - 72 * HOUR)),
        sent(2, message("<out2@acme.io>", "Idea for Globex", "ana@acme.io", name="Ana Reyes",
                        to="erin@globex.com", new_text="Hi Erin, a short idea.", at=NOW - 96 * HOUR)),
    ])
    store.add_messages("ana", [
        inbound(1, message("<r1@prospect.io>", "Re: Quick question about Acme", "carol@prospect.io",
                           name="Carol Diaz", new_text="Yes, let's talk next week. Tuesday works.",
                           quoted="On Sat, Ana Reyes wrote:\n> Hi Carol, would a demo help your team?",
                           in_reply_to="<out1@acme.io>", at=NOW - 2 * HOUR,
                           attachments=[Attachment("requirements.pdf", "application/pdf", 48_000)]),
                "reply", "interested", reasons=["asks to talk", "proposes a day"]),
        inbound(2, message("<r2@globex.com>", "Re: Idea for Globex", "erin@globex.com", name="Erin Ko",
                           new_text="Send me a calendar invite for Thursday.", in_reply_to="<out2@acme.io>",
                           at=NOW - 26 * HOUR), "reply", "meeting", seen=True),
        inbound(3, message("<evil@spam.example>", "[red]Alert[/red] \x1b[31mpay now", "mallory@spam.example",
                           name="[bold]Mallory[/bold]", new_text="click [link=http://evil.example]here[/link] now",
                           at=NOW - 5 * HOUR)),
        inbound(4, message("<ooo@initech.com>", "Automatic reply: Quick question", "peter@initech.com",
                           name="Peter Gibbons", new_text="I am out of the office until Monday.",
                           at=NOW - 1 * HOUR), "autoreply", "out_of_office"),
    ])
    store.add_messages("ben", [
        inbound(1, message("<r3@hooli.com>", "Re: Partnership", "gavin@hooli.com", name="Gavin Belson",
                           to="ben@acme-mail.com", new_text="Not interested, please stop.", at=NOW - 3 * HOUR),
                "reply", "not_interested", seen=True),
        inbound(2, message("<dsn1@mx.example>", "Undelivered Mail Returned to Sender",
                           "mailer-daemon@mx.example", to="ben@acme-mail.com",
                           new_text="Delivery to nobody@gone.example failed permanently.", at=NOW - 4 * HOUR),
                "bounce", "bounce", bounces=[BounceRecipient("nobody@gone.example", "5.1.1", True)]),
    ])
    store.close()
    return path


def add_reply(path: Path, uid: int, subject: str, sender: str, name: str, at: float,
              category: str = "uncategorized") -> None:
    """Another connection stores a reply, as the engine would while the app runs."""
    store = Store(path)
    try:
        store.add_messages("ana", [inbound(uid, message(f"<new{uid}@x.example>", subject, sender, name=name,
                                                        new_text="Just saw this, tell me more.", at=at),
                                           "reply", category)])
    finally:
        store.close()


def make_app(db: Path, config=None) -> ReplydeskApp:
    """The app on a seeded store: the fixed clock, UTC, and a fast poll for live refreshes."""
    return ReplydeskApp(db, config, clock=clock, tz=timezone.utc, poll_interval=0.05)


async def until(pilot, predicate, timeout: float = 15.0) -> bool:
    """Let the app run until ``predicate()`` holds (a live refresh landed), or the timeout."""
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return True
        await pilot.pause(0.02)
    return predicate()


_SVG_TEXT = re.compile(r'<text [^>]*?x="([\d.]+)"[^>]*?textLength="([\d.]+)"[^>]*?'
                       r'clip-path="url\(#[^)]*?-line-(\d+)\)"[^>]*>([^<]*)</text>')


async def select_conversation(app, pilot, counterpart: str) -> None:
    """Put the inbox cursor on ``counterpart``'s conversation with the keys a user presses: from
    the top, one row at a time, looking at the row under the cursor after each key. Mail that
    arrives meanwhile reorders the list (the cursor follows its conversation), so a row number
    read before the keys could land on another conversation; a walk that missed it starts again."""
    from app.ui.inbox_list import InboxList

    inbox = app.screen.query_one(InboxList)
    for _ in range(5):
        await pilot.press("g")
        for _ in range(len(inbox.pager) + 1):
            current = inbox.current
            if current is not None and current["counterpart"] == counterpart:
                return
            await pilot.press("j")
    raise AssertionError(f"{counterpart} is not in the inbox list")


def shown_words(app) -> str:
    """The screen's words in reading order with the spacing, the line breaks of a wrapped toast
    and its edge (▌) taken out: a notification is found whole however it wrapped."""
    return " ".join(screen_text(app).replace("\u258c", " ").split())


def screen_text(app) -> str:
    """What the terminal shows, as plain text lines (read from the app's public SVG screenshot:
    every run of text at its column on its line)."""
    lines: dict[int, list[str]] = {}
    for x, length, line, escaped in _SVG_TEXT.findall(app.export_screenshot()):
        text = html.unescape(escaped).replace("\u00a0", " ")
        column = round(float(x) / (float(length) / len(text))) if text else 0
        row = lines.setdefault(int(line), [])
        row.extend(" " * (column + len(text) - len(row)))
        row[column:column + len(text)] = text
    return "\n".join("".join(lines.get(n, [])).rstrip() for n in range(max(lines, default=-1) + 1))
