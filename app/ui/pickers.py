"""A small modal list to pick one value (a category, a mailbox) from the keyboard."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option


@dataclass(frozen=True)
class Choice:
    value: str | None
    label: str
    count: int | None = None


class PickerScreen(ModalScreen[Choice | None]):
    """Dismisses with the chosen ``Choice``, or None on escape."""

    BINDINGS = [
        Binding("escape,q", "cancel", "Cancel", id="picker_cancel"),
        Binding("j", "move('down')", "Down", show=False, id="picker_down"),
        Binding("k", "move('up')", "Up", show=False, id="picker_up"),
    ]

    def __init__(self, title: str, choices: list[Choice], current: str | None) -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Label(Text(self.title_text), id="picker-title")
            options = []
            for choice in self.choices:
                label = Text(choice.label)
                if choice.count is not None:
                    label.append(f"  {choice.count:,}", style="dim")
                options.append(Option(label))
            yield OptionList(*options, id="picker-options")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        index = next((i for i, c in enumerate(self.choices) if c.value == self.current), 0)
        options.highlighted = index
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[event.option_index])

    def action_move(self, direction: str) -> None:
        options = self.query_one(OptionList)
        options.action_cursor_down() if direction == "down" else options.action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)
