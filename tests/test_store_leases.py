"""Engines sharing a PostgreSQL store's mailboxes by lease (app/store/leases.py), on a real
PostgreSQL: the split, the cap, a dead engine's mailboxes taken over, a mailbox given back only
when its engine says it has stopped it, the outbox fenced by the lease."""

from __future__ import annotations

import pytest

from app.store import Store
from app.store.leases import LeaseLost

ACCOUNTS = [f"box{i:02d}" for i in range(60)]


def hold(store: Store, owner: str, cap: int = 1000, ttl: float = 30.0, accounts=ACCOUNTS):
    return store.hold_leases(owner, "host", 1, accounts, cap, ttl)


@pytest.fixture
def url(postgres, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", postgres.password)
    return postgres.url(postgres.create_database())


def test_engines_split_the_mailboxes_evenly_each_held_by_one(url):
    a, b, c = Store(url), Store(url), Store(url)
    assert len(hold(a, "a").held) == 60  # alone: all of them
    hold(b, "b")
    hold(c, "c")  # three alive now: a is over its share
    first = hold(a, "a")
    assert len(first.over_share) == 40 and first.engines == 3
    a.release_leases("a", first.over_share)  # after stopping them
    hold(b, "b")
    hold(c, "c")
    held = {name: set(hold(s, name).held) for name, s in (("a", a), ("b", b), ("c", c))}
    assert sorted(len(h) for h in held.values()) == [20, 20, 20]
    assert set().union(*held.values()) == set(ACCOUNTS)
    assert sum(len(h) for h in held.values()) == 60  # none held twice
    holders = a.lease_holders()
    assert all(holders[acc].startswith(name) for name, h in held.items() for acc in h)


def test_the_cap_holds_and_only_one_engine_runs_the_store_wide_work(url):
    a, b = Store(url), Store(url)
    first = hold(a, "a", cap=25)
    second = hold(b, "b", cap=25)
    assert len(first.held) == 25 and len(second.held) == 25
    assert first.leader != second.leader
    assert len(a.lease_holders()) == 50  # ten mailboxes wait for a third engine


def test_a_dead_engines_mailboxes_are_taken_over_once_its_leases_expire(url, postgres):
    a, b = Store(url), Store(url)
    dead = hold(a, "a", ttl=1.0)
    assert dead.leader and len(dead.held) == 60
    assert hold(b, "b", ttl=1.0).held == frozenset()  # a's leases run
    with postgres.connect(url.rsplit("/", 1)[1]) as admin:  # a never renews: its leases run out
        admin.execute("UPDATE leases SET expires_at = expires_at - 5 WHERE owner = 'a'")
        admin.execute("UPDATE engines SET heartbeat = heartbeat - 5 WHERE owner = 'a'")
    taken = hold(b, "b", ttl=1.0)
    assert len(taken.held) == 60 and taken.leader and taken.engines == 1
    # a comes back (it was only paused): it finds them gone and holds none of them until shared
    back = hold(a, "a", ttl=1.0)
    assert not back.held & taken.held


def test_a_clean_stop_gives_everything_back(url):
    a, b = Store(url), Store(url)
    hold(a, "a")
    a.release_leases("a")
    assert len(hold(b, "b").held) == 60 and b.live_engines(30.0) == 1


def test_a_mailbox_removed_from_the_config_is_given_back(url):
    a = Store(url)
    hold(a, "a")
    assert hold(a, "a", accounts=ACCOUNTS[:10]).held == frozenset(ACCOUNTS[:10])
    assert set(a.lease_holders()) == set(ACCOUNTS[:10])


def expire(postgres, url: str, owner: str) -> None:
    """``owner`` stops renewing (paused, cut off from the database) until its leases ran out."""
    with postgres.connect(url.rsplit("/", 1)[1]) as admin:
        admin.execute("UPDATE leases SET expires_at = expires_at - 60 WHERE owner = %s", (owner,))
        admin.execute("UPDATE engines SET heartbeat = heartbeat - 60 WHERE owner = %s", (owner,))


def queue(store: Store, account: str, n: int = 0) -> int:
    return store.queue_reply(account=account, message_id=f"<r{n}@replydesk.test>", raw=b"Subject: Re: hi\r\n\r\nok",
                             recipients=["pat@prospect.example"], subject="Re: hi", body="ok")


def test_an_engine_that_lost_a_mailbox_unnoticed_can_neither_submit_nor_move_its_replies(url, postgres):
    """The old holder, back from a pause with a reply claimed, must not begin DATA (the new
    holder queued it again and sends it) nor queue again or fail a reply the new holder is sending."""
    a, b = Store(url), Store(url)
    hold(a, "a")
    item = queue(a, "box00")
    claimed = a.claim_due(owner="a")
    assert claimed is not None and claimed["id"] == item
    expire(postgres, url, "a")
    assert len(hold(b, "b").held) == 60
    with pytest.raises(LeaseLost):
        a.mark_submitted(item, owner="a")
    assert a.outbox_item(item)["submitted_at"] is None  # so the new holder may send it
    b.retry_later(item, "interrupted before the server received it", 0, owner="b")  # b's takeover
    again = b.claim_due(owner="b")
    assert again is not None and again["id"] == item
    for stale_write in (lambda: a.retry_later(item, "connection refused", 0, owner="a"),
                        lambda: a.set_outbox_state(item, "failed", error="refused", owner="a"),
                        lambda: a.mark_submitted(item, owner="a")):
        with pytest.raises(LeaseLost):
            stale_write()
    assert b.outbox_item(item)["state"] == "sending" and b.outbox_item(item)["submitted_at"] is None
    b.mark_submitted(item, owner="b")
    queue(a, "box00", 1)
    assert a.claim_due(owner="a") is None  # nothing more of box00 for a
    assert b.claim_due(owner="b") is not None


def test_a_reply_sent_without_an_engine_holds_its_mailbox_meanwhile(url):
    """``replydesk reply`` sends itself only from a mailbox no engine holds, and no engine takes
    the mailbox until it has given it back."""
    engine, cli = Store(url), Store(url)
    held = hold(engine, "engine", cap=59).held
    [free] = set(ACCOUNTS) - held
    assert not cli.borrow_lease("cli", sorted(held)[0], 30.0)  # the engine sends that one's replies
    assert cli.borrow_lease("cli", free, 30.0)
    assert free not in hold(engine, "engine", cap=60).held  # room again, but the reply is being sent
    assert engine.lease_holders()[free] == "cli"
    cli.release_leases("cli", [free])
    assert free in hold(engine, "engine", cap=60).held
    assert engine.live_engines(30.0) == 1  # the command never counted as an engine
