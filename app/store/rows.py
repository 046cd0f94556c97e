"""The rows the store hands out, typed: a renamed column is a type error at every caller.

TypedDicts rather than classes, so callers keep reading ``row["subject"]``; where a query
lists its columns, it takes them from the type (``columns``), so the SELECT and the type
cannot drift apart.
"""

from __future__ import annotations

from typing import TypedDict


def columns(row_type: type) -> tuple[str, ...]:
    """The keys of a row type, in the order they are declared."""
    return tuple(row_type.__annotations__)


class ConversationRow(TypedDict):
    """One line of the inbox: a conversation's summary with what its row marks."""

    id: int
    account: str
    subject: str
    counterpart: str
    counterpart_name: str
    snippet: str
    kind: str | None
    category: str | None
    last_inbound_at: float | None
    last_message_at: float | None
    message_count: int
    inbound_count: int
    unread_count: int
    archived: int
    snoozed_until: float | None
    snooze_reason: str | None
    waiting_since: float | None
    woke_reason: str | None
    note: str
    reason: str | None
    """The latest inbound message's first reason (why a row is noise)."""
    answered: int | None
    ooo_until: str | None
    attachments: int | None
    outbox_state: str | None
    """A reply of ours that did not go: failed, uncertain or draft."""
    assigned_to: str | None


class BounceRecipientRow(TypedDict, total=False):
    """``app.mail.types.BounceRecipient`` as stored (JSON)."""

    address: str
    status: str | None
    hard: bool
    diagnostic: str | None
    reason: str


class InviteRow(TypedDict, total=False):
    """``app.mail.types.Invite`` as stored (JSON)."""

    title: str
    start: str
    all_day: bool
    tz: str
    organizer: str
    location: str
    method: str


class AttachmentRow(TypedDict, total=False):
    """``app.mail.types.Attachment`` as stored (JSON)."""

    filename: str
    content_type: str
    size: int
    truncated: bool
    invite: InviteRow | None
    """A calendar part's event (``app.mail.types.Invite``)."""


class MessageRow(TypedDict):
    """One stored message, its JSON columns decoded."""

    id: int
    account: str
    folder: str
    uidvalidity: int
    uid: int
    message_id: str | None
    in_reply_to: str | None
    refs: list[str]
    thread_key: str | None
    conversation_id: int | None
    direction: str
    from_addr: str
    from_name: str
    sender: str
    to_addrs: list[str]
    cc_addrs: list[str]
    reply_to: list[str]
    subject: str
    sent_at: float | None
    received_at: float
    seen: int
    answered: int
    flagged: int
    flags: str
    modseq: int | None
    kind: str
    category: str
    category_source: str
    confidence: float | None
    reasons: list[str]
    bounce_recipients: list[BounceRecipientRow]
    ooo_until: str | None
    referral: str | None
    body_text: str
    new_text: str
    search_text: str
    snippet: str
    attachments: list[AttachmentRow]
    defects: list[str]
    size: int
    archived: int
    auto_category: str | None
    auto_kind: str | None


ListedMessage = TypedDict("ListedMessage", {
    "id": int, "account": str, "folder": str, "uid": int, "message_id": str | None,
    "from": str, "from_name": str, "subject": str, "sent_at": float | None, "received_at": float,
    "kind": str, "category": str, "category_source": str, "seen": int, "answered": int, "archived": int,
    "snippet": str, "conversation": int | None, "reason": str | None,
})
"""One line of ``replydesk list`` (``from``, a Python keyword, is why it is written this way)."""


class Lead(TypedDict):
    """One prospect for ``export leads``: their latest reply and whether we answered."""

    email: str
    name: str
    category: str
    category_source: str
    replied_at: float
    mailbox: str
    subject: str
    reply: str
    referral: str | None
    ooo_until: str | None
    message_id: str | None
    answered: int
    note: str


class AccountRow(TypedDict):
    """A mailbox's health as the engine last wrote it."""

    id: str
    email: str
    name: str
    state: str
    last_error: str | None
    hint: str | None
    state_changed: float | None
    last_push: float | None
    last_sync: float | None
    sync_done: int
    sync_total: int
    capabilities: str
    smtp_ok: int | None
    smtp_error: str | None
    smtp_checked: float | None
    arrival_latency: float | None
    arrival_via: str | None


class DueRow(TypedDict):
    """A conversation that is snoozed or waits for an answer (``replydesk due``)."""

    id: int
    account: str
    counterpart: str
    counterpart_name: str
    subject: str
    snoozed_until: float | None
    snooze_reason: str | None
    snoozed_at: float | None
    waiting_since: float | None
    note: str


class FollowupState(TypedDict):
    snoozed_until: float | None
    snooze_reason: str | None
    waiting_since: float | None
    woke_at: float | None
    woke_reason: str | None
    note: str


class WokenRow(TypedDict):
    """A conversation that came back from a snooze or a wait."""

    id: int
    counterpart: str
    counterpart_name: str
    subject: str
    woke_reason: str | None
    woke_at: float


class Arrival(TypedDict):
    """A reply just stored, for the live-arrival notice."""

    id: int
    account: str
    from_addr: str
    from_name: str
    subject: str
    conversation_id: int | None
    category: str
    message_id: str | None


class DeliveryRow(TypedDict):
    """One delivery of an event to a sending platform or a webhook."""

    event: int
    type: str
    lead: str
    state: str
    attempts: int
    last_error: str | None


class OutboxItem(TypedDict):
    """A reply in the outbox, its recipients decoded."""

    id: int
    account: str
    reply_to_message: int | None
    conversation_id: int | None
    message_id: str
    recipients: list[str]
    subject: str
    body: str
    raw: bytes
    state: str
    attempts: int
    next_attempt_at: float | None
    last_error: str | None
    created_at: float
    updated_at: float
    submitted_at: float | None
    sent_at: float | None
    kind: str
    """``reply``, or ``forward`` (of the message ``reply_to_message`` to someone else)."""


class OutboxListing(TypedDict):
    """A line of the Sent and drafts screen: an outbox item without its text and bytes."""

    id: int
    account: str
    conversation_id: int | None
    recipients: list[str]
    subject: str
    state: str
    kind: str
    last_error: str | None
    updated_at: float
    sent_at: float | None


class OpArgs(TypedDict, total=False):
    """What a server operation carries (``queue_op``'s keyword arguments, stored as JSON)."""

    flags: list[str]
    to_role: str
    """``move``: the folder's role (archive, inbox)."""
    role: str
    """``append``: the folder's role (sent)."""
    outbox_id: int
    """``append``: the outbox item whose bytes are filed."""
    raw_b64: str
    index: int
    """``save_attachment``: which of the message's attachments."""
    path: str
    """``save_attachment``: the file to write (absolute)."""
    replace: bool
    """``save_attachment``: an existing file may be replaced."""


class PendingOp(TypedDict):
    """A server operation waiting for the account's watcher, with where its message is."""

    id: int
    op: str
    message: int | None
    args: OpArgs
    attempts: int
    folder: str | None
    uidvalidity: int | None
    uid: int | None
    message_id: str | None
