"""The conversation screen: the whole thread, our sent mail and their replies, oldest first.

The new text of each message is shown in full; the history it quotes is folded. Inbound
messages say how the classifier read them and why.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Collapsible, Footer, Static

from app.mail.quotes import split_reply
from app.store.rows import AttachmentRow, ConversationRow, MessageRow
from app.ui.attachments import SaveAttachmentScreen, SaveRequest, describe, invite_text
from app.ui.compose import UNSENT_STATES, unsent_reply_block
from app.ui.folds import EarlierMessage, EarlierTurns, fold_lines
from app.ui.followup import followup_cue
from app.ui.forward import ForwardScreen
from app.ui.messages import RefreshOnStoreChange
from app.ui.pickers import Choice, PickerScreen
from app.ui.status import StatusBar
from app.ui.text import category_label, line, long_time, safe_text, sender_label, short_time
from app.ui.triage import TRIAGE_BINDINGS, TriageActions
from app.ui.typed_app import replydesk

SOURCES = {"user": "your label", "classifier": "classifier", "outbound": "sent"}


HISTORY_LINES = 4
"""The latest history rows the thread's header shows, newest first (all: `replydesk export activity`)."""
ACTION_WORDS = {"label": "labelled", "assign": "assigned to", "unassign": "unassigned", "snooze": "snoozed until",
                "unsnooze": "unsnoozed", "note": "edited the note", "suppress": "suppressed", "reply": "replied"}


def _detail(action: str, detail: str) -> str:
    if action == "label":
        return category_label(detail) if " " not in detail else detail
    if action == "reply":
        return ""
    return detail


def _addresses(values: list[str]) -> str:
    return ", ".join(line(v) for v in values)


