"""The lifecycle tables as the store applies them, on a real SQLite database: a write the
table forbids raises (naming the state the row is really in) and changes nothing."""

from __future__ import annotations

import pytest

from app.store import Store
from app.store.lifecycle import IllegalTransition
from tests.storefill import account_in, incoming
from tests.test_store import store  # noqa: F401  (fixture: a store with account a)


def _reply(store: Store, state: str = "queued") -> int:
    return store.queue_reply(account="a", message_id="<r1@sender.example>", raw=b"Subject: Re\r\n\r\nhi\r\n",
                             recipients=["bob@p.example"], subject="Re", body="hi", state=state)


def _row(store: Store, item_id: int) -> tuple:
    return store.db.conn.execute("SELECT state, last_error, body, updated_at FROM outbox WHERE id = ?",
                                 (item_id,)).fetchone()


def test_a_sent_reply_is_never_sent_again_edited_or_discarded(store):
    item = _reply(store)
    assert store.claim_item(item) is not None
    store.record_sent(item, append_to_sent=True)
    before = _row(store, item)
    attempts = [
        lambda: store.resend(item),
        lambda: store.set_outbox_state(item, "failed", error="550"),
        lambda: store.set_outbox_state(item, "draft"),
        lambda: store.discard_reply(item),
        lambda: store.record_delivered(item, append_to_sent=True),
        lambda: store.record_sent(item, append_to_sent=True),
        lambda: store.save_reply(item, send=True, account="a", message_id="<r2@sender.example>", raw=b"x",
                                 recipients=["bob@p.example"], subject="Re", body="changed"),
        lambda: store.retry_later(item, "421 later", 0.0),
        lambda: store.mark_submitted(item),
        lambda: store.forward_with_attachments(item, 1),
    ]
    for attempt in attempts:
        with pytest.raises(IllegalTransition, match="outbox item: sent cannot become"):
            attempt()
    assert _row(store, item) == before
    assert store.claim_item(item) is None  # not queued: nothing to claim
    # the Sent copy was asked for once, not once per refused attempt
    assert [op["op"] for op in store.pending_ops("a")] == ["append"]


def test_only_an_uncertain_reply_is_recorded_as_delivered_by_the_user(store):
    item = _reply(store)
    with pytest.raises(IllegalTransition, match="queued cannot become sent"):
        store.record_delivered(item, append_to_sent=False)
    assert store.outbox_item(item)["state"] == "queued"
    store.claim_item(item)
    store.set_outbox_state(item, "uncertain", error="interrupted after DATA")
    with pytest.raises(IllegalTransition, match="uncertain cannot become sent"):
        store.record_sent(item, append_to_sent=False)  # the drainer's step, not the user's
    store.record_delivered(item, append_to_sent=False)
    assert store.outbox_item(item)["state"] == "sent"


def test_a_reply_that_is_gone_or_unknown_cannot_be_moved(store):
    draft = _reply(store, "draft")
    store.discard_reply(draft)
    with pytest.raises(IllegalTransition, match=f"no outbox item {draft}"):
        store.resend(draft)
    with pytest.raises(IllegalTransition):
        store.discard_reply(draft)
    with pytest.raises(IllegalTransition):
        _reply(store, "sent")  # an item starts as a draft or queued
    item = _reply(store)
    with pytest.raises(IllegalTransition):
        store.set_outbox_state(item, "delivered")  # no such state
    assert store.outbox_item(item)["state"] == "queued"


def test_the_compose_screens_one_write_follows_the_table(store):
    def save(item, send, body):
        return store.save_reply(item, send=send, account="a", message_id=f"<{body}@sender.example>", raw=b"x",
                                recipients=["bob@p.example"], subject="Re", body=body)
    draft = save(None, False, "first")
    assert store.outbox_item(draft)["state"] == "draft"
    assert save(draft, False, "second") == draft
    assert (store.outbox_item(draft)["state"], store.outbox_item(draft)["body"]) == ("draft", "second")
    save(draft, True, "third")
    assert store.outbox_item(draft)["state"] == "queued"
    # queued: no longer the screen's to edit; the text stays what is being sent
    with pytest.raises(IllegalTransition, match="queued cannot become draft"):
        save(draft, False, "fourth")
    assert store.outbox_item(draft)["body"] == "third"


