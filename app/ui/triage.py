"""One-key triage, shared by the inbox and the conversation screens."""

from __future__ import annotations

from collections.abc import Callable

from textual.binding import Binding
from textual.dom import DOMNode

from app.store import Store
from app.ui.followup import NoteScreen, SnoozeChoice, SnoozeScreen
from app.ui.pickers import Choice, PickerScreen
from app.ui.text import category_label
from app.ui.typed_app import replydesk

TRIAGE_BINDINGS = [
    Binding("i", "label('interested')", "Interested", id="interested"),
    Binding("m", "label('meeting')", "Meeting", show=False, id="meeting"),
    Binding("n", "label('not_interested')", "Not int.", id="not_interested"),
    Binding("d", "do_not_contact", "Do not contact", show=False, id="do_not_contact"),
    Binding("w", "label('wrong_person')", "Wrong person", show=False, id="wrong_person"),
    Binding("o", "label('out_of_office')", "Out of office", show=False, id="out_of_office"),
    Binding("e", "archive", "Archive", id="archive"),
    Binding("U", "toggle_read", "Read/unread", show=False, id="toggle_read"),
    Binding("W", "mark_warmup", "Warmup", show=False, id="mark_warmup"),
    Binding("z", "undo", "Undo", id="undo"),
    Binding("r", "reply", "Reply", id="reply"),
    Binding("s", "snooze", "Snooze", id="snooze"),
    Binding("N", "note", "Note", show=False, id="note"),
    Binding("A", "assign", "Assign", show=False, id="assign"),
]

UNDONE = {"label": "label", "flag": "read state", "archive": "archive"}
BULK_INLINE = 2_000
"""A label, archive or read change on more conversations than this (every one of a big view,
marked with ``*``) is written in a thread on a connection of its own: 64,000 took 15 s, during
which the screen froze. Fewer are written at once, as the key is pressed."""


