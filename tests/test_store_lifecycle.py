"""The lifecycles' tables (app/store/lifecycle.py): every allowed move is accepted, every other
pair of states raises, and the moves the code relies on are in the tables. Pure: no IO."""

from __future__ import annotations

import itertools

import pytest

from app.store.lifecycle import (
    ACCOUNT_TRANSITIONS,
    DELIVERY_TRANSITIONS,
    OP_TRANSITIONS,
    OUTBOX_CREATED,
    OUTBOX_EDITABLE,
    OUTBOX_HELD,
    OUTBOX_TRANSITIONS,
    AccountState,
    DeliveryState,
    IllegalTransition,
    OpState,
    OutboxState,
    check_account,
    check_created,
    check_delivery,
    check_op,
    check_outbox,
)

LIFECYCLES = [
    ("outbox item", OutboxState, OUTBOX_TRANSITIONS, check_outbox),
    ("account", AccountState, ACCOUNT_TRANSITIONS, check_account),
    ("server operation", OpState, OP_TRANSITIONS, check_op),
    ("delivery", DeliveryState, DELIVERY_TRANSITIONS, check_delivery),
]


@pytest.mark.parametrize("name, states, table, check", LIFECYCLES, ids=[x[0] for x in LIFECYCLES])
def test_every_allowed_move_passes_and_every_other_pair_raises(name, states, table, check):
    assert set(table) == set(states), "every state has its row in the table"
    allowed = refused = 0
    for current, new in itertools.product(states, repeat=2):
        if new in table[current]:
            assert check(current.value, new.value) is new
            allowed += 1
        else:
            with pytest.raises(IllegalTransition) as caught:
                check(current.value, new.value)
            assert caught.value.current == current.value and caught.value.new == new.value
            assert f"{current.value} cannot become {new.value}" in str(caught.value)
            assert caught.value.lifecycle == name
            refused += 1
    assert allowed and refused


@pytest.mark.parametrize("name, states, table, check", LIFECYCLES, ids=[x[0] for x in LIFECYCLES])
def test_a_state_the_table_does_not_know_raises(name, states, table, check):
    some = next(iter(states)).value
    for current, new in ((some, "bogus"), ("bogus", some), ("", some)):
        with pytest.raises(IllegalTransition):
            check(current, new)


def test_outbox_the_drainers_and_users_moves():
    Ob = OutboxState
    # the drainer: claim, then accepted / refused for now / refused for good / unknown
    for move in [(Ob.QUEUED, Ob.SENDING), (Ob.SENDING, Ob.SENT), (Ob.SENDING, Ob.QUEUED),
                 (Ob.SENDING, Ob.FAILED), (Ob.SENDING, Ob.UNCERTAIN),
                 # a forward's attachments added, or not to be had
                 (Ob.ATTACHING, Ob.QUEUED), (Ob.ATTACHING, Ob.FAILED),
                 # the user: resend, keep to edit, record an uncertain one as delivered
                 (Ob.FAILED, Ob.QUEUED), (Ob.UNCERTAIN, Ob.QUEUED), (Ob.DRAFT, Ob.QUEUED),
                 (Ob.FAILED, Ob.DRAFT), (Ob.UNCERTAIN, Ob.DRAFT), (Ob.UNCERTAIN, Ob.SENT)]:
        assert check_outbox(*move) is move[1]
    # never: a sent reply moves again; a queued one is sent without being claimed; a failed one
    # counts as delivered; one on its way is edited back into a draft
    for move in [(Ob.SENT, Ob.QUEUED), (Ob.QUEUED, Ob.SENT), (Ob.FAILED, Ob.SENT), (Ob.SENDING, Ob.DRAFT),
                 (Ob.QUEUED, Ob.DRAFT), (Ob.SENT, Ob.SENT)]:
        with pytest.raises(IllegalTransition):
            check_outbox(*move)
    assert OUTBOX_EDITABLE == {Ob.DRAFT, Ob.FAILED, Ob.UNCERTAIN}
    # a held reply (not sent, the user decides) is the user's to edit, and never final
    assert OUTBOX_HELD == {Ob.FAILED, Ob.UNCERTAIN} and OUTBOX_HELD <= OUTBOX_EDITABLE


def test_outbox_items_start_as_a_draft_or_queued():
    for state in OutboxState:
        if state in OUTBOX_CREATED:
            assert check_created(state.value) is state
        else:
            with pytest.raises(IllegalTransition):
                check_created(state.value)


def test_an_account_restarts_from_any_state_but_is_live_only_after_a_sync():
    A = AccountState
    for state in A:
        assert check_account(state, A.CONNECTING) is A.CONNECTING
        assert check_account(state, A.STOPPED) is A.STOPPED
    assert check_account(A.SYNCING, A.IDLE) is A.IDLE
    for state in (A.NEW, A.CONNECTING, A.BACKOFF, A.AUTH_FAILED, A.STOPPED):
        with pytest.raises(IllegalTransition):
            check_account(state, A.IDLE)


def test_a_finished_operation_never_moves_again():
    for state in (OpState.DONE, OpState.FAILED, OpState.SKIPPED):
        for new in OpState:
            with pytest.raises(IllegalTransition):
                check_op(state, new)


def test_a_delivered_event_is_never_sent_again_and_only_a_dead_one_is_retried():
    D = DeliveryState
    for new in D:
        with pytest.raises(IllegalTransition):
            check_delivery(D.DONE, new)
    assert check_delivery(D.DEAD, D.PENDING) is D.PENDING
    with pytest.raises(IllegalTransition):
        check_delivery(D.DEAD, D.DONE)