def test_an_operation_finished_once_is_not_finished_again(store):
    [mid] = store.add_messages("a", [incoming(7, "<r7@p>", "Re: hi", "bob@p.example")])
    op = store.queue_op("a", "add_flags", mid, flags=["\\Seen"])
    assert op is not None
    store.finish_op(op, "NO try later")
    store.finish_op(op)
    with pytest.raises(IllegalTransition, match="server operation: done cannot become failed"):
        store.finish_op(op, "NO refused", give_up=True)
    assert store.db.conn.execute("SELECT state, last_error, attempts FROM pending_ops WHERE id = ?",
                                 (op,)).fetchone() == ("done", None, 2)
    with pytest.raises(IllegalTransition, match=f"no server operation {op + 100}"):
        store.finish_op(op + 100)


def test_an_account_goes_live_only_through_a_sync(store):
    with pytest.raises(IllegalTransition, match="account: new cannot become idle"):
        store.set_account_state("a", "idle")
    account_in(store, "a", "idle")
    store.set_account_state("a", "backoff", error="connection reset", hint="retrying in 2 s")
    with pytest.raises(IllegalTransition, match="account: backoff cannot become syncing"):
        store.set_account_state("a", "syncing")
    row = store.account_row("a")
    assert (row["state"], row["last_error"]) == ("backoff", "connection reset")
    with pytest.raises(IllegalTransition, match="no account nobody"):
        store.set_account_state("nobody", "connecting")


def test_a_forward_with_attachments_is_kept_and_held_for_them_in_one_write(store):
    [mid] = store.add_messages("a", [incoming(8, "<r8@p>", "Re: deck", "bob@p.example")])
    common = dict(account="a", message_id="<f1@sender.example>", raw=b"Subject: Fwd\r\n\r\nfyi\r\n",
                  recipients=["carol@p.example"], subject="Fwd: deck", body="fyi", kind="forward")
    item = store.save_reply(None, send=True, attach_from=mid, **common)
    assert _row(store, item)[0] == "attaching", "held for the attachments, not queued without them"
    (op,) = [o for o in store.pending_ops("a") if o["op"] == "attach_forward"]
    assert op["args"]["outbox_id"] == item and op["message"] == mid
    # a message that is not stored: nothing is written, the forward is not left half-saved
    with pytest.raises(ValueError, match="no message"):
        store.save_reply(None, send=True, attach_from=mid + 1000,
                         **{**common, "message_id": "<f2@sender.example>"})
    assert [i["message_id"] for i in store.outbox()] == ["<f1@sender.example>"]
    # on its way: editing it again is refused and changes nothing
    before = _row(store, item)
    with pytest.raises(IllegalTransition, match="attaching"):
        store.save_reply(item, send=True, attach_from=mid, **{**common, "body": "changed"})
    assert _row(store, item) == before


def test_a_delivery_moves_only_as_its_table_allows(store):
    everything = (lambda type_, payload: True, lambda type_, lead: lead)
    store.set_event_types(["suppression.added"])
    store.fan_out("hook", *everything)  # a new target starts after the newest event
    [mid] = store.add_messages("a", [incoming(9, "<r9@p>", "Re: stop", "dan@p.example")])
    store.suppress("dan@p.example", "unsubscribe", mid, "asked to stop")
    store.suppress("eve@p.example", "do_not_contact", mid, "asked to stop")
    assert store.fan_out("hook", *everything) == 2
    first, second = (d.event for d in store.due_deliveries("hook", 2e9, limit=5))
    store.finish_delivery("hook", first)
    store.finish_delivery("hook", second, error="HTTP 401 bad key")  # no retry: dead
    states = {d["event"]: (d["state"], d["attempts"]) for d in store.deliveries_of("hook")}
    assert states == {first: ("done", 1), second: ("dead", 1)}
    # a delivered event is never delivered or given up again; a dead one waits for the user
    for event, kwargs in ((first, {}), (first, {"error": "HTTP 500", "retry_at": 1.0}), (second, {})):
        with pytest.raises(IllegalTransition):
            store.finish_delivery("hook", event, **kwargs)
    with pytest.raises(IllegalTransition, match="no delivery"):
        store.finish_delivery("other", first)
    assert {d["event"]: (d["state"], d["attempts"]) for d in store.deliveries_of("hook")} == states
    assert store.retry_dead() == 1
    assert {d["event"]: d["state"] for d in store.deliveries_of("hook")} == {first: "done", second: "pending"}