class ConversationScreen(RefreshOnStoreChange, TriageActions, Screen):
    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        *TRIAGE_BINDINGS,
        Binding("j,down", "scroll('down')", "Down", show=False, id="cursor_down"),
        Binding("k,up", "scroll('up')", "Up", show=False, id="cursor_up"),
        Binding("g,home", "scroll('home')", "Top", show=False, id="top"),
        Binding("G,end", "scroll('end')", "Bottom", show=False, id="bottom"),
        Binding("f", "fold", "Quotes", show=False, id="fold_quotes"),
        Binding("v", "save_attachment", "Save attachment", show=False, id="save_attachment"),
        Binding("F", "forward", "Forward", show=False, id="forward"),
    ]

    def __init__(self, conversation_id: int) -> None:
        super().__init__()
        self.conversation_id = conversation_id
        self._shown: list[object] = []
        self._saving: dict[int, Path] = {}
        """Attachment saves queued from here, until the watcher carried them out."""

    def compose(self) -> ComposeResult:
        yield Static(id="conv-title")
        # the thread is built here rather than mounted after: its first frame shows the newest reply
        yield VerticalScroll(*self._thread(), id="thread")
        yield StatusBar(id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        conv = self.store.conversation(self.conversation_id)
        if conv is None:
            self.app.pop_screen()
            return
        self._show_title(conv)
        self.query_one(StatusBar).show(replydesk(self).health_summary, replydesk(self).engine_note)
        self.query_one("#thread").focus()
        self.call_after_refresh(self._opened)

    def _opened(self) -> None:
        """Once the thread is on screen: it is read, and the newest reply is in sight."""
        conv = self.store.conversation(self.conversation_id)
        if conv is not None and conv["unread_count"]:
            # opening a thread reads it; not a triage action, so not on the undo list
            self.store.set_seen([self.conversation_id], True, log=False)
        for newest in self.query(".newest").results(Vertical):
            self._open_at(newest)

    def reload(self) -> None:
        conv = self.store.conversation(self.conversation_id)
        if conv is None:
            self.app.pop_screen()
            return
        self._show_title(conv)
        self._report_saves()
        shown = self._shown
        widgets = self._thread()
        if self._shown != shown:
            thread = self.query_one("#thread", VerticalScroll)
            thread.remove_children()
            thread.mount_all(widgets)
        self.query_one(StatusBar).show(replydesk(self).health_summary, replydesk(self).engine_note)
        replydesk(self).store_read()

    def _thread(self) -> list[Widget]:
        """The thread's widgets, oldest first; none when it is the one shown already."""
        messages = self.store.conversation_messages(self.conversation_id)
        # replies still in the outbox (queued, failing, uncertain) follow the thread
        unsent = self.store.outbox_for(self.conversation_id, UNSENT_STATES)
        ids: list[object] = [m["id"] for m in messages] + [(o["id"], o["state"], o["last_error"]) for o in unsent]
        if ids == self._shown:
            return []
        self._shown = ids
        # the thread opens at the newest reply: what came before it (the cold email, older
        # turns) is folded above in a few lines, so only the newest messages are built
        newest = max((i for i, m in enumerate(messages) if m["direction"] == "in"), default=0)
        blocks = [self._message_block(m) for m in messages[newest:]]
        if blocks:
            blocks[0].add_class("newest")
        return [*fold_lines(messages[:newest], self._folded), *blocks, *(unsent_reply_block(o) for o in unsent)]

    def _show_title(self, conv: ConversationRow) -> None:
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append(line(conv["subject"]) or "(no subject)", style="bold")
        title.append(f"  ·  {sender_label(conv['counterpart_name'], conv['counterpart'])}")
        title.append(f"  ·  {line(conv['account'])}", style="dim")
        title.append(f"  [{category_label(conv['category'])}]", style="bold")
        if conv["archived"]:
            title.append("  archived", style="italic")
        app = replydesk(self)
        cue = followup_cue(conv, app.clock(), app.tz, app.follow_up_days)
        if cue:
            title.append(f"  ·  {cue}", style="bold")
        if conv["assigned_to"]:
            title.append(f"  ·  @{line(conv['assigned_to'])}", style="bold")
        if here := app.presence_text(self.conversation_id):
            title.append(f"\n{line(here)}", style="bold reverse")
        if conv["note"]:
            title.append("\nNote: ", style="bold")
            title.append(line(conv["note"]))
        history = self.store.activity(conversation=self.conversation_id, limit=HISTORY_LINES)
        if history:
            title.append("\nHistory: ", style="bold")
            title.append("  ·  ".join(
                f"{short_time(a.at, app.clock(), app.tz)} {line(a.user)} {ACTION_WORDS.get(a.action, a.action)}"
                + (f" {line(_detail(a.action, a.detail))}" if a.detail and a.action != "note" else "")
                for a in reversed(history)))
        for problem in self.store.op_problems_in(self.conversation_id):
            title.append("\nNot on the server: ", style="bold")
            title.append(line(problem))
        self.query_one("#conv-title", Static).update(title)

    def _message_block(self, m: MessageRow) -> Vertical:
        outbound = m["direction"] == "out"
        tz = replydesk(self).tz
        head = Text()
        head.append("You" if outbound else sender_label(m["from_name"], m["from_addr"]), style="bold")
        head.append(f" <{line(m['from_addr'])}>")
        head.append("  sent" if outbound else "  replied", style="dim")
        head.append(f"\nTo: {_addresses(m['to_addrs'])}")
        if m["cc_addrs"]:
            head.append(f"   Cc: {_addresses(m['cc_addrs'])}")
        head.append(f"\nDate: {long_time(m['sent_at'] or m['received_at'], tz)}")
        head.append(f"   Mailbox: {line(m['account'])} · {line(m['folder'])}", style="dim")
        head.append(f"\nSubject: {line(m['subject'])}")
        if not outbound:
            head.append(f"\nCategory: {category_label(m['category'])}", style="bold")
            source = SOURCES.get(m["category_source"], line(m["category_source"]))
            confidence = f", {m['confidence']:.0%}" if m["confidence"] is not None and source == "classifier" else ""
            head.append(f" ({source}{confidence})", style="dim")
        parts: list[Static | Collapsible] = [Static(head, classes="msg-header")]
        body = m["body_text"] or ""
        new = m["new_text"] or body
        parts.append(Static(safe_text(new.strip() or "(no text)"), classes="msg-new"))
        quoted = split_reply(body)[1] if body else ""
        if quoted:
            lines = quoted.count("\n") + 1
            parts.append(Collapsible(Static(safe_text(quoted), classes="msg-quoted"),
                                     title=f"quoted history, {lines} lines", collapsed=True))
        notes = self._notes(m)
        if notes.plain:
            parts.append(Static(notes, classes="msg-notes"))
        return Vertical(*parts, classes="message outbound" if outbound else "message inbound")

    def _open_at(self, target: Vertical) -> None:
        """The newest reply with its body on screen: the folded lines above stay in sight when
        it fits below them, else it starts at the top."""
        thread = self.query_one("#thread", VerticalScroll)
        if target.virtual_region.bottom > thread.scrollable_content_region.height:
            thread.scroll_to_widget(target, top=True, animate=False)

    def _folded(self, m: MessageRow) -> EarlierMessage:
        """An earlier message as one line (who, when, its first words); f or a click unfolds it."""
        outbound = m["direction"] == "out"
        who = "You" if outbound else sender_label(m["from_name"], m["from_addr"])
        first = line((m["new_text"] or m["body_text"] or "").strip().split("\n", 1)[0])[:60]
        title = f"{who} · {long_time(m['sent_at'] or m['received_at'], replydesk(self).tz)} · {first}"
        return EarlierMessage(m, title, self._message_block)

    def _notes(self, m: MessageRow) -> Text:
        notes = Text()
        if m["direction"] == "in" and m["reasons"]:
            notes.append(f"Why {category_label(m['category'])}: ", style="bold")
            notes.append("; ".join(line(r) for r in m["reasons"]))
        for rcpt in m["bounce_recipients"]:
            notes.append("\n" if notes.plain else "")
            kind = "hard" if rcpt.get("hard") else "soft"
            why = line(rcpt.get("reason") or "other").replace("_", " ")
            status = line(rcpt.get("status") or "")
            if why == "complaint":
                notes.append(f"Complained: {line(rcpt.get('address'))} (marked our mail as spam; suppressed)")
            else:
                notes.append(f"Bounced: {line(rcpt.get('address'))}{' ' + status if status else ''} ({why}, {kind})")
        if m["ooo_until"]:
            notes.append(("\n" if notes.plain else "") + f"Away until {line(m['ooo_until'])}")
        if m["referral"]:
            notes.append(("\n" if notes.plain else "") + f"Points to {line(m['referral'])}")
        if m["attachments"]:
            notes.append(("\n" if notes.plain else "") + "Attachments: ", style="bold")
            notes.append(", ".join(describe(a) for a in m["attachments"]))
            notes.append("  (v saves)", style="dim")
            for a in m["attachments"]:
                invite = a.get("invite")
                if invite:
                    notes.append("\n")
                    notes.append_text(invite_text(invite, replydesk(self).tz))
        return notes

    # -- keys ----------------------------------------------------------------------------

    def triage_targets(self) -> list[int]:
        return [self.conversation_id]

    def after_triage(self, note: str, *, archived: bool = False, labelled: bool = False) -> None:
        app = replydesk(self)
        app.say(note)
        config = app.config
        # the setting that moves the inbox's cursor on after a label moves an open thread on too
        advance = config.general.advance_after_label if config is not None else True
        if labelled and advance:
            app.open_next_conversation(self.conversation_id)
        elif archived:
            app.pop_screen()
        else:
            self.reload()

    def action_forward(self) -> None:
        """Forward the newest message of the other side, through the mailbox that received it."""
        self.app.push_screen(ForwardScreen(self.conversation_id))

    # -- attachments ---------------------------------------------------------------------

    def action_save_attachment(self) -> None:
        """Pick one of the thread's attachments (newest message first), then the folder."""
        found = [(m, i, a) for m in reversed(self.store.conversation_messages(self.conversation_id))
                 for i, a in enumerate(m["attachments"])]
        if not found:
            self.app.bell()
            replydesk(self).say("no attachments in this thread")
            return
        if len(found) == 1:
            self._ask_folder(*found[0])
            return
        tz = replydesk(self).tz
        choices = [Choice(str(n), f"{describe(a)} · {sender_label(m['from_name'], m['from_addr'])}, "
                                  f"{long_time(m['sent_at'] or m['received_at'], tz)}")
                   for n, (m, _, a) in enumerate(found)]

        def chosen(choice: Choice | None) -> None:
            if choice is not None and choice.value is not None:
                self._ask_folder(*found[int(choice.value)])
        self.app.push_screen(PickerScreen("Save which attachment?", choices, None), chosen)

    def _ask_folder(self, m: MessageRow, index: int, a: AttachmentRow) -> None:
        config = replydesk(self).config
        folder = config.general.download_folder if config is not None else None

        def chosen(request: SaveRequest | None) -> None:
            if request is None:
                return
            op = self.store.queue_attachment_save(m["id"], index, request.path, replace=request.replace)
            self._saving[op] = request.path
            replydesk(self).say(f"saving {request.path.name} to {request.path.parent}: "
                         "fetched from the mailbox's server")
        self.app.push_screen(SaveAttachmentScreen(a, folder), chosen)

    def _report_saves(self) -> None:
        for op, path in list(self._saving.items()):
            outcome = self.store.op_outcome(op)
            if outcome is None or outcome.state == "pending":
                continue
            del self._saving[op]
            if outcome.state == "done":
                replydesk(self).say(f"saved {path}")
            else:
                replydesk(self).say(f"{path.name} not saved: {outcome.error}")

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_scroll(self, where: str) -> None:
        thread = self.query_one("#thread", VerticalScroll)
        {"down": thread.scroll_down, "up": thread.scroll_up, "home": thread.scroll_home,
         "end": thread.scroll_end}[where](animate=False)

    def action_fold(self) -> None:
        """Unfold every earlier message and quoted history, or fold them all again when any is open."""
        quotes = list(self.query(Collapsible))
        earlier = list(self.query(EarlierMessage))
        turns = list(self.query(EarlierTurns))
        collapse = not all(f.collapsed for f in quotes) or any(e.unfolded for e in earlier)
        if not collapse:
            for group in turns:
                earlier.extend(group.spread())
        for quote in quotes:
            quote.collapsed = collapse
        for fold in earlier:
            fold.set_unfolded(not collapse)
