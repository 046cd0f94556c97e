"""The replydesk Textual app: wires the store, the optional in-process engine, themes, keymap
and screens. Screens own their widgets and actions; this class stays thin."""

from __future__ import annotations

import asyncio
import gc
import os
import secrets
import socket
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterable
from datetime import datetime, tzinfo
from functools import partial
from pathlib import Path
from typing import Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from app import config_file, selfrun
from app.config import Config
from app.errors import EngineLocked, ReplydeskError
from app.store import Store
from app.store.activity import Presence
from app.store.changes import Changes, watch
from app.store.followups import woke_text
from app.store.health import StoreHealth, read_store_health, status_path
from app.store.inbox import SORTS
from app.store.rows import AccountRow
from app.ui.attachments import SaveAttachmentScreen
from app.ui.compose import ComposeScreen, latest_inbound, reply_caution
from app.ui.conversation import ConversationScreen
from app.ui.health import HealthScreen
from app.ui.help import HelpScreen
from app.ui.inbox import VIEW_LABELS, InboxScreen
from app.ui.inbox_list import InboxList
from app.ui.messages import StoreChanged
from app.ui.notices import HOT_CATEGORIES, Notice, Notices
from app.ui.pickers import Choice, PickerScreen
from app.ui.status import HealthSummary, StatusBar
from app.ui.text import sender_label
from app.ui.themes import DEFAULT_THEME, VARIABLE_DEFAULTS, load_themes
from app.ui.triage import TRIAGE_BINDINGS
from app.ui.warmup import TagProposalScreen, TagsReapplied, WarmupLearning

ANNOUNCE_WINDOW = 86400.0
"""Arrivals received longer ago than this are history being synced, not news."""
TEXTUAL_COMMANDS = {"Theme", "Quit"}
"""Textual's palette commands kept."""
TRIAGE_HELP = {"reply": "Answer from the mailbox that received it", "undo": "Take back the last label, "
               "archive or read change", "archive": "Archive, or move back to the inbox",
               "assign": "Give the selected conversations to a teammate (or to no one)"}
SAY_SECONDS = 3.0
"""How long the result of a key (a label, an archive) stays in the status bar."""


