"""The ? screen: every key, what it does, and the id to remap it with in the config's [keymap]."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from app.ui.typed_app import replydesk


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,question_mark", "close", "Close", id="help_close"),
        Binding("j", "scroll(1)", "Down", show=False, id="help_down"),
        Binding("k", "scroll(-1)", "Up", show=False, id="help_up"),
    ]

    def __init__(self, sections: list[tuple[str, list[Binding]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(self._text(), id="help-text")

    def _keys(self, binding: Binding) -> str:
        config = replydesk(self).config
        keymap: Mapping[str, str] = config.keymap if config is not None else {}  # the user's [keymap]
        keys = keymap.get(binding.id, binding.key) if binding.id else binding.key
        return " ".join(self.app.get_key_display(replace(binding, key=k.strip(), key_display=None))
                        for k in keys.split(","))

    def _text(self) -> Text:
        text = Text()
        text.append("Keys  ", style="bold")
        text.append("(remap any of them by id in the [keymap] table of the config)\n", style="dim")
        text.append("j k ↑ ↓ pgup pgdn scroll this list, escape closes it\n", style="dim")
        # the widest description sets the column, so no description runs into its id
        width = max((len(b.description) for _, bindings in self.sections for b in bindings), default=0) + 2
        for title, bindings in self.sections:
            text.append(f"\n{title}\n", style="bold underline")
            seen: set[str] = set()
            for binding in bindings:
                ident = binding.id or binding.action
                if ident in seen:
                    continue
                seen.add(ident)
                text.append(f"  {self._keys(binding):<14}", style="bold")
                text.append(binding.description.ljust(width))
                text.append(f"{binding.id or ''}\n", style="dim")
        return text

    def on_mount(self) -> None:
        self.query_one("#help").focus()

    def action_scroll(self, lines: int) -> None:
        self.query_one("#help", VerticalScroll).scroll_relative(y=lines, animate=False)

    def action_close(self) -> None:
        self.dismiss(None)
