"""The Sent and drafts screen: what replydesk sent or holds — replies and forwards that failed or
may have gone, drafts, what is queued or being sent, and what was sent — each with its state.
Enter resumes one that did not go (its text kept) in the compose screen, or opens the thread."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from app.store.lifecycle import OUTBOX_EDITABLE
from app.store.rows import OutboxListing
from app.ui.compose import ComposeScreen
from app.ui.forward import ForwardScreen
from app.ui.messages import RefreshOnStoreChange
from app.ui.status import StatusBar
from app.ui.text import ago, line
from app.ui.typed_app import replydesk

SHOWN = 500
"""The newest items listed (the outbox keeps every reply ever sent)."""

STATES = {
    "failed": ("failed", "bold reverse", "not sent"),
    "uncertain": ("uncertain", "bold reverse", "may or may not have been delivered"),
    "draft": ("draft", "bold", "kept, not sent"),
    "attaching": ("preparing", "", "its attachments are being fetched"),
    "queued": ("queued", "", "waiting for its turn to be sent"),
    "sending": ("sending", "", "being handed to the mailbox's SMTP server"),
    "sent": ("sent", "dim", "accepted by the mailbox's SMTP server"),
}
"""Each state as the table says it, its style, and as the line under the table says it."""

NEXT = {"failed": "enter opens it to send it again or discard it",
        "uncertain": "enter opens it to send it again or record that it arrived",
        "draft": "enter opens it to finish it"}

RESUMABLE: frozenset[str] = OUTBOX_EDITABLE
"""What enter takes up in the compose screen: the outbox lifecycle's editable states."""

COLUMNS = ("State", "To", "Subject", "When", "Mailbox", "What")


class OutboxScreen(RefreshOnStoreChange, Screen):
    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("enter", "open", "Resume / open", id="open"),
        Binding("j", "cursor('down')", "Down", show=False, id="cursor_down"),
        Binding("k", "cursor('up')", "Up", show=False, id="cursor_up"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._items: list[OutboxListing] = []

    def compose(self) -> ComposeResult:
        yield Static(id="outbox-title")
        yield DataTable(id="outbox-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="outbox-detail")
        yield StatusBar(id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for name in COLUMNS:
            table.add_column(name, key=name)
        self.reload()
        table.focus()

    def on_screen_resume(self) -> None:
        self.reload()

    def reload(self) -> None:
        items, total = replydesk(self).store.outbox_listing(SHOWN)
        now = replydesk(self).clock()
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        for item in items:
            table.add_row(*self._cells(item, now), key=str(item["id"]))
        if items:
            table.move_cursor(row=min(keep, len(items) - 1), animate=False)
        self._items = items
        self._show_detail()
        held = sum(1 for i in items if i["state"] in RESUMABLE)
        title = Text("Sent and drafts", style="bold")
        title.append(f"  {total:,} item{'s' if total != 1 else ''}")
        if total > len(items):
            title.append(f", the {len(items):,} that matter most shown")
        if held:
            title.append(f" · {held:,} not sent: enter resumes one with its text", style="bold")
        if not items:
            title.append("  Nothing sent or held yet: r in a conversation writes a reply.")
        self.query_one("#outbox-title", Static).update(title)
        self.query_one(StatusBar).show(replydesk(self).health_summary, replydesk(self).engine_note)

    @staticmethod
    def _cells(item: OutboxListing, now: float) -> list[Text]:
        label, style, _ = STATES.get(item["state"], (item["state"], "", ""))
        when = item["sent_at"] if item["state"] == "sent" and item["sent_at"] else item["updated_at"]
        return [Text(label, style=style), Text(line(", ".join(item["recipients"]))), Text(line(item["subject"])),
                Text(ago(when, now)), Text(line(item["account"])), Text(line(item["kind"]))]

    def _show_detail(self) -> None:
        """The highlighted item in words: its state, the server's reason, what enter does."""
        item = self.current
        detail = Text()
        if item is not None:
            _, style, said = STATES.get(item["state"], (item["state"], "", item["state"]))
            detail.append(f"{item['kind'].capitalize()} to {line(', '.join(item['recipients']))}: {said}", style="bold")
            if item["last_error"]:
                detail.append(f"\n{line(item['last_error'])}")
            detail.append(f"\n{NEXT.get(item['state'], 'enter opens its conversation')}", style="dim")
        self.query_one("#outbox-detail", Static).update(detail)

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self._show_detail()

    @property
    def current(self) -> OutboxListing | None:
        row = self.query_one(DataTable).cursor_row
        return self._items[row] if 0 <= row < len(self._items) else None

    def action_cursor(self, direction: str) -> None:
        table = self.query_one(DataTable)
        if direction == "down":
            table.action_cursor_down()
        else:
            table.action_cursor_up()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_open(self) -> None:
        item = self.current
        if item is None:
            return
        conversation = item["conversation_id"]
        if conversation is None:
            replydesk(self).say("this item belongs to no conversation (its message is gone)")
            return
        if item["state"] in RESUMABLE:
            # the compose screen takes up the conversation's kept item, text and recipients
            screen = ForwardScreen if item["kind"] == "forward" else ComposeScreen
            self.app.push_screen(screen(conversation, item["id"]))
        else:
            replydesk(self).open_conversation(conversation)

    def on_data_table_row_selected(self, _: DataTable.RowSelected) -> None:
        self.action_open()
