"""The store's rows are what their types say: every key, each value of its declared type."""

from __future__ import annotations

import types
import typing

import pytest

from app.mail.types import BounceRecipient
from app.store import InboxFilter, Store
from app.store.rows import (
    AccountRow,
    Arrival,
    ConversationRow,
    DueRow,
    FollowupState,
    Lead,
    ListedMessage,
    MessageRow,
    OutboxItem,
    PendingOp,
    WokenRow,
    columns,
)
from tests.storefill import account_in, incoming


def conforms(value: object, hint: object) -> bool:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(conforms(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if origin is list:
        (item,) = typing.get_args(hint)
        return isinstance(value, list) and all(conforms(v, item) for v in value)
    if typing.is_typeddict(hint):
        return isinstance(value, dict) and set(value) <= set(typing.get_type_hints(hint))
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    assert isinstance(hint, type), hint
    return isinstance(value, hint)


def assert_row(row: object, row_type: type) -> None:
    hints = typing.get_type_hints(row_type)
    assert isinstance(row, dict)
    assert list(row) == list(hints), f"{row_type.__name__}: keys differ"
    wrong = {k: row[k] for k, h in hints.items() if not conforms(row[k], h)}
    assert not wrong, f"{row_type.__name__}: values not of their type: {wrong}"


@pytest.fixture
def store(store_target):
    s = Store(store_target(), user="ann")
    s.ensure_account("box", "box@sender.example")
    s.add_messages("box", [
        incoming(1, "<cold@x>", "Quick question", "box@sender.example", direction="out",
                 to="pat@prospect.example"),
        incoming(2, "<r1@x>", "Re: Quick question", "pat@prospect.example", category="interested",
                 in_reply_to="<cold@x>", name="Pat"),
        incoming(3, "<b1@x>", "Undelivered", "mailer-daemon@x.example", kind="bounce", category="bounce",
                 bounces=[BounceRecipient("gone@prospect.example", "5.1.1", True, "no such user",
                                          "user_unknown")]),
    ])
    yield s
    s.close()


@pytest.mark.parametrize(("row_type", "table"), [(MessageRow, "messages"), (AccountRow, "accounts"),
                                                 (OutboxItem, "outbox")])
def test_a_row_that_reads_a_whole_table_types_every_column(store, row_type, table):
    """A column a migration adds must be typed too, or it would be left out of the row."""
    assert sorted(columns(row_type)) == sorted(table_columns(store, table))


def table_columns(store: Store, table: str) -> list[str]:
    if store.db.dialect.name == "postgresql":
        # generated: messages.search_vector, the full-text index (FTS5's own table on SQLite)
        return [r[0] for r in store.db.conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = ? AND is_generated = 'NEVER'", (table,))]
    return [r[1] for r in store.db.conn.execute(f"PRAGMA table_info({table})")]


def test_inbox_rows_are_typed(store):
    rows = store.conversations_at(InboxFilter(view="all"), 0, 10)
    assert len(rows) == 2
    for row in rows:
        assert_row(row, ConversationRow)
    for message in store.conversation_messages(rows[0]["id"]) + store.conversation_messages(rows[1]["id"]):
        assert_row(message, MessageRow)
    bounce = store.find_message("<b1@x>")
    assert bounce is not None
    assert_row(bounce, MessageRow)
    assert bounce["bounce_recipients"][0]["address"] == "gone@prospect.example"
    for listed in store.list_messages():
        assert_row(listed, ListedMessage)
    (lead,) = store.leads(["interested"])
    assert_row(lead, Lead)
    assert (lead["email"], lead["name"]) == ("pat@prospect.example", "Pat")


def test_account_follow_up_and_arrival_rows_are_typed(store):
    account_in(store, "box", "idle")
    (account,) = store.accounts()
    assert_row(account, AccountRow)
    assert store.account_row("box") == account
    conv = store.find_message("<r1@x>")["conversation_id"]
    store.snooze([conv], 2_000_000_000.0, at=1_000_000_000.0)
    (due,) = store.due()
    assert_row(due, DueRow)
    assert_row(store.followup_state(conv), FollowupState)
    store.wake_due(2_000_000_001.0)
    _, woken = store.woken_after(0)
    assert_row(woken[0], WokenRow)
    count, newest = store.arrivals_since(0, store.newest_message_id(), 0)
    assert count == 1
    assert_row(newest[0], Arrival)


def test_outbox_items_and_server_operations_are_typed(store):
    reply = store.find_message("<r1@x>")
    item_id = store.queue_reply(account="box", message_id="<ours@x>", raw=b"Subject: Re\r\n\r\nyes\r\n",
                                recipients=["pat@prospect.example"], subject="Re: Quick question", body="yes",
                                reply_to_message=reply["id"], conversation_id=reply["conversation_id"])
    item = store.outbox_item(item_id)
    assert_row(item, OutboxItem)
    assert item["recipients"] == ["pat@prospect.example"]
    assert store.outbox() == [item]
    store.set_seen([reply["conversation_id"]], True)
    (op,) = store.pending_ops("box")
    assert_row(op, PendingOp)
    assert (op["op"], op["args"], op["uid"]) == ("add_flags", {"flags": ["\\Seen"]}, 2)
