"""Engines sharing a PostgreSQL store's mailboxes by lease (app/store/leases.py), on a real
PostgreSQL: the split, the cap, a dead engine's mailboxes taken over, a mailbox given back only
when its engine says it has stopped it."""

from __future__ import annotations

import pytest

from app.store import Store

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
