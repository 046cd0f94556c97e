"""The lifecycles the store keeps, each one enum of states and one table of the moves allowed
between them: an outbox item, an account's connection, a pending server operation, a delivery
of an event to a sending platform or a webhook.

Pure, no IO (h11's ``_state.py`` is the model): the store checks every write of a state here,
so an illegal move raises instead of being written, and the UI, the CLI, the engine and the
tests read the same tables. The values are the strings stored in the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar


class OutboxState(StrEnum):
    DRAFT = "draft"
    """Kept by the user, not to be sent yet."""
    ATTACHING = "attaching"
    """A forward waiting for the watcher to add the original's attachments."""
    QUEUED = "queued"
    """Waiting for the drainer (again after a transient failure, with its next try time)."""
    SENDING = "sending"
    """Claimed by a drainer; found so at a start, it was interrupted."""
    SENT = "sent"
    """The server accepted it (or the user recorded that it arrived): final."""
    FAILED = "failed"
    """Refused for good, with the server's words: the user resends, edits or discards it."""
    UNCERTAIN = "uncertain"
    """Interrupted after DATA began and not found in Sent: the user decides."""


class AccountState(StrEnum):
    NEW = "new"
    """Not connected yet (added, or re-authorized and waiting for the engine)."""
    CONNECTING = "connecting"
    SYNCING = "syncing"
    IDLE = "idle"
    """Live: synced and in IDLE."""
    BACKOFF = "backoff"
    """A network or server error: the watcher retries by itself."""
    STORE_ERROR = "store_error"
    """The database refused a write: the watcher retries by itself."""
    AUTH_FAILED = "auth_failed"
    REAUTH_NEEDED = "reauth_needed"
    CONFIG_ERROR = "config_error"
    STOPPED = "stopped"
    """The engine stopped (or the account left the config)."""
    DISABLED = "disabled"
    """``enabled = false`` in the config."""


class OpState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    """Given up after the server refused it: shown with its reason."""
    SKIPPED = "skipped"
    """Not sent to the server on purpose (warmup mail, a message gone): shown with why."""


_O = OutboxState
OUTBOX_CREATED: frozenset[OutboxState] = frozenset({_O.DRAFT, _O.QUEUED})
"""The states an outbox item may be created in."""
OUTBOX_EDITABLE: frozenset[OutboxState] = frozenset({_O.DRAFT, _O.FAILED, _O.UNCERTAIN})
"""The user's to edit, resend or discard: never one on its way or sent."""
OUTBOX_HELD: frozenset[OutboxState] = frozenset({_O.FAILED, _O.UNCERTAIN})
"""Meant to go and did not (or may not have): shown with ``!``, waiting for the user's decision."""
OUTBOX_TRANSITIONS: Mapping[OutboxState, frozenset[OutboxState]] = {
    _O.DRAFT: frozenset({_O.DRAFT, _O.QUEUED, _O.ATTACHING}),
    _O.ATTACHING: frozenset({_O.QUEUED, _O.FAILED}),
    _O.QUEUED: frozenset({_O.SENDING}),
    _O.SENDING: frozenset({_O.SENT, _O.QUEUED, _O.FAILED, _O.UNCERTAIN}),
    _O.SENT: frozenset(),
    _O.FAILED: frozenset({_O.DRAFT, _O.QUEUED, _O.ATTACHING}),
    # the user checked with the recipient: sent; or sends it again, or keeps it to edit
    _O.UNCERTAIN: frozenset({_O.DRAFT, _O.QUEUED, _O.ATTACHING, _O.SENT}),
}