class ReplydeskApp(App[int]):
    """``ReplydeskApp(store_path, config, engine=None)``.

    ``engine``: an ``app.engine.Engine`` to start and stop with the UI (in-process mode), or
    None when a ``replydesk sync`` owns the database (``attached=True``) or in tests.
    ``clock`` and ``tz`` fix "now" and the display time zone (tests, screenshots).
    """

    CSS_PATH = "replydesk.tcss"
    TITLE = "replydesk"
    BINDINGS = [
        Binding("q", "quit", "Quit", show=False, id="quit"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("h", "health", "Health", show=False, id="health"),
    ]

    def __init__(self, store_path: Path | str, config: Config | None = None, *, engine: Any = None,
                 attached: bool = False, clock: Callable[[], float] = time.time, tz: tzinfo | None = None,
                 poll_interval: float = 0.25, user: str | None = None, heartbeat: float = 10.0) -> None:
        super().__init__()
        self.store = Store(store_path, user or (config.general.who() if config is not None else None))
        self.team = list(config.general.team) if config is not None else []
        # who you are shows in the status bar once there is a team: a user named in the
        # config or here, teammates in the config, or someone else already in the history
        self.show_user = bool(user or self.team or (config is not None and config.general.user)
                              or len(self.store.known_users()) > 1)
        self.config = config
        self.engine = engine
        self.attached = attached
        self.clock = clock
        self.tz = tz
        self.poll_interval = poll_interval
        """Seconds between two looks for another process's writes, and between presence checks."""
        themes, self._theme_problems = load_themes()
        for theme in themes:
            self.register_theme(theme)
        wanted = config.general.theme if config is not None else DEFAULT_THEME
        if wanted not in self.available_themes:
            self._theme_problems.append(f"theme {wanted!r} not found; using {DEFAULT_THEME}")
            wanted = DEFAULT_THEME
        self.theme = wanted
        self._saved_theme = wanted
        self._theme_timer: Any = None
        if config is not None and config.keymap:
            self.set_keymap(config.keymap)
        self._mark = self.store.db.change_mark()
        self._watch: watch | None = None
        self.changes_seen = -1
        """The count of the store's change signal the screen has caught up with."""
        self._last_message_id = self.store.newest_message_id()
        self._woke_mark = self.store.woken_after(0)[0]
        self.store_health: StoreHealth | None = None
        self.engine_failure: tuple[str, str] | None = None
        """Why the in-process engine did not start, and the fix (status bar, health screen)."""
        self._store_health_mtime: float | None = None
        self._next_refresh = 0.0
        # presence: this terminal tells the others which conversation it shows or answers
        self.terminal = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.heartbeat = heartbeat
        self.presence: dict[int, list[Presence]] = {}
        self._presence_sent: tuple[int, str] | None = None
        self._presence_beat = float("-inf")
        self.reload_cost = 0.0
        accounts = self.store.accounts()
        self.health_summary = self._summary(accounts)
        self._synced = {a["id"] for a in accounts if a["last_sync"]}
        """Mailboxes seen with a finished sync: only their new mail is news."""
        self.warmup = WarmupLearning(self)
        self.notices = Notices()
        self._notice_timer: Any = None

    @property
    def follow_up_days(self) -> int:
        return self.config.general.follow_up_days if self.config is not None else 3

    @property
    def engine_note(self) -> str:
        if self.engine is not None:
            note = "engine: in-process"
        elif self.engine_failure is not None:
            note = f"engine: failed — {self.engine_failure[0]}"
        else:
            note = "engine: replydesk sync" if self.attached else "engine: off"
        if self.show_user:
            note = f"you: {self.store.user}  │ {note}"
        if self.warmup.progress is not None:
            done, total = self.warmup.progress
            note += f"  │ applying warmup tags {done:,}/{total:,}"
        if self.store_health is not None and self.store_health.problem:
            note += f"  │ {self.store_health.problem}"
        return note

    # -- the theme picked in the palette is kept ----------------------------------------

    def watch_theme(self, name: str) -> None:
        """Written to the config's ``[general] theme`` after a short pause, so stepping
        through themes writes the file once."""
        if not self.is_running or self.config is None or self.config.path is None:
            return
        if self._theme_timer is not None:
            self._theme_timer.stop()
        self._theme_timer = self.set_timer(0.5, self._save_theme)

    def _save_theme(self) -> None:
        self._theme_timer = None
        name = self.theme
        if self.config is None or self.config.path is None or name == self._saved_theme:
            return
        try:
            config_file.set_general(self.config.path, "theme", name)
        except ReplydeskError as exc:
            self.notify(f"theme not saved: {exc}", severity="warning", markup=False, timeout=10)
            return
        self._saved_theme = name

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(VARIABLE_DEFAULTS)

    def on_mount(self) -> None:
        self.push_screen(InboxScreen())
        for problem in self._theme_problems + self._keymap_problems():
            self.notify(problem, severity="warning", markup=False, timeout=10)
        self.set_interval(self.poll_interval, self._tick)
        if self.store.path is not None:
            self._watch = watch(self.store.path, self.poll_interval)
            self.run_worker(self._follow_store(self._watch.changes), group="store", exclusive=True)
        if self.engine is not None:
            self.run_worker(self._run_engine(), group="engine", exclusive=True, exit_on_error=False)
        self.call_after_refresh(self._freeze_startup_objects)

    @staticmethod
    def _freeze_startup_objects() -> None:
        """Modules, styles and the inbox's widgets live as long as the app: once the first
        screen is drawn they are set aside from the collector (``gc.freeze``), so its full
        passes, which otherwise walk every one of them, stay short while threads are opened
        (bench/bench_thread_open.py). ``on_unmount`` hands them back."""
        gc.collect()
        gc.freeze()

    async def _run_engine(self) -> None:
        try:
            await self.engine.start()
        except EngineLocked:
            # a `replydesk sync` started between the lock check and now: use that one
            self.engine, self.attached = None, True
            self.screen.post_message(StoreChanged())
        except Exception as exc:  # whatever it is, the user is told, never left guessing
            self.engine = None
            what = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            if isinstance(exc, OSError) and exc.filename:
                what = f"{exc.strerror or exc}: {exc.filename}"
            hint = getattr(exc, "hint", None) or (
                "check [general] database and log_file in the config; `replydesk sync` shows the same error")
            self.engine_failure = (what, hint)
            self.notify(f"engine failed to start: {what} — {hint}", title="engine", severity="error",
                        markup=False, timeout=30)
            self.screen.post_message(StoreChanged())

    async def action_quit(self) -> None:
        await self._stop_engine()
        self.exit(0)

    async def _stop_engine(self) -> None:
        engine, self.engine = self.engine, None
        if engine is not None:
            await engine.stop()

    async def on_unmount(self) -> None:
        if self._theme_timer is not None:
            self._theme_timer.stop()
            self._save_theme()
        await self._stop_engine()
        if self._watch is not None:
            self._watch.close()
        if self._presence_sent is not None:
            try:
                self.store.set_presence(self.terminal, None, "", self.clock())
            except (ReplydeskError, sqlite3.Error):
                pass  # the heartbeat stops: the others drop it within PRESENCE_SECONDS
        self.store.close()
        gc.unfreeze()  # what was set aside at start can be collected again (a process running several apps)

    def _keymap_problems(self) -> list[str]:
        """A [keymap] entry naming no binding would be ignored without a word: say so."""
        screens = (InboxList, InboxScreen, ConversationScreen, HealthScreen, HelpScreen, PickerScreen,
                   ComposeScreen, TagProposalScreen, SaveAttachmentScreen, ReplydeskApp)
        known = {b.id for cls in screens for b in cls.BINDINGS if isinstance(b, Binding) and b.id}
        keymap = self.config.keymap if self.config is not None else {}
        return [f"[keymap] {name}: no key binding has this id (see the ? screen)"
                for name in sorted(set(keymap) - known)]

    def on_tags_reapplied(self, message: TagsReapplied) -> None:
        self.warmup.reapplied(message)

    # -- live updates ----------------------------------------------------------------------

    def _tick(self) -> None:
        """A few times a second: this terminal's presence, and the engine's note beside the
        database (a full disk: the rows cannot say so, its status file does)."""
        self._presence_tick(time.monotonic())
        if not self.screen_stack:
            return  # the app is closing
        if self._store_health_changed():
            self.screen.post_message(StoreChanged())

    async def _follow_store(self, changes: Changes) -> None:
        """Every screen on show re-reads the store when it changes: at once after a write in
        this process (a key here, the in-process engine), within a tick after another process's
        (``replydesk sync``, a teammate's terminal). While a big sync commits without pause,
        refreshes are spaced by how long the last one took."""
        seen = self.changes_seen = changes.count
        while True:
            await changes.wait(seen)
            pause = self._next_refresh - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            seen = changes.count
            self._refresh()
            self.changes_seen = seen

    def store_read(self) -> None:
        """The screen on show has just re-read the store (a label's key reloads the list at once):
        this terminal's own writes so far are on it, and the change signal they raised needs no
        second refresh. A write by another connection not yet refreshed for still gets one, so
        its arrivals are announced."""
        version, own = self.store.db.change_mark()
        if version == self._mark[0]:
            self._mark = (version, own)

    def _refresh(self) -> None:
        if not self.screen_stack:
            return  # the app is closing: a write seen in its last moments has no screen to show on
        mark = self.store.db.change_mark()
        if mark == self._mark:
            return  # woken for what this terminal has already read
        self._mark = mark
        started = time.monotonic()
        accounts = self.store.accounts()
        self.health_summary = self._summary(accounts)
        # a mailbox still in its first sync is fetching history, not receiving news: until a refresh
        # has seen its first sync finished, what it stores is not announced
        self._announce_arrivals([a["id"] for a in accounts if a["id"] not in self._synced
                                 or (a["sync_total"] or 0) > (a["sync_done"] or 0)])
        self._synced |= {a["id"] for a in accounts if a["last_sync"]}
        self._announce_wakes()
        self.presence = self.store.presence(self.clock(), besides=self.terminal)
        self.screen.post_message(StoreChanged())
        self._next_refresh = started + 4 * (time.monotonic() - started + self.reload_cost)

    def _on_screen(self) -> tuple[int, str] | None:
        """The conversation this terminal shows, and whether a reply to it is being written."""
        for screen in reversed(self.screen_stack):
            if isinstance(screen, ComposeScreen):
                # a forward goes to someone else: the others see the thread viewed, not answered
                return screen.conversation_id, "replying" if screen.KIND == "reply" else "viewing"
            if isinstance(screen, ConversationScreen):
                return screen.conversation_id, "viewing"
        return None

    def _presence_tick(self, now: float) -> None:
        """Write this terminal's presence when it changes and every ``heartbeat`` seconds; at
        each beat read the others' again, so a terminal that died drops out without a write."""
        shown = self._on_screen()
        beat = now - self._presence_beat >= self.heartbeat
        if shown != self._presence_sent or (beat and shown is not None):
            try:
                conv, state = shown if shown is not None else (None, "")
                self.store.set_presence(self.terminal, conv, state, self.clock())
            except (ReplydeskError, sqlite3.Error):
                return  # the store cannot be written: the health screen says why
            self._presence_sent = shown
        if beat:
            self._presence_beat = now
            seen = self.store.presence(self.clock(), besides=self.terminal)
            if seen != self.presence:
                self.presence = seen
                self.screen.post_message(StoreChanged())

    def presence_text(self, conversation: int) -> str:
        """"sam is replying", "kim is viewing" (others' terminals only)."""
        return ", ".join(p.text() for p in self.presence.get(conversation, []))

    def _summary(self, accounts: list[AccountRow]) -> HealthSummary:
        """The status line's counts. Before the engine has registered the configured mailboxes
        (its first seconds), they count as syncing rather than as none at all."""
        summary = HealthSummary.of(accounts)
        configured = len([a for a in self.config.accounts if a.enabled]) if self.config is not None else 0
        if not summary.total and configured:
            return HealthSummary(syncing=configured)
        return summary

    @property
    def notice_seconds(self) -> float:
        return self.config.general.notice_seconds if self.config is not None else 8.0

    @property
    def notice(self) -> Notice | None:
        """What the status bars show first: new replies, a conversation that came back."""
        return self.notices.shown(time.monotonic())

    def _show_notice(self) -> None:
        for bar in self.screen.query(StatusBar):
            bar.redraw()
        if self._notice_timer is not None:
            self._notice_timer.stop()
        notice = self.notice
        if notice is not None:
            # a moment after it ends, so the line is drawn without it
            self._notice_timer = self.set_timer(notice.until - time.monotonic() + 0.05, self._show_notice)

    def say(self, text: str) -> None:
        """The result of a key the user pressed, for a moment in the status bar's line."""
        self.notices.say(text, time.monotonic(), SAY_SECONDS)
        self._show_notice()

    def _store_health_changed(self) -> bool:
        path = self.store.path
        if path is None:
            return False
        try:
            mtime = os.stat(status_path(path)).st_mtime
        except OSError:
            mtime = None
        if mtime == self._store_health_mtime:
            return False
        self._store_health_mtime = mtime
        before = self.store_health.problem if self.store_health else None
        self.store_health = read_store_health(path) if mtime is not None else None
        return (self.store_health.problem if self.store_health else None) != before

    @property
    def store_problem(self) -> str | None:
        """What keeps the engine from writing the database, with its fix, or None."""
        h = self.store_health
        return f"{h.problem} — {h.fix}" if h is not None and h.problem else None

    def _announce_wakes(self) -> None:
        """Conversations back from a snooze, an out-of-office or a wait with no answer."""
        self._woke_mark, woken = self.store.woken_after(self._woke_mark)
        if not woken:
            return
        first = woken[0]
        why = woke_text(first["woke_reason"], self.follow_up_days)
        who = sender_label(first["counterpart_name"], first["counterpart"])
        message = f"{who}: {why}" if len(woken) == 1 else f"{len(woken)} conversations came back; {who}: {why}"
        self.notices.woke(message, time.monotonic(), self.notice_seconds)
        self._show_notice()

    def _announce_arrivals(self, skip_accounts: list[str]) -> None:
        upto = self.store.newest_message_id()
        count, newest = self.store.arrivals_since(self._last_message_id, upto, self.clock() - ANNOUNCE_WINDOW,
                                                  skip_accounts=skip_accounts, limit=50)
        self._last_message_id = upto
        fresh = self.notices.fresh(newest)
        count -= len(newest) - len(fresh)  # a reply stored twice (another folder) is told once
        if count <= 0:
            return
        first = fresh[0]
        self.notices.replies(count, first, time.monotonic(), self.notice_seconds)
        self._show_notice()
        if first["category"] in HOT_CATEGORIES and (self.config is None or self.config.general.bell):
            # the terminal's bell reaches a user in another window or tmux pane
            self.bell()

    # -- navigation --------------------------------------------------------------------------

    def open_conversation(self, conversation_id: int) -> None:
        self.push_screen(ConversationScreen(conversation_id))

    def open_next_conversation(self, after: int) -> None:
        """Leave the thread ``after`` for the next conversation of the inbox's view (as a label
        in the list moves the cursor on); back to the list when there is none."""
        self.pop_screen()
        inbox = self.screen_stack[-1] if self.screen_stack else None
        if not isinstance(inbox, InboxScreen):
            return
        inbox.reload()
        rows = inbox.inbox_list
        if rows.current_id == after:
            rows.action_cursor_down()
        # the cursor left the labelled one (or it left the view, which put the cursor on the next)
        if rows.current_id is not None and rows.current_id != after:
            self.open_conversation(rows.current_id)

    def action_reply(self, conversation_id: int) -> None:
        """Open the reply; to a bounce, an automatic answer or a no-reply address, ask first."""
        row = latest_inbound(self.store, conversation_id)
        caution = reply_caution(row) if row is not None else None
        replying = [p.user for p in self.presence.get(conversation_id, []) if p.state == "replying"]
        if replying:
            caution = f"{', '.join(replying)} is already writing a reply to this conversation."
        if caution is None:
            self.push_screen(ComposeScreen(conversation_id))
            return

        def chosen(choice: Choice | None) -> None:
            if choice is not None and choice.value == "reply":
                self.push_screen(ComposeScreen(conversation_id))

        self.push_screen(PickerScreen(caution, [Choice(None, "Don't reply"), Choice("reply", "Reply anyway")],
                                      None), chosen)

    def action_health(self) -> None:
        if isinstance(self.screen, HealthScreen):
            self.pop_screen()
        else:
            self.push_screen(HealthScreen())

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        sections: list[tuple[str, list]] = [
            ("Inbox", [*InboxList.BINDINGS, *InboxScreen.BINDINGS]),
            ("Conversation", list(ConversationScreen.BINDINGS)),
            ("Health", list(HealthScreen.BINDINGS)),
            ("Reply", list(ComposeScreen.BINDINGS)),
            ("Everywhere", [*self.BINDINGS, Binding("ctrl+p", "command_palette", "Command palette")]),
        ]
        self.push_screen(HelpScreen(sections))

    def export(self, what: str) -> None:
        """``replydesk export WHAT`` into a dated CSV file in the current directory, run as the
        command itself (one code path for the file a CRM or a sending platform reads)."""
        if self.config is None or self.config.path is None:
            self.say("export needs a config file: replydesk export " + what)
            return
        stamp = datetime.fromtimestamp(self.clock(), self.tz).strftime("%Y%m%d-%H%M")
        target = Path.cwd() / f"replydesk-{what}-{stamp}.csv"
        argv = selfrun.argv("app", "--config", str(self.config.path), "export", what, "-o", str(target))

        def work() -> None:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=selfrun.env())
            problem = (done.stderr.strip().splitlines() or ["failed"])[-1] if done.returncode else None
            self.call_from_thread(self.say, f"export failed: {problem}" if problem else
                                  f"{what} exported to {target}")
        self.run_worker(work, thread=True, group="export", exit_on_error=False)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Textual's own: the theme and quit; our help replaces its key panel, and its maximize
        # and screenshot are no part of triage
        yield from (c for c in super().get_system_commands(screen) if c.title in TEXTUAL_COMMANDS)
        if isinstance(screen, (InboxScreen, ConversationScreen)):
            keys = {b.id: b.key.split(",")[0] for b in TRIAGE_BINDINGS if b.id}
            for binding in TRIAGE_BINDINGS:
                if binding.action in ("snooze", "note", "mark_warmup"):
                    continue  # offered below with their own words
                yield SystemCommand(f"{binding.description} ({keys[binding.id]})" if binding.id else binding.description,
                                    TRIAGE_HELP.get(binding.action, "On the selected conversations, or the one under "
                                                    "the cursor"),
                                    partial(screen.run_action, binding.action))
        yield SystemCommand("Export: leads (CSV)", "Interested and meeting replies for a CRM, to a file in "
                            "the current directory", partial(self.export, "leads"))
        yield SystemCommand("Export: suppression list (CSV)", "Bounced, complained and do-not-contact addresses "
                            "for your sending platform, to a file in the current directory",
                            partial(self.export, "suppressions"))
        yield SystemCommand("Export: team activity (CSV)", "Who labelled, assigned, snoozed, noted, suppressed and "
                            "replied, and when, to a file in the current directory", partial(self.export, "activity"))
        yield SystemCommand("Health", "Mailbox health: connections, errors, bounce and reply rates",
                            self.action_health)
        yield SystemCommand("Help", "Every key and its keymap id", self.action_help)
        yield SystemCommand("Warmup: apply the tags", "Read the config's warmup tags again and apply them to "
                            "every stored message", self.warmup.apply)
        if isinstance(screen, (InboxScreen, ConversationScreen)):
            yield SystemCommand("Mark as warmup (W)", "Move the selected conversations to Noise, hands off on "
                                "the server; after a few, replydesk proposes their warmup tag",
                                screen.action_mark_warmup)
        if isinstance(screen, InboxScreen):
            for view, label in VIEW_LABELS.items():
                yield SystemCommand(f"View: {label}", f"Show {label.lower()}", partial(screen.action_view, view))
            yield SystemCommand("Filter: unread only", "Toggle showing unread conversations only",
                                screen.action_toggle_unread)
            yield SystemCommand("Filter: category", "Show one category", screen.action_pick_category)
            yield SystemCommand("Filter: mailbox", "Show one mailbox", screen.action_pick_account)
            yield SystemCommand("Search", "Full-text search of sender, subject and text", screen.action_search)
            yield SystemCommand("View: Sent and drafts (0)", "What replydesk sent or holds: failed, uncertain and "
                                "draft replies to resume, what is queued, what was sent", screen.action_outbox)
            for order, sort in SORTS.items():
                yield SystemCommand(f"Sort: {sort.label} (S)", f"List the conversations {sort.label}",
                                    partial(screen.action_sort, order))
        if isinstance(screen, ConversationScreen):
            yield SystemCommand("Forward (F)", "Forward the newest message of this conversation to someone, "
                                "from the mailbox that received it", screen.action_forward)
            yield SystemCommand("Save an attachment (v)", "Save one of this conversation's attachments to a folder",
                                screen.action_save_attachment)
        if isinstance(screen, InboxScreen | ConversationScreen):
            yield SystemCommand("Snooze", "Hide the conversation until a time you choose (s)", screen.action_snooze)
            yield SystemCommand("Note", "A private note on the conversation (N)", screen.action_note)