class TriageActions:
    """Mixed into a Screen. The screen says what a key acts on (``triage_targets``) and shows
    the result (``after_triage``); labels, flags and undo are the store's."""

    @property
    def store(self) -> Store:
        return replydesk(self).store

    def triage_targets(self) -> list[int]:
        raise NotImplementedError

    def after_triage(self, note: str, *, archived: bool = False, labelled: bool = False) -> None:
        """Show the result. ``labelled``: a one-key label, after which the inbox moves on."""
        raise NotImplementedError

    _bulk_running = False
    """A big bulk write is under way in its thread: other triage keys wait for it."""

    def _targets_or_bell(self) -> list[int]:
        if self._bulk_running:
            replydesk(self).say("still working on the last change: a moment")
            return []
        targets = self.triage_targets()
        if not targets:
            replydesk(self).bell()
        return targets

    def _write(self, targets: list[int], write: Callable[[Store], Callable[[], None]], *,
               size: int | None = None, busy: str | None = None) -> None:
        """Run ``write`` (the store change; it returns what to show after it) now, or for a big
        selection (``size`` rows, the targets by default) in a thread on a connection of its
        own while the screen stays responsive, saying ``busy`` meanwhile."""
        size = len(targets) if size is None else size
        if size <= BULK_INLINE or self.store.path is None:  # (a store in memory has one connection)
            write(self.store)()
            return
        app = replydesk(self)
        path, user = self.store.path, self.store.user
        self._bulk_running = True
        app.say(busy or f"working on {size:,} conversations…")

        def work() -> None:
            store = Store(path if path is not None else ":memory:", user)
            try:
                done = write(store)
            finally:
                store.close()
            app.call_from_thread(self._bulk_done, done)

        def failed(exc: BaseException) -> None:
            self._bulk_running = False
            app.say(f"not done: {exc}")

        def guarded() -> None:
            try:
                work()
            except Exception as exc:  # the user is told; nothing is left half-said
                app.call_from_thread(failed, exc)
        assert isinstance(self, DOMNode)
        self.run_worker(guarded, thread=True, group="bulk-triage", exit_on_error=False)

    def _bulk_done(self, done: Callable[[], None]) -> None:
        self._bulk_running = False
        done()

    def action_label(self, category: str) -> None:
        targets = self._targets_or_bell()
        if targets:
            def write(store: Store) -> Callable[[], None]:
                store.set_category(targets, category)
                return lambda: self.after_triage(f"{category_label(category)}{_count(targets)}", labelled=True)
            self._write(targets, write)

    def action_do_not_contact(self) -> None:
        targets = self._targets_or_bell()
        if targets:
            def write(store: Store) -> Callable[[], None]:
                store.set_category(targets, "unsubscribe")
                return lambda: self.after_triage(f"do not contact{_count(targets)}: sender on the suppression list",
                                                 labelled=True)
            self._write(targets, write)

    def action_archive(self) -> None:
        targets = self._targets_or_bell()
        if not targets:
            return

        def write(store: Store) -> Callable[[], None]:
            rows = store.conversations_by_id(targets)
            restore = len(rows) == len(targets) and all(r["archived"] for r in rows)
            store.archive(targets, archived=not restore)
            return lambda: self.after_triage(
                f"{'moved back to the inbox' if restore else 'archived'}{_count(targets)}", archived=not restore)
        self._write(targets, write)

    def action_toggle_read(self) -> None:
        targets = self._targets_or_bell()
        if not targets:
            return

        def write(store: Store) -> Callable[[], None]:
            unread = any(r["unread_count"] for r in store.conversations_by_id(targets))
            store.set_seen(targets, unread)
            return lambda: self.after_triage(f"marked {'read' if unread else 'unread'}{_count(targets)}")
        self._write(targets, write)

    def action_mark_warmup(self) -> None:
        """Warmup the classifier missed: to Noise, and from now on left alone on the server. Again
        on marked conversations takes the mark back. After a few marks a tag is proposed."""
        targets = self._targets_or_bell()
        if not targets:
            return
        if all(self.store.is_marked_warmup(c) for c in targets):
            self.store.mark_warmup(targets, warmup=False)
            self.after_triage(f"no longer marked as warmup{_count(targets)}")
            return
        self.store.mark_warmup(targets)
        self.after_triage(f"warmup{_count(targets)}: in Noise, left alone on the server")
        replydesk(self).warmup.propose()

    def action_undo(self) -> None:
        if self._bulk_running:  # what it would undo is not the change being written
            replydesk(self).say("still working on the last change: a moment")
            return
        def write(store: Store) -> Callable[[], None]:
            action = store.undo_last()
            if action is None:
                return lambda: replydesk(self).say("nothing to undo")
            return lambda: self.after_triage(f"undone: {UNDONE.get(action, action)}")
        # a label on a whole view is undone in the background, as it was given
        size = self.store.undo_size()
        self._write([], write, size=size, busy=f"undoing the last change on {size:,} messages…")

    def action_snooze(self) -> None:
        targets = self._targets_or_bell()
        if not targets:
            return
        rows = [self.store.conversation(c) for c in targets]
        pending = any(r is not None and (r["snoozed_until"] or r["waiting_since"]) for r in rows)
        app = replydesk(self)

        def chosen(choice: SnoozeChoice | None) -> None:
            if choice is None:
                return
            if choice.wake_now:
                self.store.unsnooze(targets)
            else:
                assert choice.until is not None
                self.store.snooze(targets, choice.until, at=app.clock())
            self.after_triage(f"snoozed until {choice.label}{_count(targets)}" if not choice.wake_now
                              else f"back in the inbox{_count(targets)}")

        app.push_screen(SnoozeScreen(app.clock(), app.tz, count=len(targets), pending=pending), chosen)

    def action_note(self) -> None:
        targets = self._targets_or_bell()
        if not targets:
            return
        conv = targets[0]

        def chosen(text: str | None) -> None:
            if text is None:
                return
            self.store.set_note(conv, text)
            self.after_triage("note kept" if text.strip() else "note removed")

        replydesk(self).push_screen(NoteScreen(self.store.note(conv)), chosen)

    def action_assign(self) -> None:
        """Give the conversations to a teammate (or to no one): the team from the config and
        everyone seen in the history."""
        targets = self._targets_or_bell()
        if not targets:
            return
        app = replydesk(self)
        me = self.store.user
        current = self.store.assignee(targets[0])
        choices = [Choice(u, f"{u} (you)" if u == me else u) for u in self.store.known_users(app.team)]
        choices.append(Choice(None, "no one (unassigned)"))

        def chosen(choice: Choice | None) -> None:
            if choice is None:
                return
            self.store.assign(targets, choice.value)
            self.after_triage(f"assigned to {choice.value}{_count(targets)}" if choice.value
                              else f"unassigned{_count(targets)}")

        app.push_screen(PickerScreen(f"Assign{_count(targets)} to", choices, current), chosen)

    def action_reply(self) -> None:
        targets = self._targets_or_bell()
        if targets:
            replydesk(self).action_reply(targets[0])


def _count(targets: list[int]) -> str:
    return f" ({len(targets)} conversations)" if len(targets) > 1 else ""
