"""Forwarding a message of a conversation (``F`` in the thread): the compose screen with a To line.

The forward goes out through the mailbox that received the message, by the same outbox and
drainer as a reply, as a new thread for its recipients (``Fwd:``, no In-Reply-To); sending it
neither marks the prospect answered nor starts the wait for their answer. The original follows
the text with its headers. Its attachments go with it: only a message's text is stored, so the
forward waits in the outbox until the mailbox's watcher fetched the message and added them.
"""

from __future__ import annotations

from email.utils import getaddresses

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Input

from app.errors import ReplydeskError
from app.mail import Address
from app.mail.compose import build_forward, forward_subject, forward_text, stored_original
from app.store.rows import OutboxItem
from app.ui.attachments import describe
from app.ui.compose import ComposeScreen, latest_inbound
from app.ui.text import line
from app.ui.typed_app import replydesk


def parse_recipients(value: str) -> tuple[list[str], list[str]]:
    """The addresses typed on the To line, and the pieces that are not an address."""
    good: list[str] = []
    bad: list[str] = []
    for piece in value.replace(";", ",").split(","):
        piece = piece.strip()
        if not piece:
            continue
        found = getaddresses([piece])
        address = found[0][1] if len(found) == 1 else ""
        local, at, domain = address.rpartition("@")
        if at and local and "." in domain and not any(c.isspace() or ord(c) < 32 for c in address):
            good.append(address)
        else:
            bad.append(piece)
    return good, bad


class ForwardScreen(ComposeScreen):
    KIND = "forward"
    REQUIRES_EDIT = False  # forwarding as it is, without a word, is usual

    def compose_fields(self) -> ComposeResult:
        yield Input(placeholder="To: name@company.com, another@company.com", id="forward-to")

    def _load(self) -> str | None:
        """The newest message the other side wrote (else the newest of the thread), and the
        mailbox it came through."""
        row = latest_inbound(self.store, self.conversation_id)
        if row is None:
            messages = self.store.conversation_messages(self.conversation_id)
            row = messages[-1] if messages else None
        if row is None:
            return "nothing in this conversation to forward"
        config = replydesk(self).config
        if config is None:
            return "no config loaded: cannot tell which mailbox sends"
        try:
            self.account = config.account(row["account"])
        except ReplydeskError as exc:
            return str(exc)
        self.row = row
        self.original = stored_original(row)
        self.recipients = []
        return None

    def on_mount(self) -> None:
        super().on_mount()
        if self.is_attached and self.account is not None:
            self.query_one("#forward-to", Input).focus()

    def _headers(self) -> Text:
        assert self.account is not None and self.original is not None and self.row is not None
        headers = Text()
        headers.append("From: ", style="bold")
        headers.append(line(str(Address(self.account.name, self.account.email))))
        headers.append("\nSubject: ", style="bold")
        headers.append(line(forward_subject(self.original.subject)))
        if self.row["attachments"]:
            headers.append("\nAttachments: ", style="bold")
            headers.append(", ".join(describe(a) for a in self.row["attachments"]))
            headers.append(" (fetched from the mailbox's server when you send)", style="italic")
        return headers

    def _attach_from(self) -> int | None:
        """A forward of a message with attachments waits for them: the watcher fetches the message
        (only its text is stored), adds them, and queues the forward (one store call, like a reply)."""
        assert self.row is not None
        return self.row["id"] if self.row["attachments"] else None

    def _initial_text(self) -> str:
        assert self.account is not None and self.original is not None
        return forward_text(self.original, "", self.account.signature)

    def _restored(self, item: OutboxItem) -> None:
        self.recipients = list(item["recipients"])
        self.query_one("#forward-to", Input).value = ", ".join(self.recipients)

    def _build(self, text: str) -> tuple[str, bytes]:
        assert self.account is not None and self.original is not None
        return build_forward(self.original, from_addr=Address(self.account.name, self.account.email),
                             to=[Address("", r) for r in self.recipients], body=text, domain=self.account.domain)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "template":
            return False  # saved replies are answers to the prospect
        return super().check_action(action, parameters)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#compose-body").focus()

    def action_send(self) -> None:
        good, bad = parse_recipients(self.query_one("#forward-to", Input).value)
        if bad or not good:
            self.app.bell()
            self._say(f"not an address: {', '.join(bad)}" if bad else "type who gets the forward on the To line")
            self.query_one("#forward-to", Input).focus()
            return
        if good != self.recipients:
            self.recipients = good
            self._confirmed = False
        self._suppressed = [r for r in good if self.store.is_suppressed(r)]
        super().action_send()

    def action_cancel(self) -> None:
        self.recipients = parse_recipients(self.query_one("#forward-to", Input).value)[0]
        super().action_cancel()
