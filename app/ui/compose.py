"""The compose screen: answer a conversation from the mailbox that received it.

From, To and Subject are decided by the message being answered (the account that received it;
Reply-To or From; one "Re:"), so they are shown, not edited. The text area holds the whole
reply, the signature and the quoted original included, and can be handed to ``$EDITOR``.
Sending puts the reply in the outbox (the engine's drainer sends it; it shows in the thread
once the server accepted it). Cancelling with changes keeps them as a draft, reopened next time.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import tempfile

from rich.text import Text
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static, TextArea

from app.config import Account
from app.errors import ReplydeskError
from app.mail import Address, ParsedMessage, sanitize
from app.mail.compose import reply_recipients, reply_subject
from app.mail.templates import fill_template, template_values
from app.replying import Reply, reply_to
from app.store import Store
from app.store.activity import RECENT_REPLY_SECONDS
from app.store.lifecycle import OUTBOX_EDITABLE, OUTBOX_HELD, IllegalTransition, OutboxState
from app.store.rows import MessageRow, OutboxItem
from app.ui.pickers import Choice, PickerScreen
from app.ui.text import line
from app.ui.typed_app import replydesk


def edit_externally(text: str) -> str:
    """Run ``$VISUAL`` / ``$EDITOR`` (else ``vi``) on ``text`` and return what was saved.

    The file is private to the user (``mkstemp`` creates it 0600) and removed afterwards.
    """
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    fd, path = tempfile.mkstemp(prefix="replydesk-reply-", suffix=".txt")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        subprocess.run([*shlex.split(editor), path], check=False)
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    finally:
        os.unlink(path)


UNSENT_STATES = tuple(s.value for s in OutboxState if s not in (OutboxState.DRAFT, OutboxState.SENT))
_UNSENT_TITLES = {
    "attaching": "Your reply waits for its attachments (fetched from the mailbox's server)",
    "queued": "Your reply is queued",
    "sending": "Your reply is being sent",
    "failed": "Your reply was NOT sent",
    "uncertain": "Your reply may or may not have been delivered",
}


def unsent_reply_block(item: OutboxItem) -> Static:
    """A reply (or forward) of this conversation still in the outbox, for the conversation
    screen: its state, the server's words when it failed, and its text."""
    text = Text()
    title = _UNSENT_TITLES.get(item["state"], item["state"])
    if item["kind"] == "forward":
        title = title.replace("Your reply", f"Your forward to {', '.join(item['recipients'])}")
    text.append(line(title), style="bold")
    if item["last_error"]:
        text.append(f"\n{'Retrying after: ' if item['state'] == 'queued' else ''}{line(item['last_error'])}")
    key = "F" if item["kind"] == "forward" else "r"
    if item["state"] == "failed":
        text.append(f"\n{key} opens it to send it again or discard it", style="italic")
    elif item["state"] == "uncertain":
        text.append(f"\n{key} opens it to send it again or record that it arrived", style="italic")
    new_part = (item["body"] or "").split("\n-- \n", 1)[0].strip()
    text.append("\n\n")
    text.append(sanitize(new_part) or "(no text)")
    return Static(text, classes=f"message outbound unsent {item['state']}")


_MACHINE_SENDER = re.compile(r"mailer[-_.]?daemon|mail[-_.]?daemon|postmaster|no[-_.]?reply|"
                             r"do[-_.]?not[-_.]?reply|bounces?\b", re.IGNORECASE)


def reply_caution(row: MessageRow) -> str | None:
    """Why a reply to this message would reach no person (a bounce notice, an automatic answer,
    a no-reply address), for a question before the reply opens; None for a person."""
    address = line(row.get("from_addr"))
    local = address.rsplit("@", 1)[0][:64]
    if row.get("kind") == "bounce":
        return f"This is a delivery failure notice from {address}: a reply goes to a mail system, not to a person."
    if row.get("kind") == "autoreply" and row.get("category") != "out_of_office":
        # an out-of-office notice comes from a person who will be back: answering it is a follow-up
        return f"This is an automatic reply from {address}: a reply is likely to reach a machine, not a person."
    if _MACHINE_SENDER.search(local):
        return f"{address} is a no-reply address: a reply is likely to be refused or unread."
    return None


