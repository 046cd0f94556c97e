"""Building store rows without a server: hand-made parsed messages for store and UI tests."""

from __future__ import annotations

from datetime import datetime, timezone

from app.mail.types import Address, BounceRecipient, Classification, ParsedMessage
from app.store import InboxFilter, IncomingMessage, Store


def parsed(message_id: str, subject: str, sender: str, *, text: str = "hello", name: str = "",
           in_reply_to: str | None = None, references: list[str] | None = None,
           to: str = "me@sender.example", date: datetime | None = None) -> ParsedMessage:
    refs = references if references is not None else ([in_reply_to] if in_reply_to else [])
    return ParsedMessage(
        message_id=message_id, in_reply_to=in_reply_to, references=refs, subject=subject,
        from_=Address(name, sender), to=[Address("", to)], cc=[], reply_to=[],
        date=date or datetime.now(timezone.utc), text=text, new_text=text, quoted_text="",
        snippet=text[:80], attachments=[], size=len(text), thread_key=refs[0] if refs else message_id)


def incoming(uid: int, message_id: str, subject: str, sender: str, *, folder: str = "INBOX",
             uidvalidity: int = 1, kind: str = "reply", category: str = "uncategorized",
             bounces: list[BounceRecipient] | None = None, direction: str = "in",
             flags: frozenset[str] = frozenset(), received_at: float | None = None,
             **kw) -> IncomingMessage:
    cls = None if direction == "out" else Classification(kind, category, 0.9, [f"test: {category}"],
                                                         bounces or [])
    return IncomingMessage(folder, uidvalidity, uid, parsed(message_id, subject, sender, **kw), cls,
                           flags=flags, received_at=received_at, direction=direction)


def fill_every_table(store, accounts: int = 2, replies: int = 6) -> None:
    """A store with rows in every table, written through the store's own methods: messages and
    their conversations and references, labels (and the events, activity, intent examples and
    triage log they write), a bounce and its suppression, a reply in the outbox (sent, with its
    bytes) and a draft, snoozes, notes, assignment, presence, server operations, a warmup decision,
    webhook deliveries and the counts' tally; then a deleted message, so an id counter runs past
    the highest id."""
    from app.mail.types import BounceRecipient

    store.set_event_types(["reply.received", "reply.categorized", "reply.sent", "suppression.added"])
    store.fan_out("hook", lambda type_, payload: True, lambda type_, lead: lead)  # the target's cursor starts here
    for a in range(accounts):
        box = f"box{a}"
        store.ensure_account(box, f"{box}@sender.example", f"Sender {a}")
        store.save_folder(box, "INBOX", role="inbox", uidvalidity=7, highest_uid=replies + 2)
        batch = [incoming(i + 1, f"<r{a}-{i}@prospect.example>", f"Re: pricing {i} — é ✓",
                          f"lead{i}@prospect.example", name=f"Lead {i}",
                          in_reply_to=f"<out{a}-{i}@sender.example>", text=f"Tell me more ({i})\nline two")
                 for i in range(replies)]
        batch.append(incoming(replies + 1, f"<b{a}@mta.example>", "Undelivered Mail", "mailer-daemon@mta.example",
                              kind="bounce", category="bounce",
                              bounces=[BounceRecipient(f"gone{a}@prospect.example", "5.1.1", True,
                                                       "550 no such user", "user_unknown")]))
        batch.append(incoming(replies + 2, f"<out{a}-0@sender.example>", "pricing 0", f"{box}@sender.example",
                              folder="Sent", direction="out", to="lead0@prospect.example"))
        ids = store.add_messages(box, batch)
        store.suppress_from_classification(ids)
        store.suppress(f"optout{a}@prospect.example", "unsubscribe", ids[1], "asked to stop")
        convs = store.conversation_ids(InboxFilter(view="all"))
        store.set_category(convs[:2], "interested")
        store.set_category(convs[2:3], "not_interested")
        store.set_seen(convs[3:4], True)
        store.archive(convs[4:5])
        store.snooze(convs[5:6], 2_000_000_000.0, at=1_900_000_000.0)
        store.set_note(convs[0], "call on Tuesday")
        store.assign(convs[1:2], "carol")
        store.queue_op(box, "flags", ids[0], add=["\\Flagged"])
        sent = store.queue_reply(account=box, message_id=f"<reply{a}@sender.example>", raw=b"From: x\r\n\r\n\x00\xff",
                                 recipients=["lead0@prospect.example"], subject="Re: pricing 0", body="Sure.",
                                 reply_to_message=ids[0], conversation_id=convs[0])
        outbox_in(store, sent, "sent")
        store.queue_reply(account=box, message_id=f"<draft{a}@sender.example>", raw=b"draft", state="draft",
                          recipients=["lead1@prospect.example"], subject="Re: pricing 1", body="Let me",
                          reply_to_message=ids[1], conversation_id=convs[1])
        store.set_presence(f"term{a}", convs[0], "viewing", time_now())
    store.decide_warmup_tag("wrm42", False)
    store.fan_out("hook", lambda type_, payload: True, lambda type_, lead: lead)
    first = store.due_deliveries("hook", time_now() + 10, limit=2)
    store.finish_delivery("hook", first[0].event)
    store.finish_delivery("hook", first[1].event, error="HTTP 500", retry_at=time_now() + 60)
    # an engine's heartbeat and its leases (a PostgreSQL store's runtime: db copy leaves them)
    store.hold_leases("host:1:ab", "host", 1, [f"box{a}" for a in range(accounts)], 1000, 30.0)
    gone = store.add_messages("box0", [incoming(99, "<gone@prospect.example>", "Re: bye", "x@prospect.example")])
    store.remove_uids("box0", "INBOX", 1, [99])
    assert gone


def time_now() -> float:
    import time
    return time.time()


def account_in(store: Store, account_id: str, state: str, **why: str) -> None:
    """Walk an account's connection to ``state`` the way a watcher does (the store refuses a
    jump its lifecycle table does not allow, e.g. idle straight from new)."""
    path = {"idle": ["connecting", "syncing", "idle"], "syncing": ["connecting", "syncing"]}.get(
        state, ["connecting", state])
    for step in path[:-1]:
        store.set_account_state(account_id, step)
    store.set_account_state(account_id, path[-1], **why)


def outbox_in(store: Store, item_id: int, state: str, **why: str) -> None:
    """Take a queued outbox item to ``state`` the way the drainer does: claimed, then the outcome."""
    assert store.claim_item(item_id) is not None
    store.set_outbox_state(item_id, state, **why)
