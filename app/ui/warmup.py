"""Learning a warmup tag from the user: after a few conversations marked as warmup (``W``), the
token they share is proposed; an accepted tag is written to the config and applied to every
stored message in one pass (a thread worker with its own store connection), with its progress
on the status line."""

from __future__ import annotations

import os
import signal
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from app import config_file
from app.config import Config, load_config
from app.engine_lock import engine_lock_holder
from app.errors import ReplydeskError
from app.mail.noise import TagProposal
from app.noise import noise_contexts
from app.store import Reapplied, Store

if TYPE_CHECKING:
    from app.ui.app import ReplydeskApp


class TagProposalScreen(ModalScreen[bool | None]):
    """Dismisses with True (accept), False (reject, never proposed again) or None (later)."""

    BINDINGS = [
        Binding("a,y", "decide(True)", "Accept", id="warmup_tag_accept"),
        Binding("r,n", "decide(False)", "Reject", id="warmup_tag_reject"),
        Binding("escape", "later", "Later", id="warmup_tag_later"),
    ]

    def __init__(self, proposal: TagProposal) -> None:
        super().__init__()
        self.proposal = proposal

    def compose(self) -> ComposeResult:
        p = self.proposal
        body = Text()
        body.append(p.tag, style="bold")
        body.append(f" is in all {p.marked} messages you marked as warmup")
        body.append(f" and in {p.others_with:,} of the {p.others:,} others." if p.others else ".")
        body.append("\n\nAdd it to the config's warmup tags? Mail carrying it goes to Noise and is "
                    "never touched on the server.\n\n")
        body.append("a", style="bold")
        body.append(" accept   ")
        body.append("r", style="bold")
        body.append(" reject   ")
        body.append("escape", style="bold")
        body.append(" later")
        with Vertical(id="picker"):
            yield Label(Text("Warmup tag found"), id="picker-title")
            yield Static(body, id="warmup-proposal")

    def action_decide(self, accepted: bool) -> None:
        self.dismiss(accepted)

    def action_later(self) -> None:
        self.dismiss(None)


@dataclass
class TagsReapplied(Message):
    """The accepted tag is applied to the stored messages (or the pass failed with ``error``)."""

    tag: str
    result: Reapplied | None
    error: str | None = None


def configured_tags(config: Config | None) -> list[str]:
    if config is None:
        return []
    return [*config.general.warmup_tags, *(t for a in config.accounts for t in a.warmup_tags)]


class WarmupLearning:
    """The App's part in it: proposing a tag after a mark, taking the user's answer, applying it."""

    def __init__(self, app: ReplydeskApp) -> None:
        self.app = app
        self.progress: tuple[int, int] | None = None
        """Messages done and in all while tags are applied to the store (the worker thread writes it)."""

    def propose(self) -> None:
        proposal = self.app.store.propose_warmup_tag(configured_tags(self.app.config))
        if proposal is not None:
            self.app.push_screen(TagProposalScreen(proposal), lambda accepted: self._decided(proposal.tag, accepted))

    def _decided(self, tag: str, accepted: bool | None) -> None:
        if accepted is None:
            return
        if not accepted:
            self.app.store.decide_warmup_tag(tag, False)
            self.app.notify(f"{tag} is not a warmup tag: it will not be proposed again", markup=False, timeout=4)
            return
        if self.app.config is None or self.app.config.path is None:
            self.app.notify("warmup tag not kept: replydesk runs without a config file", severity="error",
                        markup=False, timeout=10)
            return
        try:
            config = config_file.add_warmup_tag(self.app.config.path, tag)
        except ReplydeskError as exc:
            self.app.notify(f"warmup tag not saved: {exc}", severity="error", markup=False, timeout=15)
            return
        self.app.config = config
        self.app.store.decide_warmup_tag(tag, True)
        if self._engine_takes(config):
            self.app.notify(f"warmup tag {tag} added to {config.path}; the engine applies it to the stored "
                            "mail", markup=False, timeout=6)
            return
        self.app.notify(f"warmup tag {tag} added to {config.path}; applying it to the stored mail",
                        markup=False, timeout=4)
        self.apply(tag)

    def apply(self, tag: str = "") -> None:
        """Apply the config's warmup tags to every stored message (also from the palette, after
        editing the tags by hand: the file is read again)."""
        config = self.app.config
        if not tag and config is not None and config.path is not None:
            try:
                config = self.app.config = load_config(config.path)
            except ReplydeskError as exc:
                self.app.notify(str(exc), severity="error", markup=False, timeout=15)
                return
            self._engine_takes(config)  # and the pass runs here all the same: asked for, shown
        if config is None:
            self.app.notify("no config: no warmup tags to apply", severity="warning", markup=False, timeout=6)
            return
        self.progress = (0, 0)
        self.app.run_worker(lambda: self._reapply(tag, config), thread=True, group="warmup-tags",
                        exclusive=True, exit_on_error=False)

    def _engine_takes(self, config: Config) -> bool:
        """New mail is classified with the new tags: the engine in this process reloads at once
        (the stored mail is left to this UI's pass, with its progress); a ``replydesk sync`` on
        this machine is sent SIGHUP, as a reload is asked of it, and then applies the tags to the
        stored mail itself. Returns whether that engine does."""
        if self.app.engine is not None:
            self.app.run_worker(self.app.engine.reload(config, reapply_noise=False), group="engine-reload",
                                exit_on_error=False)
            return False
        holder = engine_lock_holder(config.database) or ""
        parts = holder.split()
        if len(parts) == 4 and parts[0] == "pid" and parts[1].isdigit() and parts[3] == socket.gethostname():
            try:
                os.kill(int(parts[1]), signal.SIGHUP)
                return True
            except OSError:
                pass
        if holder:
            self.app.notify(f"the engine ({holder}) uses the new tag after its config is reloaded (SIGHUP)",
                            severity="warning", markup=False, timeout=15)
        return False

    def _reapply(self, tag: str, config: Config) -> None:
        """Runs in a thread, on its own connection (a Store is not shared between threads)."""
        store = Store(self.app.store.path or ":memory:")
        try:
            def progress(done: int, total: int) -> None:
                self.progress = (done, total)

            result = store.reapply_warmup(noise_contexts(config), progress)
        except Exception as exc:  # shown on screen, never lost
            self.app.post_message(TagsReapplied(tag, None, f"{type(exc).__name__}: {exc}"))
        else:
            self.app.post_message(TagsReapplied(tag, result))
        finally:
            store.close()

    def reapplied(self, message: TagsReapplied) -> None:
        self.progress = None
        if message.result is None:
            self.app.notify(f"warmup tag {message.tag} saved, but applying it to the stored mail failed: "
                        f"{message.error} (ctrl+p, Warmup: apply the tags, tries again)", severity="error",
                        markup=False, timeout=30)
            return
        moved, back = message.result.to_warmup, message.result.from_warmup
        what = f"warmup tag {message.tag}" if message.tag else "warmup tags"
        note = f"{what}: {moved:,} message{'s' if moved != 1 else ''} moved to Noise"
        if back:
            note += f", {back:,} no longer warmup"
        self.app.notify(note, markup=False, timeout=6)
