"""Attachments in a thread: how each is listed (name, type, size; a calendar invitation's event),
and the prompt that saves one to a folder.

The bytes are not in the store (only a message's text is): saving queues a server operation
that the mailbox's watcher carries out (``app.store.saves``, ``app.imap.ops``); the UI never
talks IMAP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from app.mail.sanitize import safe_filename
from app.store.rows import AttachmentRow, InviteRow
from app.ui.text import line, long_time

DEFAULT_FOLDER = "~/Downloads"
INVITE_WORDS = {"REQUEST": "Invitation", "CANCEL": "Cancelled", "REPLY": "Calendar answer",
                "COUNTER": "New time proposed", "PUBLISH": "Event"}


def size_text(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def kind_text(content_type: object) -> str:
    """A content type in a word: "PDF, ", "calendar invitation, "; nothing when unknown."""
    value = line(content_type).lower()
    if not value or value == "application/octet-stream":
        return ""
    if value == "text/calendar":
        return "calendar invitation, "
    return value.split("/", 1)[-1].upper()[:12] + ", "


def describe(a: AttachmentRow) -> str:
    """``report.pdf (PDF, 46.9 KB)``; the size of a part cut by the fetch limit says so."""
    size = size_text(a.get("size") or 0)
    # only the start of a message over the fetch limit was downloaded
    size = f"truncated: more than {size}" if a.get("truncated") else size
    return f"{line(a.get('filename')) or '(unnamed)'} ({kind_text(a.get('content_type'))}{size})"


def invite_text(invite: InviteRow, tz: tzinfo | None) -> Text:
    """An invitation's event on one line: what, when, who invites (and where)."""
    out = Text()
    word = INVITE_WORDS.get(line(invite.get("method")).upper(), "Invitation")
    out.append(f"{word}: ", style="bold")
    out.append(line(invite.get("title")) or "(no title)")
    when = _when(invite, tz)
    if when:
        out.append(f" · {when}")
    if invite.get("organizer"):
        out.append(f" · organiser {line(invite['organizer'])}")
    if invite.get("location"):
        out.append(f" · {line(invite['location'])}")
    return out


def _when(invite: InviteRow, tz: tzinfo | None) -> str:
    start = line(invite.get("start"))
    if not start:
        return ""
    try:
        if invite.get("all_day"):
            return date.fromisoformat(start).strftime("%a %d %b %Y") + " (all day)"
        moment = datetime.fromisoformat(start)
    except ValueError:
        return start
    if moment.tzinfo is None:
        # a time in a zone Python does not know, or a floating one: shown as written
        zone = line(invite.get("tz"))
        return moment.strftime("%a %d %b %Y %H:%M") + (f" ({zone})" if zone else "")
    return long_time(moment.timestamp(), tz)


@dataclass(frozen=True)
class SaveRequest:
    path: Path
    replace: bool


class SaveAttachmentScreen(ModalScreen[SaveRequest | None]):
    """The folder to save one attachment in (the config.s ``download_folder``, else
    ~/Downloads): enter saves, escape does not. The file's name is the sender's, made safe; when
    a file of that name is in the folder already, a second enter replaces it."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="save_cancel")]

    def __init__(self, attachment: AttachmentRow, folder: str | None) -> None:
        super().__init__()
        self.attachment = attachment
        self.folder = folder or DEFAULT_FOLDER
        self.filename = safe_filename(str(attachment.get("filename") or ""))
        self._confirm: Path | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Label(Text(f"Save {describe(self.attachment)} as {self.filename} in the folder:"),
                        id="picker-title")
            yield Input(value=self.folder, placeholder=DEFAULT_FOLDER, id="save-folder")
            yield Static("", id="save-error")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_changed(self, _: Input.Changed) -> None:
        self._confirm = None
        self.query_one("#save-error", Static).update("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        error = self.query_one("#save-error", Static)
        folder = Path(event.value.strip() or DEFAULT_FOLDER).expanduser()
        if not folder.is_absolute():
            folder = Path.cwd() / folder
        if not folder.is_dir():
            error.update(Text(f"{line(folder)} is not a folder: type another, or escape"))
            return
        path = folder / self.filename
        if path.exists() and self._confirm != path:
            self._confirm = path
            error.update(Text(f"{self.filename} is in {line(folder)} already: enter again to replace it"))
            return
        self.dismiss(SaveRequest(path, replace=path.exists()))

    def action_cancel(self) -> None:
        self.dismiss(None)