def latest_inbound(store: Store, conversation_id: int) -> MessageRow | None:
    """The message a reply answers: the latest the other side wrote."""
    inbound = [m for m in store.conversation_messages(conversation_id) if m["direction"] == "in"]
    return inbound[-1] if inbound else None


class ComposeScreen(Screen[None]):
    KIND = "reply"
    """What this screen writes: the outbox item's kind (``ForwardScreen``: ``forward``)."""
    REQUIRES_EDIT = True
    """Sending wants the text changed first (a reply says something)."""
    CSS_PATH = "compose.tcss"
    BINDINGS = [
        Binding("ctrl+s", "send", "Send", priority=True, id="send_reply"),
        Binding("ctrl+e", "editor", "$EDITOR", priority=True, id="external_editor"),
        Binding("ctrl+t", "template", "Template", priority=True, id="insert_template"),
        Binding("escape", "cancel", "Cancel (keeps a draft)", priority=True, id="cancel_reply"),
        Binding("ctrl+d", "discard", "Discard", priority=True, id="discard_reply"),
        Binding("ctrl+r", "delivered", "It arrived", priority=True, id="mark_delivered"),
    ]

    def __init__(self, conversation_id: int, item_id: int | None = None) -> None:
        super().__init__()
        self.conversation_id = conversation_id
        self.resume_id = item_id
        """The kept outbox item to take up (the Sent and drafts screen's choice); else the newest."""
        self.account: Account | None = None
        self.original: ParsedMessage | None = None
        self.row: MessageRow | None = None
        self.reply: Reply | None = None
        """The reply builder ``replydesk reply`` uses too (None for a forward)."""
        self.recipients: list[str] = []
        self.initial_text = ""
        self.draft_id: int | None = None
        """The outbox item being edited: a draft, or a reply that was not sent."""
        self.draft_state = "draft"
        self._suppressed: list[str] = []
        self._confirmed = False
        self._confirmed_recent = False
        self._confirmed_discard = False

    @property
    def store(self) -> Store:
        return replydesk(self).store

    def compose(self) -> ComposeResult:
        yield Static(id="compose-title")
        yield Static(id="compose-headers")
        yield from self.compose_fields()
        yield Static(id="compose-warning")
        yield TextArea(id="compose-body", soft_wrap=True, tab_behavior="indent")
        yield Footer()

    def compose_fields(self) -> ComposeResult:
        """Fields between the headers and the text (a forward's recipients)."""
        yield from ()

    def on_mount(self) -> None:
        problem = self._load()
        if problem:
            self.app.notify(problem, title="reply", severity="error", markup=False, timeout=8)
            self.app.pop_screen()
            return
        assert self.account is not None and self.original is not None
        self.query_one("#compose-title", Static).update(Text(self.KIND.capitalize(), style="bold"))
        self.query_one("#compose-headers", Static).update(self._headers())
        self._suppressed = [r for r in self.recipients if self.store.is_suppressed(r)]
        if self._suppressed:
            self._warn(f"{line(', '.join(self._suppressed))} is on the suppression list (do not contact).")
        self.initial_text = self._initial_text()
        kept = [item for item in self.store.outbox_for(self.conversation_id, OUTBOX_EDITABLE)
                if item["kind"] == self.KIND]
        body = self.query_one("#compose-body", TextArea)
        body.text = self.initial_text
        if kept:
            item = next((i for i in kept if i["id"] == self.resume_id), kept[-1])
            self.draft_id, self.draft_state = item["id"], item["state"]
            body.text = self.initial_text = item["body"]
            self._restored(item)
            if item["state"] == "failed":
                self._warn(f"Not sent: {line(item['last_error'])}\nctrl+s sends it again.")
            elif item["state"] == "uncertain":
                self._warn(f"Delivery uncertain: {line(item['last_error'])}\n"
                           "ctrl+s sends it again: only if the recipient does not have it; "
                           "ctrl+r records that it arrived.")
            else:
                self._say("draft restored")
            self.refresh_bindings()
        body.move_cursor((0, 0))
        if not kept:
            self._follow_up_template()
        body.focus()

    def _headers(self) -> Text:
        assert self.account is not None and self.original is not None
        headers = Text()
        headers.append("From: ", style="bold")
        headers.append(line(str(Address(self.account.name, self.account.email))))
        headers.append("\nTo: ", style="bold")
        headers.append(line(", ".join(str(a) for a in reply_recipients(self.original))))
        headers.append("\nSubject: ", style="bold")
        headers.append(line(reply_subject(self.original.subject)))
        return headers

    def _initial_text(self) -> str:
        assert self.reply is not None
        return self.reply.text()

    def _restored(self, item: OutboxItem) -> None:
        """A kept draft or unsent item was put back in the text area."""

    def _follow_up_template(self) -> None:
        """A conversation back from out of office, or with no answer to ours, starts with the
        template the config names for it (``ooo_template``, ``follow_up_template``)."""
        config = replydesk(self).config
        state = self.store.followup_state(self.conversation_id)
        if config is None or state is None:
            return
        name = {"out_of_office": config.general.ooo_template,
                "no_answer": config.general.follow_up_template}.get(state["woke_reason"] or "")
        if name and name in self._templates():
            self._insert_template(Choice(name, name))
            self.initial_text = self.query_one("#compose-body", TextArea).text
            self._say(f"template {name!r} ready for this follow-up")

    def _load(self) -> str | None:
        """Find the message to answer and its account; a sentence saying why not, otherwise."""
        row = latest_inbound(self.store, self.conversation_id)
        if row is None:
            return "no message from the other side to reply to"
        config = replydesk(self).config
        if config is None:
            return "no config loaded: cannot tell which mailbox sends"
        try:
            self.reply = reply_to(config, row)
        except ReplydeskError as exc:
            return str(exc)
        self.row, self.account, self.original = row, self.reply.account, self.reply.original
        self.recipients = self.reply.recipients
        return None

    def _say(self, text: str) -> None:
        """A word about the reply, in its title line: nothing pops up over the text being written."""
        title = Text(self.KIND.capitalize(), style="bold")
        title.append(f"  · {line(text)}", style="italic")
        self.query_one("#compose-title", Static).update(title)

    def _warn(self, text: str) -> None:
        warning = self.query_one("#compose-warning", Static)
        warning.update(Text(text, style="bold"))
        warning.display = True

    def _build(self, text: str) -> tuple[str, bytes]:
        assert self.reply is not None
        # the text area already holds the signature and the quote: the builder adds nothing
        return self.reply.build(text)

    def _save(self, text: str, *, send: bool) -> int:
        """One store call: the reply (new, or the draft or unsent one being edited) kept as a
        draft or queued; which moves are allowed is the outbox's table, not this screen's.
        Raises IllegalTransition when another terminal moved it on meanwhile."""
        assert self.account is not None and self.original is not None and self.row is not None
        message_id, raw = self._build(text)
        return self.store.save_reply(
            self.draft_id, send=send, account=self.account.id, message_id=message_id, raw=raw,
            recipients=self.recipients, subject=self.original.subject, body=text,
            reply_to_message=self.row["id"], conversation_id=self.row["conversation_id"], kind=self.KIND,
            attach_from=self._attach_from())

    def _attach_from(self) -> int | None:
        """The message whose attachments go with what is sent (``ForwardScreen``)."""
        return None

    def _saved(self, text: str, *, send: bool) -> bool:
        try:
            self.draft_id = self._save(text, send=send)
        except IllegalTransition as exc:
            self._refused(exc)
            return False
        return True

    def _refused(self, exc: IllegalTransition) -> None:
        """The item moved on elsewhere (sent, discarded) meanwhile: say so, keep the text on screen."""
        self._warn(f"Not saved: {line(str(exc))}.\nCopy the text if you need it, then escape.")
        self.app.bell()

    # -- keys ----------------------------------------------------------------------------

    def action_send(self) -> None:
        text = self.query_one("#compose-body", TextArea).text
        unchanged = (self.REQUIRES_EDIT and text == self.initial_text
                     and self.draft_state not in OUTBOX_HELD)
        if not text.strip() or unchanged:
            self.app.bell()
            self._say(f"write the {self.KIND} first")
            return
        if self._suppressed and not self._confirmed:
            self._confirmed = True
            self._warn(f"{line(', '.join(self._suppressed))} is on the suppression list (do not contact).\n"
                       "Press ctrl+s again to send anyway, escape to keep it as a draft.")
            self.app.bell()
            return
        recent = [] if self._confirmed_recent or self.KIND != "reply" else self.store.recent_replies(
            self.conversation_id, besides=self.draft_id)
        if recent:
            self._confirmed_recent = True
            who = sorted({"you" if u == self.store.user else u for u in recent})
            self._warn(f"{line(' and '.join(who))} replied to this conversation in the last "
                       f"{RECENT_REPLY_SECONDS / 60:.0f} minutes.\n"
                       "Press ctrl+s again to send anyway, escape to keep it as a draft.")
            self.app.bell()
            return
        assert self.account is not None
        if not self._saved(text, send=True):
            return
        self.app.notify(f"{self.KIND} queued, sending from {self.account.email}", markup=False, timeout=3)
        self._close()

    def action_cancel(self) -> None:
        text = self.query_one("#compose-body", TextArea).text
        if text != self.initial_text and text.strip():
            if not self._saved(text, send=False):
                return
            self.app.notify("draft kept: r opens it again", timeout=3)
        self._close()

    def _close(self) -> None:
        self.app.pop_screen()  # what was written reaches the screen below through the change signal

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # False hides the key: each is offered only where it means something
        if action == "template":
            return bool(self._templates())
        if action == "discard":
            # a new reply is discarded too: otherwise ctrl+d fell through to the text area
            return self.draft_state != OutboxState.UNCERTAIN
        if action == "delivered":
            return self.draft_state == OutboxState.UNCERTAIN
        return True

    def action_discard(self) -> None:
        text = self.query_one("#compose-body", TextArea).text
        if self.draft_id is None and text == self.initial_text:
            self._close()  # nothing written yet: nothing to lose
            return
        if not self._confirmed_discard:
            self._confirmed_discard = True
            self._warn("Discard this reply? Its text is deleted. Press ctrl+d again to discard.")
            self.app.bell()
            return
        if self.draft_id is not None:
            try:
                self.store.discard_reply(self.draft_id)
            except IllegalTransition as exc:
                self._refused(exc)
                return
        self.app.notify("reply discarded", timeout=2)
        self._close()

    def action_delivered(self) -> None:
        """The user checked that the uncertain reply reached the recipient: it counts as sent
        (Sent copy, \\Answered, shown in the thread), as if the server's answer had come back."""
        assert self.draft_id is not None and self.account is not None
        try:
            self.store.record_delivered(self.draft_id, append_to_sent=not self.account.smtp_saves_sent)
        except IllegalTransition as exc:
            self._refused(exc)
            return
        self.app.notify("recorded as delivered", timeout=2)
        self._close()

    def _templates(self) -> dict[str, str]:
        config = replydesk(self).config
        return config.templates if config is not None else {}

    def action_template(self) -> None:
        """Pick a saved reply; it goes in at the cursor with the prospect's details filled in."""
        templates = self._templates()
        choices = [Choice(name, f"{name}  {line(text.strip().splitlines()[0])[:50]}")
                   for name, text in templates.items()]
        self.app.push_screen(PickerScreen("Insert a saved reply", choices, None), self._insert_template)

    def _insert_template(self, choice: Choice | None) -> None:
        if choice is None or choice.value is None:
            return
        assert self.account is not None and self.original is not None and self.row is not None
        values = template_values(self.original, Address(self.account.name, self.account.email),
                                 self.row.get("referral"))
        body = self.query_one("#compose-body", TextArea)
        body.insert(fill_template(self._templates()[choice.value], values).rstrip("\n") + "\n")
        body.focus()

    def action_editor(self) -> None:
        body = self.query_one("#compose-body", TextArea)
        try:
            with self.app.suspend():
                edited = edit_externally(body.text)
        except SuspendNotSupported:
            self._say("cannot hand the terminal to an editor here")
            return
        except OSError as exc:
            self._say(f"editor failed: {exc}")
            return
        body.text = edited
        body.focus()
