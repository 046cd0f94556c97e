"""One reply builder for the compose screen and ``replydesk reply``: the message answered, the
mailbox that received it (it sends), who gets the reply, its starting text, its bytes, and the
one store call that keeps it (``Store.save_reply``). app.mail builds the bytes and never reads a
config; this module puts the two together so neither the UI nor the CLI does it its own way."""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.config import Account, Config
from app.errors import ReplydeskError
from app.mail import Address, ParsedMessage
from app.mail.compose import build_reply, reply_recipients, reply_text, stored_original
from app.store import Store
from app.store.rows import MessageRow


@dataclass(frozen=True)
class Reply:
    """A reply to ``row``, from ``account``, to ``recipients``."""

    row: MessageRow
    account: Account
    original: ParsedMessage
    recipients: list[str]

    @property
    def sender(self) -> Address:
        return Address(self.account.name, self.account.email)

    def text(self, body: str = "") -> str:
        """The whole text of the reply: ``body``, the mailbox's signature and the quote. The
        compose screen starts from it with no body; the user may edit all of it."""
        return reply_text(self.original, body, self.account.signature)

    def build(self, text: str) -> tuple[str, bytes]:
        """``(message_id, bytes)`` of the reply whose whole text is ``text`` (``self.text(...)``
        or what the user made of it): nothing more is added to it."""
        return build_reply(replace(self.original, text=""), from_addr=self.sender, body=text, signature="",
                           domain=self.account.domain)

    def save(self, store: Store, text: str, *, send: bool, item_id: int | None = None,
             kind: str = "reply") -> int:
        """Keep the reply in the outbox, queued (``send``) or as a draft; ``item_id`` is the
        draft or unsent reply being edited. Raises IllegalTransition when that one has moved on."""
        message_id, raw = self.build(text)
        return store.save_reply(item_id, send=send, account=self.account.id, message_id=message_id, raw=raw,
                                recipients=self.recipients, subject=self.original.subject, body=text,
                                reply_to_message=self.row["id"], conversation_id=self.row["conversation_id"],
                                kind=kind)


def reply_to(config: Config, row: MessageRow) -> Reply:
    """The reply to a stored message from the account that received it; a ReplydeskError saying
    why there cannot be one (a mailbox no longer configured, no sender address to answer)."""
    account = config.account(row["account"])
    original = stored_original(row)
    recipients = [a.email for a in reply_recipients(original)]
    if not recipients:
        raise ReplydeskError(f"message {row['id']} has no sender address to reply to")
    return Reply(row, account, original, recipients)