_A = AccountState
_ANY_ACCOUNT = frozenset(AccountState)
# a watcher (re)starts, the engine stops or disables an account, or the user re-authorizes it,
# from whatever state a previous run left in the database
_RESTART = frozenset({_A.CONNECTING, _A.STOPPED, _A.DISABLED, _A.NEW})
_LOST = frozenset({_A.BACKOFF, _A.STORE_ERROR, _A.AUTH_FAILED, _A.REAUTH_NEEDED, _A.CONFIG_ERROR})
ACCOUNT_TRANSITIONS: Mapping[AccountState, frozenset[AccountState]] = {
    _A.NEW: _RESTART,
    _A.CONNECTING: _RESTART | {_A.SYNCING} | _LOST,
    _A.SYNCING: _RESTART | {_A.IDLE} | _LOST,
    _A.IDLE: _RESTART | {_A.IDLE} | _LOST,
    # a retry's new reason is written over the old one
    _A.BACKOFF: _RESTART | {_A.BACKOFF},
    _A.STORE_ERROR: _RESTART | {_A.STORE_ERROR},
    _A.AUTH_FAILED: _RESTART,
    _A.REAUTH_NEEDED: _RESTART,
    _A.CONFIG_ERROR: _RESTART,
    _A.STOPPED: _RESTART,
    _A.DISABLED: _RESTART,
}
ACCOUNT_LIVE: frozenset[AccountState] = frozenset({_A.IDLE})
ACCOUNT_SYNCING: frozenset[AccountState] = frozenset({_A.NEW, _A.CONNECTING, _A.SYNCING})
ACCOUNT_FAILING: frozenset[AccountState] = _LOST
ACCOUNT_STOPPED_BY_ERROR: frozenset[AccountState] = frozenset({_A.AUTH_FAILED, _A.REAUTH_NEEDED, _A.CONFIG_ERROR})
"""The watcher ends: retrying cannot help until the user fixes the cause."""

_P = OpState
OP_TRANSITIONS: Mapping[OpState, frozenset[OpState]] = {
    # pending again: a try the server refused for now, tried later
    _P.PENDING: frozenset({_P.PENDING, _P.DONE, _P.FAILED, _P.SKIPPED}),
    _P.DONE: frozenset(),
    _P.FAILED: frozenset(),
    _P.SKIPPED: frozenset(),
}
OP_NOT_CARRIED_OUT: frozenset[OpState] = frozenset({_P.FAILED, _P.SKIPPED})


class DeliveryState(StrEnum):
    PENDING = "pending"
    """Waiting for its first try, or for the next one at its ``next_attempt_at``."""
    DONE = "done"
    DEAD = "dead"
    """Given up, with the receiver's words; ``replydesk sequencers retry`` tries it again."""


_D = DeliveryState
DELIVERY_TRANSITIONS: Mapping[DeliveryState, frozenset[DeliveryState]] = {
    # pending again: the receiver refused for now (a 5xx, a rate limit), tried later
    _D.PENDING: frozenset({_D.PENDING, _D.DONE, _D.DEAD}),
    _D.DONE: frozenset(),
    # the user fixed a key or a mapping and asked for another go
    _D.DEAD: frozenset({_D.PENDING}),
}


class IllegalTransition(ValueError):
    """A write asked for a move its lifecycle's table does not allow."""

    def __init__(self, lifecycle: str, current: str, new: str) -> None:
        super().__init__(f"{lifecycle}: {current} cannot become {new}")
        self.lifecycle, self.current, self.new = lifecycle, current, new


S = TypeVar("S", OutboxState, AccountState, OpState, DeliveryState)


def _check(lifecycle: str, table: Mapping[S, frozenset[S]], kind: type[S], current: str, new: str) -> S:
    try:
        old_state, new_state = kind(current), kind(new)
    except ValueError:
        raise IllegalTransition(lifecycle, current, new) from None
    if new_state not in table[old_state]:
        raise IllegalTransition(lifecycle, current, new)
    return new_state


def check_outbox(current: str, new: str) -> OutboxState:
    """``new`` if an outbox item in ``current`` may move to it; raises IllegalTransition."""
    return _check("outbox item", OUTBOX_TRANSITIONS, OutboxState, current, new)


def check_account(current: str, new: str) -> AccountState:
    """``new`` if an account's connection in ``current`` may move to it; raises IllegalTransition."""
    return _check("account", ACCOUNT_TRANSITIONS, AccountState, current, new)


def check_op(current: str, new: str) -> OpState:
    """``new`` if a pending server operation in ``current`` may move to it; raises IllegalTransition."""
    return _check("server operation", OP_TRANSITIONS, OpState, current, new)


def check_delivery(current: str, new: str) -> DeliveryState:
    """``new`` if a delivery in ``current`` may move to it; raises IllegalTransition."""
    return _check("delivery", DELIVERY_TRANSITIONS, DeliveryState, current, new)


def check_created(state: str) -> OutboxState:
    """``state`` if an outbox item may start in it; raises IllegalTransition."""
    if state not in OUTBOX_CREATED:
        raise IllegalTransition("outbox item", "(new)", state)
    return OutboxState(state)
