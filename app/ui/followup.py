"""Snooze and note: the two prompts of follow-ups (the store and the engine keep the time)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from app.store.followups import woke_text
from app.store.rows import ConversationRow
from app.when import PRESETS, WhenError, describe, local_now, parse_when, preset


@dataclass(frozen=True)
class SnoozeChoice:
    """What the snooze prompt decided: a wake time, or ``wake_now`` to end a snooze or wait."""

    until: float | None = None
    wake_now: bool = False
    label: str = ""


class SnoozeScreen(ModalScreen[SnoozeChoice | None]):
    """A preset from the list (j/k, enter), or a time typed on the line below it ("3d", "dec 14",
    "2026-12-14 09:00"). A time it cannot read is said in place and changes nothing."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="snooze_cancel"),
        Binding("j", "move(1)", "Down", show=False, id="snooze_down"),
        Binding("k", "move(-1)", "Up", show=False, id="snooze_up"),
        Binding("slash,colon", "type_time", "Type a time", show=False, id="snooze_type"),
    ]

    def __init__(self, clock: float, tz, *, count: int, pending: bool) -> None:
        super().__init__()
        self.now = local_now(clock, tz)
        self.count = count
        self.pending = pending
        self.choices: list[tuple[str, str, float | None]] = []
        for name, label in PRESETS:
            when = preset(name, self.now)
            self.choices.append((name, f"{label}  ·  {describe(when, self.now)}", when.timestamp()))
        if pending:
            self.choices.append(("now", "Back to the inbox now", None))

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            what = "conversation" if self.count == 1 else f"{self.count} conversations"
            yield Label(Text(f"Snooze {what} until …"), id="picker-title")
            yield OptionList(*[Option(Text(label)) for _, label, _ in self.choices], id="picker-options")
            yield Input(placeholder="or type: 3d, 2w, tomorrow 14:00, dec 14 …", id="snooze-input")
            yield Static("", id="snooze-error")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = 0
        options.focus()

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if options.has_focus:
            options.action_cursor_down() if step > 0 else options.action_cursor_up()

    def action_type_time(self) -> None:
        self.query_one(Input).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        name, label, until = self.choices[event.option_index]
        if name == "now":
            self.dismiss(SnoozeChoice(wake_now=True, label="back in the inbox"))
        else:
            self.dismiss(SnoozeChoice(until=until, label=label.split("  ·  ")[-1]))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            when = parse_when(event.value, self.now)
        except WhenError as exc:
            self.query_one("#snooze-error", Static).update(Text(str(exc), style="bold"))
            return
        self.dismiss(SnoozeChoice(until=when.timestamp(), label=describe(when, self.now)))

    def action_cancel(self) -> None:
        self.dismiss(None)


class NoteScreen(ModalScreen[str | None]):
    """One line of private note for a conversation: enter keeps it, an empty line removes it,
    escape changes nothing."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="note_cancel")]

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Label(Text("Note (only you see it; enter keeps it, empty removes it)"), id="picker-title")
            yield Input(value=self.current, placeholder="call after the board meeting …", id="note-input")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)



def followup_cue(row: ConversationRow, clock: float, tz, follow_up_days: int) -> str:
    """What a conversation waits for, or why it came back, in a few words ("" for neither)."""
    now = local_now(clock, tz)
    if until := row["snoozed_until"]:
        when = describe(local_now(until, tz), now)
        reason = row["snooze_reason"]
        if reason == "no_answer":
            return f"waiting for an answer · back {when}"
        if reason == "out_of_office":
            return f"out of office · back {when}"
        return f"snoozed until {when}"
    if since := row["waiting_since"]:
        return f"waiting since {describe(local_now(since, tz), now)}"
    if woke := row["woke_reason"]:
        return woke_text(woke, follow_up_days)
    return ""
